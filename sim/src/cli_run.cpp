// sotto-sim run: one scenario, its repetitions in turn, a summary on stdout and optional CSV and
// JSON-lines files. Also the scenario loading that run and sweep share.
#include <fmt/format.h>

#include <chrono>
#include <iostream>

#include "cli.h"
#include "sotto/sim/simulator.h"

namespace sotto::sim::cli {
namespace {

constexpr const char* kUsage =
    "usage: sotto-sim run SCENARIO.ini [options]\n"
    "\n"
    "Runs the scenario's repetitions one after another and prints a summary of each.\n"
    "--out writes one CSV row per repetition, --messages one JSON line per measured message.\n";

}  // namespace

std::optional<int> LoadScenarioArgs(const CommonArgs& args, std::string_view command, bool validate,
                                    Scenario& scenario) {
  if (args.positional.empty()) {
    return Fail(fmt::format("{} needs a scenario file: sotto-sim {} FILE.ini (see sotto-sim {} "
                            "--help)",
                            command, command, command),
                kExitUsage);
  }
  if (args.positional.size() > 1) {
    return Fail(fmt::format("{} takes one scenario file, not {} arguments ('{}' is extra)", command,
                            args.positional.size(), args.positional[1]),
                kExitUsage);
  }
  auto loaded = LoadScenario(args.positional.front());
  if (!loaded.ok()) return Fail(loaded.status().message());
  scenario = std::move(loaded).value();
  if (args.seed) scenario.seed = *args.seed;
  for (const std::string& set : args.sets) {
    std::string key, value;
    if (Status s = SplitKeyValue("--set", set, key, value); !s.ok()) {
      return Fail(s.message(), kExitUsage);
    }
    if (Status s = SetScenarioKey(scenario, key, value); !s.ok()) {
      return Fail(fmt::format("--set {}: {}", set, s.message()), kExitUsage);
    }
  }
  if (validate) {
    if (Status s = scenario.Validate(); !s.ok()) {
      // The file itself passed these checks, so the command line made the combination.
      return Fail(fmt::format("with --seed/--set: {}", s.message()), kExitUsage);
    }
  }
  return std::nullopt;
}

int RunCommand(int argc, char** argv) {
  CommonArgs args;
  CommonOptions which;
  which.messages = true;
  which.progress = true;
  std::string help;
  if (Status s = ParseCommon(argc, argv, 2, "run", which, args, help); !s.ok()) {
    return Fail(s.message(), kExitUsage);
  }
  if (args.help) {
    std::cout << kUsage << "\n" << help;
    return 0;
  }
  Scenario scenario;
  if (auto code = LoadScenarioArgs(args, "run", /*validate=*/true, scenario)) return *code;

  std::ofstream csv, jsonl;
  if (!args.out.empty()) {
    if (Status s = OpenOutput(args.out, csv); !s.ok()) return Fail(s.message());
    csv << ResultsCsvHeader() << "\n";
  }
  if (!args.messages.empty()) {
    if (Status s = OpenOutput(args.messages, jsonl); !s.ok()) return Fail(s.message());
  }
  ProgressBar bar(ShowProgress(args.progress), "repetitions");
  const auto start = std::chrono::steady_clock::now();

  for (std::uint32_t rep = 0; rep < scenario.repetitions; ++rep) {
    RunOptions options;
    options.repetition = rep;
    if (jsonl.is_open()) {
      options.on_message = [&](const MessageRecord& m) { jsonl << MessageJsonLine(m) << "\n"; };
    }
    options.on_progress = [&](double f) {
      const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
      bar.Update({rep + f, scenario.repetitions, elapsed.count()});
    };
    auto results = RunScenario(scenario, options);
    bar.Finish();
    if (!results.ok()) return Fail(results.status().message());
    if (rep == 0) {
      std::cout << FormatSummary(scenario, *results);
    } else {
      std::cout << fmt::format(
          "repetition {}: entropy mean {:.4f} bits, latency mean {:.1f} ms, overhead {:.3f}\n", rep,
          results->entropy.mean, results->latency.mean, results->overhead);
    }
    std::cout.flush();
    if (csv.is_open()) csv << ResultsCsvRow(*results) << "\n";
  }
  if ((csv.is_open() && !csv.flush()) || (jsonl.is_open() && !jsonl.flush())) {
    return Fail("writing the output files failed (disk full?)");
  }
  return 0;
}

}  // namespace sotto::sim::cli
