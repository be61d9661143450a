// The `sotto` commands. Each one parses its own arguments (those after the command's name, with
// Boost.Program_options), asks the background client over the local control socket (ipc.h) or
// calls the life-cycle functions (daemon.h), prints for people or as JSON, and returns the
// program's exit code. Errors are one line on stderr: "sotto: <what went wrong, what to do>".
//
// The commands live in commands_setup.cpp (init, up, down, status, receipts), commands_messages.cpp
// (contact, send, inbox, history) and chat.cpp; commands.cpp has what they share.
// Single-threaded; the functions write to stdout/stderr.
#pragma once

#include <boost/program_options.hpp>
#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sotto/client_lib/client_store.h"
#include "sotto/core/status.h"

namespace sotto::cli {

// The exit codes, as `sotto --help` documents them.
enum ExitCode : int {
  kExitOk = 0,
  kExitError = 1,       // internal or unexpected
  kExitUsage = 2,       // bad arguments or invalid input (code, UTF-8, length, passphrase)
  kExitNotRunning = 3,  // the daemon is not running
  kExitNoContact = 4,   // no such contact
  kExitNetwork = 5,     // the directory or provider cannot be reached, no consensus
};

inline constexpr std::chrono::milliseconds kRequestTimeout{10000};
inline constexpr std::chrono::milliseconds kPingTimeout{2000};

// Options given before the command's name ("sotto --home DIR status").
struct Globals {
  std::optional<std::string> home;
  bool json = false;
};

using Args = std::vector<std::string>;

int CmdInit(const Globals& globals, const Args& args);
int CmdUp(const Globals& globals, const Args& args);
int CmdDown(const Globals& globals, const Args& args);
int CmdStatus(const Globals& globals, const Args& args);
int CmdContact(const Globals& globals, const Args& args);  // code | add | list | remove
int CmdSend(const Globals& globals, const Args& args);
int CmdInbox(const Globals& globals, const Args& args);
int CmdHistory(const Globals& globals, const Args& args);
int CmdChat(const Globals& globals, const Args& args);  // chat.cpp
int CmdReceipts(const Globals& globals, const Args& args);

// --- shared by the commands ---------------------------------------------------------------

// Prints "sotto: <what>" (on one line) to stderr and returns `code`.
int Fail(int code, std::string_view what);

// One command's command line. Parse() adds --home, -h/--help and (if `json_flag`) --json.
struct CommandLine {
  std::string name;   // "sotto send"
  std::string usage;  // "NAME [MESSAGE...] [options]"
  std::string about;  // a few lines saying what the command does
  bool json_flag = false;
  boost::program_options::options_description options{"Options"};
  boost::program_options::options_description hidden;  // the positional arguments
  boost::program_options::positional_options_description positional;
  boost::program_options::options_description file_options;  // keys allowed in --config
};

struct Context {
  std::filesystem::path home;  // absolute
  bool json = false;
  boost::program_options::variables_map vm;
};

// Parses `args`. Returns an exit code if the command is done: 0 after printing --help, 2 after a
// usage error. Otherwise fills `context` and returns nullopt.
std::optional<int> Parse(CommandLine& cl, const Globals& globals, const Args& args,
                         Context* context);

// Why a request to the daemon failed: the exit code and the one-line message.
struct Failure {
  int exit_code = kExitError;
  std::string message;
};

// Sends a request to the daemon. On success returns the reply (an object with "ok": true);
// otherwise fills *failure and returns nullopt. Exit codes: the daemon not running → 3, reply
// kinds invalid → 2, not_found → 4, unavailable → 5, anything else → 1.
std::optional<nlohmann::json> TryAsk(const std::filesystem::path& home,
                                     const nlohmann::json& request, Failure* failure,
                                     std::chrono::milliseconds timeout = kRequestTimeout);

// TryAsk that also prints the failure (Fail) and stores its exit code in *exit_code.
std::optional<nlohmann::json> Ask(const std::filesystem::path& home, const nlohmann::json& request,
                                  int* exit_code,
                                  std::chrono::milliseconds timeout = kRequestTimeout);

// The receipt setting from "on"/"off" and a mean delay in seconds; the error text otherwise.
std::optional<std::string> ParseReceipts(const std::string& mode, std::int64_t delay_s,
                                         client::Settings* out);
inline constexpr std::int64_t kMaxReceiptDelayS = 7 * 24 * 3600;

// OK if `text` can be sent: not empty, well-formed UTF-8, at most kMaxTextBytes bytes.
Status CheckText(std::string_view text);

// "[14:03:09] alice: hello" (an inbox message) and "[14:03:09] → hello (delivered)" /
// "[14:03:09] ← hi" (a history entry); safe to print on a terminal.
std::string InboxLine(const nlohmann::json& message, std::int64_t now_unix);
std::string HistoryLine(const nlohmann::json& message, std::int64_t now_unix);

// Reading daemon replies without exceptions: the fallback if the field is missing or of
// another type.
std::string GetString(const nlohmann::json& object, std::string_view key,
                      std::string fallback = "");
std::int64_t GetInt(const nlohmann::json& object, std::string_view key, std::int64_t fallback = 0);
// The object or array at `key`; an empty one if it is missing or of another type.
const nlohmann::json& GetObject(const nlohmann::json& object, std::string_view key);
const nlohmann::json& GetArray(const nlohmann::json& object, std::string_view key);

// The reply without its "ok" field, for --json.
nlohmann::json Payload(nlohmann::json reply);

}  // namespace sotto::cli
