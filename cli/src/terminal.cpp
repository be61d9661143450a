// Terminal input and output for people (terminal.h).
#include "terminal.h"

#include <sodium.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>

#include "sotto/core/clock.h"

namespace sotto::cli {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD
constexpr std::size_t kMaxPromptAnswer = 4096;

// Restores the terminal if a signal ends the program while echo is off.
struct termios g_saved_termios;
volatile std::sig_atomic_t g_echo_off = 0;

void RestoreTerminalAndReraise(int sig) {
  if (g_echo_off != 0) tcsetattr(STDIN_FILENO, TCSAFLUSH, &g_saved_termios);
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

constexpr int kPromptSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};

// Length of the UTF-8 sequence at s[i] and its code point, or 0 if it is not well-formed.
std::size_t DecodeUtf8(std::string_view s, std::size_t i, char32_t* cp) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
  const unsigned char c = b(0);
  std::size_t len = 0;
  char32_t value = 0, min = 0;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2, value = c & 0x1Fu, min = 0x80;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3, value = c & 0x0Fu, min = 0x800;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4, value = c & 0x07u, min = 0x10000;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  for (std::size_t k = 1; k < len; ++k) {
    if ((b(k) & 0xC0u) != 0x80u) return 0;
    value = (value << 6) | (b(k) & 0x3Fu);
  }
  if (value < min || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF)) return 0;
  *cp = value;
  return len;
}

bool Hidden(char32_t cp) {
  return (cp >= 0x80 && cp <= 0x9F) ||      // C1 controls
         (cp >= 0x202A && cp <= 0x202E) ||  // bidi embeddings and overrides
         (cp >= 0x2066 && cp <= 0x2069);    // bidi isolates
}

}  // namespace

bool IsTerminal(int fd) { return isatty(fd) == 1; }

std::optional<std::string> AskHidden(std::string_view prompt) {
  if (!IsTerminal(STDIN_FILENO)) return std::nullopt;
  std::cerr << prompt << std::flush;
  struct termios off;
  const bool can_hide = tcgetattr(STDIN_FILENO, &g_saved_termios) == 0;
  struct sigaction old[std::size(kPromptSignals)];
  if (can_hide) {
    struct sigaction restore {};
    restore.sa_handler = RestoreTerminalAndReraise;
    sigemptyset(&restore.sa_mask);
    for (std::size_t k = 0; k < std::size(kPromptSignals); ++k) {
      sigaction(kPromptSignals[k], nullptr, &old[k]);
      if (old[k].sa_handler != SIG_IGN) sigaction(kPromptSignals[k], &restore, nullptr);
    }
    off = g_saved_termios;
    off.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    off.c_lflag |= static_cast<tcflag_t>(ECHONL);
    g_echo_off = 1;
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &off);
  }
  std::string line;
  line.reserve(kMaxPromptAnswer + 1);  // no reallocation, so no unwiped copies left behind
  bool got_line = false;
  while (line.size() < kMaxPromptAnswer) {
    char c = 0;
    const ssize_t n = read(STDIN_FILENO, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (c == '\n') {
      got_line = true;
      break;
    }
    line.push_back(c);
  }
  if (can_hide) {
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &g_saved_termios);
    g_echo_off = 0;
    for (std::size_t k = 0; k < std::size(kPromptSignals); ++k) {
      sigaction(kPromptSignals[k], &old[k], nullptr);
    }
  }
  if (!got_line) {
    std::cerr << "\n";
    WipeString(line);
    return std::nullopt;
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

Result<std::string> ReadPassphraseFile(const std::filesystem::path& file) {
  std::error_code ec;
  const auto perms = std::filesystem::status(file, ec).permissions();
  if (!ec && (perms & (std::filesystem::perms::group_all | std::filesystem::perms::others_all)) !=
                 std::filesystem::perms::none) {
    return Status::InvalidArgument("the passphrase file " + file.string() +
                                   " can be read by other users; restrict it with chmod 600");
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    return Status::InvalidArgument("cannot read the passphrase file " + file.string() +
                                   " (check the path and its permissions)");
  }
  std::string line;
  std::getline(in, line);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line.empty()) {
    return Status::InvalidArgument("the first line of the passphrase file " + file.string() +
                                   " is empty (put the passphrase there, or use --no-passphrase)");
  }
  return line;
}

void WipeString(std::string& s) {
  if (!s.empty()) sodium_memzero(s.data(), s.size());
  s.clear();
}

std::string Printable(std::string_view text, bool allow_newline) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      const bool ok = c == '\t' || (c == '\n' && allow_newline) || (c >= 0x20 && c != 0x7F);
      if (ok) {
        out.push_back(static_cast<char>(c));
      } else {
        out += kReplacement;
      }
      ++i;
      continue;
    }
    char32_t cp = 0;
    const std::size_t len = DecodeUtf8(text, i, &cp);
    if (len == 0 || Hidden(cp)) {
      out += kReplacement;
      i += len == 0 ? 1 : len;
    } else {
      out.append(text.substr(i, len));
      i += len;
    }
  }
  return out;
}

std::string FormatTime(std::int64_t unix_s, std::int64_t now_unix) {
  const auto t = static_cast<std::time_t>(unix_s);
  const auto now = static_cast<std::time_t>(now_unix);
  std::tm when{}, today{};
  if (localtime_r(&t, &when) == nullptr || localtime_r(&now, &today) == nullptr) return "?";
  const bool same_day = when.tm_year == today.tm_year && when.tm_yday == today.tm_yday;
  char buf[64];
  const std::size_t n =
      std::strftime(buf, sizeof buf, same_day ? "%H:%M:%S" : "%Y-%m-%d %H:%M:%S", &when);
  return n == 0 ? "?" : std::string(buf, n);
}

std::string FormatAgo(std::int64_t seconds) {
  if (seconds < 0) seconds = 0;
  if (seconds < 120) return std::to_string(seconds) + " s ago";
  if (seconds < 120 * 60) return std::to_string(seconds / 60) + " min ago";
  if (seconds < 48 * 3600) return std::to_string(seconds / 3600) + " h ago";
  return std::to_string(seconds / 86400) + " d ago";
}

Result<std::uint32_t> ParseDuration(std::string_view text, std::uint32_t max_s) {
  const auto bad = [&] {
    return Status::InvalidArgument("cannot read the duration '" + Printable(text, false) +
                                   "': use a number and a unit, like 30s, 10m, 2h or 7d");
  };
  std::size_t digits = 0;
  std::uint64_t value = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') {
    if (digits >= 12) return bad();
    value = value * 10 + static_cast<std::uint64_t>(text[digits] - '0');
    ++digits;
  }
  if (digits == 0) return bad();
  const std::string_view unit = text.substr(digits);
  std::uint64_t scale = 0;
  if (unit.empty() || unit == "s") {
    scale = 1;
  } else if (unit == "m") {
    scale = 60;
  } else if (unit == "h") {
    scale = 3600;
  } else if (unit == "d") {
    scale = 86400;
  } else {
    return bad();
  }
  const std::uint64_t seconds = value * scale;
  if (seconds == 0 || seconds > max_s) {
    return Status::InvalidArgument("the duration '" + Printable(text, false) +
                                   "' is out of range: use 1s to " + std::to_string(max_s / 86400) +
                                   "d");
  }
  return static_cast<std::uint32_t>(seconds);
}

std::string DumpJson(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace sotto::cli
