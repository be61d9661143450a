// The timed dynamic pool mix: every `period` it sends all but
// max(min_keep, floor(keep_fraction · pool size)) packets (never more than the pool), chosen
// uniformly at random; the rest stay for later rounds. A packet's stay is thus unbounded in
// principle (geometric), which is what makes a pool mix resist flushing (n-1) attacks better
// than a batch mix. Rounds, and min_batch padding, happen whether or not packets arrived.
#include <cmath>
#include <optional>
#include <utility>
#include <vector>

#include "policies.h"

namespace sotto::mixnode {
namespace {

class PoolPolicy final : public MixingPolicy {
 public:
  PoolPolicy(const PolicyConfig& config, Rng& rng)
      : config_(config), rng_(rng), rounds_(config.period_us) {}

  void Add(PacketHandle packet, TimeUs /*now*/, TimeUs /*requested_delay_us*/) override {
    pool_.push_back(packet);
  }

  std::vector<PacketHandle> Release(TimeUs now) override {
    last_was_round_ = rounds_.StartRound(now);
    if (!last_was_round_) return {};
    const std::size_t send = pool_.size() - KeepCount(pool_.size());
    // A uniformly random `send` packets, in random order, move to the front; they leave.
    ShufflePrefix(pool_, send, rng_);
    const auto split = pool_.begin() + static_cast<std::ptrdiff_t>(send);
    std::vector<PacketHandle> batch(pool_.begin(), split);
    pool_.erase(pool_.begin(), split);
    return batch;
  }

  std::optional<TimeUs> NextWakeup() const override { return rounds_.next(); }

  std::size_t PoolSize() const override { return pool_.size(); }

  // Also for an empty round: min_batch dummies hide that nothing left. None after a Release
  // that was not a round.
  std::size_t DummiesFor(std::size_t released) const override {
    return last_was_round_ ? PaddingFor(config_.min_batch, released) : 0;
  }

  const PolicyConfig& config() const override { return config_; }

 private:
  std::size_t KeepCount(std::size_t pooled) const {
    // keep_fraction < 1, so the product is below `pooled` and the cast cannot overflow.
    const auto fraction =
        static_cast<std::size_t>(std::floor(config_.keep_fraction * static_cast<double>(pooled)));
    return std::min(pooled, std::max(config_.min_keep, fraction));
  }

  const PolicyConfig config_;
  Rng& rng_;
  PeriodicRounds rounds_;
  bool last_was_round_ = false;  // whether the latest Release call was a round
  std::vector<PacketHandle> pool_;
};

}  // namespace

std::unique_ptr<MixingPolicy> MakePoolPolicy(const PolicyConfig& config, Rng& rng) {
  return std::make_unique<PoolPolicy>(config, rng);
}

}  // namespace sotto::mixnode
