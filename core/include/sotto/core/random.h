// Sources of randomness. Everything in Sotto that needs random bytes takes an Rng&, so that
// production code uses the operating system's CSPRNG and tests and the known-answer vector
// generator can inject a reproducible stream.
#pragma once

#include <cstdint>
#include <span>

#include "sotto/core/secret.h"

namespace sotto {

class Rng {
 public:
  virtual ~Rng() = default;
  virtual void Fill(std::span<std::uint8_t> out) = 0;
};

// libsodium's randombytes_buf (getrandom(2)). Thread-safe.
Rng& SystemRng();

// A reproducible stream: ChaCha20 (IETF) keystream under a 32-byte seed, nonce zero, continuing
// where the previous Fill stopped. FOR TESTS AND TEST VECTORS ONLY — never for real keys.
class DeterministicRng final : public Rng {
 public:
  explicit DeterministicRng(std::span<const std::uint8_t, 32> seed) : seed_(seed) {}
  // Seed = 32 bytes all equal to `byte` — handy for tests.
  static DeterministicRng FromByte(std::uint8_t byte);
  void Fill(std::span<std::uint8_t> out) override;

 private:
  Secret<32> seed_;
  std::uint64_t offset_ = 0;  // bytes of keystream already handed out
};

}  // namespace sotto
