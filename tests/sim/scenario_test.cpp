// Scenario files (sim/include/sotto/sim/scenario.h): every kind of bad input is a one-line
// InvalidArgument naming the file, the line, the key and what is allowed — never a crash, never a
// silent default — and a good scenario survives ToIni → ParseScenario unchanged.
#include "sotto/sim/scenario.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "sotto/sim/simulator.h"

namespace {

using sotto::Status;
using namespace sotto::sim;

// Parses `text` and requires an InvalidArgument on one line containing every one of `parts`.
void RequireRejected(const std::string& text, const std::vector<std::string>& parts) {
  const auto parsed = ParseScenario(text, "bad.ini");
  INFO("scenario:\n" << text);
  REQUIRE_FALSE(parsed.ok());
  const std::string& message = parsed.status().message();
  INFO("message: " << message);
  CHECK(parsed.status().code() == Status::Code::kInvalidArgument);
  CHECK(message.find('\n') == std::string::npos);
  for (const auto& part : parts) CHECK(message.find(part) != std::string::npos);
}

}  // namespace

TEST_CASE("scenario errors name the key, its line and the allowed range", "[sim]") {
  // Unknown key (a typo), with its line number.
  RequireRejected("clients = 10\n\n# comment\nbach_size = 3\n", {"bad.ini:4", "bach_size"});
  // Negative rate.
  RequireRejected("real_rate_per_s = -1\n",
                  {"bad.ini:1", "real_rate_per_s", "-1", "0 or a number in [1e-06, 1000000]"});
  // Zero batch.
  RequireRejected("seed = 3\nbatch_size = 0\n", {"bad.ini:2", "batch_size", "[1, 1000000]"});
  // Impossible topologies.
  RequireRejected("topology = stratified\nlayers = 0\n", {"bad.ini:2", "layers", "[1, 64]"});
  RequireRejected("topology = cascades\ncascades = 4\nmixes_per_layer = 2\n",
                  {"bad.ini:2", "cascades = 4", "mixes_per_layer = 2"});
  RequireRejected("topology = cascade\ncascades = 2\n", {"bad.ini:2", "cascades", "cascades"});
  RequireRejected("topology = ring\n",
                  {"topology", "ring", "cascade | cascades | stratified | free-route"});
  RequireRejected("topology = free-route\nlayers = 1\nmixes_per_layer = 1\npath_length = 3\n",
                  {"bad.ini:4", "path_length"});
  RequireRejected("layers = 2\ncorrupt_layers = 1,3\n", {"bad.ini:2", "corrupt_layers", "3"});
  // Values that are not numbers, or not finite, or not whole.
  RequireRejected("duration_s = abc\n", {"duration_s", "(0, 10000000]"});
  RequireRejected("duration_s = nan\n", {"duration_s"});
  RequireRejected("duration_s = 1e400\n", {"duration_s"});
  RequireRejected("clients = 2.5\n", {"clients", "whole number"});
  RequireRejected("clients =\n", {"clients"});
  RequireRejected("track_entropy = maybe\n", {"track_entropy", "true or false"});
  RequireRejected("pool_keep_fraction = 1\n", {"pool_keep_fraction"});
  RequireRejected("timeout_ms = 0\n", {"timeout_ms", "[0.001, 86400000]"});
  // Cross-key rules.
  RequireRejected("duration_s = 10\nburn_in_s = 10\n", {"bad.ini:2", "burn_in_s", "duration_s"});
  RequireRejected("clients = 5\nprovider = 2\n", {"bad.ini:2", "provider"});
  RequireRejected("clients = 5\nproviders = 6\n", {"providers = 6", "clients = 5"});
  RequireRejected("clients = 5\nsocial_graph = friends\nfriends = 5\n", {"friends = 5"});
  RequireRejected("real_rate_per_s = 2\npayload_rate_per_s = 1\n",
                  {"payload_rate_per_s", "real_rate_per_s"});
  // Not INI we accept.
  RequireRejected("clients = 5\nclients = 6\n", {"bad.ini:2", "clients", "twice", "line 1"});
  RequireRejected("[network]\nclients = 5\n", {"bad.ini:1", "section"});
  RequireRejected("clients 5\n", {"bad.ini:1", "key = value"});
}

TEST_CASE("a missing scenario file is a one-line error naming it", "[sim]") {
  const auto loaded = LoadScenario("/nonexistent/dir/scenario.ini");
  REQUIRE_FALSE(loaded.ok());
  CHECK(loaded.status().message().find("/nonexistent/dir/scenario.ini") != std::string::npos);
  CHECK(loaded.status().message().find('\n') == std::string::npos);
}

TEST_CASE("scenarios built in code are range-checked before a run", "[sim]") {
  Scenario s;
  s.clients = 0;  // out of range, set without SetScenarioKey
  auto r = RunScenario(s);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message().find("clients") != std::string::npos);
  s = Scenario();
  s.real_rate_per_s = -0.5;
  r = RunScenario(s);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message().find("real_rate_per_s") != std::string::npos);
  s = Scenario();
  CHECK(SetScenarioKey(s, "no_such_key", "1").message().find("no_such_key") != std::string::npos);
  CHECK_FALSE(SetScenarioKey(s, "layers", "65").ok());
  CHECK(SetScenarioKey(s, "layers", " 5 ").ok());
  CHECK(s.layers == 5);
}

