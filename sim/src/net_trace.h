// Internal to sotto::sim: the global passive observer of the network attacks (net_attacks.h) as
// an engine Observer. It rebuilds the belief about every packet's sender from what the observer
// may use — link events with their times, every node's policy and the pool-size rule, corrupt
// nodes' input→output mapping and own dummies — with the engine's propagation rules
// (engine_entropy.cpp), and hands each packet's belief to `on_deliver` when it reaches its final
// provider. Ground truth in the events (kind, sender, packet serial across an honest node) is
// never used for the belief; the serial is used only along a link (a packet leaving one node is
// the one arriving at the next: the observer watches the wire) and through nodes that reveal
// their mapping.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "continuous_mixture.h"
#include "dist_table.h"
#include "sotto/sim/distribution.h"
#include "sotto/sim/scenario.h"
#include "sotto/sim/simulator.h"

namespace sotto::sim {

class TraceObserver final : public Observer {
 public:
  explicit TraceObserver(const Scenario& scenario);
  ~TraceObserver() override;

  void OnStart(const Layout& layout) override;
  void OnPacket(const PacketEvent& event) override;

  // Called at every kDeliver with the packet's belief (a handle into table()), before it is
  // released. Also used by the SDA for every packet that reaches a mailbox.
  std::function<void(const PacketEvent&, DistTable::Handle)> on_deliver;
  // Also told every event (after the tracer has handled it), e.g. for the timing attack.
  std::function<void(const PacketEvent&)> on_event;

  const DistTable& table() const { return table_; }
  const Layout& layout() const { return layout_; }

 private:
  struct NodeState {
    bool honest_mixing = false, continuous = false;
    std::vector<DistTable::Handle> arrivals;  // batch: since the last round
    DistTable::Handle carry = DistTable::kNone;
    std::uint64_t carry_count = 0;
    std::unique_ptr<ContinuousMixture> mixture;
    DistTable::Handle snapshot = DistTable::kNone;
    DistTable::Handle round = DistTable::kNone;  // the current round's mixture
    bool arrival_since = true;
    mixnode::TimeUs last_departure = -1;
  };

  void SetBelief(std::uint64_t packet, DistTable::Handle h);
  DistTable::Handle BeliefOf(std::uint64_t packet) const;
  void StartRound(NodeState& n);

  const Scenario& s_;
  mixnode::PolicyConfig policy_;
  Layout layout_;
  DistTable table_;
  MixtureBuilder builder_;
  std::vector<NodeState> nodes_;
  std::unordered_map<std::uint64_t, DistTable::Handle> belief_;  // packets on links and inside
};

// The adversary's verdict on one packet from its belief.
struct Verdict {
  double entropy_bits = 0;
  double success = 0;
  double chance = 0;
};

// `truth` is the real sender; with `exclude` the adversary leaves that client (the recipient)
// out and renormalises. kNone (no information) is uniform over the candidates.
Verdict Judge(const DistTable& table, DistTable::Handle h, std::uint32_t truth,
              std::uint32_t clients, std::optional<std::uint32_t> exclude);
// The same for an explicit distribution (weights need not be normalised).
Verdict JudgeWeights(const std::vector<std::pair<std::uint32_t, double>>& weights,
                     std::uint32_t truth, std::uint32_t clients,
                     std::optional<std::uint32_t> exclude);

}  // namespace sotto::sim
