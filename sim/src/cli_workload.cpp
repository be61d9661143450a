// sotto-sim workload: the real messages one run of a scenario creates, as JSON Lines (workload.h),
// for the adversary harness to drive real clients with.
#include <fmt/format.h>

#include <iostream>

#include "cli.h"
#include "sotto/sim/workload.h"

namespace sotto::sim::cli {
namespace {

constexpr const char* kUsage =
    "usage: sotto-sim workload SCENARIO.ini [--seed N] [--set KEY=VALUE]... [--repetition R]\n"
    "                          [--out FILE.jsonl]\n"
    "\n"
    "Runs repetition R (default 0) of the scenario exactly as `sotto-sim run` does and prints\n"
    "every real message it creates, one JSON object per line (to stdout, or --out):\n"
    "  {\"scenario\":{...}}   first: every key, the run's seed, providers, friends, rates\n"
    "  {\"id\":N,\"created_us\":T,\"sender\":I,\"recipient\":J,\"packets\":K}   per message,\n"
    "times in microseconds from the start, clients as indices. The messages created in\n"
    "[burn_in_s, duration_s) are the measured ones `run --messages` reports.\n";

}  // namespace

int WorkloadCommand(int argc, char** argv) {
  CommonArgs args;
  CommonOptions which;
  which.repetition = true;
  std::string help;
  if (Status s = ParseCommon(argc, argv, 2, "workload", which, args, help); !s.ok()) {
    return Fail(s.message(), kExitUsage);
  }
  if (args.help) {
    std::cout << kUsage << "\n" << help;
    return 0;
  }
  Scenario scenario;
  if (auto code = LoadScenarioArgs(args, "workload", /*validate=*/true, scenario)) return *code;
  const std::uint64_t repetition = args.repetition.value_or(0);
  if (repetition >= scenario.repetitions) {
    return Fail(fmt::format("--repetition {} is not one of the scenario's repetitions 0..{} (set "
                            "repetitions = {} or more)",
                            repetition, scenario.repetitions - 1, repetition + 1),
                kExitUsage);
  }
  std::ofstream file;
  if (!args.out.empty()) {
    if (Status s = OpenOutput(args.out, file); !s.ok()) return Fail(s.message());
  }
  auto workload = BuildWorkload(scenario, repetition);
  if (!workload.ok()) return Fail(workload.status().message());
  std::ostream& out = file.is_open() ? static_cast<std::ostream&>(file) : std::cout;
  out << workload->header << "\n";
  for (const MessageRecord& m : workload->messages) out << WorkloadMessageJson(m) << "\n";
  if (!out.flush()) return Fail("writing the workload failed (disk full?)");
  if (file.is_open()) {
    std::cout << fmt::format("workload: {} messages of {} s ({} measured) in {}\n",
                             workload->messages.size(), workload->results.simulated_s,
                             workload->results.messages_sent, args.out);
  }
  return 0;
}

}  // namespace sotto::sim::cli
