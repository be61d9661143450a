// Attack sweeps (attack_sweep.h): the cartesian product of some fields' values, run on threads
// with the results handed back in point order.
#include "sotto/sim/attack_sweep.h"

#include <fmt/format.h>

#include <utility>

#include "attack_stats.h"
#include "parallel.h"

namespace sotto::sim::attacks {
namespace {

// "point 3 (batch_size=10, layers=2): " to start an error about a point; "" without axes.
std::string Prefix(const AttackPlan& plan, const AttackPoint& point) {
  if (plan.axes.empty()) return "";
  std::string out = fmt::format("point {} (", point.index);
  for (std::size_t a = 0; a < plan.axes.size(); ++a) {
    out += fmt::format("{}{}={}", a == 0 ? "" : ", ", plan.axes[a].key, point.values[a]);
  }
  return out + "): ";
}

// Jobs per point: the timing attack's repetitions run as separate jobs, the others' inside one.
std::uint64_t JobsPerPoint(const AttackPlan& plan) {
  return plan.kind == AttackKind::kTiming && !plan.points.empty()
             ? plan.points.front().setup.timing_repetitions
             : 1;
}

TimingSummary SummarizeTiming(const TimingConfig& config, std::vector<TimingResult> runs) {
  TimingSummary s;
  s.config = config;
  std::vector<double> top1, top5;
  for (const auto& r : runs) {
    top1.push_back(r.top1);
    top5.push_back(r.top5);
  }
  s.top1 = MeanWithCi(top1);
  s.top5 = MeanWithCi(top5);
  s.runs = std::move(runs);
  return s;
}

}  // namespace

Result<SweepAxis> ParseAttackAxis(AttackKind kind, std::string_view text) {
  Result<SweepAxis> split = SplitAxis(text);
  if (!split.ok()) return split.status();
  SweepAxis axis = std::move(split).value();
  for (std::string& value : axis.values) {
    AttackSetup scratch;
    scratch.kind = kind;
    if (Status s = SetAttackField(scratch, axis.key, value); !s.ok()) return s;
    value = GetAttackField(scratch, axis.key).value();
  }
  return axis;
}

Result<AttackPlan> PlanAttackSweep(const AttackSetup& base, std::vector<SweepAxis> axes) {
  double points = 1;
  for (std::size_t a = 0; a < axes.size(); ++a) {
    if (axes[a].values.empty()) {
      return Status::InvalidArgument(
          fmt::format("the list of values for '{}' is empty", axes[a].key));
    }
    for (std::size_t b = 0; b < a; ++b) {
      if (axes[b].key == axes[a].key) {
        return Status::InvalidArgument(fmt::format(
            "'{}' is varied twice: give all its values in one FIELD=V1,V2,...", axes[a].key));
      }
    }
    if (base.kind == AttackKind::kTiming && axes[a].key == "repetitions") {
      return Status::InvalidArgument(
          "timing field repetitions cannot be varied: it is the number of runs per point");
    }
    points *= static_cast<double>(axes[a].values.size());
  }
  if (points > static_cast<double>(kMaxAttackPoints)) {
    return Status::InvalidArgument(
        fmt::format("the attack sweep asks for {:.0f} points; at most {} are allowed: vary fewer "
                    "values",
                    points, kMaxAttackPoints));
  }
  AttackPlan plan;
  plan.kind = base.kind;
  plan.axes = std::move(axes);
  const auto count = static_cast<std::uint64_t>(points);
  for (std::uint64_t p = 0; p < count; ++p) {
    AttackPoint point;
    point.index = p;
    point.setup = base;
    point.values = PointValues(plan.axes, p);
    for (std::size_t a = 0; a < plan.axes.size(); ++a) {
      if (Status s = SetAttackField(point.setup, plan.axes[a].key, point.values[a]); !s.ok()) {
        return Status::InvalidArgument(Prefix(plan, point) + s.message());
      }
    }
    if (Status s = point.setup.Validate(); !s.ok()) {
      return Status::InvalidArgument(Prefix(plan, point) + s.message());
    }
    plan.points.push_back(std::move(point));
  }
  return plan;
}

Result<std::vector<AttackOutcome>> RunAttackSweep(const AttackPlan& plan,
                                                  const AttackSweepOptions& options) {
  const std::uint64_t per_point = JobsPerPoint(plan);
  std::vector<AttackOutcome> outcomes(plan.points.size());
  std::vector<TimingResult> timing_runs(
      plan.kind == AttackKind::kTiming ? plan.points.size() * per_point : 0);

  for (std::size_t p = 0; p < outcomes.size(); ++p) outcomes[p].point = p;

  ParallelTasks tasks;
  tasks.count = plan.points.size() * per_point;
  tasks.threads = options.jobs > 0 ? options.jobs : DefaultThreads();
  tasks.work = [&](std::uint64_t i, const std::function<void(double)>&) -> Status {
    const AttackPoint& point = plan.points[i / per_point];
    AttackOutcome& out = outcomes[point.index];
    switch (plan.kind) {
      case AttackKind::kSda: {
        Result<SdaResult> r = RunSda(point.setup.sda, point.index);
        if (!r.ok()) return r.status();
        out.sda = std::move(r).value();
        return Status::Ok();
      }
      case AttackKind::kFlooding: {
        Result<FloodingResult> r = RunFloodingAttack(point.setup.flooding, point.index);
        if (!r.ok()) return r.status();
        out.flooding = std::move(r).value();
        return Status::Ok();
      }
      case AttackKind::kTiming:
        break;
    }
    Result<TimingResult> r = RunTimingAttack(point.setup.timing, point.index, i % per_point);
    if (!r.ok()) return r.status();
    timing_runs[i] = std::move(r).value();
    return Status::Ok();
  };
  tasks.commit = [&](std::uint64_t i) -> Status {
    if ((i + 1) % per_point != 0) return Status::Ok();  // the point's last job is its commit
    const std::uint64_t p = i / per_point;
    AttackOutcome& out = outcomes[p];
    if (plan.kind == AttackKind::kTiming) {
      const auto first = timing_runs.begin() + static_cast<std::ptrdiff_t>(p * per_point);
      out.timing = SummarizeTiming(
          plan.points[p].setup.timing,
          std::vector<TimingResult>(
              std::make_move_iterator(first),
              std::make_move_iterator(first + static_cast<std::ptrdiff_t>(per_point))));
    }
    return options.on_point ? options.on_point(out) : Status::Ok();
  };
  if (options.on_progress) {
    tasks.on_progress = [&](const ParallelProgress& p) {
      options.on_progress(SweepProgress{p.jobs_done, p.jobs_total, p.elapsed_s});
    };
  }
  if (Status s = RunInOrder(tasks); !s.ok()) return s;
  return outcomes;
}

}  // namespace sotto::sim::attacks
