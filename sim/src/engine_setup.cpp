// Building a run: the nodes (providers, then mixes layer by layer) with their policies and the
// adversary's corrupt ones, the clients with their providers and friends, and the first events.
#include <algorithm>
#include <cmath>
#include <unordered_set>

#include "engine.h"

namespace sotto::sim {
namespace {

// Stream purposes for DeriveSeed(run_seed, purpose, index); 1-3 are the engine's own streams.
constexpr std::uint64_t kSetupStream = 4;
constexpr std::uint64_t kNodeStream = 5;

// The period of a periodic stream in µs, rounded, at least 1; a double, so that a tiny rate
// cannot overflow (Engine::After clamps before converting).
double PeriodUs(double rate_per_s) { return std::max(1.0, std::round(1e6 / rate_per_s)); }

}  // namespace

std::uint32_t Engine::MixId(std::uint32_t layer, std::uint32_t index) const {
  return s_.providers + (layer - 1) * mixes_per_layer_ + index;
}

void Engine::BuildNetwork() {
  switch (s_.topology) {
    case Topology::kCascade:
      mixes_per_layer_ = 1;
      path_mixes_ = s_.layers;
      break;
    case Topology::kCascades:
      mixes_per_layer_ = s_.cascades;  // cascade i = mix i of every layer; no idle mixes
      path_mixes_ = s_.layers;
      break;
    case Topology::kStratified:
      mixes_per_layer_ = s_.mixes_per_layer;
      path_mixes_ = s_.layers;
      break;
    case Topology::kFreeRoute:
      mixes_per_layer_ = s_.mixes_per_layer;
      path_mixes_ = s_.path_length;
      break;
  }
  mix_count_ = s_.layers * mixes_per_layer_;

  // The adversary: every mix of corrupt_layers, plus each mix independently with probability
  // corrupt_mix_probability, drawn from the set-up stream (one draw per mix, in id order).
  SimRng setup(DeriveSeed(run_seed_, kSetupStream));
  std::vector<bool> corrupt(mix_count_, false);
  for (const std::uint32_t layer : s_.corrupt_layers) {
    for (std::uint32_t i = 0; i < mixes_per_layer_; ++i) {
      corrupt[(layer - 1) * mixes_per_layer_ + i] = true;
    }
  }
  if (s_.corrupt_mix_probability > 0) {
    for (std::uint32_t i = 0; i < mix_count_; ++i) {
      // Uniform01 is in (0, 1]: probability 1 corrupts every mix, 0 none.
      if (setup.Uniform01() <= s_.corrupt_mix_probability) corrupt[i] = true;
    }
  }
  for (std::uint32_t i = 0; i < mix_count_; ++i) {
    if (corrupt[i]) r_.corrupt_mixes.push_back({i / mixes_per_layer_ + 1, i % mixes_per_layer_});
  }
  r_.mixes = mix_count_;
  r_.corrupt_providers = s_.corrupt_providers;
  corrupt_list_ = FormatMixList(r_.corrupt_mixes);

  const mixnode::PolicyConfig policy = s_.MixPolicy();
  const std::uint32_t total = s_.providers + mix_count_;
  nodes_.resize(total);
  for (std::uint32_t id = 0; id < total; ++id) {
    Node& n = nodes_[id];
    n.provider = id < s_.providers;
    if (n.provider) {
      n.index = id;
      n.corrupt = s_.corrupt_providers;
    } else {
      const std::uint32_t m = id - s_.providers;
      n.layer = m / mixes_per_layer_ + 1;
      n.index = m % mixes_per_layer_;
      n.corrupt = corrupt[m];
    }
    if (!n.provider || s_.provider_policy == ProviderPolicy::kSame) {
      n.rng = std::make_unique<SimRng>(DeriveSeed(run_seed_, kNodeStream, id));
      n.policy = mixnode::MakePolicy(policy, *n.rng);
      n.continuous = policy.kind == mixnode::PolicyKind::kContinuous;
      n.propagate = s_.track_entropy && !n.corrupt;
      if (n.propagate && n.continuous) {
        n.mixture = std::make_unique<ContinuousMixture>(s_.clients, s_.entropy_epsilon);
      }
    }
    layout_.nodes.push_back({n.provider, n.layer, n.index, n.corrupt, n.policy != nullptr});
  }
}

void Engine::BuildClients() {
  clients_.resize(s_.clients);
  layout_.client_provider.resize(s_.clients);
  for (std::uint32_t c = 0; c < s_.clients; ++c) {
    clients_[c].provider = c % s_.providers;
    layout_.client_provider[c] = clients_[c].provider;
  }
  if (s_.social_graph != SocialGraph::kFriends) return;
  // Each user's m friends: a uniform m-subset of the others (Floyd's algorithm), fixed per run.
  SimRng setup(DeriveSeed(run_seed_, kSetupStream, 1));
  layout_.friends.resize(s_.clients);
  const std::uint32_t others = s_.clients - 1;
  std::unordered_set<std::uint32_t> picked;
  for (std::uint32_t c = 0; c < s_.clients; ++c) {
    auto& list = layout_.friends[c];
    list.reserve(s_.friends);
    picked.clear();
    for (std::uint32_t j = others - s_.friends; j < others; ++j) {
      auto t = static_cast<std::uint32_t>(setup.Below(j + 1u));
      if (!picked.insert(t).second) {
        t = j;
        picked.insert(t);
      }
      list.push_back(t >= c ? t + 1 : t);  // index among the others → client id
    }
  }
}

void Engine::ScheduleFirstEvents() {
  const struct {
    double rate;
    EventType type;
  } streams[] = {{s_.real_rate_per_s, kRealMessage},
                 {s_.payload_rate_per_s, kPayload},
                 {s_.loop_rate_per_s, kLoop},
                 {s_.drop_rate_per_s, kDrop}};
  for (std::uint32_t c = 0; c < s_.clients; ++c) {
    for (const auto& stream : streams) {
      if (stream.rate <= 0) continue;
      double first_us;
      if (s_.arrivals == Arrivals::kPoisson) {
        first_us = client_rng_.Exponential(1e6 / stream.rate);
      } else {  // evenly staggered: client c at (c + 1/2)/clients of the period
        first_us = (c + 0.5) * PeriodUs(stream.rate) / s_.clients;
      }
      Push(After(first_us), stream.type, c);
    }
  }
  for (std::uint32_t id = 0; id < nodes_.size(); ++id) {
    if (!nodes_[id].policy) continue;
    if (const auto w = nodes_[id].policy->NextWakeup()) ScheduleWake(id, *w);
  }
}

TimeUs Engine::NextStreamTime(double rate_per_s) {
  if (s_.arrivals == Arrivals::kPeriodic) return After(PeriodUs(rate_per_s));
  return After(client_rng_.Exponential(1e6 / rate_per_s));
}

TimeUs Engine::After(double gap_us) const {
  // Compared in double first: a gap of 1e6 / rate µs can exceed what a TimeUs holds for tiny
  // rates. now_ ≤ end_us_ always (Run dispatches nothing later).
  if (!(gap_us <= static_cast<double>(end_us_ - now_))) return end_us_ + 1;  // Run stops first
  return now_ + static_cast<TimeUs>(std::llround(gap_us));
}

}  // namespace sotto::sim
