// Internal to the sotto-sim executable: what its commands (cli_run.cpp, cli_sweep.cpp,
// cli_attack.cpp) share — the error convention, number options, --set/--vary lists, output files
// and the progress bar. The simulation itself is in the sotto_sim library.
//
// Errors: one line on stderr, "sotto-sim: error: ..."; exit 2 for a wrong command line (options,
// --set/--vary values), 1 for everything else (scenario files, runs, output files).
#pragma once

#include <cstdint>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sotto/sim/sweep.h"

namespace sotto::sim::cli {

inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

// Prints "sotto-sim: error: <message>" and returns `code`.
int Fail(std::string_view message, int code = kExitFailure);

// The options every command may take; which ones a command accepts is up to its parser.
struct CommonArgs {
  std::vector<std::string> positional;  // after the command name
  std::vector<std::string> sets, varies, params;
  std::optional<std::uint64_t> seed;
  std::optional<std::uint64_t> repetitions, jobs, repetition;
  std::string out, summary, messages;
  bool progress = false, help = false;
};

// Which options a command takes (besides --help).
struct CommonOptions {
  bool vary = false, repetitions = false, jobs = false, summary = false, messages = false;
  bool seed = true, set = true, out = true, progress = false;
  bool repetition = false;                     // --repetition R: which one run (workload)
  bool param = false;                          // --param FIELD=VALUE (netattack)
  std::uint64_t max_repetitions = 10'000'000;  // --repetitions in [1, this]
};

// Parses argv[first..argc) for `command`; on a wrong command line returns InvalidArgument naming
// the option. `help` receives the options' --help text.
Status ParseCommon(int argc, char** argv, int first, std::string_view command,
                   const CommonOptions& which, CommonArgs& args, std::string& help);

// "KEY=VALUE" split at the first '=', or InvalidArgument naming `option`.
Status SplitKeyValue(std::string_view option, std::string_view text, std::string& key,
                     std::string& value);

// A whole number in [lo, hi] from an option's text, or InvalidArgument naming the option.
Result<std::uint64_t> ParseWhole(std::string_view option, std::string_view text, std::uint64_t lo,
                                 std::uint64_t hi);

// Opens `path` for writing (truncating); IoError naming it when it cannot.
Status OpenOutput(const std::string& path, std::ofstream& out);

// "results.csv" → "results.summary.csv"; "results" → "results.summary.csv".
std::string SummaryPathFor(const std::string& out);

// A one-line progress bar on stderr: shown when `enabled` (stderr is a TTY, or --progress).
class ProgressBar {
 public:
  explicit ProgressBar(bool enabled, std::string_view unit = "runs");
  ~ProgressBar();
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  void Update(const SweepProgress& progress);
  // Clears the line (also done by the destructor).
  void Finish();

 private:
  bool enabled_;
  bool shown_ = false;
  std::string unit_;
};

// The scenario file named by the one positional argument, with --seed and --set applied and the
// result validated if `validate` (a sweep validates each point instead). On failure prints the
// error and returns the exit code.
std::optional<int> LoadScenarioArgs(const CommonArgs& args, std::string_view command, bool validate,
                                    Scenario& scenario);

// --progress, or stderr is a terminal.
bool ShowProgress(bool flag);

int RunCommand(int argc, char** argv);        // sotto-sim run
int SweepCommand(int argc, char** argv);      // sotto-sim sweep
int AttackCommand(int argc, char** argv);     // sotto-sim attack
int WorkloadCommand(int argc, char** argv);   // sotto-sim workload
int NetAttackCommand(int argc, char** argv);  // sotto-sim netattack

}  // namespace sotto::sim::cli
