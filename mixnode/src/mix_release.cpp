// Releasing batches: the policy's packets plus dummies, shuffled together and sent to the next
// hops; acknowledgements from the next hops; resending what was not acknowledged; giving up
// packets whose keys are gone. Specified in papers/network-spec.md §4.2 and §4.4.
//
// What a neighbour or the network can provoke here — withheld or late acks, a stalled or
// replaced link, a consensus change, a restart — must not separate real packets from dummies
// or reveal the order in which packets arrived. Hence:
//   - Link ids. Every pooled packet, accepted or a dummy, gets its own link id when it enters
//     the pool: uniformly random, non-zero, from the system CSPRNG, stored with it. It is the
//     PACKET's id on every send to the next hop, and the PACKET_ACK naming it (from that hop)
//     removes the packet. A resend reuses the id: the next hop recognises a resend anyway (same
//     Sphinx bytes, same replay tag), an observer sees no id (CURVE), and a late ack of an
//     earlier send still counts. The pool id (arrival order) never leaves the node.
//   - Dummies are pool entries like the others: stored, sent, acknowledged, resent, expired and
//     counted (packets_forwarded, _resent, _acknowledged) alike; only dummies_sent tells the
//     operator how many were made.
//   - Resends: every packet unacknowledged for resend-after-ms is resent, all together, in a
//     fresh random order; a link that is replaced has everything in flight on it resent.
//   - Expiry by the Sphinx key epoch, not by arrival time: all packets of epoch e are given up
//     together at the start of epoch e + 2, when no node holds e's keys any more.
#include <spdlog/spdlog.h>

#include <set>

#include "mix_node.h"
#include "sotto/core/mailbox.h"

