// sotto-sim attack sda|flood|timing: the attacks of attacks.h with fields from --set and --vary,
// one line per point on stdout and one CSV row per point with --out.
#include <fmt/format.h>

#include <iostream>

#include "cli.h"
#include "sotto/sim/attack_sweep.h"

namespace sotto::sim::cli {
namespace {

using namespace sotto::sim::attacks;

constexpr const char* kUsage =
    "usage: sotto-sim attack sda|flood|timing [--set FIELD=VALUE]... [--vary FIELD=V1,V2,...]...\n"
    "                        [--repetitions R] [--jobs J] [--seed N] [--out FILE.csv]\n"
    "\n"
    "  sda     statistical disclosure attack on a threshold mix: rounds until Alice's friends\n"
    "          are named, against Danezis's estimate (l = 2 and l = 3)\n"
    "  flood   the n-1 attack on one mix of each policy: success rate against chance\n"
    "  timing  timing correlation through continuous-time mixes: top-1/top-5 against chance\n"
    "\n"
    "Repetition (or trial) r of point p draws from DeriveSeed(seed, p, r), so each row is what\n"
    "the library's RunSda, RunFloodingAttack or RunTimingAttack returns for its fields and point\n"
    "number. --repetitions sets the field 'repetitions' (sda, timing) or 'trials' (flood).\n"
    "sotto-sim attack KIND --help lists the fields. See sim/README.md, \"Attacks\".\n";

std::string_view Description(AttackKind kind) {
  switch (kind) {
    case AttackKind::kSda:
      return "Statistical disclosure attack (Danezis 2003) on a threshold mix of batch size b.";
    case AttackKind::kFlooding:
      return "The n-1 (flooding) attack (Serjantov, Dingledine & Syverson 2002) on one mix.";
    case AttackKind::kTiming:
      break;
  }
  return "Timing correlation on a cascade of continuous-time mixes.";
}

// Applies --set, then --seed and --repetitions (which must not also be --set).
std::optional<int> ApplyFields(const CommonArgs& args, AttackSetup& setup) {
  std::vector<std::string> set_keys;
  for (const std::string& set : args.sets) {
    std::string key, value;
    if (Status s = SplitKeyValue("--set", set, key, value); !s.ok()) {
      return Fail(s.message(), kExitUsage);
    }
    if (Status s = SetAttackField(setup, key, value); !s.ok()) {
      return Fail(fmt::format("--set {}: {}", set, s.message()), kExitUsage);
    }
    set_keys.push_back(key);
  }
  const auto twice = [&](std::string_view option, std::string_view field) -> std::optional<int> {
    if (std::find(set_keys.begin(), set_keys.end(), field) == set_keys.end()) return std::nullopt;
    return Fail(fmt::format("{} and --set {}=... both set {}: give one", option, field, field),
                kExitUsage);
  };
  if (args.seed) {
    if (auto code = twice("--seed", "seed")) return code;
    if (Status s = SetAttackField(setup, "seed", fmt::format("{}", *args.seed)); !s.ok()) {
      return Fail("--seed: " + s.message(), kExitUsage);
    }
  }
  if (args.repetitions) {
    const std::string_view field = RepetitionsField(setup.kind);
    if (auto code = twice("--repetitions", field)) return code;
    if (Status s = SetAttackField(setup, field, fmt::format("{}", *args.repetitions)); !s.ok()) {
      return Fail("--repetitions: " + s.message(), kExitUsage);
    }
  }
  return std::nullopt;
}

}  // namespace

int AttackCommand(int argc, char** argv) {
  CommonArgs args;
  CommonOptions which;
  which.vary = which.repetitions = which.jobs = which.progress = true;
  std::string help;
  if (Status s = ParseCommon(argc, argv, 2, "attack", which, args, help); !s.ok()) {
    return Fail(s.message(), kExitUsage);
  }
  if (args.positional.empty()) {
    if (args.help) {
      std::cout << kUsage << "\n" << help;
      return 0;
    }
    return Fail("attack needs a kind: sotto-sim attack sda|flood|timing (see --help)", kExitUsage);
  }
  auto kind = ParseAttackKind(args.positional.front());
  if (!kind.ok()) return Fail(kind.status().message(), kExitUsage);
  if (args.help) {
    std::cout << kUsage << "\n"
              << Description(*kind) << " Fields (--set / --vary):\n"
              << AttackFieldsHelp(*kind) << "\n"
              << help;
    return 0;
  }
  if (args.positional.size() > 1) {
    return Fail(fmt::format("attack takes one kind, not {} arguments ('{}' is extra)",
                            args.positional.size(), args.positional[1]),
                kExitUsage);
  }
  AttackSetup base;
  base.kind = *kind;
  if (auto code = ApplyFields(args, base)) return *code;
  std::vector<SweepAxis> axes;
  for (const std::string& vary : args.varies) {
    auto axis = ParseAttackAxis(*kind, vary);
    if (!axis.ok()) {
      return Fail(fmt::format("--vary {}: {}", vary, axis.status().message()), kExitUsage);
    }
    if (axis->key == "seed" && args.seed) {
      return Fail("--seed and --vary seed=... both set seed: give one", kExitUsage);
    }
    axes.push_back(std::move(axis).value());
  }
  auto planned = PlanAttackSweep(base, std::move(axes));
  if (!planned.ok()) return Fail(planned.status().message(), kExitUsage);
  const AttackPlan& plan = *planned;

  std::ofstream csv;
  if (!args.out.empty()) {
    if (Status s = OpenOutput(args.out, csv); !s.ok()) return Fail(s.message());
    csv << AttackCsvHeader(*kind) << "\n";
  }
  std::cout << fmt::format("attack {}: {} point{}\n", AttackKindName(*kind), plan.points.size(),
                           plan.points.size() == 1 ? "" : "s");
  std::cout.flush();
  ProgressBar bar(ShowProgress(args.progress), *kind == AttackKind::kTiming ? "runs" : "points");
  AttackSweepOptions options;
  options.jobs = args.jobs ? static_cast<unsigned>(*args.jobs) : 0;
  options.on_progress = [&](const SweepProgress& p) { bar.Update(p); };
  options.on_point = [&](const AttackOutcome& outcome) -> Status {
    bar.Finish();
    std::cout << FormatAttackOutcome(outcome) << "\n";
    std::cout.flush();
    if (csv.is_open() && !(csv << AttackCsvRow(outcome) << "\n").flush()) {
      return Status::IoError("writing " + args.out + " failed (disk full?)");
    }
    return Status::Ok();
  };
  auto outcomes = RunAttackSweep(plan, options);
  bar.Finish();
  if (!outcomes.ok()) return Fail(outcomes.status().message());
  if (csv.is_open() && !csv.flush()) return Fail("writing " + args.out + " failed (disk full?)");
  if (csv.is_open()) std::cout << "results: " << args.out << "\n";
  return 0;
}

}  // namespace sotto::sim::cli
