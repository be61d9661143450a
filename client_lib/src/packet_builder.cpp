// PacketBuilder (packet_builder.h): one Sphinx packet per slot, real or cover alike.
#include "packet_builder.h"

#include <sodium.h>

#include "sotto/client_lib/provider_link.h"
#include "sotto/core/mailbox.h"

namespace sotto::client {

Result<PacketBuilder::Built> PacketBuilder::Build(const directory::Consensus& consensus,
                                                  PacketKind kind, const ReadyPacket* real,
                                                  Rng& rng) const {
  if (consensus.cascades.empty()) return Status::Unavailable("the consensus has no cascade");
  // The cover message, made for every packet (so a real one costs the same work).
  sphinx::NodeId to = my_provider_;
  sphinx::MailboxId mailbox = my_mailbox_;
  Bytes message;
  if (kind == PacketKind::kLoop) {
    message = MakeLoopMessage(loop_key_, rng);
  } else {
    const auto providers = consensus.Providers();
    if (providers.empty()) return Status::Unavailable("the consensus lists no provider");
    to = providers[UniformBelow(rng, providers.size())]->id();
    mailbox = kDummyMailbox;
    message.resize(kSphinxMessageSize);
    rng.Fill(message);
  }
  if (kind == PacketKind::kReal) {
    if (real == nullptr) return Status::InvalidArgument("a real packet needs its message");
    to = real->provider;
    mailbox = real->mailbox;
  }
  const ByteSpan payload = kind == PacketKind::kReal ? ByteSpan(real->message) : message;
  const auto cascade = static_cast<std::size_t>(UniformBelow(rng, consensus.cascades.size()));
  auto path = BuildPath(consensus, my_provider_, cascade, to);
  if (!path.ok()) return path.status();
  auto packet = sphinx::CreateForwardPacket(path.value(), mailbox, payload, rng);
  if (!packet.ok()) return packet.status();
  return Built{std::move(packet.value()), consensus.epoch};
}

bool Routable(const directory::Consensus& consensus, const sphinx::NodeId& provider) {
  const auto* node = consensus.FindNode(provider);
  return node != nullptr && node->role == directory::NodeRole::kProvider &&
         node->RoutingKeyFor(consensus.epoch).has_value();
}

}  // namespace sotto::client
