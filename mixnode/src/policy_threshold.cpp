// The threshold-and-timeout batch mix, the cascade default: a round collects packets until
// `threshold` are pooled or `timeout` has passed since its first packet, then releases the whole
// pool in random order. Rounds begin only when a packet arrives, so an idle mix sends nothing.
#include <optional>
#include <utility>
#include <vector>

#include "policies.h"

namespace sotto::mixnode {
namespace {

class ThresholdTimeoutPolicy final : public MixingPolicy {
 public:
  ThresholdTimeoutPolicy(const PolicyConfig& config, Rng& rng) : config_(config), rng_(rng) {}

  void Add(PacketHandle packet, TimeUs now, TimeUs /*requested_delay_us*/) override {
    if (pool_.empty()) round_deadline_ = SaturatingAdd(now, config_.timeout_us);
    pool_.push_back(packet);
    if (!full_at_ && pool_.size() >= config_.threshold) full_at_ = now;
  }

  std::vector<PacketHandle> Release(TimeUs now) override {
    const std::optional<TimeUs> due = NextWakeup();
    last_was_round_ = due && now >= *due;
    if (!last_was_round_) return {};
    std::vector<PacketHandle> batch = std::exchange(pool_, {});
    full_at_.reset();
    Shuffle(batch, rng_);
    return batch;
  }

  std::optional<TimeUs> NextWakeup() const override {
    if (pool_.empty()) return std::nullopt;
    // Full at an Add whose `now` lies past the deadline (a caller that Released late): the
    // deadline came first.
    if (full_at_ && *full_at_ < round_deadline_) return full_at_;
    return round_deadline_;
  }

  std::size_t PoolSize() const override { return pool_.size(); }

  // A round always releases at least one packet; an idle mix pads nothing.
  std::size_t DummiesFor(std::size_t released) const override {
    return last_was_round_ && released > 0 ? PaddingFor(config_.min_batch, released) : 0;
  }

  const PolicyConfig& config() const override { return config_; }

 private:
  const PolicyConfig config_;
  Rng& rng_;
  std::vector<PacketHandle> pool_;  // the current round, in arrival order
  TimeUs round_deadline_ = 0;       // first packet's arrival + timeout (valid if pool non-empty)
  std::optional<TimeUs> full_at_;   // `now` of the Add that reached the threshold, if any
  bool last_was_round_ = false;     // whether the latest Release call was a round
};

}  // namespace

std::unique_ptr<MixingPolicy> MakeThresholdTimeoutPolicy(const PolicyConfig& config, Rng& rng) {
  return std::make_unique<ThresholdTimeoutPolicy>(config, rng);
}

}  // namespace sotto::mixnode
