// Encoding of the per-hop routing slot (spec §4). Internal to core.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>

#include "sotto/core/sphinx.h"

namespace sotto::sphinx::internal {

enum CommandType : std::uint8_t {
  kCmdRelay = 0x01,
  kCmdDeliver = 0x02,
  kCmdSurbDeliver = 0x03,
};

using Slot = std::span<std::uint8_t, kSlotSize>;
using ConstSlot = std::span<const std::uint8_t, kSlotSize>;

// `next_mac` is written into the last field of a Relay slot; Deliver writes zeros there and
// SurbDeliver its SURB id.
void EncodeSlot(const RoutingCommand& command, const std::array<std::uint8_t, kMacSize>& next_mac,
                Slot out);

struct DecodedSlot {
  RoutingCommand command;
  std::array<std::uint8_t, kMacSize> next_mac{};  // meaningful for Relay only
};
// nullopt for an unknown command type, non-zero reserved bytes, a delay on a final hop, or a
// relay delay above kMaxDelayMs.
std::optional<DecodedSlot> DecodeSlot(ConstSlot in);

}  // namespace sotto::sphinx::internal
