// Daemon start-up: core dumps off, stop flag on signals.
#include "sotto/core/daemon.h"

#include <signal.h>
#include <sys/resource.h>

namespace sotto {
namespace {
std::atomic<bool> g_stop{false};
void OnSignal(int) { g_stop = true; }
}  // namespace

void DisableCoreDumps() {
  struct rlimit no_core {
    0, 0
  };
  setrlimit(RLIMIT_CORE, &no_core);
}

const std::atomic<bool>& StopFlagOnSignals() {
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);
  return g_stop;
}

}  // namespace sotto
