// sotto-sim with corrupt mixes: a corrupt mix reveals its input→output mapping, so the global
// passive observer's belief passes through it unchanged (Díaz, Seys, Claessens & Preneel,
// "Towards Measuring Anonymity", PET 2002, §5: the anonymity a route gives is that of its honest
// mixes). Hence: an all-corrupt cascade gives H = 0; one honest threshold mix among corrupt ones
// gives that mix's log2 n; a corrupt layer of a stratified network is as good as absent.
#include <cmath>
#include <string>
#include <vector>

#include "sim_test_util.h"

namespace {

using sotto::sim::testing::MustParse;
using sotto::sim::testing::Simulate;
using namespace sotto::sim;

// 1000 clients once a second, evenly staggered (one packet per millisecond, any 1000
// consecutive ones from different clients), through a cascade of three threshold mixes, n = 100.
const std::string kCascade = R"(
  duration_s = 60
  burn_in_s = 5
  clients = 1000
  topology = cascade
  layers = 3
  policy = threshold-timeout
  batch_size = 100
  timeout_ms = 100000
  real_rate_per_s = 1
  arrivals = periodic
)";

}  // namespace

TEST_CASE("a cascade of corrupt mixes gives no anonymity: H = 0", "[sim]") {
  const auto run = Simulate(kCascade + "corrupt_mix_probability = 1\n");
  REQUIRE(run.results.entropy.packets > 10000);
  CHECK(run.results.entropy.max == 0.0);
  CHECK(run.results.entropy.effective_set_mean == 1.0);
}

// The honest middle mix receives whole batches of 100 distinct senders from the corrupt first
// mix (which still batches and shuffles, but tells the adversary how), so H = log2 100 exactly.
TEST_CASE("one honest threshold mix among corrupt ones gives H = log2 n", "[sim]") {
  for (const char* honest :
       {"corrupt_layers = 1,3\n", "corrupt_layers = 2,3\n", "corrupt_layers = 1,2\n"}) {
    INFO(honest);
    const auto run = Simulate(kCascade + honest);
    REQUIRE(run.results.entropy.packets > 10000);
    CHECK(std::abs(run.results.entropy.min - std::log2(100.0)) < 1e-9);
    CHECK(std::abs(run.results.entropy.max - std::log2(100.0)) < 1e-9);
  }
}

// Stratified, 4 timed mixes per layer (period 1 s, links of 10 ms so a round's output lands in
// the next layer's next round), 4000 Poisson clients at 0.1/s: about 100 packets per mix-round.
// One honest layer: a round's packets are uniform over its ~100 senders (≈ 6.6 bits); two honest
// layers mix the four first-layer rounds (≈ 8.6 bits). With either layer of the two corrupt the
// network is exactly as anonymous, in distribution, as one layer: the corrupt layer only delays
// packets by a round and splits them at random, and Binomial(Poisson(400), 1/4) = Poisson(100)
// is what a lone layer's mixes receive. 1,200 mix-rounds per run: standard error ≈ 0.005 bits;
// tolerance 0.03.
TEST_CASE("a corrupt layer of a stratified network is as good as absent", "[sim]") {
  const std::string base = R"(
    duration_s = 310
    burn_in_s = 10
    clients = 4000
    topology = stratified
    mixes_per_layer = 4
    policy = timed
    period_ms = 1000
    link_latency_ms = 10
    real_rate_per_s = 0.1
  )";
  const double one_layer = Simulate(base + "layers = 1\n").results.entropy.mean;
  const double two_honest = Simulate(base + "layers = 2\n").results.entropy.mean;
  const double first_corrupt =
      Simulate(base + "layers = 2\ncorrupt_layers = 1\n").results.entropy.mean;
  const double second_corrupt =
      Simulate(base + "layers = 2\ncorrupt_layers = 2\n").results.entropy.mean;
  INFO("one layer " << one_layer << ", two honest " << two_honest << ", first corrupt "
                    << first_corrupt << ", second corrupt " << second_corrupt);
  CHECK(std::abs(one_layer - std::log2(100.0)) < 0.1);  // a round of ~100, a few repeats
  CHECK(two_honest > one_layer + 1.5);                  // the control: a second layer counts
  CHECK(std::abs(first_corrupt - one_layer) < 0.03);
  CHECK(std::abs(second_corrupt - one_layer) < 0.03);
}

// corrupt_mix_probability: each mix corrupt independently with probability p, drawn per run from
// the run's seeded set-up stream, and reported (count and which) in Results, the CSV row, every
// message line and the summary.
namespace {

// A run too short to matter: only its adversary is looked at.
const std::string kTiny = R"(
  duration_s = 1
  burn_in_s = 0
  drain_s = 0
  clients = 20
  batch_size = 5
  timeout_ms = 100
  real_rate_per_s = 1
  track_entropy = false
)";

}  // namespace

