// RunScenario: checks a scenario and runs one repetition of it on its own engine.
#include "sotto/sim/simulator.h"

#include <fmt/format.h>

#include <exception>
#include <new>

#include "engine.h"

namespace sotto::sim {
namespace {

// Honest continuous mixes (and providers mixing like them) that keep a dense mixture.
std::uint64_t DenseMixtureNodes(const Scenario& s) {
  if (!s.track_entropy || s.policy != mixnode::PolicyKind::kContinuous) return 0;
  const std::uint64_t per_layer = s.topology == Topology::kCascades  ? s.cascades
                                  : s.topology == Topology::kCascade ? 1
                                                                     : s.mixes_per_layer;
  std::uint64_t nodes = std::uint64_t{s.layers} * per_layer;
  if (s.provider_policy == ProviderPolicy::kSame) nodes += s.providers;
  return nodes;
}

std::uint64_t FriendsBytes(const Scenario& s) {
  if (s.social_graph != SocialGraph::kFriends) return 0;
  // A vector per client (24 bytes) and 4 bytes per friend.
  return std::uint64_t{s.clients} * (24 + std::uint64_t{s.friends} * 4);
}

double Gib(std::uint64_t bytes) { return static_cast<double>(bytes) / (1u << 30); }

}  // namespace

std::uint64_t EstimateRunBytes(const Scenario& s) {
  const std::uint64_t clients = s.clients;
  std::uint64_t bytes = clients * 16;  // Client and its provider in the layout
  bytes += FriendsBytes(s);
  if (s.track_entropy) bytes += clients * 12;  // the mixture builder: a double and an index
  bytes += DenseMixtureNodes(s) * clients * 12;
  return bytes;
}

Result<Results> RunScenario(const Scenario& scenario, const RunOptions& options) {
  if (Status s = scenario.Validate(); !s.ok()) return s;
  // Refuse what would not fit rather than die half-way.
  if (const std::uint64_t bytes = EstimateRunBytes(scenario); bytes > kMaxRunBytes) {
    const std::uint64_t nodes = DenseMixtureNodes(scenario);
    return Status::InvalidArgument(fmt::format(
        "this scenario would need about {:.1f} GiB (at most {:.0f}): {:.1f} GiB for entropy "
        "tracking ({} clients × {} continuous mixing nodes), {:.1f} GiB for the friends table "
        "({} clients × {} friends); set track_entropy = false, or simulate fewer clients, "
        "friends or continuous mixes",
        Gib(bytes), Gib(kMaxRunBytes), Gib(nodes * scenario.clients * 12), scenario.clients, nodes,
        Gib(FriendsBytes(scenario)), scenario.clients,
        scenario.social_graph == SocialGraph::kFriends ? scenario.friends : 0));
  }
  try {
    Engine engine(scenario, options, DeriveSeed(scenario.seed, options.point, options.repetition));
    return engine.Run();
  } catch (const std::bad_alloc&) {
    return Status::Internal(
        "out of memory during the run: simulate fewer clients, a shorter duration_s or less "
        "traffic (or, in a sweep, run fewer --jobs at once)");
  } catch (const std::exception& e) {
    return Status::Internal(fmt::format("the run failed unexpectedly: {}", e.what()));
  }
}

}  // namespace sotto::sim
