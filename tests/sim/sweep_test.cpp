// Sweeps (sim/include/sotto/sim/sweep.h) and attack sweeps (attack_sweep.h): the output does not
// depend on the thread count, the points are the cartesian product in a fixed order, the
// confidence intervals follow Student's t, the summary's means are the means of the per-run rows,
// and every bad axis is a one-line error naming the key.
#include "sotto/sim/sweep.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "sim_test_util.h"
#include "sotto/sim/attack_sweep.h"
#include "sotto/sim/rng.h"
#include "sotto/sim/simulator.h"

namespace {

using namespace sotto::sim;
using sotto::Status;
using sotto::sim::testing::MustParse;

// About 250 messages per run: a few milliseconds each.
constexpr const char* kTiny =
    "clients = 50\nlayers = 1\nbatch_size = 5\ntimeout_ms = 200\nduration_s = 6\nburn_in_s = 1\n"
    "drain_s = 5\nreal_rate_per_s = 1\n";

SweepAxis Axis(const std::string& text) {
  auto axis = ParseSweepAxis(text);
  INFO(axis.status().message());
  REQUIRE(axis.ok());
  return *axis;
}

SweepPlan Plan(const Scenario& base, std::vector<SweepAxis> axes, std::uint32_t repetitions) {
  auto plan = PlanSweep(base, std::move(axes), repetitions);
  INFO(plan.status().message());
  REQUIRE(plan.ok());
  return *plan;
}

struct Output {
  std::string csv, jsonl;
  std::vector<Results> runs;
};

Output Sweep(const SweepPlan& plan, unsigned jobs) {
  Output out;
  out.csv = SweepCsvHeader(plan) + "\n";
  SweepOptions options;
  options.jobs = jobs;
  options.collect_messages = true;
  options.on_run = [&](const SweepRun& run) {
    out.csv += SweepCsvRow(plan, *run.results) + "\n";
    out.jsonl += run.messages_jsonl;
    return Status::Ok();
  };
  auto runs = RunSweep(plan, options);
  INFO(runs.status().message());
  REQUIRE(runs.ok());
  out.runs = *runs;
  return out;
}

std::vector<std::string> SplitCsv(const std::string& line) {
  std::vector<std::string> cells;
  std::stringstream in(line);
  std::string cell;
  while (std::getline(in, cell, ',')) cells.push_back(cell);
  if (!line.empty() && line.back() == ',') cells.emplace_back();
  return cells;
}

// CSV text → rows of column name → cell.
std::vector<std::map<std::string, std::string>> ReadCsv(const std::string& text) {
  std::stringstream in(text);
  std::string line;
  std::getline(in, line);
  const std::vector<std::string> header = SplitCsv(line);
  std::vector<std::map<std::string, std::string>> rows;
  while (std::getline(in, line)) {
    const std::vector<std::string> cells = SplitCsv(line);
    REQUIRE(cells.size() == header.size());
    std::map<std::string, std::string> row;
    for (std::size_t i = 0; i < header.size(); ++i) row[header[i]] = cells[i];
    rows.push_back(std::move(row));
  }
  return rows;
}

std::string AxisError(const std::string& text) {
  auto axis = ParseSweepAxis(text);
  REQUIRE_FALSE(axis.ok());
  CHECK(axis.status().message().find('\n') == std::string::npos);
  return axis.status().message();
}

}  // namespace

TEST_CASE("a sweep writes the same bytes whatever the number of threads", "[sim][sweep]") {
  const SweepPlan plan = Plan(MustParse(kTiny), {Axis("batch_size=2,5"), Axis("layers=1, 2")}, 3);
  REQUIRE(plan.Runs() == 12);
  const Output one = Sweep(plan, 1);
  const Output two = Sweep(plan, 2);
  const Output four = Sweep(plan, 4);
  CHECK(one.csv == two.csv);
  CHECK(one.csv == four.csv);
  CHECK(one.jsonl == two.jsonl);
  CHECK_FALSE(one.jsonl.empty());
  CHECK(one.jsonl.rfind("{\"point\":0,\"repetition\":0,", 0) == 0);
  // 12 rows after the header, in (point, repetition) order, the varied keys first.
  const auto rows = ReadCsv(one.csv);
  REQUIRE(rows.size() == 12);
  CHECK(one.csv.rfind("batch_size,layers,point,repetition,run_seed,", 0) == 0);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    CHECK(rows[i].at("point") == std::to_string(i / 3));
    CHECK(rows[i].at("repetition") == std::to_string(i % 3));
  }
  // The cartesian product, the last axis fastest.
  CHECK(rows[0].at("batch_size") == "2");
  CHECK(rows[0].at("layers") == "1");
  CHECK(rows[3].at("layers") == "2");
  CHECK(rows[6].at("batch_size") == "5");
  CHECK(rows[9].at("layers") == "2");
  // Each run is exactly the single run with its (point, repetition) seed, so point 0 is `run`.
  for (const std::size_t i : {0, 4, 11}) {
    RunOptions options;
    options.point = i / 3;
    options.repetition = i % 3;
    auto alone = RunScenario(plan.points[i / 3].scenario, options);
    REQUIRE(alone.ok());
    CHECK(ResultsCsvRow(*alone) == ResultsCsvRow(one.runs[i]));
    CHECK(alone->run_seed == DeriveSeed(plan.points[i / 3].scenario.seed, i / 3, i % 3));
  }
}

