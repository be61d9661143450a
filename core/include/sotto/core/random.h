// Sources of randomness. Everything in Sotto that needs random bytes takes an Rng&, so that
// production code uses the operating system's CSPRNG and tests and the known-answer vector
// generator can inject a reproducible stream.
//
// The free functions below turn an Rng's bytes into unbiased integers, reals and permutations.
// They consume the stream in a documented way (8 bytes per 64-bit draw, little-endian), so a
// DeterministicRng gives the same results on every platform.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

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
// where the previous Fill stopped, however the output is split into Fill calls. Keystream is
// computed a buffer at a time, so many small draws are cheap. Move-only (the seed and buffered
// keystream are wiped). FOR TESTS, TEST VECTORS AND SIMULATION ONLY — never for real keys.
class DeterministicRng final : public Rng {
 public:
  explicit DeterministicRng(std::span<const std::uint8_t, 32> seed) : seed_(seed) {}
  // Seed = 32 bytes all equal to `byte` — handy for tests.
  static DeterministicRng FromByte(std::uint8_t byte);
  void Fill(std::span<std::uint8_t> out) override;

 private:
  static constexpr std::size_t kBlockBytes = 64;  // one ChaCha20 block
  static constexpr std::size_t kBufferBytes = 16 * kBlockBytes;

  void Refill();

  Secret<32> seed_;
  Secret<kBufferBytes> buffer_;      // keystream; bytes [used_, kBufferBytes) not handed out
  std::size_t used_ = kBufferBytes;  // starts empty
  std::uint64_t next_block_ = 0;     // ChaCha20 block counter of the next block to compute
};

// A uniformly random 64-bit integer: the next 8 bytes of the stream, little-endian.
std::uint64_t UniformU64(Rng& rng);

// A uniformly random integer in [0, n), without modulo bias (rejection sampling). n ≥ 1
// (checked); n == 1 returns 0 without consuming the stream.
std::uint64_t UniformBelow(Rng& rng, std::uint64_t n);

// A uniformly random real in (0, 1] with 53 bits of precision (never 0, so log() is finite).
double UniformOpenClosed(Rng& rng);

// Moves a uniformly random choice of min(k, size) elements, in uniformly random order, to the
// front of `items`: the first k steps of a Fisher–Yates shuffle. The rest stay behind in an
// unspecified order.
template <class T>
void ShufflePrefix(std::vector<T>& items, std::size_t k, Rng& rng) {
  const std::size_t n = items.size();
  k = std::min(k, n);
  for (std::size_t i = 0; i < k; ++i) {
    const auto j = i + static_cast<std::size_t>(UniformBelow(rng, n - i));
    std::iter_swap(items.begin() + static_cast<std::ptrdiff_t>(i),
                   items.begin() + static_cast<std::ptrdiff_t>(j));
  }
}

// A uniformly random permutation of `items` (Fisher–Yates).
template <class T>
void Shuffle(std::vector<T>& items, Rng& rng) {
  ShufflePrefix(items, items.size(), rng);
}

}  // namespace sotto
