// Internal to sotto::sim: what the global observer knows about the packets inside an honest
// continuous-time (memoryless) mix — the mixture D of their sender distributions, weighted by
// count k. On an arrival D ← (k·D + d)/(k + 1); a departing packet gets D, since with
// exponential delays every packet inside is equally likely to be the one leaving, and D of those
// that stay is unchanged. With Poisson arrivals (rate λ) and mean delay 1/μ this gives Danezis's
// (2004) H ≈ log2(e·λ/μ).
//
// D is kept unnormalised (weights w, sum S; D = w/S) so an arrival costs O(|d|), not O(|D|):
// adding (S/k)·d to w is the update above. Memory: one double per client. One owner.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "dist_table.h"

namespace sotto::sim {

class ContinuousMixture {
 public:
  ContinuousMixture(std::uint32_t clients, double epsilon);
  // A packet carrying `h` entered (k = packets inside before it).
  void Arrive(const DistTable& table, DistTable::Handle h);
  // A packet left (it gets Snapshot()).
  void Depart() {
    if (count_ > 0) --count_;
  }
  // D, normalised, entries below epsilon pruned into the tail (and forgotten here too), smallest
  // first while the tail stays within PruningTailBudget(clients) (distribution.h). When they do
  // not all fit, pruning waits until arrivals have freed half the budget, so that the sort this
  // takes is not repeated at every departure.
  SenderDistribution Snapshot();

 private:
  void Reset();
  void Credit(std::uint32_t sender, double w);

  std::uint32_t clients_;
  double epsilon_;
  double budget_;
  std::vector<std::pair<double, std::uint32_t>> candidates_;  // scratch: (weight, sender)
  std::vector<double> w_;  // by sender (allocated at the first arrival)
  std::vector<std::uint32_t> touched_;
  double sum_ = 0, tail_w_ = 0;
  std::uint64_t tail_senders_ = 0;
  std::uint64_t count_ = 0;
};

}  // namespace sotto::sim
