// Byte-buffer vocabulary shared by every component, and hex helpers for *public* data
// (packets, public keys, identifiers). Secrets never pass through these helpers: see secret.h.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sotto/core/status.h"

namespace sotto {

using Bytes = std::vector<std::uint8_t>;
using ByteSpan = std::span<const std::uint8_t>;
using MutableByteSpan = std::span<std::uint8_t>;

std::string ToHex(ByteSpan bytes);
// Accepts lower- or upper-case hex with no separators.
Result<Bytes> FromHex(std::string_view hex);

template <std::size_t N>
Result<std::array<std::uint8_t, N>> FixedFromHex(std::string_view hex) {
  auto bytes = FromHex(hex);
  if (!bytes.ok()) return bytes.status();
  if (bytes->size() != N) {
    return Status::InvalidArgument("expected " + std::to_string(N) + " bytes of hex, got " +
                                   std::to_string(bytes->size()));
  }
  std::array<std::uint8_t, N> out{};
  for (std::size_t i = 0; i < N; ++i) out[i] = (*bytes)[i];
  return out;
}

}  // namespace sotto
