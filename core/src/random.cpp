// System and deterministic randomness sources, and the unbiased draws built on them.
#include "sotto/core/random.h"

#include <sodium.h>

#include <array>
#include <cstring>
#include <limits>

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

constexpr std::uint8_t kNonce[crypto_stream_chacha20_ietf_NONCEBYTES] = {};
// The IETF ChaCha20 block counter is 32 bits: the stream ends after 2^32 blocks (256 GiB).
constexpr std::uint64_t kMaxBlocks = std::uint64_t{1} << 32;

// Writes `out.size()` (a multiple of 64) bytes of keystream starting at block `first_block`.
void Keystream(std::span<std::uint8_t> out, std::uint64_t first_block,
               std::span<const std::uint8_t, 32> key) {
  SOTTO_CHECK(out.size() % 64 == 0);
  SOTTO_CHECK(first_block + out.size() / 64 <= kMaxBlocks);
  std::memset(out.data(), 0, out.size());
  crypto_stream_chacha20_ietf_xor_ic(out.data(), out.data(), out.size(), kNonce,
                                     static_cast<std::uint32_t>(first_block), key.data());
}

}  // namespace

Rng& SystemRng() {
  static SodiumRng rng;
  return rng;
}

DeterministicRng DeterministicRng::FromByte(std::uint8_t byte) {
  std::array<std::uint8_t, 32> seed;
  seed.fill(byte);
  DeterministicRng rng(seed);
  sodium_memzero(seed.data(), seed.size());
  return rng;
}

void DeterministicRng::Refill() {
  Keystream(buffer_.MutableBytes(), next_block_, seed_.Bytes());
  next_block_ += kBufferBytes / kBlockBytes;
  used_ = 0;
}

void DeterministicRng::Fill(std::span<std::uint8_t> out) {
  while (!out.empty()) {
    if (used_ == kBufferBytes) {
      // Buffer empty, so the stream position is block-aligned: whole blocks wanted by the
      // caller go straight into `out` without passing through the buffer.
      const std::size_t direct = out.size() / kBlockBytes * kBlockBytes;
      if (direct > 0) {
        Keystream(out.first(direct), next_block_, seed_.Bytes());
        next_block_ += direct / kBlockBytes;
        out = out.subspan(direct);
        continue;
      }
      Refill();
    }
    const std::size_t n = std::min(out.size(), kBufferBytes - used_);
    std::memcpy(out.data(), buffer_.data() + used_, n);
    sodium_memzero(buffer_.data() + used_, n);  // handed-out bytes do not linger here
    used_ += n;
    out = out.subspan(n);
  }
}

std::uint64_t UniformU64(Rng& rng) {
  std::array<std::uint8_t, 8> bytes;
  rng.Fill(bytes);
  std::uint64_t x = 0;
  for (std::size_t i = 0; i < bytes.size(); ++i) x |= std::uint64_t{bytes[i]} << (8 * i);
  return x;
}

std::uint64_t UniformBelow(Rng& rng, std::uint64_t n) {
  SOTTO_CHECK(n >= 1);
  if (n == 1) return 0;
  // 2^64 mod n values at the bottom of the range would make small results more likely; skip
  // them so the accepted range [lowest, 2^64) holds a whole number of copies of [0, n).
  const std::uint64_t lowest = (std::numeric_limits<std::uint64_t>::max() - n + 1) % n;
  for (;;) {
    const std::uint64_t x = UniformU64(rng);
    if (x >= lowest) return x % n;
  }
}

double UniformOpenClosed(Rng& rng) {
  constexpr double kTwoToMinus53 = 1.0 / 9007199254740992.0;  // 2^-53
  // (top 53 bits) + 1 is in [1, 2^53]: exactly representable, so the result is in (0, 1].
  return static_cast<double>((UniformU64(rng) >> 11) + 1) * kTwoToMinus53;
}

}  // namespace sotto