TEST_CASE("a scenario survives ToIni and ParseScenario unchanged", "[sim]") {
  Scenario s;
  for (const auto& [key, value] :
       std::vector<std::pair<std::string, std::string>>{{"seed", "18446744073709551615"},
                                                        {"topology", "stratified"},
                                                        {"mixes_per_layer", "7"},
                                                        {"policy", "pool"},
                                                        {"pool_keep_fraction", "0.3"},
                                                        {"link_latency_ms", "0.125"},
                                                        {"real_rate_per_s", "0.1"},
                                                        {"payload_rate_per_s", "0.3"},
                                                        {"corrupt_layers", "3, 1"},
                                                        {"social_graph", "friends"},
                                                        {"track_entropy", "false"},
                                                        {"arrivals", "periodic"}}) {
    INFO(key << " = " << value);
    REQUIRE(SetScenarioKey(s, key, value).ok());
  }
  REQUIRE(s.Validate().ok());
  const auto again = ParseScenario(s.ToIni());
  INFO(again.status().message());
  REQUIRE(again.ok());
  CHECK(again->ToIni() == s.ToIni());
  CHECK(again->corrupt_layers == std::vector<std::uint32_t>{1, 3});
  CHECK(GetScenarioKey(*again, "pool_keep_fraction").value() == "0.3");
  CHECK(GetScenarioKey(*again, "seed").value() == "18446744073709551615");
  CHECK(ScenarioKeysHelp().find("entropy_epsilon") != std::string::npos);
  // Comments, blank lines, spaces and CRLF are fine.
  const auto crlf = ParseScenario("# a comment\r\n\r\n  clients   =  12  # twelve\r\n");
  INFO(crlf.status().message());
  REQUIRE(crlf.ok());
  CHECK(crlf->clients == 12);
}

TEST_CASE("a tiny rate is refused, the smallest allowed one runs", "[sim]") {
  // 1e-13 per second would put the next draw 1e19 µs away, beyond what a TimeUs holds.
  for (const char* key :
       {"real_rate_per_s", "payload_rate_per_s", "loop_rate_per_s", "drop_rate_per_s"}) {
    INFO(key);
    RequireRejected(std::string(key) + " = 1e-13\n", {"bad.ini:1", key, "1e-13", "[1e-06, "});
  }
  // 1e-6 per second (one event per 11.6 days on average): draws beyond the run never run.
  for (const char* arrivals : {"poisson", "periodic"}) {
    INFO(arrivals);
    Scenario s;
    REQUIRE(SetScenarioKey(s, "arrivals", arrivals).ok());
    REQUIRE(SetScenarioKey(s, "clients", "20").ok());
    REQUIRE(SetScenarioKey(s, "duration_s", "10").ok());
    REQUIRE(SetScenarioKey(s, "burn_in_s", "0").ok());
    REQUIRE(SetScenarioKey(s, "drain_s", "1e7").ok());
    REQUIRE(SetScenarioKey(s, "real_rate_per_s", "1e-6").ok());
    REQUIRE(SetScenarioKey(s, "payload_rate_per_s", "1e-6").ok());
    REQUIRE(SetScenarioKey(s, "loop_rate_per_s", "1e-6").ok());
    REQUIRE(SetScenarioKey(s, "drop_rate_per_s", "1e-6").ok());
    const auto r = RunScenario(s);
    INFO(r.status().message());
    REQUIRE(r.ok());
    CHECK(r->messages_delivered <= r->messages_sent);
    CHECK(r->simulated_s <= 10 + 1e7);
  }
}

TEST_CASE("scenarios too big to run are refused before they start", "[sim]") {
  // The friends table is bounded: clients × friends ≤ 1e8.
  RequireRejected("clients = 2000000\nsocial_graph = friends\nfriends = 100\n",
                  {"friends", "clients × friends", "100000000"});
  // Padding every 1 µs round with 10,000 dummies: 1e10 per simulated second.
  RequireRejected("policy = timed\nperiod_ms = 0.001\nmin_batch = 10000\n",
                  {"min_batch = 10000", "period_ms = 0.001", "dummies per simulated second"});
  RequireRejected("policy = threshold-timeout\ntimeout_ms = 0.001\nmin_batch = 10000\n",
                  {"min_batch = 10000", "timeout_ms = 0.001"});
  CHECK(ParseScenario("policy = timed\nperiod_ms = 1\nmin_batch = 10000\n").ok());

  // Entropy tracking in 6,400 continuous mixes of 10 million clients: hundreds of GiB.
  Scenario s;
  REQUIRE(SetScenarioKey(s, "clients", "10000000").ok());
  REQUIRE(SetScenarioKey(s, "topology", "stratified").ok());
  REQUIRE(SetScenarioKey(s, "layers", "64").ok());
  REQUIRE(SetScenarioKey(s, "mixes_per_layer", "100").ok());
  REQUIRE(SetScenarioKey(s, "policy", "continuous").ok());
  REQUIRE(s.Validate().ok());
  CHECK(EstimateRunBytes(s) > kMaxRunBytes);
  auto r = RunScenario(s);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message().find("GiB") != std::string::npos);
  CHECK(r.status().message().find("track_entropy") != std::string::npos);
  CHECK(r.status().message().find('\n') == std::string::npos);
  // The friends table counts too.
  Scenario f;
  REQUIRE(SetScenarioKey(f, "clients", "10000000").ok());
  REQUIRE(SetScenarioKey(f, "social_graph", "friends").ok());
  REQUIRE(SetScenarioKey(f, "friends", "10").ok());
  REQUIRE(SetScenarioKey(f, "track_entropy", "false").ok());
  CHECK(EstimateRunBytes(f) >= std::uint64_t{10'000'000} * 10 * 4);
}
