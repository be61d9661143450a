// Node metrics in the Prometheus text exposition format (version 0.0.4), written atomically to a
// file that node_exporter's textfile collector (or a human with `cat`) reads. A textfile rather
// than an HTTP endpoint: no extra listening socket on a privacy node, and nothing to secure.
// Names: sotto_<what>_total for counters, sotto_<what> for gauges. No secrets, no addresses of
// clients, no per-packet data. Owned by the node's event loop thread.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "sotto/core/status.h"

namespace sotto::mixnode {

class Metrics {
 public:
  void Add(const std::string& counter, std::uint64_t n = 1, const std::string& label = "");
  void Set(const std::string& gauge, double value);
  // Batch sizes and processing latency, as Prometheus histograms.
  void ObserveBatch(std::size_t size);
  void ObserveLatencyUs(double microseconds);

  std::uint64_t Counter(const std::string& counter, const std::string& label = "") const;
  std::string Render() const;
  Status WriteFile(const std::filesystem::path& path) const;

 private:
  struct Histogram {
    std::vector<double> bounds;
    std::vector<std::uint64_t> buckets;
    double sum = 0;
    std::uint64_t count = 0;
    void Observe(double v);
  };
  std::map<std::string, std::map<std::string, std::uint64_t>> counters_;  // name → label → n
  std::map<std::string, double> gauges_;
  Histogram batch_{{1, 2, 4, 8, 16, 32, 64, 128, 256}, {}, 0, 0};
  Histogram latency_{{50, 100, 200, 500, 1000, 2000, 5000, 10000, 50000}, {}, 0, 0};
};

}  // namespace sotto::mixnode
