// ZeroMQ with CURVE on every link: key pairs, server and client sockets, and the ZAP handler
// that decides which client keys a server accepts.
//
// Every Sotto socket is CURVE-encrypted and authenticated. A server (ROUTER) socket has the
// node's link key pair; a client (DEALER) socket must know the server's public link key — taken
// from the signed consensus — so a peer with another key cannot be talked to. On the server side
// the ZapHandler asks an AccessPolicy whether a client's public key may connect (for mixes: only
// nodes listed in the consensus) and tags each accepted connection with that key, which
// PeerKey() reads back from every received message. Every socket sets ZMQ_MAXMSGSIZE, so an
// oversize message is refused by libzmq before it is allocated.
//
// cppzmq exceptions are caught here and returned as Status. Sockets are not thread-safe (ZeroMQ
// rule): each belongs to one thread. AccessPolicy is thread-safe.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <zmq.hpp>

#include "sotto/core/bytes.h"
#include "sotto/core/secret.h"
#include "sotto/core/status.h"

namespace sotto::transport {

using LinkPublicKey = std::array<std::uint8_t, 32>;

struct CurveKeyPair {
  LinkPublicKey public_key{};
  LockedSecret<32> secret_key;

  static CurveKeyPair Generate();
  static CurveKeyPair FromSecret(LockedSecret<32> secret);
};

// Which client keys a server accepts. Thread-safe: the daemon updates it when a new consensus
// arrives while the ZAP thread reads it.
class AccessPolicy {
 public:
  // Accept any client key (providers' client port, the directory).
  static std::shared_ptr<AccessPolicy> AllowAll();
  // Accept only the listed keys (mixes: the link keys of the nodes in the consensus).
  static std::shared_ptr<AccessPolicy> AllowOnly(std::set<LinkPublicKey> keys);

  bool Allows(const LinkPublicKey& key) const;
  void Replace(std::set<LinkPublicKey> keys);  // switches to allow-list mode
  std::uint64_t rejected() const { return rejected_.load(); }
  void CountRejected() { rejected_.fetch_add(1); }

 private:
  AccessPolicy(bool allow_all, std::set<LinkPublicKey> keys)
      : allow_all_(allow_all), keys_(std::move(keys)) {}
  mutable std::mutex mu_;
  bool allow_all_;
  std::set<LinkPublicKey> keys_;
  std::atomic<std::uint64_t> rejected_{0};
};

// Serves ZAP (ZeroMQ RFC 27) for one context on inproc://zeromq.zap.01, answering CURVE
// handshakes with the policy's verdict; accepted connections get the client's key, in hex, as
// their User-Id. One per context; stops when destroyed.
class ZapHandler {
 public:
  ZapHandler(zmq::context_t& context, std::shared_ptr<AccessPolicy> policy);
  ~ZapHandler();
  ZapHandler(const ZapHandler&) = delete;
  ZapHandler& operator=(const ZapHandler&) = delete;

 private:
  void Run(zmq::socket_t socket);
  std::shared_ptr<AccessPolicy> policy_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// A ROUTER socket bound to `endpoint` ("tcp://127.0.0.1:*" picks a free port) as a CURVE server.
// `bound_endpoint` receives the actual endpoint.
Result<zmq::socket_t> BindServer(zmq::context_t& context, const CurveKeyPair& keys,
                                 const std::string& endpoint, std::int64_t max_message_size,
                                 std::string* bound_endpoint = nullptr);

// A DEALER socket connected to `endpoint` as a CURVE client that only talks to a server holding
// `server_key`. With `queue_until_connected`, messages sent before the handshake completes wait
// in the socket (node-to-node links, which resend until acknowledged anyway); without it a send
// only succeeds on an authenticated connection (ZMQ_IMMEDIATE; request/response clients).
// `max_message_size` (here and in BindServer) is the largest payload; the CURVE framing overhead
// is added internally.
Result<zmq::socket_t> ConnectClient(zmq::context_t& context, const CurveKeyPair& keys,
                                    const LinkPublicKey& server_key, const std::string& endpoint,
                                    std::int64_t max_message_size,
                                    bool queue_until_connected = false);

// One request and its reply on a DEALER made by ConnectClient (without queue_until_connected):
// sends as soon as the CURVE handshake has completed, then waits for one reply frame, all within
// `timeout`. Unavailable on timeout, naming `peer` and `hint` (what to check) in the message.
// After a timeout the socket may still receive the late reply: close it.
Result<Bytes> RequestReply(zmq::socket_t& socket, ByteSpan request,
                           std::chrono::milliseconds timeout, const std::string& peer,
                           const std::string& hint = "");

// The authenticated CURVE key of the peer that sent `message` (set by the ZapHandler).
std::optional<LinkPublicKey> PeerKey(zmq::message_t& message);

std::string KeyHex(const LinkPublicKey& key);

}  // namespace sotto::transport
