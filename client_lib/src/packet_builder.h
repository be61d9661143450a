// PacketBuilder: the Sphinx packets the client sends (papers/client-spec.md §3), built at send
// time on the wire thread, the same way whatever they carry: a cover message is always made (a
// loop message for my own mailbox, or random bytes for a random provider's dummy mailbox), then
// — for a real message, in its place — one Sphinx packet over a cascade chosen uniformly for
// this packet, with the keys of the consensus epoch. The end-to-end sealing of real messages
// happened earlier, on the engine thread; here they are opaque 2030-byte Sphinx messages.
// Thread-compatible: one builder per thread.
#pragma once

#include <cstdint>

#include "send_tracker.h"
#include "sotto/client_lib/envelope.h"
#include "sotto/core/directory.h"
#include "sotto/core/random.h"
#include "sotto/core/sphinx.h"

namespace sotto::client {

// A sealed message ready for a payload slot, handed from the engine to the wire thread.
struct ReadyPacket {
  std::uint64_t outbox_seq = 0;
  sphinx::NodeId provider{};
  sphinx::MailboxId mailbox{};
  Bytes message;  // kSphinxMessageSize bytes, end-to-end encrypted
};

// Whether a real message to `provider` can be routed with `consensus` (it lists that provider
// with a key for its epoch).
bool Routable(const directory::Consensus& consensus, const sphinx::NodeId& provider);

class PacketBuilder {
 public:
  PacketBuilder(const sphinx::NodeId& my_provider, const sphinx::MailboxId& my_mailbox,
                LoopKey loop_key)
      : my_provider_(my_provider), my_mailbox_(my_mailbox), loop_key_(std::move(loop_key)) {}

  struct Built {
    Bytes packet;  // sphinx::kPacketSize bytes, for my provider
    std::uint64_t epoch = 0;
  };
  // A packet of `kind`: kLoop, kDrop, or kReal with `real` (which must then be non-null).
  // Unavailable without a cascade or provider; NotFound if a node of the path is missing (for a
  // real message: its recipient's provider is not in this consensus).
  Result<Built> Build(const directory::Consensus& consensus, PacketKind kind,
                      const ReadyPacket* real, Rng& rng) const;

 private:
  sphinx::NodeId my_provider_;
  sphinx::MailboxId my_mailbox_;
  LoopKey loop_key_;
};

}  // namespace sotto::client
