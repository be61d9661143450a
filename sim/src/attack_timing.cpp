// A timing-correlation attack on a cascade of continuous-time mixes (the real continuous policy):
// the global passive observer scores each input before an output by the likelihood of the delay
// and guesses the sender with the largest total. Model and results: attacks.h and sim/README.md
// ("Attacks").
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <vector>

#include "sotto/core/check.h"
#include "sotto/sim/attacks.h"
#include "sotto/sim/rng.h"

namespace sotto::sim::attacks {
namespace {

using mixnode::TimeUs;

constexpr std::size_t kMaxSenders = 10'000'000;
constexpr std::size_t kMaxHops = 10;
constexpr std::size_t kMaxMessages = 10'000'000;
constexpr double kMaxLoad = 10'000;
constexpr double kMinLoad = 1e-6;  // smaller loads put arrivals beyond any run's time
constexpr double kMaxWindowInputs = 1e6;
constexpr double kMaxArrivals = 2e7;         // about 200 MB of inputs
constexpr double kMaxSimulatedUs = 1e17;     // about 3,000 years, far from TimeUs's limit
constexpr TimeUs kLastUs = TimeUs{1} << 62;  // arrivals saturate here (never reached)

Status OutOfRange(std::string_view field, double value, std::string_view allowed) {
  return Status::InvalidArgument(
      fmt::format("timing field {} = {} is out of range: it must be {}", field, value, allowed));
}

// Scores one output against the inputs and keeps the tallies.
class Scorer {
 public:
  Scorer(const TimingConfig& c, const std::vector<TimeUs>& in_time,
         const std::vector<std::uint32_t>& sender)
      : in_time_(in_time),
        sender_(sender),
        hops_(static_cast<double>(c.hops)),
        mean_delay_us_(c.mean_delay_s * 1e6),
        window_us_(static_cast<TimeUs>(c.window_delays * hops_ * mean_delay_us_)),
        score_(c.senders, 0.0) {}

  // Message `target` left the last mix at `out`.
  void Score(std::size_t target, TimeUs out) {
    const auto first = std::lower_bound(in_time_.begin(), in_time_.end(), out - window_us_);
    const auto last = std::upper_bound(in_time_.begin(), in_time_.end(), out);
    for (auto it = first; it != last; ++it) {
      const auto i = static_cast<std::size_t>(it - in_time_.begin());
      // The Erlang(hops, μ) density up to a constant factor: x^(hops-1)·e^(-x), x = delay·μ.
      const double x = static_cast<double>(out - *it) / mean_delay_us_;
      const double likelihood = std::pow(x, hops_ - 1) * std::exp(-x);
      const std::uint32_t s = sender_[i];
      if (score_[s] == 0.0) touched_.push_back(s);
      score_[s] += likelihood;
      // A sender whose inputs all score 0 (underflow) is still a candidate.
      if (score_[s] == 0.0) score_[s] = std::numeric_limits<double>::denorm_min();
    }
    const std::uint32_t truth = sender_[target];
    const double mine = score_[truth];
    // Senders ahead of the truth (ties go to the smaller id); if the true input fell outside
    // the window and the truth sent nothing else in it, every candidate is ahead.
    std::size_t rank = 0;
    for (const std::uint32_t s : touched_) {
      if (score_[s] > mine || (score_[s] == mine && s < truth)) ++rank;
    }
    const auto senders = static_cast<double>(touched_.size());
    const auto inputs = static_cast<double>(last - first);
    ++scored_;
    if (rank < 1) ++top1_;
    if (rank < 5) ++top5_;
    if (!touched_.empty()) {
      chance_top1_ += 1.0 / senders;
      chance_top5_ += std::min(5.0, senders) / senders;
      chance_input_ += 1.0 / inputs;
    }
    candidates_ += inputs;
    for (const std::uint32_t s : touched_) score_[s] = 0.0;
    touched_.clear();
  }

