// Building Sphinx packets: forward packets, SURBs and replies (spec §6, §7).
#include <sodium.h>

#include <algorithm>

#include "sotto/core/sphinx.h"
#include "sphinx_header.h"
#include "sphinx_payload.h"

namespace sotto::sphinx {
using internal::Key32;

Result<Bytes> CreateForwardPacket(std::span<const PathHop> path, const MailboxId& mailbox,
                                  ByteSpan message, Rng& rng) {
  if (Status s = internal::CheckPath(path); !s.ok()) return s;
  if (Status s = internal::CheckMessageSize(message.size()); !s.ok()) return s;

  // Randomness, in this order (spec §6): ephemeral secret x, then the header padding.
  Key32 x;
  rng.Fill(x.MutableBytes());
  Bytes padding(internal::PaddingSize(path.size()));
  ScopedWipe wipe_padding(padding);
  rng.Fill(padding);

  auto hops = internal::HopSpecsForPath(path, DeliverCommand{mailbox});
  auto built = internal::BuildHeader(hops, x, padding);
  if (!built.ok()) return built.status();

  // §6.4 payload: delta = E_{K_0}(E_{K_1}(… E_{K_{n-1}}(body))).
  Bytes body = internal::EncodeBody(message);
  for (std::size_t i = path.size(); i-- > 0;) {
    LionessKey k = internal::DeriveLionessKey(built->shared_secrets[i].Bytes());
    LionessEncrypt(k, body);
  }
  Bytes packet = std::move(built->header);
  packet.insert(packet.end(), body.begin(), body.end());
  return packet;
}

Result<SurbAndKeys> CreateSurb(std::span<const PathHop> path, const MailboxId& mailbox, Rng& rng) {
  if (Status s = internal::CheckPath(path); !s.ok()) return s;

  // Randomness, in this order (spec §7.1): SURB id, payload key, ephemeral secret, padding.
  SurbAndKeys out;
  rng.Fill(out.keys.id);
  rng.Fill(out.keys.payload_key.MutableBytes());
  Key32 x;
  rng.Fill(x.MutableBytes());
  Bytes padding(internal::PaddingSize(path.size()));
  ScopedWipe wipe_padding(padding);
  rng.Fill(padding);

  auto hops = internal::HopSpecsForPath(path, SurbDeliverCommand{mailbox, out.keys.id});
  auto built = internal::BuildHeader(hops, x, padding);
  if (!built.ok()) return built.status();
  for (const auto& s : built->shared_secrets) {
    out.keys.hop_payload_keys.push_back(internal::DeriveLionessKey(s.Bytes()));
  }
  out.surb.first_hop = path[0].id;
  out.surb.header = std::move(built->header);
  out.surb.payload_key = out.keys.payload_key.Clone();
  return out;
}

Result<Bytes> CreateReplyPacket(Surb&& surb_in, ByteSpan message) {
  const Surb surb = std::move(surb_in);  // consumed: the caller's copy of the key is wiped
  if (surb.header.size() != kHeaderSize) {
    return Status::InvalidArgument("SURB header must be " + std::to_string(kHeaderSize) + " bytes");
  }
  if (Status s = internal::CheckMessageSize(message.size()); !s.ok()) return s;
  Bytes body = internal::EncodeBody(message);
  LionessEncrypt(internal::DeriveLionessKey(surb.payload_key.Bytes(), internal::kSurbLionessLabel),
                 body);
  Bytes packet = surb.header;
  packet.insert(packet.end(), body.begin(), body.end());
  return packet;
}

Result<Bytes> OpenReply(const SurbKeys& keys, ByteSpan delivered_payload) {
  if (delivered_payload.size() != kPayloadSize) {
    return Status::InvalidArgument("a reply payload must be " + std::to_string(kPayloadSize) +
                                   " bytes, got " + std::to_string(delivered_payload.size()));
  }
  if (keys.hop_payload_keys.empty() || keys.hop_payload_keys.size() > kMaxHops) {
    return Status::InvalidArgument("SURB keys must hold 1 to " + std::to_string(kMaxHops) +
                                   " hop keys, got " +
                                   std::to_string(keys.hop_payload_keys.size()));
  }
  // Each hop i applied D_{K_i}; undo with E_{K_i} from the last hop back, then D_{K~}.
  Bytes body(delivered_payload.begin(), delivered_payload.end());
  for (std::size_t i = keys.hop_payload_keys.size(); i-- > 0;) {
    LionessEncrypt(keys.hop_payload_keys[i], body);
  }
  LionessDecrypt(internal::DeriveLionessKey(keys.payload_key.Bytes(), internal::kSurbLionessLabel),
                 body);
  auto message = internal::DecodeBody(body);
  sodium_memzero(body.data(), body.size());
  if (!message) {
    return Status::Corruption(
        "reply payload failed its integrity check (modified in transit, "
        "or opened with the wrong SURB keys)");
  }
  return std::move(*message);
}

Bytes Surb::Serialize() const {
  SOTTO_CHECK(header.size() == kHeaderSize);
  Bytes out;
  out.reserve(kSurbSize);
  out.insert(out.end(), first_hop.begin(), first_hop.end());
  out.insert(out.end(), header.begin(), header.end());
  out.insert(out.end(), payload_key.Bytes().begin(), payload_key.Bytes().end());
  return out;
}

Result<Surb> Surb::Parse(ByteSpan bytes) {
  if (bytes.size() != kSurbSize) {
    return Status::InvalidArgument("a SURB is " + std::to_string(kSurbSize) + " bytes, got " +
                                   std::to_string(bytes.size()));
  }
  Surb surb;
  std::copy_n(bytes.begin(), kNodeIdSize, surb.first_hop.begin());
  surb.header.assign(bytes.begin() + kNodeIdSize, bytes.begin() + kNodeIdSize + kHeaderSize);
  std::copy_n(bytes.begin() + kNodeIdSize + kHeaderSize, kSurbKeySize, surb.payload_key.data());
  return surb;
}

}  // namespace sotto::sphinx
