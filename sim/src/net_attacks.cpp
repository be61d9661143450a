// The attacks over the simulated network (net_attacks.h): trace, timing, sda and flood, each an
// engine Observer, scored with the adversary harness's measure.
#include "sotto/sim/net_attacks.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <optional>
#include <unordered_map>
#include <utility>

#include "attack_stats.h"
#include "net_trace.h"
#include "parallel.h"
#include "sotto/sim/simulator.h"

namespace sotto::sim::netattack {
namespace {

using mixnode::TimeUs;

TimeUs SecondsToUs(double s) { return static_cast<TimeUs>(std::llround(s * 1e6)); }

struct MessageInfo {
  TimeUs created = 0;
  std::uint32_t sender = 0, recipient = 0;
  bool measured = false;
};

// Mean and 95% interval of values in [0, 1] or bits, over messages (normal approximation).
attacks::MeanCi OverMessages(const std::vector<double>& values) {
  attacks::MeanCi m;
  m.n = values.size();
  if (values.empty()) return m;
  double sum = 0;
  for (const double v : values) sum += v;
  m.mean = sum / static_cast<double>(values.size());
  if (values.size() < 2) return m;
  double sq = 0;
  for (const double v : values) sq += (v - m.mean) * (v - m.mean);
  m.half_width = 1.959964 * std::sqrt(sq / static_cast<double>(values.size() - 1)) /
                 std::sqrt(static_cast<double>(values.size()));
  return m;
}

double Mean(const std::vector<double>& v) {
  if (v.empty()) return 0;
  double s = 0;
  for (const double x : v) s += x;
  return s / static_cast<double>(v.size());
}

// The learned end-to-end delay density of the timing attack: a histogram over [0, window].
class DelayDensity {
 public:
  // At most `bins` bins, and at least about 50 samples per bin on average (at least 8 bins), so
  // that the density is not mostly noise.
  DelayDensity(std::vector<TimeUs> samples, double window_s, std::uint32_t bins)
      : bins_(std::clamp<std::uint32_t>(static_cast<std::uint32_t>(samples.size() / 50), 8,
                                        std::max<std::uint32_t>(bins, 8))) {
    std::sort(samples.begin(), samples.end());
    if (window_s > 0) {
      window_ = SecondsToUs(window_s);
    } else {
      const std::size_t at = std::min(samples.size() - 1, samples.size() * 999 / 1000);
      window_ = std::max<TimeUs>(samples[at], 1);
    }
    width_ = std::max<double>(1.0, static_cast<double>(window_) / bins_);
    counts_.assign(bins_, 0.5);  // a pseudo-count: every delay in the window stays possible
    for (const TimeUs d : samples) {
      if (d >= 0 && d <= window_) counts_[Bin(d)] += 1;
    }
  }
  TimeUs window() const { return window_; }
  double operator()(TimeUs d) const { return d < 0 || d > window_ ? 0.0 : counts_[Bin(d)]; }

 private:
  std::size_t Bin(TimeUs d) const {
    return std::min<std::size_t>(bins_ - 1,
                                 static_cast<std::size_t>(static_cast<double>(d) / width_));
  }
  std::uint32_t bins_;
  TimeUs window_ = 1;
  double width_ = 1;
  std::vector<double> counts_;
};

// The observations that the SDA learns from: a sender's expected packets to each recipient.
class Profiles {
 public:
  Profiles(std::uint32_t senders, std::uint32_t recipients)
      : recipients_(recipients), counts_(senders), totals_(senders, 0.0), column_(recipients, 0) {}
  // P̂(r | s) with one packet's worth of uniform prior.
  double Likelihood(std::uint32_t s, std::uint32_t r) const {
    const auto it = counts_[s].find(r);
    const double c = it == counts_[s].end() ? 0.0 : it->second;
    return (c + 1.0 / recipients_) / (totals_[s] + 1.0);
  }
  void Add(std::uint32_t s, std::uint32_t r, double w) {
    counts_[s][r] += w;
    totals_[s] += w;
    column_[r] += w;
    all_ += w;
  }
  // The `m` recipients (other than s) most above what s's share of everyone's observations
  // would give: Danezis's v = Ō − background, as counts.
  std::vector<std::uint32_t> Top(std::uint32_t s, std::size_t m) const {
    std::vector<std::pair<double, std::uint32_t>> excess;
    for (const auto& [r, c] : counts_[s]) {
      if (r == s) continue;  // its own mailbox: its loops
      excess.emplace_back(c - totals_[s] * column_[r] / std::max(all_, 1e-300), r);
    }
    std::sort(excess.begin(), excess.end(), [](const auto& a, const auto& b) {
      return a.first != b.first ? a.first > b.first : a.second < b.second;
    });
    std::vector<std::uint32_t> top;
    for (std::size_t i = 0; i < excess.size() && i < m; ++i) top.push_back(excess[i].second);
    // A tie at the boundary is not an identification.
    if (excess.size() > m && excess[m].first == excess[m - 1].first) top.clear();
    std::sort(top.begin(), top.end());
    return top;
  }