  void Fill(TimingResult& r) const {
    const auto n = static_cast<double>(scored_);
    r.top1 = static_cast<double>(top1_) / n;
    r.top5 = static_cast<double>(top5_) / n;
    r.chance_top1_window = chance_top1_ / n;
    r.chance_top5_window = chance_top5_ / n;
    r.chance_input_window = chance_input_ / n;
    r.mean_candidates = candidates_ / n;
  }

 private:
  const std::vector<TimeUs>& in_time_;
  const std::vector<std::uint32_t>& sender_;
  const double hops_;
  const double mean_delay_us_;
  const TimeUs window_us_;
  std::vector<double> score_;  // by sender; zero outside Score
  std::vector<std::uint32_t> touched_;
  std::size_t scored_ = 0, top1_ = 0, top5_ = 0;
  double chance_top1_ = 0, chance_top5_ = 0, chance_input_ = 0, candidates_ = 0;
};

Result<TimingResult> RunTimingPoint(const TimingConfig& c, std::uint64_t point,
                                    std::uint64_t repetition) {
  if (Status s = c.Validate(); !s.ok()) return s;
  SimRng rng(DeriveSeed(c.seed, point, repetition));

  mixnode::PolicyConfig mix;
  mix.kind = mixnode::PolicyKind::kContinuous;
  mix.mean_delay_us = std::max<TimeUs>(1, std::llround(c.mean_delay_s * 1e6));
  std::vector<std::unique_ptr<mixnode::MixingPolicy>> cascade;
  for (std::size_t i = 0; i < c.hops; ++i) cascade.push_back(mixnode::MakePolicy(mix, rng));

  // Inputs, by message index (= packet handle), in time order.
  std::vector<TimeUs> in_time;
  std::vector<std::uint32_t> sender;
  Scorer scorer(c, in_time, sender);
  const double mean_gap_us = c.mean_delay_s * 1e6 / c.load;
  const auto burn_in_us =
      static_cast<TimeUs>(c.burn_in_delays * static_cast<double>(c.hops) * c.mean_delay_s * 1e6);
  std::optional<std::size_t> first_measured;  // the first message sent after the burn-in
  std::size_t remaining = c.messages;
  TimeUs next_arrival = rng.ExponentialUs(mean_gap_us);

  while (remaining > 0) {
    // The earliest event; on a tie the arrival goes first, then the mixes in path order.
    const TimeUs arrival = next_arrival;
    TimeUs when = arrival;
    std::optional<std::size_t> hop;
    for (std::size_t i = 0; i < c.hops; ++i) {
      const std::optional<TimeUs> wake = cascade[i]->NextWakeup();
      if (wake && *wake < when) {
        when = *wake;
        hop = i;
      }
    }
    if (!hop) {
      const std::size_t m = in_time.size();
      in_time.push_back(arrival);
      sender.push_back(static_cast<std::uint32_t>(rng.Below(c.senders)));
      if (!first_measured && arrival >= burn_in_us) first_measured = m;
      cascade[0]->Add(m, arrival);
      // Saturating: Validate bounds the run near kMaxSimulatedUs, far below kLastUs, and a
      // draw is at most 2^62 µs, so this never wraps.
      const TimeUs gap = rng.ExponentialUs(mean_gap_us);
      next_arrival = next_arrival >= kLastUs - gap ? kLastUs : next_arrival + gap;
      continue;
    }
    for (const mixnode::PacketHandle h : cascade[*hop]->Release(when)) {
      if (*hop + 1 < c.hops) {
        cascade[*hop + 1]->Add(h, when);
      } else if (first_measured && h >= *first_measured && h < *first_measured + c.messages) {
        scorer.Score(h, when);
        --remaining;
      }
    }
  }

  TimingResult out;
  out.config = c;
  scorer.Fill(out);
  const auto n = static_cast<double>(c.senders);
  out.chance_top1_all = 1.0 / n;
  out.chance_top5_all = std::min(5.0, n) / n;
  if (c.hops == 1) out.predicted_top1 = 1.0 / (1.0 + c.load);
  return out;
}

}  // namespace

Status TimingConfig::Validate() const {
  if (senders < 2 || senders > kMaxSenders) {
    return OutOfRange("senders", static_cast<double>(senders), "in [2, 10000000]");
  }
  // Written so that NaN fails too.
  if (!(load >= kMinLoad && load <= kMaxLoad)) {
    return OutOfRange("load", load, "in [1e-6, 10000] (arrivals per mean delay, λ/μ)");
  }
  if (!(mean_delay_s >= 1e-6 && mean_delay_s <= 86'400)) {
    return OutOfRange("mean_delay_s", mean_delay_s, "in [1e-6, 86400] seconds");
  }
  // Time is kept in whole microseconds: arrivals must be further apart than that on average.
  if (mean_delay_s * 1e6 / load < 1.0) {
    return Status::InvalidArgument(fmt::format(
        "timing fields load = {} and mean_delay_s = {} put arrivals {} µs apart on average, below "
        "the simulator's 1 µs clock: lower load or raise mean_delay_s",
        load, mean_delay_s, mean_delay_s * 1e6 / load));
  }
  if (hops < 1 || hops > kMaxHops) {
    return OutOfRange("hops", static_cast<double>(hops), "in [1, 10]");
  }
  if (messages < 1 || messages > kMaxMessages) {
    return OutOfRange("messages", static_cast<double>(messages), "in [1, 10000000]");
  }
  if (!(burn_in_delays >= 0 && burn_in_delays <= 1e6)) {
    return OutOfRange("burn_in_delays", burn_in_delays, "in [0, 1e6] mean delays");
  }
  if (!(window_delays > 0 && window_delays <= 1e3)) {
    return OutOfRange("window_delays", window_delays, "in (0, 1000] mean delays");
  }
  // Bounds on the work and memory of one run, and on its simulated time (TimeUs must not wrap).
  const double hop_count = static_cast<double>(hops);
  const double per_window = load * hop_count * window_delays;
  if (per_window > kMaxWindowInputs) {
    return Status::InvalidArgument(fmt::format(
        "timing fields load × hops × window_delays = {} inputs scored per output; at most {}: "
        "lower load or window_delays",
        per_window, kMaxWindowInputs));
  }
  const double arrivals = static_cast<double>(messages) + load * hop_count * (burn_in_delays + 40);
  if (arrivals > kMaxArrivals) {
    return Status::InvalidArgument(fmt::format(
        "timing fields messages + load × hops × burn_in_delays ask for about {} messages in one "
        "run; at most {}: lower messages or burn_in_delays",
        arrivals, kMaxArrivals));
  }
  if (arrivals * mean_delay_s * 1e6 / load > kMaxSimulatedUs) {
    return Status::InvalidArgument(fmt::format(
        "timing fields messages, load and mean_delay_s make a run of about {} s of simulated "
        "time; at most {} s: raise load or lower mean_delay_s or messages",
        arrivals * mean_delay_s / load, kMaxSimulatedUs / 1e6));
  }
  return Status::Ok();
}

Result<TimingResult> RunTimingAttack(const TimingConfig& config, std::uint64_t point,
                                     std::uint64_t repetition) {
  return RunTimingPoint(config, point, repetition);
}

Result<std::vector<TimingResult>> RunTimingLoadSweep(const TimingConfig& base,
                                                     std::span<const double> loads) {
  std::vector<TimingResult> out;
  out.reserve(loads.size());
  for (std::size_t i = 0; i < loads.size(); ++i) {
    TimingConfig c = base;
    c.load = loads[i];
    Result<TimingResult> r = RunTimingPoint(c, i, 0);
    if (!r.ok()) return r.status();
    out.push_back(std::move(r).value());
  }
  return out;
}

}  // namespace sotto::sim::attacks
