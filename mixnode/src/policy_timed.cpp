// The timed mix: every `period` (at each multiple of it on the caller's clock) the whole pool
// leaves in random order. Rounds happen whether or not packets arrived; with min_batch dummies
// an empty round looks like a busy one, which hides when the mix is idle.
#include <optional>
#include <utility>
#include <vector>

#include "policies.h"

namespace sotto::mixnode {
namespace {

class TimedPolicy final : public MixingPolicy {
 public:
  TimedPolicy(const PolicyConfig& config, Rng& rng)
      : config_(config), rng_(rng), rounds_(config.period_us) {}

  void Add(PacketHandle packet, TimeUs /*now*/, TimeUs /*requested_delay_us*/) override {
    pool_.push_back(packet);
  }

  std::vector<PacketHandle> Release(TimeUs now) override {
    last_was_round_ = rounds_.StartRound(now);
    if (!last_was_round_) return {};
    std::vector<PacketHandle> batch = std::exchange(pool_, {});
    Shuffle(batch, rng_);
    return batch;
  }

  std::optional<TimeUs> NextWakeup() const override { return rounds_.next(); }

  std::size_t PoolSize() const override { return pool_.size(); }

  // Also for an empty round: min_batch dummies hide that nothing arrived. None after a Release
  // that was not a round.
  std::size_t DummiesFor(std::size_t released) const override {
    return last_was_round_ ? PaddingFor(config_.min_batch, released) : 0;
  }

  const PolicyConfig& config() const override { return config_; }

 private:
  const PolicyConfig config_;
  Rng& rng_;
  PeriodicRounds rounds_;
  bool last_was_round_ = false;  // whether the latest Release call was a round
  std::vector<PacketHandle> pool_;
};

}  // namespace

std::unique_ptr<MixingPolicy> MakeTimedPolicy(const PolicyConfig& config, Rng& rng) {
  return std::make_unique<TimedPolicy>(config, rng);
}

}  // namespace sotto::mixnode
