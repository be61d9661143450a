// System and deterministic randomness sources.
#include "sotto/core/random.h"

#include <sodium.h>

#include <vector>

#include "sotto/core/sodium.h"

namespace sotto {
namespace {

class SodiumRng final : public Rng {
 public:
  SodiumRng() { InitSodiumOrDie(); }
  void Fill(std::span<std::uint8_t> out) override {
    if (!out.empty()) randombytes_buf(out.data(), out.size());
  }
};

}  // namespace

Rng& SystemRng() {
  static SodiumRng rng;
  return rng;
}

DeterministicRng DeterministicRng::FromByte(std::uint8_t byte) {
  std::array<std::uint8_t, 32> seed;
  seed.fill(byte);
  return DeterministicRng(seed);
}

void DeterministicRng::Fill(std::span<std::uint8_t> out) {
  if (out.empty()) return;
  static constexpr std::uint8_t kNonce[crypto_stream_chacha20_ietf_NONCEBYTES] = {};
  const std::uint64_t block = offset_ / 64;
  const std::size_t skip = static_cast<std::size_t>(offset_ % 64);
  std::vector<std::uint8_t> stream(skip + out.size(), 0);
  SOTTO_CHECK(block <= UINT32_MAX);
  crypto_stream_chacha20_ietf_xor_ic(stream.data(), stream.data(), stream.size(), kNonce,
                                     static_cast<std::uint32_t>(block), seed_.data());
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = stream[skip + i];
  sodium_memzero(stream.data(), stream.size());
  offset_ += out.size();
}

}  // namespace sotto
