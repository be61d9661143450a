// sotto-mixnode configuration: every option can be given in the INI config file or as a flag
// (flags win). Parsing never exits the process; it returns a Status that says which option was
// wrong and what is allowed.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "sotto/core/directory.h"
#include "sotto/core/directory_client.h"
#include "sotto/core/status.h"
#include "sotto/mixnode/node_main.h"

namespace sotto::mixnode {

struct NodeConfig {
  std::string command;  // "init" | "run"
  std::filesystem::path state_dir;
  std::string name;
  directory::NodeRole role = directory::NodeRole::kMix;
  std::uint32_t layer = 0;
  std::string listen = "tcp://127.0.0.1:*";
  std::string advertise;  // empty: the bound endpoint
  directory::AuthorityInfo authority;
  std::string log_level = "info";
  std::filesystem::path metrics_file;  // default: <state_dir>/metrics.prom
  std::uint32_t resend_after_ms = 3000;
  bool help = false;
  std::string help_text;
  std::map<std::string, std::string> extra;  // values of the program's own options
};

// argv as given to main (argv[0] is skipped). `program` names the program in the usage and in
// errors and adds its own options (NodeProgram::options) to the flags and config keys.
Result<NodeConfig> ParseNodeConfig(int argc, const char* const* argv,
                                   const NodeProgram& program = {});

}  // namespace sotto::mixnode
