// DirectoryClient: request/response with the authority over CURVE.
#include "sotto/core/directory_client.h"

#include "sotto/core/wire.h"

namespace sotto::directory {

DirectoryClient::DirectoryClient(zmq::context_t& context, const transport::CurveKeyPair& own_keys,
                                 AuthorityInfo authority)
    : context_(context), own_keys_(own_keys), authority_(std::move(authority)) {}

Result<std::string> DirectoryClient::Request(const Bytes& request,
                                             std::chrono::milliseconds timeout, Bytes* reply) {
  // A fresh socket per request: a reply that arrives after a timeout can never be mistaken for
  // the answer to the next request.
  socket_.reset();
  auto s = transport::ConnectClient(context_, own_keys_, authority_.link_key, authority_.address,
                                    static_cast<std::int64_t>(wire::kMaxControlMessageSize + 1));
  if (!s.ok()) return s.status();
  socket_ = std::move(s.value());
  auto r = transport::RequestReply(*socket_, request, timeout,
                                   "directory authority at " + authority_.address,
                                   "is sotto-directory running, and is its link key right?");
  if (!r.ok()) return r.status();
  *reply = std::move(r.value());
  return std::string();
}

Status DirectoryClient::PostDescriptor(const std::string& document,
                                       std::chrono::milliseconds timeout) {
  Bytes reply;
  auto r = Request(wire::Encode(wire::PostDescriptorMsg{document}), timeout, &reply);
  if (!r.ok()) return r.status();
  auto msg = wire::Decode(reply);
  if (!msg.ok()) return Status::Corruption("directory authority sent a malformed reply");
  if (std::holds_alternative<wire::PostedMsg>(msg.value())) return Status::Ok();
  if (const auto* e = std::get_if<wire::ErrorMsg>(&msg.value())) {
    return Status::InvalidArgument("directory authority refused the descriptor: " + e->message);
  }
  return Status::Corruption("directory authority sent an unexpected reply");
}

Result<Consensus> DirectoryClient::FetchConsensus(std::uint64_t epoch, std::int64_t now_unix,
                                                  std::chrono::milliseconds timeout) {
  Bytes reply;
  auto r = Request(wire::Encode(wire::GetConsensusMsg{epoch}), timeout, &reply);
  if (!r.ok()) return r.status();
  auto msg = wire::Decode(reply);
  if (!msg.ok()) return Status::Corruption("directory authority sent a malformed reply");
  if (const auto* c = std::get_if<wire::ConsensusMsg>(&msg.value())) {
    return VerifyConsensus(c->document, authority_.verify_key, now_unix);
  }
  if (const auto* e = std::get_if<wire::ErrorMsg>(&msg.value())) {
    if (e->code == wire::ErrorCode::kNotFound) return Status::NotFound(e->message);
    return Status::Unavailable("directory authority: " + e->message);
  }
  return Status::Corruption("directory authority sent an unexpected reply");
}

}  // namespace sotto::directory
