// Clients: the real-message, payload, loop and drop streams (papers/client-spec.md §3), the
// per-client FIFO of messages waiting for the payload stream, and delivery at the recipient's
// provider, where a real packet's sender entropy and a message's latency are measured.
#include <cmath>
#include <limits>

#include "engine.h"

namespace sotto::sim {

void Engine::OnRealMessage(std::uint32_t client) {
  Push(NextStreamTime(s_.real_rate_per_s), kRealMessage, client);
  std::uint32_t slot;
  if (!free_messages_.empty()) {
    slot = free_messages_.back();
    free_messages_.pop_back();
  } else {
    slot = static_cast<std::uint32_t>(messages_.size());
    messages_.emplace_back();
  }
  const bool measured = InWindow(now_);
  messages_[slot] = Message{next_message_id_++,
                            client,
                            PickRecipient(client),
                            s_.message_packets,
                            s_.message_packets,
                            kNone,
                            now_,
                            std::numeric_limits<double>::infinity(),
                            measured};
  if (measured) {
    ++r_.messages_sent;
    ++outstanding_measured_;
  }
  if (options_.on_created) {
    const Message& m = messages_[slot];
    MessageRecord record;
    record.repetition = options_.repetition;
    record.id = m.id;
    record.sender = m.sender;
    record.recipient = m.recipient;
    record.packets = s_.message_packets;
    record.created_us = m.created;
    record.latency_ms = std::numeric_limits<double>::quiet_NaN();
    record.entropy_bits = std::numeric_limits<double>::quiet_NaN();
    record.corrupt_mixes = corrupt_list_;
    options_.on_created(record);
  }
  if (no_cover_) {  // no payload stream: every packet leaves now
    for (std::uint32_t i = 0; i < s_.message_packets; ++i) SendMessagePacket(client, slot);
    return;
  }
  Client& c = clients_[client];
  if (c.queue_tail == kNone) {
    c.queue_head = slot;
  } else {
    messages_[c.queue_tail].next_in_queue = slot;
  }
  c.queue_tail = slot;
}

void Engine::OnPayload(std::uint32_t client) {
  Push(NextStreamTime(s_.payload_rate_per_s), kPayload, client);
  Client& c = clients_[client];
  if (c.queue_head != kNone) {
    const std::uint32_t slot = c.queue_head;
    if (messages_[slot].to_send == 1) {  // its last packet: the next message moves up
      c.queue_head = messages_[slot].next_in_queue;
      if (c.queue_head == kNone) c.queue_tail = kNone;
    }
    SendMessagePacket(client, slot);
    return;
  }
  const auto dest = static_cast<std::uint32_t>(traffic_rng_.Below(s_.providers));
  ClientSend(client, NewPacket(PacketKind::kPayloadCover, client, kNoClient, dest));
}

void Engine::OnCover(std::uint32_t client, PacketKind kind) {
  if (kind == PacketKind::kLoop) {
    Push(NextStreamTime(s_.loop_rate_per_s), kLoop, client);
    ClientSend(client, NewPacket(kind, client, client, clients_[client].provider));
  } else {
    Push(NextStreamTime(s_.drop_rate_per_s), kDrop, client);
    const auto dest = static_cast<std::uint32_t>(traffic_rng_.Below(s_.providers));
    ClientSend(client, NewPacket(kind, client, kNoClient, dest));
  }
}

void Engine::SendMessagePacket(std::uint32_t client, std::uint32_t slot) {
  Message& m = messages_[slot];
  --m.to_send;
  const std::uint32_t recipient = m.recipient;
  const bool measured = m.measured;
  const std::uint32_t packet =
      NewPacket(PacketKind::kReal, client, recipient, clients_[recipient].provider);
  packets_[packet].message = slot;
  packets_[packet].measured = measured;
  if (measured) {  // by the message's creation window, like messages_sent and the deliveries
    ++r_.packets_total;
    ++r_.real_packets_sent;
  }
  ClientSend(client, packet);
}

void Engine::ClientSend(std::uint32_t client, std::uint32_t packet) {
  Packet& p = packets_[packet];
  p.hop = 0;
  if (mixes_per_layer_ > 1 && s_.topology == Topology::kCascades) {
    p.route = static_cast<std::uint32_t>(route_rng_.Below(mixes_per_layer_));  // a cascade
  }
  if (s_.track_entropy) p.dist = dists_.PointMass(client);
  const std::uint32_t provider = clients_[client].provider;
  Observe(PacketEvent::Type::kSend, client, provider, p, /*from_client=*/true);
  p.from = kNone;  // from its client (the kArrive at the provider says so)
  SendTo(provider, packet);
}

std::uint32_t Engine::PickRecipient(std::uint32_t client) {
  if (s_.social_graph == SocialGraph::kFriends) {
    const auto& friends = layout_.friends[client];
    return friends[traffic_rng_.Below(friends.size())];
  }
  auto r = static_cast<std::uint32_t>(traffic_rng_.Below(s_.clients - 1u));
  return r >= client ? r + 1 : r;  // anyone but the sender
}

void Engine::Deliver(std::uint32_t packet) {
  const Packet& p = packets_[packet];
  Observe(PacketEvent::Type::kDeliver, p.from, p.dest, p);
  if (p.kind == PacketKind::kReal) {
    Message& m = messages_[p.message];
    const double h =
        s_.track_entropy ? dists_.EntropyBits(p.dist) : std::numeric_limits<double>::quiet_NaN();
    if (m.measured) {
      ++r_.real_packets_delivered;
      if (s_.track_entropy) entropies_.push_back(h);
    }
    if (!(h >= m.min_entropy)) m.min_entropy = h;  // NaN stays NaN
    if (--m.to_deliver == 0) {
      if (m.measured) {
        ++r_.messages_delivered;
        --outstanding_measured_;
        const double latency_ms = static_cast<double>(now_ - m.created) / 1000.0;
        latencies_.push_back(latency_ms);
        if (options_.on_message) {
          MessageRecord record;
          record.repetition = options_.repetition;
          record.id = m.id;
          record.sender = m.sender;
          record.recipient = m.recipient;
          record.packets = s_.message_packets;
          record.created_us = m.created;
          record.delivered_us = now_;
          record.latency_ms = latency_ms;
          record.entropy_bits = m.min_entropy;
          record.corrupt_mixes = corrupt_list_;
          options_.on_message(record);
        }
      }
      free_messages_.push_back(p.message);
    }
  }
  FreePacket(packet);
}

}  // namespace sotto::sim
