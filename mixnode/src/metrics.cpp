// Prometheus text exposition for node metrics.
#include "metrics.h"

#include <fmt/format.h>

#include "sotto/core/keyfile.h"

namespace sotto::mixnode {

void Metrics::Histogram::Observe(double v) {
  if (buckets.empty()) buckets.assign(bounds.size(), 0);
  for (std::size_t i = 0; i < bounds.size(); ++i) {
    if (v <= bounds[i]) ++buckets[i];
  }
  sum += v;
  ++count;
}

void Metrics::Add(const std::string& counter, std::uint64_t n, const std::string& label) {
  counters_[counter][label] += n;
}
void Metrics::Set(const std::string& gauge, double value) { gauges_[gauge] = value; }
void Metrics::ObserveBatch(std::size_t size) { batch_.Observe(static_cast<double>(size)); }
void Metrics::ObserveLatencyUs(double us) { latency_.Observe(us); }

std::uint64_t Metrics::Counter(const std::string& counter, const std::string& label) const {
  auto it = counters_.find(counter);
  if (it == counters_.end()) return 0;
  auto jt = it->second.find(label);
  return jt == it->second.end() ? 0 : jt->second;
}

std::string Metrics::Render() const {
  std::string out;
  for (const auto& [name, by_label] : counters_) {
    out += fmt::format("# TYPE sotto_{}_total counter\n", name);
    for (const auto& [label, n] : by_label) {
      if (label.empty()) {
        out += fmt::format("sotto_{}_total {}\n", name, n);
      } else {
        out += fmt::format("sotto_{}_total{{reason=\"{}\"}} {}\n", name, label, n);
      }
    }
  }
  for (const auto& [name, v] : gauges_) {
    out += fmt::format("# TYPE sotto_{} gauge\nsotto_{} {}\n", name, name, v);
  }
  const auto histogram = [&](const char* name, const Histogram& h) {
    out += fmt::format("# TYPE sotto_{} histogram\n", name);
    for (std::size_t i = 0; i < h.bounds.size(); ++i) {
      out += fmt::format("sotto_{}_bucket{{le=\"{}\"}} {}\n", name, h.bounds[i],
                         h.buckets.empty() ? 0 : h.buckets[i]);
    }
    out += fmt::format("sotto_{}_bucket{{le=\"+Inf\"}} {}\n", name, h.count);
    out += fmt::format("sotto_{}_sum {}\nsotto_{}_count {}\n", name, h.sum, name, h.count);
  };
  histogram("batch_size", batch_);
  histogram("processing_latency_microseconds", latency_);
  return out;
}

Status Metrics::WriteFile(const std::filesystem::path& path) const {
  return WriteFileAtomically(path, Render());
}

}  // namespace sotto::mixnode
