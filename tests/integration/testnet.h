// A real Sotto network for integration tests: sotto-directory and sotto-mixnode processes
// (three mixes in one cascade, two providers) with fresh keys in a temporary state directory,
// listening on 127.0.0.1 ports they pick themselves. Every process is killed and the directory
// removed when the Testnet is destroyed, also when a test fails.
//
// Any node may run as the recording node sotto-corrupt-node instead (TestnetOptions::corrupt or
// SetCorrupt), with its recording in <dir>/<node>.jsonl (adversary/README.md, "Recordings").
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "sotto/client_lib/provider_link.h"
#include "sotto/core/directory_client.h"
#include "sotto/core/sphinx.h"

namespace sotto::testing {

struct TestnetOptions {
  std::uint32_t epoch_length_s = 3600;
  std::string mixing_policy = "threshold-timeout";
  std::uint32_t batch_size = 4;
  std::uint32_t batch_timeout_ms = 300;
  std::uint32_t min_batch = 4;
  // Nodes run as sotto-corrupt-node, with these extra flags (besides --record).
  std::map<std::string, std::vector<std::string>> corrupt;
  std::uint32_t resend_after_ms = 1000;
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
  // The next Start(node) listens on a fresh port, so the node's descriptor (and the consensus)
  // changes. The node must be stopped.
  void ForgetEndpoint(const std::string& node);
  bool Running(const std::string& node) const;
  // A counter or gauge from the node's Prometheus textfile, summed over its labels (0 if absent).
  double Metric(const std::string& node, const std::string& name) const;
  // Waits until Metric(node, name) >= value; false on timeout.
  bool WaitForMetric(const std::string& node, const std::string& name, double value,
                     std::chrono::seconds timeout = std::chrono::seconds(20)) const;
  std::string Log(const std::string& node) const;
  const std::filesystem::path& dir() const { return dir_; }

  // From the next Start(node) on, the node runs as sotto-corrupt-node with these extra flags
  // (nullopt: as the honest sotto-mixnode again). Its recording keeps growing across restarts.
  void SetCorrupt(const std::string& node, std::optional<std::vector<std::string>> flags);
  std::filesystem::path RecordingPath(const std::string& node) const {
    return dir_ / (node + ".jsonl");
  }
  // Every event of a node's recording so far (the node flushes at least every second).
  std::vector<nlohmann::json> Recording(const std::string& node) const;

 private:
  std::filesystem::path dir_;
  TestnetOptions options_;
  directory::AuthorityInfo authority_;
  std::map<std::string, pid_t> pids_;
  std::map<std::string, std::vector<std::string>> argv_;
  std::map<std::string, std::vector<std::string>> corrupt_;  // node → extra flags
};

// Two clients of the testnet: Alice at provider-1 sends Sphinx packets over the cascade to Bob's
// mailbox at provider-2.
struct Clients {
  zmq::context_t ctx;
  transport::CurveKeyPair alice = transport::CurveKeyPair::Generate();
  transport::CurveKeyPair bob = transport::CurveKeyPair::Generate();
  directory::Consensus consensus;
  const directory::NodeDescriptor* pa = nullptr;
  const directory::NodeDescriptor* pb = nullptr;
  std::unique_ptr<client::ProviderLink> alice_link, bob_link;
  sphinx::MailboxId bob_mailbox{};

  explicit Clients(directory::Consensus c);
  // Takes a newer consensus (e.g. a provider moved): new links to the providers it names.
  void Refresh(directory::Consensus c);
  // A forward packet from Alice's provider over the cascade into Bob's mailbox.
  Bytes Packet(const std::string& text);
  // Fetches (and acknowledges) until `count` messages arrived or the timeout passed. Padding
  // items (id 0) are skipped.
  std::vector<std::string> Receive(std::size_t count,
                                   std::chrono::seconds timeout = std::chrono::seconds(30));
};

// ---- Recordings (adversary/README.md) ----

// The events of kind `ev`, in order.
std::vector<nlohmann::json> Events(const std::vector<nlohmann::json>& recording,
                                   const std::string& ev);
// The recording once everything that has happened is in it (a node flushes at least every
// second).
std::vector<nlohmann::json> Settled(const Testnet& net, const std::string& node);
// Waits (bounded) until `node`'s recording has at least `n` events matching `pred`; returns it.
template <class Pred>
std::vector<nlohmann::json> WaitForEvents(const Testnet& net, const std::string& node,
                                          std::size_t n, Pred pred,
                                          std::chrono::seconds timeout = std::chrono::seconds(20)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    auto rec = net.Recording(node);
    std::size_t count = 0;
    for (const auto& e : rec) count += pred(e) ? 1 : 0;
    if (count >= n || std::chrono::steady_clock::now() > deadline) return rec;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}
// A link id as recorded (16 hex digits).
std::uint64_t LinkId(const nlohmann::json& hex);

// Runs a command, returns its stdout (fails the test if it exits non-zero).
std::string RunCommand(const std::vector<std::string>& argv);

}  // namespace sotto::testing
