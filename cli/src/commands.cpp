// The `sotto` commands other than chat (commands.h): init, up, down, status, contact, send, inbox,
// history, and what they share (option parsing, asking the daemon, printing messages).
#include "commands.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <thread>

#include "sotto/client_lib/daemon.h"
#include "sotto/client_lib/envelope.h"
#include "sotto/client_lib/ipc.h"
#include "sotto/client_lib/qr.h"
#include "sotto/client_lib/state_key.h"
#include "sotto/core/bytes.h"
#include "sotto/core/daemon.h"
#include "sotto/core/options.h"
#include "terminal.h"

namespace sotto::cli {

namespace po = boost::program_options;
namespace fs = std::filesystem;
using nlohmann::json;
using namespace std::chrono_literals;

// --- shared ---------------------------------------------------------------------------------

int Fail(int code, std::string_view what) {
  std::string line(what);
  std::replace(line.begin(), line.end(), '\n', ' ');
  std::cerr << "sotto: " << Printable(line, false) << std::endl;
  return code;
}

std::optional<int> Parse(CommandLine& cl, const Globals& globals, const Args& args,
                         Context* context) {
  cl.options.add_options()("home", po::value<std::string>()->value_name("DIR"),
                           "the client's home folder (default: $SOTTO_HOME, else "
                           "$XDG_DATA_HOME/sotto, else ~/.local/share/sotto)");
  if (cl.json_flag) cl.options.add_options()("json", "print JSON for programs");
  cl.options.add_options()("help,h", "show this help");
  po::options_description all;
  all.add(cl.options).add(cl.hidden);
  std::vector<const char*> argv{cl.name.c_str()};
  for (const auto& a : args) argv.push_back(a.c_str());
  auto& vm = context->vm;
  const Status parsed = ParseOptions(static_cast<int>(argv.size()), argv.data(), all, cl.positional,
                                     cl.file_options, cl.name, vm,
                                     /*allow_unknown_file_keys=*/true);
  if (!parsed.ok()) return Fail(kExitUsage, parsed.message());
  if (vm.count("help") != 0) {
    std::cout << "usage: " << cl.name << " " << cl.usage << "\n\n"
              << cl.about << "\n\n"
              << cl.options;
    return kExitOk;
  }
  if (globals.json && !cl.json_flag) {
    return Fail(kExitUsage, cl.name + " has no --json output (see " + cl.name + " --help)");
  }
  context->json = globals.json || vm.count("json") != 0;
  fs::path home;
  if (vm.count("home") != 0) {
    home = vm["home"].as<std::string>();
  } else if (globals.home) {
    home = *globals.home;
  } else {
    home = client::DefaultHome();
  }
  if (home.empty()) return Fail(kExitUsage, "--home needs a folder");
  std::error_code ec;
  const fs::path absolute = fs::absolute(home, ec);
  if (ec)
    return Fail(kExitUsage, "cannot use the home folder " + home.string() + ": " + ec.message());
  context->home = absolute.lexically_normal();
  return std::nullopt;
}

std::string GetString(const json& object, std::string_view key, std::string fallback) {
  if (!object.is_object()) return fallback;
  const auto it = object.find(key);
  if (it == object.end() || !it->is_string()) return fallback;
  return it->get<std::string>();
}

std::int64_t GetInt(const json& object, std::string_view key, std::int64_t fallback) {
  if (!object.is_object()) return fallback;
  const auto it = object.find(key);
  if (it == object.end() || !it->is_number()) return fallback;
  if (it->is_number_unsigned()) {
    const auto v = it->get<std::uint64_t>();
    return v > static_cast<std::uint64_t>(INT64_MAX) ? fallback : static_cast<std::int64_t>(v);
  }
  if (it->is_number_integer()) return it->get<std::int64_t>();
  return static_cast<std::int64_t>(it->get<double>());
}

namespace {

const json& GetObject(const json& object, std::string_view key) {
  static const json kEmpty = json::object();
  if (!object.is_object()) return kEmpty;
  const auto it = object.find(key);
  return it != object.end() && it->is_object() ? *it : kEmpty;
}

const json& GetArray(const json& object, std::string_view key) {
  static const json kEmpty = json::array();
  if (!object.is_object()) return kEmpty;
  const auto it = object.find(key);
  return it != object.end() && it->is_array() ? *it : kEmpty;
}

// The reply without its "ok" field, for --json.
json Payload(json reply) {
  if (reply.is_object()) reply.erase("ok");
  return reply;
}

// A name or code from the command line must be UTF-8 before it goes into a JSON request.
std::optional<int> CheckArgument(std::string_view what, std::string_view value) {
  if (value.empty()) return Fail(kExitUsage, std::string(what) + " is empty");
  if (const Status s = client::ValidateUtf8(value); !s.ok()) {
    return Fail(kExitUsage, std::string(what) + " is not valid UTF-8 (" + s.message() + ")");
  }
  return std::nullopt;
}

std::string Join(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) {
    if (!out.empty()) out += ' ';
    out += w;
  }
  return out;
}

std::vector<std::string> Words(const po::variables_map& vm, const char* key) {
  return vm.count(key) != 0 ? vm[key].as<std::vector<std::string>>() : std::vector<std::string>{};
}

std::string Indent(std::string text) {
  for (std::size_t i = text.find('\n'); i != std::string::npos; i = text.find('\n', i + 1)) {
    text.insert(i + 1, "    ");
  }
  return text;
}

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

// Contact subcommands.

int ContactCode(const Globals& g, const Args& args) {
  CommandLine cl;
  cl.name = "sotto contact code";
  cl.usage = "[--no-qr] [--json]";
  cl.about =
      "Shows your contact code: give it to the people you want to talk to, over a channel you\n"
      "trust (in person, a phone call). They add you with `sotto contact add NAME CODE`.\n"
      "The QR code below it holds the same code for a phone's camera.";
  cl.json_flag = true;
  cl.options.add_options()("no-qr", "print the code only, without the QR code");
  Context c;
  if (auto done = Parse(cl, g, args, &c)) return *done;
  int code = kExitError;
  auto reply = Ask(c.home, {{"cmd", "contact_code"}}, &code);
  if (!reply) return code;
  const std::string grouped = GetString(*reply, "code");
  const std::string compact = GetString(*reply, "compact");
  const std::string fingerprint = GetString(*reply, "fingerprint");
  if (c.json) {
    std::cout << DumpJson({{"code", grouped}, {"compact", compact}, {"fingerprint", fingerprint}})
              << "\n";
    return kExitOk;
  }
  std::cout << Printable(grouped, false) << "\n";
  if (c.vm.count("no-qr") != 0) return kExitOk;
  auto qr = client::RenderQrForTerminal(compact);
  if (!qr.ok()) return Fail(kExitError, "cannot draw the QR code: " + qr.status().message());
  std::cout << "\n"
            << qr.value() << "\nYour fingerprint: " << Printable(fingerprint, false)
            << " (compare it with your contacts over a channel you trust)\n";
  return kExitOk;
}

int ContactAdd(const Globals& g, const Args& args) {
  CommandLine cl;
  cl.name = "sotto contact add";
  cl.usage = "NAME CODE";
  cl.about =
      "Adds a contact from the contact code they gave you (`sotto contact code` shows theirs).\n"
      "NAME is what you will call them. A code split over several words is accepted.";
  cl.hidden.add_options()("name", po::value<std::string>())("code",
                                                            po::value<std::vector<std::string>>());
  cl.positional.add("name", 1).add("code", -1);
  Context c;
  if (auto done = Parse(cl, g, args, &c)) return *done;
  if (c.vm.count("name") == 0 || c.vm.count("code") == 0) {
    return Fail(kExitUsage, "usage: sotto contact add NAME CODE (see sotto contact add --help)");
  }
  const std::string name = c.vm["name"].as<std::string>();
  const std::string code_text = Join(Words(c.vm, "code"));
  if (auto bad = CheckArgument("the name", name)) return *bad;
  if (auto bad = CheckArgument("the contact code", code_text)) return *bad;
  int code = kExitError;
  auto reply = Ask(c.home, {{"cmd", "contact_add"}, {"name", name}, {"code", code_text}}, &code);
  if (!reply) return code;
  const std::string shown = Printable(GetString(*reply, "name", name), false);
  std::cout << "Added " << shown << " (fingerprint "
            << Printable(GetString(*reply, "fingerprint", "?"), false)
            << "). Compare the fingerprint with " << shown
            << " over a channel you trust; then `sotto send " << shown << " MESSAGE`.\n";
  return kExitOk;
}

// Display width of UTF-8 text, counting one column per code point.
std::size_t Columns(std::string_view s) {
  return static_cast<std::size_t>(
      std::count_if(s.begin(), s.end(), [](char ch) { return (ch & 0xC0) != 0x80; }));
}

int ContactList(const Globals& g, const Args& args) {
  CommandLine cl;
  cl.name = "sotto contact list";
  cl.usage = "[--json]";
  cl.about = "Lists your contacts: their name, fingerprint and provider.";
  cl.json_flag = true;
  Context c;
  if (auto done = Parse(cl, g, args, &c)) return *done;
  int code = kExitError;
  auto reply = Ask(c.home, {{"cmd", "contact_list"}}, &code);
  if (!reply) return code;
  const json& contacts = GetArray(*reply, "contacts");
  if (c.json) {
    std::cout << DumpJson({{"contacts", contacts}}) << "\n";
    return kExitOk;
  }
  if (contacts.empty()) {
    std::cout << "no contacts yet (add one with `sotto contact add NAME CODE`)\n";
    return kExitOk;
  }
  std::vector<std::array<std::string, 3>> rows{{"NAME", "FINGERPRINT", "PROVIDER"}};
  for (const auto& contact : contacts) {
    rows.push_back({Printable(GetString(contact, "name", "?"), false),
                    Printable(GetString(contact, "fingerprint", "?"), false),
                    Printable(GetString(contact, "provider", "?"), false)});
  }
  std::size_t w0 = 0, w1 = 0;
  for (const auto& r : rows) {
    w0 = std::max(w0, Columns(r[0]));
    w1 = std::max(w1, Columns(r[1]));
  }
  for (const auto& r : rows) {
    std::cout << r[0] << std::string(w0 - Columns(r[0]) + 2, ' ') << r[1]
              << std::string(w1 - Columns(r[1]) + 2, ' ') << r[2] << "\n";
  }
  return kExitOk;
}

int ContactRemove(const Globals& g, const Args& args) {
  CommandLine cl;
  cl.name = "sotto contact remove";
  cl.usage = "NAME";
  cl.about = "Removes a contact from your list.";
  cl.hidden.add_options()("name", po::value<std::string>());
  cl.positional.add("name", 1);
  Context c;
  if (auto done = Parse(cl, g, args, &c)) return *done;
  if (c.vm.count("name") == 0) {
    return Fail(kExitUsage, "usage: sotto contact remove NAME (see sotto contact remove --help)");
  }
  const std::string name = c.vm["name"].as<std::string>();
  if (auto bad = CheckArgument("the name", name)) return *bad;
  int code = kExitError;
  auto reply = Ask(c.home, {{"cmd", "contact_remove"}, {"name", name}}, &code);
  if (!reply) return code;
  std::cout << "Removed " << Printable(name, false) << ".\n";
  return kExitOk;
}

constexpr std::string_view kContactHelp =
    "usage: sotto contact SUBCOMMAND [options]\n\n"
    "Your contacts: the people whose contact codes you added.\n\n"
    "Subcommands:\n"
    "  code              show your own contact code (and its QR code) to give to people\n"
    "  add NAME CODE     add someone from the contact code they gave you\n"
    "  list              list your contacts\n"
    "  remove NAME       remove a contact\n\n"
    "`sotto contact SUBCOMMAND --help` tells more.\n";

// Reads the message for `sotto send` from stdin: at most kMaxTextBytes + 2 bytes are kept, so
// that an over-long input is reported as such without being held in memory whole.
std::optional<std::string> ReadStdinMessage(bool* too_long) {
  if (IsTerminal(STDIN_FILENO)) {
    std::cerr << "Type the message, then press Ctrl-D on a new line:\n";
  }
  std::string text;
  const std::size_t keep = client::kMaxTextBytes + 2;
  char buf[4096];
  while (true) {
    const ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return std::nullopt;
    if (n == 0) break;
    const auto got = static_cast<std::size_t>(n);
    if (text.size() < keep) text.append(buf, std::min(got, keep - text.size()));
    if (text.size() >= keep) *too_long = true;
  }
  if (!text.empty() && text.back() == '\n') text.pop_back();
  if (!text.empty() && text.back() == '\r') text.pop_back();
  return text;
}

}  // namespace

