// Sweeps: a scenario run over the cartesian product of some keys' values (the axes), with
// repetitions, on several threads, summarised per point as means with 95% confidence intervals.
//
// Reproducible whatever the thread count: repetition r of point p runs with
// RunOptions{point = p, repetition = r}, i.e. from DeriveSeed(seed, p, r), and every output comes
// back in (point, repetition) order. Point 0 of a sweep is what `sotto-sim run` runs.
// Points are numbered with the last axis varying fastest.
//
// All functions are re-entrant; RunSweep's callbacks run on the calling thread.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sotto/core/status.h"
#include "sotto/sim/attacks.h"
#include "sotto/sim/results.h"
#include "sotto/sim/scenario.h"

namespace sotto::sim {

// At most this many runs (points × repetitions) in one sweep.
inline constexpr std::uint64_t kMaxSweepRuns = 100'000;

// One axis, e.g. from "--vary batch_size=10,100,1000": a key and its values in the given order.
struct SweepAxis {
  std::string key;
  std::vector<std::string> values;
};

// Splits "KEY=V1,V2,..." (spaces around items allowed). InvalidArgument, naming the text, for a
// missing '=', an empty key, an empty list or an empty item. The values are not checked here.
Result<SweepAxis> SplitAxis(std::string_view text);

// "KEY=V1,V2,..." for a scenario key: every value is checked with SetScenarioKey and replaced by
// its canonical text (as GetScenarioKey prints it). `repetitions` cannot be an axis (it is the
// sweep's own --repetitions).
Result<SweepAxis> ParseSweepAxis(std::string_view text);

// The values of point `index` of the axes' cartesian product (the last axis changes fastest).
std::vector<std::string> PointValues(const std::vector<SweepAxis>& axes, std::uint64_t index);

struct SweepPoint {
  std::uint64_t index = 0;
  std::vector<std::string> values;  // one per axis
  Scenario scenario;                // the base with those values set
};

struct SweepPlan {
  std::vector<SweepAxis> axes;
  std::vector<SweepPoint> points;
  std::uint32_t repetitions = 1;

  std::uint64_t Runs() const { return points.size() * std::uint64_t{repetitions}; }
};

// The cartesian product of the axes over `base` (no axes: one point, the base). Each point must
// pass Scenario::Validate; an error names the point's values and the key at fault. Refuses a key
// given twice, repetitions outside [1, 100000], and more than kMaxSweepRuns runs.
Result<SweepPlan> PlanSweep(const Scenario& base, std::vector<SweepAxis> axes,
                            std::uint32_t repetitions);

// One finished run, handed to SweepOptions::on_run.
struct SweepRun {
  const SweepPoint* point = nullptr;
  std::uint64_t repetition = 0;
  const Results* results = nullptr;
  std::string messages_jsonl;  // SweepMessageJsonLine per measured message, if collected
};

struct SweepProgress {
  double runs_done = 0;  // finished runs plus the done fraction of those in flight
  std::uint64_t runs_total = 0;
  double elapsed_s = 0;
};

struct SweepOptions {
  unsigned jobs = 0;              // threads; 0 = the hardware's concurrency
  bool collect_messages = false;  // fill SweepRun::messages_jsonl
  // Every run, in (point, repetition) order; a failed Status stops the sweep and is returned.
  std::function<Status(const SweepRun&)> on_run;
  // About 5 times a second.
  std::function<void(const SweepProgress&)> on_progress;
};

// Runs the plan; the results in (point, repetition) order (index p · repetitions + r).
Result<std::vector<Results>> RunSweep(const SweepPlan& plan, const SweepOptions& options = {});

// ---- Summaries ---------------------------------------------------------------------------------

// Mean and 95% Student-t confidence half-width t(0.975, n−1) · s / √n of `values` (half-width 0
// when n < 2).
attacks::MeanCi MeanWithCi95(std::span<const double> values);

// The measures a summary reports, by their per-run CSV column names: entropy_mean,
// effective_set_mean, normalized_degree_mean, latency_mean_ms, latency_p50_ms, latency_p95_ms,
// latency_p99_ms, overhead, queue_mean, queue_max, corrupt_mixes (the number of corrupt mixes: a
// sweep over corrupt_mix_probability averages over the per-run draws).
std::span<const std::string_view> SummaryMeasures();

struct PointSummary {
  std::uint64_t point = 0;
  std::uint64_t runs = 0;
  // One per SummaryMeasures(), over the runs that measured it: the entropy measures over runs
  // with a real packet delivered (none when track_entropy = false), the latency ones over runs
  // with a message delivered, the others over every run.
  std::vector<attacks::MeanCi> measures;
};

// `runs` as RunSweep returns them.
std::vector<PointSummary> SummarizeSweep(const SweepPlan& plan, std::span<const Results> runs);

// ---- Text forms (deterministic, like results.h) ------------------------------------------------

// The axes' keys, then ResultsCsvHeader()'s columns.
std::string SweepCsvHeader(const SweepPlan& plan);
std::string SweepCsvRow(const SweepPlan& plan, const Results& run);
// The axes' keys, point, runs, then <measure>_mean and <measure>_ci95 for each measure; a cell is
// empty when no run measured it (and a ci95 when fewer than two did).
std::string SweepSummaryCsvHeader(const SweepPlan& plan);
std::string SweepSummaryCsvRow(const SweepPlan& plan, const PointSummary& summary);
// MessageJsonLine with the point first: {"point":P,"repetition":R,...}.
std::string SweepMessageJsonLine(std::uint64_t point, const MessageRecord& message);
// A short table for people: one line per point with the main means and their intervals.
std::string FormatSweepSummary(const SweepPlan& plan, std::span<const PointSummary> summaries);

}  // namespace sotto::sim
