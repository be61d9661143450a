// The statistical disclosure attack (G. Danezis, "Statistical Disclosure Attacks: Traffic
// Confirmation in Open Environments", SEC 2003) against the real threshold-timeout policy, and
// Danezis's estimate of the rounds it needs. Model, estimator and success rule: attacks.h and
// sim/README.md ("Attacks").
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "attack_stats.h"
#include "sotto/core/check.h"
#include "sotto/sim/attacks.h"
#include "sotto/sim/rng.h"

namespace sotto::sim::attacks {
namespace {

constexpr std::size_t kMaxRecipients = 10'000'000;
constexpr std::size_t kMaxBatch = 1'000'000;  // PolicyConfig's limit on threshold
constexpr std::size_t kMaxRepetitions = 1'000'000;
constexpr std::size_t kMaxAliceRounds = 1'000'000'000;
constexpr mixnode::TimeUs kOneDayUs = 86'400'000'000;

Status OutOfRange(std::string_view field, std::string_view value, std::string_view allowed) {
  return Status::InvalidArgument(
      fmt::format("sda field {} = {} is out of range: it must be {}", field, value, allowed));
}

// One repetition: Alice's rounds until identification (0 if not within max_alice_rounds), all
// rounds up to then, and the estimator's mean entries at the end.
struct Repetition {
  std::size_t alice_rounds = 0;
  std::size_t total_rounds = 0;
  double friend_weight = 0;
  double nonfriend_weight = 0;
};

Repetition RunRepetition(const SdaConfig& c, SimRng& rng) {
  const std::size_t n = c.recipients;
  const std::size_t b = c.batch_size;
  const std::size_t m = c.friends;

  // Alice's friends: a uniformly random m-subset of the recipients.
  std::vector<std::uint32_t> recipients(n);
  for (std::size_t i = 0; i < n; ++i) recipients[i] = static_cast<std::uint32_t>(i);
  ShufflePrefix(recipients, m, rng);
  const std::vector<std::uint32_t> friends(recipients.begin(),
                                           recipients.begin() + static_cast<std::ptrdiff_t>(m));
  std::vector<std::uint8_t> is_friend(n, 0);
  for (const std::uint32_t f : friends) is_friend[f] = 1;

  mixnode::PolicyConfig mix;
  mix.kind = mixnode::PolicyKind::kThresholdTimeout;
  mix.threshold = b;
  mix.timeout_us = kOneDayUs;  // never reached: b messages arrive within b microseconds
  const auto policy = mixnode::MakePolicy(mix, rng);

  // Per recipient: messages received in Alice's rounds. The guess (the m largest entries of the
  // estimator, a monotone function of these counts) is exactly the friend set, without a tie at
  // the boundary, iff the smallest friend count exceeds the largest other count; counts only
  // grow, so the largest other count is kept incrementally.
  std::vector<std::uint32_t> counts(n, 0);
  std::uint32_t max_other = 0;
  std::vector<std::uint32_t> recipient_of(b);  // of the current round's packets, by handle

  Repetition rep;
  std::size_t alice_rounds = 0;
  std::size_t total_rounds = 0;
  std::size_t last_wrong = 0;  // Alice's last round with a wrong guess (0: before any evidence)
  std::size_t total_at_candidate = 0;  // all rounds up to Alice's round last_wrong + 1
  mixnode::TimeUs now = 0;
  while (alice_rounds < c.max_alice_rounds) {
    ++total_rounds;
    const bool alice_sends =
        c.alice_participation >= 1.0 || rng.Uniform01() <= c.alice_participation;
    const std::uint64_t alice_at = alice_sends ? rng.Below(b) : b;
    // The round's messages reach the mix one microsecond apart; the b-th fills it.
    for (std::size_t i = 0; i < b; ++i) {
      recipient_of[i] =
          i == alice_at ? friends[rng.Below(m)] : static_cast<std::uint32_t>(rng.Below(n));
      policy->Add(i, now++);
    }
    const mixnode::TimeUs due =
        policy->NextWakeup().value_or(std::numeric_limits<mixnode::TimeUs>::max());
    SOTTO_CHECK(due < now);
    const std::vector<mixnode::PacketHandle> batch = policy->Release(now);
    SOTTO_CHECK(batch.size() == b);
    if (!alice_sends) continue;  // Danezis's attacker learns only from Alice's rounds

    // The observer sees the batch's recipients (in the mix's random order: a multiset).
    ++alice_rounds;
    for (const mixnode::PacketHandle h : batch) {
      const std::uint32_t r = recipient_of[h];
      ++counts[r];
      if (!is_friend[r]) max_other = std::max(max_other, counts[r]);
    }
    std::uint32_t min_friend = std::numeric_limits<std::uint32_t>::max();
    for (const std::uint32_t f : friends) min_friend = std::min(min_friend, counts[f]);
    if (min_friend <= max_other) {
      last_wrong = alice_rounds;
      continue;
    }
    if (alice_rounds == last_wrong + 1) total_at_candidate = total_rounds;
    if (alice_rounds >= 2 * (last_wrong + 1)) {  // right since last_wrong + 1, and still at 2×
      rep.alice_rounds = last_wrong + 1;
      rep.total_rounds = total_at_candidate;
      break;
    }
  }

  // Danezis's estimator at the end: v_j = b·Ō_j − (b-1)/N with Ō_j = counts_j / (b·t).
  if (alice_rounds > 0) {
    const auto t = static_cast<double>(alice_rounds);
    const double background = static_cast<double>(b - 1) / static_cast<double>(n);
    double friend_sum = 0;
    double other_sum = 0;
    for (std::size_t j = 0; j < n; ++j) {
      const double v = static_cast<double>(counts[j]) / t - background;
      (is_friend[j] ? friend_sum : other_sum) += v;
    }
    rep.friend_weight = friend_sum / static_cast<double>(m);
    rep.nonfriend_weight = other_sum / static_cast<double>(n - m);
  }
  return rep;
}

Result<SdaResult> RunSdaPoint(const SdaConfig& config, std::uint64_t point) {
  if (Status s = config.Validate(); !s.ok()) return s;
  SdaResult out;
  out.config = config;
  out.danezis_estimate =
      DanezisSdaRounds(config.recipients, config.batch_size, config.friends, config.confidence);
  out.chance_baseline = std::exp(-LogBinomial(config.recipients, config.friends));

  std::vector<double> alice_rounds;
  std::vector<double> total_rounds;
  double friend_weight = 0;
  double nonfriend_weight = 0;
  for (std::size_t r = 0; r < config.repetitions; ++r) {
    SimRng rng(DeriveSeed(config.seed, point, r));
    const Repetition rep = RunRepetition(config, rng);
    friend_weight += rep.friend_weight;
    nonfriend_weight += rep.nonfriend_weight;
    if (rep.alice_rounds == 0) continue;
    alice_rounds.push_back(static_cast<double>(rep.alice_rounds));
    total_rounds.push_back(static_cast<double>(rep.total_rounds));
  }
  const auto reps = static_cast<double>(config.repetitions);
  out.alice_rounds = MeanWithCi(alice_rounds);
  out.total_rounds = MeanWithCi(total_rounds);
  out.ratio_to_estimate = out.alice_rounds.mean / out.danezis_estimate;
  out.success_rate = static_cast<double>(alice_rounds.size()) / reps;
  out.mean_friend_weight = friend_weight / reps;
  out.mean_nonfriend_weight = nonfriend_weight / reps;
  return out;
}

}  // namespace

Status SdaConfig::Validate() const {
  if (recipients < 2 || recipients > kMaxRecipients) {
    return OutOfRange("recipients", fmt::format("{}", recipients),
                      fmt::format("in [2, {}]", kMaxRecipients));
  }
  if (batch_size < 2 || batch_size > kMaxBatch) {
    return OutOfRange("batch_size", fmt::format("{}", batch_size),
                      fmt::format("in [2, {}] (Alice and at least one other sender)", kMaxBatch));
  }
  if (friends < 1 || friends >= recipients) {
    return OutOfRange("friends", fmt::format("{}", friends),
                      fmt::format("in [1, {}] (fewer than recipients)", recipients - 1));
  }
  // Written so that NaN fails too.
  if (!(alice_participation >= 0.001 && alice_participation <= 1.0)) {
    return OutOfRange("alice_participation", fmt::format("{}", alice_participation),
                      "in [0.001, 1]");
  }
  if (!(confidence > 0.0 && confidence <= 10.0)) {
    return OutOfRange("confidence", fmt::format("{}", confidence), "in (0, 10]");
  }
  if (repetitions < 1 || repetitions > kMaxRepetitions) {
    return OutOfRange("repetitions", fmt::format("{}", repetitions),
                      fmt::format("in [1, {}]", kMaxRepetitions));
  }
  if (max_alice_rounds < 1 || max_alice_rounds > kMaxAliceRounds) {
    return OutOfRange("max_alice_rounds", fmt::format("{}", max_alice_rounds),
                      fmt::format("in [1, {}]", kMaxAliceRounds));
  }
  return Status::Ok();
}

// Danezis 2003's condition on the number of observations, re-derived from the paper's
// reasoning (signal against noise; the paper's own text was not at hand to check term by term):
// after t of Alice's rounds a friend's count has mean t/m + t(b-1)/N and variance
// t(σ²_noise + σ²_Alice), anyone else's mean t(b-1)/N and variance t·σ²_noise, where
// σ²_noise = (b-1)·(1/N)(1-1/N) (b-1 uniform recipients) and σ²_Alice = (1/m)(1-1/m) (Alice's
// message reaches a given friend with probability 1/m). The two are told apart at confidence l
// when the gap t/m exceeds l standard deviations of each, t/m > l·√t·(σ_noise + √(σ²_noise +
// σ²_Alice)), which solves to the formula below.
double DanezisSdaRounds(std::size_t recipients, std::size_t batch_size, std::size_t friends,
                        double confidence) {
  const auto n = static_cast<double>(recipients);
  const auto b = static_cast<double>(batch_size);
  const auto m = static_cast<double>(friends);
  const double noise = (n - 1) / (n * n) * (b - 1);
  const double alice = (m - 1) / (m * m);
  const double root = m * confidence * (std::sqrt(noise) + std::sqrt(noise + alice));
  return root * root;
}

Result<SdaResult> RunSda(const SdaConfig& config, std::uint64_t point) {
  return RunSdaPoint(config, point);
}

Result<std::vector<SdaResult>> RunSdaBatchSweep(const SdaConfig& base,
                                                std::span<const std::size_t> batch_sizes) {
  std::vector<SdaResult> out;
  out.reserve(batch_sizes.size());
  for (std::size_t i = 0; i < batch_sizes.size(); ++i) {
    SdaConfig c = base;
    c.batch_size = batch_sizes[i];
    Result<SdaResult> r = RunSdaPoint(c, i);
    if (!r.ok()) return r.status();
    out.push_back(std::move(r).value());
  }
  return out;
}

std::vector<std::size_t> DefaultSdaBatchSizes() {
  std::vector<std::size_t> sizes;
  for (std::size_t b = 2; b <= 64; ++b) sizes.push_back(b);
  return sizes;
}

}  // namespace sotto::sim::attacks
