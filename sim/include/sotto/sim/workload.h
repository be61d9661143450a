// The workload of a scenario: every real message one run of it creates (who writes to whom, when),
// for the adversary harness, which drives real sotto clients with it so that the testnet and the
// simulator see the same traffic (`sotto-sim workload`).
//
// It is not a second model of the clients: BuildWorkload runs the scenario through RunScenario,
// the code path and random streams of `sotto-sim run`, and records each message as the engine
// writes it into its sender's queue. So the workload of repetition r is exactly the set of
// messages repetition r of `run` creates; those created in [burn_in_s, duration_s) and delivered
// are the ones `run --messages` reports, with the same ids, senders, recipients and times.
//
// Format (JSON Lines): a first line {"scenario":{...}} (workload_format, every scenario key with
// its value, the run's seed and adversary, clients' providers and friends, the rates per
// minute as sotto-directory takes them), then one line per message in creation order:
//   {"id":N,"created_us":T,"sender":I,"recipient":J,"packets":K}
// with times in µs from the simulation's start and clients as indices 0..clients-1.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sotto/core/status.h"
#include "sotto/sim/results.h"
#include "sotto/sim/scenario.h"
#include "sotto/sim/simulator.h"

namespace sotto::sim {

inline constexpr int kWorkloadFormat = 1;

struct Workload {
  std::string header;                   // the {"scenario":{...}} line, no newline
  std::vector<MessageRecord> messages;  // every message the run created, in creation order
  Results results;                      // what that run measured
};

// Runs repetition `repetition` of the scenario (validated like RunScenario) and returns its
// workload.
Result<Workload> BuildWorkload(const Scenario& scenario, std::uint64_t repetition = 0);

// One message line, no newline: {"id":N,"created_us":T,"sender":I,"recipient":J,"packets":K}.
std::string WorkloadMessageJson(const MessageRecord& message);

// The header line for a run with this layout and these results (BuildWorkload uses it).
std::string WorkloadHeaderJson(const Scenario& scenario, std::uint64_t repetition,
                               const Layout& layout, const Results& results,
                               std::uint64_t messages);

}  // namespace sotto::sim
