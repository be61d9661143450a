// sotto-directory configuration: INI file and flags (Boost.Program_options); flags win.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>

#include "sotto/core/directory.h"
#include "sotto/core/epoch.h"
#include "sotto/core/signing.h"
#include "sotto/core/status.h"

namespace sotto::authority {

struct AuthorityConfig {
  std::string command;  // "init" | "run"
  std::filesystem::path state_dir;
  std::string listen = "tcp://127.0.0.1:7000";
  EpochClock clock;
  std::map<std::string, VerifyKey> nodes;  // the operator-approved nodes: name → identity key
  std::uint32_t cascade_length = 3;
  std::uint32_t publish_wait_s = 3;  // after an epoch starts, publish with whoever registered
  directory::NetworkParams params;
  std::string log_level = "info";
  bool help = false;
  std::string help_text;
};

Result<AuthorityConfig> ParseAuthorityConfig(int argc, const char* const* argv);

}  // namespace sotto::authority
