// Internal to sotto::sim: the shared, reference-counted store of sender distributions that
// packets point to. All packets leaving one mixing round carry the same distribution, so they
// share one entry (and its cached entropy) instead of copying it.
//
// Handles: 0 = no information (a dummy from an empty round: it counts for nothing when mixed);
// 1..clients = the point mass on client handle-1 (permanent, stored implicitly); above that, a
// stored distribution freed when its last reference goes. Not thread-safe: one per run.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "sotto/core/check.h"
#include "sotto/sim/distribution.h"

namespace sotto::sim {

class DistTable {
 public:
  using Handle = std::uint32_t;
  static constexpr Handle kNone = 0;

  explicit DistTable(std::uint32_t clients) : clients_(clients) {}

  Handle PointMass(std::uint32_t client) const { return client + 1; }
  bool IsPointMass(Handle h) const { return h != kNone && h <= clients_; }
  std::uint32_t PointMassSender(Handle h) const { return h - 1; }

  // Stores `d` with no reference yet (the caller Refs it); an empty `d` gives kNone.
  Handle Store(SenderDistribution d);
  void Ref(Handle h) {
    if (h > clients_) ++slots_[h - clients_ - 1].refs;
  }
  void Unref(Handle h);

  // Only for stored handles (not kNone, not point masses).
  const SenderDistribution& Get(Handle h) const { return slots_[h - clients_ - 1].dist; }
  // Computed on first use and cached: most stored distributions (e.g. every departure snapshot
  // of a continuous mix) are never asked for their entropy.
  double EntropyBits(Handle h) const {
    if (h <= clients_) return 0.0;
    Slot& slot = slots_[h - clients_ - 1];
    if (std::isnan(slot.entropy)) slot.entropy = slot.dist.EntropyBits();
    return slot.entropy;
  }
  // Adds weight · (distribution of h) to a mixture.
  void AddTo(MixtureBuilder& builder, Handle h, double weight) const;

  std::size_t live() const { return slots_.size() - free_.size(); }

 private:
  struct Slot {
    SenderDistribution dist;
    double entropy = std::numeric_limits<double>::quiet_NaN();  // not computed yet
    std::uint32_t refs = 0;
  };
  std::uint32_t clients_;
  mutable std::vector<Slot> slots_;  // mutable: the entropy cache
  std::vector<std::uint32_t> free_;
};

}  // namespace sotto::sim