std::optional<json> TryAsk(const fs::path& home, const json& request, Failure* failure,
                           std::chrono::milliseconds timeout) {
  Result<json> r = Status::Internal("no request sent");
  try {
    r = client::IpcCall(home, request, timeout);
  } catch (const json::exception&) {
    *failure = {kExitUsage, "an argument is not valid UTF-8"};
    return std::nullopt;
  }
  if (!r.ok()) {
    const Status& s = r.status();
    const bool not_running = s.code() == Status::Code::kUnavailable &&
                             s.message().find("not running") != std::string::npos;
    std::string message = s.message();
    if (!not_running && request.value("cmd", "") == "send") {
      message += "; the message may still have been queued: check `sotto history` before sending "
                 "it again";
    }
    *failure = {not_running ? kExitNotRunning : kExitError, message};
    return std::nullopt;
  }
  const json& reply = r.value();
  if (reply.is_object() && reply.contains("ok") && reply["ok"] == true) return reply;
  const std::string kind = GetString(reply, "kind");
  failure->exit_code = kExitError;
  if (kind == "invalid") failure->exit_code = kExitUsage;
  if (kind == "not_found") failure->exit_code = kExitNoContact;
  if (kind == "unavailable") failure->exit_code = kExitNetwork;
  failure->message = GetString(reply, "error",
                               "the daemon refused the request without saying why (see "
                               "sotto.log in " +
                                   home.string() + ")");
  return std::nullopt;
}

