// sotto-mixnode: a Sotto mix node or provider. Thin: parse the configuration, then hand over to
// MixNode (mix_node.h). `init` creates keys; `run` serves until SIGTERM/SIGINT.
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

namespace {

int Fail(const std::string& message) {
  std::cerr << "sotto-mixnode: " << message << "\n";
  return 1;
}

// `status`: the node's endpoint and the headline figures of its metrics file. A node rewrites
// that file every second, so an old file means the node is not running.
int Status(const sotto::mixnode::NodeConfig& config) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const auto written = fs::last_write_time(config.metrics_file, ec);
  if (ec) {
    return Fail("no metrics at " + config.metrics_file.string() +
                " (has this node ever run with --state-dir " + config.state_dir.string() + "?)");
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

int main(int argc, char** argv) {
  sotto::InitSodiumOrDie();
  sotto::DisableCoreDumps();  // secrets live in this process's memory

  auto config = sotto::mixnode::ParseNodeConfig(argc, argv);
  if (!config.ok()) return Fail(config.status().message());
  if (config->help) {
    std::cout << config->help_text;
    return 0;
  }
  spdlog::set_default_logger(spdlog::stderr_color_mt("sotto-mixnode"));
  spdlog::set_level(spdlog::level::from_str(config->log_level));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ [" + config->name + "] %v");

  if (config->command == "status") return Status(config.value());
  if (config->command == "init") {
    auto keys = sotto::mixnode::NodeKeys::Init(config->state_dir);
    if (!keys.ok()) return Fail(keys.status().message());
    std::cout << "created keys for " << config->name << " in " << config->state_dir.string() << "\n"
              << "identity key: " << sotto::ToHex(keys->identity().verify_key().bytes) << "\n"
              << "link key:     " << sotto::ToHex(keys->link().public_key) << "\n"
              << "add this line to the directory authority's configuration:\n"
              << "node = " << config->name << ":"
              << sotto::ToHex(keys->identity().verify_key().bytes) << "\n";
    return 0;
  }

  const std::atomic<bool>& stop = sotto::StopFlagOnSignals();

  auto node = sotto::mixnode::MixNode::Create(std::move(config.value()));
  if (!node.ok()) return Fail(node.status().message());
  sotto::Status s = node.value()->Run(stop);
  if (!s.ok()) return Fail(s.message());
  return 0;
}
