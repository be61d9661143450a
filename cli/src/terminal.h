// What the `sotto` program reads from and shows to a person: passphrase prompts without echo,
// text made safe to print on a terminal, times and durations in human form, and JSON output that
// never throws. No Sotto state here; every function is independent of the daemon.
//
// Not thread-safe (the prompt changes the terminal's settings); the program is single-threaded.
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "sotto/core/status.h"

namespace sotto::cli {

bool IsTerminal(int fd);

// Prints `prompt` on stderr and reads one line from stdin (which must be a terminal) with echo
// off; the terminal's settings are restored afterwards, also if the user presses Ctrl-C.
// nullopt if stdin is not a terminal or was closed (Ctrl-D) before a line was entered.
std::optional<std::string> AskHidden(std::string_view prompt);

// The first line of `file`, without its line ending ("\n" or "\r\n"). InvalidArgument if the
// file cannot be read or its first line is empty.
Result<std::string> ReadPassphraseFile(const std::filesystem::path& file);

// Overwrites a string's bytes (for passphrases) before it is released.
void WipeString(std::string& s);

// `text` safe to write to a terminal: control characters (C0 except tab and, if allowed,
// newline; DEL; C1), bidirectional overrides and invalid UTF-8 become U+FFFD, so a message
// cannot move the cursor, change colours or disguise itself.
std::string Printable(std::string_view text, bool allow_newline = true);

// Local time: "14:03:09" for a time today, "2024-05-01 14:03:09" otherwise.
std::string FormatTime(std::int64_t unix_s, std::int64_t now_unix);
// "12 s ago", "5 min ago", "3 h ago", "2 d ago".
std::string FormatAgo(std::int64_t seconds);

// "30s", "10m", "2h", "7d" (or a bare number of seconds) → seconds, 1 ≤ result ≤ max_s.
// InvalidArgument saying the accepted forms otherwise.
Result<std::uint32_t> ParseDuration(std::string_view text, std::uint32_t max_s);

// Compact JSON; invalid UTF-8 in strings is replaced rather than thrown on.
std::string DumpJson(const nlohmann::json& value);

}  // namespace sotto::cli
