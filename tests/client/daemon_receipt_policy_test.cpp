// When a delivery receipt may leave (client_lib/src/receipt_policy.h, client-spec §4.2):
// d/2 + Exp(mean d/2) after the message was stored, with an injected RNG and clock.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "receipt_policy.h"
#include "sotto/core/random.h"

namespace sotto::client {
namespace {

TEST_CASE("receipt policy: delays are d/2 + Exp(d/2): never sooner than d/2, d on average",
          "[client][receipts]") {
  auto rng = DeterministicRng::FromByte(5);
  ReceiptPolicy p(Settings{ReceiptMode::kOn, 900}, rng);
  REQUIRE(p.enabled());
  const std::int64_t now = 1'700'000'000'000;
  std::vector<double> extra;  // seconds beyond the minimum
  double sum = 0;
  for (int i = 0; i < 20000; ++i) {
    const auto due = p.DueAt(now);
    REQUIRE(due - now >= 450'000);
    sum += static_cast<double>(due - now) / 1000;
    extra.push_back(static_cast<double>(due - now - 450'000) / 1000);
  }
  const double mean = sum / 20000;
  INFO("mean delay " << mean << " s");
  CHECK(std::abs(mean - 900) < 900 * 0.03);  // ± 3% (the sd of the mean is 0.7%)
  // The part beyond d/2 is exponential with mean d/2: one-sample KS below the α = 0.01 value.
  std::sort(extra.begin(), extra.end());
  double d = 0;
  for (std::size_t i = 0; i < extra.size(); ++i) {
    const double f = 1 - std::exp(-extra[i] / 450.0);
    const double n = static_cast<double>(extra.size());
    d = std::max({d, std::abs(f - static_cast<double>(i) / n),
                  std::abs(static_cast<double>(i + 1) / n - f)});
  }
  INFO("KS D = " << d);
  CHECK(d < 1.63 / std::sqrt(static_cast<double>(extra.size())));
  // About 2.2% (1 - e^(-10/450)) leave within 10 s of the minimum; none before it.
  const auto soon = std::count_if(extra.begin(), extra.end(), [](double x) { return x < 10; });
  CHECK(static_cast<double>(soon) / 20000 < 0.03);
}

TEST_CASE("receipt policy: joining a waiting receipt, off, other delays", "[client][receipts]") {
  auto rng = DeterministicRng::FromByte(6);
  ReceiptPolicy p(Settings{ReceiptMode::kOn, 10}, rng);
  CHECK(p.MinDelayMs() == 5000);
  const std::int64_t now = 1000;
  CHECK(p.MayJoin(now + 5000, now));
  CHECK_FALSE(p.MayJoin(now + 4999, now));
  const auto due = p.DueAt(now);
  CHECK(due >= now + 5000);
  CHECK(due <= now + 5000 + static_cast<std::int64_t>(ReceiptPolicy::kMaxMeans * 5000));
  p.Update(Settings{ReceiptMode::kOff, 10});
  CHECK_FALSE(p.enabled());
  // The same draws from the same seed: the policy is reproducible.
  auto r1 = DeterministicRng::FromByte(7), r2 = DeterministicRng::FromByte(7);
  ReceiptPolicy a(Settings{}, r1), b(Settings{}, r2);
  for (int i = 0; i < 10; ++i) CHECK(a.DueAt(0) == b.DueAt(0));
}

}  // namespace
}  // namespace sotto::client
