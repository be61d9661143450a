// Packet processing with an optional trace of the per-hop intermediates, for the known-answer
// vectors. Internal to core; production code calls sphinx::ProcessPacket.
#pragma once

#include "sotto/core/sphinx.h"

namespace sotto::sphinx::internal {

// Copies of the hop's intermediates (hex-able bytes). Only the vector generator and tests ask
// for them; never enable a trace on a real node.
struct HopTrace {
  Bytes shared_secret, header_key, mac_key, payload_key, blinding, replay_tag;
};

// May throw std::bad_alloc; ProcessPacket turns that into a drop.
ProcessResult ProcessPacketTraced(const SecretKey& node_key, ByteSpan packet, ReplayGuard* replay,
                                  HopTrace* trace);

}  // namespace sotto::sphinx::internal