TEST_CASE("confidence intervals are Student-t 95% intervals", "[sim][sweep]") {
  // 1..5: mean 3, s = √2.5, t(0.975, 4) = 2.776: half-width 2.776 · √2.5 / √5 = 1.96293.
  const std::vector<double> five = {1, 2, 3, 4, 5};
  const auto ci = MeanWithCi95(five);
  CHECK(ci.n == 5);
  CHECK(ci.mean == Approx(3.0));
  CHECK(ci.half_width == Approx(2.776 * std::sqrt(2.5) / std::sqrt(5.0)).epsilon(1e-9));
  // Two values: t(0.975, 1) = 12.706, s = |a − b| / √2: half-width 12.706 · 1 / √2 · ...
  // = 12.706/2.
  const std::vector<double> two = {10, 11};
  CHECK(MeanWithCi95(two).half_width == Approx(12.706 * (1 / std::sqrt(2.0)) / std::sqrt(2.0)));
  // 40 values 0,1,...,39: s = √(40·41/12) = 11.8322; t(0.975, 39) = 2.0227 (tables), within 0.2%.
  std::vector<double> forty;
  for (int i = 0; i < 40; ++i) forty.push_back(i);
  const auto big = MeanWithCi95(forty);
  CHECK(big.mean == Approx(19.5));
  CHECK(big.half_width ==
        Approx(2.0227 * std::sqrt(40.0 * 41.0 / 12.0) / std::sqrt(40.0)).epsilon(0.002));
  // One value, or none: no interval. Identical values: zero width.
  const std::vector<double> single = {7};
  CHECK(MeanWithCi95(single).half_width == 0);
  CHECK(MeanWithCi95(std::vector<double>{}).n == 0);
  const std::vector<double> same = {2, 2, 2};
  CHECK(MeanWithCi95(same).half_width == 0);
}

TEST_CASE("the summary's means are the means of the per-run rows", "[sim][sweep]") {
  const SweepPlan plan = Plan(MustParse(kTiny), {Axis("batch_size=3,10")}, 4);
  const Output out = Sweep(plan, 2);
  const auto summaries = SummarizeSweep(plan, out.runs);
  REQUIRE(summaries.size() == 2);
  std::string summary_csv = SweepSummaryCsvHeader(plan) + "\n";
  for (const auto& s : summaries) summary_csv += SweepSummaryCsvRow(plan, s) + "\n";
  CHECK(summary_csv.rfind("batch_size,point,runs,entropy_mean_mean,entropy_mean_ci95,", 0) == 0);

  const auto rows = ReadCsv(out.csv);
  const auto points = ReadCsv(summary_csv);
  REQUIRE(points.size() == 2);
  for (std::size_t p = 0; p < 2; ++p) {
    CHECK(points[p].at("runs") == "4");
    CHECK(points[p].at("batch_size") == rows[p * 4].at("batch_size"));
    for (const std::string_view measure : SummaryMeasures()) {
      const std::string name(measure);
      std::vector<double> values;
      for (std::size_t r = 0; r < 4; ++r) values.push_back(std::stod(rows[p * 4 + r].at(name)));
      double mean = 0;
      for (const double v : values) mean += v / 4;
      double squares = 0;
      for (const double v : values) squares += (v - mean) * (v - mean);
      const double half = 3.182 * std::sqrt(squares / 3) / 2;  // t(0.975, 3) · s / √4
      INFO("point " << p << ", " << name);
      CHECK(std::stod(points[p].at(name + "_mean")) == Approx(mean).epsilon(1e-12));
      CHECK(std::stod(points[p].at(name + "_ci95")) == Approx(half).epsilon(1e-9).margin(1e-12));
    }
  }
  // The bigger batch hides each message among more senders.
  CHECK(summaries[1].measures[0].mean > summaries[0].measures[0].mean + 1);
  const std::string table = FormatSweepSummary(plan, summaries);
  CHECK(table.find("batch_size") != std::string::npos);
  CHECK(table.find("±") != std::string::npos);
}

