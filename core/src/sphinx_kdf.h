// Sphinx key schedule and primitive wrappers (spec §3). Internal to core; tests and the vector
// generator include it to check intermediates.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

#include "sotto/core/lioness.h"
#include "sotto/core/secret.h"
#include "sotto/core/sphinx.h"

namespace sotto::sphinx::internal {

inline constexpr std::string_view kKdfPrefix = "sotto-sphinx-v1/";
using Key32 = Secret<32>;
using Span32 = std::span<const std::uint8_t, 32>;

// Label prefixes of the two kinds of Lioness key (spec §3).
inline constexpr std::string_view kHopLionessLabel = "lioness-";
inline constexpr std::string_view kSurbLionessLabel = "surb-lioness-";

// Everything a hop derives from its shared secret s.
struct HopKeys {
  Key32 header_key;        // "header-stream": ChaCha20 key for the routing information
  Key32 mac_key;           // "header-mac": BLAKE2b key for gamma
  LionessKey payload_key;  // "lioness-1" ‖ … ‖ "lioness-4"
  Key32 blinding;          // "blinding": X25519 scalar that turns alpha_i into alpha_{i+1}
  ReplayTag replay_tag{};  // "replay-tag"
};

// out = BLAKE2b(key = key, message = kKdfPrefix ‖ label, outlen = |out|), |out| in 16..64.
void Kdf(Span32 key, std::string_view label, std::span<std::uint8_t> out);
HopKeys DeriveHopKeys(Span32 shared_secret);
// KDF(secret, prefix ‖ "1") ‖ … ‖ KDF(secret, prefix ‖ "4").
LionessKey DeriveLionessKey(Span32 secret, std::string_view prefix = kHopLionessLabel);

// buf ^= ChaCha20-IETF(key, nonce = 0^12, counter = 0)
void StreamXor(const Key32& key, std::span<std::uint8_t> buf);
// gamma = BLAKE2b-256(key = mac_key, alpha ‖ beta)
std::array<std::uint8_t, kMacSize> HeaderMac(const Key32& mac_key, Span32 alpha, ByteSpan beta);

// out = X25519(scalar, point). Returns false if the result is all zero (low-order point).
[[nodiscard]] bool X25519(std::span<std::uint8_t, 32> out, Span32 scalar, Span32 point);

}  // namespace sotto::sphinx::internal