std::optional<json> Ask(const fs::path& home, const json& request, int* exit_code,
                        std::chrono::milliseconds timeout) {
  Failure failure;
  auto reply = TryAsk(home, request, &failure, timeout);
  if (!reply) *exit_code = Fail(failure.exit_code, failure.message);
  return reply;
}

Status CheckText(std::string_view text) {
  if (text.empty()) return Status::InvalidArgument("the message is empty: nothing to send");
  if (const Status s = client::ValidateUtf8(text); !s.ok()) {
    return Status::InvalidArgument("the message is not valid UTF-8 (" + s.message() +
                                   "); save it as UTF-8 and try again");
  }
  if (text.size() > client::kMaxTextBytes) {
    return Status::InvalidArgument("the message is " + std::to_string(text.size()) +
                                   " bytes; at most " + std::to_string(client::kMaxTextBytes) +
                                   " fit in one Sotto message (split it; longer messages and "
                                   "files are not supported yet)");
  }
  return Status::Ok();
}

std::string InboxLine(const json& message, std::int64_t now_unix) {
  std::int64_t when = GetInt(message, "sent_unix");
  if (when <= 0) when = GetInt(message, "received_unix");
  return "[" + FormatTime(when, now_unix) + "] " +
         Printable(GetString(message, "from", "?"), false) + ": " +
         Indent(Printable(GetString(message, "text")));
}

