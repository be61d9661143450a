// The active n-1 (flooding) attacker of RunOptions::flood (simulator.h), inside the engine: it
// delays packets on links and injects its own, and everything else — providers, mixes, policies,
// cover, dummies — runs as usual. Threshold-timeout policies only (checked by the caller).
#include <algorithm>

#include "engine.h"

namespace sotto::sim {

bool Engine::FloodIntercept(std::uint32_t node, std::uint32_t packet) {
  if (!FloodActive()) return false;
  Packet& p = packets_[packet];
  if (p.kind == PacketKind::kAttacker) return false;
  const FloodAttack& f = options_.flood;
  const std::uint32_t target_provider = clients_[f.target].provider;
  const bool from_client = p.from == kNone;
  if (from_client && node == target_provider) {
    if (p.sender != f.target) {  // everyone else waits on their link until the attack ends
      ++r_.held_packets;
      if (p.kind == PacketKind::kLoop) ++r_.held_loops;
      Push(f.end_us, kArrive, node, packet);
      return true;
    }
    if (p.flooded) {  // the target's packet, let in now (FloodTarget)
      p.flooded = false;
      return false;
    }
    // (1) Flush: top the provider's pool up to a full round with the attacker's own packets; the
    // round (at least `threshold` packets) fills every threshold mix downstream in turn.
    const std::size_t threshold = s_.batch_size;
    const std::size_t pooled = nodes_[node].policy ? nodes_[node].policy->PoolSize() : 0;
    SendAttackerPackets(node,
                        static_cast<std::uint32_t>(threshold > pooled ? threshold - pooled : 1));
    // (2) The target's packet goes in once the flush has left the first mix, with threshold − 1
    // attacker packets.
    const TimeUs gap =
        2 * latency_us_ + 4 * static_cast<TimeUs>(threshold + 1) * processing_us_ + 1000;
    // Not `p`: SendAttackerPackets added packets, and packets_ may have moved.
    packets_[packet].flooded = true;
    Push(now_ + gap, kFloodTarget, node, packet);
    return true;
  }
  if (f.hold_other_providers && !from_client && nodes_[p.from].provider &&
      p.from != target_provider && !nodes_[node].provider) {
    ++r_.held_packets;
    if (p.kind == PacketKind::kLoop) ++r_.held_loops;
    Push(f.end_us, kArrive, node, packet);
    return true;
  }
  return false;
}

void Engine::FloodTarget(std::uint32_t packet) {
  const std::uint32_t provider = clients_[options_.flood.target].provider;
  Arrive(provider, packet);
  SendAttackerPackets(provider,
                      static_cast<std::uint32_t>(std::max<std::size_t>(s_.batch_size, 1) - 1));
}

void Engine::SendAttackerPackets(std::uint32_t provider, std::uint32_t count) {
  for (std::uint32_t i = 0; i < count; ++i) {
    const auto dest = static_cast<std::uint32_t>(traffic_rng_.Below(s_.providers));
    const std::uint32_t a = NewPacket(PacketKind::kAttacker, kNoClient, kNoClient, dest);
    ++r_.attacker_packets;
    Packet& p = packets_[a];
    p.hop = 0;
    if (mixes_per_layer_ > 1 && s_.topology == Topology::kCascades) {
      p.route = static_cast<std::uint32_t>(route_rng_.Below(mixes_per_layer_));
    }
    // The attacker knows its own packets: no information about any sender (dist kNone).
    Observe(PacketEvent::Type::kSend, kNoClient, provider, p, /*from_client=*/true);
    p.from = kNone;
    Arrive(provider, a);  // its clients sit next to the provider: on the wire at once
  }
}

}  // namespace sotto::sim
