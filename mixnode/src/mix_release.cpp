// Releasing batches: the policy's packets plus dummies, shuffled together and sent to the next
// hops; acknowledgements from the next hops; resending what was not acknowledged.
#include <spdlog/spdlog.h>

#include <set>

#include "mix_node.h"
#include "sotto/core/mailbox.h"

namespace sotto::mixnode {

zmq::socket_t* MixNode::PeerSocket(const sphinx::NodeId& id) {
  auto it = peers_.find(id);
  if (it != peers_.end()) return &it->second;
  const auto* node = FindNode(id);
  if (node == nullptr) return nullptr;
  // The server key comes from the signed consensus: a node with another key cannot be reached.
  auto s = transport::ConnectClient(context_, keys_.link(), node->link_key, node->address,
                                    static_cast<std::int64_t>(wire::kPacketMessageSize),
                                    /*queue_until_connected=*/true);
  if (!s.ok()) {
    spdlog::warn("cannot connect to {}: {}", node->name, s.status().message());
    return nullptr;
  }
  return &peers_.emplace(id, std::move(s.value())).first->second;
}

bool MixNode::SendPacket(const sphinx::NodeId& next, std::uint64_t seq, const Bytes& packet,
                         bool resend) {
  zmq::socket_t* socket = PeerSocket(next);
  if (socket == nullptr) return false;
  Bytes frame = wire::Encode(wire::PacketMsg{seq, packet});
  TapOutAction action = TapOutAction::kNone;
  std::optional<TapPacketOut> tapped;
  if (tap_) {
    tapped = TapPacketOut{
        next, NodeName(next), seq, seq != 0 ? std::optional(seq) : std::nullopt, seq == 0, resend};
    action = tap_->BeforePacketOut(*tapped, MutableByteSpan(frame).subspan(1 + 8));
  }
  bool sent = false;
  try {
    sent = socket->send(zmq::buffer(frame), zmq::send_flags::dontwait).has_value();
  } catch (const zmq::error_t&) {
    sent = false;
  }
  if (sent && tapped) tap_->OnPacketOut(*tapped, action);
  return sent;
}

// A dummy: a real Sphinx packet over the rest of this mix's cascade to a random provider,
// addressed to the dummy mailbox, so it is indistinguishable from real traffic on every link.
std::optional<MixNode::Outgoing> MixNode::MakeDummy() {
  const auto* c = CurrentConsensus();
  if (c == nullptr) return std::nullopt;
  const sphinx::NodeId me = keys_.identity().verify_key().bytes;
  std::vector<sphinx::PathHop> path;
  for (const auto& cascade : c->cascades) {
    auto pos = std::find(cascade.begin(), cascade.end(), me);
    if (pos == cascade.end()) continue;
    for (auto it = pos + 1; it != cascade.end(); ++it) {
      const auto* node = c->FindNode(*it);
      auto key = node ? node->RoutingKeyFor(c->epoch) : std::nullopt;
      if (!key) return std::nullopt;
      path.push_back({*it, *key, 0});
    }
    break;
  }
  auto providers = c->Providers();
  if (providers.empty()) return std::nullopt;
  const auto* provider = providers[UniformBelow(SystemRng(), providers.size())];
  auto key = provider->RoutingKeyFor(c->epoch);
  if (!key) return std::nullopt;
  path.push_back({provider->id(), *key, 0});
  auto packet = sphinx::CreateForwardPacket(path, kDummyMailbox, {});
  if (!packet.ok()) return std::nullopt;
  return Outgoing{path.front().id, 0, std::move(packet.value())};
}

void MixNode::ReleaseDue(std::int64_t now_us) {
  std::vector<PacketHandle> ids = policy_->Release(now_us);
  const bool mix = config_.role == directory::NodeRole::kMix;
  const std::size_t dummies = mix ? policy_->DummiesFor(ids.size()) : 0;
  if (ids.empty() && dummies == 0) return;

  std::vector<Outgoing> batch;
  for (auto id : ids) {
    auto it = pool_.find(id);
    if (it == pool_.end()) continue;
    batch.push_back({it->second.next_hop, id, it->second.packet});
  }
  const std::size_t real = batch.size();
  for (std::size_t i = 0; i < dummies; ++i) {
    auto d = MakeDummy();
    if (!d) break;
    batch.push_back(std::move(*d));
    metrics_.Add("dummies_sent");
  }
  Shuffle(batch, SystemRng());
  if (tap_) tap_->OnRelease(real, batch.size() - real);
  for (const auto& out : batch) {
    const bool sent = SendPacket(out.next, out.seq, out.packet);
    if (out.seq != 0) {
      inflight_[out.seq] = sent ? now_us : 0;  // 0: resend at the next opportunity
      if (sent) metrics_.Add("packets_forwarded");
    } else if (!sent) {
      metrics_.Add("dummies_unsent");
    }
  }
  metrics_.ObserveBatch(batch.size());
  spdlog::debug("released a batch of {} ({} dummies)", batch.size(), dummies);
}

void MixNode::ResendUnacked(std::int64_t now_us) {
  const std::int64_t after = static_cast<std::int64_t>(config_.resend_after_ms) * 1000;
  // A packet still here two epochs after it arrived can no longer be processed by anyone (the
  // keys it was made for are gone): give it up, and count it.
  const std::int64_t give_up =
      2 * static_cast<std::int64_t>(config_.authority.clock.length_s) * 1'000'000;
  std::vector<std::uint64_t> due, expired;
  std::set<sphinx::NodeId> stale;
  for (const auto& [id, sent_at] : inflight_) {
    if (sent_at != 0 && now_us - sent_at < after) continue;
    auto it = pool_.find(id);
    if (it == pool_.end()) continue;
    if (now_us - it->second.arrival_us > give_up) {
      expired.push_back(id);
      continue;
    }
    due.push_back(id);
    if (sent_at != 0) stale.insert(it->second.next_hop);
  }
  if (!expired.empty() && store_->RemovePooled(expired).ok()) {
    for (auto id : expired) {
      pool_.erase(id);
      inflight_.erase(id);
      if (tap_) tap_->OnExpired(id);
    }
    metrics_.Add("packets_dropped", expired.size(), "expired");
  }
  // Not acknowledged in time: the link may be dead (e.g. the handshake was refused before the
  // next hop knew this node). Start a fresh connection — at most once per resend interval per
  // hop, since closing a socket discards what is queued on it.
  for (const auto& hop : stale) {
    auto& last = reconnected_[hop];
    if (now_us - last < after) continue;
    last = now_us;
    peers_.erase(hop);
  }
  for (auto id : due) {
    auto& sent_at = inflight_[id];
    const auto& p = pool_.at(id);
    const bool first = sent_at == 0;
    if (SendPacket(p.next_hop, id, p.packet, /*resend=*/!first)) {
      metrics_.Add(first ? "packets_forwarded" : "packets_resent");
    }
    sent_at = now_us;  // also after a failed attempt: retry after the interval, not every turn
  }
}

void MixNode::OnPeerMessage(const sphinx::NodeId& peer, zmq::socket_t& socket) {
  for (int i = 0; i < 1024; ++i) {
    zmq::message_t msg;
    if (!socket.recv(msg, zmq::recv_flags::dontwait)) return;
    auto decoded = wire::Decode(ByteSpan(static_cast<const std::uint8_t*>(msg.data()), msg.size()));
    const auto* ack = decoded.ok() ? std::get_if<wire::PacketAckMsg>(&decoded.value()) : nullptr;
    if (ack == nullptr) {
      metrics_.Add("frames_dropped", 1, "malformed");
      continue;
    }
    auto it = pool_.find(ack->seq);
    const bool known = ack->seq != 0 && it != pool_.end() && it->second.next_hop == peer;
    if (tap_)
      tap_->OnAckIn(NodeName(peer), ack->seq, known ? std::optional(ack->seq) : std::nullopt);
    if (!known) continue;
    if (store_->RemovePooled({ack->seq}).ok()) {
      pool_.erase(it);
      inflight_.erase(ack->seq);
      metrics_.Add("packets_acknowledged");
    }
  }
}

}  // namespace sotto::mixnode
