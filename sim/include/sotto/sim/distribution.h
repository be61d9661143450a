// Sparse probability distributions over senders (client ids) and their Shannon entropy: what the
// global passive observer believes about who sent a packet (Serjantov & Danezis 2002; Díaz et
// al. 2002). sotto-sim gives every packet one and propagates them through the mixes.
//
// Pruning, and its error bound. Entries below a threshold ε may be merged into a "tail" of mass
// τ that stands for at most T ≤ N senders (N = all senders) and is treated as uniform over them,
// contributing τ·log2(T/τ) bits. Let the exact distribution be p = (1−τ)·q̂ + τ·t̂, q̂ the kept
// entries and t̂ the true shape of the tail, both normalised. The reported entropy is
//   H' = (1−τ)·H(q̂) + h2(τ) + τ·log2 T,   h2 the binary entropy,
// and by concavity H(p) ≥ (1−τ)·H(q̂) + τ·H(t̂) ≥ (1−τ)·H(q̂), so
//   0 ≤ H' − H(p) ≤ h2(τ) + τ·log2 N
// (the lower bound because splitting a sender's mass into an entry and tail atoms, and spreading
// the tail evenly over T ≥ its support, can only raise the entropy). The bound depends only on
// τ, and τ is NOT bounded by N·ε once pruned mixtures are mixed and pruned again (a pool mix's
// carry every round, a continuous mix at every departure): the tail then accumulates, which is
// how ε = 10⁻³ once inflated the pool and continuous closed forms by 0.4–0.6 bits. Pruning
// therefore keeps a budget: a distribution's tail never exceeds PruningTailBudget(N), the
// largest τ with h2(τ) + τ·log2 N ≤ kPruningBiasBits, so every entropy this library reports is
// at most kPruningBiasBits = 0.01 bits above the exact one and never below it, whatever the
// policy, topology or ε. Entries below ε are pruned smallest first while the tail stays within
// the budget (none of an entry at or above the budget can ever fit, so ε above it prunes nothing
// more: Scenario refuses such values). Mixing keeps the invariant: the tail of a mixture is the
// weighted mean of its inputs' tails.
// ε = 0 keeps every non-zero entry (exact, slower). Plain values; not thread-safe to mutate.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

namespace sotto::sim {

// The most a pruned entropy may exceed the exact one, in bits (see above).
inline constexpr double kPruningBiasBits = 0.01;

// The largest tail mass τ in (0, 1/2) with h2(τ) + τ·log2(senders) ≤ kPruningBiasBits, e.g.
// 4.4·10⁻⁴ for 1000 senders, 3.4·10⁻⁴ for 100,000, 2.7·10⁻⁴ for 10⁷. senders ≥ 1.
double PruningTailBudget(std::uint32_t senders);

// h2(τ) + τ·log2(senders): the bound on the entropy error of a distribution with tail mass τ.
double PruningBiasBound(double tail_mass, std::uint32_t senders);

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
// prunes entries below `epsilon` into the tail, smallest first, as long as the tail stays within
// PruningTailBudget(senders). Reusable: the dense scratch space is kept between mixtures, so
// building one costs O(total input entries + output entries · log).
class MixtureBuilder {
 public:
  MixtureBuilder(std::uint32_t senders, double epsilon);
  // With another tail budget (tests: 1 is the unbounded pruning of old, whose error is not
  // bounded by kPruningBiasBits).
  MixtureBuilder(std::uint32_t senders, double epsilon, double tail_budget);
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
  double budget_;                                             // PruningTailBudget(senders_)
  std::vector<std::pair<double, std::uint32_t>> candidates_;  // scratch: (mass, sender) below ε
  std::vector<double> mass_;            // dense, by sender; zero outside touched_
  std::vector<std::uint32_t> touched_;  // senders with mass_ > 0
  double total_ = 0, tail_mass_ = 0;
  std::uint64_t tail_senders_ = 0;
};

}  // namespace sotto::sim
