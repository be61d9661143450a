// sotto-sim netattack trace|timing|sda|flood SCENARIO.ini: the attacks over the simulated network
// (net_attacks.h), over a sweep of scenario keys if --vary is given; one line per point on stdout,
// one CSV row per point with --out, one JSON line per scored message with --messages.
#include <fmt/format.h>

#include <iostream>

#include "cli.h"
#include "sotto/sim/net_attacks.h"

namespace sotto::sim::cli {
namespace {

constexpr const char* kUsage =
    "usage: sotto-sim netattack trace|timing|sda|flood SCENARIO.ini [--set KEY=VALUE]...\n"
    "           [--param FIELD=VALUE]... [--vary KEY=V1,V2,...]... [--repetitions R] [--jobs J]\n"
    "           [--seed N] [--out FILE.csv] [--messages FILE.jsonl]\n"
    "\n"
    "Runs the scenario (clients with cover, providers, mixes, dummies, corrupt nodes) with an\n"
    "adversary watching through the engine's observer, and scores it as the adversary harness\n"
    "scores the testnet: for each real message the adversary's distribution over senders, the\n"
    "success of its best guess against chance and the sender entropy, with 95% intervals (over\n"
    "the repetitions, or over the messages of a single run).\n"
    "  trace   global passive observer propagating beliefs through every round it sees\n"
    "  timing  end-to-end delay correlation with a learned delay density\n"
    "  sda     statistical disclosure over the run, from mailboxes (or providers) reached\n"
    "  flood   the n-1 attacker on the target's provider (threshold-timeout mixes)\n"
    "--set and --vary take scenario keys (sotto-sim keys), --param the attack's fields:\n";

}  // namespace

int NetAttackCommand(int argc, char** argv) {
  CommonArgs args;
  CommonOptions which;
  which.vary = which.repetitions = which.jobs = which.messages = which.progress = true;
  which.param = true;
  which.max_repetitions = kMaxSweepRuns;
  std::string help;
  if (Status s = ParseCommon(argc, argv, 2, "netattack", which, args, help); !s.ok()) {
    return Fail(s.message(), kExitUsage);
  }
  if (args.help) {
    std::cout << kUsage << netattack::FieldsHelp() << "\n" << help;
    return 0;
  }
  if (args.positional.empty()) {
    return Fail(
        "netattack needs an attack and a scenario: sotto-sim netattack "
        "trace|timing|sda|flood FILE.ini (see --help)",
        kExitUsage);
  }
  auto kind = netattack::ParseKind(args.positional.front());
  if (!kind.ok()) return Fail(kind.status().message(), kExitUsage);
  netattack::Config config;
  config.kind = *kind;
  for (const std::string& param : args.params) {
    std::string key, value;
    if (Status s = SplitKeyValue("--param", param, key, value); !s.ok()) {
      return Fail(s.message(), kExitUsage);
    }
    if (Status s = netattack::SetField(config, key, value); !s.ok()) {
      return Fail(fmt::format("--param {}: {}", param, s.message()), kExitUsage);
    }
  }
  CommonArgs scenario_args = args;
  scenario_args.positional.erase(scenario_args.positional.begin());
  Scenario base;
  if (auto code = LoadScenarioArgs(scenario_args, "netattack", /*validate=*/false, base)) {
    return *code;
  }
  std::vector<SweepAxis> axes;
  for (const std::string& vary : args.varies) {
    auto axis = ParseSweepAxis(vary);
    if (!axis.ok()) {
      return Fail(fmt::format("--vary {}: {}", vary, axis.status().message()), kExitUsage);
    }
    axes.push_back(std::move(axis).value());
  }
  const auto repetitions =
      args.repetitions ? static_cast<std::uint32_t>(*args.repetitions) : base.repetitions;
  auto planned = PlanSweep(base, std::move(axes), repetitions);
  if (!planned.ok()) return Fail(planned.status().message(), kExitUsage);
  const SweepPlan& plan = *planned;
  for (const SweepPoint& point : plan.points) {
    if (Status s = config.Validate(point.scenario); !s.ok()) {
      return Fail(fmt::format("--param: {}", s.message()), kExitUsage);
    }
  }
  std::ofstream csv, jsonl;
  if (!args.out.empty()) {
    if (Status s = OpenOutput(args.out, csv); !s.ok()) return Fail(s.message());
    csv << netattack::CsvHeader(plan) << "\n";
  }
  if (!args.messages.empty()) {
    if (Status s = OpenOutput(args.messages, jsonl); !s.ok()) return Fail(s.message());
  }
  std::cout << fmt::format("netattack {}: {} point{} × {} run{} of {}\n",
                           netattack::KindName(config.kind), plan.points.size(),
                           plan.points.size() == 1 ? "" : "s", plan.repetitions,
                           plan.repetitions == 1 ? "" : "s", base.Describe());
  std::cout.flush();
  ProgressBar bar(ShowProgress(args.progress));
  netattack::SweepOptions options;
  options.jobs = args.jobs ? static_cast<unsigned>(*args.jobs) : 0;
  options.on_progress = [&](const SweepProgress& p) { bar.Update(p); };
  options.on_point = [&](const netattack::PointResult& p) -> Status {
    bar.Finish();
    std::cout << netattack::FormatPoint(plan, config, p) << "\n";
    std::cout.flush();
    if (csv.is_open()) csv << netattack::CsvRow(plan, config, p) << "\n";
    if (jsonl.is_open()) {
      for (const auto& run : p.runs) {
        for (const auto& score : run.scores) {
          jsonl << netattack::ScoreJsonLine(p.point, run.repetition, score) << "\n";
        }
      }
    }
    if ((csv.is_open() && !csv.flush()) || (jsonl.is_open() && !jsonl.flush())) {
      return Status::IoError("writing the output files failed (disk full?)");
    }
    return Status::Ok();
  };
  auto points = netattack::RunSweep(plan, config, options);
  bar.Finish();
  if (!points.ok()) return Fail(points.status().message());
  if (csv.is_open()) std::cout << "results: " << args.out << "\n";
  return 0;
}

}  // namespace sotto::sim::cli
