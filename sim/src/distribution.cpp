// SenderDistribution entropy and MixtureBuilder; see sim/include/sotto/sim/distribution.h.
#include "sotto/sim/distribution.h"

#include <algorithm>
#include <cmath>

namespace sotto::sim {

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
    : senders_(senders), epsilon_(epsilon), mass_(senders, 0.0) {}

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
    out.entries.reserve(touched_.size());
    std::uint64_t tail_senders = tail_senders_;
    double tail = tail_mass_ / total_;
    for (const std::uint32_t sender : touched_) {
      const double p = mass_[sender] / total_;
      if (p < epsilon_) {
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
