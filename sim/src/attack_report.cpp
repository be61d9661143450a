// The text forms of attack results (attack_sweep.h): a CSV row per point with the config's fields
// and the attack's measures, and a one-line summary for people.
#include <fmt/format.h>

#include <algorithm>
#include <vector>

#include "sotto/sim/attack_sweep.h"

namespace sotto::sim::attacks {
namespace {

constexpr std::string_view kSdaMeasures =
    "success_rate,alice_rounds_mean,alice_rounds_ci95,alice_rounds_n,total_rounds_mean,"
    "total_rounds_ci95,danezis_l2,ratio_l2,danezis_l3,ratio_l3,chance,friend_weight,"
    "nonfriend_weight";
constexpr std::string_view kFloodingMeasures =
    "success_rate,success_within_1,success_within_3,success_within_10,detection_rate,"
    "attacker_packets_mean,attacker_packets_ci95,attack_s_mean,attack_s_ci95,target_rounds_mean,"
    "target_rounds_ci95,honest_flushed_mean,chance";
constexpr std::string_view kTimingMeasures =
    "top1_mean,top1_ci95,top5_mean,top5_ci95,predicted_top1,chance_top1_window,"
    "chance_top5_window,chance_input_window,chance_top1_all,chance_top5_all,mean_candidates";

AttackSetup SetupOf(const AttackOutcome& o) {
  AttackSetup s;
  if (o.sda) {
    s.kind = AttackKind::kSda;
    s.sda = o.sda->config;
  } else if (o.flooding) {
    s.kind = AttackKind::kFlooding;
    s.flooding = o.flooding->config;
  } else if (o.timing) {
    s.kind = AttackKind::kTiming;
    s.timing = o.timing->config;
    s.timing_repetitions = o.timing->runs.size();
  }
  return s;
}

// ",mean,ci95" with empty cells when no value (or fewer than two for the interval).
std::string MeanCells(const MeanCi& m) {
  return fmt::format(",{},{}", m.n > 0 ? fmt::format("{}", m.mean) : "",
                     m.n > 1 ? fmt::format("{}", m.half_width) : "");
}

std::string MeanText(const MeanCi& m, int decimals) {
  if (m.n == 0) return "-";
  if (m.n < 2) return fmt::format("{:.{}f}", m.mean, decimals);
  return fmt::format("{:.{}f} ± {:.{}f}", m.mean, decimals, m.half_width, decimals);
}

double Within(const FloodingResult& r, std::size_t k) {
  if (r.success_within_rounds.empty()) return 0;
  return r.success_within_rounds[std::min(k, r.success_within_rounds.size()) - 1];
}

template <class Get>
double MeanOver(const std::vector<TimingResult>& runs, Get get) {
  if (runs.empty()) return 0;
  double sum = 0;
  for (const auto& r : runs) sum += get(r);
  return sum / static_cast<double>(runs.size());
}

std::string SdaMeasures(const SdaResult& r) {
  const SdaConfig& c = r.config;
  const double l2 = DanezisSdaRounds(c.recipients, c.batch_size, c.friends, 2.0);
  const double l3 = DanezisSdaRounds(c.recipients, c.batch_size, c.friends, 3.0);
  const bool any = r.alice_rounds.n > 0;
  return fmt::format(",{}{},{}{},{},{},{},{},{},{},{}", r.success_rate, MeanCells(r.alice_rounds),
                     r.alice_rounds.n, MeanCells(r.total_rounds), l2,
                     any ? fmt::format("{}", r.alice_rounds.mean / l2) : "", l3,
                     any ? fmt::format("{}", r.alice_rounds.mean / l3) : "", r.chance_baseline,
                     r.mean_friend_weight, r.mean_nonfriend_weight);
}

std::string FloodingMeasures(const FloodingResult& r) {
  const bool any = r.honest_flushed.n > 0;
  return fmt::format(",{},{},{},{},{}{}{}{},{},{}", r.success_rate, Within(r, 1), Within(r, 3),
                     Within(r, 10), r.detection_rate, MeanCells(r.attacker_packets),
                     MeanCells(r.attack_seconds), MeanCells(r.target_rounds),
                     any ? fmt::format("{}", r.honest_flushed.mean) : "", r.chance_baseline);
}

std::string TimingMeasures(const TimingSummary& t) {
  const auto& runs = t.runs;
  return fmt::format("{}{},{},{},{},{},{},{},{}", MeanCells(t.top1), MeanCells(t.top5),
                     t.config.hops == 1 ? fmt::format("{}", 1.0 / (1.0 + t.config.load)) : "",
                     MeanOver(runs, [](const TimingResult& r) { return r.chance_top1_window; }),
                     MeanOver(runs, [](const TimingResult& r) { return r.chance_top5_window; }),
                     MeanOver(runs, [](const TimingResult& r) { return r.chance_input_window; }),
                     MeanOver(runs, [](const TimingResult& r) { return r.chance_top1_all; }),
                     MeanOver(runs, [](const TimingResult& r) { return r.chance_top5_all; }),
                     MeanOver(runs, [](const TimingResult& r) { return r.mean_candidates; }));
}

}  // namespace

std::string AttackCsvHeader(AttackKind kind) {
  std::string out = "point";
  for (const std::string_view field : AttackFields(kind)) out += fmt::format(",{}", field);
  switch (kind) {
    case AttackKind::kSda:
      return out + "," + std::string(kSdaMeasures);
    case AttackKind::kFlooding:
      return out + "," + std::string(kFloodingMeasures);
    case AttackKind::kTiming:
      break;
  }
  return out + "," + std::string(kTimingMeasures);
}

std::string AttackCsvRow(const AttackOutcome& o) {
  const AttackSetup setup = SetupOf(o);
  std::string out = fmt::format("{}", o.point);
  for (const std::string_view field : AttackFields(setup.kind)) {
    out += "," + GetAttackField(setup, field).value();
  }
  if (o.sda) return out + SdaMeasures(*o.sda);
  if (o.flooding) return out + FloodingMeasures(*o.flooding);
  if (o.timing) return out + TimingMeasures(*o.timing);
  return out;
}

std::string FormatAttackOutcome(const AttackOutcome& o) {
  if (o.sda) {
    const SdaResult& r = *o.sda;
    const SdaConfig& c = r.config;
    const double l2 = DanezisSdaRounds(c.recipients, c.batch_size, c.friends, 2.0);
    const double l3 = DanezisSdaRounds(c.recipients, c.batch_size, c.friends, 3.0);
    const double mean = r.alice_rounds.mean;
    return fmt::format(
        "N={} b={} m={}: Alice's friends named after {} of her rounds ({}/{} attacks succeeded); "
        "Danezis's estimate {:.1f} (l=2, ratio {:.2f}) to {:.1f} (l=3, ratio {:.2f}); a blind "
        "guess: {:.3g}",
        c.recipients, c.batch_size, c.friends, MeanText(r.alice_rounds, 1), r.alice_rounds.n,
        c.repetitions, l2, mean / l2, l3, mean / l3, r.chance_baseline);
  }
  if (o.flooding) {
    const FloodingResult& r = *o.flooding;
    return fmt::format(
        "{}: success {:.3f} (within 1/3/10 rounds {:.3f}/{:.3f}/{:.3f}), detected {:.3f}; {} "
        "attacker packets, {} s, {} rounds with the target; a blind guess: {:.4f}",
        r.config.policy.Describe(), r.success_rate, Within(r, 1), Within(r, 3), Within(r, 10),
        r.detection_rate, MeanText(r.attacker_packets, 1), MeanText(r.attack_seconds, 2),
        MeanText(r.target_rounds, 2), r.chance_baseline);
  }
  if (o.timing) {
    const TimingSummary& t = *o.timing;
    const TimingConfig& c = t.config;
    std::string predicted =
        c.hops == 1 ? fmt::format("; 1/(1+λ/μ) = {:.3f}", 1.0 / (1.0 + c.load)) : "";
    return fmt::format(
        "λ/μ={} hops={} N={}: top-1 {}, top-5 {} over {} run{}; a blind guess in the window: "
        "{:.3f} / {:.3f}, among all: {:.4f}{}",
        c.load, c.hops, c.senders, MeanText(t.top1, 3), MeanText(t.top5, 3), t.runs.size(),
        t.runs.size() == 1 ? "" : "s",
        MeanOver(t.runs, [](const TimingResult& r) { return r.chance_top1_window; }),
        MeanOver(t.runs, [](const TimingResult& r) { return r.chance_top5_window; }),
        MeanOver(t.runs, [](const TimingResult& r) { return r.chance_top1_all; }), predicted);
  }
  return fmt::format("point {}: no result", o.point);
}

}  // namespace sotto::sim::attacks
