// Mixing policies (mixnode/include/sotto/mixnode/policy.h) and the randomness they rest on
// (UniformBelow, UniformOpenClosed, Shuffle and the buffered DeterministicRng in core/random.h).
//
// Everything runs on simulated time with fixed DeterministicRng seeds, so every test is
// reproducible. Statistical checks use a fixed significance (p = 0.001, or 5 standard
// deviations), and each comes with a negative control — a broken shuffle or a FIFO — that the
// same statistic must reject, so none of them can pass vacuously.
#include "sotto/mixnode/policy.h"

#include <sodium.h>

#include <algorithm>
#include <array>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "sotto/core/random.h"

namespace {

using sotto::DeterministicRng;
using sotto::Status;
using namespace sotto::mixnode;

// Upper 0.1% point of the chi-square distribution (Wilson–Hilferty approximation, within 1% of
// the exact value for df ≥ 10).
double ChiSquareCritical(double df) {
  constexpr double kZ = 3.0902;  // upper 0.1% point of N(0, 1)
  const double a = 2.0 / (9.0 * df);
  return df * std::pow(1.0 - a + kZ * std::sqrt(a), 3.0);
}

// Σ (observed − expected)² / expected, all cells with the same expectation.
template <class Counts>
double ChiSquare(const Counts& counts, double expected) {
  double stat = 0;
  for (const auto c : counts) {
    const double d = static_cast<double>(c) - expected;
    stat += d * d / expected;
  }
  return stat;
}

PolicyConfig Threshold(std::size_t n, TimeUs timeout_us, std::size_t min_batch = 0) {
  PolicyConfig c;
  c.kind = PolicyKind::kThresholdTimeout;
  c.threshold = n;
  c.timeout_us = timeout_us;
  c.min_batch = min_batch;
  return c;
}

PolicyConfig Timed(TimeUs period_us, std::size_t min_batch = 0) {
  PolicyConfig c;
  c.kind = PolicyKind::kTimed;
  c.period_us = period_us;
  c.min_batch = min_batch;
  return c;
}

PolicyConfig Pool(TimeUs period_us, double keep_fraction, std::size_t min_keep,
                  std::size_t min_batch = 0) {
  PolicyConfig c;
  c.kind = PolicyKind::kPool;
  c.period_us = period_us;
  c.keep_fraction = keep_fraction;
  c.min_keep = min_keep;
  c.min_batch = min_batch;
  return c;
}

PolicyConfig Continuous(TimeUs mean_delay_us, std::size_t min_batch = 0) {
  PolicyConfig c;
  c.kind = PolicyKind::kContinuous;
  c.mean_delay_us = mean_delay_us;
  c.min_batch = min_batch;
  return c;
}

std::multiset<PacketHandle> AsSet(const std::vector<PacketHandle>& v) {
  return {v.begin(), v.end()};
}

// Adds `n` packets (handles first..first+n-1) at `now`, then wakes the policy at each
// NextWakeup() until all n have left. Returns them in output order; `now` ends at the last
// release. Bounded: a policy that never lets them go fails the test instead of hanging.
std::vector<PacketHandle> RunBatch(MixingPolicy& policy, TimeUs& now, PacketHandle first,
                                   std::size_t n, TimeUs requested_delay_us = 0) {
  for (std::size_t i = 0; i < n; ++i) policy.Add(first + i, now, requested_delay_us);
  std::vector<PacketHandle> out;
  for (std::size_t wakeups = 0; out.size() < n && wakeups < 10 * n + 10; ++wakeups) {
    const auto wake = policy.NextWakeup();
    if (!wake) break;
    now = std::max(now, *wake);
    const auto batch = policy.Release(now);
    out.insert(out.end(), batch.begin(), batch.end());
  }
  REQUIRE(out.size() == n);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Randomness helpers (core/random.h).

TEST_CASE("DeterministicRng is the ChaCha20 keystream however Fill calls are split", "[random]") {
  std::array<std::uint8_t, 32> seed;
  seed.fill(0x5a);
  // Sizes that cross the 64-byte block and the internal buffer at every possible alignment,
  // including empty fills and fills larger than the buffer.
  const std::vector<std::size_t> sizes = {0, 1,   7, 63, 64, 65,   0,    1, 1000, 2048,
                                          3, 129, 8, 8,  8,  1024, 1023, 1, 4097, 5};
  std::size_t total = 0;
  for (auto s : sizes) total += s;
  std::vector<std::uint8_t> expected(total);
  const std::array<std::uint8_t, crypto_stream_chacha20_ietf_NONCEBYTES> nonce{};
  crypto_stream_chacha20_ietf(expected.data(), expected.size(), nonce.data(), seed.data());

  DeterministicRng rng(seed);
  std::vector<std::uint8_t> got(total);
  std::size_t at = 0;
  for (auto s : sizes) {
    rng.Fill(std::span(got).subspan(at, s));
    at += s;
  }
  CHECK(got == expected);

  // A moved-to generator continues the same stream.
  DeterministicRng moved = std::move(rng);
  std::array<std::uint8_t, 16> next{};
  moved.Fill(next);
  std::vector<std::uint8_t> longer(total + next.size());
  crypto_stream_chacha20_ietf(longer.data(), longer.size(), nonce.data(), seed.data());
  CHECK(std::equal(next.begin(), next.end(), longer.begin() + static_cast<std::ptrdiff_t>(total)));
}

TEST_CASE("UniformBelow stays in range and has no modulo bias", "[random]") {
  auto rng = DeterministicRng::FromByte(1);

  SECTION("small n: counts are uniform") {
    std::array<int, 3> counts{};
    for (int i = 0; i < 30000; ++i) {
      const auto x = sotto::UniformBelow(rng, 3);
      REQUIRE(x < 3);
      ++counts[x];
    }
    CHECK(ChiSquare(counts, 10000.0) < 13.8);  // chi-square, 2 df, p = 0.001
  }

  SECTION("n = 3·2^62: plain x % n would put half the draws below 2^62; unbiased is a third") {
    const std::uint64_t n = std::uint64_t{3} << 62;
    const std::uint64_t quarter = std::uint64_t{1} << 62;
    int below = 0;
    const int draws = 20000;
    for (int i = 0; i < draws; ++i) {
      const auto x = sotto::UniformBelow(rng, n);
      REQUIRE(x < n);
      if (x < quarter) ++below;
    }
    // sd of the fraction ≈ 0.0033: a biased generator (0.5) is 50 sd away.
    CHECK(static_cast<double>(below) / draws == Approx(1.0 / 3.0).margin(0.02));
  }

  SECTION("the largest n works and n == 1 consumes nothing") {
    const auto max = std::numeric_limits<std::uint64_t>::max();
    for (int i = 0; i < 100; ++i) CHECK(sotto::UniformBelow(rng, max) < max);
    auto a = DeterministicRng::FromByte(2);
    auto b = DeterministicRng::FromByte(2);
    CHECK(sotto::UniformBelow(a, 1) == 0);
    CHECK(sotto::UniformU64(a) == sotto::UniformU64(b));
  }
}

TEST_CASE("UniformOpenClosed stays above 0, at most 1, with mean 1/2", "[random]") {
  auto rng = DeterministicRng::FromByte(3);
  double sum = 0;
  const int n = 20000;
  for (int i = 0; i < n; ++i) {
    const double u = sotto::UniformOpenClosed(rng);
    REQUIRE(u > 0.0);
    REQUIRE(u <= 1.0);
    sum += u;
  }
  CHECK(sum / n == Approx(0.5).margin(0.01));  // sd of the mean ≈ 0.002
}

TEST_CASE("Shuffle makes every permutation equally likely", "[random]") {
  auto rng = DeterministicRng::FromByte(4);
  std::map<std::vector<int>, int> seen;
  const int trials = 24000;
  for (int i = 0; i < trials; ++i) {
    std::vector<int> v = {0, 1, 2, 3};
    sotto::Shuffle(v, rng);
    ++seen[v];
  }
  REQUIRE(seen.size() == 24);  // all 4! orders, and only permutations of the input
  std::vector<int> counts;
  for (const auto& [perm, count] : seen) counts.push_back(count);
  CHECK(ChiSquare(counts, trials / 24.0) < ChiSquareCritical(23));

  std::vector<int> empty;
  sotto::Shuffle(empty, rng);  // no-op, no crash
  CHECK(empty.empty());
}

// ---------------------------------------------------------------------------------------------
// Configuration.

TEST_CASE("policy names parse and print", "[mixnode][policy]") {
  for (auto kind : {PolicyKind::kThresholdTimeout, PolicyKind::kTimed, PolicyKind::kPool,
                    PolicyKind::kContinuous}) {
    auto parsed = ParsePolicyKind(PolicyKindName(kind));
    REQUIRE(parsed.ok());
    CHECK(*parsed == kind);
  }
  CHECK(PolicyKindName(PolicyKind::kThresholdTimeout) == "threshold-timeout");
  CHECK(PolicyKindName(PolicyKind::kContinuous) == "continuous");
  auto bad = ParsePolicyKind("Threshold");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().code() == Status::Code::kInvalidArgument);
  CHECK_THAT(bad.status().message(),
             Catch::Contains("'Threshold'") &&
                 Catch::Contains("threshold-timeout, timed, pool, continuous"));
  CHECK_FALSE(ParsePolicyKind("").ok());
}

TEST_CASE("Validate accepts the defaults and the edges of every range", "[mixnode][policy]") {
  CHECK(PolicyConfig{}.Validate().ok());
  CHECK(Threshold(1, 1).Validate().ok());
  CHECK(Threshold(1'000'000, 86'400'000'000, 1'000'000).Validate().ok());
  CHECK(Pool(1, 0.0, 0).Validate().ok());
  CHECK(Pool(86'400'000'000, 0.999999, 1'000'000).Validate().ok());
  CHECK(Continuous(1).Validate().ok());
  CHECK(Continuous(86'400'000'000).Validate().ok());
}

TEST_CASE("Validate rejects every bad field and names it with its range", "[mixnode][policy]") {
  struct Case {
    std::string field;
    std::string range;  // as the message states it
    std::function<void(PolicyConfig&)> spoil;
  };
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  const std::vector<Case> cases = {
      {"kind", "threshold-timeout, timed, pool, continuous",
       [](PolicyConfig& c) { c.kind = static_cast<PolicyKind>(7); }},
      {"threshold", "[1, 1000000]", [](PolicyConfig& c) { c.threshold = 0; }},
      {"threshold", "[1, 1000000]", [](PolicyConfig& c) { c.threshold = 1'000'001; }},
      {"timeout_us", "[1, 86400000000]", [](PolicyConfig& c) { c.timeout_us = 0; }},
      {"timeout_us", "[1, 86400000000]", [](PolicyConfig& c) { c.timeout_us = -5; }},
      {"timeout_us", "[1, 86400000000]", [](PolicyConfig& c) { c.timeout_us = 86'400'000'001; }},
      {"period_us", "[1, 86400000000]", [](PolicyConfig& c) { c.period_us = 0; }},
      {"period_us", "[1, 86400000000]",
       [](PolicyConfig& c) { c.period_us = std::numeric_limits<TimeUs>::max(); }},
      {"keep_fraction", "[0, 1)", [](PolicyConfig& c) { c.keep_fraction = -0.01; }},
      {"keep_fraction", "[0, 1)", [](PolicyConfig& c) { c.keep_fraction = 1.0; }},
      {"keep_fraction", "[0, 1)", [nan](PolicyConfig& c) { c.keep_fraction = nan; }},
      {"keep_fraction", "[0, 1)", [inf](PolicyConfig& c) { c.keep_fraction = inf; }},
      {"min_keep", "[0, 1000000]", [](PolicyConfig& c) { c.min_keep = 1'000'001; }},
      {"mean_delay_us", "[1, 86400000000]", [](PolicyConfig& c) { c.mean_delay_us = 0; }},
      {"mean_delay_us", "[1, 86400000000]", [](PolicyConfig& c) { c.mean_delay_us = -1; }},
      {"min_batch", "[0, 1000000]",
       [](PolicyConfig& c) { c.min_batch = std::numeric_limits<std::size_t>::max(); }},
  };
  for (const auto& tc : cases) {
    // Every field is checked whichever policy is selected: a typo in an unused field is still
    // a typo.
    for (auto kind : {PolicyKind::kThresholdTimeout, PolicyKind::kTimed, PolicyKind::kPool,
                      PolicyKind::kContinuous}) {
      PolicyConfig c;
      c.kind = kind;
      tc.spoil(c);
      const Status s = c.Validate();
      INFO(tc.field << " under " << PolicyKindName(kind) << ": " << s.message());
      REQUIRE_FALSE(s.ok());
      CHECK(s.code() == Status::Code::kInvalidArgument);
      CHECK_THAT(s.message(), Catch::StartsWith("policy field " + tc.field + " = "));
      CHECK_THAT(s.message(), Catch::Contains(tc.range));
    }
  }
}

TEST_CASE("Describe names the policy and its parameters", "[mixnode][policy]") {
  CHECK(PolicyConfig{}.Describe() == "threshold-timeout(n=100, t=1000ms)");
  CHECK(Threshold(16, 1500, 32).Describe() == "threshold-timeout(n=16, t=1500us, min_batch=32)");
  CHECK(Timed(500, 10).Describe() == "timed(period=500us, min_batch=10)");
  CHECK(Pool(2'000'000, 0.25, 5).Describe() == "pool(period=2000ms, keep=0.25, min_keep=5)");
  CHECK(Continuous(50'000).Describe() == "continuous(mean=50ms)");
}

TEST_CASE("MakePolicy builds the policy the config names", "[mixnode][policy]") {
  auto rng = DeterministicRng::FromByte(5);
  for (const auto& config : {Threshold(3, 10), Timed(10), Pool(10, 0.5, 1), Continuous(10)}) {
    auto policy = MakePolicy(config, rng);
    REQUIRE(policy != nullptr);
    CHECK(policy->config().Describe() == config.Describe());
    CHECK(policy->PoolSize() == 0);
  }
}

// ---------------------------------------------------------------------------------------------
// Release rules.

TEST_CASE("threshold-timeout releases at the threshold-th packet's arrival", "[mixnode][policy]") {
  auto rng = DeterministicRng::FromByte(10);
  auto policy = MakePolicy(Threshold(3, 1000), rng);
  CHECK_FALSE(policy->NextWakeup().has_value());  // an empty mix has no round to end
  policy->Add(1, 100);
  policy->Add(2, 150);
  CHECK(policy->NextWakeup() == 1100);
  policy->Add(3, 200);
  CHECK(policy->NextWakeup() == 200);
  CHECK(policy->Release(199).empty());
  CHECK(policy->PoolSize() == 3);
  CHECK(AsSet(policy->Release(200)) == std::multiset<PacketHandle>{1, 2, 3});
  CHECK(policy->PoolSize() == 0);
  CHECK_FALSE(policy->NextWakeup().has_value());
  CHECK(policy->Release(10'000).empty());
}

TEST_CASE("threshold-timeout releases a short round when its first packet times out",
          "[mixnode][policy]") {
  auto rng = DeterministicRng::FromByte(11);
  auto policy = MakePolicy(Threshold(3, 1000), rng);
  policy->Add(4, 300);
  CHECK(policy->NextWakeup() == 1300);
  policy->Add(5, 1200);  // a later packet does not restart the round's timer
  CHECK(policy->NextWakeup() == 1300);
  CHECK(policy->Release(1299).empty());
  CHECK(AsSet(policy->Release(1300)) == std::multiset<PacketHandle>{4, 5});
  // The next round's timer starts with its own first packet.
  policy->Add(6, 5000);
  CHECK(policy->NextWakeup() == 6000);
  CHECK(AsSet(policy->Release(6000)) == std::multiset<PacketHandle>{6});
}

TEST_CASE("threshold-timeout: a late Release takes everything pooled", "[mixnode][policy]") {
  auto rng = DeterministicRng::FromByte(12);
  SECTION("packets after the threshold join the round") {
    auto policy = MakePolicy(Threshold(2, 1000), rng);
    policy->Add(1, 0);
    policy->Add(2, 10);
    policy->Add(3, 20);
    CHECK(policy->NextWakeup() == 10);
    CHECK(AsSet(policy->Release(20)) == std::multiset<PacketHandle>{1, 2, 3});
  }
  SECTION("the timeout passed before the threshold was reached") {
    auto policy = MakePolicy(Threshold(2, 100), rng);
    policy->Add(1, 0);
    policy->Add(2, 500);
    CHECK(policy->NextWakeup() == 100);
    CHECK(AsSet(policy->Release(500)) == std::multiset<PacketHandle>{1, 2});
  }
}

TEST_CASE("timed mix releases everything at each multiple of the period", "[mixnode][policy]") {
  auto rng = DeterministicRng::FromByte(13);
  auto policy = MakePolicy(Timed(1000), rng);
  CHECK(policy->NextWakeup() == 1000);  // rounds happen even with nothing pooled
  policy->Add(1, 10);
  policy->Add(2, 999);
  CHECK(policy->Release(999).empty());
  CHECK(policy->PoolSize() == 2);
  CHECK(AsSet(policy->Release(1000)) == std::multiset<PacketHandle>{1, 2});
  CHECK(policy->NextWakeup() == 2000);
  policy->Add(3, 1500);
  CHECK(policy->Release(1999).empty());
  CHECK(AsSet(policy->Release(2000)) == std::multiset<PacketHandle>{3});
  // An empty round still moves the schedule on.
  CHECK(policy->Release(3000).empty());
  CHECK(policy->NextWakeup() == 4000);
  // Falling behind: the missed rounds at 4000..7000 become one round, then back on the grid.
  policy->Add(4, 3500);
  policy->Add(5, 6000);
  CHECK(AsSet(policy->Release(7500)) == std::multiset<PacketHandle>{4, 5});
  CHECK(policy->NextWakeup() == 8000);
  policy->Add(6, 8000);  // arriving exactly at the round joins it
  CHECK(AsSet(policy->Release(8000)) == std::multiset<PacketHandle>{6});
}

TEST_CASE("pool mix keeps max(min_keep, floor(keep_fraction · n)) packets, at most n",
          "[mixnode][policy]") {
  struct Case {
    double keep_fraction;
    std::size_t min_keep;
    std::size_t pooled;
    std::size_t kept;
  };
  const std::vector<Case> cases = {
      {0.3, 5, 100, 30}, {0.3, 5, 10, 5}, {0.3, 5, 3, 3},       {0.0, 0, 7, 0},
      {0.5, 0, 1, 0},    {0.5, 0, 3, 1},  {0.99, 0, 1000, 990}, {0.0, 4, 0, 0},
  };
  auto rng = DeterministicRng::FromByte(14);
  for (const auto& tc : cases) {
    INFO("keep_fraction=" << tc.keep_fraction << " min_keep=" << tc.min_keep
                          << " pooled=" << tc.pooled);
    auto policy = MakePolicy(Pool(1000, tc.keep_fraction, tc.min_keep), rng);
    for (std::size_t i = 0; i < tc.pooled; ++i) policy->Add(i, 500);
    CHECK(policy->Release(999).empty());
    const auto sent = policy->Release(1000);
    CHECK(sent.size() == tc.pooled - tc.kept);
    CHECK(policy->PoolSize() == tc.kept);
    const std::set<PacketHandle> distinct(sent.begin(), sent.end());
    CHECK(distinct.size() == sent.size());
    for (auto h : sent) CHECK(h < tc.pooled);
    CHECK(policy->NextWakeup() == 2000);
  }
}

TEST_CASE("pool mix keeps a uniformly random choice of packets", "[mixnode][policy]") {
  auto rng = DeterministicRng::FromByte(15);
  const int trials = 4000;
  std::array<int, 16> kept{};
  std::set<std::vector<PacketHandle>> kept_sets;
  for (int t = 0; t < trials; ++t) {
    auto policy = MakePolicy(Pool(1000, 0.25, 0), rng);
    for (PacketHandle h = 0; h < 16; ++h) policy->Add(h, 0);
    const auto sent = policy->Release(1000);
    REQUIRE(sent.size() == 12);
    std::vector<bool> out(16, false);
    for (auto h : sent) out[h] = true;
    std::vector<PacketHandle> set;
    for (PacketHandle h = 0; h < 16; ++h) {
      if (!out[h]) {
        ++kept[h];
        set.push_back(h);
      }
    }
    kept_sets.insert(set);
  }
  // Each packet is kept with probability 4/16.
  CHECK(ChiSquare(kept, trials / 4.0) < ChiSquareCritical(15));
  // Not just fair marginals: many different sets (C(16,4) = 1820; ~1630 expected in 4000).
  CHECK(kept_sets.size() > 1400);

  // Negative control: a pool that always keeps the newest 4 is rejected by the same statistic.
  std::array<int, 16> newest{};
  for (PacketHandle h = 12; h < 16; ++h) newest[h] = trials;
  CHECK(ChiSquare(newest, trials / 4.0) > ChiSquareCritical(15));
}

TEST_CASE("continuous mix honours the sender's requested delay exactly", "[mixnode][policy]") {
  auto rng = DeterministicRng::FromByte(16);
  auto policy = MakePolicy(Continuous(1'000'000), rng);
  CHECK_FALSE(policy->NextWakeup().has_value());
  policy->Add(1, 1000, 5000);
  policy->Add(2, 1000, 300);
  policy->Add(3, 2000, 300);
  CHECK(policy->PoolSize() == 3);
  CHECK(policy->NextWakeup() == 1300);
  CHECK(policy->Release(1299).empty());
  CHECK(policy->Release(1300) == std::vector<PacketHandle>{2});
  CHECK(policy->NextWakeup() == 2300);
  CHECK(policy->Release(2300) == std::vector<PacketHandle>{3});
  CHECK(policy->NextWakeup() == 6000);
  CHECK(policy->Release(6000) == std::vector<PacketHandle>{1});
  CHECK_FALSE(policy->NextWakeup().has_value());

  // An absurd delay saturates instead of wrapping round into the past.
  policy->Add(4, 10, std::numeric_limits<TimeUs>::max());
  CHECK(policy->NextWakeup() == std::numeric_limits<TimeUs>::max());
  CHECK(policy->Release(1'000'000'000).empty());
}

TEST_CASE("continuous mix draws exponential delays with the configured mean", "[mixnode][policy]") {
  const TimeUs mean = 1'000'000;
  auto rng = DeterministicRng::FromByte(17);
  auto policy = MakePolicy(Continuous(mean), rng);
  const std::size_t n = 10'000;
  // Half without a requested delay (0), half with a negative one: both mean "none".
  for (PacketHandle h = 0; h < n; ++h) policy->Add(h, 0, h % 2 == 0 ? 0 : -7);
  std::vector<double> delays;
  while (auto wake = policy->NextWakeup()) {
    const auto batch = policy->Release(*wake);
    delays.insert(delays.end(), batch.size(), static_cast<double>(*wake));
    REQUIRE(delays.size() <= n);
  }
  REQUIRE(delays.size() == n);
  std::sort(delays.begin(), delays.end());

  double sum = 0;
  for (double d : delays) sum += d;
  // sd of the mean = mean/√n = 1%: 3% is 3 sd.
  CHECK(sum / static_cast<double>(n) == Approx(static_cast<double>(mean)).epsilon(0.03));

  const auto fraction_above = [&](double x) {
    const auto it = std::upper_bound(delays.begin(), delays.end(), x);
    return static_cast<double>(delays.end() - it) / static_cast<double>(n);
  };
  // P(D > mean) = e^-1, P(D > 2·mean) = e^-2 (sd ≈ 0.005 and 0.0034).
  CHECK(fraction_above(static_cast<double>(mean)) == Approx(std::exp(-1.0)).margin(0.02));
  CHECK(fraction_above(2.0 * static_cast<double>(mean)) == Approx(std::exp(-2.0)).margin(0.015));

  // Kolmogorov–Smirnov against the exponential CDF; 1.95/√n is the 0.1% critical value.
  double ks = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double cdf = 1.0 - std::exp(-delays[i] / static_cast<double>(mean));
    ks = std::max({ks, std::abs(cdf - static_cast<double>(i) / static_cast<double>(n)),
                   std::abs(cdf - static_cast<double>(i + 1) / static_cast<double>(n))});
  }
  CHECK(ks < 1.95 / std::sqrt(static_cast<double>(n)));
  // Negative control: constant delays equal to the mean are far from exponential.
  const double constant_ks = 1.0 - std::exp(-1.0);  // the CDF jumps from 0 to 1 at the mean
  CHECK(constant_ks > 1.95 / std::sqrt(static_cast<double>(n)));
}

TEST_CASE("DummiesFor pads rounds to min_batch, and only rounds", "[mixnode][policy]") {
  auto rng = DeterministicRng::FromByte(18);

  SECTION("threshold-timeout: a round exists only when a packet arrived") {
    auto policy = MakePolicy(Threshold(100, 1000, 10), rng);
    CHECK(policy->Release(5000).empty());
    CHECK(policy->DummiesFor(0) == 0);  // idle mix: no round, no dummies
    for (PacketHandle h = 0; h < 3; ++h) policy->Add(h, 0);
    CHECK(policy->Release(999).empty());
    CHECK(policy->DummiesFor(0) == 0);  // not due yet
    const auto batch = policy->Release(1000);
    REQUIRE(batch.size() == 3);
    CHECK(policy->DummiesFor(batch.size()) == 7);
    CHECK(policy->DummiesFor(10) == 0);
    CHECK(policy->DummiesFor(25) == 0);
  }

  SECTION("timed: an empty round is padded too (that hides silence)") {
    auto policy = MakePolicy(Timed(1000, 10), rng);
    CHECK(policy->DummiesFor(0) == 0);  // no Release yet
    CHECK(policy->Release(500).empty());
    CHECK(policy->DummiesFor(0) == 0);  // not a round: calling every loop turn is safe
    CHECK(policy->Release(1000).empty());
    CHECK(policy->DummiesFor(0) == 10);  // an empty round
    for (PacketHandle h = 0; h < 12; ++h) policy->Add(h, 1500);
    const auto batch = policy->Release(2000);
    REQUIRE(batch.size() == 12);
    CHECK(policy->DummiesFor(batch.size()) == 0);
    CHECK(policy->DummiesFor(3) == 7);
    CHECK(policy->Release(2001).empty());
    CHECK(policy->DummiesFor(0) == 0);
  }

  SECTION("pool: likewise, counting only the packets that left") {
    auto policy = MakePolicy(Pool(1000, 0.5, 2, 10), rng);
    CHECK(policy->Release(1000).empty());
    CHECK(policy->DummiesFor(0) == 10);
    for (PacketHandle h = 0; h < 8; ++h) policy->Add(h, 1500);
    const auto batch = policy->Release(2000);
    REQUIRE(batch.size() == 4);
    CHECK(policy->DummiesFor(batch.size()) == 6);
    CHECK(policy->Release(2500).empty());
    CHECK(policy->DummiesFor(0) == 0);
  }

  SECTION("continuous: never (cover traffic hides the rate)") {
    auto policy = MakePolicy(Continuous(1000, 10), rng);
    policy->Add(1, 0, 5);
    CHECK(policy->Release(5).size() == 1);
    CHECK(policy->DummiesFor(1) == 0);
    CHECK(policy->DummiesFor(0) == 0);
  }

  SECTION("min_batch 0 means no padding") {
    for (const auto& config : {Threshold(4, 10), Timed(10), Pool(10, 0.5, 0)}) {
      auto policy = MakePolicy(config, rng);
      policy->Add(1, 0);
      CHECK(policy->Release(10).size() == 1);
      CHECK(policy->DummiesFor(1) == 0);
    }
  }
}

// Every packet leaves exactly once, never before it arrived, within the policy's latency bound;
// driven by an irregular arrival process the way the daemon and the simulator drive it.
TEST_CASE("every policy releases every packet exactly once, in time", "[mixnode][policy]") {
  struct Case {
    PolicyConfig config;
    TimeUs max_latency;  // < 0: unbounded (pool)
  };
  const std::vector<Case> cases = {
      {Threshold(8, 5000), 5000},
      {Timed(3000), 3000},
      {Pool(3000, 0.4, 0), -1},  // min_keep 0, or the last packets would wait for company
      {Continuous(2000), -1},    // checked separately: requested delays are exact
  };
  for (const auto& tc : cases) {
    DYNAMIC_SECTION(tc.config.Describe()) {
      auto rng = DeterministicRng::FromByte(19);
      auto arrivals = DeterministicRng::FromByte(20);
      auto policy = MakePolicy(tc.config, rng);
      const std::size_t n = 5000;
      std::vector<TimeUs> added(n), released(n, -1), requested(n, 0);
      TimeUs now = 0;
      std::size_t next = 0, out = 0;
      for (std::size_t steps = 0; out < n && steps < 20 * n; ++steps) {
        const auto wake = policy->NextWakeup();
        const TimeUs arrival =
            next < n ? now + static_cast<TimeUs>(sotto::UniformBelow(arrivals, 1500)) : -1;
        if (next < n && (!wake || arrival < *wake)) {
          now = arrival;
          // Every third packet asks for its own delay (only the continuous policy uses it).
          requested[next] =
              next % 3 == 0 ? static_cast<TimeUs>(1 + sotto::UniformBelow(arrivals, 4000)) : 0;
          added[next] = now;
          policy->Add(next, now, requested[next]);
          ++next;
          continue;
        }
        REQUIRE(wake.has_value());
        now = std::max(now, *wake);
        const auto batch = policy->Release(now);
        if (tc.config.kind == PolicyKind::kThresholdTimeout) {
          CHECK(!batch.empty());
          CHECK(batch.size() <= tc.config.threshold);
        }
        for (auto h : batch) {
          REQUIRE(h < next);
          REQUIRE(released[h] == -1);  // not released twice
          released[h] = now;
          ++out;
        }
      }
      REQUIRE(out == n);
      CHECK(policy->PoolSize() == 0);
      for (std::size_t i = 0; i < n; ++i) {
        REQUIRE(released[i] >= added[i]);
        if (tc.max_latency >= 0) REQUIRE(released[i] - added[i] <= tc.max_latency);
        if (tc.config.kind == PolicyKind::kContinuous && requested[i] > 0) {
          REQUIRE(released[i] - added[i] == requested[i]);
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Unlinkability of order: a batch's output order must not depend on its input order.

constexpr std::size_t kBatch = 16;
constexpr int kBatches = 2000;

// perm[output position] = input position, one per batch.
using Perm = std::array<std::size_t, kBatch>;

struct OrderStats {
  std::array<std::array<int, kBatch>, kBatch> at{};      // [input][output] position counts
  std::array<std::array<int, kBatch>, kBatch> before{};  // [a][b]: a left before b
  int first_in_first_out = 0;
  int batches = 0;

  void Add(const Perm& perm) {
    Perm out_of{};
    for (std::size_t o = 0; o < kBatch; ++o) out_of[perm[o]] = o;
    for (std::size_t i = 0; i < kBatch; ++i) {
      ++at[i][out_of[i]];
      for (std::size_t j = 0; j < kBatch; ++j) {
        if (out_of[i] < out_of[j]) ++before[i][j];
      }
    }
    if (perm[0] == 0) ++first_in_first_out;
    ++batches;
  }

  // Chi-square of the position matrix against uniform; (16 − 1)² degrees of freedom.
  double PositionChiSquare() const {
    std::vector<int> cells;
    for (const auto& row : at) cells.insert(cells.end(), row.begin(), row.end());
    return ChiSquare(cells, static_cast<double>(batches) / kBatch);
  }
  static double PositionCritical() { return ChiSquareCritical((kBatch - 1) * (kBatch - 1)); }

  // The largest deviation, in standard deviations, of P(a leaves before b) from 1/2 over all
  // pairs. Catches shuffles with fair positions but correlated order (e.g. a random rotation).
  double WorstPairDeviation() const {
    const double half = batches / 2.0, sd = std::sqrt(batches / 4.0);
    double worst = 0;
    for (std::size_t a = 0; a < kBatch; ++a) {
      for (std::size_t b = a + 1; b < kBatch; ++b) {
        worst = std::max(worst, std::abs(before[a][b] - half) / sd);
      }
    }
    return worst;
  }

  double FirstInFirstOut() const { return static_cast<double>(first_in_first_out) / batches; }
};

TEST_CASE("the order statistics reject a FIFO and a rotating shuffle", "[mixnode][policy]") {
  auto rng = DeterministicRng::FromByte(21);
  OrderStats fifo, rotation, fair;
  for (int b = 0; b < kBatches; ++b) {
    Perm identity{}, rotated{};
    const std::size_t r = static_cast<std::size_t>(b) % kBatch;  // every offset equally often
    for (std::size_t o = 0; o < kBatch; ++o) {
      identity[o] = o;
      rotated[o] = (o + r) % kBatch;
    }
    std::vector<std::size_t> shuffled(identity.begin(), identity.end());
    sotto::Shuffle(shuffled, rng);
    Perm p{};
    std::copy(shuffled.begin(), shuffled.end(), p.begin());
    fifo.Add(identity);
    rotation.Add(rotated);
    fair.Add(p);
  }
  // FIFO fails every check.
  CHECK(fifo.PositionChiSquare() > OrderStats::PositionCritical());
  CHECK(fifo.WorstPairDeviation() > 5.0);
  CHECK(fifo.FirstInFirstOut() == 1.0);
  // Rotating by every offset equally often puts each packet in every position equally often, so
  // the position test cannot see it (its statistic is exactly 0) — but neighbours stay
  // neighbours, which the pair test does see.
  CHECK(rotation.PositionChiSquare() == 0.0);
  CHECK(rotation.WorstPairDeviation() > 5.0);
  // Fisher–Yates passes both.
  CHECK(fair.PositionChiSquare() < OrderStats::PositionCritical());
  CHECK(fair.WorstPairDeviation() < 5.0);
}

TEST_CASE("every policy's output order is independent of input order", "[mixnode][policy]") {
  struct Case {
    PolicyConfig config;
    TimeUs requested_delay_us;  // continuous: equal delays make the whole batch due at once
  };
  const std::vector<Case> cases = {
      {Threshold(kBatch, 1'000'000), 0},
      {Timed(1000), 0},
      {Pool(1000, 0.0, 0), 0},
      {Pool(1000, 0.5, 0), 0},  // several rounds per batch: a random subset leaves each time
      {Continuous(1000), 500},  // all due together: shuffled
      {Continuous(1000), 0},    // exponential delays: order by i.i.d. delays (ties shuffled)
  };
  std::uint8_t seed = 30;
  for (const auto& tc : cases) {
    ++seed;
    DYNAMIC_SECTION(tc.config.Describe() << " requested_delay=" << tc.requested_delay_us) {
      auto rng = DeterministicRng::FromByte(seed);
      auto policy = MakePolicy(tc.config, rng);
      OrderStats stats;
      TimeUs now = 0;
      for (int b = 0; b < kBatches; ++b) {
        const PacketHandle first = static_cast<PacketHandle>(b) * kBatch;
        const auto out = RunBatch(*policy, now, first, kBatch, tc.requested_delay_us);
        Perm perm{};
        for (std::size_t o = 0; o < kBatch; ++o) {
          REQUIRE(out[o] >= first);
          REQUIRE(out[o] < first + kBatch);
          perm[o] = static_cast<std::size_t>(out[o] - first);
        }
        stats.Add(perm);
      }
      CHECK(stats.PositionChiSquare() < OrderStats::PositionCritical());
      CHECK(stats.WorstPairDeviation() < 5.0);
      // The first packet in is the first out with probability 1/16 (sd ≈ 0.0054).
      CHECK(stats.FirstInFirstOut() == Approx(1.0 / kBatch).margin(0.02));
    }
  }
}

}  // namespace
