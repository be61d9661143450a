// DistTable: storage and reference counting of shared sender distributions (dist_table.h).
#include "dist_table.h"

#include <limits>
#include <utility>

namespace sotto::sim {

DistTable::Handle DistTable::Store(SenderDistribution d) {
  if (d.empty()) return kNone;
  const double entropy = std::numeric_limits<double>::quiet_NaN();  // computed when asked for
  std::uint32_t index;
  if (!free_.empty()) {
    index = free_.back();
    free_.pop_back();
    slots_[index] = Slot{std::move(d), entropy, 0};
  } else {
    index = static_cast<std::uint32_t>(slots_.size());
    slots_.push_back(Slot{std::move(d), entropy, 0});
  }
  SOTTO_CHECK(index < 0xffffffffu - clients_ - 1);
  return clients_ + 1 + index;
}

void DistTable::Unref(Handle h) {
  if (h <= clients_) return;
  Slot& slot = slots_[h - clients_ - 1];
  SOTTO_CHECK(slot.refs > 0);
  if (--slot.refs == 0) {
    slot.dist = SenderDistribution();  // give the memory back now
    free_.push_back(h - clients_ - 1);
  }
}

void DistTable::AddTo(MixtureBuilder& builder, Handle h, double weight) const {
  if (h == kNone) return;
  if (IsPointMass(h)) {
    builder.AddPoint(PointMassSender(h), weight);
  } else {
    builder.Add(Get(h), weight);
  }
}

}  // namespace sotto::sim
