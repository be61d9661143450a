// Ed25519 signatures (libsodium crypto_sign_*): the identity keys of nodes and the directory
// authority's signing key. Signatures are always over a domain-separation label, so a signature
// made for one kind of document can never be replayed as another. The signed bytes are
//
//   label ‖ 0x00 ‖ message
//
// The zero byte ends the label (labels are ASCII and never contain one; checked), so no
// (label, message) pair is a prefix-shifted copy of another: ("ab", "c…") ≠ ("a", "bc…").
// Verification uses libsodium's strict checks (canonical S, no small-order R or public key).
// SigningKey keeps its seed and secret key in LockedSecret memory; all functions are thread-safe
// for concurrent const use.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>
#include <utility>

#include "sotto/core/bytes.h"
#include "sotto/core/random.h"
#include "sotto/core/secret.h"

namespace sotto {

inline constexpr std::size_t kVerifyKeySize = 32;
inline constexpr std::size_t kSignatureSize = 64;

struct VerifyKey {
  std::array<std::uint8_t, kVerifyKeySize> bytes{};
  friend bool operator==(const VerifyKey&, const VerifyKey&) = default;
  friend auto operator<=>(const VerifyKey&, const VerifyKey&) = default;
};
using Signature = std::array<std::uint8_t, kSignatureSize>;

class SigningKey {
 public:
  // A fresh key pair from the system CSPRNG (randombytes_buf), or deterministically from a
  // 32-byte seed (RFC 8032 private key).
  static SigningKey Generate();
  static SigningKey FromSeed(std::span<const std::uint8_t, 32> seed);

  const VerifyKey& verify_key() const { return verify_key_; }
  // The 32-byte seed the key was made from (what a key file stores).
  const LockedSecret<32>& seed() const { return seed_; }

  // Signs label ‖ 0x00 ‖ message. `label` names the kind of document, e.g. "sotto-consensus-v1";
  // it must not contain a zero byte (a bug; checked).
  Signature Sign(std::string_view label, ByteSpan message) const;

 private:
  SigningKey(LockedSecret<32> seed, LockedSecret<64> secret, VerifyKey verify)
      : seed_(std::move(seed)), secret_(std::move(secret)), verify_key_(verify) {}
  LockedSecret<32> seed_;
  LockedSecret<64> secret_;
  VerifyKey verify_key_;
};

// True iff `signature` is a valid signature by `key` over label ‖ 0x00 ‖ message.
[[nodiscard]] bool VerifySignature(const VerifyKey& key, std::string_view label, ByteSpan message,
                                   const Signature& signature);

}  // namespace sotto
