// The `sotto` commands that set up and run the background client: init (a new identity), up
// (start the daemon, detached or in the foreground), down (stop it), status, and receipts (the
// delivery receipt setting).
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <thread>

#include "commands.h"
#include "sotto/client_lib/daemon.h"
#include "sotto/client_lib/ipc.h"
#include "sotto/client_lib/state_key.h"
#include "sotto/core/bytes.h"
#include "sotto/core/clock.h"
#include "sotto/core/daemon.h"
#include "terminal.h"

namespace sotto::cli {

namespace po = boost::program_options;
namespace fs = std::filesystem;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

int ExitForInitError(const Status& s) {
  switch (s.code()) {
    case Status::Code::kInvalidArgument:
      return kExitUsage;
    case Status::Code::kUnavailable:
    case Status::Code::kNotFound:  // the authority has no consensus yet
    case Status::Code::kCryptoError:
    case Status::Code::kCorruption:  // a forged or broken consensus
      return kExitNetwork;
    default:
      return kExitError;
  }
}

// The passphrase for `sotto init`: from --passphrase-file, none with --no-passphrase, else asked
// twice on the terminal (an empty answer means none).
std::optional<int> InitPassphrase(const Context& c, std::optional<std::string>* passphrase) {
  const auto& vm = c.vm;
  if (vm.count("no-passphrase") != 0) return std::nullopt;
  if (vm.count("passphrase-file") != 0) {
    auto p = ReadPassphraseFile(vm["passphrase-file"].as<std::string>());
    if (!p.ok()) return Fail(kExitUsage, p.status().message());
    *passphrase = std::move(p.value());
  } else {
    if (!IsTerminal(STDIN_FILENO)) {
      return Fail(kExitUsage,
                  "no terminal to ask for a passphrase: give --passphrase-file FILE or "
                  "--no-passphrase");
    }
    auto first = AskHidden("Passphrase to protect your Sotto state (empty for none): ");
    if (!first) return Fail(kExitUsage, "no passphrase entered; nothing was created");
    if (first->empty()) {
      std::cerr << "sotto: warning: no passphrase; your state in " << c.home.string()
                << " is protected only by file permissions\n";
      return std::nullopt;
    }
    auto second = AskHidden("The same passphrase again: ");
    const bool same = second && *second == *first;
    if (second) WipeString(*second);
    if (!same) {
      WipeString(*first);
      return Fail(kExitUsage,
                  "the two passphrases differ; nothing was created (run `sotto init` "
                  "again)");
    }
    *passphrase = std::move(*first);
  }
  if ((*passphrase)->size() < client::kMinPassphraseLength) {
    WipeString(**passphrase);
    return Fail(kExitUsage, "the passphrase is too short: use at least " +
                                std::to_string(client::kMinPassphraseLength) +
                                " characters (or --no-passphrase)");
  }
  return std::nullopt;
}

// The passphrase for `sotto up`, if the state key needs one.
std::optional<int> UpPassphrase(const Context& c, std::optional<std::string>* passphrase) {
  if (c.vm.count("passphrase-file") != 0) {
    auto p = ReadPassphraseFile(c.vm["passphrase-file"].as<std::string>());
    if (!p.ok()) return Fail(kExitUsage, p.status().message());
    *passphrase = std::move(p.value());
    return std::nullopt;
  }
  if (!IsTerminal(STDIN_FILENO)) {
    return Fail(kExitUsage,
                "your state is protected by a passphrase and there is no terminal to ask for it: "
                "give --passphrase-file FILE");
  }
  auto answer = AskHidden("Passphrase for your Sotto state in " + c.home.string() + ": ");
  if (!answer) return Fail(kExitUsage, "no passphrase entered");
  *passphrase = std::move(*answer);
  return std::nullopt;
}

std::optional<std::int64_t> PingPid(const fs::path& home, std::chrono::milliseconds timeout) {
  auto r = client::IpcCall(home, {{"cmd", "ping"}}, timeout);
  if (!r.ok() || !r->is_object() || !r->contains("ok") || (*r)["ok"] != true) return std::nullopt;
  return GetInt(*r, "pid", -1);
}

// Reads the daemon's start-up report ("ok\n" or "error: ...\n") from the pipe, for at most 30 s.
std::string ReadReadyLine(int fd) {
  std::string line;
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (line.size() < 4096 && line.find('\n') == std::string::npos) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return "timeout";
    pollfd p{fd, POLLIN, 0};
    const int n = poll(&p, 1, static_cast<int>(left.count()));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) continue;
    char buf[256];
    const ssize_t got = read(fd, buf, sizeof buf);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    line.append(buf, static_cast<std::size_t>(got));
  }
  if (const auto nl = line.find('\n'); nl != std::string::npos) line.resize(nl);
  return line;
}

