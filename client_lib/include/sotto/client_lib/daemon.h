// The client's life cycle: creating a home (`sotto init`) and running the background client
// (`sotto up`) that keeps the cover traffic going, sends queued messages in place of cover
// packets, fetches mail at a steady rate and answers the commands (ipc.h).
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>

#include "sotto/client_lib/client_store.h"
#include "sotto/client_lib/state_key.h"
#include "sotto/core/directory_client.h"
#include "sotto/core/status.h"

namespace sotto::client {

// $SOTTO_HOME, else $XDG_DATA_HOME/sotto, else ~/.local/share/sotto.
std::filesystem::path DefaultHome();

struct InitOptions {
  directory::AuthorityInfo authority;
  std::string provider_name;              // empty: a random provider from the consensus
  std::optional<std::string> passphrase;  // empty: the state key is stored unwrapped
  PassphraseCost cost;
  Settings settings;  // receipts (client-spec §4.2); the defaults are the safe ones
  std::chrono::milliseconds timeout{10000};
};

struct InitResult {
  std::string provider_name;
  std::uint64_t epoch = 0;
  std::string fingerprint;
};

// Fetches and verifies the consensus, picks the provider, checks that it answers for my new
// mailbox, then creates the keys, the state key and the store. InvalidArgument if the home
// already holds a client; Unavailable if the directory or provider cannot be reached (nothing
// is left behind); CryptoError/Corruption for a forged or broken consensus.
Result<InitResult> InitClient(const std::filesystem::path& home, const InitOptions& options);

// Runs the daemon until `shutdown` or SIGTERM/SIGINT. Logs to <home>/sotto.log (never message
// contents or keys). If ready_fd >= 0 it writes "ok\n" there once it answers requests, or
// "error: ...\n" if it cannot start, then closes it. Returns the process exit code.
int RunDaemon(const std::filesystem::path& home, StateKey key, int ready_fd);

}  // namespace sotto::client
