// The n-1 (flooding, blending) attack of Serjantov, Dingledine & Syverson ("From a Trickle to a
// Flood: Active Attacks on Several Mix Types", IH 2002) against one mix running the real policy:
// flush the honest packets out, let the target in alone with attacker packets, and watch for the
// one output that is not the attacker's. The strategies per policy, and why they must succeed
// or not, are in sim/README.md ("Attacks").
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "attack_stats.h"
#include "sotto/core/check.h"
#include "sotto/sim/attacks.h"
#include "sotto/sim/rng.h"

namespace sotto::sim::attacks {
namespace {

using mixnode::PolicyKind;
using mixnode::TimeUs;

constexpr double kMinRate = 1e-6;    // per second
constexpr double kMaxRate = 1e6;     // per second
constexpr double kMaxSeconds = 1e6;  // about 11.5 days
constexpr std::size_t kMaxCount = 1'000'000;
constexpr std::size_t kMaxTrials = 10'000'000;
constexpr double kMaxPacketsPerTrial = 2e7;

enum class Kind : std::uint8_t { kHonest, kAttacker, kTarget };

// What the attacker sees of one release: how many packets left, and how many of them were not
// its own (dummies are indistinguishable from honest packets, so they count here).
struct Output {
  std::size_t packets = 0;
  std::size_t not_attacker = 0;
  bool has_target = false;  // ground truth, for scoring only
};

// The attacked mix: the real policy, plus the kind of every packet handed to it.
class Mix {
 public:
  Mix(const mixnode::PolicyConfig& config, Rng& rng) : policy_(mixnode::MakePolicy(config, rng)) {}

  void Add(Kind kind, TimeUs now) {
    kinds_.push_back(kind);
    policy_->Add(kinds_.size() - 1, now);
  }

  Output Release(TimeUs now) {
    const std::vector<mixnode::PacketHandle> batch = policy_->Release(now);
    const std::size_t dummies = policy_->DummiesFor(batch.size());
    Output out{batch.size() + dummies, dummies, false};
    for (const mixnode::PacketHandle h : batch) {
      if (kinds_[h] != Kind::kAttacker) ++out.not_attacker;
      if (kinds_[h] == Kind::kTarget) out.has_target = true;
    }
    return out;
  }

  std::optional<TimeUs> NextWakeup() const { return policy_->NextWakeup(); }
  std::size_t PoolSize() const { return policy_->PoolSize(); }

