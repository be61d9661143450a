// sotto-sim's discrete-event engine: runs one repetition of a Scenario and returns its Results.
//
// Model (sim/README.md has the full description): time in microseconds; events in a binary heap
// ordered by (time, sequence number), so ties are deterministic. Clients send Poisson (or
// periodic) payload, loop and drop streams; a packet travels sender's provider → mixes (chosen by
// the topology) → recipient's provider. Every node is driven by the daemon's own MixingPolicy
// (mixnode/policy.h) — Add on arrival, Release at NextWakeup(), DummiesFor(n) node dummies —
// except pass-through providers, which forward at once. Sender anonymity is tracked by
// probability propagation (distribution.h) and measured when a real packet reaches the
// recipient's provider.
//
// Thread-safety: RunScenario is re-entrant; runs share nothing, so repetitions and sweep points
// may run on different threads. Callbacks are called on the calling thread.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "sotto/core/status.h"
#include "sotto/mixnode/policy.h"
#include "sotto/sim/results.h"
#include "sotto/sim/scenario.h"

namespace sotto::sim {

inline constexpr std::uint32_t kNoClient = 0xffffffff;

// kAttacker: a packet of the n-1 attacker's own clients (FloodAttack), known to the adversary.
enum class PacketKind : std::uint8_t { kReal, kPayloadCover, kLoop, kDrop, kNodeDummy, kAttacker };

// The network a run builds, for observers (attacks) and reports. Node ids index `nodes`:
// providers first (ids 0 .. providers-1), then the mixes layer by layer.
struct Layout {
  struct Node {
    bool provider = false;
    std::uint32_t layer = 0;  // 0 for providers, 1.. for mixes
    std::uint32_t index = 0;  // position in its layer (= cascade number for cascades)
    bool corrupt = false;
    bool mixing = false;  // runs a policy (false: pass-through provider)
  };
  std::vector<Node> nodes;
  std::vector<std::uint32_t> client_provider;       // client id → provider node id
  std::vector<std::vector<std::uint32_t>> friends;  // client id → friends (social_graph friends)
};

// One packet crossing a link, as the global passive observer sees it (time, from, to) plus the
// ground truth the observer does not see (kind, sender, recipient, message).
struct PacketEvent {
  enum class Type : std::uint8_t {
    kSend,     // a client → its provider: `from` is the client id
    kHop,      // node `from` → node `to`, at departure time (arrival = time + link latency)
    kArrive,   // reached node `to` on the wire (`from`: the node or client it came from), at
               // the arrival time; a batch node's round holds exactly the packets whose kArrive
               // came after its previous round's kHop events and before this round's
    kDeliver,  // accepted at its final provider `to` (`from` is the node it came from); after
               // its kArrive there, by processing_us when that is set
  };
  Type type = Type::kSend;
  mixnode::TimeUs time = 0;
  std::uint32_t from = 0, to = 0;
  std::uint64_t packet = 0;  // serial number, unique in the run
  PacketKind kind = PacketKind::kReal;
  std::uint32_t sender = kNoClient;     // client, or kNoClient for node dummies
  std::uint32_t recipient = kNoClient;  // client (real and loop packets), else kNoClient
  std::uint64_t message = 0;            // MessageRecord::id for real packets
  bool from_client = false;             // `from` is a client id (kSend, and its kArrive)
};

class Observer {
 public:
  virtual ~Observer() = default;
  virtual void OnStart(const Layout& /*layout*/) {}
  virtual void OnPacket(const PacketEvent& event) = 0;
};

// An active n-1 (flooding) attacker on the target's provider, for the network attacks
// (net_attacks.h; threshold-timeout policies only). From start_us to end_us it delays every
// other client's packet on its link into the target's provider until end_us (a corrupt provider,
// or whoever controls those links, can; with hold_other_providers also every other provider's
// link into the first mixes, which takes a global active attacker), and for each packet of the
// target: (1) sends a provider round's worth of its own packets through the provider first, which
// flushes every threshold mix of the cascade; (2) holds the target's packet back a moment
// (flush_gap_us, after the flush has left the first mix) and then sends it together with
// threshold − 1 of its own packets, so that the target's round is the target alone among packets
// the attacker recognises. Its packets (PacketKind::kAttacker) come from attacker clients at the
// target's provider and end in a random provider's dummy mailbox.
struct FloodAttack {
  bool enabled = false;
  std::uint32_t target = 0;  // client
  mixnode::TimeUs start_us = 0, end_us = 0;
  bool hold_other_providers = false;
};

struct RunOptions {
  // Which independent stream: run seed = DeriveSeed(scenario.seed, point, repetition).
  std::uint64_t point = 0, repetition = 0;
  // Every measured message, when it is delivered (in delivery order).
  std::function<void(const MessageRecord&)> on_message;
  // Every real message of the run, measured or not, when it is written into its sender's queue
  // (in creation order; delivered_us, latency_ms and entropy_bits are not known yet: 0, NaN).
  std::function<void(const MessageRecord&)> on_created;
  // The network the run built, before its first event.
  std::function<void(const Layout&)> on_layout;
  // Every packet movement (slows the run; nullptr = none). Not owned.
  Observer* observer = nullptr;
  // The active n-1 attacker (off by default).
  FloodAttack flood;
  // Called with the fraction of simulated time done, at most about 100 times per run.
  std::function<void(double)> on_progress;
};

// Validates the scenario (InvalidArgument naming the key), checks that it fits kMaxRunBytes,
// then runs it. Never throws: running out of memory is an Internal error with a one-line message.
Result<Results> RunScenario(const Scenario& scenario, const RunOptions& options = {});

// What one run of `scenario` allocates up front, roughly, in bytes: the per-client state, the
// social graph's friends table and, when tracking entropy, the mixture builder plus one double
// and one index per client for every honest continuous-time node. Packets, messages and sparse
// distributions in flight come on top (they grow with the traffic, not with the scenario size).
std::uint64_t EstimateRunBytes(const Scenario& scenario);
// The most one run (RunScenario), or all the runs a sweep has at once (RunSweep), may need by
// EstimateRunBytes: 8 GiB.
inline constexpr std::uint64_t kMaxRunBytes = std::uint64_t{8} << 30;

}  // namespace sotto::sim
