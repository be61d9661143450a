// Sparse probability distributions over senders (client ids) and their Shannon entropy: what the
// global passive observer believes about who sent a packet (Serjantov & Danezis 2002; Díaz et
// al. 2002). sotto-sim gives every packet one and propagates them through the mixes.
//
// Pruning, and its error bound: entries below a threshold ε are merged into a "tail" of mass τ
// that stands for at most T senders and is treated as uniform over them, contributing
// τ·log2(T/τ) bits. The true contribution of the pruned entries (each < ε, at most N senders)
// and the approximated one both lie in [τ·log2(1/ε), τ·log2(N/τ)], so the entropy is off by at
// most τ·log2(N·ε/τ) ≤ N·ε·log2(e)/e ≈ 0.53·N·ε bits (e.g. 0.005 bits for N = 10⁴, ε = 10⁻⁶),
// counting a sender that is both in the tail and among the entries as two atoms.
// ε = 0 keeps every non-zero entry (exact, slower). Plain values; not thread-safe to mutate.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

namespace sotto::sim {

struct SenderDistribution {
  // (sender, probability): each sender at most once, probability > 0 (MixtureBuilder sorts them
  // by sender); with the tail they sum to 1.
  std::vector<std::pair<std::uint32_t, double>> entries;
  double tail_mass = 0;            // τ
  std::uint32_t tail_senders = 0;  // T: how many senders the tail stands for (an upper bound)

  static SenderDistribution PointMass(std::uint32_t sender) { return {{{sender, 1.0}}, 0, 0}; }
  bool empty() const { return entries.empty() && tail_mass <= 0; }
  // H = −Σ p·log2 p in bits (the tail as uniform over tail_senders); 0 for an empty one.
  double EntropyBits() const;
};

// Builds the mixture Σ wᵢ·Dᵢ / Σ wᵢ of sparse distributions over `senders` possible senders, then
// prunes entries below `epsilon` into the tail. Reusable: the dense scratch space is kept between
// mixtures, so building one costs O(total input entries + output entries · log).
class MixtureBuilder {
 public:
  MixtureBuilder(std::uint32_t senders, double epsilon);
  // Adds weight · d. Empty distributions and weights ≤ 0 contribute nothing (and no weight).
  void Add(const SenderDistribution& d, double weight);
  // Adds weight · (point mass on `sender`).
  void AddPoint(std::uint32_t sender, double weight);
  // The normalised, pruned mixture of everything added since the last Finish (empty if
  // nothing was added); resets the builder.
  SenderDistribution Finish();

 private:
  std::uint32_t senders_;
  double epsilon_;
  std::vector<double> mass_;            // dense, by sender; zero outside touched_
  std::vector<std::uint32_t> touched_;  // senders with mass_ > 0
  double total_ = 0, tail_mass_ = 0;
  std::uint64_t tail_senders_ = 0;
};

}  // namespace sotto::sim
