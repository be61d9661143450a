// Message bodies, strict UTF-8 validation and loop cover messages (client_lib/envelope.h,
// papers/e2ee-spec.md §7).
#include "sotto/client_lib/envelope.h"

#include <sodium.h>

#include <algorithm>
#include <array>
#include <string>

namespace sotto::client {
namespace {

static_assert(kSphinxMessageSize == 2030);
static_assert(kBodySize == 1846 && kMaxTextBytes == 1685 && kBodyHeaderSize == 33);
static_assert(kBodyHeaderSize + kMaxReceiptIds * sizeof(MessageId) <= kBodySize);
static_assert(kBodyHeaderSize + kMaxReceiptsPerText * sizeof(MessageId) + kMaxTextBytes ==
              kBodySize);

constexpr std::size_t kTypeOffset = 1;
constexpr std::size_t kIdOffset = 2;
constexpr std::size_t kSentOffset = kIdOffset + sizeof(MessageId);  // 18
constexpr std::size_t kExpiresOffset = kSentOffset + 8;             // 26
constexpr std::size_t kReceiptCountOffset = kExpiresOffset + 4;     // 30
constexpr std::size_t kLengthOffset = kReceiptCountOffset + 1;      // 31
static_assert(kLengthOffset + 2 == kBodyHeaderSize);

constexpr std::string_view kLoopLabel = "sotto-loop-v1";
constexpr std::size_t kLoopNonceSize = 16;
constexpr std::size_t kLoopTagSize = 16;

void PutBe(Bytes& out, std::size_t offset, std::uint64_t v, std::size_t width) {
  for (std::size_t i = 0; i < width; ++i) {
    out[offset + i] = static_cast<std::uint8_t>(v >> (8 * (width - 1 - i)));
  }
}
std::uint64_t GetBe(ByteSpan in, std::size_t offset, std::size_t width) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < width; ++i) v = (v << 8) | in[offset + i];
  return v;
}

// The length in bytes of the well-formed UTF-8 sequence at text[i], or 0 if it is ill-formed
// (Unicode 15, table 3-7: no overlong forms, no surrogates, nothing above U+10FFFF).
std::size_t SequenceLength(std::string_view text, std::size_t i) {
  auto at = [&](std::size_t k) { return static_cast<std::uint8_t>(text[k]); };
  const std::uint8_t b0 = at(i);
  if (b0 < 0x80) return 1;
  std::size_t len = 0;
  std::uint8_t lo = 0x80, hi = 0xbf;  // allowed range of the second byte
  if (b0 >= 0xc2 && b0 <= 0xdf) {
    len = 2;
  } else if (b0 >= 0xe0 && b0 <= 0xef) {
    len = 3;
    if (b0 == 0xe0) lo = 0xa0;  // overlong
    if (b0 == 0xed) hi = 0x9f;  // surrogates U+D800..U+DFFF
  } else if (b0 >= 0xf0 && b0 <= 0xf4) {
    len = 4;
    if (b0 == 0xf0) lo = 0x90;  // overlong
    if (b0 == 0xf4) hi = 0x8f;  // above U+10FFFF
  } else {
    return 0;  // a continuation byte, C0/C1 (overlong) or F5..FF
  }
  if (text.size() - i < len) return 0;  // truncated
  if (at(i + 1) < lo || at(i + 1) > hi) return 0;
  for (std::size_t k = 2; k < len; ++k) {
    if (at(i + k) < 0x80 || at(i + k) > 0xbf) return 0;
  }
  return len;
}

// Returns the offset of the first ill-formed sequence, or text.size() if there is none.
std::size_t FirstInvalidUtf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t len = SequenceLength(text, i);
    if (len == 0) return i;
    i += len;
  }
  return i;
}

std::array<std::uint8_t, kLoopTagSize> LoopTag(const LoopKey& key, ByteSpan nonce) {
  std::array<std::uint8_t, kLoopTagSize> tag{};
  crypto_generichash_state st;
  crypto_generichash_init(&st, key.data(), key.size(), tag.size());
  crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(kLoopLabel.data()),
                            kLoopLabel.size());
  crypto_generichash_update(&st, nonce.data(), nonce.size());
  crypto_generichash_final(&st, tag.data(), tag.size());
  sodium_memzero(&st, sizeof st);
  return tag;
}

}  // namespace

Status ValidateUtf8(std::string_view text) {
  const std::size_t bad = FirstInvalidUtf8(text);
  if (bad == text.size()) return Status::Ok();
  return Status::InvalidArgument("invalid UTF-8 at byte " + std::to_string(bad));
}