std::string HistoryLine(const json& message, std::int64_t now_unix) {
  std::int64_t when = GetInt(message, "sent_unix");
  if (when <= 0) when = GetInt(message, "stored_unix");
  std::string line = "[" + FormatTime(when, now_unix) + "] ";
  const std::string text = Indent(Printable(GetString(message, "text")));
  if (GetString(message, "direction") == "out") {
    return line + "→ " + text + " (" + Printable(GetString(message, "status", "?"), false) + ")";
  }
  return line + "← " + text;
}

// --- the commands ---------------------------------------------------------------------------

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
        "the provider to register with (default: one at random)");
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
            << " real, " << num(packets, "drop") << " drop, " << num(packets, "loop") << " loop; "
            << num(packets, "bytes_each") << " bytes each\n"
            << "loops        " << num(loops, "sent") << " sent, " << num(loops, "returned")
            << " returned (last " << ago(loops, "last_return_unix") << ")\n"
            << "fetches      " << num(s, "fetches") << ", one every "
            << num(rates, "fetch_interval_ms") << " ms, last " << ago(s, "last_fetch_unix") << "\n"
            << "contacts     " << num(s, "contacts") << ", unread messages " << num(s, "unread")
            << "\n"
            << "last error   " << Printable(GetString(s, "last_error", "none"), false) << "\n";
  return kExitOk;
}

