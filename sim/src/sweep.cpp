// Sweeps (sweep.h): parsing axes, planning the cartesian product, and running it on threads with
// results in (point, repetition) order. Summaries and text forms are in sweep_summary.cpp.
#include "sotto/sim/sweep.h"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

#include "parallel.h"
#include "sotto/sim/simulator.h"

namespace sotto::sim {
namespace {

constexpr std::uint32_t kMaxRepetitions = 100'000;

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// "point 3 (batch_size=10, layers=2): " to start an error about a point; "" without axes.
std::string Prefix(const SweepPlan& plan, const SweepPoint& point) {
  if (plan.axes.empty()) return "";
  std::string out = fmt::format("point {} (", point.index);
  for (std::size_t a = 0; a < plan.axes.size(); ++a) {
    out += fmt::format("{}{}={}", a == 0 ? "" : ", ", plan.axes[a].key, point.values[a]);
  }
  return out + "): ";
}

}  // namespace

Result<SweepAxis> SplitAxis(std::string_view text) {
  const std::size_t eq = text.find('=');
  const std::string_view key = Trim(text.substr(0, eq));
  if (eq == std::string_view::npos || key.empty()) {
    return Status::InvalidArgument(
        fmt::format("'{}' is not KEY=V1,V2,... (e.g. batch_size=10,100,1000)", text));
  }
  SweepAxis axis;
  axis.key = std::string(key);
  std::string_view list = text.substr(eq + 1);
  if (Trim(list).empty()) {
    return Status::InvalidArgument(
        fmt::format("the list of values for '{}' is empty: give KEY=V1,V2,...", key));
  }
  for (std::size_t item = 1;; ++item) {
    const std::size_t comma = list.find(',');
    const std::string_view value = Trim(list.substr(0, comma));
    if (value.empty()) {
      return Status::InvalidArgument(
          fmt::format("value {} in the list for '{}' is empty: give KEY=V1,V2,...", item, key));
    }
    axis.values.emplace_back(value);
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return axis;
}

Result<SweepAxis> ParseSweepAxis(std::string_view text) {
  Result<SweepAxis> split = SplitAxis(text);
  if (!split.ok()) return split.status();
  SweepAxis axis = std::move(split).value();
  if (axis.key == "repetitions") {
    return Status::InvalidArgument(
        "repetitions cannot be varied: it is the number of runs per point (use --repetitions)");
  }
  for (std::string& value : axis.values) {
    Scenario scratch;
    if (Status s = SetScenarioKey(scratch, axis.key, value); !s.ok()) return s;
    value = GetScenarioKey(scratch, axis.key).value();
  }
  return axis;
}

std::vector<std::string> PointValues(const std::vector<SweepAxis>& axes, std::uint64_t index) {
  std::vector<std::string> values(axes.size());
  for (std::size_t a = axes.size(); a-- > 0;) {
    values[a] = axes[a].values[index % axes[a].values.size()];
    index /= axes[a].values.size();
  }
  return values;
}

Result<SweepPlan> PlanSweep(const Scenario& base, std::vector<SweepAxis> axes,
                            std::uint32_t repetitions) {
  if (repetitions < 1 || repetitions > kMaxRepetitions) {
    return Status::InvalidArgument(
        fmt::format("repetitions = {} is not allowed: it must be a whole number in [1, {}]",
                    repetitions, kMaxRepetitions));
  }
  double points = 1;
  for (std::size_t a = 0; a < axes.size(); ++a) {
    if (axes[a].values.empty()) {
      return Status::InvalidArgument(
          fmt::format("the list of values for '{}' is empty", axes[a].key));
    }
    for (std::size_t b = 0; b < a; ++b) {
      if (axes[b].key == axes[a].key) {
        return Status::InvalidArgument(fmt::format(
            "'{}' is varied twice: give all its values in one KEY=V1,V2,...", axes[a].key));
      }
    }
    points *= static_cast<double>(axes[a].values.size());
  }
  const double runs = points * repetitions;
  if (runs > static_cast<double>(kMaxSweepRuns)) {
    return Status::InvalidArgument(fmt::format(
        "the sweep asks for {:.0f} points × {} repetitions = {:.0f} runs; at most {} are allowed: "
        "vary fewer values or lower the repetitions",
        points, repetitions, runs, kMaxSweepRuns));
  }

  SweepPlan plan;
  plan.axes = std::move(axes);
  plan.repetitions = repetitions;
  const auto count = static_cast<std::uint64_t>(points);
  plan.points.reserve(count);
  for (std::uint64_t p = 0; p < count; ++p) {
    SweepPoint point;
    point.index = p;
    point.scenario = base;
    point.scenario.repetitions = repetitions;
    point.values = PointValues(plan.axes, p);
    for (std::size_t a = 0; a < plan.axes.size(); ++a) {
      if (Status s = SetScenarioKey(point.scenario, plan.axes[a].key, point.values[a]); !s.ok()) {
        return Status::InvalidArgument(Prefix(plan, point) + s.message());
      }
    }
    if (Status s = point.scenario.Validate(); !s.ok()) {
      return Status::InvalidArgument(Prefix(plan, point) + s.message());
    }
    plan.points.push_back(std::move(point));
  }
  return plan;
}

Result<std::vector<Results>> RunSweep(const SweepPlan& plan, const SweepOptions& options) {
  const std::uint64_t runs = plan.Runs();
  const std::uint64_t reps = plan.repetitions;
  std::vector<Results> results(runs);
  std::vector<std::string> messages(options.collect_messages ? runs : 0);

  ParallelTasks tasks;
  tasks.count = runs;
  tasks.threads = options.jobs > 0 ? options.jobs : DefaultThreads();
  // Up to `threads` runs are in memory at once: each must fit its share of kMaxRunBytes.
  const std::uint64_t at_once = std::min<std::uint64_t>(tasks.threads, runs);
  for (const SweepPoint& point : plan.points) {
    const std::uint64_t bytes = EstimateRunBytes(point.scenario);
    if (at_once > 1 && bytes * at_once > kMaxRunBytes && bytes <= kMaxRunBytes) {
      return Status::InvalidArgument(fmt::format(
          "{}{} runs at once (--jobs) would need about {:.1f} GiB, {:.1f} GiB each; at most "
          "{:.0f} GiB: run at most {} jobs at once, or smaller runs",
          Prefix(plan, point), at_once, static_cast<double>(bytes * at_once) / (1u << 30),
          static_cast<double>(bytes) / (1u << 30), static_cast<double>(kMaxRunBytes) / (1u << 30),
          std::max<std::uint64_t>(1, kMaxRunBytes / bytes)));
    }
  }
  tasks.work = [&](std::uint64_t i, const std::function<void(double)>& report) -> Status {
    const SweepPoint& point = plan.points[i / reps];
    RunOptions run;
    run.point = point.index;
    run.repetition = i % reps;
    run.on_progress = report;
    if (options.collect_messages) {
      std::string& out = messages[i];
      run.on_message = [&out, p = point.index](const MessageRecord& m) {
        out += SweepMessageJsonLine(p, m);
        out += '\n';
      };
    }
    Result<Results> r = RunScenario(point.scenario, run);
    if (!r.ok()) {
      if (r.status().code() != Status::Code::kInvalidArgument) return r.status();
      return Status::InvalidArgument(Prefix(plan, point) + r.status().message());
    }
    results[i] = std::move(r).value();
    return Status::Ok();
  };
  tasks.commit = [&](std::uint64_t i) -> Status {
    if (!options.on_run) return Status::Ok();
    SweepRun run;
    run.point = &plan.points[i / reps];
    run.repetition = i % reps;
    run.results = &results[i];
    if (options.collect_messages) run.messages_jsonl = std::exchange(messages[i], {});
    return options.on_run(run);
  };
  if (options.on_progress) {
    tasks.on_progress = [&](const ParallelProgress& p) {
      options.on_progress(SweepProgress{p.jobs_done, p.jobs_total, p.elapsed_s});
    };
  }
  if (Status s = RunInOrder(tasks); !s.ok()) return s;
  return results;
}

}  // namespace sotto::sim
