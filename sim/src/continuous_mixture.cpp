// ContinuousMixture: the observer's view of an honest continuous-time mix
// (continuous_mixture.h).
#include "continuous_mixture.h"

#include <algorithm>
#include <utility>

namespace sotto::sim {

ContinuousMixture::ContinuousMixture(std::uint32_t clients, double epsilon)
    : clients_(clients), epsilon_(epsilon), budget_(PruningTailBudget(clients)) {}

void ContinuousMixture::Reset() {
  for (const std::uint32_t s : touched_) w_[s] = 0;
  touched_.clear();
  sum_ = tail_w_ = 0;
  tail_senders_ = 0;
}

void ContinuousMixture::Credit(std::uint32_t sender, double w) {
  double& slot = w_[sender];
  if (slot == 0) touched_.push_back(sender);
  slot += w;
}

void ContinuousMixture::Arrive(const DistTable& table, DistTable::Handle h) {
  if (w_.empty()) w_.assign(clients_, 0.0);
  if (count_ == 0) Reset();
  ++count_;
  if (h == DistTable::kNone) return;  // a packet about which nothing is known adds nothing
  // k·D + d with D = w/S is (k/S)·(w + (S/k)·d): adding (S/k)·d to w is the update.
  const std::uint64_t k = count_ - 1;
  const double scale = (k > 0 && sum_ > 0) ? sum_ / static_cast<double>(k) : 1.0;
  if (table.IsPointMass(h)) {
    Credit(table.PointMassSender(h), scale);
  } else {
    const SenderDistribution& d = table.Get(h);
    for (const auto& [sender, p] : d.entries) Credit(sender, scale * p);
    if (d.tail_mass > 0) {
      tail_w_ += scale * d.tail_mass;
      tail_senders_ += d.tail_senders;
    }
  }
  sum_ += scale;
  if (sum_ > 1e200) {  // keep the weights in range; D is unchanged
    const double f = 1.0 / sum_;
    for (const std::uint32_t s : touched_) w_[s] *= f;
    tail_w_ *= f;
    sum_ = 1.0;
  }
}

SenderDistribution ContinuousMixture::Snapshot() {
  SenderDistribution out;
  if (!(sum_ > 0)) return out;
  // Pruning threshold on the unnormalised weights, and how much tail weight may be added.
  const double threshold = epsilon_ * sum_;
  const double room = budget_ * sum_ - tail_w_;
  double below = 0;
  for (const std::uint32_t s : touched_) {
    if (w_[s] < threshold) below += w_[s];
  }
  std::pair<double, std::uint32_t> cut{threshold, 0};  // prune (w, sender) < cut
  if (below > 0 && below > room) {
    cut = {0, 0};
    if (room >= budget_ * sum_ / 2) {  // else wait until arrivals have made room
      candidates_.clear();
      for (const std::uint32_t s : touched_) {
        if (w_[s] < threshold) candidates_.emplace_back(w_[s], s);
      }
      std::sort(candidates_.begin(), candidates_.end());
      double left = room;
      for (const auto& c : candidates_) {
        if (c.first > left) break;
        left -= c.first;
        cut = {c.first, c.second + 1};
      }
    }
  }
  std::size_t kept = 0;
  for (const std::uint32_t s : touched_) {
    if (w_[s] < threshold && std::make_pair(w_[s], s) < cut) {
      tail_w_ += w_[s];
      ++tail_senders_;
      w_[s] = 0;
    } else {
      touched_[kept++] = s;
    }
  }
  touched_.resize(kept);
  out.entries.reserve(touched_.size());
  for (const std::uint32_t s : touched_) out.entries.emplace_back(s, w_[s] / sum_);
  if (tail_w_ > 0) {
    out.tail_mass = tail_w_ / sum_;
    out.tail_senders = static_cast<std::uint32_t>(std::min<std::uint64_t>(tail_senders_, clients_));
  }
  return out;
}

}  // namespace sotto::sim
