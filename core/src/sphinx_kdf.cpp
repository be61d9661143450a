// Sphinx key schedule: keyed BLAKE2b with domain-separated labels (spec §3).
#include "sphinx_kdf.h"

#include <sodium.h>

#include <string>

#include "sotto/core/check.h"

namespace sotto::sphinx::internal {

void Kdf(Span32 key, std::string_view label, std::span<std::uint8_t> out) {
  SOTTO_CHECK(out.size() >= crypto_generichash_BYTES_MIN &&
              out.size() <= crypto_generichash_BYTES_MAX);
  SOTTO_CHECK(kKdfPrefix.size() + label.size() <= 64);
  std::array<std::uint8_t, 64> message{};
  std::size_t len = 0;
  for (char c : kKdfPrefix) message[len++] = static_cast<std::uint8_t>(c);
  for (char c : label) message[len++] = static_cast<std::uint8_t>(c);
  crypto_generichash(out.data(), out.size(), message.data(), len, key.data(), key.size());
}

LionessKey DeriveLionessKey(Span32 secret, std::string_view prefix) {
  LionessKey key;
  std::string label(prefix);
  for (std::size_t i = 0; i < 4; ++i) {
    label.resize(prefix.size());
    label.push_back(static_cast<char>('1' + i));
    Kdf(secret, label, std::span<std::uint8_t>(key.data() + 32 * i, 32));
  }
  return key;
}

HopKeys DeriveHopKeys(Span32 shared_secret) {
  HopKeys keys;
  Kdf(shared_secret, "header-stream", keys.header_key.MutableBytes());
  Kdf(shared_secret, "header-mac", keys.mac_key.MutableBytes());
  keys.payload_key = DeriveLionessKey(shared_secret);
  Kdf(shared_secret, "blinding", keys.blinding.MutableBytes());
  Kdf(shared_secret, "replay-tag", keys.replay_tag);
  return keys;
}

void StreamXor(const Key32& key, std::span<std::uint8_t> buf) {
  static constexpr std::uint8_t kZeroNonce[crypto_stream_chacha20_ietf_NONCEBYTES] = {};
  crypto_stream_chacha20_ietf_xor(buf.data(), buf.data(), buf.size(), kZeroNonce, key.data());
}

std::array<std::uint8_t, kMacSize> HeaderMac(const Key32& mac_key, Span32 alpha, ByteSpan beta) {
  // alpha is under the MAC so that no other encoding of the same group element (alpha plus a
  // small-order point gives the same shared secret) passes.
  crypto_generichash_state state;
  crypto_generichash_init(&state, mac_key.data(), mac_key.size(), kMacSize);
  crypto_generichash_update(&state, alpha.data(), alpha.size());
  crypto_generichash_update(&state, beta.data(), beta.size());
  std::array<std::uint8_t, kMacSize> mac{};
  crypto_generichash_final(&state, mac.data(), mac.size());
  sodium_memzero(&state, sizeof state);
  return mac;
}

bool X25519(std::span<std::uint8_t, 32> out, Span32 scalar, Span32 point) {
  // libsodium 1.0.18 returns -1 when the output is all zero (a low-order input point).
  return crypto_scalarmult(out.data(), scalar.data(), point.data()) == 0;
}

}  // namespace sotto::sphinx::internal
