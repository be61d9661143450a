// X25519 key pairs used by mix nodes for Sphinx (the per-epoch "routing keys").
// PublicKey is a plain copyable value; SecretKey is a LockedSecret (sodium_malloc'ed, wiped).
#pragma once

#include <array>
#include <cstdint>

#include "sotto/core/random.h"
#include "sotto/core/secret.h"

namespace sotto {

inline constexpr std::size_t kX25519KeySize = 32;

struct PublicKey {
  std::array<std::uint8_t, kX25519KeySize> bytes{};
  friend bool operator==(const PublicKey&, const PublicKey&) = default;
};

using SecretKey = LockedSecret<kX25519KeySize>;

struct KeyPair {
  PublicKey public_key;
  SecretKey secret_key;

  static KeyPair Generate(Rng& rng = SystemRng());
};

// The public key that belongs to a secret key (X25519 base-point multiplication).
PublicKey DerivePublicKey(const SecretKey& secret);

}  // namespace sotto
