// sotto-sim: the command line over sotto::sim. Thin: picks the command; each lives in cli_*.cpp
// over the library (simulator.h, sweep.h, attack_sweep.h).
//   sotto-sim run SCENARIO.ini [...]     one scenario, its repetitions in turn
//   sotto-sim sweep SCENARIO.ini [...]   a sweep over --vary lists, on several threads
//   sotto-sim attack sda|flood|timing    the attacks on the mixing policies
//   sotto-sim keys                       every scenario key with its default and range
#include <exception>
#include <iostream>
#include <new>
#include <string>
#include <string_view>

#include "cli.h"
#include "sotto/sim/scenario.h"

namespace {

constexpr const char* kUsage =
    "usage: sotto-sim run SCENARIO.ini [options]     run a scenario and print a summary\n"
    "       sotto-sim sweep SCENARIO.ini --vary KEY=V1,V2,... [options]\n"
    "                                                sweep keys, with repetitions and intervals\n"
    "       sotto-sim attack sda|flood|timing [options]\n"
    "                                                attacks on the mixing policies\n"
    "       sotto-sim netattack trace|timing|sda|flood SCENARIO.ini [options]\n"
    "                                                attacks over the simulated network\n"
    "       sotto-sim workload SCENARIO.ini [--out FILE.jsonl]\n"
    "                                                the run's real messages (for the testnet)\n"
    "       sotto-sim keys                           list the scenario keys\n"
    "       sotto-sim COMMAND --help                 a command's options\n"
    "\n"
    "sotto-sim simulates a Sotto mix network with the daemon's own mixing policies and measures\n"
    "sender anonymity (entropy), latency, bandwidth overhead and queue sizes. See sim/README.md.\n";

int Dispatch(int argc, char** argv) {
  using namespace sotto::sim;
  const std::string_view command = argc > 1 ? argv[1] : "";
  if (command.empty()) {
    return cli::Fail(
        "no command given: use run, sweep, attack, netattack, workload or keys (see sotto-sim "
        "--help)",
        cli::kExitUsage);
  }
  if (command == "--help" || command == "-h" || command == "help") {
    std::cout << kUsage;
    return 0;
  }
  if (command == "run") return cli::RunCommand(argc, argv);
  if (command == "sweep") return cli::SweepCommand(argc, argv);
  if (command == "attack") return cli::AttackCommand(argc, argv);
  if (command == "workload") return cli::WorkloadCommand(argc, argv);
  if (command == "netattack") return cli::NetAttackCommand(argc, argv);
  if (command == "keys") {
    if (argc > 2) return cli::Fail("keys takes no arguments", cli::kExitUsage);
    std::cout << "Scenario keys (INI: key = value):\n" << ScenarioKeysHelp();
    return 0;
  }
  return cli::Fail(
      std::string("unknown command '") + std::string(command) +
          "': use run, sweep, attack, netattack, workload or keys (see sotto-sim --help)",
      cli::kExitUsage);
}

}  // namespace

int main(int argc, char** argv) {
  // The library reports errors as Status; this is the last line of defence (e.g. memory running
  // out while writing results): a one-line error instead of an abort.
  try {
    return Dispatch(argc, argv);
  } catch (const std::bad_alloc&) {
    return sotto::sim::cli::Fail(
        "out of memory: simulate fewer clients, less traffic or a shorter duration_s, or run "
        "fewer --jobs at once");
  } catch (const std::exception& e) {
    return sotto::sim::cli::Fail(std::string("unexpected error: ") + e.what());
  }
}
