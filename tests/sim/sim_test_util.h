// Helpers shared by the sotto-sim tests: run a scenario written as INI text and keep what it
// measured, every message included.
#pragma once

#include <catch2/catch.hpp>
#include <cmath>
#include <string>
#include <string_view>
#include <vector>

#include "sotto/sim/scenario.h"
#include "sotto/sim/simulator.h"

namespace sotto::sim::testing {

struct Run {
  Results results;
  std::vector<MessageRecord> messages;
  std::string jsonl;  // the messages as sotto-sim --messages writes them
};

inline Scenario MustParse(std::string_view ini) {
  auto scenario = ParseScenario(ini, "test.ini");
  INFO(scenario.status().message());
  REQUIRE(scenario.ok());
  return *scenario;
}

inline Run Simulate(const Scenario& scenario, std::uint64_t repetition = 0) {
  Run run;
  RunOptions options;
  options.repetition = repetition;
  options.on_message = [&](const MessageRecord& m) {
    run.messages.push_back(m);
    run.jsonl += MessageJsonLine(m);
    run.jsonl += '\n';
  };
  auto results = RunScenario(scenario, options);
  INFO(results.status().message());
  REQUIRE(results.ok());
  run.results = *results;
  return run;
}

inline Run Simulate(std::string_view ini, std::uint64_t repetition = 0) {
  return Simulate(MustParse(ini), repetition);
}

}  // namespace sotto::sim::testing
