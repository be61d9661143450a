// What the `sotto` commands share (commands.h): parsing a command's options, reading daemon
// replies, asking the daemon and turning its answers into exit codes, and printing messages.
// The commands themselves: commands_setup.cpp (init, up, down, status, receipts),
// commands_messages.cpp (contact, send, inbox, history) and chat.cpp.
#include "commands.h"

#include <algorithm>
#include <iostream>

#include "sotto/client_lib/daemon.h"
#include "sotto/client_lib/envelope.h"
#include "sotto/client_lib/ipc.h"
#include "sotto/core/options.h"
#include "terminal.h"

namespace sotto::cli {

namespace po = boost::program_options;
namespace fs = std::filesystem;
using nlohmann::json;

// --- shared ---------------------------------------------------------------------------------

std::optional<std::string> ParseReceipts(const std::string& mode, std::int64_t delay_s,
                                         client::Settings* out) {
  if (mode == "on") {
    out->receipts = client::ReceiptMode::kOn;
  } else if (mode == "off") {
    out->receipts = client::ReceiptMode::kOff;
  } else {
    return "receipts can be 'on' or 'off', not '" + Printable(mode, false) + "'";
  }
  if (delay_s < 1 || delay_s > kMaxReceiptDelayS) {
    return "the receipt delay must be 1 to " + std::to_string(kMaxReceiptDelayS) + " seconds";
  }
  out->receipt_delay_s = static_cast<std::uint32_t>(delay_s);
  return std::nullopt;
}

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

json Payload(json reply) {
  if (reply.is_object()) reply.erase("ok");
  return reply;
}

namespace {

std::string Indent(std::string text) {
  for (std::size_t i = text.find('\n'); i != std::string::npos; i = text.find('\n', i + 1)) {
    text.insert(i + 1, "    ");
  }
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
      message +=
          "; the message may still have been queued: check `sotto history` before sending "
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

}  // namespace sotto::cli
