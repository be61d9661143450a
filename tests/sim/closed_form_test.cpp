// sotto-sim against the closed forms of the anonymity literature: single threshold, timed,
// pool and continuous-time mixes, each driven by mixnode's real policy. The setups are chosen so
// that the formula applies exactly (evenly staggered periodic senders: every round holds the
// number of distinct senders the formula assumes) or, for Poisson traffic, with a tolerance
// derived from the number of samples.
#include <cmath>
#include <string>

#include "sim_test_util.h"
#include "sotto/sim/distribution.h"

namespace {

using sotto::sim::testing::Simulate;

// The whole entropy distribution of a run sits at `bits` (to `tolerance`).
void RequireAllAt(const sotto::sim::EntropyStats& e, double bits, double tolerance) {
  INFO("mean " << e.mean << " min " << e.min << " max " << e.max << ", expected " << bits);
  REQUIRE(e.packets > 1000);
  CHECK(std::abs(e.mean - bits) < tolerance);
  CHECK(std::abs(e.min - bits) < tolerance);
  CHECK(std::abs(e.max - bits) < tolerance);
}

// Binary entropy in bits.
double H2(double a) { return -a * std::log2(a) - (1 - a) * std::log2(1 - a); }

}  // namespace

// Threshold mix, batch n: every output is equally likely to be each of the n inputs, so
// H = log2 n (Serjantov & Danezis, "Towards an Information Theoretic Metric for Anonymity",
// PET 2002, §3; Díaz, Seys, Claessens & Preneel, PET 2002). n = 100 → 6.6439 bits. 100 clients
// each send once a second, evenly staggered, without cover: any 100 consecutive arrivals are the
// 100 different clients, so every batch has exactly 100 distinct senders and the result is exact.
TEST_CASE("threshold mix of n = 100 gives H = log2 100 = 6.6439 bits exactly", "[sim]") {
  const auto run = Simulate(R"(
    duration_s = 120
    burn_in_s = 10
    clients = 100
    topology = cascade
    layers = 1
    policy = threshold-timeout
    batch_size = 100
    timeout_ms = 10000
    real_rate_per_s = 1
    arrivals = periodic
  )");
  RequireAllAt(run.results.entropy, std::log2(100.0), 1e-9);
  CHECK(std::abs(run.results.entropy.mean - 6.6439) < 5e-5);
  CHECK(std::abs(run.results.entropy.effective_set_mean - 100) < 1e-6);
  CHECK(std::abs(run.results.entropy.normalized_mean - 1) < 1e-9);  // 100 of 100 clients
  for (const auto& m : run.messages) REQUIRE(std::abs(m.entropy_bits - std::log2(100.0)) < 1e-9);
}

// Continuous-time (exponential) mix with Poisson arrivals at rate λ and mean delay 1/μ: an output
// is input j with probability ∝ μ·e^(−μ·age_j); for λ/μ large the entropy tends to
// log2(e·λ/μ) bits (Danezis, "The Traffic Analysis of Continuous-Time Mixes", PET 2004, §4).
// 100,000 clients send at λ/100,000 each, so a sender essentially never repeats within the mix's
// memory (sender = arrival, as the formula assumes). Tolerances: 0.05 bits for λ/μ = 100 and 20
// (the issue's requirement; the runs give 200k and 40k packets, standard error < 0.01); 0.1 for
// λ/μ = 5, where the formula is only asymptotic and per-packet spread is 0.5 bits.
TEST_CASE("continuous-time mix: H ≈ log2(e·λ/μ) (Danezis 2004)", "[sim]") {
  struct Case {
    double lambda_over_mu;
    double duration_s;
    double tolerance;
  };
  const Case cases[] = {{100, 2000, 0.05}, {20, 2000, 0.05}, {5, 5000, 0.1}};
  for (const Case& c : cases) {
    // λ = c.lambda_over_mu packets/s over 100,000 clients; 1/μ = 1 s.
    const double per_client = c.lambda_over_mu / 100000;
    const auto run = Simulate("duration_s = " + std::to_string(c.duration_s) +
                              "\nburn_in_s = 30\nclients = 100000\ntopology = cascade\nlayers = 1\n"
                              "policy = continuous\nmean_delay_ms = 1000\nreal_rate_per_s = " +
                              std::to_string(per_client) + "\n");
    const double expected = std::log2(std::exp(1.0) * c.lambda_over_mu);
    INFO("λ/μ = " << c.lambda_over_mu << ": H = " << run.results.entropy.mean << ", expected "
                  << expected);
    CHECK(std::abs(run.results.entropy.mean - expected) < c.tolerance);
    if (c.lambda_over_mu == 100) CHECK(std::abs(expected - 8.087) < 5e-4);
  }
}

