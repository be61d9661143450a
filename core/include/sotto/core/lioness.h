// Lioness (Anderson & Biham, 1996): a wide-block cipher built from a stream cipher and a keyed
// hash, here ChaCha20 (IETF, zero nonce) and keyed BLAKE2b-256. It enciphers a whole block of any
// length > 32 bytes as one unit, so changing any ciphertext bit garbles the entire plaintext —
// the property Sphinx relies on to defeat tagging attacks on the payload.
// Specified in papers/sphinx-spec.md §5. Stateless and thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "sotto/core/secret.h"

namespace sotto {

inline constexpr std::size_t kLionessSubkeySize = 32;
inline constexpr std::size_t kLionessKeySize = 4 * kLionessSubkeySize;  // K1 ‖ K2 ‖ K3 ‖ K4
inline constexpr std::size_t kLionessMinBlockSize = kLionessSubkeySize + 1;

using LionessKey = Secret<kLionessKeySize>;

// Both operate in place. The block must be at least kLionessMinBlockSize bytes (checked: a
// shorter block is a programming error, never input-dependent in Sotto).
void LionessEncrypt(const LionessKey& key, std::span<std::uint8_t> block);
void LionessDecrypt(const LionessKey& key, std::span<std::uint8_t> block);

}  // namespace sotto
