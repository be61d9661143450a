// SimRng (xoshiro256**) and stream derivation; see sim/include/sotto/sim/rng.h.
#include "sotto/sim/rng.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace sotto::sim {
namespace {
__extension__ typedef unsigned __int128 U128;  // GCC/Clang; __extension__ keeps -Wpedantic quiet
}  // namespace

std::uint64_t SplitMix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

std::uint64_t DeriveSeed(std::uint64_t master, std::uint64_t a, std::uint64_t b, std::uint64_t c) {
  // Each input passes through a full splitmix64 round before the next is folded in, so nearby
  // tuples (point 1 vs 2, repetition 0 vs 1) give unrelated seeds.
  std::uint64_t state = master;
  for (const std::uint64_t x : {a, b, c}) {
    state = SplitMix64(state) ^ x;
  }
  return SplitMix64(state);
}

SimRng::SimRng(std::uint64_t seed) {
  std::uint64_t state = seed;
  for (auto& word : s_) word = SplitMix64(state);  // never all zero: splitmix64 is a bijection
}

std::uint64_t SimRng::Below(std::uint64_t n) {
  // Lemire 2019, "Fast random integer generation in an interval".
  U128 m = static_cast<U128>(Next()) * n;
  auto low = static_cast<std::uint64_t>(m);
  if (low < n) {
    const std::uint64_t threshold = (0 - n) % n;
    while (low < threshold) {
      m = static_cast<U128>(Next()) * n;
      low = static_cast<std::uint64_t>(m);
    }
  }
  return static_cast<std::uint64_t>(m >> 64);
}

std::int64_t SimRng::ExponentialUs(double mean_us) {
  constexpr double kMax = 0x1.0p62;
  const double x = Exponential(mean_us);
  if (!(x < kMax)) return std::int64_t{1} << 62;  // also NaN; llround would overflow
  return static_cast<std::int64_t>(std::llround(x));
}

void SimRng::Fill(std::span<std::uint8_t> out) {
  std::size_t i = 0;
  while (i < out.size()) {
    const std::uint64_t word = Next();
    std::uint8_t bytes[8];
    for (int k = 0; k < 8; ++k) bytes[k] = static_cast<std::uint8_t>(word >> (8 * k));
    const std::size_t n = std::min<std::size_t>(8, out.size() - i);
    std::memcpy(out.data() + i, bytes, n);
    i += n;
  }
}

}  // namespace sotto::sim