// Timed mix: a round's outputs are uniform over the round's inputs, H = log2 K for a round of K
// packets (Serjantov, Dingledine & Syverson, "From a Trickle to a Flood", IH 2002, §4). 50
// clients once a second, evenly staggered, period 1 s: every round has the 50 clients exactly.
TEST_CASE("timed mix: H = log2 (packets in the round), exactly", "[sim]") {
  const auto run = Simulate(R"(
    duration_s = 200
    burn_in_s = 5
    clients = 50
    topology = cascade
    layers = 1
    policy = timed
    period_ms = 1000
    real_rate_per_s = 1
    arrivals = periodic
  )");
  RequireAllAt(run.results.entropy, std::log2(50.0), 1e-9);
}

// The same timed mix under Poisson traffic: a round holds K ~ Poisson(λT) packets, and a packet
// sits in a round of K with probability ∝ K, i.e. K = 1 + Poisson(λT) from its point of view,
// so the mean over packets is E[log2(1 + Poisson(λT))] (λT = 20 here). 3,000 rounds: the
// standard error of the mean is about 0.006 bits; tolerance 0.03 (5 standard errors).
TEST_CASE("timed mix under Poisson traffic: mean H = E[log2(1 + Poisson(λT))]", "[sim]") {
  const auto run = Simulate(R"(
    duration_s = 310
    burn_in_s = 10
    clients = 100000
    topology = cascade
    layers = 1
    policy = timed
    period_ms = 100
    real_rate_per_s = 0.002
  )");
  const double mean_k = 20;  // λT = 100,000 · 0.002/s · 0.1 s
  double expected = 0, pk = std::exp(-mean_k);
  for (int k = 0; k < 200; ++k) {
    expected += pk * std::log2(1.0 + k);
    pk *= mean_k / (k + 1);
  }
  INFO("H = " << run.results.entropy.mean << ", expected " << expected);
  CHECK(std::abs(run.results.entropy.mean - expected) < 0.03);
}