int CmdContact(const Globals& g, const Args& args) {
  // The subcommand is the first word that is not an option (or the value of --home).
  std::size_t at = args.size();
  bool help = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--") break;
    if (args[i] == "--home") {
      ++i;
      continue;
    }
    if (args[i] == "-h" || args[i] == "--help") help = true;
    if (!args[i].empty() && args[i][0] != '-') {
      at = i;
      break;
    }
  }
  if (at == args.size()) {
    if (help) {
      std::cout << kContactHelp;
      return kExitOk;
    }
    return Fail(kExitUsage,
                "sotto contact needs a subcommand: code, add, list or remove (see sotto contact "
                "--help)");
  }
  const std::string sub = args[at];
  Args rest = args;
  rest.erase(rest.begin() + static_cast<std::ptrdiff_t>(at));
  if (sub == "code") return ContactCode(g, rest);
  if (sub == "add") return ContactAdd(g, rest);
  if (sub == "list") return ContactList(g, rest);
  if (sub == "remove") return ContactRemove(g, rest);
  return Fail(kExitUsage, "unknown subcommand 'contact " + sub +
                              "' (subcommands: code, add, list, remove; see sotto contact --help)");
}

int CmdSend(const Globals& g, const Args& args) {
  CommandLine cl;
  cl.name = "sotto send";
  cl.usage = "NAME [MESSAGE...] [--expire DURATION] [--json]";
  cl.about =
      "Queues a message for a contact; it leaves in place of one of your cover packets, so\n"
      "sending looks like not sending. The words after NAME are the message; with none (or\n"
      "'-') the message is read from stdin. Put `--` before words that start with '-'.";
  cl.json_flag = true;
  cl.options.add_options()("expire", po::value<std::string>()->value_name("DURATION"),
                           "the message disappears this long after it is sent: 30s, 10m, 2h, "
                           "7d (at most 365d)");
  cl.hidden.add_options()("name", po::value<std::string>())("message",
                                                            po::value<std::vector<std::string>>());
  cl.positional.add("name", 1).add("message", -1);
  Context c;
  if (auto done = Parse(cl, g, args, &c)) return *done;
  if (c.vm.count("name") == 0) {
    return Fail(kExitUsage, "usage: sotto send NAME [MESSAGE...] (see sotto send --help)");
  }
  const std::string name = c.vm["name"].as<std::string>();
  if (auto bad = CheckArgument("the name", name)) return *bad;
  std::uint32_t expire = 0;
  if (c.vm.count("expire") != 0) {
    auto d = ParseDuration(c.vm["expire"].as<std::string>(), 365 * 86400);
    if (!d.ok()) return Fail(kExitUsage, "--expire: " + d.status().message());
    expire = d.value();
  }
  const auto words = Words(c.vm, "message");
  std::string text;
  if (words.empty() || (words.size() == 1 && words[0] == "-")) {
    bool too_long = false;
    auto in = ReadStdinMessage(&too_long);
    if (!in) return Fail(kExitError, std::string("cannot read stdin: ") + std::strerror(errno));
    if (too_long) {
      return Fail(kExitUsage, "the message is more than " + std::to_string(client::kMaxTextBytes) +
                                  " bytes, the most that fit in one Sotto message (split it; "
                                  "longer messages and files are not supported yet)");
    }
    text = std::move(*in);
  } else {
    text = Join(words);
  }
  if (const Status s = CheckText(text); !s.ok()) return Fail(kExitUsage, s.message());
  int code = kExitError;
  auto reply = Ask(
      c.home, {{"cmd", "send"}, {"to", name}, {"text", text}, {"expires_after_s", expire}}, &code);
  if (!reply) return code;
  if (c.json) {
    std::cout << DumpJson(Payload(*reply)) << "\n";
    return kExitOk;
  }
  std::cout << "Queued for " << Printable(name, false) << " (id "
            << Printable(GetString(*reply, "id", "?"), false)
            << "): it leaves in place of a cover packet.\n";
  return kExitOk;
}

