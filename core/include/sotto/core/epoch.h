// Epochs: the network's clock for key rotation and consensus documents.
// Epoch e covers [genesis + e·length, genesis + (e+1)·length) in Unix seconds; genesis and
// length come from the directory authority's configuration and are published in the consensus.
#pragma once

#include <cstdint>

namespace sotto {

struct EpochClock {
  std::int64_t genesis_unix = 0;
  std::uint32_t length_s = 3600;

  std::uint64_t EpochAt(std::int64_t unix_s) const {
    if (unix_s <= genesis_unix) return 0;
    return static_cast<std::uint64_t>((unix_s - genesis_unix) / length_s);
  }
  std::int64_t StartOf(std::uint64_t epoch) const {
    return genesis_unix + static_cast<std::int64_t>(epoch) * length_s;
  }
  std::int64_t EndOf(std::uint64_t epoch) const { return StartOf(epoch + 1); }
};

}  // namespace sotto
