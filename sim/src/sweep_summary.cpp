// Sweep summaries (sweep.h): per-point means with Student-t 95% intervals, and the CSV, JSON-lines
// and table forms of a sweep.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <optional>
#include <vector>

#include "attack_stats.h"
#include "sotto/sim/sweep.h"

namespace sotto::sim {
namespace {

enum class Needs : std::uint8_t { kNothing, kEntropy, kLatency };

struct Measure {
  std::string_view name;  // the per-run CSV column
  Needs needs;
  double (*get)(const Results&);
};

double MixQueueMean(const Results& r) {  // as ResultsCsvRow's queue_mean: mix layers only
  double sum = 0;
  std::size_t layers = 0;
  for (const auto& q : r.queues) {
    if (q.layer == 0) continue;
    sum += q.mean;
    ++layers;
  }
  return layers > 0 ? sum / static_cast<double>(layers) : 0.0;
}

double MixQueueMax(const Results& r) {
  std::uint64_t max = 0;
  for (const auto& q : r.queues) {
    if (q.layer != 0) max = std::max(max, q.max);
  }
  return static_cast<double>(max);
}

const std::array<Measure, 11> kMeasures = {{
    {"entropy_mean", Needs::kEntropy, [](const Results& r) { return r.entropy.mean; }},
    {"effective_set_mean", Needs::kEntropy,
     [](const Results& r) { return r.entropy.effective_set_mean; }},
    {"normalized_degree_mean", Needs::kEntropy,
     [](const Results& r) { return r.entropy.normalized_mean; }},
    {"latency_mean_ms", Needs::kLatency, [](const Results& r) { return r.latency.mean; }},
    {"latency_p50_ms", Needs::kLatency, [](const Results& r) { return r.latency.p50; }},
    {"latency_p95_ms", Needs::kLatency, [](const Results& r) { return r.latency.p95; }},
    {"latency_p99_ms", Needs::kLatency, [](const Results& r) { return r.latency.p99; }},
    {"overhead", Needs::kNothing, [](const Results& r) { return r.overhead; }},
    {"queue_mean", Needs::kNothing, MixQueueMean},
    {"queue_max", Needs::kNothing, MixQueueMax},
    {"corrupt_mixes", Needs::kNothing,
     [](const Results& r) { return static_cast<double>(r.corrupt_mixes.size()); }},
}};

const std::array<std::string_view, kMeasures.size()> kMeasureNames = [] {
  std::array<std::string_view, kMeasures.size()> names{};
  for (std::size_t i = 0; i < kMeasures.size(); ++i) names[i] = kMeasures[i].name;
  return names;
}();

bool Measured(const Measure& m, const Scenario& s, const Results& r) {
  switch (m.needs) {
    case Needs::kEntropy:
      return s.track_entropy && r.entropy.packets > 0;
    case Needs::kLatency:
      return r.latency.messages > 0;
    case Needs::kNothing:
      break;
  }
  return true;
}

// A CSV cell: quoted (RFC 4180) when it holds a comma, a quote or a line break.
std::string Cell(std::string_view text) {
  if (text.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(text);
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string AxisColumns(const SweepPlan& plan) {
  std::string out;
  for (const auto& axis : plan.axes) out += Cell(axis.key) + ",";
  return out;
}

std::string AxisValues(const SweepPlan& plan, std::uint64_t point) {
  std::string out;
  for (const auto& value : plan.points.at(point).values) out += Cell(value) + ",";
  return out;
}

std::string MeanText(const attacks::MeanCi& m, int decimals) {
  if (m.n == 0) return "-";
  if (m.n < 2) return fmt::format("{:.{}f}", m.mean, decimals);
  return fmt::format("{:.{}f} ± {:.{}f}", m.mean, decimals, m.half_width, decimals);
}

}  // namespace

attacks::MeanCi MeanWithCi95(std::span<const double> values) {
  return attacks::MeanWithCi(std::vector<double>(values.begin(), values.end()));
}

std::span<const std::string_view> SummaryMeasures() { return kMeasureNames; }

std::vector<PointSummary> SummarizeSweep(const SweepPlan& plan, std::span<const Results> runs) {
  std::vector<PointSummary> out;
  const std::uint64_t reps = plan.repetitions;
  for (const SweepPoint& point : plan.points) {
    PointSummary summary;
    summary.point = point.index;
    const std::uint64_t first = point.index * reps;
    const std::uint64_t last = std::min<std::uint64_t>(first + reps, runs.size());
    summary.runs = last > first ? last - first : 0;
    std::vector<double> values;
    for (const Measure& m : kMeasures) {
      values.clear();
      for (std::uint64_t i = first; i < last; ++i) {
        if (Measured(m, point.scenario, runs[i])) values.push_back(m.get(runs[i]));
      }
      summary.measures.push_back(MeanWithCi95(values));
    }
    out.push_back(std::move(summary));
  }
  return out;
}

std::string SweepCsvHeader(const SweepPlan& plan) { return AxisColumns(plan) + ResultsCsvHeader(); }

std::string SweepCsvRow(const SweepPlan& plan, const Results& run) {
  return AxisValues(plan, run.point) + ResultsCsvRow(run);
}

std::string SweepSummaryCsvHeader(const SweepPlan& plan) {
  std::string out = AxisColumns(plan) + "point,runs";
  for (const Measure& m : kMeasures) out += fmt::format(",{0}_mean,{0}_ci95", m.name);
  return out;
}

std::string SweepSummaryCsvRow(const SweepPlan& plan, const PointSummary& summary) {
  std::string out =
      AxisValues(plan, summary.point) + fmt::format("{},{}", summary.point, summary.runs);
  for (const attacks::MeanCi& m : summary.measures) {
    out += m.n > 0 ? fmt::format(",{}", m.mean) : ",";
    out += m.n > 1 ? fmt::format(",{}", m.half_width) : ",";
  }
  return out;
}

std::string SweepMessageJsonLine(std::uint64_t point, const MessageRecord& message) {
  const std::string line = MessageJsonLine(message);  // {"repetition":...}
  return fmt::format("{{\"point\":{},{}", point, std::string_view(line).substr(1));
}

std::string FormatSweepSummary(const SweepPlan& plan, std::span<const PointSummary> summaries) {
  // Columns: point, the axes, runs, then a few measures (index into kMeasures, decimals).
  constexpr std::array<std::pair<std::size_t, int>, 5> kShown = {
      {{0, 4}, {1, 1}, {3, 1}, {5, 1}, {7, 3}}};
  constexpr std::array<std::string_view, 5> kTitles = {"entropy (bits)", "2^H", "latency (ms)",
                                                       "latency p95 (ms)", "overhead"};
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> header = {"point"};
  for (const auto& axis : plan.axes) header.push_back(axis.key);
  header.emplace_back("runs");
  for (const auto title : kTitles) header.emplace_back(title);
  rows.push_back(std::move(header));
  for (const PointSummary& s : summaries) {
    std::vector<std::string> row = {fmt::format("{}", s.point)};
    for (const auto& value : plan.points.at(s.point).values) row.push_back(value);
    row.push_back(fmt::format("{}", s.runs));
    for (const auto& [index, decimals] : kShown)
      row.push_back(MeanText(s.measures[index], decimals));
    rows.push_back(std::move(row));
  }
  std::vector<std::size_t> width(rows.front().size(), 0);
  for (const auto& row : rows) {
    for (std::size_t c = 0; c < row.size(); ++c) {
      // "±" is two bytes but one column.
      const std::size_t n = row[c].size() - (row[c].find("±") != std::string::npos ? 1 : 0);
      width[c] = std::max(width[c], n);
    }
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t c = 0; c < row.size(); ++c) {
      const std::size_t n = row[c].size() - (row[c].find("±") != std::string::npos ? 1 : 0);
      line += row[c] + std::string(width[c] - n + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  out += "(means over the runs, ± the half-width of the 95% Student-t confidence interval)\n";
  return out;
}

}  // namespace sotto::sim
