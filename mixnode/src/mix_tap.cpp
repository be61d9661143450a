// The node's side of a tap (sotto/mixnode/tap.h): names for its events, the glue around its
// decisions, and what it may ask of the node. Reached only when a tap is installed.
#include <fmt/format.h>

#include "mix_node.h"
#include "sotto/core/mailbox.h"

namespace sotto::mixnode {
namespace {

std::string Hex16(ByteSpan bytes) { return ToHex(bytes.first(8)); }

}  // namespace

std::string MixNode::PeerName(const transport::LinkPublicKey& key) const {
  for (auto it = consensus_.rbegin(); it != consensus_.rend(); ++it) {
    for (const auto& n : it->second.nodes) {
      if (n.link_key == key) return n.name;
    }
  }
  return "client:" + Hex16(MailboxForLinkKey(key));
}

std::string MixNode::NodeName(const sphinx::NodeId& id) const {
  if (const auto* n = FindNode(id)) return n->name;
  return "node:" + Hex16(id);
}

TapAccept MixNode::TapDecideAccept(const sphinx::ProcessResult& result,
                                   const transport::LinkPublicKey& peer, bool from_node,
                                   std::uint64_t link_id) {
  if (std::holds_alternative<sphinx::Drop>(result)) return TapAccept::kNormal;
  return tap_->DecideAccept(PeerName(peer), !from_node, link_id);
}

bool MixNode::TapReportPacket(const zmq::message_t& routing_id, std::uint64_t link_id,
                              const transport::LinkPublicKey& peer, bool from_node,
                              const PacketOutcome& outcome) {
  TapPacketIn in;
  in.from = PeerName(peer);
  in.from_client = !from_node;
  in.link_id = link_id;
  in.verdict = outcome.reason.empty() ? std::string(outcome.verdict)
                                      : fmt::format("{}:{}", outcome.verdict, outcome.reason);
  in.pool = outcome.pool;
  if (outcome.next) in.next = NodeName(*outcome.next);
  in.mailbox = outcome.mailbox;
  in.item = outcome.item;
  if (outcome.accept == TapAccept::kDrop) in.action = "dropped";
  if (outcome.accept == TapAccept::kHold && outcome.pool) in.action = "held";
  tap_->OnPacketIn(in);
  if (outcome.verdict == "refused" || outcome.reason == "store_error") return false;

  const Bytes id(static_cast<const std::uint8_t*>(routing_id.data()),
                 static_cast<const std::uint8_t*>(routing_id.data()) + routing_id.size());
  const TapAckDecision ack = tap_->DecideAck(in, id);
  if (ack.kind != TapAckDecision::Kind::kNow) return false;
  tap_->OnAckOut(in.from, link_id);
  return true;
}

void MixNode::SendPacketAck(const Bytes& routing_id, std::uint64_t link_id) {
  Reply(zmq::message_t(routing_id.data(), routing_id.size()), wire::PacketAckMsg{link_id});
}

bool MixNode::SendPacketCopy(const sphinx::NodeId& next, std::uint64_t link_id,
                             const Bytes& packet) {
  zmq::socket_t* socket = PeerSocket(next);
  if (socket == nullptr) return false;
  const Bytes frame = wire::Encode(wire::PacketMsg{link_id, packet});
  try {
    return socket->send(zmq::buffer(frame), zmq::send_flags::dontwait).has_value();
  } catch (const zmq::error_t&) {
    return false;
  }
}

void MixNode::ReleaseHeld(const std::vector<std::uint64_t>& pool_ids) {
  if (!policy_) return;
  const std::int64_t now = NowUs();
  for (auto id : pool_ids) {
    auto it = pool_.find(id);
    if (it == pool_.end()) continue;
    policy_->Add(id, now, static_cast<TimeUs>(it->second.delay_ms) * 1000);
  }
}

}  // namespace sotto::mixnode
