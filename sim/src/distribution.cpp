// SenderDistribution entropy and MixtureBuilder; see sim/include/sotto/sim/distribution.h.
#include "sotto/sim/distribution.h"

#include <algorithm>
#include <cmath>

namespace sotto::sim {
namespace {

double H2(double t) {
  return t <= 0 || t >= 1 ? 0.0 : -t * std::log2(t) - (1 - t) * std::log2(1 - t);
}

}  // namespace

double PruningBiasBound(double tail_mass, std::uint32_t senders) {
  return H2(tail_mass) +
         tail_mass * std::log2(static_cast<double>(std::max<std::uint32_t>(senders, 1)));
}

double PruningTailBudget(std::uint32_t senders) {
  // The bound rises monotonically in τ on (0, 1/2): bisect, keeping the low end feasible.
  double lo = 0, hi = 0.5;
  for (int i = 0; i < 200; ++i) {
    const double mid = (lo + hi) / 2;
    (PruningBiasBound(mid, senders) <= kPruningBiasBits ? lo : hi) = mid;
  }
  return lo;
}

double SenderDistribution::EntropyBits() const {
  double h = 0;
  for (const auto& [sender, p] : entries) h -= p * std::log2(p);
  if (tail_mass > 0) {
    h += tail_mass *
         std::log2(static_cast<double>(std::max<std::uint32_t>(tail_senders, 1)) / tail_mass);
  }
  return h;
}

MixtureBuilder::MixtureBuilder(std::uint32_t senders, double epsilon)
    : MixtureBuilder(senders, epsilon, PruningTailBudget(senders)) {}

MixtureBuilder::MixtureBuilder(std::uint32_t senders, double epsilon, double tail_budget)
    : senders_(senders), epsilon_(epsilon), budget_(tail_budget), mass_(senders, 0.0) {}

void MixtureBuilder::Add(const SenderDistribution& d, double weight) {
  if (!(weight > 0) || d.empty()) return;
  total_ += weight;
  for (const auto& [sender, p] : d.entries) {
    double& m = mass_[sender];
    if (m == 0) touched_.push_back(sender);
    m += weight * p;
  }
  if (d.tail_mass > 0) {
    tail_mass_ += weight * d.tail_mass;
    tail_senders_ += d.tail_senders;
  }
}

void MixtureBuilder::AddPoint(std::uint32_t sender, double weight) {
  if (!(weight > 0)) return;
  total_ += weight;
  double& m = mass_[sender];
  if (m == 0) touched_.push_back(sender);
  m += weight;
}

SenderDistribution MixtureBuilder::Finish() {
  SenderDistribution out;
  if (total_ > 0) {
    std::sort(touched_.begin(), touched_.end());
    std::uint64_t tail_senders = tail_senders_;
    double tail = tail_mass_ / total_;
    // Entries below ε may go to the tail, smallest first, while it stays within the budget: all
    // of them when they fit (the usual case), else a prefix of them by (mass, sender).
    double below = 0;
    for (const std::uint32_t sender : touched_) {
      const double p = mass_[sender] / total_;
      if (p < epsilon_) below += p;
    }
    std::pair<double, std::uint32_t> cut{epsilon_, 0};  // prune (p, sender) < cut
    if (below > 0 && tail + below > budget_) {
      candidates_.clear();
      for (const std::uint32_t sender : touched_) {
        const double p = mass_[sender] / total_;
        if (p < epsilon_) candidates_.emplace_back(p, sender);
      }
      std::sort(candidates_.begin(), candidates_.end());
      double room = budget_ - tail;
      cut = {0, 0};
      for (const auto& c : candidates_) {
        if (c.first > room) break;
        room -= c.first;
        cut = {c.first, c.second + 1};  // just above c (senders < 2^32 - 1), so c is pruned
      }
    }
    out.entries.reserve(touched_.size());
    for (const std::uint32_t sender : touched_) {
      const double p = mass_[sender] / total_;
      if (p < epsilon_ && std::make_pair(p, sender) < cut) {
        tail += p;
        ++tail_senders;
      } else {
        out.entries.emplace_back(sender, p);
      }
    }
    if (tail > 0) {
      out.tail_mass = tail;
      out.tail_senders =
          static_cast<std::uint32_t>(std::min<std::uint64_t>(tail_senders, senders_));
    }
  }
  for (const std::uint32_t sender : touched_) mass_[sender] = 0;
  touched_.clear();
  total_ = tail_mass_ = 0;
  tail_senders_ = 0;
  return out;
}

}  // namespace sotto::sim