// The grandchild of `sotto up`: a session leader's child, detached from the terminal.
[[noreturn]] void BecomeDaemon(const fs::path& home, client::StateKey key, int ready_fd) {
  // Memory locks are not inherited across fork(): copy the key into freshly locked memory.
  client::StateKey locked = key.Clone();
  { client::StateKey old = std::move(key); }
  umask(077);
  if (chdir("/") != 0) {
    // Keep going: the daemon uses absolute paths only.
  }
  const int null = open("/dev/null", O_RDWR);
  if (null >= 0) {
    dup2(null, STDIN_FILENO);
    dup2(null, STDOUT_FILENO);
    dup2(null, STDERR_FILENO);
    if (null > STDERR_FILENO) close(null);
  }
  // Anything the daemon's libraries print (a crash report, a sanitizer finding) goes to its log,
  // not nowhere. The daemon itself never writes secrets or message text there.
  const int log =
      open((home / "sotto.log").c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (log >= 0) {
    dup2(log, STDERR_FILENO);
    close(log);
  }
  _exit(client::RunDaemon(home, std::move(locked), ready_fd));
}

void WriteAll(int fd, std::string_view text) {
  while (!text.empty()) {
    const ssize_t n = write(fd, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    text.remove_prefix(static_cast<std::size_t>(n));
  }
}

int Daemonize(const fs::path& home, client::StateKey key) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    return Fail(kExitError, std::string("cannot create a pipe: ") + std::strerror(errno));
  }
  const pid_t child = fork();
  if (child < 0) {
    return Fail(kExitError, std::string("cannot start the daemon: ") + std::strerror(errno));
  }
  if (child == 0) {
    close(fds[0]);
    setsid();
    const pid_t grandchild = fork();
    if (grandchild < 0) {
      WriteAll(fds[1],
               std::string("error: cannot start the daemon: ") + std::strerror(errno) + "\n");
      _exit(1);
    }
    if (grandchild > 0) _exit(0);
    BecomeDaemon(home, std::move(key), fds[1]);
  }
  close(fds[1]);
  { client::StateKey gone = std::move(key); }  // the daemon has its own copy
  int ignored = 0;
  while (waitpid(child, &ignored, 0) < 0 && errno == EINTR) {
  }
  const std::string line = ReadReadyLine(fds[0]);
  close(fds[0]);
  const std::string log = (home / "sotto.log").string();
  if (line == "ok") {
    const auto pid = PingPid(home, kPingTimeout);
    std::cout << "sotto is up";
    if (pid && *pid > 0) std::cout << " (pid " << *pid << ")";
    std::cout << ": cover traffic is flowing and mail is fetched in the background.\n"
                 "See `sotto status`; the log is "
              << log << ".\n";
    return kExitOk;
  }
  if (line.rfind("error: ", 0) == 0) return Fail(kExitError, line.substr(7) + " (see " + log + ")");
  if (line == "timeout") {
    return Fail(kExitError,
                "the daemon did not report that it was ready within 30 s (see " + log + ")");
  }
  return Fail(kExitError, "the daemon stopped while starting (see " + log + ")");
}

}  // namespace

