// Fast reproducible randomness for sotto-sim: xoshiro256** (Blackman & Vigna 2018) seeded
// through splitmix64, behind sotto::Rng so the real mixing policies can draw from it too.
//
// Every random choice of a run comes from a stream derived from the scenario's master seed with
// DeriveSeed, one stream per purpose (client processes, routing, each node's policy, ...) and per
// (sweep point, repetition). Streams never depend on thread count or on the order in which runs
// execute, so a rerun with the same seed is byte-identical. NOT for cryptographic use.
// A SimRng is a plain value with one owner (not thread-safe).
#pragma once

#include <cmath>
#include <cstdint>
#include <span>

#include "sotto/core/random.h"

namespace sotto::sim {

// One step of splitmix64: advances `state` and returns the next output.
std::uint64_t SplitMix64(std::uint64_t& state);

// The seed of an independent stream, a mixing hash of (master, a, b, c): e.g. (seed, point,
// repetition) for one run, or (run seed, purpose, index) for one stream inside a run.
std::uint64_t DeriveSeed(std::uint64_t master, std::uint64_t a, std::uint64_t b = 0,
                         std::uint64_t c = 0);

class SimRng final : public Rng {
 public:
  explicit SimRng(std::uint64_t seed);

  // The next 64 random bits.
  std::uint64_t Next() {
    const std::uint64_t result = Rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = Rotl(s_[3], 45);
    return result;
  }
  // Uniform in [0, n) without bias (Lemire's multiply-and-reject); n ≥ 1.
  std::uint64_t Below(std::uint64_t n);
  // Uniform in (0, 1] with 53 bits (never 0, so log() is finite).
  double Uniform01() { return static_cast<double>((Next() >> 11) + 1) * 0x1.0p-53; }
  // Exp(mean), unrounded, ≥ 0 (finite when `mean` is). `mean` > 0.
  double Exponential(double mean) { return -mean * std::log(Uniform01()); }
  // Exp(mean) in microseconds, rounded, in [0, 2^62] (longer draws are clamped to 2^62 µs,
  // about 146,000 years, so the result and a few sums of it fit an int64). `mean_us` > 0.
  std::int64_t ExponentialUs(double mean_us);

  // sotto::Rng: the stream as little-endian bytes, 8 per Next() (for the mixing policies).
  void Fill(std::span<std::uint8_t> out) override;

 private:
  static std::uint64_t Rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::uint64_t s_[4];
};

}  // namespace sotto::sim
