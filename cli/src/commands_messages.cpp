// The `sotto` commands for contacts and messages: contact (code, add, list, remove), send, inbox
// and history. Each asks the background client, which holds the contacts and the messages.
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <iostream>

#include "commands.h"
#include "sotto/client_lib/envelope.h"
#include "sotto/client_lib/qr.h"
#include "sotto/core/clock.h"
#include "terminal.h"

namespace sotto::cli {

namespace po = boost::program_options;
using nlohmann::json;

namespace {

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
