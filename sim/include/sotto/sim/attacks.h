// Attacks on the mixing policies, for sotto-sim and the evaluation (issue 5): how fast an
// attacker beats a mix, measured against what blind guessing would give.
//
//   - the statistical disclosure attack (SDA) on a threshold mix: rounds until a global passive
//     observer names all m friends of a target (Danezis 2003), next to Danezis's estimate;
//   - the n-1 (flooding / blending) attack on one mix of each policy: an active attacker holds
//     back every honest packet but the target and floods the mix with its own (Serjantov,
//     Dingledine & Syverson 2002, "From a Trickle to a Flood");
//   - a timing-correlation attack on a continuous-time mix or cascade: guess the sender of each
//     output from the delay likelihood.
//
// Every attack drives the real policies of sotto-mixnode (sotto/mixnode/policy.h, MakePolicy),
// so it measures what the daemon does; none of them needs the simulator's event engine. Each is
// configured by a plain struct whose Validate() names the bad field and the allowed range, and is
// reproducible: repetition r (SDA, timing) or trial r (flooding) of sweep point p draws from
// its own stream SimRng(DeriveSeed(seed, p, r)), so the same config, seed and point give the same
// result, bit for bit. Each function takes the point index (default 0: a single run is point
// 0). The functions are reentrant (no shared state); sim/README.md ("Attacks") explains the
// models, the formulas and the measured results.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "sotto/core/status.h"
#include "sotto/mixnode/policy.h"

namespace sotto::sim::attacks {

// Sample mean of n values with the half-width of its 95% confidence interval (Student t; 0 when
// n < 2).
struct MeanCi {
  double mean = 0;
  double half_width = 0;
  std::size_t n = 0;
};

// ---- Statistical disclosure attack (Danezis 2003) --------------------------------------------

// Danezis's model: a threshold mix of batch size b; N possible recipients; the target, Alice,
// takes part in a round with probability `alice_participation` and then sends one message to one
// of her m friends chosen uniformly; the other b-1 messages of every round go to uniformly random
// recipients.
struct SdaConfig {
  std::size_t recipients = 1000;     // N
  std::size_t batch_size = 10;       // b, the threshold of the mix
  std::size_t friends = 10;          // m, fewer than N
  double alice_participation = 1.0;  // in [0.001, 1]
  double confidence = 2.0;           // l in Danezis's estimate (2 ≈ 95%, 3 ≈ 99.7%), in (0, 10]
  std::size_t repetitions = 20;
  std::size_t max_alice_rounds = 1'000'000;  // give up after this many rounds with Alice in them
  std::uint64_t seed = 1;

  Status Validate() const;
};

struct SdaResult {
  SdaConfig config;
  double danezis_estimate = 0;  // Alice's rounds, from DanezisSdaRounds
  // Alice's rounds until identification (see RunSda), over the repetitions that identified.
  MeanCi alice_rounds;
  MeanCi total_rounds;               // all rounds of the mix up to then, with or without Alice
  double ratio_to_estimate = 0;      // alice_rounds.mean / danezis_estimate
  double success_rate = 0;           // repetitions that identified within max_alice_rounds
  double chance_baseline = 0;        // a blind guess of the friend set: 1 / C(N, m)
  double mean_friend_weight = 0;     // the estimator's mean entry over the friends (→ 1/m)
  double mean_nonfriend_weight = 0;  // ... and over everyone else (→ 0)
};

// Danezis's estimate of the rounds with Alice in them that the attack needs:
//   t ≈ [ m · l · ( sqrt(σ²_noise) + sqrt(σ²_noise + σ²_Alice) ) ]²,
//   σ²_noise = (b-1)(N-1)/N²  (the other b-1 recipients, per round and recipient),
//   σ²_Alice = (m-1)/m²      (Alice's own message, per round and friend),
// i.e. the signal 1/m per round must exceed l standard deviations of both the friends' and the
// others' per-recipient counts (derivation and source in sim/README.md, "Attacks").
double DanezisSdaRounds(std::size_t recipients, std::size_t batch_size, std::size_t friends,
                        double confidence);

// Runs the attack `repetitions` times. Each repetition drives a threshold-timeout policy
// (threshold b, timeout one day, so only the threshold fires) with a stream of b messages per
// round, Alice's at a random place among them. The attacker's estimate after t of Alice's rounds
// is v = (1/t) Σ counts − (b-1)/N·(1,…,1) (Danezis's b·Ō − (b-1)·u), and it guesses the m largest
// entries. Identification at round t means: from t on the guess is exactly Alice's friend set,
// with no tie at the boundary, at every one of Alice's rounds up to 2t (the evidence doubles and
// the guess does not move).
Result<SdaResult> RunSda(const SdaConfig& config, std::uint64_t point = 0);

// RunSda for each batch size in turn (everything else from `base`); point i uses streams
// (seed, i, ·).
Result<std::vector<SdaResult>> RunSdaBatchSweep(const SdaConfig& base,
                                                std::span<const std::size_t> batch_sizes);
// b = 2, 3, …, 64.
std::vector<std::size_t> DefaultSdaBatchSizes();

// ---- The n-1 (flooding) attack (Serjantov, Dingledine & Syverson 2002) ----------------------

// One mix runs `policy` with honest Poisson traffic for `warmup_s`; then the attacker, who
// controls every link into the mix, holds back all honest packets but the target, flushes the
// honest packets already inside, lets the target in and floods the mix with its own packets
// until the target leaves. Attacker packets arrive instantly; time is the mix's own.
struct FloodingConfig {
  mixnode::PolicyConfig policy;   // must pass PolicyConfig::Validate
  double honest_rate_per_s = 50;  // honest arrivals before the attack, in (0, 1e6]
  double warmup_s = 10;           // honest traffic before the attack, in (0, 1e6]
  // Timed and pool: attacker packets added before every round of the attack; 0 = as many as a
  // normal round, max(ceil(honest_rate · period), min_batch), so the flood does not stand out.
  // Threshold mixes are always filled to max(threshold, min_batch); continuous mixes need none.
  std::size_t flood_per_round = 0;
  std::size_t max_rounds = 50;     // rounds with the target inside before giving up (≥ 1)
  double mix_loop_rate_per_s = 0;  // Loopix defence: the mix's own loops, blocked → detected
  std::size_t trials = 1000;
  std::uint64_t seed = 1;