// Timed dynamic pool mix keeping n packets, N new ones each round: the pool's mixture obeys
// M_r = (n·M_{r−1} + Σ new)/(N + n), so with a = N/(N + n) and new senders always distinct,
//   H_r = h2(a) + a·log2 N + (1 − a)·H_{r−1},
// whose fixed point is Serjantov & Danezis's pool-mix entropy (PET 2002, §4.2):
//   H∞ = (1 + n/N)·log2(N + n) − (n/N)·log2 n.
// Setup: 5,000 clients each sending every 50 s, evenly staggered: exactly N = 100 arrivals per
// 1 s round, and a sender returns only after 50 rounds, when its old weight (< 10⁻¹⁵) is gone.
// ε = 10⁻¹⁵ keeps the pruning error far below the 10⁻⁶ tolerance. Two pools: min_keep = 50
// (n fixed), and keep_fraction = 0.5, whose kept count we follow with the same integer rule as
// the policy (floor(f · pool)).
TEST_CASE("pool mix: entropy converges to the Serjantov–Danezis fixed point", "[sim]") {
  struct Case {
    const char* keys;
    double keep_fraction;
    std::size_t min_keep;
  };
  const Case cases[] = {{"pool_min_keep = 50\n", 0.0, 50}, {"pool_keep_fraction = 0.5\n", 0.5, 0}};
  for (const Case& c : cases) {
    const auto run = Simulate(std::string(R"(
      duration_s = 300
      burn_in_s = 100
      clients = 5000
      topology = cascade
      layers = 1
      policy = pool
      period_ms = 1000
      real_rate_per_s = 0.02
      arrivals = periodic
      entropy_epsilon = 1e-15
    )") + c.keys);
    // The recursion, with the pool's integer keep rule, run to its fixed point.
    const double N = 100;
    double h = 0, kept = 0;
    for (int round = 0; round < 2000; ++round) {
      const double pool = N + kept;
      const double a = N / pool;
      h = (kept == 0 ? 0.0 : H2(a)) + a * std::log2(N) + (1 - a) * h;
      kept = std::min(
          pool, std::max(static_cast<double>(c.min_keep), std::floor(c.keep_fraction * pool)));
    }
    INFO(c.keys << "fixed point " << h << " with " << kept << " kept");
    RequireAllAt(run.results.entropy, h, 1e-6);
    if (c.min_keep == 50) {  // the closed form, n = 50, N = 100: 8.0213 bits
      const double closed = 1.5 * std::log2(150.0) - 0.5 * std::log2(50.0);
      CHECK(std::abs(h - closed) < 1e-9);
    }
  }
}

// Re-mixing across two honest layers. The providers mix too (provider_policy = same: timed,
// period 1 s, as sotto-mixnode's providers do), then one timed mix with the same period; link
// latency 1 ms, so the mix's round at t = j + 1 s holds exactly the four providers' rounds
// released at j s. 100 clients once a second, evenly staggered, client c at provider c mod 4:
// every provider round holds its 25 clients (H = log2 25 = 4.644 bits after the first layer),
// and the mix merges four whole rounds of disjoint senders with equal weight, so the mixture is
// uniform over all 100: H = log2(4 · 25) = log2 100 = 6.6439 bits, exactly (Serjantov & Danezis
// 2002's entropy of a uniform distribution; the merge is the mixture rule of sim/README.md).
// Passing distributions through the second layer unchanged would leave 4.644 bits.
TEST_CASE("two timed layers: the second merges whole first-layer rounds, H = log2 100", "[sim]") {
  const auto run = Simulate(R"(
    duration_s = 30
    burn_in_s = 5
    clients = 100
    providers = 4
    provider_policy = same
    topology = cascade
    layers = 1
    policy = timed
    period_ms = 1000
    link_latency_ms = 1
    real_rate_per_s = 1
    arrivals = periodic
  )");
  RequireAllAt(run.results.entropy, std::log2(100.0), 1e-9);
}

// Padded rounds with node dummies. As above, but 10 clients over 4 providers (3, 3, 2 and 2
// clients) and min_batch = 10: every provider round is padded to 10 packets with dummies that
// carry the provider's mixture (uniform over its own clients; the observer cannot tell them from
// real packets). The mix then merges 4 × 10 packets, each provider's with weight 1/4, so a
// sender at a 3-client provider has probability 1/12 and one at a 2-client provider 1/8:
//   H = 6 · (1/12)·log2 12 + 4 · (1/8)·log2 8 = 2 + (2·log2 3 + 2)/4 = 3.2925 bits,
// below log2 10 = 3.3219, the value without padding (weights 3/10, 3/10, 2/10, 2/10). This pins
// the model's choice that node dummies weigh like real packets in later mixtures. Providers pad
// only with provider_dummies = true; sotto-mixnode's providers never pad (mix_release.cpp), which
// is the default: then the providers send their 3, 3, 2 and 2 packets alone and H = log2 10.
TEST_CASE("padded provider rounds: dummies weigh like packets, H = 2 + (2·log2 3 + 2)/4", "[sim]") {
  const std::string keys = R"(
    duration_s = 160
    burn_in_s = 10
    clients = 10
    providers = 4
    provider_policy = same
    topology = cascade
    layers = 1
    policy = timed
    period_ms = 1000
    link_latency_ms = 1
    real_rate_per_s = 1
    arrivals = periodic
  )";
  const auto padded = Simulate(keys + "min_batch = 10\nprovider_dummies = true\n");
  const double expected = 2 + (2 * std::log2(3.0) + 2) / 4;
  CHECK(std::abs(expected - 3.2925) < 5e-5);
  RequireAllAt(padded.results.entropy, expected, 1e-9);
  // 10 real packets and 30 provider dummies per second (the mix's rounds of 40 need none).
  CHECK(padded.results.node_dummies == 3 * padded.results.real_packets_sent);
  const auto unpadded = Simulate(keys);
  RequireAllAt(unpadded.results.entropy, std::log2(10.0), 1e-9);
  // As sotto-mixnode: min_batch pads the mix's rounds (which already hold 10), not the providers'.
  const auto daemon = Simulate(keys + "min_batch = 10\n");
  CHECK(daemon.results.node_dummies == 0);
  RequireAllAt(daemon.results.entropy, std::log2(10.0), 1e-9);
}

