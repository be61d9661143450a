// A sotto-sim scenario: everything one simulation run needs, read from an INI file
// (key = value lines, '#' comments; Boost.Program_options). See sim/README.md for every key, its
// default and its range, or ScenarioKeysHelp().
//
// Loading never crashes and never guesses: an unknown key, a duplicate, a value out of range or
// an impossible combination (e.g. more cascades than mixes per layer) is an InvalidArgument whose
// one-line message names the key, its line and what is allowed. A Scenario is a plain value.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sotto/core/status.h"
#include "sotto/mixnode/policy.h"

namespace sotto::sim {

enum class Topology : std::uint8_t {
  kCascade,     // one chain of `layers` mixes (Sotto's default)
  kCascades,    // `cascades` parallel chains; cascade i = mix i of every layer (as sotto-directory)
  kStratified,  // `layers` layers of `mixes_per_layer` mixes; each hop picks a mix of its layer
  kFreeRoute,   // `path_length` hops, each a uniformly random mix other than the current one
};
enum class ProviderPolicy : std::uint8_t { kPassThrough, kSame };  // kSame: the mixes' policy
enum class SocialGraph : std::uint8_t { kUniform, kFriends };
// How clients' streams are timed: Poisson (Loopix, the real client), or periodic with client i's
// first event at (i + 1/2)/clients of its period (evenly staggered; exact closed-form setups).
enum class Arrivals : std::uint8_t { kPoisson, kPeriodic };

struct Scenario {
  std::uint64_t seed = 1;  // master seed: same seed, same results, byte for byte
  double duration_s = 600;
  double burn_in_s = 60;  // messages created before this are not measured
  double drain_s = 60;    // after duration_s, run on (traffic continues) until every measured
                          // message is delivered, but at most this long

  std::uint32_t clients = 1000;
  std::uint32_t providers = 1;  // client i uses provider i mod providers

  Topology topology = Topology::kCascade;
  std::uint32_t cascades = 1;
  std::uint32_t layers = 3;
  std::uint32_t mixes_per_layer = 1;
  std::uint32_t path_length = 3;  // free-route only

  mixnode::PolicyKind policy = mixnode::PolicyKind::kThresholdTimeout;
  std::uint32_t batch_size = 100;
  double timeout_ms = 1000;
  double period_ms = 1000;
  double pool_keep_fraction = 0;
  std::uint32_t pool_min_keep = 0;
  double mean_delay_ms = 1000;
  std::uint32_t min_batch = 0;
  ProviderPolicy provider_policy = ProviderPolicy::kPassThrough;
  // Mixing providers pad their rounds to min_batch like the mixes. sotto-mixnode's providers never
  // do (only mixes make dummies), hence false.
  bool provider_dummies = false;
  double link_latency_ms = 0;  // per hop, constant
  // Every node handles one arriving packet at a time, this long each (Sphinx processing plus the
  // store), and releases a round only between two such drains of its input queue, as
  // sotto-mixnode's single-threaded loop does. 0: instantaneous.
  double processing_us = 0;

  // Per client. payload_rate_per_s = 0 is "no cover": a real message leaves the moment it is
  // written. Otherwise it waits in the client's queue for the payload stream (Loopix §4.2).
  double real_rate_per_s = 0.1;
  double payload_rate_per_s = 0;
  double loop_rate_per_s = 0;
  double drop_rate_per_s = 0;
  Arrivals arrivals = Arrivals::kPoisson;
  std::uint32_t message_packets = 1;
  SocialGraph social_graph = SocialGraph::kUniform;
  std::uint32_t friends = 5;

  // Each mix is corrupt independently with this probability, drawn anew in every run from the
  // run's set-up stream (so a sweep over repetitions averages over the draws).
  double corrupt_mix_probability = 0;
  std::vector<std::uint32_t> corrupt_layers;  // plus every mix of these layers (1-based)
  bool corrupt_providers = false;

  bool track_entropy = true;
  double entropy_epsilon = 1e-6;  // sender probabilities below this go to the uniform tail
  std::uint32_t repetitions = 1;

  // Cross-key checks (each key's own range is checked when it is set).
  Status Validate() const;
  // The mixes' policy as the daemon's PolicyConfig.
  mixnode::PolicyConfig MixPolicy() const;
  // Every key = value, in the documented order; ParseScenario(ToIni()) gives this scenario back.
  std::string ToIni() const;
  // One line, e.g. "cascade 3×1, threshold-timeout(n=100, t=1000ms), 1000 clients, 600 s".
  std::string Describe() const;
};

// Reads and checks a scenario file. A missing or unreadable file is one line naming it.
Result<Scenario> LoadScenario(const std::string& path);
// Parses INI text; `origin` (a file name) starts every error message.
Result<Scenario> ParseScenario(std::string_view ini_text, std::string_view origin = "scenario");
// Sets one key from its text form, with the same range checks as the file (for command-line
// overrides and sweeps). Does not run the cross-key checks: call Validate after the last one.
Status SetScenarioKey(Scenario& scenario, std::string_view key, std::string_view value);
// The value of one key in its text form (as ToIni writes it), or NotFound.
Result<std::string> GetScenarioKey(const Scenario& scenario, std::string_view key);
// The keys, one per line with default, range and meaning (for --help).
std::string ScenarioKeysHelp();

}  // namespace sotto::sim
