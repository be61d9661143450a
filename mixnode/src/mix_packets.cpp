// What arrives on the node's ROUTER socket: packets (from nodes, and from clients at a provider),
// mailbox fetches (answered with exactly the number of items asked for, padded) and
// acknowledgements (providers). Hostile input is expected: every frame is
// size-checked by wire::Decode before anything else, and every failure is a counted drop.
#include <spdlog/spdlog.h>

#include "mix_node.h"
#include "sotto/core/mailbox.h"
#include "sotto/core/random.h"

namespace sotto::mixnode {
namespace {

// The replay cache seen by sphinx::ProcessPacket: reads the store, and remembers the tag so the
// caller can record it atomically with whatever it stores.
class StoreReplayGuard final : public sphinx::ReplayGuard {
 public:
  StoreReplayGuard(const NodeStore& store, std::uint64_t epoch) : store_(store), epoch_(epoch) {}
  bool CheckAndRecord(const sphinx::ReplayTag& tag) noexcept override {
    tag_ = tag;
    return !store_.ReplaySeen(epoch_, tag);
  }
  const std::optional<sphinx::ReplayTag>& tag() const { return tag_; }

 private:
  const NodeStore& store_;
  std::uint64_t epoch_;
  std::optional<sphinx::ReplayTag> tag_;
};

}  // namespace

void MixNode::Reply(const zmq::message_t& routing_id, const wire::Message& msg) {
  const Bytes bytes = wire::Encode(msg);
  try {
    zmq::message_t id(routing_id.data(), routing_id.size());
    router_->send(id, zmq::send_flags::sndmore | zmq::send_flags::dontwait);
    router_->send(zmq::buffer(bytes), zmq::send_flags::dontwait);
  } catch (const zmq::error_t& e) {
    spdlog::debug("reply not sent: {}", e.what());
  }
}

void MixNode::OnRouterMessage() {
  zmq::message_t routing_id, payload;
  if (!router_->recv(routing_id, zmq::recv_flags::dontwait)) return;
  if (!routing_id.more()) return;
  (void)router_->recv(payload, zmq::recv_flags::dontwait);
  if (payload.more()) {
    // A well-behaved peer sends one frame. Drain the whole message, so that no later frame can
    // be taken for the routing id of the next message.
    metrics_.Add("frames_dropped", 1, "multipart");
    zmq::message_t rest;
    while (router_->recv(rest, zmq::recv_flags::dontwait) && rest.more()) {
    }
    return;
  }
  auto peer = transport::PeerKey(payload);
  if (!peer) {
    metrics_.Add("frames_dropped", 1, "unauthenticated");
    return;
  }
  auto msg =
      wire::Decode(ByteSpan(static_cast<const std::uint8_t*>(payload.data()), payload.size()));
  if (!msg.ok()) {
    metrics_.Add("frames_dropped", 1, "malformed");
    spdlog::debug("malformed frame dropped: {}", msg.status().message());
    return;
  }
  const bool provider = config_.role == directory::NodeRole::kProvider;
  if (const auto* p = std::get_if<wire::PacketMsg>(&msg.value())) {
    HandlePacket(routing_id, *p, *peer, node_keys_.count(*peer) != 0);
  } else if (const auto* f = std::get_if<wire::FetchMsg>(&msg.value()); f && provider) {
    HandleFetch(routing_id, *peer, *f);
  } else if (const auto* a = std::get_if<wire::AckMsg>(&msg.value()); a && provider) {
    HandleMailAck(routing_id, *peer, *a);
  } else {
    metrics_.Add("frames_dropped", 1, "unexpected_type");
    Reply(routing_id, wire::ErrorMsg{wire::ErrorCode::kMalformed, "unexpected message"});
  }
}

void MixNode::HandlePacket(const zmq::message_t& routing_id, const wire::PacketMsg& msg,
                           const transport::LinkPublicKey& peer, bool from_node) {
  const std::int64_t start = NowUs();
  metrics_.Add("packets_received");
  const bool provider = config_.role == directory::NodeRole::kProvider;

  // Try the keys of the current epoch first, then the neighbours (grace period / early packets).
  sphinx::ProcessResult result = sphinx::Drop{sphinx::DropReason::kBadMac};
  std::optional<std::uint64_t> epoch;
  std::optional<sphinx::ReplayTag> tag;
  std::vector<std::uint64_t> order = {current_epoch_, current_epoch_ + 1};
  if (current_epoch_ > 0) order.push_back(current_epoch_ - 1);
  for (std::uint64_t e : order) {
    const SecretKey* key = keys_.RoutingKey(e);
    if (key == nullptr) continue;
    StoreReplayGuard guard(*store_, e);
    result = sphinx::ProcessPacket(*key, msg.packet, &guard);
    const auto* drop = std::get_if<sphinx::Drop>(&result);
    if (drop && (drop->reason == sphinx::DropReason::kBadMac)) continue;
    epoch = e;
    tag = guard.tag();
    break;
  }

  PacketOutcome outcome;
  if (tap_) outcome.accept = TapDecideAccept(result, peer, from_node, msg.seq);
  Status stored = Status::Ok();
  if (auto* fwd = std::get_if<sphinx::Forward>(&result)) {
    PooledPacket p{0, NowUs(), fwd->delay_ms, fwd->next_hop, std::move(fwd->packet)};
    p.link_id = NewLinkId(p.next_hop);
    const bool known_hop = FindNode(p.next_hop) != nullptr;
    outcome.next = p.next_hop;
    if (!known_hop && !from_node) {
      // A client cannot make us hold packets for nodes we do not know. Its tag is not recorded
      // and it gets no ack: if our document is just behind, its retry will be accepted.
      metrics_.Add("packets_refused", 1, "unknown_next_hop");
      fetch_soon_ = true;
      Reply(routing_id, wire::ErrorMsg{wire::ErrorCode::kUnavailable,
                                       "this provider does not know the next hop (yet); retry "
                                       "shortly with a fresh consensus"});
      if (tap_) {
        outcome.verdict = "refused";
        outcome.reason = "unknown_next_hop";
        (void)TapReportPacket(routing_id, msg.seq, peer, from_node, outcome);
      }
      return;
    }
    outcome.verdict = "forward";
    if (outcome.accept == TapAccept::kDrop) {
      stored = store_->RecordReplay(*epoch, fwd->replay_tag);
    } else {
      if (!known_hop) {
        // A node's document is newer than ours: keep the packet (resent until the next hop is
        // known, see ResendUnacked) and fetch the consensus soon.
        metrics_.Add("unknown_next_hop_held");
        fetch_soon_ = true;
      }
      auto id = store_->Accept(*epoch, fwd->replay_tag, p);
      if (id.ok()) {
        p.id = id.value();
        outcome.pool = p.id;
        p.epoch = *epoch;
        if (policy_ && outcome.accept != TapAccept::kHold)
          policy_->Add(p.id, NowUs(), static_cast<TimeUs>(p.delay_ms) * 1000);
        AddToPool(std::move(p));
      }
      stored = id.status();
    }
  } else if (auto* del = std::get_if<sphinx::Deliver>(&result)) {
    if (!provider) {
      metrics_.Add("packets_dropped", 1, "deliver_at_mix");
      outcome.verdict = "drop";
      outcome.reason = "deliver_at_mix";
      stored = store_->RecordReplay(*epoch, del->replay_tag);
    } else {
      // A dummy (a mix's padding at the end of its path) is stored exactly like a message, in
      // the all-zero mailbox that no key can fetch, and removed off the packet path by
      // housekeeping: the same work and the same ack time as real mail (network-spec §4.4).
      const bool dummy = del->mailbox == kDummyMailbox;
      outcome.verdict = dummy ? "dummy_sink" : "deliver";
      if (!dummy) outcome.mailbox = del->mailbox;
      if (outcome.accept == TapAccept::kDrop) {
        stored = store_->RecordReplay(*epoch, del->replay_tag);
      } else {
        Bytes tapped;  // what the tap is shown, if there is one
        if (tap_ && !dummy) tapped = del->message;
        MailItem item{0, NowUs(), false, {}, std::move(del->message)};
        auto id = store_->StoreMail(del->mailbox, std::move(item),
                                    std::make_pair(*epoch, del->replay_tag));
        if (id.ok() && dummy) {
          metrics_.Add("dummies_received");
          dummy_items_.push_back(id.value());
        } else if (id.ok()) {
          metrics_.Add("messages_delivered");
          outcome.item = id.value();
          if (tap_) tap_->OnMailStored(del->mailbox, id.value(), tapped);
        }
        stored = id.status();
      }
    }
  } else if (auto* sd = std::get_if<sphinx::SurbDeliver>(&result)) {
    if (!provider) {
      metrics_.Add("packets_dropped", 1, "deliver_at_mix");
      outcome.verdict = "drop";
      outcome.reason = "deliver_at_mix";
      stored = store_->RecordReplay(*epoch, sd->replay_tag);
    } else {
      outcome.verdict = "deliver";
      outcome.mailbox = sd->mailbox;
      if (outcome.accept == TapAccept::kDrop) {
        stored = store_->RecordReplay(*epoch, sd->replay_tag);
      } else {
        Bytes tapped;
        if (tap_) tapped = sd->payload;
        MailItem item{0, NowUs(), true, sd->surb_id, std::move(sd->payload)};
        auto id =
            store_->StoreMail(sd->mailbox, std::move(item), std::make_pair(*epoch, sd->replay_tag));
        if (id.ok()) {
          metrics_.Add("messages_delivered");
          outcome.item = id.value();
          if (tap_) tap_->OnMailStored(sd->mailbox, id.value(), tapped);
        }
        stored = id.status();
      }
    }
  } else {
    const auto reason = std::get<sphinx::Drop>(result).reason;
    metrics_.Add("packets_dropped", 1, std::string(sphinx::DropReasonName(reason)));
    if (reason == sphinx::DropReason::kReplay) metrics_.Add("replays");
    spdlog::debug("packet dropped: {}", sphinx::DropReasonName(reason));
    if (reason == sphinx::DropReason::kReplay) {
      outcome.verdict = "replay";
    } else {
      outcome.verdict = "drop";
      outcome.reason = sphinx::DropReasonName(reason);
    }
    // A packet that passed its MAC uses up its tag even when dropped later (spec §8 step 6).
    if (epoch && tag && reason != sphinx::DropReason::kReplay)
      (void)store_->RecordReplay(*epoch, *tag);
  }
  if (!stored.ok()) {
    // Not stored: do not acknowledge, so the sender keeps the packet and tries again.
    metrics_.Add("store_errors");
    spdlog::error("store: {}", stored.message());
    if (tap_) {
      outcome.verdict = "drop";
      outcome.reason = "store_error";
      (void)TapReportPacket(routing_id, msg.seq, peer, from_node, outcome);
    }
    return;
  }
  if (tap_ && !TapReportPacket(routing_id, msg.seq, peer, from_node, outcome)) return;
  Reply(routing_id, wire::PacketAckMsg{msg.seq});
  metrics_.ObserveLatencyUs(static_cast<double>(NowUs() - start));
}

bool MixNode::OwnsMailbox(const zmq::message_t& routing_id, const transport::LinkPublicKey& peer,
                          const sphinx::MailboxId& mailbox) {
  if (mailbox == MailboxForLinkKey(peer)) return true;
  metrics_.Add("fetches_refused");
  Reply(routing_id,
        wire::ErrorMsg{wire::ErrorCode::kForbidden, "that mailbox does not belong to your key"});
  return false;
}

void MixNode::HandleFetch(const zmq::message_t& routing_id, const transport::LinkPublicKey& peer,
                          const wire::FetchMsg& msg) {
  if (!OwnsMailbox(routing_id, peer, msg.mailbox)) return;
  auto items = store_->FetchMail(msg.mailbox, msg.max_items);
  if (!items.ok()) {
    Reply(routing_id, wire::ErrorMsg{wire::ErrorCode::kInternal, "mailbox unavailable"});
    return;
  }
  // Exactly max_items items, real ones first, then padding (spec §4.3): with full-size messages
  // the reply's length says nothing about how much mail was waiting.
  // The random bytes for every slot are drawn whether the slot is padding or not, so that the
  // reply does not leave later when less mail was waiting (an observer of the client's link
  // times FETCH → MAIL; tests/integration/link_ids_test.cpp "provider: how long a FETCH …").
  Bytes noise(std::size_t{msg.max_items} * wire::kMailPaddingPayloadSize);
  SystemRng().Fill(noise);
  wire::MailMsg out;
  out.items.reserve(msg.max_items);
  for (auto& item : items.value()) {
    out.items.push_back(
        {item.id, item.received_us, item.is_reply, item.surb_id, std::move(item.payload)});
  }
  for (std::size_t slot = out.items.size(); slot < msg.max_items; ++slot) {
    const auto from =
        noise.begin() + static_cast<std::ptrdiff_t>(slot * wire::kMailPaddingPayloadSize);
    out.items.push_back(
        {wire::kPaddingMailId, 0, false, {}, Bytes(from, from + wire::kMailPaddingPayloadSize)});
  }
  metrics_.Add("fetches");
  if (tap_) {
    std::vector<std::uint64_t> ids;
    for (const auto& item : out.items) {
      if (!wire::IsPadding(item)) ids.push_back(item.id);
    }
    tap_->OnFetch(msg.mailbox, msg.max_items, ids);
  }
  Reply(routing_id, out);
}

void MixNode::HandleMailAck(const zmq::message_t& routing_id, const transport::LinkPublicKey& peer,
                            const wire::AckMsg& msg) {
  if (!OwnsMailbox(routing_id, peer, msg.mailbox)) return;
  // Id 0 names the padding of a MAIL reply, never a stored item: ignored, so a client can echo
  // every id it was sent and its ACK's length does not depend on how much mail it received.
  std::vector<std::uint64_t> ids;
  ids.reserve(msg.ids.size());
  for (std::uint64_t id : msg.ids) {
    if (id != wire::kPaddingMailId) ids.push_back(id);
  }
  if (Status s = store_->AckMail(msg.mailbox, ids); !s.ok()) {
    Reply(routing_id, wire::ErrorMsg{wire::ErrorCode::kInternal, "mailbox unavailable"});
    return;
  }
  if (tap_) tap_->OnMailAck(msg.mailbox, ids);
  Reply(routing_id, wire::AckedMsg{static_cast<std::uint16_t>(ids.size())});
}

}  // namespace sotto::mixnode
