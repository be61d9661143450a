// X25519 key pair generation.
#include "sotto/core/keys.h"

#include <sodium.h>

namespace sotto {

PublicKey DerivePublicKey(const SecretKey& secret) {
  PublicKey pub;
  crypto_scalarmult_base(pub.bytes.data(), secret.data());
  return pub;
}

KeyPair KeyPair::Generate(Rng& rng) {
  SecretKey secret;
  rng.Fill(secret.MutableBytes());
  PublicKey pub = DerivePublicKey(secret);
  return KeyPair{pub, std::move(secret)};
}

}  // namespace sotto
