// A real Sotto network for integration tests: sotto-directory and sotto-mixnode processes
// (three mixes in one cascade, two providers) with fresh keys in a temporary state directory,
// listening on 127.0.0.1 ports they pick themselves. Every process is killed and the directory
// removed when the Testnet is destroyed, also when a test fails.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "sotto/core/directory_client.h"

namespace sotto::testing {

struct TestnetOptions {
  std::uint32_t epoch_length_s = 3600;
  std::string mixing_policy = "threshold-timeout";
  std::uint32_t batch_size = 4;
  std::uint32_t batch_timeout_ms = 300;
  std::uint32_t min_batch = 4;
};

class Testnet {
 public:
  explicit Testnet(TestnetOptions options = {});
  ~Testnet();
  Testnet(const Testnet&) = delete;
  Testnet& operator=(const Testnet&) = delete;

  static constexpr const char* kMixes[] = {"mix-1", "mix-2", "mix-3"};
  static constexpr const char* kProviders[] = {"provider-1", "provider-2"};

  const directory::AuthorityInfo& authority() const { return authority_; }
  // Waits until a verified consensus listing every node is available, and returns it.
  directory::Consensus WaitForConsensus(std::chrono::seconds timeout = std::chrono::seconds(30));

  void Start(const std::string& node);  // (re)starts a node with its existing keys and store
  void Stop(const std::string& node);   // SIGTERM, then wait
  void Kill9(const std::string& node);  // SIGKILL, no chance to clean up
  bool Running(const std::string& node) const;
  // A counter or gauge from the node's Prometheus textfile, summed over its labels (0 if absent).
  double Metric(const std::string& node, const std::string& name) const;
  // Waits until Metric(node, name) >= value; false on timeout.
  bool WaitForMetric(const std::string& node, const std::string& name, double value,
                     std::chrono::seconds timeout = std::chrono::seconds(20)) const;
  std::string Log(const std::string& node) const;
  const std::filesystem::path& dir() const { return dir_; }

 private:
  std::filesystem::path dir_;
  TestnetOptions options_;
  directory::AuthorityInfo authority_;
  std::map<std::string, pid_t> pids_;
  std::map<std::string, std::vector<std::string>> argv_;
};

// Runs a command, returns its stdout (fails the test if it exits non-zero).
std::string RunCommand(const std::vector<std::string>& argv);

}  // namespace sotto::testing
