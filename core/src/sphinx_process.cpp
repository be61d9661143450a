// Processing a Sphinx packet at a node (spec §8). Hostile input is expected here: every failure
// is a Drop with a reason, never an exception; per-packet secrets are wiped on every path out.
#include "sphinx_process.h"

#include <sodium.h>

#include <algorithm>
#include <new>

#include "sphinx_kdf.h"
#include "sphinx_payload.h"
#include "sphinx_routing.h"

namespace sotto::sphinx {
namespace internal {
namespace {

constexpr std::size_t kBetaOffset = kGroupElementSize;
constexpr std::size_t kGammaOffset = kBetaOffset + kRoutingInfoSize;
constexpr std::size_t kPayloadOffset = kHeaderSize;

Bytes Copy(std::span<const std::uint8_t> s) { return Bytes(s.begin(), s.end()); }

// alpha must be a canonical encoding: u < p = 2^255 - 19 (which also means the top bit is
// clear). X25519 ignores the top bit and reduces u mod p, so without this check 20 different
// byte strings would be the same group element and a flipped header bit would go unnoticed.
bool IsCanonical(Span32 u) {
  if (u[31] & 0x80) return false;
  if (u[31] != 0x7f) return true;
  for (std::size_t i = 30; i >= 1; --i) {
    if (u[i] != 0xff) return true;
  }
  return u[0] < 0xed;
}

}  // namespace

ProcessResult ProcessPacketTraced(const SecretKey& node_key, ByteSpan packet, ReplayGuard* replay,
                                  HopTrace* trace) {
  if (packet.size() != kPacketSize) return Drop{DropReason::kBadLength};
  const Span32 alpha(packet.data(), kGroupElementSize);
  const ByteSpan beta(packet.data() + kBetaOffset, kRoutingInfoSize);
  const ByteSpan gamma(packet.data() + kGammaOffset, kMacSize);

  // s = y·alpha; an all-zero result means alpha is a low-order point.
  if (!IsCanonical(alpha)) return Drop{DropReason::kInvalidPoint};
  Key32 shared;
  if (!X25519(shared.MutableBytes(), node_key.Bytes(), alpha)) {
    return Drop{DropReason::kInvalidPoint};
  }
  HopKeys keys = DeriveHopKeys(shared.Bytes());
  if (trace != nullptr) {
    *trace = HopTrace{Copy(shared.Bytes()),        Copy(keys.header_key.Bytes()),
                      Copy(keys.mac_key.Bytes()),  Copy(keys.payload_key.Bytes()),
                      Copy(keys.blinding.Bytes()), Copy(keys.replay_tag)};
  }

  const auto expected_mac = HeaderMac(keys.mac_key, alpha, beta);
  if (crypto_verify_32(expected_mac.data(), gamma.data()) != 0) {
    return Drop{DropReason::kBadMac};
  }
  if (replay != nullptr && !replay->CheckAndRecord(keys.replay_tag)) {
    return Drop{DropReason::kReplay};
  }

  // B = (beta ‖ 0^S) ⊕ rho; the first slot is ours, the rest is the next hop's beta.
  std::array<std::uint8_t, kRoutingInfoSize + kSlotSize> b{};
  ScopedWipe wipe_b(b);
  std::copy(beta.begin(), beta.end(), b.begin());
  StreamXor(keys.header_key, b);
  auto slot = DecodeSlot(ConstSlot(b.data(), kSlotSize));
  if (!slot) return Drop{DropReason::kMalformedCommand};

  Bytes payload(packet.begin() + kPayloadOffset, packet.end());
  LionessDecrypt(keys.payload_key, payload);

  if (const auto* relay = std::get_if<RelayCommand>(&slot->command)) {
    Forward out{relay->next_hop, relay->delay_ms, Bytes(kPacketSize), keys.replay_tag};
    // alpha' = b·alpha (cannot be zero when s was not, but a drop is the safe answer anyway).
    if (!X25519(std::span<std::uint8_t, 32>(out.packet.data(), 32), keys.blinding.Bytes(), alpha)) {
      return Drop{DropReason::kInvalidPoint};
    }
    std::copy(b.begin() + kSlotSize, b.end(), out.packet.begin() + kBetaOffset);
    std::copy(slot->next_mac.begin(), slot->next_mac.end(), out.packet.begin() + kGammaOffset);
    std::copy(payload.begin(), payload.end(), out.packet.begin() + kPayloadOffset);
    return out;
  }
  if (const auto* deliver = std::get_if<DeliverCommand>(&slot->command)) {
    auto message = DecodeBody(payload);
    sodium_memzero(payload.data(), payload.size());
    if (!message) return Drop{DropReason::kPayloadCorrupt};
    return Deliver{deliver->mailbox, std::move(*message), keys.replay_tag};
  }
  const auto& surb = std::get<SurbDeliverCommand>(slot->command);
  return SurbDeliver{surb.mailbox, surb.surb_id, std::move(payload), keys.replay_tag};
}

}  // namespace internal

ProcessResult ProcessPacket(const SecretKey& node_key, ByteSpan packet,
                            ReplayGuard* replay) noexcept {
  try {
    return internal::ProcessPacketTraced(node_key, packet, replay, nullptr);
  } catch (const std::bad_alloc&) {
    return Drop{DropReason::kOutOfMemory};
  }
}

std::string_view DropReasonName(DropReason reason) {
  switch (reason) {
    case DropReason::kBadLength:
      return "bad_length";
    case DropReason::kInvalidPoint:
      return "invalid_point";
    case DropReason::kBadMac:
      return "bad_mac";
    case DropReason::kReplay:
      return "replay";
    case DropReason::kOutOfMemory:
      return "out_of_memory";
    case DropReason::kMalformedCommand:
      return "malformed_command";
    case DropReason::kPayloadCorrupt:
      return "payload_corrupt";
  }
  return "unknown";
}

}  // namespace sotto::sphinx