 private:
  std::unique_ptr<mixnode::MixingPolicy> policy_;
  std::vector<Kind> kinds_;  // by handle
};

struct Trial {
  bool identified = false;  // the attacker claimed certainty, and was right
  bool detected = false;
  std::size_t target_rounds = 0;
  std::size_t attacker_packets = 0;
  double seconds = 0;
  std::size_t honest_at_start = 0;
  double chance = 0;  // 1 / packets the target left with; 0 if it did not leave
};

double Seconds(TimeUs from, TimeUs to) { return static_cast<double>(to - from) / 1e6; }

// Honest Poisson traffic into the mix until `end` (exclusive), releases as they fall due.
void WarmUp(Mix& mix, double rate_per_s, TimeUs end, SimRng& rng) {
  const double mean_gap_us = 1e6 / rate_per_s;
  TimeUs arrival = rng.ExponentialUs(mean_gap_us);
  for (;;) {
    const std::optional<TimeUs> wake = mix.NextWakeup();
    if (arrival < end && (!wake || arrival < *wake)) {
      mix.Add(Kind::kHonest, arrival);
      arrival += rng.ExponentialUs(mean_gap_us);
    } else if (wake && *wake < end) {
      mix.Release(*wake);
    } else {
      return;
    }
  }
}

// Threshold-timeout: top the honest remainder up to a full round (it leaves at once), then send
// the target with max(n, min_batch) - 1 attacker packets: one round, no dummies, no waiting.
void AttackThreshold(Mix& mix, const FloodingConfig& c, TimeUs t0, Trial& trial) {
  const std::size_t n = c.policy.threshold;
  if (mix.PoolSize() > 0) {
    for (std::size_t i = mix.PoolSize(); i < n; ++i) {
      mix.Add(Kind::kAttacker, t0);
      ++trial.attacker_packets;
    }
    mix.Release(t0);
    SOTTO_CHECK(mix.PoolSize() == 0);
  }
  mix.Add(Kind::kTarget, t0);
  const std::size_t fill = std::max(n, c.policy.min_batch) - 1;
  for (std::size_t i = 0; i < fill; ++i) mix.Add(Kind::kAttacker, t0);
  trial.attacker_packets += fill;
  const Output out = mix.Release(t0);
  SOTTO_CHECK(out.has_target);
  trial.target_rounds = 1;
  trial.identified = out.not_attacker == 1;
  trial.chance = 1.0 / static_cast<double>(out.packets);
}

// Timed and pool: `flood` attacker packets before every round. First flush: the attacker counts
// the non-attacker packets leaving until as many as were inside have gone (a dummy passes for an
// honest packet here, so with dummies it may stop too early, and then be fooled later). Then the
// target enters right after a round, and the attacker waits for the round in which non-attacker
// packets leave: if exactly one does, it names it.
void AttackRounds(Mix& mix, const FloodingConfig& c, TimeUs t0, Trial& trial) {
  std::size_t flood = c.flood_per_round;
  if (flood == 0) {
    const double per_round = c.honest_rate_per_s * static_cast<double>(c.policy.period_us) / 1e6;
    flood = std::max(static_cast<std::size_t>(std::ceil(per_round)), c.policy.min_batch);
  }
  std::size_t believed_honest = mix.PoolSize();
  bool target_inside = believed_honest == 0;
  if (target_inside) mix.Add(Kind::kTarget, t0);
  std::size_t flush_rounds = 0;
  for (;;) {
    const TimeUs round = mix.NextWakeup().value();  // timed and pool always have a next round
    for (std::size_t i = 0; i < flood; ++i) mix.Add(Kind::kAttacker, round);
    trial.attacker_packets += flood;
    const Output out = mix.Release(round);
    trial.seconds = Seconds(t0, round);
    if (!target_inside) {
      believed_honest -= std::min(believed_honest, out.not_attacker);
      if (believed_honest == 0) {
        mix.Add(Kind::kTarget, round);
        target_inside = true;
      } else if (++flush_rounds >= c.max_rounds) {
        return;  // could not flush in time
      }
      continue;
    }
    ++trial.target_rounds;
    if (out.has_target) trial.chance = 1.0 / static_cast<double>(out.packets);
    if (out.not_attacker > 0) {  // the attacker believes the target left now
      trial.identified = out.has_target && out.not_attacker == 1;
      return;
    }
    if (trial.target_rounds >= c.max_rounds) return;
  }
}

// Continuous: flooding cannot push a packet out of a memoryless mix, so the attacker sends
// nothing, waits until every honest packet inside has left, then lets the target in alone: the
// next packet out is the target. The cost is time, about the largest residual delay plus one.
void AttackContinuous(Mix& mix, TimeUs t0, Trial& trial) {
  std::size_t believed_honest = mix.PoolSize();
  TimeUs now = t0;
  while (believed_honest > 0) {
    now = mix.NextWakeup().value();
    believed_honest -= std::min(believed_honest, mix.Release(now).not_attacker);
  }
  mix.Add(Kind::kTarget, now);
  const TimeUs out_at = mix.NextWakeup().value();
  const Output out = mix.Release(out_at);
  SOTTO_CHECK(out.has_target);
  trial.target_rounds = 1;
  trial.seconds = Seconds(t0, out_at);
  trial.identified = out.not_attacker == 1;
  trial.chance = 1.0 / static_cast<double>(trial.honest_at_start + 1);
}

Trial RunTrial(const FloodingConfig& c, SimRng& rng) {
  Mix mix(c.policy, rng);
  const auto t0 = static_cast<TimeUs>(std::llround(c.warmup_s * 1e6));
  WarmUp(mix, c.honest_rate_per_s, t0, rng);
  Trial trial;
  trial.honest_at_start = mix.PoolSize();
  switch (c.policy.kind) {
    case PolicyKind::kThresholdTimeout:
      AttackThreshold(mix, c, t0, trial);
      break;
    case PolicyKind::kTimed:
    case PolicyKind::kPool:
      AttackRounds(mix, c, t0, trial);
      break;
    case PolicyKind::kContinuous:
      AttackContinuous(mix, t0, trial);
      break;
  }
  // The mix's loops reach it as a Poisson stream; the attack is noticed if one falls into the
  // blocking (memoryless, so the first one after t0 is Exp(1/rate) away).
  if (c.mix_loop_rate_per_s > 0) {
    const TimeUs first_loop = rng.ExponentialUs(1e6 / c.mix_loop_rate_per_s);
    trial.detected = static_cast<double>(first_loop) < trial.seconds * 1e6;
  }
  return trial;
}

Status OutOfRange(std::string_view field, double value, std::string_view allowed) {
  return Status::InvalidArgument(
      fmt::format("flooding field {} = {} is out of range: it must be {}", field, value, allowed));
}

}  // namespace

Status FloodingConfig::Validate() const {
  if (Status s = policy.Validate(); !s.ok()) return s;
  // Written so that NaN fails too.
  if (!(honest_rate_per_s >= kMinRate && honest_rate_per_s <= kMaxRate)) {
    return OutOfRange("honest_rate_per_s", honest_rate_per_s, "in [1e-6, 1e6] packets per second");
  }
  if (!(warmup_s > 0 && warmup_s <= kMaxSeconds)) {
    return OutOfRange("warmup_s", warmup_s, "in (0, 1e6] seconds");
  }
  if (flood_per_round > kMaxCount) {
    return OutOfRange("flood_per_round", static_cast<double>(flood_per_round),
                      "in [0, 1000000] (0: as many as a normal round)");
  }
  if (max_rounds < 1 || max_rounds > kMaxCount) {
    return OutOfRange("max_rounds", static_cast<double>(max_rounds), "in [1, 1000000]");
  }
  if (!(mix_loop_rate_per_s == 0 ||
        (mix_loop_rate_per_s >= kMinRate && mix_loop_rate_per_s <= kMaxRate))) {
    return OutOfRange("mix_loop_rate_per_s", mix_loop_rate_per_s,
                      "0 (no loops) or in [1e-6, 1e6] loops per second");
  }
  if (trials < 1 || trials > kMaxTrials) {
    return OutOfRange("trials", static_cast<double>(trials), "in [1, 10000000]");
  }
  // Memory of one trial: every packet the mix sees is remembered.
  const double flood =
      flood_per_round > 0
          ? static_cast<double>(flood_per_round)
          : std::max(honest_rate_per_s * static_cast<double>(policy.period_us) / 1e6,
                     static_cast<double>(policy.min_batch));
  const double packets = honest_rate_per_s * warmup_s + 2 * flood * static_cast<double>(max_rounds);
  if (packets > kMaxPacketsPerTrial) {
    return Status::InvalidArgument(fmt::format(
        "flooding fields honest_rate_per_s × warmup_s + 2 × flood × max_rounds = {} packets per "
        "trial; at most {}: lower the rate, the warm-up, flood_per_round or max_rounds",
        packets, kMaxPacketsPerTrial));
  }
  return Status::Ok();
}

Result<FloodingResult> RunFloodingAttack(const FloodingConfig& config, std::uint64_t point) {
  if (Status s = config.Validate(); !s.ok()) return s;
  FloodingResult out;
  out.config = config;
  std::vector<std::size_t> successes_by_round(config.max_rounds, 0);
  std::vector<double> packets, seconds, rounds, honest;
  double chance_sum = 0;
  std::size_t chance_count = 0;
  std::size_t detected = 0;
  for (std::size_t t = 0; t < config.trials; ++t) {
    SimRng rng(DeriveSeed(config.seed, point, t));
    const Trial trial = RunTrial(config, rng);
    if (trial.detected) ++detected;
    if (trial.chance > 0) {
      chance_sum += trial.chance;
      ++chance_count;
    }
    if (!trial.identified || trial.detected) continue;
    ++successes_by_round[std::min(trial.target_rounds, config.max_rounds) - 1];
    packets.push_back(static_cast<double>(trial.attacker_packets));
    seconds.push_back(trial.seconds);
    rounds.push_back(static_cast<double>(trial.target_rounds));
    honest.push_back(static_cast<double>(trial.honest_at_start));
  }
  const auto trials = static_cast<double>(config.trials);
  std::size_t cumulative = 0;
  for (const std::size_t s : successes_by_round) {
    cumulative += s;
    out.success_within_rounds.push_back(static_cast<double>(cumulative) / trials);
  }
  out.success_rate = static_cast<double>(packets.size()) / trials;
  out.detection_rate = static_cast<double>(detected) / trials;
  out.attacker_packets = MeanWithCi(packets);
  out.attack_seconds = MeanWithCi(seconds);
  out.target_rounds = MeanWithCi(rounds);
  out.honest_flushed = MeanWithCi(honest);
  out.chance_baseline = chance_count > 0 ? chance_sum / static_cast<double>(chance_count) : 0;
  return out;
}

}  // namespace sotto::sim::attacks