int CmdInit(const Globals& g, const Args& args) {
  CommandLine cl;
  cl.name = "sotto init";
  cl.usage =
      "[--config FILE] [--directory ENDPOINT --directory-link-key HEX --directory-verify-key "
      "HEX]\n       [--provider NAME] [--passphrase-file FILE | --no-passphrase]";
  cl.about =
      "Creates your Sotto identity in the home folder: fetches and checks the network's\n"
      "directory, picks a provider (your mailbox), and makes your keys. Your state is encrypted\n"
      "with a key that your passphrase protects; without a passphrase only the file\n"
      "permissions protect it. A testnet writes a config file with the directory's settings:\n"
      "  sotto init --config .testnet/client.ini";
  const auto network = [](po::options_description& d) {
    d.add_options()("directory", po::value<std::string>()->value_name("ENDPOINT"),
                    "the directory authority's endpoint, e.g. tcp://127.0.0.1:7000")(
        "directory-link-key", po::value<std::string>()->value_name("HEX"),
        "the authority's CURVE public key (64 hex digits)")(
        "directory-verify-key", po::value<std::string>()->value_name("HEX"),
        "the authority's signing key (64 hex digits)")(
        "epoch-length-s", po::value<std::int64_t>()->value_name("N")->default_value(3600),
        "the network's epoch length in seconds")(
        "genesis-unix", po::value<std::int64_t>()->value_name("N")->default_value(0),
        "the Unix time at which epoch 0 began")(
        "provider", po::value<std::string>()->value_name("NAME"),
        "the provider to register with (default: one at random)")(
        "receipts", po::value<std::string>()->value_name("on|off")->default_value("on"),
        "send delivery receipts, each after a random delay (see sotto receipts --help)")(
        "receipt-delay-s", po::value<std::int64_t>()->value_name("N")->default_value(900),
        "mean delay of a receipt, in seconds (at least half of it, always)");
  };
  cl.options.add_options()("config", po::value<std::string>()->value_name("FILE"),
                           "an INI file with any of the options below (flags win)");
  network(cl.options);
  network(cl.file_options);
  cl.options.add_options()("passphrase-file", po::value<std::string>()->value_name("FILE"),
                           "read the passphrase from the first line of FILE")(
      "no-passphrase", "no passphrase: only file permissions protect your state");
  Context c;
  if (auto done = Parse(cl, g, args, &c)) return *done;
  const auto& vm = c.vm;
  if (vm.count("passphrase-file") != 0 && vm.count("no-passphrase") != 0) {
    return Fail(kExitUsage, "give either --passphrase-file or --no-passphrase, not both");
  }
  client::InitOptions options;
  if (vm.count("directory") == 0 || vm.count("directory-link-key") == 0 ||
      vm.count("directory-verify-key") == 0) {
    return Fail(kExitUsage,
                "sotto init needs --directory, --directory-link-key and --directory-verify-key "
                "(or --config FILE with them; see sotto init --help)");
  }
  options.authority.address = vm["directory"].as<std::string>();
  auto link = FixedFromHex<32>(vm["directory-link-key"].as<std::string>());
  auto verify = FixedFromHex<32>(vm["directory-verify-key"].as<std::string>());
  if (!link.ok() || !verify.ok()) {
    return Fail(kExitUsage, "--directory-link-key and --directory-verify-key need 64 hex digits");
  }
  options.authority.link_key = link.value();
  options.authority.verify_key.bytes = verify.value();
  const std::int64_t epoch_length = vm["epoch-length-s"].as<std::int64_t>();
  if (epoch_length < 1 || epoch_length > 7 * 86400) {
    return Fail(kExitUsage, "--epoch-length-s must be 1 to 604800 seconds");
  }
  options.authority.clock.length_s = static_cast<std::uint32_t>(epoch_length);
  options.authority.clock.genesis_unix = vm["genesis-unix"].as<std::int64_t>();
  if (vm.count("provider") != 0) options.provider_name = vm["provider"].as<std::string>();
  if (auto bad = ParseReceipts(vm["receipts"].as<std::string>(),
                               vm["receipt-delay-s"].as<std::int64_t>(), &options.settings)) {
    return Fail(kExitUsage, *bad);
  }
  std::error_code ec;
  if (fs::exists(c.home / "state.key", ec)) {
    return Fail(kExitUsage, c.home.string() +
                                " already holds a Sotto identity (use another --home, or move it "
                                "away to start over)");
  }
  DisableCoreDumps();  // the passphrase and new keys are in memory from here on
  if (auto done = InitPassphrase(c, &options.passphrase)) return *done;
  auto result = client::InitClient(c.home, options);
  if (options.passphrase) WipeString(*options.passphrase);
  if (!result.ok()) return Fail(ExitForInitError(result.status()), result.status().message());
  std::cout << "Created your Sotto identity (fingerprint " << Printable(result->fingerprint, false)
            << ") in " << c.home.string() << ", registered with "
            << Printable(result->provider_name, false)
            << ".\nNext: `sotto up`, then `sotto contact code` to get your contact code.\n";
  return kExitOk;
}

