// Envelope: what one Sotto message looks like inside a Sphinx payload, and the plaintext body
// inside the ratchet encryption (papers/e2ee-spec.md §7 is normative).
//
// The Sphinx message (what the recipient's provider stores) is always kSphinxMessageSize bytes:
//   slot (80) ‖ ratchet header (40) ‖ AEAD(body) (kBodySize + 16)
// `slot` is the X3DH session header (x3dh.h) while the sender has not yet heard back in that
// session, and random bytes otherwise, so the provider sees the same shape for every message.
// Loop cover messages (sent by a client to itself) are random bytes whose first 32 bytes are
// r (16) ‖ keyed-BLAKE2b-128(loop key, "sotto-loop-v1" ‖ r): only the client can recognise them.
//
// The body (kBodySize bytes, zero padded, so every message has the same length):
//   version (1, = 1) ‖ type (1) ‖ message id (16) ‖ sent_unix (8, BE, signed)
//   ‖ expires_after_s (4, BE; 0 = never) ‖ content length (2, BE) ‖ content ‖ zeros
// type 1 = text: content is UTF-8 text, at most kMaxTextBytes bytes.
// type 2 = receipt: content is 1..kMaxReceiptIds message ids (16 bytes each) the sender has
//          received; it is sent back so the first sender can mark them delivered.
//
// All functions are pure and thread-safe (except that they draw from the Rng given).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sotto/client_lib/ratchet.h"
#include "sotto/client_lib/x3dh.h"
#include "sotto/core/bytes.h"
#include "sotto/core/random.h"
#include "sotto/core/secret.h"
#include "sotto/core/sphinx_constants.h"
#include "sotto/core/status.h"

namespace sotto::client {

using MessageId = std::array<std::uint8_t, 16>;

inline constexpr std::size_t kSphinxMessageSize = sphinx::kMaxMessageSize;  // 2030
inline constexpr std::size_t kSlotSize = kX3dhHeaderSize;                   // 80
inline constexpr std::size_t kBodySize = kSphinxMessageSize - kSlotSize - kRatchetOverhead;
inline constexpr std::size_t kBodyHeaderSize = 1 + 1 + 16 + 8 + 4 + 2;
inline constexpr std::size_t kMaxTextBytes = kBodySize - kBodyHeaderSize;
inline constexpr std::size_t kMaxReceiptIds = 64;
inline constexpr std::uint8_t kBodyVersion = 1;

enum class BodyType : std::uint8_t { kText = 1, kReceipt = 2 };

struct MessageBody {
  BodyType type = BodyType::kText;
  MessageId id{};
  std::int64_t sent_unix = 0;
  std::uint32_t expires_after_s = 0;
  std::string text;                 // kText
  std::vector<MessageId> receipts;  // kReceipt
};

// InvalidArgument if the text is not valid UTF-8 (the message names the byte offset), or is
// empty, or longer than kMaxTextBytes (the message gives both sizes and says that longer messages
// and files are not supported yet); or for a receipt with 0 or more than kMaxReceiptIds ids.
// The result is exactly kBodySize bytes; wipe it when done.
Result<Bytes> EncodeBody(const MessageBody& body);
// Corruption for anything EncodeBody would not produce (unknown version or type, bad length,
// non-zero padding, invalid UTF-8, bad receipt count). Never aborts.
Result<MessageBody> DecodeBody(ByteSpan body);

// OK if `text` is well-formed UTF-8 (no overlong forms, surrogates, or code points above
// U+10FFFF); otherwise InvalidArgument "invalid UTF-8 at byte N".
Status ValidateUtf8(std::string_view text);

// Loop cover.
using LoopKey = Secret<32>;
Bytes MakeLoopMessage(const LoopKey& key, Rng& rng = SystemRng());  // kSphinxMessageSize bytes
bool IsLoopMessage(const LoopKey& key, ByteSpan sphinx_message);    // constant-time check

}  // namespace sotto::client
