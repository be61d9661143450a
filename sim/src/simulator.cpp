// RunScenario: checks a scenario and runs one repetition of it on its own engine.
#include "sotto/sim/simulator.h"

#include <fmt/format.h>

#include "engine.h"

namespace sotto::sim {

Result<Results> RunScenario(const Scenario& scenario, const RunOptions& options) {
  if (Status s = scenario.Validate(); !s.ok()) return s;
  // Honest continuous mixes keep one double per client while tracking entropy (and the mixture
  // builder one more): refuse what would not fit rather than die half-way.
  if (scenario.track_entropy) {
    std::uint64_t nodes = 1;  // the builder
    if (scenario.policy == mixnode::PolicyKind::kContinuous) {
      nodes += std::uint64_t{scenario.layers} *
               (scenario.topology == Topology::kCascades  ? scenario.cascades
                : scenario.topology == Topology::kCascade ? 1
                                                          : scenario.mixes_per_layer);
      if (scenario.provider_policy == ProviderPolicy::kSame) nodes += scenario.providers;
    }
    const double gib = static_cast<double>(nodes) * scenario.clients * 8 / (1u << 30);
    if (gib > 8) {
      return Status::InvalidArgument(fmt::format(
          "track_entropy = true would need about {:.0f} GiB ({} clients × {} mixing nodes): set "
          "track_entropy = false or simulate fewer clients or continuous mixes",
          gib, scenario.clients, nodes));
    }
  }
  Engine engine(scenario, options, DeriveSeed(scenario.seed, options.point, options.repetition));
  return engine.Run();
}

}  // namespace sotto::sim
