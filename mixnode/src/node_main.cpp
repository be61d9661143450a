// RunNodeMain: what sotto-mixnode's main() does (and sotto-corrupt-node's, with a tap): parse
// the configuration, then `init` keys, show `status`, or hand over to MixNode (mix_node.h) and
// serve until SIGTERM/SIGINT.
#include "sotto/mixnode/node_main.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

#include "mix_node.h"
#include "node_config.h"
#include "node_keys.h"
#include "sotto/core/bytes.h"
#include "sotto/core/daemon.h"
#include "sotto/core/sodium.h"

namespace sotto::mixnode {
namespace {

int Fail(const NodeProgram& program, const std::string& message) {
  std::cerr << program.name << ": " << message << "\n";
  return 1;
}

// `status`: the node's endpoint and the headline figures of its metrics file. A node rewrites
// that file every second, so an old file means the node is not running.
int ShowStatus(const NodeProgram& program, const NodeConfig& config) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const auto written = fs::last_write_time(config.metrics_file, ec);
  if (ec) {
    return Fail(program, "no metrics at " + config.metrics_file.string() +
                             " (has this node ever run with --state-dir " +
                             config.state_dir.string() + "?)");
  }
  const auto age =
      std::chrono::duration_cast<std::chrono::seconds>(fs::file_time_type::clock::now() - written);
  std::ifstream endpoint(config.state_dir / "endpoint");
  std::string ep;
  std::getline(endpoint, ep);
  std::cout << "state:    " << config.state_dir.string() << "\n"
            << "endpoint: " << (ep.empty() ? "unknown" : ep) << "\n"
            << "status:   " << (age.count() <= 5 ? "running" : "not running")
            << " (metrics written " << age.count() << " s ago)\n";
  std::ifstream in(config.metrics_file);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#' || line.find("_bucket") != std::string::npos) continue;
    std::cout << "  " << line.substr(line.rfind("sotto_", 0) == 0 ? 6 : 0) << "\n";
  }
  return age.count() <= 5 ? 0 : 3;
}

}  // namespace

int RunNodeMain(int argc, char** argv, const NodeProgram& program) {
  InitSodiumOrDie();
  DisableCoreDumps();  // secrets live in this process's memory

  auto config = ParseNodeConfig(argc, argv, program);
  if (!config.ok()) return Fail(program, config.status().message());
  if (config->help) {
    std::cout << config->help_text;
    return 0;
  }
  spdlog::set_default_logger(spdlog::stderr_color_mt(program.name));
  spdlog::set_level(spdlog::level::from_str(config->log_level));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ [" + config->name + "] %v");

  if (config->command == "status") return ShowStatus(program, config.value());
  if (config->command == "init") {
    auto keys = NodeKeys::Init(config->state_dir);
    if (!keys.ok()) return Fail(program, keys.status().message());
    std::cout << "created keys for " << config->name << " in " << config->state_dir.string() << "\n"
              << "identity key: " << ToHex(keys->identity().verify_key().bytes) << "\n"
              << "link key:     " << ToHex(keys->link().public_key) << "\n"
              << "add this line to the directory authority's configuration:\n"
              << "node = " << config->name << ":" << ToHex(keys->identity().verify_key().bytes)
              << "\n";
    return 0;
  }

  std::unique_ptr<NodeTap> tap;
  if (program.make_tap) {
    auto made = program.make_tap(config->extra);
    if (!made.ok()) return Fail(program, made.status().message());
    tap = std::move(made.value());
  }

  const std::atomic<bool>& stop = StopFlagOnSignals();

  auto node = MixNode::Create(std::move(config.value()), std::move(tap));
  if (!node.ok()) return Fail(program, node.status().message());
  sotto::Status s = node.value()->Run(stop);
  if (!s.ok()) return Fail(program, s.message());
  return 0;
}

}  // namespace sotto::mixnode
