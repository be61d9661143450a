// sotto-sim: the command line over sotto::sim (simulator.h). Thin: parse, run, print.
//   sotto-sim run SCENARIO.ini [--seed N] [--set KEY=VALUE]... [--out results.csv]
//                              [--messages messages.jsonl] [--progress]
//   sotto-sim keys             every scenario key with its default and range
#include <fmt/format.h>
#include <unistd.h>

#include <boost/program_options.hpp>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "sotto/sim/scenario.h"
#include "sotto/sim/simulator.h"

namespace po = boost::program_options;
using namespace sotto;
using namespace sotto::sim;

namespace {

constexpr const char* kUsage =
    "usage: sotto-sim run SCENARIO.ini [options]   run a scenario and print a summary\n"
    "       sotto-sim keys                         list the scenario keys\n"
    "\n"
    "sotto-sim simulates a Sotto mix network with the daemon's own mixing policies and measures\n"
    "sender anonymity (entropy), latency, bandwidth overhead and queue sizes. See sim/README.md.\n";

int Fail(const std::string& message, int code = 1) {
  std::fprintf(stderr, "sotto-sim: error: %s\n", message.c_str());
  return code;
}

struct Args {
  std::string command, scenario_path, out, messages;
  std::vector<std::string> sets;
  std::uint64_t seed = 0;
  bool has_seed = false, progress = false, help = false;
  std::string help_text;
};

Status ParseArgs(int argc, char** argv, Args& a) {
  po::options_description opts("Options");
  opts.add_options()("help,h", "show this help and exit")("seed", po::value<std::uint64_t>(&a.seed),
                                                          "master seed (overrides the scenario's)")(
      "set", po::value(&a.sets)->composing(), "KEY=VALUE: override a scenario key (repeatable)")(
      "out", po::value(&a.out), "write one CSV row per repetition to this file")(
      "messages", po::value(&a.messages), "write every measured message as JSON lines")(
      "progress", po::bool_switch(&a.progress), "show progress on stderr (default: if a TTY)");
  po::options_description hidden;
  hidden.add_options()("command", po::value(&a.command))("scenario", po::value(&a.scenario_path));
  po::positional_options_description positional;
  positional.add("command", 1).add("scenario", 1);
  po::options_description all;
  all.add(opts).add(hidden);
  std::ostringstream help;
  help << kUsage << "\n" << opts;
  a.help_text = help.str();
  try {
    po::variables_map vm;
    po::store(po::command_line_parser(argc, argv).options(all).positional(positional).run(), vm);
    po::notify(vm);
    a.help = vm.count("help") > 0;
    a.has_seed = vm.count("seed") > 0;
  } catch (const po::error& e) {
    return Status::InvalidArgument(std::string(e.what()) + " (see sotto-sim --help)");
  }
  return Status::Ok();
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  if (Status s = ParseArgs(argc, argv, a); !s.ok()) return Fail(s.message(), 2);
  if (a.help || a.command.empty()) {
    std::cout << a.help_text;
    return a.help ? 0 : 2;
  }
  if (a.command == "keys") {
    std::cout << "Scenario keys (INI: key = value):\n" << ScenarioKeysHelp();
    return 0;
  }
  if (a.command != "run") return Fail("unknown command '" + a.command + "': use run or keys", 2);
  if (a.scenario_path.empty()) return Fail("run needs a scenario file: sotto-sim run FILE.ini", 2);

  auto loaded = LoadScenario(a.scenario_path);
  if (!loaded.ok()) return Fail(loaded.status().message());
  Scenario scenario = std::move(loaded).value();
  if (a.has_seed) scenario.seed = a.seed;
  for (const std::string& set : a.sets) {
    const auto eq = set.find('=');
    if (eq == std::string::npos) return Fail("--set " + set + ": expected KEY=VALUE", 2);
    if (Status s = SetScenarioKey(scenario, set.substr(0, eq), set.substr(eq + 1)); !s.ok()) {
      return Fail("--set: " + s.message(), 2);
    }
  }
  if (Status s = scenario.Validate(); !s.ok()) return Fail(s.message());

  std::ofstream csv, jsonl;
  if (!a.out.empty()) {
    csv.open(a.out, std::ios::trunc);
    if (!csv) return Fail("cannot write " + a.out);
    csv << ResultsCsvHeader() << "\n";
  }
  if (!a.messages.empty()) {
    jsonl.open(a.messages, std::ios::trunc);
    if (!jsonl) return Fail("cannot write " + a.messages);
  }
  const bool progress = a.progress || isatty(STDERR_FILENO) == 1;

  for (std::uint32_t rep = 0; rep < scenario.repetitions; ++rep) {
    RunOptions options;
    options.repetition = rep;
    if (jsonl.is_open()) {
      options.on_message = [&](const MessageRecord& m) { jsonl << MessageJsonLine(m) << "\n"; };
    }
    if (progress) {
      options.on_progress = [&](double f) {
        std::fprintf(stderr, "\rrepetition %u/%u: %3.0f%%", rep + 1, scenario.repetitions, 100 * f);
      };
    }
    auto results = RunScenario(scenario, options);
    if (progress) std::fprintf(stderr, "\r%40s\r", "");
    if (!results.ok()) return Fail(results.status().message());
    if (rep == 0) {
      std::cout << FormatSummary(scenario, *results);
    } else {
      std::cout << fmt::format(
          "repetition {}: entropy mean {:.4f} bits, latency mean {:.1f} ms, "
          "overhead {:.3f}\n",
          rep, results->entropy.mean, results->latency.mean, results->overhead);
    }
    if (csv.is_open()) csv << ResultsCsvRow(*results) << "\n";
  }
  if ((csv.is_open() && !csv.flush()) || (jsonl.is_open() && !jsonl.flush())) {
    return Fail("writing the output files failed (disk full?)");
  }
  return 0;
}
