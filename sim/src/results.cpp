// The text forms of Results and MessageRecord: CSV, JSON lines and the one-screen summary.
#include "sotto/sim/results.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "sotto/sim/scenario.h"

namespace sotto::sim {
namespace {

// Mean and max over the mix layers (layer 0, the providers, left out).
std::pair<double, std::uint64_t> MixQueues(const Results& r) {
  double mean = 0;
  std::uint64_t max = 0;
  std::size_t layers = 0;
  for (const auto& q : r.queues) {
    if (q.layer == 0) continue;
    mean += q.mean;
    max = std::max(max, q.max);
    ++layers;
  }
  return {layers > 0 ? mean / static_cast<double>(layers) : 0.0, max};
}

std::string JsonNumber(double x) { return std::isfinite(x) ? fmt::format("{}", x) : "null"; }

}  // namespace

std::string FormatMixList(const std::vector<MixName>& mixes) {
  std::string out;
  for (const MixName& m : mixes) {
    if (!out.empty()) out += ' ';
    out += fmt::format("{}:{}", m.layer, m.index);
  }
  return out;
}

std::string ResultsCsvHeader() {
  return "point,repetition,run_seed,messages_sent,messages_delivered,real_packets_sent,"
         "real_packets_delivered,payload_cover_packets,loop_packets,drop_packets,node_dummies,"
         "packets_total,overhead,entropy_packets,entropy_mean,entropy_std,entropy_min,"
         "entropy_p05,entropy_p25,entropy_p50,entropy_p75,entropy_p95,entropy_max,"
         "effective_set_mean,normalized_degree_mean,latency_messages,latency_mean_ms,"
         "latency_p50_ms,latency_p95_ms,latency_p99_ms,latency_max_ms,queue_mean,queue_max,"
         "events,scheduled_events,simulated_s,corrupt_mixes,corrupt_mix_list";
}

std::string ResultsCsvRow(const Results& r) {
  const auto [queue_mean, queue_max] = MixQueues(r);
  const EntropyStats& e = r.entropy;
  const LatencyStats& l = r.latency;
  return fmt::format(
      "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},"
      "{},{},{},{},{},{},{},{}",
      r.point, r.repetition, r.run_seed, r.messages_sent, r.messages_delivered, r.real_packets_sent,
      r.real_packets_delivered, r.payload_cover_packets, r.loop_packets, r.drop_packets,
      r.node_dummies, r.packets_total, r.overhead, e.packets, e.mean, e.stddev, e.min, e.p05, e.p25,
      e.p50, e.p75, e.p95, e.max, e.effective_set_mean, e.normalized_mean, l.messages, l.mean,
      l.p50, l.p95, l.p99, l.max, queue_mean, queue_max, r.events, r.scheduled_events,
      r.simulated_s, r.corrupt_mixes.size(), FormatMixList(r.corrupt_mixes));
}

std::string MessageJsonLine(const MessageRecord& m) {
  return fmt::format(
      "{{\"repetition\":{},\"id\":{},\"sender\":{},\"recipient\":{},\"packets\":{},\"created_us\":{"
      "},"
      "\"delivered_us\":{},\"latency_ms\":{},\"entropy_bits\":{},\"corrupt_mixes\":\"{}\"}}",
      m.repetition, m.id, m.sender, m.recipient, m.packets, m.created_us, m.delivered_us,
      JsonNumber(m.latency_ms), JsonNumber(m.entropy_bits), m.corrupt_mixes);
}

std::string FormatSummary(const Scenario& s, const Results& r) {
  std::string out;
  out += fmt::format("scenario   {}\n", s.Describe());
  out += fmt::format("run        repetition {}, run seed {}, {:.1f} s simulated\n", r.repetition,
                     r.run_seed, r.simulated_s);
  const double delivered = r.messages_sent > 0 ? 100.0 * static_cast<double>(r.messages_delivered) /
                                                     static_cast<double>(r.messages_sent)
                                               : 0.0;
  out += fmt::format("messages   {} measured, {} delivered ({:.1f}%)\n", r.messages_sent,
                     r.messages_delivered, delivered);
  if (r.messages_delivered < r.messages_sent) {
    out += fmt::format(
        "warning    {} measured message{} still undelivered when the run ended (drain_s = {} "
        "after duration_s): latency and entropy leave {} out; raise drain_s\n",
        r.messages_sent - r.messages_delivered,
        r.messages_sent - r.messages_delivered == 1 ? " was" : "s were", s.drain_s,
        r.messages_sent - r.messages_delivered == 1 ? "it" : "them");
  }
  out += fmt::format(
      "packets    {} = real {} + payload cover {} + loop {} + drop {} + node dummies {}\n",
      r.packets_total, r.real_packets_sent, r.payload_cover_packets, r.loop_packets, r.drop_packets,
      r.node_dummies);
  out += fmt::format("overhead   {:.3f} packets per real packet\n", r.overhead);
  out += fmt::format("adversary  {} of {} mix{} corrupt{}; providers {}\n", r.corrupt_mixes.size(),
                     r.mixes, r.mixes == 1 ? "" : "es",
                     r.corrupt_mixes.empty()
                         ? std::string()
                         : fmt::format(" (layer:index {})", FormatMixList(r.corrupt_mixes)),
                     r.corrupt_providers ? "corrupt" : "honest");
  const EntropyStats& e = r.entropy;
  if (!s.track_entropy) {
    out += "entropy    not tracked (track_entropy = false)\n";
  } else if (e.packets == 0) {
    out += "entropy    no real packet delivered in the measured window\n";
  } else {
    out += fmt::format(
        "entropy    mean {:.4f} bits (sd {:.4f}; min {:.4f}, p5 {:.4f}, median {:.4f}, p95 "
        "{:.4f}, max {:.4f}) over {} packets\n",
        e.mean, e.stddev, e.min, e.p05, e.p50, e.p95, e.max, e.packets);
    out += fmt::format(
        "anonymity  effective set (mean 2^H) {:.1f} of {} clients; normalised "
        "degree H/log2 N {:.4f}\n",
        e.effective_set_mean, s.clients, e.normalized_mean);
  }
  const LatencyStats& l = r.latency;
  if (l.messages > 0) {
    out += fmt::format(
        "latency    mean {:.1f} ms; median {:.1f}, p95 {:.1f}, p99 {:.1f}, max {:.1f} ms\n", l.mean,
        l.p50, l.p95, l.p99, l.max);
  }
  out += "queues    ";
  for (const auto& q : r.queues) {
    out += q.layer == 0 ? fmt::format(" providers {:.1f}/{}", q.mean, q.max)
                        : fmt::format("; layer {} {:.1f}/{}", q.layer, q.mean, q.max);
  }
  out += " (time-average/max pool size)\n";
  out += fmt::format(
      "speed      {} packet events ({} scheduled) in {:.2f} s wall: {:.2f} M "
      "events/s\n",
      r.events, r.scheduled_events, r.wall_s,
      r.wall_s > 0 ? static_cast<double>(r.events) / r.wall_s / 1e6 : 0.0);
  return out;
}

}  // namespace sotto::sim
