// ZeroMQ CURVE sockets and the ZAP handler.
#include "sotto/core/transport.h"

#include <sodium.h>

#include <chrono>
#include <vector>

#include "sotto/core/bytes.h"

namespace sotto::transport {
namespace {

constexpr const char* kZapEndpoint = "inproc://zeromq.zap.01";

// libzmq checks ZMQ_MAXMSGSIZE against the frame as it arrives, i.e. the CURVE MESSAGE command
// that wraps the payload (command name, nonce, MAC, flags: well under this margin).
constexpr std::int64_t kCurveOverhead = 128;

void CommonOptions(zmq::socket_t& s, std::int64_t max_message_size) {
  s.set(zmq::sockopt::linger, 0);
  s.set(zmq::sockopt::maxmsgsize, max_message_size + kCurveOverhead);
  s.set(zmq::sockopt::handshake_ivl, 5000);
}

}  // namespace

CurveKeyPair CurveKeyPair::Generate() {
  LockedSecret<32> secret;
  randombytes_buf(secret.data(), secret.size());
  return FromSecret(std::move(secret));
}

CurveKeyPair CurveKeyPair::FromSecret(LockedSecret<32> secret) {
  CurveKeyPair kp;
  crypto_scalarmult_base(kp.public_key.data(), secret.data());
  kp.secret_key = std::move(secret);
  return kp;
}

std::string KeyHex(const LinkPublicKey& key) { return ToHex(key); }

std::shared_ptr<AccessPolicy> AccessPolicy::AllowAll() {
  return std::shared_ptr<AccessPolicy>(new AccessPolicy(true, {}));
}
std::shared_ptr<AccessPolicy> AccessPolicy::AllowOnly(std::set<LinkPublicKey> keys) {
  return std::shared_ptr<AccessPolicy>(new AccessPolicy(false, std::move(keys)));
}
bool AccessPolicy::Allows(const LinkPublicKey& key) const {
  std::lock_guard lock(mu_);
  return allow_all_ || keys_.count(key) != 0;
}
void AccessPolicy::Replace(std::set<LinkPublicKey> keys) {
  std::lock_guard lock(mu_);
  allow_all_ = false;
  keys_ = std::move(keys);
}

ZapHandler::ZapHandler(zmq::context_t& context, std::shared_ptr<AccessPolicy> policy)
    : policy_(std::move(policy)) {
  zmq::socket_t socket(context, zmq::socket_type::rep);
  socket.set(zmq::sockopt::linger, 0);
  socket.bind(kZapEndpoint);  // bound before any server socket exists: no handshake is missed
  thread_ = std::thread([this, s = std::move(socket)]() mutable { Run(std::move(s)); });
}

ZapHandler::~ZapHandler() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void ZapHandler::Run(zmq::socket_t socket) {
  while (!stop_) {
    zmq::pollitem_t item{socket.handle(), 0, ZMQ_POLLIN, 0};
    try {
      if (zmq::poll(&item, 1, std::chrono::milliseconds(100)) == 0) continue;
      std::vector<zmq::message_t> frames;
      do {
        frames.emplace_back();
        if (!socket.recv(frames.back())) break;
      } while (frames.back().more() && frames.size() < 16);
      // version, request id, domain, address, routing id, mechanism, credentials...
      const bool curve =
          frames.size() >= 7 && frames[5].to_string_view() == "CURVE" && frames[6].size() == 32;
      LinkPublicKey key{};
      if (curve) std::copy_n(static_cast<const std::uint8_t*>(frames[6].data()), 32, key.begin());
      const bool ok = curve && policy_->Allows(key);
      if (!ok) policy_->CountRejected();
      const std::string request_id = frames.size() > 1 ? frames[1].to_string() : "";
      socket.send(zmq::buffer(std::string("1.0")), zmq::send_flags::sndmore);
      socket.send(zmq::buffer(request_id), zmq::send_flags::sndmore);
      socket.send(zmq::buffer(std::string(ok ? "200" : "400")), zmq::send_flags::sndmore);
      socket.send(zmq::buffer(std::string(ok ? "OK" : "key not allowed")),
                  zmq::send_flags::sndmore);
      socket.send(zmq::buffer(ok ? KeyHex(key) : std::string()), zmq::send_flags::sndmore);
      socket.send(zmq::message_t(), zmq::send_flags::none);
    } catch (const zmq::error_t&) {
      if (stop_) break;  // context shutting down
    }
  }
}

Result<zmq::socket_t> BindServer(zmq::context_t& context, const CurveKeyPair& keys,
                                 const std::string& endpoint, std::int64_t max_message_size,
                                 std::string* bound_endpoint) {
  try {
    zmq::socket_t s(context, zmq::socket_type::router);
    CommonOptions(s, max_message_size);
    s.set(zmq::sockopt::curve_server, true);
    s.set(zmq::sockopt::curve_secretkey, zmq::const_buffer(keys.secret_key.data(), 32));
    s.set(zmq::sockopt::zap_domain, "sotto");
    s.bind(endpoint);
    if (bound_endpoint != nullptr) *bound_endpoint = s.get(zmq::sockopt::last_endpoint);
    return s;
  } catch (const zmq::error_t& e) {
    return Status::Unavailable("cannot listen on " + endpoint + ": " + e.what() +
                               " (is the address in use, or not an address of this machine?)");
  }
}

Result<zmq::socket_t> ConnectClient(zmq::context_t& context, const CurveKeyPair& keys,
                                    const LinkPublicKey& server_key, const std::string& endpoint,
                                    std::int64_t max_message_size, bool queue_until_connected) {
  try {
    zmq::socket_t s(context, zmq::socket_type::dealer);
    CommonOptions(s, max_message_size);
    s.set(zmq::sockopt::curve_serverkey, zmq::const_buffer(server_key.data(), 32));
    s.set(zmq::sockopt::curve_publickey, zmq::const_buffer(keys.public_key.data(), 32));
    s.set(zmq::sockopt::curve_secretkey, zmq::const_buffer(keys.secret_key.data(), 32));
    s.set(zmq::sockopt::immediate, !queue_until_connected);
    s.connect(endpoint);
    return s;
  } catch (const zmq::error_t& e) {
    return Status::InvalidArgument("cannot connect to " + endpoint + ": " + e.what());
  }
}

Result<Bytes> RequestReply(zmq::socket_t& socket, ByteSpan request,
                           std::chrono::milliseconds timeout, const std::string& peer,
                           const std::string& hint) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  const auto left = [&] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(deadline -
                                                                 std::chrono::steady_clock::now());
  };
  try {
    bool sent = false;  // with ZMQ_IMMEDIATE a send only succeeds on a completed handshake
    while (!sent && left().count() > 0) {
      sent = socket.send(zmq::buffer(request.data(), request.size()), zmq::send_flags::dontwait)
                 .has_value();
      if (!sent) {
        zmq::pollitem_t out{socket.handle(), 0, ZMQ_POLLOUT, 0};
        zmq::poll(&out, 1, std::chrono::milliseconds(20));
      }
    }
    zmq::pollitem_t in{socket.handle(), 0, ZMQ_POLLIN, 0};
    if (sent && left().count() > 0 && zmq::poll(&in, 1, left()) > 0) {
      zmq::message_t msg;
      if (socket.recv(msg, zmq::recv_flags::dontwait)) {
        const auto* p = static_cast<const std::uint8_t*>(msg.data());
        return Bytes(p, p + msg.size());
      }
    }
  } catch (const zmq::error_t& e) {
    return Status::Unavailable(peer + ": " + e.what());
  }
  return Status::Unavailable(peer + " did not answer within " + std::to_string(timeout.count()) +
                             " ms" + (hint.empty() ? "" : " (" + hint + ")"));
}

std::optional<LinkPublicKey> PeerKey(zmq::message_t& message) {
  const char* user = nullptr;
  try {
    user = message.gets("User-Id");
  } catch (const zmq::error_t&) {
    return std::nullopt;
  }
  if (user == nullptr) return std::nullopt;
  auto key = FixedFromHex<32>(user);
  if (!key.ok()) return std::nullopt;
  return key.value();
}

}  // namespace sotto::transport