int CmdUp(const Globals& g, const Args& args) {
  CommandLine cl;
  cl.name = "sotto up";
  cl.usage = "[--foreground] [--passphrase-file FILE]";
  cl.about =
      "Starts the background client: it keeps cover traffic flowing, sends your messages in\n"
      "place of cover packets, and fetches your mail at a steady rate. It asks for your\n"
      "passphrase if your state has one. `sotto down` stops it.";
  cl.options.add_options()("foreground", "stay in the foreground (for systemd or debugging)")(
      "passphrase-file", po::value<std::string>()->value_name("FILE"),
      "read the passphrase from the first line of FILE");
  Context c;
  if (auto done = Parse(cl, g, args, &c)) return *done;
  if (const auto pid = PingPid(c.home, kPingTimeout)) {
    std::cout << "sotto is already running (pid " << *pid << ")\n";
    return kExitOk;
  }
  std::error_code ec;
  if (!fs::exists(c.home / "state.key", ec)) {
    return Fail(kExitUsage,
                "no Sotto identity in " + c.home.string() + " (run `sotto init` first)");
  }
  DisableCoreDumps();
  auto needs = client::StateKeyNeedsPassphrase(c.home);
  if (!needs.ok()) return Fail(kExitError, needs.status().message());
  std::optional<std::string> passphrase;
  if (needs.value()) {
    if (auto done = UpPassphrase(c, &passphrase)) return *done;
  }
  auto key = client::OpenStateKey(c.home, passphrase);
  if (passphrase) WipeString(*passphrase);
  if (!key.ok()) {
    const Status& s = key.status();
    if (s.code() == Status::Code::kCryptoError) {
      return Fail(kExitUsage, "wrong passphrase for " + c.home.string() + " (try again)");
    }
    return Fail(s.code() == Status::Code::kInvalidArgument ? kExitUsage : kExitError, s.message());
  }
  if (c.vm.count("foreground") != 0) {
    std::cerr << "sotto: running in the foreground (pid " << getpid()
              << "); Ctrl-C or `sotto down` stops it; the log is "
              << (c.home / "sotto.log").string() << "\n";
    return client::RunDaemon(c.home, std::move(key.value()), -1);
  }
  std::cout << std::flush;
  std::cerr << std::flush;
  return Daemonize(c.home, std::move(key.value()));
}

int CmdDown(const Globals& g, const Args& args) {
  CommandLine cl;
  cl.name = "sotto down";
  cl.usage = "[options]";
  cl.about = "Stops the background client. Queued messages stay queued and leave after `sotto up`.";
  Context c;
  if (auto done = Parse(cl, g, args, &c)) return *done;
  const auto pid = PingPid(c.home, kPingTimeout);
  if (!pid) {
    std::cout << "sotto is not running\n";
    return kExitOk;
  }
  // The daemon may stop before its reply is through: a lost reply is not an error, the daemon
  // is down once its process is gone (its store closed), not just when the socket went quiet.
  Failure failure;
  if (!TryAsk(c.home, {{"cmd", "shutdown"}}, &failure, kPingTimeout) &&
      failure.message.find("did not answer") == std::string::npos &&
      failure.exit_code != kExitNotRunning) {
    return Fail(failure.exit_code, failure.message);
  }
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < deadline) {
    const bool answers = PingPid(c.home, 500ms).has_value();
    const bool alive = *pid > 0 && kill(static_cast<pid_t>(*pid), 0) == 0;
    if (!answers && !alive) {
      std::cout << "sotto is down\n";
      return kExitOk;
    }
    std::this_thread::sleep_for(100ms);
  }
  return Fail(kExitError, "the daemon (pid " + std::to_string(*pid) +
                              ") is still running after 10 s (see " +
                              (c.home / "sotto.log").string() + ")");
}

