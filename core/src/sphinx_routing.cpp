// Routing slot: command(1) ‖ reserved(3, zero) ‖ delay_ms(4, big-endian) ‖ address(32) ‖
// mac-or-surb-id(32). Spec §4.
#include "sphinx_routing.h"

#include <algorithm>

namespace sotto::sphinx::internal {
namespace {

constexpr std::size_t kOffCommand = 0;
constexpr std::size_t kOffReserved = 1;
constexpr std::size_t kOffDelay = 4;
constexpr std::size_t kOffAddress = 8;
constexpr std::size_t kOffMac = kOffAddress + kNodeIdSize;
static_assert(kOffMac + kMacSize == kSlotSize);

void PutU32(std::uint8_t* p, std::uint32_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 24);
  p[1] = static_cast<std::uint8_t>(v >> 16);
  p[2] = static_cast<std::uint8_t>(v >> 8);
  p[3] = static_cast<std::uint8_t>(v);
}
std::uint32_t GetU32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}

template <class A>
void Put(Slot out, std::size_t off, const A& a) {
  std::copy(a.begin(), a.end(), out.begin() + static_cast<std::ptrdiff_t>(off));
}
template <class A>
A Get(ConstSlot in, std::size_t off) {
  A a{};
  std::copy_n(in.begin() + static_cast<std::ptrdiff_t>(off), a.size(), a.begin());
  return a;
}

}  // namespace

void EncodeSlot(const RoutingCommand& command, const std::array<std::uint8_t, kMacSize>& next_mac,
                Slot out) {
  std::fill(out.begin(), out.end(), std::uint8_t{0});
  if (const auto* relay = std::get_if<RelayCommand>(&command)) {
    out[kOffCommand] = kCmdRelay;
    PutU32(out.data() + kOffDelay, relay->delay_ms);
    Put(out, kOffAddress, relay->next_hop);
    Put(out, kOffMac, next_mac);
  } else if (const auto* deliver = std::get_if<DeliverCommand>(&command)) {
    out[kOffCommand] = kCmdDeliver;
    Put(out, kOffAddress, deliver->mailbox);
  } else {
    const auto& surb = std::get<SurbDeliverCommand>(command);
    out[kOffCommand] = kCmdSurbDeliver;
    Put(out, kOffAddress, surb.mailbox);
    Put(out, kOffMac, surb.surb_id);
  }
}

std::optional<DecodedSlot> DecodeSlot(ConstSlot in) {
  if (in[kOffReserved] != 0 || in[kOffReserved + 1] != 0 || in[kOffReserved + 2] != 0) {
    return std::nullopt;
  }
  const std::uint32_t delay = GetU32(in.data() + kOffDelay);
  switch (in[kOffCommand]) {
    case kCmdRelay:
      if (delay > kMaxDelayMs) return std::nullopt;
      return DecodedSlot{RelayCommand{Get<NodeId>(in, kOffAddress), delay},
                         Get<std::array<std::uint8_t, kMacSize>>(in, kOffMac)};
    case kCmdDeliver:
      if (delay != 0) return std::nullopt;
      return DecodedSlot{DeliverCommand{Get<MailboxId>(in, kOffAddress)}, {}};
    case kCmdSurbDeliver:
      if (delay != 0) return std::nullopt;
      return DecodedSlot{
          SurbDeliverCommand{Get<MailboxId>(in, kOffAddress), Get<SurbId>(in, kOffMac)}, {}};
    default:
      return std::nullopt;
  }
}

}  // namespace sotto::sphinx::internal
