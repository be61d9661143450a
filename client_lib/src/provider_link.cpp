// ProviderLink, AsyncProviderLink and path selection (provider_link.h).
#include "sotto/client_lib/provider_link.h"

#include <string>
#include <string_view>

#include "sotto/core/random.h"

namespace sotto::client {
namespace {

// A provider's error text goes into our log and status: keep printable ASCII only, at most 160
// characters, so a hostile provider cannot inject terminal escapes or flood the log.
std::string Printable(std::string_view text) {
  std::string out;
  for (char c : text.substr(0, 160)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  if (text.size() > 160) out += "...";
  return out;
}

}  // namespace

ProviderLink::ProviderLink(zmq::context_t& context, const transport::CurveKeyPair& keys,
                           const directory::NodeDescriptor& provider)
    : context_(context), keys_(keys), provider_(provider) {}

Result<wire::Message> ProviderLink::Request(const Bytes& request,
                                            std::chrono::milliseconds timeout) {
  if (!socket_) {
    auto s = transport::ConnectClient(context_, keys_, provider_.link_key, provider_.address,
                                      static_cast<std::int64_t>(wire::kMaxMailMessageSize));
    if (!s.ok()) return s.status();
    socket_ = std::move(s.value());
  }
  auto reply = transport::RequestReply(*socket_, request, timeout,
                                       "provider " + provider_.name + " at " + provider_.address);
  if (!reply.ok()) {
    socket_.reset();  // a late reply must not be taken for the answer to the next request
    return reply.status();
  }
  auto decoded = wire::Decode(reply.value());
  if (!decoded.ok()) return Status::Corruption("provider sent a malformed reply");
  return decoded;
}

Status ProviderLink::SendPacket(const Bytes& packet, std::chrono::milliseconds timeout) {
  const std::uint64_t seq = UniformU64(SystemRng());  // random: says nothing about order
  auto reply = Request(wire::Encode(wire::PacketMsg{seq, packet}), timeout);
  if (!reply.ok()) return reply.status();
  if (const auto* ack = std::get_if<wire::PacketAckMsg>(&reply.value()); ack && ack->seq == seq) {
    return Status::Ok();
  }
  if (const auto* e = std::get_if<wire::ErrorMsg>(&reply.value())) {
    return Status::Unavailable("provider " + provider_.name + ": " + Printable(e->message));
  }
  return Status::Corruption("provider did not acknowledge the packet");
}

Result<std::vector<wire::MailEntry>> ProviderLink::Fetch(const sphinx::MailboxId& mailbox,
                                                         std::uint16_t max,
                                                         std::chrono::milliseconds timeout) {
  auto reply = Request(wire::Encode(wire::FetchMsg{mailbox, max}), timeout);
  if (!reply.ok()) return reply.status();
  if (auto* mail = std::get_if<wire::MailMsg>(&reply.value())) return std::move(mail->items);
  if (const auto* e = std::get_if<wire::ErrorMsg>(&reply.value())) {
    if (e->code == wire::ErrorCode::kForbidden)
      return Status::InvalidArgument("provider refused: " + Printable(e->message));
    return Status::Unavailable("provider: " + Printable(e->message));
  }
  return Status::Corruption("provider sent an unexpected reply");
}

Status ProviderLink::Ack(const sphinx::MailboxId& mailbox, const std::vector<std::uint64_t>& ids,
                         std::chrono::milliseconds timeout) {
  auto reply = Request(wire::Encode(wire::AckMsg{mailbox, ids}), timeout);
  if (!reply.ok()) return reply.status();
  if (std::holds_alternative<wire::AckedMsg>(reply.value())) return Status::Ok();
  if (const auto* e = std::get_if<wire::ErrorMsg>(&reply.value())) {
    return Status::InvalidArgument("provider refused: " + Printable(e->message));
  }
  return Status::Corruption("provider sent an unexpected reply");
}

Result<std::unique_ptr<AsyncProviderLink>> AsyncProviderLink::Connect(
    zmq::context_t& context, const transport::CurveKeyPair& keys,
    const directory::NodeDescriptor& provider) {
  auto s = transport::ConnectClient(context, keys, provider.link_key, provider.address,
                                    static_cast<std::int64_t>(wire::kMaxMailMessageSize));
  if (!s.ok()) return s.status();
  try {
    // Bounded queue towards the provider (a stalled provider makes sends fail, not memory grow),
    // and nothing kept after close.
    s.value().set(zmq::sockopt::sndhwm, 128);
    s.value().set(zmq::sockopt::linger, 0);
  } catch (const zmq::error_t& e) {
    return Status::Internal(std::string("cannot configure the provider socket: ") + e.what());
  }
  return std::unique_ptr<AsyncProviderLink>(
      new AsyncProviderLink(std::move(s.value()), provider.address));
}

bool AsyncProviderLink::Send(const Bytes& frame) {
  try {
    return socket_.send(zmq::buffer(frame.data(), frame.size()), zmq::send_flags::dontwait)
        .has_value();
  } catch (const zmq::error_t&) {
    return false;
  }
}

std::optional<wire::Message> AsyncProviderLink::Receive() {
  try {
    while (true) {
      zmq::message_t msg;
      if (!socket_.recv(msg, zmq::recv_flags::dontwait)) return std::nullopt;
      if (msg.more()) {  // a provider sends one frame per message: drain and drop the rest
        ++malformed_;
        zmq::message_t rest;
        while (socket_.recv(rest, zmq::recv_flags::dontwait) && rest.more()) {
        }
        continue;
      }
      auto decoded =
          wire::Decode(ByteSpan(static_cast<const std::uint8_t*>(msg.data()), msg.size()));
      if (!decoded.ok()) {
        ++malformed_;
        continue;
      }
      return std::move(decoded.value());
    }
  } catch (const zmq::error_t&) {
    return std::nullopt;
  }
}

Result<std::vector<sphinx::PathHop>> BuildPath(const directory::Consensus& consensus,
                                               const sphinx::NodeId& sender_provider,
                                               std::size_t cascade_index,
                                               const sphinx::NodeId& recipient_provider) {
  if (cascade_index >= consensus.cascades.size()) {
    return Status::InvalidArgument(
        "the consensus has " + std::to_string(consensus.cascades.size()) +
        " cascades; there is no cascade " + std::to_string(cascade_index));
  }
  std::vector<sphinx::NodeId> ids = {sender_provider};
  for (const auto& m : consensus.cascades[cascade_index]) ids.push_back(m);
  ids.push_back(recipient_provider);
  std::vector<sphinx::PathHop> path;
  for (const auto& id : ids) {
    const auto* node = consensus.FindNode(id);
    if (node == nullptr) return Status::NotFound("a node of the path is not in the consensus");
    auto key = node->RoutingKeyFor(consensus.epoch);
    if (!key) return Status::NotFound("node " + node->name + " has no key for this epoch");
    path.push_back({id, *key, 0});
  }
  return path;
}

}  // namespace sotto::client
