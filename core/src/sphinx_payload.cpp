// Payload body encoding and the destination's zero-block check (spec §5.2).
#include "sphinx_payload.h"

#include <sodium.h>

#include <algorithm>
#include <string>

namespace sotto::sphinx::internal {

Status CheckMessageSize(std::size_t size) {
  if (size > kMaxMessageSize) {
    return Status::InvalidArgument("message of " + std::to_string(size) +
                                   " bytes does not fit a Sphinx payload (at most " +
                                   std::to_string(kMaxMessageSize) + " bytes)");
  }
  return Status::Ok();
}

Bytes EncodeBody(ByteSpan message) {
  SOTTO_CHECK(message.size() <= kMaxMessageSize);
  Bytes body(kPayloadSize, 0);
  body[kZeroBlockSize] = static_cast<std::uint8_t>(message.size() >> 8);
  body[kZeroBlockSize + 1] = static_cast<std::uint8_t>(message.size());
  std::copy(message.begin(), message.end(),
            body.begin() + static_cast<std::ptrdiff_t>(kZeroBlockSize + kLengthFieldSize));
  return body;
}

std::optional<Bytes> DecodeBody(ByteSpan body) {
  if (body.size() != kPayloadSize) return std::nullopt;
  if (!sodium_is_zero(body.data(), kZeroBlockSize)) return std::nullopt;
  const std::size_t len = (std::size_t{body[kZeroBlockSize]} << 8) | body[kZeroBlockSize + 1];
  if (len > kMaxMessageSize) return std::nullopt;
  const auto* start = body.data() + kZeroBlockSize + kLengthFieldSize;
  return Bytes(start, start + len);
}

}  // namespace sotto::sphinx::internal
