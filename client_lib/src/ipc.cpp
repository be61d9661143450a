// The commands' side of the local control protocol (ipc.h): one REQ socket per call.
#include "sotto/client_lib/ipc.h"

#include <sodium.h>

#include <string_view>
#include <zmq.hpp>

namespace sotto::client {

std::string DaemonEndpoint(const std::filesystem::path& home) {
  return "ipc://" + (home / "daemon.sock").string();
}

Result<nlohmann::json> IpcCall(const std::filesystem::path& home, const nlohmann::json& request,
                               std::chrono::milliseconds timeout) {
  const auto not_running = [&] {
    return Status::Unavailable("the sotto daemon is not running for " + home.string() +
                               " (start it with `sotto up`)");
  };
  std::error_code ec;
  if (!std::filesystem::exists(home / "daemon.sock", ec)) return not_running();
  try {
    zmq::context_t context(1);
    zmq::socket_t socket(context, zmq::socket_type::req);
    socket.set(zmq::sockopt::linger, 0);
    socket.set(zmq::sockopt::immediate, 1);
    socket.connect(DaemonEndpoint(home));
    const std::string text = request.dump();
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    // ZMQ_IMMEDIATE: the send only goes through once the daemon accepted the connection.
    while (true) {
      zmq::pollitem_t out{socket.handle(), 0, ZMQ_POLLOUT, 0};
      zmq::poll(&out, 1, std::chrono::milliseconds(50));
      if ((out.revents & ZMQ_POLLOUT) != 0) break;
      if (std::chrono::steady_clock::now() >= deadline) return not_running();
    }
    if (!socket.send(zmq::buffer(text), zmq::send_flags::dontwait)) return not_running();
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    zmq::pollitem_t in{socket.handle(), 0, ZMQ_POLLIN, 0};
    zmq::poll(&in, 1, std::max(left, std::chrono::milliseconds(1)));
    if ((in.revents & ZMQ_POLLIN) == 0) {
      return Status::Unavailable("the sotto daemon did not answer within " +
                                 std::to_string(timeout.count()) + " ms (see sotto.log in " +
                                 home.string() + ")");
    }
    zmq::message_t reply;
    if (!socket.recv(reply, zmq::recv_flags::dontwait)) {
      return Status::Unavailable("lost the reply from the sotto daemon");
    }
    auto json = nlohmann::json::parse(
        std::string_view(static_cast<const char*>(reply.data()), reply.size()), nullptr,
        /*allow_exceptions=*/false);
    if (json.is_discarded() || !json.is_object()) {
      return Status::Corruption("the sotto daemon sent an unreadable reply");
    }
    return json;
  } catch (const zmq::error_t& e) {
    return Status::Unavailable(std::string("cannot reach the sotto daemon: ") + e.what());
  }
}

std::string Fingerprint(const PublicKey& identity) {
  static constexpr std::string_view kLabel = "sotto-fingerprint";
  std::array<std::uint8_t, 32> digest{};
  crypto_generichash_state state;
  crypto_generichash_init(&state, nullptr, 0, digest.size());
  crypto_generichash_update(&state, reinterpret_cast<const std::uint8_t*>(kLabel.data()),
                            kLabel.size());
  crypto_generichash_update(&state, identity.bytes.data(), identity.bytes.size());
  crypto_generichash_final(&state, digest.data(), digest.size());
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < 16; ++i) {
    if (i > 0 && i % 2 == 0) out += '-';
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 0xf];
  }
  return out;
}

}  // namespace sotto::client
