// `sotto chat NAME`: an interactive conversation with one contact. Lines read from stdin are
// sent; the daemon is asked for new messages from NAME twice a second and they are printed as
// they arrive; outgoing messages are marked once their delivery receipt comes back. Works with
// stdin a terminal or a pipe: after stdin ends it keeps listening for --linger seconds.
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <iostream>
#include <map>
#include <thread>
#include <utility>

#include "commands.h"
#include "sotto/client_lib/envelope.h"
#include "sotto/core/clock.h"
#include "terminal.h"

namespace sotto::cli {
namespace {

namespace po = boost::program_options;
using nlohmann::json;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr auto kStdinPoll = 300ms;
constexpr auto kInboxEvery = 500ms;
constexpr auto kReceiptsEvery = 2s;
constexpr std::size_t kMaxLineBytes = 64 * 1024;  // longer lines are refused, not buffered
constexpr std::int64_t kReceiptWindow = 50;       // outgoing messages checked for delivery

void Print(const std::string& line) { std::cout << line << "\n" << std::flush; }

class ChatSession {
 public:
  ChatSession(std::filesystem::path home, std::string name)
      : home_(std::move(home)), name_(std::move(name)), shown_name_(Printable(name_, false)) {
    redraw_own_lines_ = IsTerminal(STDIN_FILENO) && IsTerminal(STDOUT_FILENO);
  }

  // Prints the last messages and the hint. An exit code if the chat cannot start.
  std::optional<int> Start() {
    int code = kExitError;
    auto reply = Ask(home_, {{"cmd", "history"}, {"name", name_}, {"limit", 10}}, &code);
    if (!reply) return code;
    const auto now = NowUnix();
    if (reply->contains("messages") && (*reply)["messages"].is_array()) {
      for (const auto& m : (*reply)["messages"]) Print(HistoryLine(m, now));
    }
    Print("Chatting with " + shown_name_ +
          " through the mixnet. Type a message and press Enter; Ctrl-D to leave.");
    return std::nullopt;
  }

  int Run(std::chrono::milliseconds linger) {
    auto next_inbox = Clock::now();
    auto next_receipts = Clock::now() + kReceiptsEvery;
    std::optional<Clock::time_point> leave_at;
    while (true) {
      if (!leave_at) {
        if (auto done = ReadStdin()) return *done;
        if (quit_) return kExitOk;
        if (stdin_closed_) leave_at = Clock::now() + linger;
      } else {
        const auto now = Clock::now();
        if (now >= *leave_at) return CheckInbox().value_or(kExitOk);
        std::this_thread::sleep_for(std::min<Clock::duration>(kStdinPoll, *leave_at - now));
      }
      if (Clock::now() >= next_inbox) {
        if (auto done = CheckInbox()) return *done;
        next_inbox = Clock::now() + kInboxEvery;
      }
      if (!outgoing_.empty() && Clock::now() >= next_receipts) {
        if (auto done = CheckReceipts()) return *done;
        next_receipts = Clock::now() + kReceiptsEvery;
      }
    }
  }

 private:
  // Waits up to kStdinPoll for input and handles each complete line.
  std::optional<int> ReadStdin() {
    pollfd p{STDIN_FILENO, POLLIN, 0};
    const int n = poll(&p, 1, static_cast<int>(kStdinPoll.count()));
    if (n < 0 && errno == EINTR) return std::nullopt;
    if (n < 0) return Fail(kExitError, std::string("cannot read stdin: ") + std::strerror(errno));
    if (n == 0) return std::nullopt;
    char buf[4096];
    const ssize_t got = read(STDIN_FILENO, buf, sizeof buf);
    if (got < 0 && (errno == EINTR || errno == EAGAIN)) return std::nullopt;
    if (got <= 0) {  // EOF (Ctrl-D) or an error: the last unterminated line still counts
      stdin_closed_ = true;
      if (!pending_.empty() && !discarding_) return Line(std::exchange(pending_, {}));
      return std::nullopt;
    }
    for (ssize_t i = 0; i < got; ++i) {
      const char c = buf[i];
      if (c != '\n') {
        if (!discarding_) pending_.push_back(c);
        if (pending_.size() > kMaxLineBytes) {
          pending_.clear();
          discarding_ = true;
        }
        continue;
      }
      if (discarding_) {
        discarding_ = false;
        Fail(kExitUsage, "that line is far too long for one Sotto message; nothing was sent");
        continue;
      }
      if (auto done = Line(std::exchange(pending_, {}))) return done;
      if (quit_) return std::nullopt;
    }
    return std::nullopt;
  }

