// Internal to sotto::sim: the discrete-event engine behind RunScenario (simulator.h), split by
// job: engine.cpp (event loop, nodes, forwarding), engine_setup.cpp (network, clients, social
// graph, adversary), engine_clients.cpp (client streams, messages, delivery),
// engine_entropy.cpp (probability propagation), engine_results.cpp (statistics).
//
// Hot path: packets and messages live in vectors recycled through free lists (a handle is an
// index), events are 24-byte values in a binary heap, pass-through hops and zero-latency
// arrivals are handled inline; the only allocation per mixing round is the vector a policy's
// Release returns.
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "continuous_mixture.h"
#include "dist_table.h"
#include "sotto/mixnode/policy.h"
#include "sotto/sim/distribution.h"
#include "sotto/sim/rng.h"
#include "sotto/sim/simulator.h"

namespace sotto::sim {

using mixnode::TimeUs;

class Engine {
 public:
  // `scenario` must be valid (Scenario::Validate).
  Engine(const Scenario& scenario, const RunOptions& options, std::uint64_t run_seed);
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;
  ~Engine();

  Results Run();

 private:
  static constexpr std::uint32_t kNone = 0xffffffff;
  static constexpr TimeUs kNever = std::numeric_limits<TimeUs>::max();

  enum EventType : std::uint8_t {
    kRealMessage,
    kPayload,
    kLoop,
    kDrop,
    kArrive,
    kWake,
    kProcessed,    // a node finished processing the packet at the head of its input queue
    kFloodTarget,  // the n-1 attacker sends the held target packet b with its own packets
  };
  struct Event {
    TimeUs time;
    std::uint64_t order;  // sequence number << 8 | type: ties run in scheduling order
    std::uint32_t a, b;   // client, or node and packet / wake generation
  };
  struct Later {
    bool operator()(const Event& x, const Event& y) const {
      return x.time != y.time ? x.time > y.time : x.order > y.order;
    }
  };

  struct Packet {
    std::uint64_t serial;
    std::uint32_t message;    // message slot (real packets), else kNone
    std::uint32_t sender;     // client, or kNoClient
    std::uint32_t recipient;  // client, or kNoClient
    std::uint32_t dest;       // the final provider
    DistTable::Handle dist;   // the observer's belief about its sender
    std::uint32_t route;      // cascade number (topology cascades)
    std::uint32_t from;       // node it last left (for observers); kNone: its client
    std::uint16_t hop;        // position of the node it is at: 0 first provider, 1.. mixes
    PacketKind kind;
    bool measured;  // created in [burn_in, duration)
    bool flooded;   // the n-1 attacker held it back and now lets it in
  };

  struct Message {
    std::uint64_t id;
    std::uint32_t sender, recipient;
    std::uint32_t to_send, to_deliver;  // packets not yet sent / not yet delivered
    std::uint32_t next_in_queue;        // the client's FIFO of messages waiting for the payload
    TimeUs created;
    double min_entropy;
    bool measured;
  };

  struct Client {
    std::uint32_t provider;
    std::uint32_t queue_head = kNone, queue_tail = kNone;
  };

  struct Node {
    std::unique_ptr<SimRng> rng;  // the policy's randomness (the policy keeps a reference)
    std::unique_ptr<mixnode::MixingPolicy> policy;  // null: pass-through
    bool provider = false, corrupt = false, propagate = false, continuous = false;
    std::uint32_t layer = 0, index = 0;
    std::uint64_t wake_gen = 0;
    TimeUs wake_at = kNever;
    // Processing (processing_us > 0): packets waiting to be handled, one at a time.
    std::vector<std::uint32_t> inbox;
    std::size_t inbox_head = 0;
    bool busy = false;
    std::uint32_t drained = 0;  // handled since the loop last released
    // Probability propagation (propagate = honest, mixing, tracking entropy).
    std::vector<DistTable::Handle> arrivals;     // since the last round
    DistTable::Handle carry = DistTable::kNone;  // distribution of the packets kept in the pool
    std::uint64_t carry_count = 0;
    std::unique_ptr<ContinuousMixture> mixture;     // continuous nodes
    DistTable::Handle snapshot = DistTable::kNone;  // cached mixture->Snapshot(), if unchanged
    // Queue statistics.
    std::uint64_t pool = 0, max_pool = 0;
    double pool_integral = 0;  // ∫ pool size dt, in packet·µs
    TimeUs last_change = 0;
  };

