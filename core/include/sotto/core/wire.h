// Wire messages: the bytes inside each ZeroMQ message Sotto nodes, clients and the directory
// exchange. Every message is one ZeroMQ frame, `type (1 byte) ‖ body`, and every decoder checks
// the exact size (or the exact structure) before looking at anything else; a message that does
// not parse is dropped and counted by the caller. Specified in papers/network-spec.md §3.
//
// All integers are big-endian. These are plain value types; encoding never fails, decoding
// returns nullopt (packet path) or a Status (control path) for anything malformed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "sotto/core/bytes.h"
#include "sotto/core/sphinx.h"
#include "sotto/core/status.h"

namespace sotto::wire {

enum MessageType : std::uint8_t {
  // node → node, and client → provider (the provider is the sender's first hop)
  kPacket = 0x01,     // seq(8) ‖ Sphinx packet
  kPacketAck = 0x02,  // seq(8): the receiver has taken responsibility (stored or dropped it)
  // client → provider
  kFetch = 0x11,  // mailbox(32) ‖ max_items(2)
  kAck = 0x12,    // mailbox(32) ‖ count(2) ‖ count × id(8); ids equal to 0 are ignored
  // provider → client
  kMail = 0x21,   // count(2) ‖ count × item: exactly max_items items, padded (see below)
  kAcked = 0x22,  // count(2): how many non-zero ids the ACK carried
  // anyone → directory
  kPostDescriptor = 0x31,  // signed descriptor document
  kGetConsensus = 0x32,    // epoch(8), 0 = the current epoch
  // directory → anyone
  kConsensus = 0x41,  // signed consensus document
  kPosted = 0x42,     // empty
  // any reply
  kError = 0x7F,  // code(1) ‖ UTF-8 message
};

inline constexpr std::size_t kPacketMessageSize = 1 + 8 + sphinx::kPacketSize;
inline constexpr std::size_t kMaxFetchItems = 64;
// One mail item: id(8) ‖ received_us(8) ‖ kind(1) ‖ surb_id(32) ‖ length(2) ‖ payload.
inline constexpr std::size_t kMailItemHeaderSize = 8 + 8 + 1 + 32 + 2;
inline constexpr std::size_t kMaxMailMessageSize =
    1 + 2 + kMaxFetchItems * (kMailItemHeaderSize + sphinx::kPayloadSize);
inline constexpr std::size_t kMaxControlMessageSize = 1 << 20;  // directory documents

// Mailbox padding (papers/network-spec.md §4.3). A provider answers FETCH{max_items = N} with
// exactly N items: the real ones, oldest first, then padding items. A padding item has id 0
// (real mail ids start at 1), received_us 0, kind 0, an all-zero surb_id and a payload of
// kMailPaddingPayloadSize random bytes, so that while every real item is a full-size message the
// MAIL reply's length does not depend on how much mail was waiting. Clients skip padding items
// and may echo their id 0 in an ACK (the provider ignores it), so the ACK's length need not
// depend on it either.
inline constexpr std::uint64_t kPaddingMailId = 0;
inline constexpr std::size_t kMailPaddingPayloadSize = sphinx::kMaxMessageSize;  // 2030
inline constexpr std::size_t kPaddedMailItemSize = kMailItemHeaderSize + kMailPaddingPayloadSize;
// The encoded size of a MAIL reply of n items, each padding or a full-size message:
// 3 + n × 2081 bytes (16 651 for n = 8, 33 299 for n = 16).
constexpr std::size_t PaddedMailMessageSize(std::size_t n) {
  return 1 + 2 + n * kPaddedMailItemSize;
}
// The encoded size of an ACK of n ids: 35 + 8n bytes.
constexpr std::size_t AckMessageSize(std::size_t n) { return 1 + 32 + 2 + 8 * n; }

enum class ErrorCode : std::uint8_t {
  kMalformed = 1,    // the request did not parse
  kForbidden = 2,    // e.g. fetching a mailbox that is not yours
  kNotFound = 3,     // e.g. no consensus for that epoch yet
  kUnavailable = 4,  // try again later
  kInternal = 5,
};

struct PacketMsg {
  std::uint64_t seq = 0;
  Bytes packet;  // sphinx::kPacketSize
};
struct PacketAckMsg {
  std::uint64_t seq = 0;
};
struct FetchMsg {
  sphinx::MailboxId mailbox{};
  std::uint16_t max_items = 0;
};
struct AckMsg {
  sphinx::MailboxId mailbox{};
  std::vector<std::uint64_t> ids;
};
struct MailEntry {
  std::uint64_t id = 0;  // ≥ 1; kPaddingMailId (0) marks a padding item, to be skipped
  std::int64_t received_us = 0;
  bool is_reply = false;
  sphinx::SurbId surb_id{};
  Bytes payload;
};
struct MailMsg {
  std::vector<MailEntry> items;
};
struct AckedMsg {
  std::uint16_t count = 0;
};
struct PostDescriptorMsg {
  std::string document;
};
struct GetConsensusMsg {
  std::uint64_t epoch = 0;
};
struct ConsensusMsg {
  std::string document;
};
struct PostedMsg {};
struct ErrorMsg {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;
};

// True for the padding items a provider adds to a MAIL reply (id 0).
inline bool IsPadding(const MailEntry& entry) { return entry.id == kPaddingMailId; }

using Message = std::variant<PacketMsg, PacketAckMsg, FetchMsg, AckMsg, MailMsg, AckedMsg,
                             PostDescriptorMsg, GetConsensusMsg, ConsensusMsg, PostedMsg, ErrorMsg>;

Bytes Encode(const Message& message);
// Strict: exact sizes, counts within limits, no trailing bytes, valid UTF-8 is NOT checked for
// error text (it is only ever logged escaped). InvalidArgument says what was wrong.
Result<Message> Decode(ByteSpan bytes);

}  // namespace sotto::wire
