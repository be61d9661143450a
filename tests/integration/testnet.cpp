// Integration-test network: real daemons as child processes.
#include "testnet.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>
#include <thread>

#include "sotto/core/bytes.h"
#include "sotto/core/mailbox.h"

extern char** environ;

namespace sotto::testing {
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

std::string Bin(const std::string& name) {
  if (name == "sotto-directory") return std::string(SOTTO_BIN_DIR) + "/directory/sotto-directory";
  if (name == "sotto-corrupt-node")
    return std::string(SOTTO_BIN_DIR) + "/adversary/sotto-corrupt-node";
  return std::string(SOTTO_BIN_DIR) + "/mixnode/sotto-mixnode";
}

std::string Slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string After(const std::string& text, const std::string& prefix) {
  auto pos = text.find(prefix);
  REQUIRE(pos != std::string::npos);
  auto end = text.find('\n', pos);
  return text.substr(pos + prefix.size(), end - pos - prefix.size());
}

pid_t Spawn(const std::vector<std::string>& argv, const fs::path& log) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  REQUIRE(rc == 0);
  return pid;
}

}  // namespace

std::string RunCommand(const std::vector<std::string>& argv) {
  std::string cmd;
  for (const auto& a : argv) cmd += "'" + a + "' ";
  FILE* p = popen((cmd + "2>&1").c_str(), "r");
  REQUIRE(p != nullptr);
  std::string out;
  char buf[512];
  while (fgets(buf, sizeof buf, p)) out += buf;
  const int status = pclose(p);
  INFO(cmd << "\n" << out);
  REQUIRE(status == 0);
  return out;
}

Testnet::Testnet(TestnetOptions options) : options_(options), corrupt_(options.corrupt) {
  char tmpl[] = "/tmp/sotto-testnet-XXXXXX";
  REQUIRE(mkdtemp(tmpl) != nullptr);
  dir_ = tmpl;
  const std::string init =
      RunCommand({Bin("sotto-directory"), "init", "--state-dir", (dir_ / "directory").string()});
  authority_.link_key = FixedFromHex<32>(After(init, "directory-link-key = ")).value();
  authority_.verify_key.bytes = FixedFromHex<32>(After(init, "directory-verify-key = ")).value();
  authority_.clock.length_s = options_.epoch_length_s;
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  authority_.clock.genesis_unix = now / options_.epoch_length_s * options_.epoch_length_s;

  std::vector<std::string> dir_args = {Bin("sotto-directory"),
                                       "run",
                                       "--state-dir",
                                       (dir_ / "directory").string(),
                                       "--listen",
                                       "tcp://127.0.0.1:*",
                                       "--epoch-length-s",
                                       std::to_string(options_.epoch_length_s),
                                       "--genesis-unix",
                                       std::to_string(authority_.clock.genesis_unix),
                                       "--publish-wait-s",
                                       "2",
                                       "--mixing-policy",
                                       options_.mixing_policy,
                                       "--batch-size",
                                       std::to_string(options_.batch_size),
                                       "--batch-timeout-ms",
                                       std::to_string(options_.batch_timeout_ms),
                                       "--min-batch",
                                       std::to_string(options_.min_batch)};
  std::vector<std::string> nodes;
  int layer = 1;
  for (const char* n : kMixes) {
    const std::string out =
        RunCommand({Bin("sotto-mixnode"), "init", "--state-dir", (dir_ / n).string(), "--name", n,
                    "--role", "mix", "--layer", std::to_string(layer++)});
    dir_args.push_back("--node");
    dir_args.push_back(After(out, "node = "));
    nodes.push_back(n);
  }
  for (const char* n : kProviders) {
    const std::string out = RunCommand({Bin("sotto-mixnode"), "init", "--state-dir",
                                        (dir_ / n).string(), "--name", n, "--role", "provider"});
    dir_args.push_back("--node");
    dir_args.push_back(After(out, "node = "));
    nodes.push_back(n);
  }
  argv_["directory"] = dir_args;
  Start("directory");
  for (int i = 0; i < 100 && !fs::exists(dir_ / "directory" / "endpoint"); ++i)
    std::this_thread::sleep_for(100ms);
  std::string endpoint = Slurp(dir_ / "directory" / "endpoint");
  REQUIRE(!endpoint.empty());
  endpoint.pop_back();
  authority_.address = endpoint;
  for (const auto& n : nodes) {
    const bool provider = n.rfind("provider", 0) == 0;
    argv_[n] = {Bin("sotto-mixnode"),
                "run",
                "--state-dir",
                (dir_ / n).string(),
                "--name",
                n,
                "--role",
                provider ? "provider" : "mix",
                "--layer",
                provider ? "0" : std::string(1, n.back()),
                "--directory",
                endpoint,
                "--directory-link-key",
                ToHex(authority_.link_key),
                "--directory-verify-key",
                ToHex(authority_.verify_key.bytes),
                "--epoch-length-s",
                std::to_string(options_.epoch_length_s),
                "--genesis-unix",
                std::to_string(authority_.clock.genesis_unix),
                "--resend-after-ms",
                std::to_string(options_.resend_after_ms)};
    Start(n);
  }
}

