// Sizes fixed by the Sphinx specification (papers/sphinx-spec.md §2). Changing any of them
// changes the wire format. The one compile-time parameter is the maximum path length r
// (CMake cache variable SOTTO_SPHINX_MAX_HOPS, default 5); every node and client of one network
// must be built with the same value.
#pragma once

#include <cstddef>
#include <cstdint>

#ifndef SOTTO_SPHINX_MAX_HOPS
#define SOTTO_SPHINX_MAX_HOPS 5
#endif

namespace sotto::sphinx {

inline constexpr std::size_t kMaxHops = SOTTO_SPHINX_MAX_HOPS;  // r
static_assert(kMaxHops >= 1 && kMaxHops <= 16, "SOTTO_SPHINX_MAX_HOPS must be in 1..16");

inline constexpr std::size_t kGroupElementSize = 32;  // alpha: an X25519 public value
inline constexpr std::size_t kMacSize = 32;           // gamma: keyed BLAKE2b-256
inline constexpr std::size_t kNodeIdSize = 32;
inline constexpr std::size_t kMailboxIdSize = 32;
inline constexpr std::size_t kSurbIdSize = 32;
inline constexpr std::size_t kReplayTagSize = 32;

// One routing slot per hop: command(1) ‖ reserved(3) ‖ delay_ms(4) ‖ address(32) ‖ mac/surb_id(32)
inline constexpr std::size_t kSlotSize = 1 + 3 + 4 + kNodeIdSize + kMacSize;  // 72
inline constexpr std::size_t kRoutingInfoSize = kMaxHops * kSlotSize;         // beta
inline constexpr std::size_t kHeaderSize = kGroupElementSize + kRoutingInfoSize + kMacSize;

inline constexpr std::size_t kPayloadSize = 2048;
inline constexpr std::size_t kZeroBlockSize = 16;   // integrity check at the destination
inline constexpr std::size_t kLengthFieldSize = 2;  // big-endian message length
inline constexpr std::size_t kMaxMessageSize = kPayloadSize - kZeroBlockSize - kLengthFieldSize;

inline constexpr std::size_t kPacketSize = kHeaderSize + kPayloadSize;

// Longest per-hop delay a RELAY command may ask for; longer → the packet is dropped, so a
// sender cannot make a continuous-time mix hold packets for weeks.
inline constexpr std::uint32_t kMaxDelayMs = 3'600'000;  // one hour

inline constexpr std::size_t kSurbKeySize = 32;
inline constexpr std::size_t kSurbSize = kNodeIdSize + kHeaderSize + kSurbKeySize;

}  // namespace sotto::sphinx
