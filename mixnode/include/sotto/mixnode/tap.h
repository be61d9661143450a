// A tap: an observer, and for the adversary tools a saboteur, installed inside a running node.
//
// The honest `sotto-mixnode` never installs one. `sotto-corrupt-node` (adversary/) runs the very
// same node code with a tap that records what the node sees — previous and next hops, link ids,
// times, mailbox contents — and can misbehave the way a corrupt node would (withhold or delay
// acknowledgements, drop, flip a bit, replay, hold client packets). See adversary/README.md.
//
// Contract: the node calls the tap from its event-loop thread only, synchronously, after the
// event happened (events) or at the point where it would act (decisions). A tap must not block
// and must not throw. Every call site in the node is guarded by `if (tap_)`, so without a tap
// the node builds none of these structures. The events name peers as PeerName() does.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sotto/core/bytes.h"
#include "sotto/core/sphinx.h"

namespace sotto::mixnode {

// Who the node is, for the tap's first event.
struct TapNodeInfo {
  std::string name;
  bool provider = false;
  sphinx::NodeId identity{};
};

// One PACKET that arrived and was processed. Peers are named "<node name>" for nodes of a
// consensus the node holds, "client:<first 16 hex digits of the mailbox id of its link key>"
// for anyone else (clients, at providers), "node:<16 hex digits of the id>" for a next hop
// that is in no consensus the node holds.
struct TapPacketIn {
  std::string from;
  bool from_client = false;
  std::uint64_t link_id = 0;  // the id the sender put on the PACKET
  // forward | deliver | dummy_sink | replay | drop:<reason> | refused:<reason>
  std::string verdict;
  std::optional<std::uint64_t> pool;         // forward: the pool id
  std::optional<std::string> next;           // forward: the next hop's name
  std::optional<sphinx::MailboxId> mailbox;  // deliver: the mailbox ...
  std::optional<std::uint64_t> item;         // ... and the item's id
  std::string_view action;                   // "" | "dropped" | "held" (what the tap decided)
};

// One PACKET frame handed to the next hop's socket.
struct TapPacketOut {
  sphinx::NodeId next{};
  std::string to;             // the next hop's name
  std::uint64_t link_id = 0;  // the id on the wire for this send
  std::optional<std::uint64_t> pool;
  bool dummy = false;  // made by this node (ground truth)
  bool resend = false;
};

// What to do with a packet that passed Sphinx processing and is to be forwarded or delivered.
enum class TapAccept : std::uint8_t {
  kNormal,
  kDrop,  // acknowledge it, then forget it (its replay tag is recorded, nothing is stored)
  kHold,  // pool it (acknowledged, stored) but give it to the mixing policy only when the tap
          // calls NodeTapHost::ReleaseHeld
};

// When to acknowledge a processed packet.
struct TapAckDecision {
  enum class Kind : std::uint8_t { kNow, kLater, kNever } kind = Kind::kNow;
  std::int64_t delay_us = 0;  // kLater: the tap sends it itself, via NodeTapHost::SendPacketAck
};

// What the tap did to an outgoing frame (BeforePacketOut may change the packet's bytes).
enum class TapOutAction : std::uint8_t { kNone, kFlipped };

// What a tap may ask the node to do, from OnTick.
class NodeTapHost {
 public:
  // PACKET_ACK{link_id} to the peer behind `routing_id` (a ROUTER routing id the tap kept).
  virtual void SendPacketAck(const Bytes& routing_id, std::uint64_t link_id) = 0;
  // Sends one more PACKET frame to `next` (no pool bookkeeping): a replayed copy.
  virtual bool SendPacketCopy(const sphinx::NodeId& next, std::uint64_t link_id,
                              const Bytes& packet) = 0;
  // Hands held packets (TapAccept::kHold) to the mixing policy now; unknown ids are ignored.
  virtual void ReleaseHeld(const std::vector<std::uint64_t>& pool_ids) = 0;

 protected:
  ~NodeTapHost() = default;
};

class NodeTap {
 public:
  virtual ~NodeTap() = default;

  // ---- Events ----
  virtual void OnStart(const TapNodeInfo&) {}
  virtual void OnPacketIn(const TapPacketIn&) {}
  // A PACKET_ACK the node sent at once (kNow); delayed and withheld ones are the tap's own.
  virtual void OnAckOut(const std::string& /*to*/, std::uint64_t /*link_id*/) {}
  virtual void OnRelease(std::size_t /*real*/, std::size_t /*dummies*/) {}
  virtual void OnPacketOut(const TapPacketOut&, TapOutAction) {}
  virtual void OnAckIn(const std::string& /*from*/, std::uint64_t /*link_id*/,
                       std::optional<std::uint64_t> /*pool*/) {}
  virtual void OnMailStored(const sphinx::MailboxId&, std::uint64_t /*item*/,
                            const Bytes& /*payload*/) {}
  virtual void OnFetch(const sphinx::MailboxId&, std::uint16_t /*max*/,
                       const std::vector<std::uint64_t>& /*item_ids*/) {}
  virtual void OnMailAck(const sphinx::MailboxId&, const std::vector<std::uint64_t>& /*ids*/) {}
  virtual void OnExpired(std::uint64_t /*pool*/) {}
  // The link to a next hop was closed, to be reopened: "stale" (nothing acknowledged within
  // resend-after-ms) or "consensus" (the next hop's address or link key changed).
  virtual void OnLinkReplaced(const std::string& /*to*/, std::string_view /*reason*/) {}
  virtual void OnStop() {}

  // ---- Decisions ----
  virtual TapAccept DecideAccept(const std::string& /*from*/, bool /*from_client*/,
                                 std::uint64_t /*link_id*/) {
    return TapAccept::kNormal;
  }
  // `routing_id` lets a tap that answers kLater send the ack itself.
  virtual TapAckDecision DecideAck(const TapPacketIn&, const Bytes& /*routing_id*/) { return {}; }
  // May change `packet` (the Sphinx packet of the frame about to be sent).
  virtual TapOutAction BeforePacketOut(const TapPacketOut&, std::span<std::uint8_t> /*packet*/) {
    return TapOutAction::kNone;
  }

  // ---- Time ----
  // Called on every turn of the event loop.
  virtual void OnTick(std::int64_t /*now_us*/, NodeTapHost&) {}
  // When the tap next needs OnTick (wall-clock µs), if sooner than the loop's own wake-up.
  virtual std::optional<std::int64_t> NextWakeupUs() const { return std::nullopt; }
};

}  // namespace sotto::mixnode