TEST_CASE("corrupt_mix_probability 0 corrupts no mix and 1 every mix", "[sim]") {
  for (const char* topology : {"layers = 3\n",
                               "topology = stratified\nlayers = 4\n"
                               "mixes_per_layer = 5\n"}) {
    INFO(topology);
    for (std::uint64_t rep = 0; rep < 20; ++rep) {
      const auto none = Simulate(kTiny + topology + "corrupt_mix_probability = 0\n", rep);
      CHECK(none.results.corrupt_mixes.empty());
      const auto all = Simulate(kTiny + topology + "corrupt_mix_probability = 1\n", rep);
      CHECK(all.results.corrupt_mixes.size() == all.results.mixes);
    }
  }
  // With every mix corrupt the cascade's entropy is 0, with none it is the batch's (positive
  // control for the draws reaching the engine, not only the tally).
  const auto all = Simulate(kCascade + "corrupt_mix_probability = 1\n");
  CHECK(all.results.entropy.max == 0.0);
  const auto none = Simulate(kCascade + "corrupt_mix_probability = 0\n");
  CHECK(none.results.entropy.min == Approx(std::log2(100.0)));
}

// The issue's example: p = 0.25 of 3 mixes must corrupt some mixes in some runs (flooring to a
// count corrupted none). Over R = 400 independent runs the number of corrupt mixes must follow
// Binomial(3, 0.25): expected counts 168.75, 168.75, 56.25, 6.25 for 0..3 (all ≥ 5). Pearson's
// chi-square, 3 degrees of freedom, α = 0.001: critical value 16.27. Fixed seed, so the test is
// deterministic; a floor-to-count rule (always 0), a fixed count (always 1) or a draw shared by
// all mixes (0 or 3 only) give chi-square values in the hundreds. Each mix's own rate must also
// be p: 100 ± 26 of 400 (4.3 standard deviations of Binomial(400, 0.25)).
TEST_CASE("corrupt_mix_probability: the corrupt count follows Binomial(n, p)", "[sim]") {
  constexpr int kRuns = 400;
  const Scenario s = MustParse(kTiny + "layers = 3\ncorrupt_mix_probability = 0.25\nseed = 99\n");
  std::vector<int> by_count(4, 0), by_mix(3, 0);
  for (int rep = 0; rep < kRuns; ++rep) {
    RunOptions options;
    options.repetition = static_cast<std::uint64_t>(rep);
    const auto r = RunScenario(s, options);
    REQUIRE(r.ok());
    REQUIRE(r->mixes == 3);
    ++by_count[r->corrupt_mixes.size()];
    for (const MixName& m : r->corrupt_mixes) ++by_mix[m.layer - 1];
  }
  const double p[4] = {27.0 / 64, 27.0 / 64, 9.0 / 64, 1.0 / 64};
  double chi2 = 0;
  for (int k = 0; k < 4; ++k) {
    const double expected = kRuns * p[k];
    chi2 += (by_count[k] - expected) * (by_count[k] - expected) / expected;
  }
  INFO("counts 0..3: " << by_count[0] << " " << by_count[1] << " " << by_count[2] << " "
                       << by_count[3] << ", chi-square " << chi2);
  CHECK(chi2 < 16.27);
  for (int m = 0; m < 3; ++m) CHECK(std::abs(by_mix[m] - 100) <= 26);
  // Positive control: the old rule (floor(0.25 · 3) = 0 corrupt, every run) fails the statistic.
  double control = 0;
  for (int k = 0; k < 4; ++k) {
    const double observed = k == 0 ? kRuns : 0;
    control += (observed - kRuns * p[k]) * (observed - kRuns * p[k]) / (kRuns * p[k]);
  }
  CHECK(control > 16.27);
  // The same seed draws the same adversary: the results are reproducible.
  RunOptions seventh;
  seventh.repetition = 7;
  const auto a = RunScenario(s, seventh);
  const auto b = RunScenario(s, seventh);
  REQUIRE((a.ok() && b.ok()));
  CHECK(a->corrupt_mixes == b->corrupt_mixes);
}

TEST_CASE("the run says how many and which mixes are corrupt", "[sim]") {
  const std::string ini = kTiny + "layers = 3\ncorrupt_layers = 2\n";
  const auto run = Simulate(ini);
  REQUIRE(run.results.corrupt_mixes == std::vector<MixName>{{2, 0}});
  const std::string summary = FormatSummary(MustParse(ini), run.results);
  INFO(summary);
  CHECK(summary.find("adversary  1 of 3 mixes corrupt (layer:index 2:0); providers honest") !=
        std::string::npos);
  const std::string row = ResultsCsvRow(run.results);
  CHECK(row.substr(row.size() - 6) == ",1,2:0");
  CHECK(ResultsCsvHeader().ends_with(",corrupt_mixes,corrupt_mix_list"));
  REQUIRE_FALSE(run.messages.empty());
  CHECK(run.jsonl.find("\"corrupt_mixes\":\"2:0\"}") != std::string::npos);
  const auto honest = Simulate(kTiny);
  CHECK(FormatSummary(MustParse(kTiny), honest.results)
            .find("adversary  0 of 3 mixes corrupt; "
                  "providers honest") != std::string::npos);
}

TEST_CASE("corrupt_mix_fraction is refused with what to write instead", "[sim]") {
  const auto parsed = ParseScenario("clients = 10\ncorrupt_mix_fraction = 0.25\n", "old.ini");
  REQUIRE_FALSE(parsed.ok());
  const std::string& message = parsed.status().message();
  INFO(message);
  CHECK(message.find("old.ini:2: corrupt_mix_fraction was removed") == 0);
  CHECK(message.find("corrupt_mix_probability = P") != std::string::npos);
  CHECK(message.find('\n') == std::string::npos);
  Scenario s;
  const sotto::Status set = SetScenarioKey(s, "corrupt_mix_fraction", "0.5");
  CHECK(set.message().find("corrupt_mix_probability") != std::string::npos);
}
