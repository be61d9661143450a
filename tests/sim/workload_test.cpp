// `sotto-sim workload` (sotto/sim/workload.h): the real messages a run creates, for the adversary
// harness. It must be exactly what `sotto-sim run` creates — the measured messages `run
// --messages` reports, with the same ids, senders, recipients and creation times — so that the
// testnet and the simulator can never be driven by different workloads.
#include "sotto/sim/workload.h"

#include <fmt/format.h>

#include <algorithm>
#include <regex>
#include <string>
#include <tuple>

#include "sim_test_util.h"

namespace {

using namespace sotto::sim;

Scenario TestnetCi() {
  auto s = LoadScenario(std::string(SOTTO_SIM_SCENARIOS_DIR) + "/testnet-ci.ini");
  INFO(s.status().message());
  REQUIRE(s.ok());
  return *s;
}

using Key = std::tuple<std::uint64_t, std::int64_t, std::uint32_t, std::uint32_t, std::uint32_t>;
Key KeyOf(const MessageRecord& m) { return {m.id, m.created_us, m.sender, m.recipient, m.packets}; }

// The workload's measured messages against run's --messages records, both as sorted keys.
void RequireSameMessages(const Scenario& s, std::uint64_t repetition) {
  const auto workload = BuildWorkload(s, repetition);
  REQUIRE(workload.ok());
  const auto run = testing::Simulate(s, repetition);
  REQUIRE(run.results.messages_delivered == run.results.messages_sent);  // all reported
  std::vector<Key> from_run, from_workload;
  for (const auto& m : run.messages) from_run.push_back(KeyOf(m));
  const auto from_us = static_cast<std::int64_t>(s.burn_in_s * 1e6);
  const auto until_us = static_cast<std::int64_t>(s.duration_s * 1e6);
  for (const auto& m : workload->messages) {
    if (m.created_us >= from_us && m.created_us < until_us) from_workload.push_back(KeyOf(m));
  }
  std::sort(from_run.begin(), from_run.end());
  std::sort(from_workload.begin(), from_workload.end());
  REQUIRE(from_run.size() > 10);
  CHECK(from_workload == from_run);
  // Ids are the creation order over the whole run, warm-up and drain included.
  for (std::size_t i = 0; i < workload->messages.size(); ++i) {
    REQUIRE(workload->messages[i].id == i);
    if (i > 0) REQUIRE(workload->messages[i].created_us >= workload->messages[i - 1].created_us);
  }
  CHECK(workload->messages.size() > from_workload.size());  // warm-up messages are in it too
  CHECK(ResultsCsvRow(workload->results) == ResultsCsvRow(run.results));
}

}  // namespace

TEST_CASE("the workload is exactly the messages run creates", "[sim][workload]") {
  const Scenario ci = TestnetCi();
  for (std::uint64_t rep : {0, 1, 5}) {
    INFO("repetition " << rep);
    RequireSameMessages(ci, rep);
  }
  // Whatever the scenario: stratified pool mixes with cover, several packets per message.
  Scenario busy = testing::MustParse(R"(
    seed = 7
    duration_s = 60
    burn_in_s = 10
    clients = 60
    providers = 3
    topology = stratified
    mixes_per_layer = 2
    policy = pool
    period_ms = 200
    pool_keep_fraction = 0.5
    provider_policy = same
    real_rate_per_s = 0.1
    payload_rate_per_s = 0.5
    message_packets = 2
  )");
  RequireSameMessages(busy, 0);
  // Neither entropy tracking nor observing changes the traffic: the workload does not depend on
  // what is measured.
  Scenario quiet = ci;
  quiet.track_entropy = false;
  const auto a = BuildWorkload(ci), b = BuildWorkload(quiet);
  REQUIRE((a.ok() && b.ok()));
  REQUIRE(a->messages.size() == b->messages.size());
  for (std::size_t i = 0; i < a->messages.size(); ++i) {
    REQUIRE(KeyOf(a->messages[i]) == KeyOf(b->messages[i]));
  }
  // A different seed is a different workload (the comparison above can fail).
  Scenario other = ci;
  other.seed = 2;
  const auto c = BuildWorkload(other);
  REQUIRE(c.ok());
  CHECK(
      (c->messages.size() != a->messages.size() || KeyOf(c->messages[0]) != KeyOf(a->messages[0])));
}

TEST_CASE("the workload's lines: a scenario header, then one object per message",
          "[sim][workload]") {
  const Scenario ci = TestnetCi();
  const auto w = BuildWorkload(ci);
  REQUIRE(w.ok());
  const std::string& h = w->header;
  INFO(h);
  CHECK(h.find("{\"scenario\":{\"workload_format\":1,\"seed\":1,") == 0);
  for (const char* part :
       {"\"clients\":8,", "\"providers\":2,", "\"batch_size\":4,", "\"timeout_ms\":500,",
        "\"min_batch\":4,", "\"provider_policy\":\"same\",", "\"provider_dummies\":false,",
        "\"duration_s\":180,", "\"burn_in_s\":20,", "\"client_provider\":[0,1,0,1,0,1,0,1],",
        "\"per_minute\":{\"payload\":120,\"loop\":30,\"drop\":30,\"real\":1.2,\"whole\":true}",
        "\"corrupt_layers\":[],", "\"measured\":{\"from_us\":20000000,\"until_us\":180000000}"}) {
    CHECK(h.find(part) != std::string::npos);
  }
  CHECK(h.find(fmt::format("\"messages\":{},", w->messages.size())) != std::string::npos);
  CHECK(h.find("\"friend_lists\":[[") != std::string::npos);
  CHECK(h.ends_with("}}"));
  const std::regex line(
      R"(\{"id":[0-9]+,"created_us":[0-9]+,"sender":[0-7],"recipient":[0-7],"packets":1\})");
  for (const auto& m : w->messages) {
    const std::string text = WorkloadMessageJson(m);
    REQUIRE(std::regex_match(text, line));
    REQUIRE(m.sender != m.recipient);
  }
}
