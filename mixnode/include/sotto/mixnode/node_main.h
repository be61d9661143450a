// The whole of a node program's main(): `init`, `run` and `status` of a mix or provider, with
// every option and config key of sotto-mixnode. `sotto-mixnode` calls it with the defaults;
// a program that runs the real node with a tap (sotto-corrupt-node, adversary/) names itself,
// adds its own options (listed by --help under their own heading, accepted as flags and as
// config keys) and makes the tap from their values. Call once, from main.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "sotto/core/status.h"
#include "sotto/mixnode/tap.h"

namespace sotto::mixnode {

// One extra option: always takes a value (`--name VALUE` or `name = VALUE` in the config file).
struct NodeProgramOption {
  std::string name;        // without the dashes
  std::string value_name;  // shown in --help, e.g. "P"
  std::string help;
};

struct NodeProgram {
  std::string name = "sotto-mixnode";  // in usage, errors and the log
  std::string summary;                 // a paragraph added to --help after the usage
  std::string options_heading;         // heading of the extra options in --help
  std::vector<NodeProgramOption> options;
  // `run` only: the tap to install, from the extra options given (name → value; absent ones are
  // missing). An error is printed as "<program>: <message>" and the program exits with status 1.
  std::function<Result<std::unique_ptr<NodeTap>>(const std::map<std::string, std::string>&)>
      make_tap;
};

// Returns the process exit status: 0 success, 1 any error (printed as one line on stderr),
// 3 for `status` of a node that is not running.
int RunNodeMain(int argc, char** argv, const NodeProgram& program = {});

}  // namespace sotto::mixnode
