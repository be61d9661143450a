// A client's authenticated connection to its provider — hand packets to the network, fetch and
// acknowledge mail. The client's CURVE key names its mailbox (MailboxForLinkKey), and the
// provider only serves that mailbox to that key. Two forms:
//   ProviderLink       synchronous requests with a timeout (`sotto init`, sotto-probe, tests);
//   AsyncProviderLink  the daemon's wire thread: sends never wait, replies are read as they come
//                      (papers/client-spec.md §3).
// Not thread-safe: each object belongs to one thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
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
};

class AsyncProviderLink {
 public:
  // Starts connecting (the CURVE handshake completes in the background). InvalidArgument for an
  // endpoint ZeroMQ cannot use.
  static Result<std::unique_ptr<AsyncProviderLink>> Connect(
      zmq::context_t& context, const transport::CurveKeyPair& keys,
      const directory::NodeDescriptor& provider);

  // Hands one wire message to the socket without waiting: false if the connection is not ready
  // (no completed handshake) or the queue towards the provider is full — then nothing was sent.
  bool Send(const Bytes& frame);
  // The next message from the provider, or nullopt if none is waiting. A frame that does not
  // parse is dropped and counted (malformed()).
  std::optional<wire::Message> Receive();
  std::uint64_t malformed() const { return malformed_; }
  zmq::socket_t& socket() { return socket_; }
  const std::string& address() const { return address_; }

 private:
  AsyncProviderLink(zmq::socket_t socket, std::string address)
      : socket_(std::move(socket)), address_(std::move(address)) {}
  zmq::socket_t socket_;
  std::string address_;
  std::uint64_t malformed_ = 0;
};

// The path of a forward packet: sender's provider → the cascade's mixes → recipient's provider,
// with the routing keys of `consensus.epoch`. Fails if a node is missing or has no key.
Result<std::vector<sphinx::PathHop>> BuildPath(const directory::Consensus& consensus,
                                               const sphinx::NodeId& sender_provider,
                                               std::size_t cascade_index,
                                               const sphinx::NodeId& recipient_provider);

}  // namespace sotto::client