Testnet::~Testnet() {
  for (auto& [name, pid] : pids_) {
    if (pid > 0) kill(pid, SIGKILL);
  }
  for (auto& [name, pid] : pids_) {
    if (pid > 0) waitpid(pid, nullptr, 0);
  }
  std::error_code ec;
  if (!getenv("SOTTO_KEEP_TESTNET")) fs::remove_all(dir_, ec);
}

void Testnet::Start(const std::string& node) {
  REQUIRE_FALSE(Running(node));
  // Reuse the bound port on restart: the consensus still names it.
  auto args = argv_.at(node);
  if (auto c = corrupt_.find(node); c != corrupt_.end()) {
    args[0] = Bin("sotto-corrupt-node");
    args.push_back("--record");
    args.push_back(RecordingPath(node).string());
    args.insert(args.end(), c->second.begin(), c->second.end());
  }
  const fs::path endpoint_file = dir_ / node / "endpoint";
  if (node != "directory" && fs::exists(endpoint_file)) {
    std::string ep = Slurp(endpoint_file);
    ep.pop_back();
    args.push_back("--listen");
    args.push_back(ep);
  }
  pids_[node] = Spawn(args, dir_ / (node + ".log"));
}

bool Testnet::Running(const std::string& node) const {
  auto it = pids_.find(node);
  if (it == pids_.end() || it->second <= 0) return false;
  return waitpid(it->second, nullptr, WNOHANG) == 0;
}

void Testnet::Stop(const std::string& node) {
  const pid_t pid = pids_.at(node);
  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
  pids_[node] = -1;
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}

void Testnet::Kill9(const std::string& node) {
  const pid_t pid = pids_.at(node);
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  pids_[node] = -1;
}

double Testnet::Metric(const std::string& node, const std::string& name) const {
  // Sums every series of the metric, whatever its labels.
  std::ifstream in(dir_ / node / "metrics.prom");
  std::string line;
  double sum = 0;
  while (std::getline(in, line)) {
    if (line.rfind(name, 0) != 0 || line.size() <= name.size()) continue;
    const char next = line[name.size()];
    if (next != ' ' && next != '{') continue;
    sum += std::stod(line.substr(line.rfind(' ') + 1));
  }
  return sum;
}

bool Testnet::WaitForMetric(const std::string& node, const std::string& name, double value,
                            std::chrono::seconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (Metric(node, name) >= value) return true;
    std::this_thread::sleep_for(100ms);
  }
  return false;
}

std::string Testnet::Log(const std::string& node) const { return Slurp(dir_ / (node + ".log")); }

void Testnet::ForgetEndpoint(const std::string& node) {
  REQUIRE_FALSE(Running(node));
  fs::remove(dir_ / node / "endpoint");
}

void Testnet::SetCorrupt(const std::string& node, std::optional<std::vector<std::string>> flags) {
  REQUIRE_FALSE(Running(node));
  if (flags) {
    corrupt_[node] = std::move(*flags);
  } else {
    corrupt_.erase(node);
  }
}