  Status Validate() const;
};

struct FloodingResult {
  FloodingConfig config;
  // Trials in which the attacker knew the target's output with certainty (the only non-attacker
  // packet, dummies included, of the release that carried it) and was not detected.
  double success_rate = 0;
  // [k-1]: the same within k rounds of the target in the mix, k = 1 … max_rounds.
  std::vector<double> success_within_rounds;
  double detection_rate = 0;  // trials in which a blocked loop of the mix gave the attack away
  // Over the successful trials:
  MeanCi attacker_packets;  // injected, flushing included
  MeanCi attack_seconds;    // from the start of the blocking to the target's departure
  MeanCi target_rounds;     // rounds the target spent in the mix (releases, for continuous)
  MeanCi honest_flushed;    // honest packets in the mix when the blocking began
  // A blind guess among the packets the target left with (dummies included); for the
  // continuous mix, among the target and the packets inside the mix when the attack began.
  double chance_baseline = 0;
};

// Trial t of sweep point `point` draws from DeriveSeed(seed, point, t).
Result<FloodingResult> RunFloodingAttack(const FloodingConfig& config, std::uint64_t point = 0);

// ---- Timing correlation on a continuous-time mix or cascade ----------------------------------

// `senders` each send at Poisson times (total rate λ, uniform sender per message) into a cascade
// of `hops` continuous-time mixes with mean delay 1/μ each. The observer sees every input (sender,
// time) and every output time. For each output it scores every input that entered within the
// window before it by the likelihood of the delay (the Erlang(hops, μ) density; the exponential
// for one hop), sums the scores per sender and ranks the senders.
struct TimingConfig {
  std::size_t senders = 100;      // N, 2 … 10,000,000
  double load = 5;                // λ/μ: arrivals per mean delay, in [1e-6, 10,000]
  double mean_delay_s = 1.0;      // 1/μ per hop, in [1e-6, 86400]
  std::size_t hops = 1;           // 1 … 10
  std::size_t messages = 20'000;  // outputs attacked (after the burn-in)
  double burn_in_delays = 10;     // burn-in, in mean end-to-end delays (hops/μ), ≥ 0
  double window_delays = 10;      // candidate window, in mean end-to-end delays, > 0
  std::uint64_t seed = 1;

  Status Validate() const;
};

struct TimingResult {
  TimingConfig config;
  double top1 = 0;  // the true sender ranked first
  double top5 = 0;  // ... among the first five
  // Chance: a blind guess among the senders in the window (mean of 1/senders and
  // min(5, senders)/senders), among the inputs in the window, and among all N senders.
  double chance_top1_window = 0;
  double chance_top5_window = 0;
  double chance_input_window = 0;  // mean of 1/inputs in the window
  double chance_top1_all = 0;      // 1/N
  double chance_top5_all = 0;      // min(5, N)/N
  double mean_candidates = 0;      // inputs in the window, on average
  // One hop only (else 0): the chance that no other message entered between the target's input
  // and its output, μ/(λ+μ) = 1/(1 + load) — the top-1 rate when every sender sends at most once
  // in a window (N ≫ load).
  double predicted_top1 = 0;
};

// One run; repetition r of sweep point p draws from DeriveSeed(seed, p, r).
Result<TimingResult> RunTimingAttack(const TimingConfig& config, std::uint64_t point = 0,
                                     std::uint64_t repetition = 0);

// RunTimingAttack for each load λ/μ (everything else from `base`); point i uses stream (seed, i,
// 0).
Result<std::vector<TimingResult>> RunTimingLoadSweep(const TimingConfig& base,
                                                     std::span<const double> loads);

}  // namespace sotto::sim::attacks
