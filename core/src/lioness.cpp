// Lioness wide-block cipher over ChaCha20 (IETF, zero nonce) and keyed BLAKE2b-256.
// Spec: papers/sphinx-spec.md §5. Block = L ‖ R with |L| = 32.
//   encrypt: R ^= S(L ^ K1); L ^= H(K2, R); R ^= S(L ^ K3); L ^= H(K4, R)
//   decrypt: the same four rounds in reverse order.
#include "sotto/core/lioness.h"

#include <sodium.h>

#include "sotto/core/check.h"

namespace sotto {
namespace {

constexpr std::size_t kHalf = kLionessSubkeySize;
constexpr std::uint8_t kZeroNonce[crypto_stream_chacha20_ietf_NONCEBYTES] = {};

std::span<const std::uint8_t, kHalf> Subkey(const LionessKey& key, std::size_t index) {
  return std::span<const std::uint8_t, kHalf>(key.data() + index * kHalf, kHalf);
}

// R ^= ChaCha20(L ^ K)
void StreamRound(std::span<std::uint8_t> block, std::span<const std::uint8_t, kHalf> subkey) {
  Secret<kHalf> round_key;
  for (std::size_t i = 0; i < kHalf; ++i) round_key.data()[i] = block[i] ^ subkey[i];
  crypto_stream_chacha20_ietf_xor(block.data() + kHalf, block.data() + kHalf, block.size() - kHalf,
                                  kZeroNonce, round_key.data());
}

// L ^= BLAKE2b-256(key = K, R)
void HashRound(std::span<std::uint8_t> block, std::span<const std::uint8_t, kHalf> subkey) {
  Secret<kHalf> digest;
  crypto_generichash(digest.data(), kHalf, block.data() + kHalf, block.size() - kHalf,
                     subkey.data(), kHalf);
  for (std::size_t i = 0; i < kHalf; ++i) block[i] ^= digest.data()[i];
}

}  // namespace

void LionessEncrypt(const LionessKey& key, std::span<std::uint8_t> block) {
  SOTTO_CHECK(block.size() >= kLionessMinBlockSize);
  StreamRound(block, Subkey(key, 0));
  HashRound(block, Subkey(key, 1));
  StreamRound(block, Subkey(key, 2));
  HashRound(block, Subkey(key, 3));
}

void LionessDecrypt(const LionessKey& key, std::span<std::uint8_t> block) {
  SOTTO_CHECK(block.size() >= kLionessMinBlockSize);
  HashRound(block, Subkey(key, 3));
  StreamRound(block, Subkey(key, 2));
  HashRound(block, Subkey(key, 1));
  StreamRound(block, Subkey(key, 0));
}

}  // namespace sotto
