// The scenario key table (scenario_keys.h): each key's meaning, range, parser and printer.
#include "scenario_keys.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <optional>
#include <utility>

namespace sotto::sim {
namespace {

constexpr double kMaxSeconds = 1e7;    // about 116 days of simulated time
constexpr double kMaxMs = 86'400'000;  // one day, as mixnode's PolicyConfig allows
constexpr double kMinMs = 0.001;       // one microsecond
constexpr double kMaxRate = 1e6;       // per second per client
// Smallest non-zero rate: one event per 11.6 days on average. Smaller rates would put the next
// draw beyond any run (kMaxSeconds) and, at 1e-13 and below, beyond what a TimeUs can hold.
constexpr double kMinRate = 1e-6;
constexpr std::uint64_t kMaxCount = 1'000'000;

Status OutOfRange(std::string_view key, std::string_view value, std::string_view allowed) {
  return Status::InvalidArgument(
      fmt::format("{} = '{}' is not allowed: it must be {}", key, value, allowed));
}

std::string FormatDouble(double v) { return fmt::format("{}", v); }

// A finite decimal number, the whole text.
bool ParseDouble(std::string_view text, double& out) {
  if (text.empty()) return false;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size() && std::isfinite(out);
}

// A whole number without sign, the whole text.
bool ParseUnsigned(std::string_view text, std::uint64_t& out) {
  if (text.empty()) return false;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

// A real in [lo, hi], or (lo, hi] when lo_open.
ScenarioKey Real(std::string_view name, double Scenario::*field, double lo, double hi, bool lo_open,
                 std::string_view help) {
  std::string allowed = fmt::format("a number in {}{}, {}]", lo_open ? "(" : "[", lo, hi);
  return {name, help, allowed,
          [=](Scenario& s, std::string_view v) {
            double x = 0;
            if (!ParseDouble(v, x) || x > hi || x < lo || (lo_open && x == lo)) {
              return OutOfRange(name, v, allowed);
            }
            s.*field = x;
            return Status::Ok();
          },
          [=](const Scenario& s) { return FormatDouble(s.*field); }};
}

ScenarioKey Count(std::string_view name, std::uint32_t Scenario::*field, std::uint64_t lo,
                  std::uint64_t hi, std::string_view help) {
  std::string allowed = fmt::format("a whole number in [{}, {}]", lo, hi);
  return {name, help, allowed,
          [=](Scenario& s, std::string_view v) {
            std::uint64_t x = 0;
            if (!ParseUnsigned(v, x) || x < lo || x > hi) return OutOfRange(name, v, allowed);
            s.*field = static_cast<std::uint32_t>(x);
            return Status::Ok();
          },
          [=](const Scenario& s) { return fmt::format("{}", s.*field); }};
}

// A rate per second: 0 (the stream is off) or a number in [kMinRate, kMaxRate].
ScenarioKey Rate(std::string_view name, double Scenario::*field, std::string_view help) {
  std::string allowed = fmt::format("0 or a number in [{}, {}] per second", kMinRate, kMaxRate);
  return {name, help, allowed,
          [=](Scenario& s, std::string_view v) {
            double x = 0;
            if (!ParseDouble(v, x) || !(x == 0 || (x >= kMinRate && x <= kMaxRate))) {
              return OutOfRange(name, v, allowed);
            }
            s.*field = x;
            return Status::Ok();
          },
          [=](const Scenario& s) { return FormatDouble(s.*field); }};
}

template <class E>
ScenarioKey Choice(std::string_view name, E Scenario::*field,
                   std::vector<std::pair<E, std::string_view>> names, std::string_view help) {
  std::string allowed = "one of ";
  for (std::size_t i = 0; i < names.size(); ++i) {
    allowed += (i > 0 ? " | " : "") + std::string(names[i].second);
  }
  return {name, help, allowed,
          [=](Scenario& s, std::string_view v) {
            for (const auto& [value, text] : names) {
              if (text == v) {
                s.*field = value;
                return Status::Ok();
              }
            }
            return OutOfRange(name, v, allowed);
          },
          [=](const Scenario& s) {
            for (const auto& [value, text] : names) {
              if (value == s.*field) return std::string(text);
            }
            return std::string("?");
          }};
}

ScenarioKey Bool(std::string_view name, bool Scenario::*field, std::string_view help) {
  std::string allowed = "true or false";
  return {name, help, allowed,
          [=](Scenario& s, std::string_view v) {
            if (v == "true" || v == "1" || v == "yes") {
              s.*field = true;
            } else if (v == "false" || v == "0" || v == "no") {
              s.*field = false;
            } else {
              return OutOfRange(name, v, allowed);
            }
            return Status::Ok();
          },
          [=](const Scenario& s) { return std::string(s.*field ? "true" : "false"); }};
}

ScenarioKey Seed() {
  std::string allowed = "a whole number in [0, 18446744073709551615]";
  return {"seed", "master seed: the same seed gives byte-identical results", allowed,
          [=](Scenario& s, std::string_view v) {
            std::uint64_t x = 0;
            if (!ParseUnsigned(v, x)) return OutOfRange("seed", v, allowed);
            s.seed = x;
            return Status::Ok();
          },
          [](const Scenario& s) { return fmt::format("{}", s.seed); }};
}

ScenarioKey CorruptLayers() {
  std::string allowed = "a comma-separated list of layer numbers in [1, 64], or empty";
  return {"corrupt_layers", "every mix of these layers is corrupt (e.g. 1,3)", allowed,
          [=](Scenario& s, std::string_view v) {
            std::vector<std::uint32_t> layers;
            while (!v.empty()) {
              const std::size_t comma = v.find(',');
              std::string_view item = v.substr(0, comma);
              while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
              while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
              std::uint64_t x = 0;
              if (!ParseUnsigned(item, x) || x < 1 || x > 64) {
                return OutOfRange("corrupt_layers", v, allowed);
              }
              if (std::find(layers.begin(), layers.end(), x) == layers.end()) {
                layers.push_back(static_cast<std::uint32_t>(x));
              }
              if (comma == std::string_view::npos) break;
              v.remove_prefix(comma + 1);
            }
            std::sort(layers.begin(), layers.end());
            s.corrupt_layers = std::move(layers);
            return Status::Ok();
          },
          [](const Scenario& s) { return fmt::format("{}", fmt::join(s.corrupt_layers, ",")); }};
}

std::vector<ScenarioKey> BuildKeys() {
  using S = Scenario;
  using mixnode::PolicyKind;
  std::vector<ScenarioKey> k;
  k.push_back(Seed());
  k.push_back(Real("duration_s", &S::duration_s, 0, kMaxSeconds, true,
                   "simulated time during which measured messages are created, seconds"));
  k.push_back(Real("burn_in_s", &S::burn_in_s, 0, kMaxSeconds, false,
                   "messages created before this are not measured (warm-up), seconds"));
  k.push_back(Real("drain_s", &S::drain_s, 0, kMaxSeconds, false,
                   "after duration_s, run on until measured messages arrive, at most this long"));
  k.push_back(Count("clients", &S::clients, 2, 10'000'000, "number of users"));
  k.push_back(Count("providers", &S::providers, 1, 100'000,
                    "number of providers; client i uses provider i mod providers"));
  k.push_back(Choice<Topology>("topology", &S::topology,
                               {{Topology::kCascade, "cascade"},
                                {Topology::kCascades, "cascades"},
                                {Topology::kStratified, "stratified"},
                                {Topology::kFreeRoute, "free-route"}},
                               "how packets choose their mixes"));
  k.push_back(Count("cascades", &S::cascades, 1, 100'000,
                    "topology cascades: number of parallel cascades (one per packet, uniformly)"));
  k.push_back(Count("layers", &S::layers, 1, 64, "mixes per cascade, or layers of mixes"));
  k.push_back(Count("mixes_per_layer", &S::mixes_per_layer, 1, 100'000,
                    "mixes in each layer (cascades, stratified, free-route)"));
  k.push_back(Count("path_length", &S::path_length, 1, 64, "topology free-route: mixes per path"));
  k.push_back(Choice<PolicyKind>("policy", &S::policy,
                                 {{PolicyKind::kThresholdTimeout, "threshold-timeout"},
                                  {PolicyKind::kTimed, "timed"},
                                  {PolicyKind::kPool, "pool"},
                                  {PolicyKind::kContinuous, "continuous"}},
                                 "the mixes' policy (mixnode/policy.h)"));
  k.push_back(Count("batch_size", &S::batch_size, 1, kMaxCount, "threshold-timeout: threshold n"));
  k.push_back(Real("timeout_ms", &S::timeout_ms, kMinMs, kMaxMs, false,
                   "threshold-timeout: a round ends this long after its first packet"));
  k.push_back(Real("period_ms", &S::period_ms, kMinMs, kMaxMs, false, "timed and pool: period"));
  k.push_back(Real("pool_keep_fraction", &S::pool_keep_fraction, 0, 0.999999, false,
                   "pool: fraction of the pool kept each round"));
  k.push_back(Count("pool_min_keep", &S::pool_min_keep, 0, kMaxCount,
                    "pool: at least this many packets kept each round"));
  k.push_back(Real("mean_delay_ms", &S::mean_delay_ms, kMinMs, kMaxMs, false,
                   "continuous: mean of the exponential delay"));
  k.push_back(Count("min_batch", &S::min_batch, 0, kMaxCount,
                    "batch policies: pad every round with dummies to this size"));
  k.push_back(Choice<ProviderPolicy>(
      "provider_policy", &S::provider_policy,
      {{ProviderPolicy::kPassThrough, "pass-through"}, {ProviderPolicy::kSame, "same"}},
      "providers forward at once, or mix with the mixes' policy (as sotto-mixnode does)"));
  k.push_back(Bool("provider_dummies", &S::provider_dummies,
                   "mixing providers pad rounds to min_batch too (sotto-mixnode's do not)"));
  k.push_back(Real("link_latency_ms", &S::link_latency_ms, 0, kMaxMs, false,
                   "latency of every hop, constant, milliseconds"));
  k.push_back(Real("processing_us", &S::processing_us, 0, 1e6, false,
                   "per packet per node: one at a time, rounds released between drains; "
                   "microseconds"));
  k.push_back(
      Rate("real_rate_per_s", &S::real_rate_per_s, "real messages written per client per second"));
  k.push_back(Rate("payload_rate_per_s", &S::payload_rate_per_s,
                   "payload stream per client (a real packet if queued, else drop cover); "
                   "0 = no cover: real messages leave at once"));
  k.push_back(Rate("loop_rate_per_s", &S::loop_rate_per_s,
                   "loop cover per client (back to its own provider); 0 = off"));
  k.push_back(Rate("drop_rate_per_s", &S::drop_rate_per_s,
                   "drop cover per client (to a random provider); 0 = off"));
  k.push_back(Choice<Arrivals>("arrivals", &S::arrivals,
                               {{Arrivals::kPoisson, "poisson"}, {Arrivals::kPeriodic, "periodic"}},
                               "client streams: Poisson, or periodic and evenly staggered"));
  k.push_back(Count("message_packets", &S::message_packets, 1, 1000, "packets per real message"));
  k.push_back(
      Choice<SocialGraph>("social_graph", &S::social_graph,
                          {{SocialGraph::kUniform, "uniform"}, {SocialGraph::kFriends, "friends"}},
                          "recipients: uniform over the others, or one of m friends"));
  k.push_back(Count("friends", &S::friends, 1, 10'000, "social_graph friends: friends per user"));
  k.push_back(Real("corrupt_mix_probability", &S::corrupt_mix_probability, 0, 1, false,
                   "each mix is corrupt independently with this probability, drawn per run"));
  k.push_back(CorruptLayers());
  k.push_back(Bool("corrupt_providers", &S::corrupt_providers,
                   "providers are corrupt (matters with provider_policy = same)"));
  k.push_back(Bool("track_entropy", &S::track_entropy, "measure sender entropy (slower)"));
  k.push_back(Real("entropy_epsilon", &S::entropy_epsilon, 0, 0.01, false,
                   "sender probabilities below this are merged into a uniform tail"));
  k.push_back(Count("repetitions", &S::repetitions, 1, 100'000,
                    "independent runs (seeds derived from seed)"));
  return k;
}

}  // namespace

const std::vector<ScenarioKey>& ScenarioKeys() {
  static const std::vector<ScenarioKey> keys = BuildKeys();
  return keys;
}

std::optional<std::string> RemovedKeyAdvice(std::string_view name) {
  if (name == "corrupt_mix_fraction") {
    return std::string(
        "corrupt_mix_fraction was removed: it rounded down to a count (0.25 of 3 mixes corrupted "
        "none); write corrupt_mix_probability = P (each mix corrupt independently with "
        "probability P, drawn per run) or corrupt_layers = 1,3 (those layers' mixes)");
  }
  return std::nullopt;
}

const ScenarioKey* FindScenarioKey(std::string_view name) {
  for (const auto& key : ScenarioKeys()) {
    if (key.name == name) return &key;
  }
  return nullptr;
}

}  // namespace sotto::sim