int CmdStatus(const Globals& g, const Args& args) {
  CommandLine cl;
  cl.name = "sotto status";
  cl.usage = "[--json]";
  cl.about =
      "Shows what the background client is doing: its provider, the network's epoch and\n"
      "directory, the send queue, the cover traffic, and the last error.";
  cl.json_flag = true;
  Context c;
  if (auto done = Parse(cl, g, args, &c)) return *done;
  int code = kExitError;
  auto reply = Ask(c.home, {{"cmd", "status"}}, &code);
  if (!reply) return code;
  if (c.json) {
    std::cout << DumpJson(Payload(*reply)) << "\n";
    return kExitOk;
  }
  const json& s = *reply;
  const json& rates = GetObject(s, "rates");
  const json& packets = GetObject(s, "packets");
  const json& loops = GetObject(s, "loops");
  const std::int64_t now = NowUnix();
  const auto num = [](const json& o, std::string_view k) {
    const auto v = GetInt(o, k, -1);
    return v < 0 ? std::string("?") : std::to_string(v);
  };
  const auto rate = [&](std::string_view k) {
    if (!rates.contains(k) || !rates[std::string(k)].is_number()) return std::string("?");
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f", rates[std::string(k)].get<double>());
    return std::string(buf);
  };
  const auto ago = [&](const json& o, std::string_view k) {
    const auto t = GetInt(o, k, 0);
    return t > 0 ? FormatAgo(now - t) : std::string("never");
  };
  const json& resent_o = GetObject(packets, "resent");
  const json& given_up_o = GetObject(packets, "given_up");
  const std::string resent = num(resent_o, "real") + " real + " + num(resent_o, "cover") + " cover";
  const std::string given_up =
      num(given_up_o, "real") + " real + " + num(given_up_o, "cover") + " cover";
  const json& receipts = GetObject(s, "receipts");
  const std::string receipts_line =
      GetString(receipts, "mode", "?") == "on"
          ? "on: in your next message to them, else on their own after a random delay (" +
                num(receipts, "delay_s") + " s on average); " + num(receipts, "waiting") +
                " waiting, " + num(receipts, "in_texts") + " sent inside messages"
          : "off: none are sent";
  const std::string connected =
      s.contains("connected") && s["connected"].is_boolean() && s["connected"].get<bool>()
          ? "connected"
          : "not connected";
  std::cout << "sotto is running in " << c.home.string() << "\n"
            << "provider     " << Printable(GetString(s, "provider", "?"), false) << " ("
            << connected << ")\n"
            << "epoch        " << num(s, "epoch") << ", consensus "
            << Printable(GetString(s, "consensus", "?"), false) << "\n"
            << "queue        " << num(s, "queue") << " message(s) waiting for a send slot\n"
            << "cover        send " << rate("send_per_min")
            << "/min (a queued message, else a drop), loop " << rate("loop_per_min")
            << "/min, drop " << rate("drop_per_min") << "/min\n"
            << "packets      " << num(packets, "total") << " sent: " << num(packets, "real")
            << " real, " << num(packets, "drop") << " drop, " << num(packets, "loop") << " loop, "
            << resent << " resent; " << num(packets, "bytes_each") << " bytes each\n"
            << "acks         " << num(packets, "pending_acks") << " pending (at most "
            << num(packets, "pending_acks_max") << "), " << given_up << " given up\n"
            << "loops        " << num(loops, "sent") << " sent, " << num(loops, "returned")
            << " returned (last " << ago(loops, "last_return_unix") << ")\n"
            << "fetches      " << num(s, "fetches") << ", one every "
            << num(rates, "fetch_interval_ms") << " ms, last " << ago(s, "last_fetch_unix") << "\n"
            << "receipts     " << receipts_line << "\n"
            << "contacts     " << num(s, "contacts") << ", unread messages " << num(s, "unread")
            << "\n"
            << "last error   " << Printable(GetString(s, "last_error", "none"), false) << "\n";
  return kExitOk;
}

}  // namespace sotto::cli

namespace sotto::cli {

int CmdReceipts(const Globals& g, const Args& args) {
  CommandLine cl;
  cl.name = "sotto receipts";
  cl.usage = "[on|off] [--delay-s N] [--json]";
  cl.about =
      "Shows or changes whether your client sends delivery receipts. A receipt tells the sender\n"
      "that your client stored their message. It rides inside your next message to them, or\n"
      "else leaves on its own after a random delay (at least half of N seconds, N on average;\n"
      "default 900), so that its timing does not tie your fetch of the message to new mail for\n"
      "the sender. 'off' sends none (and deletes those still waiting). Without arguments: the\n"
      "current setting.";
  cl.json_flag = true;
  cl.options.add_options()("delay-s", po::value<std::int64_t>()->value_name("N"),
                           "the mean delay of a receipt, in seconds (1 to 604800)");
  cl.hidden.add_options()("mode", po::value<std::string>());
  cl.positional.add("mode", 1);
  Context c;
  if (auto done = Parse(cl, g, args, &c)) return *done;
  json request{{"cmd", "receipts"}};
  if (c.vm.count("mode") != 0 || c.vm.count("delay-s") != 0) {
    client::Settings check;
    const std::string mode = c.vm.count("mode") != 0 ? c.vm["mode"].as<std::string>() : "on";
    const std::int64_t delay =
        c.vm.count("delay-s") != 0 ? c.vm["delay-s"].as<std::int64_t>() : 900;
    if (auto bad = ParseReceipts(mode, delay, &check)) return Fail(kExitUsage, *bad);
    if (c.vm.count("mode") != 0) request["mode"] = mode;
    if (c.vm.count("delay-s") != 0) request["delay_s"] = delay;
  }
  int code = kExitError;
  auto reply = Ask(c.home, request, &code);
  if (!reply) return code;
  if (c.json) {
    std::cout << DumpJson(Payload(*reply)) << "\n";
    return kExitOk;
  }
  if (GetString(*reply, "mode") == "on") {
    std::cout << "receipts are on: each rides in your next message to that person, or else "
                 "leaves on its own after a random delay of "
              << GetInt(*reply, "delay_s") << " s on average (at least half of it); "
              << GetInt(*reply, "waiting") << " waiting\n";
  } else {
    std::cout << "receipts are off: none are sent\n";
  }
  return kExitOk;
}

}  // namespace sotto::cli
