// sotto-directory: the Sotto directory authority. Thin: parse the configuration, then hand over
// to Authority (authority.h). `init` creates the keys; `run` serves until SIGTERM/SIGINT.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <iostream>

#include "authority.h"
#include "sotto/core/bytes.h"
#include "sotto/core/daemon.h"
#include "sotto/core/keyfile.h"
#include "sotto/core/sodium.h"

namespace {

int Fail(const std::string& message) {
  std::cerr << "sotto-directory: " << message << "\n";
  return 1;
}

int Init(const sotto::authority::AuthorityConfig& config) {
  if (auto s = sotto::EnsurePrivateDirectory(config.state_dir); !s.ok()) return Fail(s.message());
  std::error_code ec;
  if (std::filesystem::exists(config.state_dir / "signing.key", ec)) {
    return Fail("authority keys already exist in " + config.state_dir.string() +
                " (refusing to overwrite them)");
  }
  auto signing = sotto::SigningKey::Generate();
  auto link = sotto::transport::CurveKeyPair::Generate();
  if (auto s = sotto::WriteKeyFile(config.state_dir / "signing.key", signing.seed()); !s.ok()) {
    return Fail(s.message());
  }
  if (auto s = sotto::WriteKeyFile(config.state_dir / "link.key", link.secret_key); !s.ok()) {
    return Fail(s.message());
  }
  std::cout << "created directory authority keys in " << config.state_dir.string() << "\n"
            << "configure every node and client with:\n"
            << "directory-verify-key = " << sotto::ToHex(signing.verify_key().bytes) << "\n"
            << "directory-link-key = " << sotto::ToHex(link.public_key) << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  sotto::InitSodiumOrDie();
  sotto::DisableCoreDumps();  // secrets live in this process's memory
  auto config = sotto::authority::ParseAuthorityConfig(argc, argv);
  if (!config.ok()) return Fail(config.status().message());
  if (config->help) {
    std::cout << config->help_text;
    return 0;
  }
  spdlog::set_default_logger(spdlog::stderr_color_mt("sotto-directory"));
  spdlog::set_level(spdlog::level::from_str(config->log_level));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ [directory] %v");
  if (config->command == "init") return Init(config.value());

  const std::atomic<bool>& stop = sotto::StopFlagOnSignals();
  auto authority = sotto::authority::Authority::Create(std::move(config.value()));
  if (!authority.ok()) return Fail(authority.status().message());
  auto s = authority.value()->Run(stop);
  return s.ok() ? 0 : Fail(s.message());
}