TEST_CASE("a summary leaves out what a run did not measure", "[sim][sweep]") {
  Scenario base = MustParse(kTiny);
  base.track_entropy = false;
  const SweepPlan plan = Plan(base, {}, 1);
  REQUIRE(plan.points.size() == 1);
  const Output out = Sweep(plan, 1);
  const auto summaries = SummarizeSweep(plan, out.runs);
  REQUIRE(summaries.size() == 1);
  CHECK(summaries[0].measures[0].n == 0);  // entropy not tracked
  CHECK(summaries[0].measures[3].n == 1);  // latency measured once: no interval
  const std::string row = SweepSummaryCsvRow(plan, summaries[0]);
  CHECK(row.rfind("0,1,,,,,,,", 0) == 0);  // point, runs, then 3 entropy measures empty
}

TEST_CASE("bad axes and sweeps are one-line errors naming the key", "[sim][sweep]") {
  CHECK(AxisError("bogus=1,2").find("bogus") != std::string::npos);
  CHECK(AxisError("clients=").find("empty") != std::string::npos);
  CHECK(AxisError("clients=10,,20").find("value 2") != std::string::npos);
  CHECK(AxisError("clients").find("KEY=V1,V2") != std::string::npos);
  CHECK(AxisError("=1,2").find("KEY=V1,V2") != std::string::npos);
  const std::string nan = AxisError("clients=10,abc");
  CHECK(nan.find("clients") != std::string::npos);
  CHECK(nan.find("abc") != std::string::npos);
  CHECK(nan.find("[2, 10000000]") != std::string::npos);
  CHECK(AxisError("real_rate_per_s=1,-1").find("real_rate_per_s") != std::string::npos);
  CHECK(AxisError("repetitions=1,2").find("--repetitions") != std::string::npos);
  // Canonical values: "1e1" is 10.
  CHECK(Axis("duration_s=1e1, 20").values == std::vector<std::string>{"10", "20"});

  const Scenario base = MustParse(kTiny);
  auto twice = PlanSweep(base, {Axis("clients=10,20"), Axis("clients=30")}, 1);
  REQUIRE_FALSE(twice.ok());
  CHECK(twice.status().message().find("'clients' is varied twice") != std::string::npos);
  // A point that breaks a cross-key rule names the point and the rule.
  auto cascades = PlanSweep(base, {Axis("topology=cascades"), Axis("cascades=1,4")}, 1);
  REQUIRE_FALSE(cascades.ok());
  CHECK(cascades.status().message().find("point 1 (topology=cascades, cascades=4)") !=
        std::string::npos);
  CHECK(cascades.status().message().find("mixes_per_layer") != std::string::npos);
  // Bounded: 100 × 100 × 11 runs is too many, refused before anything runs.
  std::string hundred = "seed=";
  for (int i = 0; i < 100; ++i) hundred += (i ? "," : "") + std::to_string(i);
  std::string batches = "batch_size=";
  for (int i = 1; i <= 100; ++i) batches += (i > 1 ? "," : "") + std::to_string(i);
  auto big = PlanSweep(base, {Axis(hundred), Axis(batches)}, 11);
  REQUIRE_FALSE(big.ok());
  CHECK(big.status().message().find("110000 runs") != std::string::npos);
  CHECK_FALSE(PlanSweep(base, {}, 0).ok());
}

