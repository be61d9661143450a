// sotto-sim sweep: a scenario over the cartesian product of --vary lists, with repetitions, on
// several threads; CSV per run, a summary CSV per point and a table on stdout.
#include <fmt/format.h>

#include <iostream>

#include "cli.h"

namespace sotto::sim::cli {
namespace {

constexpr const char* kUsage =
    "usage: sotto-sim sweep SCENARIO.ini --vary KEY=V1,V2,... [--vary KEY2=...] [options]\n"
    "\n"
    "Runs the scenario at every combination of the --vary values (the cartesian product, the last\n"
    "--vary changing fastest), each point --repetitions times (default: the scenario's\n"
    "repetitions), on --jobs threads. Repetition r of point p uses the seed\n"
    "DeriveSeed(seed, p, r), so the output is the same byte for byte whatever --jobs is.\n"
    "--out writes one CSV row per run (the varied keys, then the columns of `run --out`); the\n"
    "summary CSV (--summary, default OUT.summary.csv) one row per point with the mean and the\n"
    "95% confidence half-width (Student t) of the main measures. At most 100000 runs.\n"
    "Keys: sotto-sim keys. Example:\n"
    "  sotto-sim sweep sim/scenarios/sotto-default.ini --vary batch_size=4,16,64 \\\n"
    "      --vary layers=1,3 --repetitions 5 --out sweep.csv\n";

}  // namespace

int SweepCommand(int argc, char** argv) {
  CommonArgs args;
  CommonOptions which;
  which.vary = which.repetitions = which.jobs = which.summary = which.messages = true;
  which.progress = true;
  which.max_repetitions = kMaxSweepRuns;
  std::string help;
  if (Status s = ParseCommon(argc, argv, 2, "sweep", which, args, help); !s.ok()) {
    return Fail(s.message(), kExitUsage);
  }
  if (args.help) {
    std::cout << kUsage << "\n" << help;
    return 0;
  }
  Scenario base;
  if (auto code = LoadScenarioArgs(args, "sweep", /*validate=*/false, base)) return *code;

  std::vector<SweepAxis> axes;
  for (const std::string& vary : args.varies) {
    auto axis = ParseSweepAxis(vary);
    if (!axis.ok())
      return Fail(fmt::format("--vary {}: {}", vary, axis.status().message()), kExitUsage);
    axes.push_back(std::move(axis).value());
  }
  const auto repetitions =
      args.repetitions ? static_cast<std::uint32_t>(*args.repetitions) : base.repetitions;
  auto planned = PlanSweep(base, std::move(axes), repetitions);
  if (!planned.ok()) return Fail(planned.status().message(), kExitUsage);
  const SweepPlan& plan = *planned;

  std::string summary_path = args.summary;
  if (summary_path.empty() && !args.out.empty()) summary_path = SummaryPathFor(args.out);
  if (!summary_path.empty() && (summary_path == args.out || summary_path == args.messages)) {
    return Fail(fmt::format("--summary {} is also the --out or --messages file: name another",
                            summary_path),
                kExitUsage);
  }
  std::ofstream csv, summary_csv, jsonl;
  if (!args.out.empty()) {
    if (Status s = OpenOutput(args.out, csv); !s.ok()) return Fail(s.message());
    csv << SweepCsvHeader(plan) << "\n";
  }
  if (!summary_path.empty()) {
    if (Status s = OpenOutput(summary_path, summary_csv); !s.ok()) return Fail(s.message());
  }
  if (!args.messages.empty()) {
    if (Status s = OpenOutput(args.messages, jsonl); !s.ok()) return Fail(s.message());
  }

  SweepOptions options;
  options.jobs = args.jobs ? static_cast<unsigned>(*args.jobs) : 0;
  options.collect_messages = jsonl.is_open();
  std::cout << fmt::format("sweep: {} point{} × {} repetition{} = {} runs of {}\n",
                           plan.points.size(), plan.points.size() == 1 ? "" : "s", plan.repetitions,
                           plan.repetitions == 1 ? "" : "s", plan.Runs(), base.Describe());
  std::cout.flush();
  ProgressBar bar(ShowProgress(args.progress));
  options.on_progress = [&](const SweepProgress& p) { bar.Update(p); };
  options.on_run = [&](const SweepRun& run) -> Status {
    if (csv.is_open()) csv << SweepCsvRow(plan, *run.results) << "\n";
    if (jsonl.is_open()) jsonl << run.messages_jsonl;
    // Flushed per run, so an interrupted sweep keeps every finished run.
    if ((csv.is_open() && !csv.flush()) || (jsonl.is_open() && !jsonl.flush())) {
      return Status::IoError("writing the output files failed (disk full?)");
    }
    return Status::Ok();
  };
  auto runs = RunSweep(plan, options);
  bar.Finish();
  if (!runs.ok()) return Fail(runs.status().message());

  const std::vector<PointSummary> summaries = SummarizeSweep(plan, *runs);
  if (summary_csv.is_open()) {
    summary_csv << SweepSummaryCsvHeader(plan) << "\n";
    for (const PointSummary& s : summaries) summary_csv << SweepSummaryCsvRow(plan, s) << "\n";
  }
  std::cout << FormatSweepSummary(plan, summaries);
  if ((csv.is_open() && !csv.flush()) || (summary_csv.is_open() && !summary_csv.flush()) ||
      (jsonl.is_open() && !jsonl.flush())) {
    return Fail("writing the output files failed (disk full?)");
  }
  if (csv.is_open()) std::cout << "runs:    " << args.out << "\n";
  if (summary_csv.is_open()) std::cout << "summary: " << summary_path << "\n";
  if (jsonl.is_open()) std::cout << "messages: " << args.messages << "\n";
  return 0;
}

}  // namespace sotto::sim::cli