int CmdInbox(const Globals& g, const Args& args) {
  CommandLine cl;
  cl.name = "sotto inbox";
  cl.usage = "[--peek] [--from NAME] [--json]";
  cl.about =
      "Shows the messages that arrived since you last looked, and marks them read. Messages\n"
      "from someone who is not in your contacts show as ?FINGERPRINT.";
  cl.json_flag = true;
  cl.options.add_options()("peek", "show them without marking them read")(
      "from", po::value<std::string>()->value_name("NAME"), "only the messages from NAME");
  Context c;
  if (auto done = Parse(cl, g, args, &c)) return *done;
  json request = {{"cmd", "inbox"}, {"peek", c.vm.count("peek") != 0}};
  if (c.vm.count("from") != 0) {
    const std::string from = c.vm["from"].as<std::string>();
    if (auto bad = CheckArgument("the name", from)) return *bad;
    request["from"] = from;
  }
  int code = kExitError;
  auto reply = Ask(c.home, request, &code);
  if (!reply) return code;
  const json& messages = GetArray(*reply, "messages");
  if (c.json) {
    std::cout << DumpJson({{"messages", messages}}) << "\n";
    return kExitOk;
  }
  if (messages.empty()) {
    std::cout << "no new messages\n";
    return kExitOk;
  }
  const std::int64_t now = NowUnix();
  for (const auto& m : messages) std::cout << InboxLine(m, now) << "\n";
  return kExitOk;
}

int CmdHistory(const Globals& g, const Args& args) {
  CommandLine cl;
  cl.name = "sotto history";
  cl.usage = "NAME [--limit N] [--json]";
  cl.about =
      "Shows your conversation with a contact, oldest first: → for what you sent (with its\n"
      "state: queued, sent or delivered) and ← for what you received.";
  cl.json_flag = true;
  cl.options.add_options()("limit", po::value<std::int64_t>()->value_name("N")->default_value(50),
                           "the last N messages");
  cl.hidden.add_options()("name", po::value<std::string>());
  cl.positional.add("name", 1);
  Context c;
  if (auto done = Parse(cl, g, args, &c)) return *done;
  if (c.vm.count("name") == 0) {
    return Fail(kExitUsage, "usage: sotto history NAME (see sotto history --help)");
  }
  const std::string name = c.vm["name"].as<std::string>();
  if (auto bad = CheckArgument("the name", name)) return *bad;
  const std::int64_t limit = c.vm["limit"].as<std::int64_t>();
  if (limit < 1 || limit > 100000) return Fail(kExitUsage, "--limit must be 1 to 100000");
  int code = kExitError;
  auto reply = Ask(c.home, {{"cmd", "history"}, {"name", name}, {"limit", limit}}, &code);
  if (!reply) return code;
  const json& messages = GetArray(*reply, "messages");
  if (c.json) {
    std::cout << DumpJson({{"messages", messages}}) << "\n";
    return kExitOk;
  }
  if (messages.empty()) {
    std::cout << "no messages with " << Printable(name, false) << " yet\n";
    return kExitOk;
  }
  const std::int64_t now = NowUnix();
  for (const auto& m : messages) std::cout << HistoryLine(m, now) << "\n";
  return kExitOk;
}

}  // namespace sotto::cli
