// Envelope: what one Sotto message looks like inside a Sphinx payload, and the plaintext body
// inside the ratchet encryption (papers/e2ee-spec.md §7 is normative).
//
// The Sphinx message (what the recipient's provider stores) is always kSphinxMessageSize bytes:
//   slot (112) ‖ encrypted ratchet header (56) ‖ AEAD(body) (kBodySize + 16)
// `slot` is a fresh hidden session header (x3dh.h) in every message the sender sends before it
// has heard back in that session, and random bytes otherwise; everything else is ciphertext, so
// to the provider every message looks like 2030 random bytes, like loop cover.
// Loop cover messages (sent by a client to itself) are random bytes whose first 32 bytes are
// r (16) ‖ keyed-BLAKE2b-128(loop key, "sotto-loop-v1" ‖ r): only the client can recognise them.
//
// The body (kBodySize bytes, zero padded, so every message has the same length):
//   version (1, = 2) ‖ type (1) ‖ message id (16) ‖ sent_unix (8, BE, signed)
//   ‖ expires_after_s (4, BE; 0 = never) ‖ receipt count R (1) ‖ text length L (2, BE)
//   ‖ R receipt ids (16 each) ‖ L bytes of text ‖ zeros
// type 1 = text: 1..kMaxTextBytes bytes of UTF-8, and 0..kMaxReceiptsPerText receipt ids that
//          ride along (delivery receipts inside a real message).
// type 2 = receipt: no text, 1..kMaxReceiptIds message ids the sender has received; it is sent
//          back so the first sender can mark them delivered.
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

inline constexpr std::size_t kSphinxMessageSize = sphinx::kMaxMessageSize;                   // 2030
inline constexpr std::size_t kSlotSize = kX3dhHeaderSize;                                    // 112
inline constexpr std::size_t kBodySize = kSphinxMessageSize - kSlotSize - kRatchetOverhead;  // 1846
inline constexpr std::size_t kBodyHeaderSize = 1 + 1 + 16 + 8 + 4 + 1 + 2;                   // 33
inline constexpr std::size_t kMaxReceiptIds = 64;      // in a receipt body
inline constexpr std::size_t kMaxReceiptsPerText = 8;  // riding in a text body
// The text limit leaves room for kMaxReceiptsPerText ids, used or not, so it never depends on
// how many receipts happen to be pending.
inline constexpr std::size_t kMaxTextBytes =
    kBodySize - kBodyHeaderSize - kMaxReceiptsPerText * 16;  // 1685
inline constexpr std::uint8_t kBodyVersion = 2;

enum class BodyType : std::uint8_t { kText = 1, kReceipt = 2 };

struct MessageBody {
  BodyType type = BodyType::kText;
  MessageId id{};
  std::int64_t sent_unix = 0;
  std::uint32_t expires_after_s = 0;
  std::string text;                 // kText only
  std::vector<MessageId> receipts;  // kReceipt: 1..kMaxReceiptIds; kText: 0..kMaxReceiptsPerText
};

// InvalidArgument if the text is not valid UTF-8 (the message names the byte offset), or is
// empty, or longer than kMaxTextBytes (the message gives both sizes and says that longer messages
// and files are not supported yet), or carries more than kMaxReceiptsPerText receipts; or for a
// receipt with text, or with 0 or more than kMaxReceiptIds ids. The result is exactly kBodySize
// bytes; wipe it when done.
Result<Bytes> EncodeBody(const MessageBody& body);
// Corruption for anything EncodeBody would not produce (unknown version — version 1 included,
// "made by an older Sotto version" — or type, bad lengths or counts, non-zero padding, invalid
// UTF-8). Never aborts.
Result<MessageBody> DecodeBody(ByteSpan body);

// OK if `text` is well-formed UTF-8 (no overlong forms, surrogates, or code points above
// U+10FFFF); otherwise InvalidArgument "invalid UTF-8 at byte N".
Status ValidateUtf8(std::string_view text);

// Loop cover.
using LoopKey = Secret<32>;
Bytes MakeLoopMessage(const LoopKey& key, Rng& rng = SystemRng());  // kSphinxMessageSize bytes
bool IsLoopMessage(const LoopKey& key, ByteSpan sphinx_message);    // constant-time check

}  // namespace sotto::client
