// Internal to sotto::mixnode: constructors of the four mixing policies (MakePolicy in
// policy_config.cpp picks one) and the time arithmetic they share. Each policy lives in its own
// policy_<kind>.cpp; their semantics are specified in include/sotto/mixnode/policy.h.
#pragma once

#include <limits>
#include <memory>

#include "sotto/mixnode/policy.h"

namespace sotto::mixnode {

// Each takes a valid config (PolicyConfig::Validate) and an Rng that outlives the policy.
std::unique_ptr<MixingPolicy> MakeThresholdTimeoutPolicy(const PolicyConfig& config, Rng& rng);
std::unique_ptr<MixingPolicy> MakeTimedPolicy(const PolicyConfig& config, Rng& rng);
std::unique_ptr<MixingPolicy> MakePoolPolicy(const PolicyConfig& config, Rng& rng);
std::unique_ptr<MixingPolicy> MakeContinuousPolicy(const PolicyConfig& config, Rng& rng);

// t + d for d ≥ 0, clamped at the largest TimeUs instead of overflowing (a hostile or absurd
// delay must not wrap round into the past).
inline TimeUs SaturatingAdd(TimeUs t, TimeUs d) {
  constexpr TimeUs kMax = std::numeric_limits<TimeUs>::max();
  return t > kMax - d ? kMax : t + d;
}

// The smallest multiple of `period` (> 0) strictly after `t`, saturating.
inline TimeUs NextMultipleAfter(TimeUs t, TimeUs period) {
  TimeUs floor = t / period * period;  // rounds towards zero ...
  if (floor > t) floor -= period;      // ... so step down for negative t
  return SaturatingAdd(floor, period);
}

// The round schedule of the timed and pool policies: rounds at k·period for k ≥ 1. A caller that
// falls behind gets one round for all the missed ones, then the schedule resumes on the grid.
class PeriodicRounds {
 public:
  explicit PeriodicRounds(TimeUs period) : period_(period), next_(period) {}
  TimeUs next() const { return next_; }
  // Whether a round is due at `now`; if so, the schedule moves to the first multiple after it.
  bool StartRound(TimeUs now) {
    if (now < next_) return false;
    next_ = NextMultipleAfter(now, period_);
    return true;
  }

 private:
  TimeUs period_;
  TimeUs next_;
};

// max(0, min_batch - released): dummies that pad a round up to min_batch packets.
inline std::size_t PaddingFor(std::size_t min_batch, std::size_t released) {
  return released >= min_batch ? 0 : min_batch - released;
}

}  // namespace sotto::mixnode
