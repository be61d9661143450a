// Ed25519 signing and verification over label ‖ 0x00 ‖ message (libsodium crypto_sign_*).
#include "sotto/core/signing.h"

#include <sodium.h>

#include "sotto/core/check.h"
#include "sotto/core/sodium.h"

namespace sotto {
namespace {

// label ‖ 0x00 ‖ message. Everything here is public (labels and documents), so a plain buffer.
Bytes SignedBytes(std::string_view label, ByteSpan message) {
  SOTTO_CHECK(label.find('\0') == std::string_view::npos);
  Bytes out;
  out.reserve(label.size() + 1 + message.size());
  out.insert(out.end(), label.begin(), label.end());
  out.push_back(0x00);
  out.insert(out.end(), message.begin(), message.end());
  return out;
}

}  // namespace

SigningKey SigningKey::Generate() {
  InitSodiumOrDie();
  LockedSecret<32> seed;
  randombytes_buf(seed.data(), seed.size());
  return FromSeed(seed.Bytes());
}

SigningKey SigningKey::FromSeed(std::span<const std::uint8_t, 32> seed) {
  static_assert(crypto_sign_SEEDBYTES == 32 && crypto_sign_SECRETKEYBYTES == 64 &&
                crypto_sign_PUBLICKEYBYTES == kVerifyKeySize &&
                crypto_sign_BYTES == kSignatureSize);
  LockedSecret<32> own_seed(seed);
  LockedSecret<64> secret;
  VerifyKey verify;
  // Cannot fail: every 32-byte string is a valid Ed25519 seed.
  SOTTO_CHECK(crypto_sign_seed_keypair(verify.bytes.data(), secret.data(), own_seed.data()) == 0);
  return SigningKey(std::move(own_seed), std::move(secret), verify);
}

Signature SigningKey::Sign(std::string_view label, ByteSpan message) const {
  const Bytes input = SignedBytes(label, message);
  Signature sig{};
  SOTTO_CHECK(
      crypto_sign_detached(sig.data(), nullptr, input.data(), input.size(), secret_.data()) == 0);
  return sig;
}

bool VerifySignature(const VerifyKey& key, std::string_view label, ByteSpan message,
                     const Signature& signature) {
  const Bytes input = SignedBytes(label, message);
  return crypto_sign_verify_detached(signature.data(), input.data(), input.size(),
                                     key.bytes.data()) == 0;
}

}  // namespace sotto
