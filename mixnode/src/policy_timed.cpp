// The timed mix: every `period` (at each multiple of it on the caller's clock) the whole pool
// leaves in random order. Rounds happen whether or not packets arrived; with min_batch dummies
// an empty round looks like a busy one, which hides when the mix is idle.
//
// It is exactly the timed pool mix that keeps nothing, so it is built as one (policy_pool.cpp):
// one implementation of rounds, shuffling and padding for both.
#include "policies.h"

namespace sotto::mixnode {

std::unique_ptr<MixingPolicy> MakeTimedPolicy(const PolicyConfig& config, Rng& rng) {
  PolicyConfig keep_nothing = config;
  keep_nothing.keep_fraction = 0.0;
  keep_nothing.min_keep = 0;
  return MakePoolPolicy(keep_nothing, rng);
}

}  // namespace sotto::mixnode