// The pruning bound (sim/include/sotto/sim/distribution.h): at the largest entropy_epsilon a
// scenario accepts, PruningTailBudget(clients), every closed form above still holds to within
// kPruningBiasBits = 0.01 bits, and never below (pruning can only raise the entropy). The setups
// are chosen so that pruning has work to do: batches of 5000 senders put every entry at
// 2·10⁻⁴, below ε = 4.0·10⁻⁴ (so the budget, not ε, decides what is pruned); the pool re-prunes
// its carry every round and the continuous mix at every departure, the two cases whose bias
// once reached 0.4–0.6 bits at ε = 10⁻³. A value just above the limit is refused.
TEST_CASE("at the largest accepted entropy_epsilon the closed forms hold within 0.01 bits",
          "[sim]") {
  using sotto::sim::kPruningBiasBits;
  using sotto::sim::PruningTailBudget;
  const auto at_limit = [](std::string ini) {
    sotto::sim::Scenario s = sotto::sim::testing::MustParse(ini);
    s.entropy_epsilon = PruningTailBudget(s.clients);
    REQUIRE(s.Validate().ok());
    return s;
  };
  // Within [exact, exact + 0.01] for every packet.
  const auto require_within = [](const sotto::sim::EntropyStats& e, double exact) {
    INFO("mean " << e.mean << " min " << e.min << " max " << e.max << ", exact " << exact);
    REQUIRE(e.packets > 1000);
    CHECK(e.min >= exact - 1e-9);
    CHECK(e.max <= exact + kPruningBiasBits);
  };
  const std::string batch = R"(
    duration_s = 30
    burn_in_s = 5
    clients = 5000
    topology = cascade
    layers = 1
    real_rate_per_s = 1
    arrivals = periodic
  )";
  SECTION("threshold mix, n = 5000: log2 5000") {
    const auto run = Simulate(at_limit(batch + "batch_size = 5000\ntimeout_ms = 100000\n"));
    require_within(run.results.entropy, std::log2(5000.0));
  }
  SECTION("timed mix, 5000 per round: log2 5000") {
    const auto run = Simulate(at_limit(batch + "policy = timed\nperiod_ms = 1000\n"));
    require_within(run.results.entropy, std::log2(5000.0));
  }
  SECTION("pool mix keeping 50 of 150: the Serjantov–Danezis fixed point") {
    const auto run = Simulate(at_limit(R"(
      duration_s = 300
      burn_in_s = 100
      clients = 5000
      topology = cascade
      layers = 1
      policy = pool
      period_ms = 1000
      real_rate_per_s = 0.02
      arrivals = periodic
      pool_min_keep = 50
    )"));
    require_within(run.results.entropy, 1.5 * std::log2(150.0) - 0.5 * std::log2(50.0));
  }
  SECTION("continuous mix, λ/μ = 20: against the exact run, and log2(e·λ/μ)") {
    const std::string ini = R"(
      duration_s = 1000
      burn_in_s = 30
      clients = 100000
      topology = cascade
      layers = 1
      policy = continuous
      mean_delay_ms = 1000
      real_rate_per_s = 0.0002
    )";
    const auto pruned = Simulate(at_limit(ini));
    sotto::sim::Scenario exact_scenario = sotto::sim::testing::MustParse(ini);
    exact_scenario.entropy_epsilon = 0;
    const auto exact = Simulate(exact_scenario);
    // Pruning changes no event: the same messages, each within [exact, exact + 0.01].
    REQUIRE(pruned.messages.size() == exact.messages.size());
    REQUIRE(pruned.messages.size() > 10000);
    double worst = 0, lowest = 0;
    for (std::size_t i = 0; i < exact.messages.size(); ++i) {
      REQUIRE(pruned.messages[i].id == exact.messages[i].id);
      const double d = pruned.messages[i].entropy_bits - exact.messages[i].entropy_bits;
      worst = std::max(worst, d);
      lowest = std::min(lowest, d);
    }
    INFO("pruning error per message: " << lowest << " to " << worst);
    CHECK(lowest >= -1e-9);
    CHECK(worst <= kPruningBiasBits);
    CHECK(std::abs(pruned.results.entropy.mean - std::log2(std::exp(1.0) * 20)) < 0.05);
  }
  SECTION("just above the limit is refused, naming the limit") {
    sotto::sim::Scenario s = sotto::sim::testing::MustParse(batch);
    s.entropy_epsilon = PruningTailBudget(s.clients) * 1.001;
    const sotto::Status st = s.Validate();
    INFO(st.message());
    REQUIRE_FALSE(st.ok());
    CHECK(st.message().find("entropy_epsilon = ") == 0);
    CHECK(st.message().find("clients = 5000") != std::string::npos);
    CHECK(st.message().find("at most 0.000399") != std::string::npos);
    CHECK(st.message().find('\n') == std::string::npos);
    // 10⁻³, the value that once inflated the pool and continuous forms, in a scenario file.
    const auto parsed = sotto::sim::ParseScenario(batch + "entropy_epsilon = 0.001\n", "e.ini");
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.status().message().find("e.ini:9: entropy_epsilon = 0.001 is above") == 0);
  }
}
