// ZeroMQ + CURVE on loopback: authenticated peers talk; unknown client keys, wrong server keys
// and oversize messages get nowhere.
#include <catch2/catch.hpp>
#include <chrono>
#include <thread>

#include <zmq_addon.hpp>

#include "sotto/core/transport.h"

namespace t = sotto::transport;
using namespace std::chrono_literals;

namespace {

std::optional<zmq::multipart_t> RecvWithin(zmq::socket_t& s, std::chrono::milliseconds timeout) {
  zmq::pollitem_t item{s.handle(), 0, ZMQ_POLLIN, 0};
  if (zmq::poll(&item, 1, timeout) == 0) return std::nullopt;
  std::vector<zmq::message_t> frames;
  do {
    frames.emplace_back();
    (void)s.recv(frames.back());
  } while (frames.back().more());
  zmq::multipart_t out;
  for (auto& f : frames) out.add(std::move(f));
  return out;
}

// Sends without blocking forever: a DEALER with ZMQ_IMMEDIATE only queues once the CURVE
// handshake is complete, so retry until `timeout`.
bool SendWithin(zmq::socket_t& s, const std::string& payload, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (s.send(zmq::buffer(payload), zmq::send_flags::dontwait)) return true;
    std::this_thread::sleep_for(10ms);
  }
  return false;
}

struct Server {
  zmq::context_t ctx;
  t::CurveKeyPair keys = t::CurveKeyPair::Generate();
  std::shared_ptr<t::AccessPolicy> policy;
  std::unique_ptr<t::ZapHandler> zap;
  zmq::socket_t socket;
  std::string endpoint;

  explicit Server(std::shared_ptr<t::AccessPolicy> p, std::int64_t max_size = 1024)
      : policy(std::move(p)) {
    zap = std::make_unique<t::ZapHandler>(ctx, policy);
    auto s = t::BindServer(ctx, keys, "tcp://127.0.0.1:*", max_size, &endpoint);
    REQUIRE(s.ok());
    socket = std::move(s.value());
  }
  ~Server() {
    socket.close();
    zap.reset();
  }
};

}  // namespace

TEST_CASE("an allowed client reaches the server, which learns the client's key", "[transport]") {
  auto client_keys = t::CurveKeyPair::Generate();
  Server server(t::AccessPolicy::AllowOnly({client_keys.public_key}));
  zmq::context_t ctx;
  auto client = t::ConnectClient(ctx, client_keys, server.keys.public_key, server.endpoint, 1024);
  REQUIRE(client.ok());
  REQUIRE(SendWithin(client.value(), "hello", 5000ms));
  auto got = RecvWithin(server.socket, 5000ms);
  REQUIRE(got.has_value());
  REQUIRE(got->size() == 2);  // routing id, payload
  CHECK(got->at(1).to_string() == "hello");
  auto peer = t::PeerKey(got->at(1));
  REQUIRE(peer.has_value());
  CHECK(*peer == client_keys.public_key);
  // And the reply finds its way back.
  server.socket.send(got->at(0), zmq::send_flags::sndmore);
  server.socket.send(zmq::str_buffer("welcome"), zmq::send_flags::none);
  auto reply = RecvWithin(client.value(), 5000ms);
  REQUIRE(reply.has_value());
  CHECK(reply->at(0).to_string() == "welcome");
  client->close();
}

TEST_CASE("a client key that is not allowed cannot connect", "[transport][security]") {
  auto allowed = t::CurveKeyPair::Generate();
  auto intruder = t::CurveKeyPair::Generate();
  Server server(t::AccessPolicy::AllowOnly({allowed.public_key}));
  zmq::context_t ctx;
  auto client = t::ConnectClient(ctx, intruder, server.keys.public_key, server.endpoint, 1024);
  REQUIRE(client.ok());
  // The handshake never completes, so the message is never even queued.
  CHECK_FALSE(SendWithin(client.value(), "let me in", 1500ms));
  CHECK_FALSE(RecvWithin(server.socket, 1500ms).has_value());
  CHECK(server.policy->rejected() >= 1);
  client->close();
}

TEST_CASE("a client holding the wrong server key cannot talk to the server", "[transport][security]") {
  auto client_keys = t::CurveKeyPair::Generate();
  Server server(t::AccessPolicy::AllowAll());
  auto impostor = t::CurveKeyPair::Generate();  // what a forged directory might claim
  zmq::context_t ctx;
  auto client = t::ConnectClient(ctx, client_keys, impostor.public_key, server.endpoint, 1024);
  REQUIRE(client.ok());
  CHECK_FALSE(SendWithin(client.value(), "secret", 1500ms));
  CHECK_FALSE(RecvWithin(server.socket, 1500ms).has_value());
  client->close();
}

TEST_CASE("oversize messages are refused by the transport", "[transport][security]") {
  auto client_keys = t::CurveKeyPair::Generate();
  Server server(t::AccessPolicy::AllowAll(), /*max_size=*/1000);
  zmq::context_t ctx;
  auto client = t::ConnectClient(ctx, client_keys, server.keys.public_key, server.endpoint, 1 << 20);
  REQUIRE(client.ok());
  REQUIRE(SendWithin(client.value(), "small", 5000ms));
  auto first = RecvWithin(server.socket, 5000ms);
  REQUIRE(first.has_value());
  CHECK(first->at(1).to_string() == "small");
  // libzmq drops the connection on a message over ZMQ_MAXMSGSIZE without allocating it.
  (void)SendWithin(client.value(), std::string(5000, 'x'), 1000ms);
  CHECK_FALSE(RecvWithin(server.socket, 1500ms).has_value());
  client->close();
}
