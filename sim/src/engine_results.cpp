// Turning a finished run's tallies into Results: entropy and latency statistics, overhead, and
// the time-averaged pool sizes per layer.
#include <algorithm>
#include <cmath>

#include "engine.h"

namespace sotto::sim {
namespace {

// Linear interpolation between order statistics (Hyndman & Fan type 7); `sorted` non-empty.
double Quantile(const std::vector<double>& sorted, double q) {
  const double pos = q * static_cast<double>(sorted.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(pos));
  const std::size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (pos - static_cast<double>(lo)) * (sorted[hi] - sorted[lo]);
}

}  // namespace

Results Engine::Collect(double wall_s) {
  Results r = r_;
  r.run_seed = run_seed_;
  r.point = options_.point;
  r.repetition = options_.repetition;
  r.overhead = r.real_packets_sent > 0
                   ? static_cast<double>(r.packets_total) / static_cast<double>(r.real_packets_sent)
                   : 0.0;
  r.simulated_s = static_cast<double>(now_) / 1e6;
  r.wall_s = wall_s;

  if (!entropies_.empty()) {
    std::vector<double>& h = entropies_;
    EntropyStats& e = r.entropy;
    e.packets = h.size();
    double sum = 0, set_sum = 0;
    for (const double x : h) {
      sum += x;
      set_sum += std::exp2(x);
    }
    const double n = static_cast<double>(h.size());
    e.mean = sum / n;
    double var = 0;
    for (const double x : h) var += (x - e.mean) * (x - e.mean);
    e.stddev = h.size() > 1 ? std::sqrt(var / (n - 1)) : 0.0;
    e.effective_set_mean = set_sum / n;
    e.normalized_mean = e.mean / std::log2(static_cast<double>(s_.clients));
    std::sort(h.begin(), h.end());
    e.min = h.front();
    e.max = h.back();
    e.p05 = Quantile(h, 0.05);
    e.p25 = Quantile(h, 0.25);
    e.p50 = Quantile(h, 0.50);
    e.p75 = Quantile(h, 0.75);
    e.p95 = Quantile(h, 0.95);
  }
  if (!latencies_.empty()) {
    std::vector<double>& l = latencies_;
    LatencyStats& s = r.latency;
    s.messages = l.size();
    double sum = 0;
    for (const double x : l) sum += x;
    s.mean = sum / static_cast<double>(l.size());
    std::sort(l.begin(), l.end());
    s.p50 = Quantile(l, 0.50);
    s.p95 = Quantile(l, 0.95);
    s.p99 = Quantile(l, 0.99);
    s.max = l.back();
  }

  // Layer 0 = providers, then the mix layers.
  r.queues.assign(s_.layers + 1, LayerQueue{});
  std::vector<std::uint32_t> members(s_.layers + 1, 0);
  for (std::uint32_t l = 0; l <= s_.layers; ++l) r.queues[l].layer = l;
  const double span = now_ > 0 ? static_cast<double>(now_) : 1.0;
  for (const Node& n : nodes_) {
    LayerQueue& q = r.queues[n.layer];
    const double integral =
        n.pool_integral + static_cast<double>(n.pool) * static_cast<double>(now_ - n.last_change);
    q.mean += integral / span;
    q.max = std::max(q.max, n.max_pool);
    ++members[n.layer];
  }
  for (std::uint32_t l = 0; l <= s_.layers; ++l) {
    if (members[l] > 0) r.queues[l].mean /= members[l];
  }
  return r;
}

}  // namespace sotto::sim