std::vector<nlohmann::json> Testnet::Recording(const std::string& node) const {
  std::ifstream in(RecordingPath(node));
  std::vector<nlohmann::json> events;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    auto event = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    // Only the last line may be cut short (the node flushes while running).
    if (event.is_discarded() && in.peek() == EOF) break;
    INFO(node << ": " << line);
    REQUIRE_FALSE(event.is_discarded());
    events.push_back(std::move(event));
  }
  return events;
}

Clients::Clients(directory::Consensus c) {
  Refresh(std::move(c));
  bob_mailbox = MailboxForLinkKey(bob.public_key);
}

void Clients::Refresh(directory::Consensus c) {
  alice_link.reset();
  bob_link.reset();
  consensus = std::move(c);
  pa = pb = nullptr;
  for (const auto* p : consensus.Providers()) {
    if (p->name == "provider-1") pa = p;
    if (p->name == "provider-2") pb = p;
  }
  REQUIRE(pa != nullptr);
  REQUIRE(pb != nullptr);
  alice_link = std::make_unique<client::ProviderLink>(ctx, alice, *pa);
  bob_link = std::make_unique<client::ProviderLink>(ctx, bob, *pb);
}

std::vector<nlohmann::json> Events(const std::vector<nlohmann::json>& recording,
                                   const std::string& ev) {
  std::vector<nlohmann::json> out;
  for (const auto& e : recording) {
    if (e.at("ev") == ev) out.push_back(e);
  }
  return out;
}

std::vector<nlohmann::json> Settled(const Testnet& net, const std::string& node) {
  std::this_thread::sleep_for(1200ms);
  return net.Recording(node);
}

std::uint64_t LinkId(const nlohmann::json& hex) {
  return std::stoull(hex.get<std::string>(), nullptr, 16);
}

Bytes Clients::Packet(const std::string& text) {
  auto path = client::BuildPath(consensus, pa->id(), 0, pb->id());
  REQUIRE(path.ok());
  auto p = sphinx::CreateForwardPacket(
      path.value(), bob_mailbox,
      ByteSpan(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
  REQUIRE(p.ok());
  return p.value();
}

std::vector<std::string> Clients::Receive(std::size_t count, std::chrono::seconds timeout) {
  std::vector<std::string> got;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (got.size() < count && std::chrono::steady_clock::now() < deadline) {
    auto items = bob_link->Fetch(bob_mailbox, 64, 5000ms);
    if (!items.ok()) {
      std::this_thread::sleep_for(200ms);
      continue;
    }
    std::vector<std::uint64_t> ids;
    for (const auto& i : items.value()) {
      if (wire::IsPadding(i)) continue;
      got.emplace_back(i.payload.begin(), i.payload.end());
      ids.push_back(i.id);
    }
    if (!ids.empty())
      REQUIRE(bob_link->Ack(bob_mailbox, ids, 5000ms).ok());
    else
      std::this_thread::sleep_for(150ms);
  }
  return got;
}

directory::Consensus Testnet::WaitForConsensus(std::chrono::seconds timeout) {
  zmq::context_t ctx;
  auto keys = transport::CurveKeyPair::Generate();
  directory::DirectoryClient client(ctx, keys, authority_);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string last;
  while (std::chrono::steady_clock::now() < deadline) {
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    auto c = client.FetchConsensus(authority_.clock.EpochAt(now), now, 2000ms);
    if (c.ok() && c->nodes.size() == 5) {
      // ...and every node works from a document that lists everyone.
      bool all = true;
      for (const char* n : {"mix-1", "mix-2", "mix-3", "provider-1", "provider-2"}) {
        all = all && Metric(n, "sotto_consensus_nodes") >= 5;
      }
      if (all) return c.value();
    }
    last = c.ok() ? "only " + std::to_string(c->nodes.size()) + " nodes" : c.status().message();
    std::this_thread::sleep_for(200ms);
  }
  FAIL("no complete consensus: " << last << "\n" << Log("directory"));
  return {};
}

}  // namespace sotto::testing