  // engine_setup.cpp
  void BuildNetwork();
  void BuildClients();
  void ScheduleFirstEvents();
  std::uint32_t MixId(std::uint32_t layer, std::uint32_t index) const;

  // engine.cpp
  void Push(TimeUs time, EventType type, std::uint32_t a, std::uint32_t b = 0);
  void Dispatch(const Event& e);
  void ScheduleWake(std::uint32_t node, TimeUs at);
  void Wake(std::uint32_t node);
  void Arrive(std::uint32_t node, std::uint32_t packet);
  void Accept(std::uint32_t node, std::uint32_t packet);  // the node handles the packet
  void Processed(std::uint32_t node);
  void LoopTop(std::uint32_t node);
  void Depart(std::uint32_t node, std::uint32_t packet);
  void SendTo(std::uint32_t next, std::uint32_t packet);
  std::uint32_t NextNode(std::uint32_t node, const Packet& p);
  void NoteQueue(Node& n);
  std::uint32_t NewPacket(PacketKind kind, std::uint32_t sender, std::uint32_t recipient,
                          std::uint32_t dest);
  void FreePacket(std::uint32_t packet);
  void Observe(PacketEvent::Type type, std::uint32_t from, std::uint32_t to, const Packet& p,
               bool from_client = false);

  // engine_flood.cpp: the active n-1 attacker (RunOptions::flood)
  // Whether the packet arriving at `node` is delayed or taken over by the attacker (then it has
  // done what it does with it and Arrive stops).
  bool FloodIntercept(std::uint32_t node, std::uint32_t packet);
  void FloodTarget(std::uint32_t packet);
  void SendAttackerPackets(std::uint32_t provider, std::uint32_t count);
  bool FloodActive() const {
    return options_.flood.enabled && now_ >= options_.flood.start_us &&
           now_ < options_.flood.end_us;
  }

  // engine_clients.cpp
  TimeUs NextStreamTime(double rate_per_s);
  // now_ + gap_us rounded to a whole µs, or end_us_ + 1 (after the run) when that is later.
  TimeUs After(double gap_us) const;
  void OnRealMessage(std::uint32_t client);
  void OnPayload(std::uint32_t client);
  void OnCover(std::uint32_t client, PacketKind kind);
  void SendMessagePacket(std::uint32_t client, std::uint32_t message);
  void ClientSend(std::uint32_t client, std::uint32_t packet);
  std::uint32_t PickRecipient(std::uint32_t client);
  void Deliver(std::uint32_t packet);
  bool InWindow(TimeUs t) const { return t >= burn_in_us_ && t < duration_us_; }

  // engine_entropy.cpp
  void PropagateOnAdd(Node& n, std::uint32_t packet);
  void PropagateOnRelease(Node& n, const std::vector<mixnode::PacketHandle>& batch,
                          DistTable::Handle& dummy_dist);
  void SetDist(Packet& p, DistTable::Handle h);

  // engine_results.cpp
  Results Collect(double wall_s);

  const Scenario& s_;
  const RunOptions& options_;
  const std::uint64_t run_seed_;
  const TimeUs duration_us_, burn_in_us_, end_us_, latency_us_, processing_us_;
  const bool no_cover_;
  std::uint32_t path_mixes_ = 0;  // mixes on every path
  std::uint32_t mixes_per_layer_ = 0;
  std::uint32_t mix_count_ = 0;

  SimRng client_rng_, traffic_rng_, route_rng_;
  TimeUs now_ = 0;
  std::uint64_t seq_ = 0;
  std::vector<Event> heap_;
  std::vector<Node> nodes_;
  std::vector<Client> clients_;
  Layout layout_;

  std::vector<Packet> packets_;
  std::vector<std::uint32_t> free_packets_;
  std::uint64_t next_serial_ = 0;
  std::vector<Message> messages_;
  std::vector<std::uint32_t> free_messages_;
  std::uint64_t next_message_id_ = 0;
  std::uint64_t outstanding_measured_ = 0;  // measured messages not yet delivered

  DistTable dists_;
  std::optional<MixtureBuilder> builder_;
  std::vector<DistTable::Handle> scratch_;

  // Tallies for Results.
  Results r_;
  std::string corrupt_list_;       // FormatMixList(r_.corrupt_mixes), for the message records
  std::vector<double> entropies_;  // per measured real packet delivered
  std::vector<double> latencies_;  // per measured message delivered, ms
};

}  // namespace sotto::sim
