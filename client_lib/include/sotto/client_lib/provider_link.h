// ProviderLink: a client's authenticated connection to its provider — hand packets to the
// network, fetch and acknowledge mail. The client's CURVE key names its mailbox
// (MailboxForLinkKey), and the provider only serves that mailbox to that key.
// Requests are synchronous with a timeout. Not thread-safe: one per thread.
#pragma once

#include <chrono>
#include <optional>
#include <vector>

#include "sotto/core/directory.h"
#include "sotto/core/transport.h"
#include "sotto/core/wire.h"

namespace sotto::client {

class ProviderLink {
 public:
  ProviderLink(zmq::context_t& context, const transport::CurveKeyPair& keys,
               const directory::NodeDescriptor& provider);

  // Sends one Sphinx packet; OK once the provider acknowledged (it has stored it). Unavailable
  // when the provider cannot take it now (no answer, or its directory is behind): retry later.
  Status SendPacket(const Bytes& packet, std::chrono::milliseconds timeout);
  Result<std::vector<wire::MailEntry>> Fetch(const sphinx::MailboxId& mailbox, std::uint16_t max,
                                             std::chrono::milliseconds timeout);
  Status Ack(const sphinx::MailboxId& mailbox, const std::vector<std::uint64_t>& ids,
             std::chrono::milliseconds timeout);

 private:
  Result<wire::Message> Request(const Bytes& request, std::chrono::milliseconds timeout);
  zmq::context_t& context_;
  const transport::CurveKeyPair& keys_;
  directory::NodeDescriptor provider_;
  std::optional<zmq::socket_t> socket_;
  std::uint64_t next_seq_ = 1;
};

// The path of a forward packet: sender's provider → the cascade's mixes → recipient's provider,
// with the routing keys of `consensus.epoch`. Fails if a node is missing or has no key.
Result<std::vector<sphinx::PathHop>> BuildPath(const directory::Consensus& consensus,
                                               const sphinx::NodeId& sender_provider,
                                               std::size_t cascade_index,
                                               const sphinx::NodeId& recipient_provider);

}  // namespace sotto::client