  std::optional<int> Line(std::string line) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line == "/quit") {
      quit_ = true;
      return std::nullopt;
    }
    if (line.find_first_not_of(" \t") == std::string::npos) return std::nullopt;
    if (const Status s = CheckText(line); !s.ok()) {
      Fail(kExitUsage, s.message() + "; nothing was sent");
      return std::nullopt;
    }
    Failure failure;
    auto reply = TryAsk(home_, {{"cmd", "send"}, {"to", name_}, {"text", line}}, &failure);
    if (!reply) return Trouble(failure);
    const std::string id = GetString(*reply, "id");
    if (!id.empty()) outgoing_[id] = line;
    if (redraw_own_lines_) std::cout << "\x1b[1A\x1b[2K";  // replace the echoed line
    Print("[" + FormatTime(NowUnix(), NowUnix()) + "] → " + Printable(line, false) + " (queued)");
    return std::nullopt;
  }

  std::optional<int> CheckInbox() {
    Failure failure;
    auto reply = TryAsk(home_, {{"cmd", "inbox"}, {"peek", false}, {"from", name_}}, &failure);
    if (!reply) return Trouble(failure);
    if (!reply->contains("messages") || !(*reply)["messages"].is_array()) return std::nullopt;
    const auto now = NowUnix();
    for (const auto& m : (*reply)["messages"]) Print(InboxLine(m, now));
    return std::nullopt;
  }

  std::optional<int> CheckReceipts() {
    Failure failure;
    auto reply =
        TryAsk(home_, {{"cmd", "history"}, {"name", name_}, {"limit", kReceiptWindow}}, &failure);
    if (!reply) return Trouble(failure);
    if (!reply->contains("messages") || !(*reply)["messages"].is_array()) return std::nullopt;
    std::map<std::string, std::string> still_waiting;
    for (const auto& m : (*reply)["messages"]) {
      const auto it = outgoing_.find(GetString(m, "id"));
      if (it == outgoing_.end()) continue;
      if (GetString(m, "status") == "delivered") {
        std::string preview = Printable(it->second, false);
        if (preview.size() > 40) preview = preview.substr(0, 37) + "...";
        Print("  ✓ delivered: " + preview);
      } else {
        still_waiting.insert(*it);
      }
    }
    outgoing_ = std::move(still_waiting);  // ids that left the window are no longer followed
    return std::nullopt;
  }

  // A failed request: the chat ends if the daemon is gone or the contact was removed; other
  // errors are printed (once in a row) and the chat goes on.
  std::optional<int> Trouble(const Failure& failure) {
    if (failure.exit_code == kExitNotRunning || failure.exit_code == kExitNoContact) {
      return Fail(failure.exit_code, failure.message);
    }
    if (failure.message != last_error_) Fail(failure.exit_code, failure.message);
    last_error_ = failure.message;
    return std::nullopt;
  }

  const std::filesystem::path home_;
  const std::string name_;
  const std::string shown_name_;
  bool redraw_own_lines_ = false;
  bool stdin_closed_ = false;
  bool quit_ = false;
  bool discarding_ = false;
  std::string pending_;
  std::string last_error_;
  std::map<std::string, std::string> outgoing_;  // id → text, until delivered
};

}  // namespace

int CmdChat(const Globals& g, const Args& args) {
  CommandLine cl;
  cl.name = "sotto chat";
  cl.usage = "NAME [--linger SECONDS]";
  cl.about =
      "Talks with a contact: shows your last messages, then sends each line you type and\n"
      "prints their messages as they arrive. Leave with Ctrl-D or the line /quit.\n"
      "With stdin a pipe, it sends the lines read and then listens --linger seconds more.";
  cl.options.add_options()("linger", po::value<double>()->value_name("SECONDS")->default_value(0),
                           "after stdin ends, keep showing incoming messages this long");
  cl.hidden.add_options()("name", po::value<std::string>());
  cl.positional.add("name", 1);
  Context c;
  if (auto done = Parse(cl, g, args, &c)) return *done;
  if (c.vm.count("name") == 0) {
    return Fail(kExitUsage, "usage: sotto chat NAME (see sotto chat --help)");
  }
  const std::string name = c.vm["name"].as<std::string>();
  if (name.empty() || !client::ValidateUtf8(name).ok()) {
    return Fail(kExitUsage, "the name is empty or not valid UTF-8");
  }
  const double linger = c.vm["linger"].as<double>();
  if (!(linger >= 0 && linger <= 86400)) {
    return Fail(kExitUsage, "--linger must be 0 to 86400 seconds");
  }
  ChatSession chat(c.home, name);
  if (auto done = chat.Start()) return *done;
  return chat.Run(std::chrono::milliseconds(static_cast<std::int64_t>(linger * 1000)));
}

}  // namespace sotto::cli
