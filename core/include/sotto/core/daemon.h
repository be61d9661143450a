// What every Sotto daemon does at start-up: keep secrets out of core files, and turn SIGTERM and
// SIGINT into a flag its event loop polls (graceful shutdown). Call once, from main.
#pragma once

#include <atomic>

namespace sotto {

// RLIMIT_CORE = 0: process memory holds secret keys and must never reach a core file.
void DisableCoreDumps();

// Installs SIGTERM/SIGINT handlers that set the returned flag, and ignores SIGPIPE.
const std::atomic<bool>& StopFlagOnSignals();

}  // namespace sotto
