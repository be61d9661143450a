// Scenario files: INI text → Scenario, with Boost.Program_options (unknown keys refused) and
// error messages that carry the file name and line of the key at fault.
#include <fmt/format.h>

#include <algorithm>
#include <boost/program_options.hpp>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "scenario_keys.h"
#include "sotto/sim/scenario.h"

namespace po = boost::program_options;

namespace sotto::sim {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

struct Line {
  int number;            // 1-based
  std::string_view key;  // trimmed; empty for blank and comment lines
};

// Our own pass over the text, before Boost's: finds each key's line for error messages, and
// refuses what Boost would misread (sections, which would silently prefix keys) or report
// without a line number (a line that is not key = value).
Status ScanLines(std::string_view text, std::string_view origin, std::vector<Line>& lines) {
  int number = 0;
  for (std::size_t pos = 0; pos <= text.size();) {
    const std::size_t end = std::min(text.find('\n', pos), text.size());
    ++number;
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    line = Trim(line.substr(0, line.find('#')));
    if (line.empty()) continue;
    if (line.front() == '[') {
      return Status::InvalidArgument(fmt::format(
          "{}:{}: section header '{}' is not allowed: a scenario is flat key = value lines", origin,
          number, line));
    }
    const std::size_t eq = line.find('=');
    if (eq == std::string_view::npos || Trim(line.substr(0, eq)).empty()) {
      return Status::InvalidArgument(
          fmt::format("{}:{}: '{}' is not a 'key = value' line", origin, number, line));
    }
    lines.push_back({number, Trim(line.substr(0, eq))});
  }
  return Status::Ok();
}

// The line of the `nth` (0-based) occurrence of `key`, or 0 if it does not occur.
int LineOf(const std::vector<Line>& lines, std::string_view key, int nth = 0) {
  for (const auto& line : lines) {
    if (line.key == key && nth-- == 0) return line.number;
  }
  return 0;
}

std::string At(std::string_view origin, int line) {
  return line > 0 ? fmt::format("{}:{}: ", origin, line) : fmt::format("{}: ", origin);
}

}  // namespace

Result<Scenario> ParseScenario(std::string_view text, std::string_view origin) {
  std::vector<Line> lines;
  if (Status s = ScanLines(text, origin, lines); !s.ok()) return s;
  for (const auto& line : lines) {
    if (auto advice = RemovedKeyAdvice(line.key)) {
      return Status::InvalidArgument(At(origin, line.number) + *advice);
    }
  }

  po::options_description keys;
  for (const auto& key : ScenarioKeys()) {
    keys.add_options()(std::string(key.name).c_str(), po::value<std::string>());
  }
  po::parsed_options parsed(&keys);
  try {
    std::istringstream in{std::string(text)};
    parsed = po::parse_config_file(in, keys, /*allow_unregistered=*/false);
  } catch (const po::unknown_option& e) {
    const std::string name = e.get_option_name();
    return Status::InvalidArgument(
        fmt::format("{}unknown key '{}' (sotto-sim keys lists the {} allowed keys)",
                    At(origin, LineOf(lines, name)), name, ScenarioKeys().size()));
  } catch (const po::error& e) {
    return Status::InvalidArgument(fmt::format("{}{}", At(origin, 0), e.what()));
  }

  Scenario scenario;
  std::map<std::string, int> seen;
  for (const auto& option : parsed.options) {
    const int occurrence = seen[option.string_key]++;
    const int line = LineOf(lines, option.string_key, occurrence);
    if (occurrence > 0) {
      return Status::InvalidArgument(fmt::format("{}{} is set twice (first on line {}); keep one",
                                                 At(origin, line), option.string_key,
                                                 LineOf(lines, option.string_key)));
    }
    const std::string value = option.value.empty() ? std::string() : option.value.front();
    if (Status s = SetScenarioKey(scenario, option.string_key, value); !s.ok()) {
      return Status::InvalidArgument(At(origin, line) + s.message());
    }
  }
  std::string key;
  if (Status s = CheckScenario(scenario, &key); !s.ok()) {
    return Status::InvalidArgument(At(origin, LineOf(lines, key)) + s.message());
  }
  return scenario;
}

Result<Scenario> LoadScenario(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Status::InvalidArgument(
        fmt::format("cannot read scenario file {}: no such file or not readable", path));
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return Status::IoError(fmt::format("cannot read scenario file {}", path));
  return ParseScenario(text.str(), path);
}

}  // namespace sotto::sim
