// The payload body before encryption (spec §5.2): zero block ‖ length ‖ message ‖ zero fill.
// Internal to core.
#pragma once

#include <optional>

#include "sotto/core/sphinx.h"

namespace sotto::sphinx::internal {

// Requires message.size() ≤ kMaxMessageSize. Returns kPayloadSize bytes.
Bytes EncodeBody(ByteSpan message);
// nullopt unless the zero block is all zero and the length field is ≤ kMaxMessageSize.
std::optional<Bytes> DecodeBody(ByteSpan body);

Status CheckMessageSize(std::size_t size);

}  // namespace sotto::sphinx::internal
