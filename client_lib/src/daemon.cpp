// RunDaemon (daemon.h): the background client, three threads (papers/client-spec.md §1.1):
//   wire       WireLoop — the provider link and the traffic schedule; never waits for the others
//   directory  ConsensusKeeper — fetches the consensus on the clock's schedule
//   engine     this thread — the control socket (ControlApi) and ClientEngine: mail processing,
//              the store, the outgoing queue, receipts, expiry
// They meet only in the WireExchange.
#include "sotto/client_lib/daemon.h"

#include <sodium.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <thread>
#include <zmq.hpp>

#include "client_engine.h"
#include "consensus_keeper.h"
#include "control_api.h"
#include "sotto/client_lib/ipc.h"
#include "sotto/core/daemon.h"
#include "sotto/core/keyfile.h"
#include "wire_exchange.h"
#include "wire_loop.h"

namespace sotto::client {
namespace {

using namespace std::chrono_literals;

void Report(int& fd, const std::string& line) {
  if (fd < 0) return;
  const std::string text = line + "\n";
  [[maybe_unused]] auto n = ::write(fd, text.data(), text.size());
  ::close(fd);
  fd = -1;
}

LoopKey DeriveLoopKey(const StateKey& key) {
  LoopKey loop;
  crypto_kdf_derive_from_key(loop.data(), loop.size(), 1, "sottoloo", key.data());
  return loop;
}

}  // namespace

int RunDaemon(const std::filesystem::path& home, StateKey key, int ready_fd) {
  DisableCoreDumps();
  const auto& stop_signal = StopFlagOnSignals();
  ::umask(077);
  try {
    auto sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>((home / "sotto.log").string());
    auto logger = std::make_shared<spdlog::logger>("sotto", sink);
    logger->flush_on(spdlog::level::info);
    spdlog::set_default_logger(logger);
  } catch (const spdlog::spdlog_ex& e) {
    Report(ready_fd,
           std::string("error: cannot write the log in ") + home.string() + ": " + e.what());
    return 1;
  }
  const auto endpoint = DaemonEndpoint(home);
  if (endpoint.size() - 6 >= 107) {
    Report(ready_fd,
           "error: the home path is too long for a local socket (at most ~100 "
           "characters); use a shorter --home");
    return 2;
  }
  LoopKey loop_key = DeriveLoopKey(key);
  auto store = ClientStore::Open(home, std::move(key));
  if (!store.ok()) {
    Report(ready_fd, "error: " + store.status().message());
    return 1;
  }
  zmq::context_t context(1);
  WireExchange exchange;
  auto engine = ClientEngine::Create(std::move(store.value()), std::move(loop_key), exchange);
  if (!engine.ok()) {
    Report(ready_fd, "error: " + engine.status().message());
    return 1;
  }
  zmq::socket_t control(context, zmq::socket_type::rep);
  try {
    std::error_code ec;
    std::filesystem::remove(home / "daemon.sock", ec);  // left by a daemon that was killed
    control.set(zmq::sockopt::linger, 500);             // the reply to `shutdown` must still go out
    control.set(zmq::sockopt::maxmsgsize, std::int64_t{1} << 20);
    control.bind(endpoint);
  } catch (const zmq::error_t& e) {
    Report(ready_fd, std::string("error: cannot open the control socket: ") + e.what());
    return 1;
  }
  (void)WriteFileAtomically(home / "daemon.pid", std::to_string(::getpid()) + "\n");
  spdlog::info("sotto daemon started (pid {})", ::getpid());

  auto& client = *engine.value();
  ControlApi api(client);
  WireLoop wire(context, client.WireIdentity(), exchange);
  ConsensusKeeper directory(context, client.Authority(), client.profile().provider, exchange);
  std::thread wire_thread([&] { wire.Run(); });
  // The engine and directory threads yield the CPU to the wire thread (a lower priority, nice
  // +10, a tenth of its CPU weight; Linux sets it per thread), so that work after a fetch does
  // not even delay a packet by competing for a core. The directory thread, started after this,
  // inherits it.
  if (::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), 10) != 0) {
    spdlog::debug("could not lower the engine thread's priority");
  }
  std::thread directory_thread([&] { directory.Run(); });
  Report(ready_fd, "ok");

  bool stop = false;
  while (!stop && !stop_signal.load()) try {
      const auto wait = client.Tick();
      zmq::pollitem_t items[] = {{control.handle(), 0, ZMQ_POLLIN, 0},
                                 {nullptr, exchange.doorbell(), ZMQ_POLLIN, 0}};
      try {
        zmq::poll(items, 2, wait);
        if ((items[0].revents & ZMQ_POLLIN) == 0) continue;
        zmq::message_t request;
        if (!control.recv(request, zmq::recv_flags::dontwait)) continue;
        auto parsed = nlohmann::json::parse(
            std::string_view(static_cast<const char*>(request.data()), request.size()), nullptr,
            false);
        nlohmann::json reply =
            parsed.is_discarded() || !parsed.is_object()
                ? nlohmann::json{{"ok", false}, {"kind", "invalid"}, {"error", "not a JSON object"}}
                : api.Handle(parsed, stop);
        const auto text = reply.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        control.send(zmq::buffer(text), zmq::send_flags::none);
      } catch (const zmq::error_t& e) {
        if (e.num() == EINTR) continue;
        spdlog::error("control socket: {}", e.what());
      }
    } catch (const std::exception& e) {
      // Out of memory or a bug: keep the daemon (and the cover traffic) alive, say what happened.
      spdlog::error("unexpected error in the engine loop: {}", e.what());
      std::this_thread::sleep_for(100ms);
    }
  exchange.stop.store(true);
  wire_thread.join();
  directory_thread.join();
  spdlog::info("sotto daemon stopping");
  control.close();
  std::error_code ec;
  std::filesystem::remove(home / "daemon.sock", ec);
  std::filesystem::remove(home / "daemon.pid", ec);
  return 0;
}

}  // namespace sotto::client
