// RunDaemon: the background client's event loop (daemon.h). One thread: a REP socket for the
// commands and four timers (three Poisson packet streams and the steady fetch), plus consensus
// refreshes and expiry purges. Work is done by ClientEngine.
#include "sotto/client_lib/daemon.h"

#include <sodium.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <thread>
#include <zmq.hpp>

#include "client_engine.h"
#include "sotto/client_lib/ipc.h"
#include "sotto/core/daemon.h"
#include "sotto/core/keyfile.h"

namespace sotto::client {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

void Report(int& fd, const std::string& line) {
  if (fd < 0) return;
  const std::string text = line + "\n";
  [[maybe_unused]] auto n = ::write(fd, text.data(), text.size());
  ::close(fd);
  fd = -1;
}

// The next event of a Poisson process with `per_minute` events a minute; "never" for 0.
Clock::time_point NextPoisson(Clock::time_point now, std::uint32_t per_minute) {
  if (per_minute == 0) return Clock::time_point::max();
  const double seconds = -std::log(UniformOpenClosed(SystemRng())) * 60.0 / per_minute;
  return now + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
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
  auto engine = ClientEngine::Create(std::move(store.value()), std::move(loop_key), context);
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
  Report(ready_fd, "ok");

  auto& client = *engine.value();
  auto now = Clock::now();
  Clock::time_point next_payload = Clock::time_point::max(), next_loop = next_payload,
                    next_drop = next_payload, next_fetch = now, next_consensus = now,
                    next_purge = now;
  bool stop = false;
  const auto never = Clock::time_point::max();
  while (!stop && !stop_signal.load()) try {
      now = Clock::now();
      if (now >= next_consensus) {
        (void)client.RefreshConsensus();
        next_consensus = now + (client.HasConsensus() ? 10s : 2s);
        // A stream starts with the first consensus that gives it a rate (and stops at rate 0).
        if (const auto* p = client.Params()) {
          if (next_payload == never) next_payload = NextPoisson(now, p->send_rate_per_min);
          if (next_loop == never) next_loop = NextPoisson(now, p->cover_loop_per_min);
          if (next_drop == never) next_drop = NextPoisson(now, p->cover_drop_per_min);
        }
      }
      // Streams keep their own clocks: a late event is followed by the next draw from its time, so
      // the long-run rate is the consensus rate whatever the work in between cost.
      const auto* p = client.Params();
      if (p != nullptr && now >= next_payload) {
        client.SendOne(PacketKind::kPayload);
        next_payload = std::max(NextPoisson(next_payload, p->send_rate_per_min), now - 5s);
      }
      if (p != nullptr && now >= next_loop) {
        client.SendOne(PacketKind::kLoop);
        next_loop = std::max(NextPoisson(next_loop, p->cover_loop_per_min), now - 5s);
      }
      if (p != nullptr && now >= next_drop) {
        client.SendOne(PacketKind::kDrop);
        next_drop = std::max(NextPoisson(next_drop, p->cover_drop_per_min), now - 5s);
      }
      if (now >= next_fetch) {
        client.FetchOnce();
        next_fetch = now + std::chrono::milliseconds(p != nullptr ? p->fetch_interval_ms : 2000);
      }
      if (now >= next_purge) {
        client.Purge();
        next_purge = now + 30s;
      }
      const auto next = std::min({next_payload, next_loop, next_drop, next_fetch, next_consensus,
                                  next_purge, Clock::now() + 200ms});
      const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(next - Clock::now());
      zmq::pollitem_t item{control.handle(), 0, ZMQ_POLLIN, 0};
      try {
        zmq::poll(&item, 1, std::max(wait, 0ms));
        if ((item.revents & ZMQ_POLLIN) == 0) continue;
        zmq::message_t request;
        if (!control.recv(request, zmq::recv_flags::dontwait)) continue;
        auto parsed = nlohmann::json::parse(
            std::string_view(static_cast<const char*>(request.data()), request.size()), nullptr,
            false);
        nlohmann::json reply =
            parsed.is_discarded() || !parsed.is_object()
                ? nlohmann::json{{"ok", false}, {"kind", "invalid"}, {"error", "not a JSON object"}}
                : client.Handle(parsed, stop);
        const auto text = reply.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        control.send(zmq::buffer(text), zmq::send_flags::none);
      } catch (const zmq::error_t& e) {
        if (e.num() == EINTR) continue;
        spdlog::error("control socket: {}", e.what());
      }
    } catch (const std::exception& e) {
      // Out of memory or a bug: keep the daemon (and the cover traffic) alive, say what happened.
      spdlog::error("unexpected error in the event loop: {}", e.what());
      std::this_thread::sleep_for(100ms);
    }
  spdlog::info("sotto daemon stopping");
  control.close();
  std::error_code ec;
  std::filesystem::remove(home / "daemon.sock", ec);
  std::filesystem::remove(home / "daemon.pid", ec);
  return 0;
}

}  // namespace sotto::client