TEST_CASE("attack sweeps: fields by name, rows equal the library's, any thread count",
          "[sim][sweep][attack]") {
  using namespace sotto::sim::attacks;
  AttackSetup sda;
  sda.kind = AttackKind::kSda;
  REQUIRE(SetAttackField(sda, "recipients", "200").ok());
  REQUIRE(SetAttackField(sda, "friends", "3").ok());
  REQUIRE(SetAttackField(sda, RepetitionsField(AttackKind::kSda), "4").ok());
  CHECK(GetAttackField(sda, "recipients").value() == "200");
  CHECK(SetAttackField(sda, "recipients", "-5").message().find("recipients") != std::string::npos);
  CHECK(SetAttackField(sda, "recipients", "1").message().find("[2, 10000000]") !=
        std::string::npos);
  CHECK(SetAttackField(sda, "bogus", "1").message().find("recipients, batch_size") !=
        std::string::npos);
  CHECK_FALSE(ParseAttackAxis(AttackKind::kSda, "batch_size=").ok());
  CHECK(ParseAttackAxis(AttackKind::kSda, "batch_size=4,x").status().message().find("batch_size") !=
        std::string::npos);

  auto axis = ParseAttackAxis(AttackKind::kSda, "batch_size=2,8");
  REQUIRE(axis.ok());
  auto plan = PlanAttackSweep(sda, {*axis});
  REQUIRE(plan.ok());
  std::vector<std::string> rows;
  AttackSweepOptions options;
  options.jobs = 2;
  options.on_point = [&](const AttackOutcome& o) {
    rows.push_back(AttackCsvRow(o));
    return Status::Ok();
  };
  auto outcomes = RunAttackSweep(*plan, options);
  REQUIRE(outcomes.ok());
  REQUIRE(rows.size() == 2);
  SdaConfig second = sda.sda;
  second.batch_size = 8;
  // Point 1 draws from DeriveSeed(seed, 1, r), as RunSda(config, 1) does; not point 0's streams.
  const auto direct = RunSda(second, 1);
  REQUIRE(direct.ok());
  CHECK(outcomes->at(1).sda->alice_rounds.mean == direct->alice_rounds.mean);
  CHECK(outcomes->at(1).sda->total_rounds.mean == direct->total_rounds.mean);
  const std::string header = AttackCsvHeader(AttackKind::kSda);
  CHECK(SplitCsv(header).size() == SplitCsv(rows[1]).size());
  CHECK(rows[1].rfind("1,200,8,3,", 0) == 0);

  // Bad combinations name the point.
  AttackSetup few = sda;
  REQUIRE(SetAttackField(few, "friends", "150").ok());
  auto bad = PlanAttackSweep(few, {*ParseAttackAxis(AttackKind::kSda, "recipients=1000,100")});
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().find("point 1 (recipients=100)") != std::string::npos);

  // Timing: repetition r of point p is RunTimingAttack(config, p, r); jobs do not matter.
  AttackSetup timing;
  timing.kind = AttackKind::kTiming;
  REQUIRE(SetAttackField(timing, "messages", "500").ok());
  REQUIRE(SetAttackField(timing, "repetitions", "3").ok());
  auto loads = PlanAttackSweep(timing, {*ParseAttackAxis(AttackKind::kTiming, "load=1,10")});
  REQUIRE(loads.ok());
  std::string csv1, csv2;
  for (const unsigned jobs : {1u, 2u}) {
    AttackSweepOptions o;
    o.jobs = jobs;
    o.on_point = [&, jobs](const AttackOutcome& outcome) {
      (jobs == 1 ? csv1 : csv2) += AttackCsvRow(outcome) + "\n";
      return Status::Ok();
    };
    REQUIRE(RunAttackSweep(*loads, o).ok());
  }
  CHECK(csv1 == csv2);
  auto timing_out = RunAttackSweep(*loads);
  REQUIRE(timing_out.ok());
  const TimingSummary& t = *timing_out->at(0).timing;
  REQUIRE(t.runs.size() == 3);
  CHECK(RunTimingAttack(t.config, 0, 2)->top1 == t.runs[2].top1);
  const TimingSummary& t1 = *timing_out->at(1).timing;
  CHECK(RunTimingAttack(t1.config, 1, 2)->top1 == t1.runs[2].top1);
  CHECK(RunTimingAttack(t1.config, 1, 0)->mean_candidates == t1.runs[0].mean_candidates);
  // The old scheme (seed + r at point 0) is gone: point 1 does not reuse point 0's streams.
  TimingConfig shifted = t1.config;
  shifted.seed += 2;
  CHECK(RunTimingAttack(shifted)->mean_candidates != t1.runs[2].mean_candidates);
  CHECK(t.top1.n == 3);
  CHECK(FormatAttackOutcome(timing_out->at(0)).find("top-1") != std::string::npos);
  CHECK_FALSE(
      PlanAttackSweep(timing, {*ParseAttackAxis(AttackKind::kTiming, "repetitions=1,2")}).ok());
}

TEST_CASE("a sweep refuses --jobs whose runs together would not fit in memory", "[sim][sweep]") {
  // About 2.7 GiB per run (entropy in 20 continuous mixes of 10 million clients): one run fits,
  // four at once do not. Refused before anything runs.
  Scenario base = MustParse(
      "clients = 10000000\ntopology = stratified\nlayers = 2\nmixes_per_layer = 10\n"
      "policy = continuous\n");
  const std::uint64_t each = EstimateRunBytes(base);
  REQUIRE(each < kMaxRunBytes);
  REQUIRE(each * 4 > kMaxRunBytes);
  auto plan = PlanSweep(base, {Axis("seed=1,2,3,4")}, 1);
  REQUIRE(plan.ok());
  SweepOptions options;
  options.jobs = 4;
  auto runs = RunSweep(*plan, options);
  REQUIRE_FALSE(runs.ok());
  INFO(runs.status().message());
  CHECK(runs.status().message().find("4 runs at once") != std::string::npos);
  CHECK(runs.status().message().find("--jobs") != std::string::npos);
  CHECK(runs.status().message().find('\n') == std::string::npos);
}
