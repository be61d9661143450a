// Sphinx packets (Danezis & Goldberg, 2009): the layered, fixed-size onion every Sotto message
// travels in. This header is the whole public API: build forward packets, build and use
// single-use reply blocks (SURBs), and process a packet at a node.
//
// Wire format, key schedule and every size: papers/sphinx-spec.md. Sizes: sphinx_constants.h.
//
// Guarantees:
//   - every packet is exactly kPacketSize bytes, whatever the path length (1..kMaxHops) and
//     whether it is a forward packet or a reply sent through a SURB;
//   - ProcessPacket never throws and never crashes on hostile input: it returns Drop;
//   - a replay tag is only returned once the header MAC has verified;
//   - per-packet secrets are wiped before returning.
// All functions are stateless and thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "sotto/core/bytes.h"
#include "sotto/core/keys.h"
#include "sotto/core/lioness.h"
#include "sotto/core/random.h"
#include "sotto/core/sphinx_constants.h"
#include "sotto/core/status.h"

namespace sotto::sphinx {

using NodeId = std::array<std::uint8_t, kNodeIdSize>;
using MailboxId = std::array<std::uint8_t, kMailboxIdSize>;
using SurbId = std::array<std::uint8_t, kSurbIdSize>;
using ReplayTag = std::array<std::uint8_t, kReplayTagSize>;

// ---- Routing commands (spec §4) -------------------------------------------------------------

// Forward to the next node after waiting delay_ms (0 = the node's batch policy decides;
// at most kMaxDelayMs).
struct RelayCommand {
  NodeId next_hop{};
  std::uint32_t delay_ms = 0;
};
// Final hop of a forward packet: verify the payload and store the message in a mailbox.
struct DeliverCommand {
  MailboxId mailbox{};
};
// Final hop of a reply: store the still-encrypted payload in the SURB creator's mailbox together
// with the SURB id, which tells the creator which keys decrypt it.
struct SurbDeliverCommand {
  MailboxId mailbox{};
  SurbId surb_id{};
};
using RoutingCommand = std::variant<RelayCommand, DeliverCommand, SurbDeliverCommand>;

// One hop of a path, as the sender knows it from the directory.
struct PathHop {
  NodeId id{};
  PublicKey routing_key;       // the node's Sphinx public key for the epoch
  std::uint32_t delay_ms = 0;  // per-hop delay for continuous-time mixing (≤ kMaxDelayMs);
                               // ignored on the last hop
};

// ---- Forward packets (spec §6) --------------------------------------------------------------

// Builds a packet that travels path[0] → … → path[n-1] and is delivered by path[n-1] into
// `mailbox`. Send the result to path[0].id. Fails (InvalidArgument) if the path is empty or
// longer than kMaxHops, a delay exceeds kMaxDelayMs, the message exceeds kMaxMessageSize, or a
// routing key is invalid.
Result<Bytes> CreateForwardPacket(std::span<const PathHop> path, const MailboxId& mailbox,
                                  ByteSpan message, Rng& rng = SystemRng());

// ---- Single-use reply blocks (spec §7) ------------------------------------------------------

// What the SURB creator hands (inside an end-to-end encrypted message) to the party who may reply.
// It reveals neither the creator's address nor the path. Use it once.
struct Surb {
  NodeId first_hop{};
  Bytes header;  // kHeaderSize bytes
  Secret<kSurbKeySize> payload_key;

  // kSurbSize bytes: first_hop ‖ header ‖ payload_key. Holds a key: send it only inside an
  // end-to-end encrypted message and wipe the buffer after use.
  Bytes Serialize() const;
  static Result<Surb> Parse(ByteSpan bytes);
};

// What the creator keeps, to open the reply when it arrives. Secret: store it encrypted.
struct SurbKeys {
  SurbId id{};
  Secret<kSurbKeySize> payload_key;
  std::vector<LionessKey> hop_payload_keys;  // one per hop, in path order
};

struct SurbAndKeys {
  Surb surb;
  SurbKeys keys;
};

// Builds a SURB for replies that travel path[0] → … → path[n-1] and are stored by path[n-1]
// in `mailbox` (the creator's own mailbox).
Result<SurbAndKeys> CreateSurb(std::span<const PathHop> path, const MailboxId& mailbox,
                               Rng& rng = SystemRng());

// Used by the replier: a packet of kPacketSize bytes to be sent to surb.first_hop. Consumes
// the SURB: a second reply through the same header would be linkable to the first (and the
// first mix's replay cache drops it anyway).
Result<Bytes> CreateReplyPacket(Surb&& surb, ByteSpan message);

// Used by the SURB creator on the payload of a SurbDeliver: removes every layer and checks the
// zero block. Fails (Corruption) if the payload was modified anywhere on the way.
Result<Bytes> OpenReply(const SurbKeys& keys, ByteSpan delivered_payload);

// ---- Processing at a node (spec §8) ---------------------------------------------------------

enum class DropReason : std::uint8_t {
  kBadLength,         // not exactly kPacketSize bytes
  kInvalidPoint,      // alpha is a non-canonical encoding or a low-order point
  kBadMac,            // header MAC mismatch: tampered, or not encrypted to this node's key
  kReplay,            // the ReplayGuard has seen this packet's replay tag before
  kMalformedCommand,  // unknown command, reserved bits set, or a delay out of range
  kPayloadCorrupt,    // final hop: zero block or length field wrong after decryption
  kOutOfMemory,       // the node could not allocate the output packet
};
std::string_view DropReasonName(DropReason reason);

struct Forward {
  NodeId next_hop{};
  std::uint32_t delay_ms = 0;
  Bytes packet;  // kPacketSize bytes, to be sent to next_hop
  ReplayTag replay_tag{};
};
struct Deliver {
  MailboxId mailbox{};
  Bytes message;
  ReplayTag replay_tag{};
};
struct SurbDeliver {
  MailboxId mailbox{};
  SurbId surb_id{};
  Bytes payload;  // kPayloadSize bytes, still encrypted; for OpenReply by the SURB creator
  ReplayTag replay_tag{};
};
struct Drop {
  DropReason reason;
};
using ProcessResult = std::variant<Forward, Deliver, SurbDeliver, Drop>;

// A node's replay cache, consulted by ProcessPacket as soon as the header MAC has verified and
// before any further work (spec §8 step 6).
class ReplayGuard {
 public:
  virtual ~ReplayGuard() = default;
  // Records `tag` and returns true if it had not been seen; returns false for a replay. An
  // implementation that cannot tell (storage failure) must return false: dropping is safe.
  virtual bool CheckAndRecord(const ReplayTag& tag) noexcept = 0;
};

// Processes one received packet with the node's routing secret key. Never throws. With a
// `replay` guard, a packet whose tag was seen before is dropped (kReplay) and every packet that
// passes the MAC check is recorded, whatever happens to it next. Without one (tests, tools) the
// caller must check the returned replay_tag itself before acting on the result.
ProcessResult ProcessPacket(const SecretKey& node_key, ByteSpan packet,
                            ReplayGuard* replay = nullptr) noexcept;

}  // namespace sotto::sphinx