namespace sotto::mixnode {

zmq::socket_t* MixNode::PeerSocket(const sphinx::NodeId& id) {
  auto it = peers_.find(id);
  if (it != peers_.end()) return &it->second.socket;
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
  auto& link = peers_[id];
  link = PeerLink{std::move(s.value()), node->address, node->link_key};
  return &link.socket;
}

void MixNode::ReplacePeer(const sphinx::NodeId& hop, std::string_view reason) {
  if (peers_.erase(hop) > 0 && tap_) tap_->OnLinkReplaced(NodeName(hop), reason);
  for (auto& [id, flight] : inflight_) {
    if (pool_.at(id).next_hop == hop) flight.last_try_us = 0;
  }
}

std::uint64_t MixNode::NewLinkId(const sphinx::NodeId& next) {
  while (true) {
    const std::uint64_t id = UniformU64(SystemRng());
    if (id != 0 && !by_link_.contains({next, id})) return id;
  }
}

void MixNode::AddToPool(PooledPacket p) {
  by_link_[{p.next_hop, p.link_id}] = p.id;
  const std::uint64_t id = p.id;
  pool_.insert_or_assign(id, std::move(p));
}

void MixNode::RemoveFromPool(std::uint64_t id) {
  auto it = pool_.find(id);
  if (it == pool_.end()) return;
  by_link_.erase({it->second.next_hop, it->second.link_id});
  inflight_.erase(id);
  pool_.erase(it);
}

bool MixNode::SendPooled(const PooledPacket& p, bool resend) {
  zmq::socket_t* socket = PeerSocket(p.next_hop);
  if (socket == nullptr) return false;
  Bytes frame = wire::Encode(wire::PacketMsg{p.link_id, p.packet});
  TapOutAction action = TapOutAction::kNone;
  std::optional<TapPacketOut> tapped;
  if (tap_) {
    tapped = TapPacketOut{p.next_hop, NodeName(p.next_hop), p.link_id, p.id, p.dummy, resend};
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

// A real Sphinx packet over the rest of this mix's cascade to a random provider, addressed to
// the dummy mailbox, so it is indistinguishable from real traffic on every link.
std::optional<PooledPacket> MixNode::MakeDummy() {
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
  // A full-size message, like every real one, so that the final hop stores as many bytes.
  Bytes filler(sphinx::kMaxMessageSize);
  SystemRng().Fill(filler);
  auto packet = sphinx::CreateForwardPacket(path, kDummyMailbox, filler);
  if (!packet.ok()) return std::nullopt;
  PooledPacket d;
  d.next_hop = path.front().id;
  d.packet = std::move(packet.value());
  d.epoch = c->epoch;  // the keys it was built for
  d.dummy = true;
  return d;
}

std::optional<std::uint64_t> MixNode::PoolDummy(std::int64_t now_us) {
  auto d = MakeDummy();
  if (!d) return std::nullopt;
  d->arrival_us = now_us;
  d->link_id = NewLinkId(d->next_hop);
  auto id = store_->PoolOwn(*d);
  if (!id.ok()) {
    metrics_.Add("store_errors");
    spdlog::error("store: {}", id.status().message());
    return std::nullopt;
  }
  d->id = id.value();
  AddToPool(std::move(*d));
  return id.value();
}

void MixNode::ReleaseDue(std::int64_t now_us) {
  std::vector<std::uint64_t> batch;
  for (auto id : policy_->Release(now_us)) {
    if (pool_.contains(id)) batch.push_back(id);  // (not if it expired while in the policy)
  }
  const bool mix = config_.role == directory::NodeRole::kMix;
  const std::size_t dummies = mix ? policy_->DummiesFor(batch.size()) : 0;
  if (batch.empty() && dummies == 0) return;
  for (std::size_t i = 0; i < dummies; ++i) {
    auto id = PoolDummy(now_us);
    if (!id) break;
    batch.push_back(*id);
    metrics_.Add("dummies_sent");
  }
  Shuffle(batch, SystemRng());
  if (tap_) {
    std::size_t made = 0;
    for (auto id : batch) made += pool_.at(id).dummy ? 1 : 0;
    tap_->OnRelease(batch.size() - made, made);
  }
  for (auto id : batch) {
    const bool sent = SendPooled(pool_.at(id), /*resend=*/false);
    inflight_[id] = {sent ? now_us : 0, sent};  // 0: try again at the next opportunity
    if (sent) metrics_.Add("packets_forwarded");
  }
  metrics_.ObserveBatch(batch.size());
  spdlog::debug("released a batch of {}", batch.size());
}

void MixNode::ExpireOldEpochs() {
  if (expiry_epoch_ == current_epoch_) return;
  expiry_epoch_ = current_epoch_;
  std::vector<std::uint64_t> expired;
  for (const auto& [id, p] : pool_) {
    if (p.epoch + 2 <= current_epoch_) expired.push_back(id);
  }
  if (expired.empty()) return;
  if (Status s = store_->RemovePooled(expired); !s.ok()) {
    expiry_epoch_.reset();  // try again next turn
    spdlog::error("store: {}", s.message());
    return;
  }
  for (auto id : expired) {
    RemoveFromPool(id);
    if (tap_) tap_->OnExpired(id);
  }
  metrics_.Add("packets_dropped", expired.size(), "expired");
  spdlog::info("gave up {} packets of epochs before {}: their keys are gone", expired.size(),
               current_epoch_ - 1);
}

void MixNode::ResendUnacked(std::int64_t now_us) {
  ExpireOldEpochs();
  const std::int64_t after = static_cast<std::int64_t>(config_.resend_after_ms) * 1000;
  const auto due = [&](const InFlight& f) {
    return f.last_try_us == 0 || now_us - f.last_try_us >= after;
  };
  // Sent but not acknowledged in time: the link may be dead (e.g. the handshake was refused
  // before the next hop knew this node). Start a fresh connection — at most once per resend
  // interval per hop; ReplacePeer makes everything in flight on the old one due now.
  std::set<sphinx::NodeId> stale;
  for (const auto& [id, f] : inflight_) {
    if (f.sent && f.last_try_us != 0 && due(f)) stale.insert(pool_.at(id).next_hop);
  }
  for (const auto& hop : stale) {
    auto& last = reconnected_[hop];
    if (now_us - last < after) continue;
    last = now_us;
    ReplacePeer(hop, "stale");
  }
  std::vector<std::uint64_t> resend;
  for (const auto& [id, f] : inflight_) {
    if (due(f)) resend.push_back(id);
  }
  if (resend.empty()) return;
  Shuffle(resend, SystemRng());  // never in pool-id (arrival) order
  for (auto id : resend) {
    auto& f = inflight_.at(id);
    const bool sent = SendPooled(pool_.at(id), /*resend=*/f.sent);
    if (sent) metrics_.Add(f.sent ? "packets_resent" : "packets_forwarded");
    f.sent = f.sent || sent;
    f.last_try_us = now_us;  // also after a failed attempt: retry after the interval
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
    // Only the hop a packet was sent to can acknowledge it, by the id it was sent with.
    auto it = by_link_.find({peer, ack->seq});
    std::optional<std::uint64_t> pool;
    if (it != by_link_.end()) pool = it->second;
    if (tap_) tap_->OnAckIn(NodeName(peer), ack->seq, pool);
    if (!pool) continue;
    if (store_->RemovePooled({*pool}).ok()) {
      RemoveFromPool(*pool);
      metrics_.Add("packets_acknowledged");
    }
  }
}

}  // namespace sotto::mixnode