 private:
  std::uint32_t recipients_;
  std::vector<std::unordered_map<std::uint32_t, double>> counts_;
  std::vector<double> totals_;
  std::vector<double> column_;
  double all_ = 0;
};

// The belief behind a handle as (sender, weight) pairs (the tail left out); empty for kNone.
std::vector<std::pair<std::uint32_t, double>> Weights(const DistTable& t, DistTable::Handle h) {
  if (h == DistTable::kNone) return {};
  if (t.IsPointMass(h)) return {{t.PointMassSender(h), 1.0}};
  return t.Get(h).entries;
}

}  // namespace

Result<Kind> ParseKind(std::string_view name) {
  if (name == "trace") return Kind::kTrace;
  if (name == "timing") return Kind::kTiming;
  if (name == "sda") return Kind::kSda;
  if (name == "flood") return Kind::kFlood;
  return Status::InvalidArgument(fmt::format(
      "unknown network attack '{}': it must be one of trace | timing | sda | flood", name));
}

std::string_view KindName(Kind kind) {
  switch (kind) {
    case Kind::kTrace:
      return "trace";
    case Kind::kTiming:
      return "timing";
    case Kind::kSda:
      return "sda";
    case Kind::kFlood:
      break;
  }
  return "flood";
}

Status Config::Validate(const Scenario& s) const {
  if (!(window_s >= 0 && window_s <= 86400)) {
    return Status::InvalidArgument(fmt::format(
        "window_s = {} is not allowed: it must be in [0, 86400] seconds (0: learned)", window_s));
  }
  if (histogram_bins < 2 || histogram_bins > 100000) {
    return Status::InvalidArgument(fmt::format(
        "histogram_bins = {} is not allowed: it must be in [2, 100000]", histogram_bins));
  }
  if (target >= s.clients) {
    return Status::InvalidArgument(
        fmt::format("target = {} is not a client: clients are 0 to {}", target, s.clients - 1));
  }
  if (kind == Kind::kTrace || kind == Kind::kSda || kind == Kind::kFlood) {
    if (!s.track_entropy) {
      return Status::InvalidArgument(
          fmt::format("the {} attack traces beliefs as the entropy does: set track_entropy = true",
                      KindName(kind)));
    }
  }
  if (kind == Kind::kTiming && !(s.burn_in_s > 0)) {
    return Status::InvalidArgument(
        "the timing attack learns the network's delays from the packets sent before burn_in_s: "
        "set burn_in_s > 0");
  }
  if (kind == Kind::kSda && std::uint64_t{s.clients} * s.clients > 100'000'000 &&
      sda_view == SdaView::kMailbox) {
    return Status::InvalidArgument(fmt::format(
        "the sda attack keeps a profile per sender over {} recipients: at most 10000 clients",
        s.clients));
  }
  if (kind == Kind::kFlood) {
    if (s.policy != mixnode::PolicyKind::kThresholdTimeout) {
      return Status::InvalidArgument(
          "the flood attack over the network is implemented for threshold-timeout mixes (the "
          "testnet's); use `sotto-sim attack flood` for the other policies on one mix");
    }
    const double start = flood_start_s < 0 ? s.burn_in_s : flood_start_s;
    const double end = flood_end_s < 0 ? s.duration_s : flood_end_s;
    if (!(start < end)) {
      return Status::InvalidArgument(
          fmt::format("flood_start_s = {} must be before flood_end_s = {}", start, end));
    }
  }
  return Status::Ok();
}

Result<RunResult> RunOnce(const Scenario& s, const Config& c, std::uint64_t point,
                          std::uint64_t repetition) {
  if (Status st = s.Validate(); !st.ok()) return st;
  if (Status st = c.Validate(s); !st.ok()) return st;
  RunResult out;
  out.point = point;
  out.repetition = repetition;
  out.split_by_target = c.kind == Kind::kFlood;

  const TimeUs burn_in = SecondsToUs(s.burn_in_s), duration = SecondsToUs(s.duration_s);
  const TimeUs flood_start = SecondsToUs(c.flood_start_s < 0 ? s.burn_in_s : c.flood_start_s);
  const TimeUs flood_end = SecondsToUs(c.flood_end_s < 0 ? s.duration_s : c.flood_end_s);
  std::unordered_map<std::uint64_t, MessageInfo> messages;
  TraceObserver tracer(s);
  RunOptions options;
  options.point = point;
  options.repetition = repetition;
  options.observer = &tracer;
  options.on_created = [&](const MessageRecord& m) {
    messages[m.id] = {m.created_us, m.sender, m.recipient,
                      m.created_us >= burn_in && m.created_us < duration};
  };
  const auto exclude = [&](std::uint32_t recipient) -> std::optional<std::uint32_t> {
    if (c.exclude_recipient) return recipient;
    return std::nullopt;
  };
  const auto score = [&](const PacketEvent& e, const MessageInfo& info, const Verdict& v) {
    Score sc;
    sc.message = e.message;
    sc.sender = info.sender;
    sc.recipient = info.recipient;
    sc.created_us = info.created;
    sc.delivered_us = e.time;
    sc.entropy_bits = v.entropy_bits;
    sc.success = v.success;
    sc.chance = v.chance;
    sc.target = c.kind == Kind::kFlood && info.sender == c.target && info.created >= flood_start &&
                info.created < flood_end;
    out.scores.push_back(sc);
  };
  // The real, measured packet of this delivery, or nullptr.
  const auto measured_real = [&](const PacketEvent& e) -> const MessageInfo* {
    if (e.kind != PacketKind::kReal) return nullptr;
    const auto it = messages.find(e.message);
    return it != messages.end() && it->second.measured ? &it->second : nullptr;
  };

  // timing: every send, the learning samples, and the arrivals to score after the run.
  struct Send {
    TimeUs time;
    std::uint32_t client;
  };
  std::vector<Send> sends;
  std::unordered_map<std::uint64_t, TimeUs> learning;  // packet → send time, sent before burn-in
  std::vector<TimeUs> samples;
  struct Arrival {
    TimeUs time;
    std::uint64_t message;
  };
  std::vector<Arrival> to_score;

  // sda
  const std::uint32_t recipients = c.sda_view == SdaView::kMailbox ? s.clients : s.providers;
  std::optional<Profiles> profiles;
  std::vector<std::uint32_t> alice_friends;
  std::uint64_t alice_sends = 0, alice_messages = 0, last_wrong = 0;
  std::uint64_t messages_at_candidate = 0;

  switch (c.kind) {
    case Kind::kTrace:
    case Kind::kFlood:
      tracer.on_deliver = [&](const PacketEvent& e, DistTable::Handle h) {
        if (const MessageInfo* info = measured_real(e)) {
          score(e, *info,
                Judge(tracer.table(), h, info->sender, s.clients, exclude(info->recipient)));
        }
      };
      if (c.kind == Kind::kFlood) {
        options.flood.enabled = true;
        options.flood.target = c.target;
        options.flood.start_us = flood_start;
        options.flood.end_us = flood_end;
        options.flood.hold_other_providers = c.hold_other_providers;
      }
      break;
    case Kind::kTiming:
      tracer.on_event = [&](const PacketEvent& e) {
        if (e.type == PacketEvent::Type::kSend && e.from_client &&
            e.kind != PacketKind::kAttacker) {
          sends.push_back({e.time, e.from});
          if (e.time < burn_in) learning[e.packet] = e.time;
        } else if (e.type == PacketEvent::Type::kArrive && !e.from_client &&
                   tracer.layout().nodes[e.to].provider) {
          // Arrived at its final provider (on the wire): a delay sample, or a packet to score.
          if (const auto it = learning.find(e.packet); it != learning.end()) {
            samples.push_back(e.time - it->second);
            learning.erase(it);
          }
          if (e.kind == PacketKind::kReal) {
            const auto m = messages.find(e.message);
            if (m != messages.end() && m->second.measured) to_score.push_back({e.time, e.message});
          }
        }
      };
      break;
    case Kind::kSda:
      profiles.emplace(s.clients, recipients);
      tracer.on_event = [&](const PacketEvent& e) {
        if (e.type != PacketEvent::Type::kSend || e.from != c.target || !e.from_client) return;
        ++alice_sends;
        if (e.kind == PacketKind::kReal) ++alice_messages;
        if (alice_friends.empty() || c.sda_view != SdaView::kMailbox) return;
        // Danezis's rule, counted in Alice's packets: identified at t if the guess is right
        // from t on and still at 2t.
        if (profiles->Top(c.target, alice_friends.size()) != alice_friends) {
          last_wrong = alice_sends;
          out.sda_identified = false;
          return;
        }
        if (alice_sends == last_wrong + 1) messages_at_candidate = alice_messages;
        if (!out.sda_identified && alice_sends >= 2 * (last_wrong + 1)) {
          out.sda_identified = true;
          out.sda_target_sends = last_wrong + 1;
          out.sda_target_messages = messages_at_candidate;
        }
      };
      tracer.on_deliver = [&](const PacketEvent& e, DistTable::Handle h) {
        // What the recipient side shows: the mailbox (real mail and loops; cover and dummies
        // go to the dummy mailbox, which the provider recognises) or just the provider.
        std::optional<std::uint32_t> observed;
        if (c.sda_view == SdaView::kProvider) {
          observed = e.to;
        } else if (e.recipient != kNoClient) {
          observed = e.recipient;
        }
        if (!observed) return;
        const auto belief = Weights(tracer.table(), h);
        if (const MessageInfo* info = measured_real(e)) {
          // Score with what was learnt before this packet: its trace belief times the learnt
          // likelihood of its recipient under each sender.
          std::vector<std::pair<std::uint32_t, double>> posterior;
          if (belief.empty()) {  // nothing from the mixing: the profiles alone
            for (std::uint32_t sender = 0; sender < s.clients; ++sender) {
              posterior.emplace_back(sender, profiles->Likelihood(sender, *observed));
            }
          } else {
            for (const auto& [sender, p] : belief) {
              posterior.emplace_back(sender, p * profiles->Likelihood(sender, *observed));
            }
          }
          score(e, *info,
                JudgeWeights(posterior, info->sender, s.clients, exclude(info->recipient)));
        }
        for (const auto& [sender, p] : belief) profiles->Add(sender, *observed, p);
      };
      break;
  }
  if (c.kind == Kind::kSda && c.sda_view == SdaView::kMailbox &&
      s.social_graph == SocialGraph::kFriends) {
    // Alice's friends, for scoring the identification only (the layout is known at OnStart).
    options.on_layout = [&](const Layout& layout) {
      alice_friends = layout.friends[c.target];
      std::sort(alice_friends.begin(), alice_friends.end());
    };
  }

  auto results = RunScenario(s, options);
  if (!results.ok()) return results.status();
  out.results = std::move(results).value();

  if (c.kind == Kind::kTiming) {
    if (samples.size() < 30) {
      return Status::InvalidArgument(fmt::format(
          "the timing attack learnt from only {} packets sent before burn_in_s = {} s: raise "
          "burn_in_s",
          samples.size(), s.burn_in_s));
    }
    const DelayDensity density(std::move(samples), c.window_s, c.histogram_bins);
    out.window_s = static_cast<double>(density.window()) / 1e6;
    std::vector<double> by_sender(s.clients, 0.0);
    std::vector<std::uint32_t> touched;
    for (const Arrival& a : to_score) {
      const MessageInfo& info = messages.at(a.message);
      const auto first = std::lower_bound(sends.begin(), sends.end(), a.time - density.window(),
                                          [](const Send& x, TimeUs t) { return x.time < t; });
      for (auto it = first; it != sends.end() && it->time <= a.time; ++it) {
        const double f = density(a.time - it->time);
        if (f <= 0) continue;
        if (by_sender[it->client] == 0) touched.push_back(it->client);
        by_sender[it->client] += f;
      }
      std::vector<std::pair<std::uint32_t, double>> weights;
      for (const std::uint32_t client : touched) {
        weights.emplace_back(client, by_sender[client]);
        by_sender[client] = 0;
      }
      touched.clear();
      PacketEvent e;
      e.time = a.time;
      e.message = a.message;
      score(e, info, JudgeWeights(weights, info.sender, s.clients, exclude(info.recipient)));
    }
  }

  std::vector<double> success, entropy, chance, others_success, others_entropy;
  for (const Score& sc : out.scores) {
    const bool main = c.kind != Kind::kFlood || sc.target;
    (main ? success : others_success).push_back(sc.success);
    (main ? entropy : others_entropy).push_back(sc.entropy_bits);
    if (main) chance.push_back(sc.chance);
  }
  out.scored = success.size();
  out.success = Mean(success);
  out.entropy = Mean(entropy);
  out.chance = Mean(chance);
  out.others_scored = others_success.size();
  out.others_success = Mean(others_success);
  out.others_entropy = Mean(others_entropy);
  return out;
}

PointResult Summarize(std::uint64_t point, std::vector<RunResult> runs) {
  PointResult p;
  p.point = point;
  p.ci_over_runs = runs.size() >= 2;
  std::vector<double> success, entropy, chance, os, oe, sends, msgs, loops, attacker, latency,
      overhead;
  std::size_t identified = 0;
  for (const RunResult& r : runs) {
    if (r.scored > 0) {
      success.push_back(r.success);
      entropy.push_back(r.entropy);
      chance.push_back(r.chance);
    }
    if (r.others_scored > 0) {
      os.push_back(r.others_success);
      oe.push_back(r.others_entropy);
    }
    if (r.sda_identified) {
      ++identified;
      sends.push_back(static_cast<double>(r.sda_target_sends));
      msgs.push_back(static_cast<double>(r.sda_target_messages));
    }
    loops.push_back(static_cast<double>(r.results.held_loops));
    attacker.push_back(static_cast<double>(r.results.attacker_packets));
    if (r.results.latency.messages > 0) latency.push_back(r.results.latency.mean);
    overhead.push_back(r.results.overhead);
  }
  if (p.ci_over_runs) {
    p.success = attacks::MeanWithCi(success);
    p.entropy = attacks::MeanWithCi(entropy);
    p.chance = attacks::MeanWithCi(chance);
    p.others_success = attacks::MeanWithCi(os);
    p.others_entropy = attacks::MeanWithCi(oe);
  } else if (!runs.empty()) {
    std::vector<double> s1, e1, c1, os1, oe1;
    const bool flood = runs.front().split_by_target;
    for (const Score& sc : runs.front().scores) {
      if (!flood || sc.target) {
        s1.push_back(sc.success);
        e1.push_back(sc.entropy_bits);
        c1.push_back(sc.chance);
      } else {
        os1.push_back(sc.success);
        oe1.push_back(sc.entropy_bits);
      }
    }
    p.success = OverMessages(s1);
    p.entropy = OverMessages(e1);
    p.chance = OverMessages(c1);
    p.others_success = OverMessages(os1);
    p.others_entropy = OverMessages(oe1);
  }
  p.sda_identified_rate =
      runs.empty() ? 0.0 : static_cast<double>(identified) / static_cast<double>(runs.size());
  p.sda_target_sends = attacks::MeanWithCi(sends);
  p.sda_target_messages = attacks::MeanWithCi(msgs);
  p.held_loops_mean = Mean(loops);
  p.attacker_packets_mean = Mean(attacker);
  p.latency_mean_ms = Mean(latency);
  p.overhead = Mean(overhead);
  p.runs = std::move(runs);
  return p;
}

Result<std::vector<PointResult>> RunSweep(const SweepPlan& plan, const Config& config,
                                          const SweepOptions& options) {
  for (const SweepPoint& point : plan.points) {
    if (Status s = config.Validate(point.scenario); !s.ok()) return s;
  }
  const std::uint64_t reps = plan.repetitions;
  std::vector<RunResult> runs(plan.Runs());
  std::vector<PointResult> points;
  ParallelTasks tasks;
  tasks.count = plan.Runs();
  tasks.threads = options.jobs > 0 ? options.jobs : DefaultThreads();
  tasks.work = [&](std::uint64_t i, const std::function<void(double)>&) -> Status {
    const SweepPoint& point = plan.points[i / reps];
    Result<RunResult> r = RunOnce(point.scenario, config, point.index, i % reps);
    if (!r.ok()) return r.status();
    runs[i] = std::move(r).value();
    return Status::Ok();
  };
  tasks.commit = [&](std::uint64_t i) -> Status {
    if ((i + 1) % reps != 0) return Status::Ok();
    const std::uint64_t p = i / reps;
    std::vector<RunResult> mine(
        std::make_move_iterator(runs.begin() + static_cast<std::ptrdiff_t>(p * reps)),
        std::make_move_iterator(runs.begin() + static_cast<std::ptrdiff_t>((p + 1) * reps)));
    points.push_back(Summarize(p, std::move(mine)));
    return options.on_point ? options.on_point(points.back()) : Status::Ok();
  };
  if (options.on_progress) {
    tasks.on_progress = [&](const ParallelProgress& pr) {
      options.on_progress(SweepProgress{pr.jobs_done, pr.jobs_total, pr.elapsed_s});
    };
  }
  if (Status s = RunInOrder(tasks); !s.ok()) return s;
  return points;
}

namespace {

Status Bad(std::string_view field, std::string_view value, std::string_view allowed) {
  return Status::InvalidArgument(fmt::format(
      "network attack field {} = '{}' is not allowed: it must be {}", field, value, allowed));
}

bool ParseBool(std::string_view v, bool& out) {
  if (v == "true" || v == "1" || v == "yes") {
    out = true;
  } else if (v == "false" || v == "0" || v == "no") {
    out = false;
  } else {
    return false;
  }
  return true;
}

template <class T>
bool ParseNumber(std::string_view v, T& out) {
  if (v.empty()) return false;
  const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if constexpr (std::is_floating_point_v<T>) {
    if (!std::isfinite(out)) return false;
  }
  return ec == std::errc() && end == v.data() + v.size();
}

}  // namespace

Status SetField(Config& c, std::string_view field, std::string_view value) {
  if (field == "exclude_recipient") {
    if (!ParseBool(value, c.exclude_recipient)) return Bad(field, value, "true or false");
  } else if (field == "hold_other_providers") {
    if (!ParseBool(value, c.hold_other_providers)) return Bad(field, value, "true or false");
  } else if (field == "window_s") {
    if (!ParseNumber(value, c.window_s) || c.window_s < 0) {
      return Bad(field, value, "a number of seconds ≥ 0 (0: learned)");
    }
  } else if (field == "histogram_bins") {
    if (!ParseNumber(value, c.histogram_bins))
      return Bad(field, value, "a whole number in [2, 100000]");
  } else if (field == "target") {
    if (!ParseNumber(value, c.target)) return Bad(field, value, "a client index");
  } else if (field == "sda_view") {
    if (value == "mailbox") {
      c.sda_view = SdaView::kMailbox;
    } else if (value == "provider") {
      c.sda_view = SdaView::kProvider;
    } else {
      return Bad(field, value, "one of mailbox | provider");
    }
  } else if (field == "flood_start_s" || field == "flood_end_s") {
    double x = 0;
    if (!ParseNumber(value, x) || x < 0) return Bad(field, value, "a number of seconds ≥ 0");
    (field == "flood_start_s" ? c.flood_start_s : c.flood_end_s) = x;
  } else {
    return Status::InvalidArgument(fmt::format(
        "unknown network attack field '{}': it must be one of exclude_recipient, window_s, "
        "histogram_bins, sda_view, target, flood_start_s, flood_end_s, hold_other_providers",
        field));
  }
  return Status::Ok();
}

std::string FieldsHelp() {
  return "  exclude_recipient    the adversary knows the recipient, who is no candidate (default "
         "false)\n"
         "  window_s             timing: candidate window before an arrival, s (default 0: "
         "learned)\n"
         "  histogram_bins       timing: bins of the learned delay density (default 200)\n"
         "  sda_view             sda: what is seen where packets end: mailbox | provider "
         "(default mailbox)\n"
         "  target               sda, flood: the target client (default 0)\n"
         "  flood_start_s        flood: attack from (default burn_in_s)\n"
         "  flood_end_s          flood: attack until (default duration_s)\n"
         "  hold_other_providers flood: also delay the other providers' links into the first "
         "mixes (default false)\n";
}

namespace {

std::string Cell(const attacks::MeanCi& m, bool interval) {
  if (m.n == 0) return ",";
  return fmt::format("{},{}", m.mean, interval && m.n > 1 ? fmt::format("{}", m.half_width) : "");
}

std::string Axes(const SweepPlan& plan) {
  std::string out;
  for (const auto& a : plan.axes) out += a.key + ",";
  return out;
}

}  // namespace

std::string CsvHeader(const SweepPlan& plan) {
  return Axes(plan) +
         "point,attack,runs,scored_per_run,success_mean,success_ci95,chance,entropy_mean,"
         "entropy_ci95,ci_over,others_success_mean,others_success_ci95,others_entropy_mean,"
         "others_entropy_ci95,sda_identified_rate,sda_target_sends_mean,sda_target_sends_ci95,"
         "sda_target_messages_mean,window_s,held_loops_mean,attacker_packets_mean,"
         "latency_mean_ms,overhead,corrupt_mixes_mean";
}

std::string CsvRow(const SweepPlan& plan, const Config& config, const PointResult& p) {
  std::string out;
  for (const auto& v : plan.points.at(p.point).values) out += v + ",";
  std::vector<double> scored, window, corrupt;
  for (const auto& r : p.runs) {
    scored.push_back(static_cast<double>(r.scored));
    window.push_back(r.window_s);
    corrupt.push_back(static_cast<double>(r.results.corrupt_mixes.size()));
  }
  out += fmt::format(
      "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}", p.point, KindName(config.kind),
      p.runs.size(), Mean(scored), Cell(p.success, true), p.chance.mean, Cell(p.entropy, true),
      p.ci_over_runs ? "runs" : "messages", Cell(p.others_success, true),
      Cell(p.others_entropy, true), p.sda_identified_rate, Cell(p.sda_target_sends, true),
      p.sda_target_messages.n > 0 ? fmt::format("{}", p.sda_target_messages.mean) : "",
      config.kind == Kind::kTiming ? fmt::format("{}", Mean(window)) : "", p.held_loops_mean,
      p.attacker_packets_mean, p.latency_mean_ms, p.overhead);
  out += fmt::format(",{}", Mean(corrupt));
  return out;
}

std::string ScoreJsonLine(std::uint64_t point, std::uint64_t repetition, const Score& sc) {
  return fmt::format(
      "{{\"point\":{},\"repetition\":{},\"message\":{},\"sender\":{},\"recipient\":{},"
      "\"created_us\":{},\"delivered_us\":{},\"entropy_bits\":{},\"success\":{},\"chance\":{},"
      "\"target\":{}}}",
      point, repetition, sc.message, sc.sender, sc.recipient, sc.created_us, sc.delivered_us,
      sc.entropy_bits, sc.success, sc.chance, sc.target ? "true" : "false");
}

std::string FormatPoint(const SweepPlan& plan, const Config& config, const PointResult& p) {
  std::string where;
  const auto& values = plan.points.at(p.point).values;
  for (std::size_t a = 0; a < plan.axes.size(); ++a) {
    where += fmt::format("{}{}={}", a == 0 ? "" : " ", plan.axes[a].key, values[a]);
  }
  const auto text = [](const attacks::MeanCi& m, int d) {
    if (m.n == 0) return std::string("-");
    if (m.n < 2) return fmt::format("{:.{}f}", m.mean, d);
    return fmt::format("{:.{}f} ± {:.{}f}", m.mean, d, m.half_width, d);
  };
  std::string line = fmt::format(
      "{}{}{}: best guess right {} (chance {:.3g}), sender entropy {} bits; {} run{}, 95% "
      "intervals over the {}",
      KindName(config.kind), where.empty() ? "" : " ", where, text(p.success, 3), p.chance.mean,
      text(p.entropy, 3), p.runs.size(), p.runs.size() == 1 ? "" : "s",
      p.ci_over_runs ? "runs" : "messages");
  if (config.kind == Kind::kFlood) {
    line += fmt::format("; everyone else: {} right, {} bits; {:.0f} loops held per run",
                        text(p.others_success, 3), text(p.others_entropy, 3), p.held_loops_mean);
  }
  if (config.kind == Kind::kSda && p.sda_target_sends.n > 0) {
    line += fmt::format("; target's friends named after {} of its packets ({:.0f}% of runs)",
                        text(p.sda_target_sends, 1), 100 * p.sda_identified_rate);
  }
  return line;
}

}  // namespace sotto::sim::netattack
