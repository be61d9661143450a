// Internal to sotto::sim: the table of scenario keys — name, meaning, allowed values, and how to
// set (with its range check) and print each one. One table serves the INI parser, command-line
// overrides and sweeps (SetScenarioKey), ToIni and the --help text, so they cannot disagree.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sotto/core/status.h"
#include "sotto/sim/scenario.h"

namespace sotto::sim {

struct ScenarioKey {
  std::string_view name;
  std::string_view help;
  std::string allowed;  // e.g. "a number in [0, 1]", "one of cascade | cascades"
  // Parses `value` (already trimmed) into the scenario; InvalidArgument names key and range.
  std::function<Status(Scenario&, std::string_view)> set;
  std::function<std::string(const Scenario&)> get;
};

// In the documented order (the order of ToIni and of sim/README.md).
const std::vector<ScenarioKey>& ScenarioKeys();
const ScenarioKey* FindScenarioKey(std::string_view name);
// A key that existed once and was removed because its meaning changed: what to write instead
// (one line), so that an old scenario file fails instead of silently giving other results.
std::optional<std::string> RemovedKeyAdvice(std::string_view name);

// Scenario::Validate, also telling which key the error is about (for its line number).
Status CheckScenario(const Scenario& scenario, std::string* key);

}  // namespace sotto::sim
