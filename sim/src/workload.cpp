// The workload of a scenario (workload.h): one run of the engine, every message as it is created.
#include "sotto/sim/workload.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>

#include "scenario_keys.h"
#include "sotto/sim/rng.h"

namespace sotto::sim {
namespace {

// A scenario value as JSON: a number, true/false, a list (corrupt_layers) or a string.
std::string JsonValue(std::string_view key, const std::string& text) {
  if (key == "corrupt_layers") return "[" + text + "]";
  if (text == "true" || text == "false") return text;
  double x = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), x);
  if (!text.empty() && ec == std::errc() && end == text.data() + text.size() && std::isfinite(x)) {
    return text;
  }
  return "\"" + text + "\"";  // the keys' values are plain names: nothing to escape
}

std::string JsonList(const std::vector<std::uint32_t>& values) {
  return fmt::format("[{}]", fmt::join(values, ","));
}

// A rate per second as sotto-directory's per-minute integer, if it is one.
std::string PerMinute(double rate_per_s) { return fmt::format("{}", rate_per_s * 60); }

bool WholePerMinute(double rate_per_s) {
  const double m = rate_per_s * 60;
  return std::abs(m - std::round(m)) < 1e-9 * std::max(1.0, m);
}

}  // namespace

std::string WorkloadMessageJson(const MessageRecord& m) {
  return fmt::format(
      "{{\"id\":{},\"created_us\":{},\"sender\":{},\"recipient\":{},\"packets\":{}}}", m.id,
      m.created_us, m.sender, m.recipient, m.packets);
}

std::string WorkloadHeaderJson(const Scenario& s, std::uint64_t repetition, const Layout& layout,
                               const Results& r, std::uint64_t messages) {
  std::string keys;
  for (const auto& key : ScenarioKeys()) {
    keys += fmt::format("{}\"{}\":{}", keys.empty() ? "" : ",", key.name,
                        JsonValue(key.name, key.get(s)));
  }
  std::vector<std::uint32_t> providers;
  providers.reserve(layout.client_provider.size());
  for (const std::uint32_t p : layout.client_provider) providers.push_back(p);
  std::string friends = "null";
  if (!layout.friends.empty()) {
    friends = "[";
    for (std::size_t c = 0; c < layout.friends.size(); ++c) {
      friends += (c == 0 ? "" : ",") + JsonList(layout.friends[c]);
    }
    friends += "]";
  }
  std::string corrupt;
  for (const MixName& m : r.corrupt_mixes) {
    corrupt += fmt::format("{}\"{}:{}\"", corrupt.empty() ? "" : ",", m.layer, m.index);
  }
  const bool whole = WholePerMinute(s.payload_rate_per_s) && WholePerMinute(s.loop_rate_per_s) &&
                     WholePerMinute(s.drop_rate_per_s);
  return fmt::format(
      "{{\"scenario\":{{\"workload_format\":{},{},\"repetition\":{},\"run_seed\":{},"
      "\"messages\":{},\"measured\":{{\"from_us\":{},\"until_us\":{}}},"
      "\"client_provider_rule\":\"client i uses provider i mod providers\","
      "\"client_provider\":{},\"friend_lists\":{},\"corrupt_mix_list\":[{}],"
      "\"per_minute\":{{\"payload\":{},\"loop\":{},\"drop\":{},\"real\":{},"
      "\"whole\":{}}}}}}}",
      kWorkloadFormat, keys, repetition, r.run_seed, messages,
      static_cast<std::int64_t>(std::llround(s.burn_in_s * 1e6)),
      static_cast<std::int64_t>(std::llround(s.duration_s * 1e6)), JsonList(providers), friends,
      corrupt, PerMinute(s.payload_rate_per_s), PerMinute(s.loop_rate_per_s),
      PerMinute(s.drop_rate_per_s), PerMinute(s.real_rate_per_s), whole ? "true" : "false");
}

Result<Workload> BuildWorkload(const Scenario& scenario, std::uint64_t repetition) {
  Workload w;
  Layout layout;
  RunOptions options;
  options.repetition = repetition;
  options.on_created = [&](const MessageRecord& m) { w.messages.push_back(m); };
  options.on_layout = [&](const Layout& l) { layout = l; };
  auto results = RunScenario(scenario, options);
  if (!results.ok()) return results.status();
  w.results = std::move(results).value();
  w.header = WorkloadHeaderJson(scenario, repetition, layout, w.results, w.messages.size());
  return w;
}

}  // namespace sotto::sim
