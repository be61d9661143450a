// Scenario: cross-key checks, the mixes' PolicyConfig, and the text forms; the per-key parsing is
// in scenario_keys.cpp, the INI file in scenario_parse.cpp.
#include "sotto/sim/scenario.h"

#include <fmt/format.h>

#include <cmath>
#include <string>

#include "scenario_keys.h"
#include "sotto/sim/distribution.h"

namespace sotto::sim {
namespace {

mixnode::TimeUs MsToUs(double ms) { return static_cast<mixnode::TimeUs>(std::llround(ms * 1000)); }

Status Bad(std::string* key_out, std::string_view key, std::string message) {
  if (key_out != nullptr) *key_out = std::string(key);
  return Status::InvalidArgument(std::move(message));
}

constexpr std::uint64_t kMaxFriendEntries = 100'000'000;
constexpr double kMaxDummiesPerSecond = 1e9;

// Padding (min_batch) makes dummies every round, and timed and pool mixes have a round every
// period whether packets came or not (threshold-timeout mixes at most one timed-out round per
// timeout): bound the dummies the mixing nodes can make per simulated second.
Status CheckDummyRate(const Scenario& s, std::string* key) {
  if (s.min_batch == 0 || s.policy == mixnode::PolicyKind::kContinuous) return Status::Ok();
  const bool threshold = s.policy == mixnode::PolicyKind::kThresholdTimeout;
  const std::string_view timer = threshold ? "timeout_ms" : "period_ms";
  const double timer_ms = threshold ? s.timeout_ms : s.period_ms;
  std::uint64_t nodes =
      std::uint64_t{s.layers} * (s.topology == Topology::kCascade    ? 1
                                 : s.topology == Topology::kCascades ? s.cascades
                                                                     : s.mixes_per_layer);
  if (s.provider_policy == ProviderPolicy::kSame) nodes += s.providers;
  const double per_second =
      static_cast<double>(s.min_batch) * (1000.0 / timer_ms) * static_cast<double>(nodes);
  if (per_second <= kMaxDummiesPerSecond) return Status::Ok();
  return Bad(
      key, "min_batch",
      fmt::format("min_batch = {} with {} = {} lets the {} mixing nodes make up to {:.3g} "
                  "dummies per simulated second; at most {:.0e}: lower min_batch or raise "
                  "{}",
                  s.min_batch, timer, timer_ms, nodes, per_second, kMaxDummiesPerSecond, timer));
}

}  // namespace

Status CheckScenario(const Scenario& s, std::string* key) {
  // Each key's own range, for scenarios built in code: print it and parse it back through the
  // key's checked setter (doubles print in shortest round-trip form, so nothing is lost).
  for (const auto& k : ScenarioKeys()) {
    Scenario scratch;
    if (Status st = k.set(scratch, k.get(s)); !st.ok()) return Bad(key, k.name, st.message());
  }
  if (!(s.burn_in_s < s.duration_s)) {
    return Bad(key, "burn_in_s",
               fmt::format("burn_in_s = {} must be less than duration_s = {} (nothing would be "
                           "measured)",
                           s.burn_in_s, s.duration_s));
  }
  if (s.providers > s.clients) {
    return Bad(key, "providers",
               fmt::format("providers = {} is more than clients = {}: every provider needs a "
                           "client; set providers ≤ clients",
                           s.providers, s.clients));
  }
  if (s.topology == Topology::kCascade && s.cascades != 1) {
    return Bad(key, "cascades",
               fmt::format("cascades = {} with topology = cascade, which has one cascade: use "
                           "topology = cascades for several",
                           s.cascades));
  }
  if (s.topology == Topology::kCascade && s.mixes_per_layer != 1) {
    return Bad(key, "mixes_per_layer",
               fmt::format("mixes_per_layer = {} with topology = cascade, which has one mix per "
                           "layer: use topology = cascades or stratified",
                           s.mixes_per_layer));
  }
  if (s.topology == Topology::kCascades && s.cascades > s.mixes_per_layer) {
    return Bad(key, "cascades",
               fmt::format("cascades = {} is more than mixes_per_layer = {}: cascade i uses mix i "
                           "of every layer (as sotto-directory builds them), so set "
                           "mixes_per_layer to at least {}",
                           s.cascades, s.mixes_per_layer, s.cascades));
  }
  const std::uint64_t mixes = std::uint64_t{s.layers} * s.mixes_per_layer;
  if (mixes > 1'000'000) {
    return Bad(
        key, "mixes_per_layer",
        fmt::format("layers × mixes_per_layer = {} mixes: at most 1000000 are supported", mixes));
  }
  if (s.topology == Topology::kFreeRoute && s.path_length >= 2 && mixes < 2) {
    return Bad(key, "path_length",
               fmt::format("path_length = {} needs at least 2 mixes (free-route never uses the "
                           "same mix twice in a row), but layers × mixes_per_layer = {}",
                           s.path_length, mixes));
  }
  for (const std::uint32_t layer : s.corrupt_layers) {
    if (layer > s.layers) {
      return Bad(key, "corrupt_layers",
                 fmt::format("corrupt_layers names layer {}, but there are only layers = {} "
                             "(layers are numbered from 1)",
                             layer, s.layers));
    }
  }
  if (s.social_graph == SocialGraph::kFriends && s.friends > s.clients - 1) {
    return Bad(key, "friends",
               fmt::format("friends = {} is more than the clients - 1 = {} other users", s.friends,
                           s.clients - 1));
  }
  if (s.social_graph == SocialGraph::kFriends &&
      std::uint64_t{s.clients} * s.friends > kMaxFriendEntries) {
    return Bad(
        key, "friends",
        fmt::format("clients × friends = {} × {} = {} friend-table entries; at most {} "
                    "(about 400 MB): lower friends or clients",
                    s.clients, s.friends, std::uint64_t{s.clients} * s.friends, kMaxFriendEntries));
  }
  if (Status st = CheckDummyRate(s, key); !st.ok()) return st;
  if (const double budget = PruningTailBudget(s.clients); s.entropy_epsilon > budget) {
    return Bad(key, "entropy_epsilon",
               fmt::format("entropy_epsilon = {} is above {:.4g}, the most that pruned "
                           "probabilities may add up to with clients = {} if the entropy is to "
                           "stay within {} bits of the exact value (sim/README.md, \"Pruning\"); "
                           "no larger entry can be pruned, so set entropy_epsilon to at most "
                           "{:.3g} (or 0 for exact)",
                           s.entropy_epsilon, budget, s.clients, kPruningBiasBits,
                           std::floor(budget * 1e6) / 1e6));
  }
  const double real_packet_rate = s.real_rate_per_s * s.message_packets;
  if (s.payload_rate_per_s > 0 && real_packet_rate > s.payload_rate_per_s) {
    return Bad(key, "payload_rate_per_s",
               fmt::format("payload_rate_per_s = {} is below real_rate_per_s × message_packets = "
                           "{}: client queues would grow without bound; raise payload_rate_per_s, "
                           "or set it to 0 for no cover",
                           s.payload_rate_per_s, real_packet_rate));
  }
  if (Status st = s.MixPolicy().Validate(); !st.ok()) return Bad(key, "policy", st.message());
  if (key != nullptr) key->clear();
  return Status::Ok();
}

Status Scenario::Validate() const { return CheckScenario(*this, nullptr); }

mixnode::PolicyConfig Scenario::MixPolicy() const {
  mixnode::PolicyConfig c;
  c.kind = policy;
  c.threshold = batch_size;
  c.timeout_us = MsToUs(timeout_ms);
  c.period_us = MsToUs(period_ms);
  c.keep_fraction = pool_keep_fraction;
  c.min_keep = pool_min_keep;
  c.mean_delay_us = MsToUs(mean_delay_ms);
  c.min_batch = min_batch;
  return c;
}

std::string Scenario::ToIni() const {
  std::string out;
  for (const auto& key : ScenarioKeys()) {
    out += fmt::format("{} = {}\n", key.name, key.get(*this));
  }
  return out;
}

std::string Scenario::Describe() const {
  std::string shape;
  switch (topology) {
    case Topology::kCascade:
      shape = fmt::format("cascade of {} mix{}", layers, layers == 1 ? "" : "es");
      break;
    case Topology::kCascades:
      shape = fmt::format("{} cascades of {} mix{}", cascades, layers, layers == 1 ? "" : "es");
      break;
    case Topology::kStratified:
      shape = fmt::format("stratified {}×{}", layers, mixes_per_layer);
      break;
    case Topology::kFreeRoute:
      shape = fmt::format("free-route, {} hops over {} mixes", path_length,
                          std::uint64_t{layers} * mixes_per_layer);
      break;
  }
  return fmt::format("{}, {}, {} clients, {} s", shape, MixPolicy().Describe(), clients,
                     duration_s);
}

Status SetScenarioKey(Scenario& scenario, std::string_view key, std::string_view value) {
  const ScenarioKey* k = FindScenarioKey(key);
  if (k == nullptr) {
    if (auto advice = RemovedKeyAdvice(key)) return Status::InvalidArgument(*advice);
    return Status::InvalidArgument(
        fmt::format("unknown scenario key '{}' (see sotto-sim keys for the list)", key));
  }
  constexpr std::string_view kSpace = " \t\r";
  while (!value.empty() && kSpace.find(value.front()) != std::string_view::npos) {
    value.remove_prefix(1);
  }
  while (!value.empty() && kSpace.find(value.back()) != std::string_view::npos) {
    value.remove_suffix(1);
  }
  return k->set(scenario, value);
}

Result<std::string> GetScenarioKey(const Scenario& scenario, std::string_view key) {
  const ScenarioKey* k = FindScenarioKey(key);
  if (k == nullptr) return Status::NotFound(fmt::format("unknown scenario key '{}'", key));
  return k->get(scenario);
}

std::string ScenarioKeysHelp() {
  const Scenario defaults;
  std::string out;
  for (const auto& key : ScenarioKeys()) {
    out += fmt::format("  {:<20} {} (default {}; {})\n", key.name, key.help, key.get(defaults),
                       key.allowed);
  }
  return out;
}

}  // namespace sotto::sim
