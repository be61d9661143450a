// Header construction (spec §6.1–6.3): from the hops' public keys and commands, an ephemeral
// secret and the padding bytes, build alpha_0 ‖ beta_0 ‖ gamma_0. Deterministic given its
// inputs, so the known-answer vectors can fix them. Internal to core.
#pragma once

#include <span>
#include <vector>

#include "sotto/core/sphinx.h"
#include "sphinx_kdf.h"

namespace sotto::sphinx::internal {

struct HopSpec {
  PublicKey routing_key;
  RoutingCommand command;
};

struct BuiltHeader {
  Bytes header;                       // kHeaderSize bytes
  std::vector<Key32> shared_secrets;  // s_0 … s_{n-1}, as the sender computed them
};

// Size of the random padding a path of n hops needs: (r - n) slots.
constexpr std::size_t PaddingSize(std::size_t hops) { return (kMaxHops - hops) * kSlotSize; }

// Requires 1 ≤ hops.size() ≤ kMaxHops and padding.size() == PaddingSize(hops.size()).
// Fails if a routing key is a low-order point.
Result<BuiltHeader> BuildHeader(std::span<const HopSpec> hops, const Key32& ephemeral_secret,
                                ByteSpan padding);

// The hop specs for a path whose last hop executes `final_command`.
std::vector<HopSpec> HopSpecsForPath(std::span<const PathHop> path,
                                     const RoutingCommand& final_command);

// Checks the path length and the per-hop delays; the message says what was wrong.
Status CheckPath(std::span<const PathHop> path);

}  // namespace sotto::sphinx::internal