Result<Bytes> EncodeBody(const MessageBody& body) {
  switch (body.type) {
    case BodyType::kText: {
      if (body.text.empty()) return Status::InvalidArgument("message is empty; nothing to send");
      if (body.text.size() > kMaxTextBytes) {
        return Status::InvalidArgument(
            "message is " + std::to_string(body.text.size()) + " bytes; at most " +
            std::to_string(kMaxTextBytes) +
            " bytes fit in one message (longer messages and files are not supported yet)");
      }
      if (auto s = ValidateUtf8(body.text); !s.ok()) return s;
      if (body.receipts.size() > kMaxReceiptsPerText) {
        return Status::InvalidArgument("a text message carries at most " +
                                       std::to_string(kMaxReceiptsPerText) + " receipts, not " +
                                       std::to_string(body.receipts.size()));
      }
      break;
    }
    case BodyType::kReceipt: {
      if (!body.text.empty()) return Status::InvalidArgument("a receipt cannot carry text");
      if (body.receipts.empty() || body.receipts.size() > kMaxReceiptIds) {
        return Status::InvalidArgument("a receipt carries 1 to " + std::to_string(kMaxReceiptIds) +
                                       " message ids, not " + std::to_string(body.receipts.size()));
      }
      break;
    }
    default:
      return Status::InvalidArgument("unknown message body type " +
                                     std::to_string(static_cast<unsigned>(body.type)));
  }

  Bytes out(kBodySize, 0);
  out[0] = kBodyVersion;
  out[kTypeOffset] = static_cast<std::uint8_t>(body.type);
  std::copy(body.id.begin(), body.id.end(), out.begin() + kIdOffset);
  PutBe(out, kSentOffset, static_cast<std::uint64_t>(body.sent_unix), 8);
  PutBe(out, kExpiresOffset, body.expires_after_s, 4);
  PutBe(out, kReceiptCountOffset, body.receipts.size(), 1);
  PutBe(out, kLengthOffset, body.text.size(), 2);
  auto content = out.begin() + kBodyHeaderSize;
  for (const MessageId& id : body.receipts) content = std::copy(id.begin(), id.end(), content);
  std::copy(body.text.begin(), body.text.end(), content);
  return out;
}

Result<MessageBody> DecodeBody(ByteSpan in) {
  if (in.size() != kBodySize) {
    return Status::Corruption("message body is " + std::to_string(in.size()) + " bytes, not " +
                              std::to_string(kBodySize));
  }
  if (in[0] == 1) {
    return Status::Corruption(
        "message body has version 1: made by an older Sotto version, which this one cannot read");
  }
  if (in[0] != kBodyVersion) {
    return Status::Corruption("message body has unknown version " + std::to_string(in[0]) +
                              " (sent by a newer client? this one reads version " +
                              std::to_string(kBodyVersion) + ")");
  }
  const std::uint8_t type = in[kTypeOffset];
  if (type != static_cast<std::uint8_t>(BodyType::kText) &&
      type != static_cast<std::uint8_t>(BodyType::kReceipt)) {
    return Status::Corruption("message body has unknown type " + std::to_string(type));
  }
  const auto receipts = static_cast<std::size_t>(in[kReceiptCountOffset]);
  const auto length = static_cast<std::size_t>(GetBe(in, kLengthOffset, 2));
  if (type == static_cast<std::uint8_t>(BodyType::kText)) {
    if (length == 0) return Status::Corruption("text message is empty");
    if (length > kMaxTextBytes) {
      return Status::Corruption("message body text length " + std::to_string(length) +
                                " exceeds the limit of " + std::to_string(kMaxTextBytes));
    }
    if (receipts > kMaxReceiptsPerText) {
      return Status::Corruption("text message carries " + std::to_string(receipts) +
                                " receipts, more than " + std::to_string(kMaxReceiptsPerText));
    }
  } else if (length != 0 || receipts == 0 || receipts > kMaxReceiptIds) {
    return Status::Corruption("receipt has text length " + std::to_string(length) + " and " +
                              std::to_string(receipts) + " ids; it must have no text and 1 to " +
                              std::to_string(kMaxReceiptIds) + " message ids");
  }
  // Both limits together keep R ids and L bytes within the body (static_asserts above).
  const std::size_t ids_size = receipts * sizeof(MessageId);
  const ByteSpan ids = in.subspan(kBodyHeaderSize, ids_size);
  const ByteSpan content = in.subspan(kBodyHeaderSize + ids_size, length);
  const ByteSpan padding = in.subspan(kBodyHeaderSize + ids_size + length);
  if (std::any_of(padding.begin(), padding.end(), [](std::uint8_t b) { return b != 0; })) {
    return Status::Corruption("message body padding is not all zeros");
  }

  MessageBody body;
  body.type = static_cast<BodyType>(type);
  std::copy_n(in.begin() + kIdOffset, body.id.size(), body.id.begin());
  body.sent_unix = static_cast<std::int64_t>(GetBe(in, kSentOffset, 8));
  body.expires_after_s = static_cast<std::uint32_t>(GetBe(in, kExpiresOffset, 4));
  body.receipts.resize(receipts);
  for (std::size_t i = 0; i < receipts; ++i) {
    std::copy_n(ids.begin() + static_cast<std::ptrdiff_t>(i * sizeof(MessageId)), sizeof(MessageId),
                body.receipts[i].begin());
  }
  if (body.type == BodyType::kText) {
    const std::string_view text(reinterpret_cast<const char*>(content.data()), content.size());
    if (const std::size_t bad = FirstInvalidUtf8(text); bad != text.size()) {
      return Status::Corruption("text message is not valid UTF-8 (at byte " + std::to_string(bad) +
                                ")");
    }
    body.text.assign(text);
  }
  return body;
}

Bytes MakeLoopMessage(const LoopKey& key, Rng& rng) {
  Bytes out(kSphinxMessageSize);
  rng.Fill(out);
  const auto tag = LoopTag(key, ByteSpan(out).first(kLoopNonceSize));
  std::copy(tag.begin(), tag.end(), out.begin() + kLoopNonceSize);
  return out;
}

bool IsLoopMessage(const LoopKey& key, ByteSpan sphinx_message) {
  if (sphinx_message.size() != kSphinxMessageSize) return false;
  const auto tag = LoopTag(key, sphinx_message.first(kLoopNonceSize));
  return sodium_memcmp(tag.data(), sphinx_message.data() + kLoopNonceSize, tag.size()) == 0;
}

}  // namespace sotto::client
