// sotto-sim with corrupt mixes: a corrupt mix reveals its input→output mapping, so the global
// passive observer's belief passes through it unchanged (Díaz, Seys, Claessens & Preneel,
// "Towards Measuring Anonymity", PET 2002, §5: the anonymity a route gives is that of its honest
// mixes). Hence: an all-corrupt cascade gives H = 0; one honest threshold mix among corrupt ones
// gives that mix's log2 n; a corrupt layer of a stratified network is as good as absent.
#include <cmath>
#include <string>

#include "sim_test_util.h"

namespace {

using sotto::sim::testing::Simulate;

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
  const auto run = Simulate(kCascade + "corrupt_mix_fraction = 1\n");
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
  // The corrupt_mix_fraction route to the same adversary: 2 of 3 mixes (floor(0.67 · 3)).
  const auto run = Simulate(kCascade + "corrupt_mix_fraction = 0.67\n");
  CHECK(std::abs(run.results.entropy.mean - std::log2(100.0)) < 1e-9);
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
