// The continuous-time (stop-and-go, Loopix "Poisson") mix: every packet is held for its own
// delay and leaves when that expires, independently of the others. The delay is the sender's
// Sphinx per-hop delay when it set one; otherwise the mix draws it from an exponential
// distribution with mean mean_delay_us, whose memorylessness is what makes the mix's output
// independent of how long a packet has already waited.
#include <cmath>
#include <functional>
#include <optional>
#include <queue>
#include <utility>
#include <vector>

#include "policies.h"

namespace sotto::mixnode {
namespace {

class ContinuousPolicy final : public MixingPolicy {
 public:
  ContinuousPolicy(const PolicyConfig& config, Rng& rng) : config_(config), rng_(rng) {}

  // A requested delay ≤ 0 means "none": the mix draws one.
  void Add(PacketHandle packet, TimeUs now, TimeUs requested_delay_us) override {
    const TimeUs delay = requested_delay_us > 0 ? requested_delay_us : ExponentialDelay();
    pending_.emplace(SaturatingAdd(now, delay), packet);
  }

  // Packets due at the same time leave together, in random order.
  std::vector<PacketHandle> Release(TimeUs now) override {
    std::vector<PacketHandle> batch;
    while (!pending_.empty() && pending_.top().first <= now) {
      batch.push_back(pending_.top().second);
      pending_.pop();
    }
    Shuffle(batch, rng_);
    return batch;
  }

  std::optional<TimeUs> NextWakeup() const override {
    if (pending_.empty()) return std::nullopt;
    return pending_.top().first;
  }

  std::size_t PoolSize() const override { return pending_.size(); }

  // Packets leave one at a time; cover traffic, not padding, hides the rate.
  std::size_t DummiesFor(std::size_t /*released*/) const override { return 0; }

  const PolicyConfig& config() const override { return config_; }

 private:
  // Exp(mean) by inversion: -mean · ln U with U uniform in (0, 1], rounded to the microsecond.
  // U > 0, so the delay is finite: at most about 37 · mean.
  TimeUs ExponentialDelay() {
    const double u = UniformOpenClosed(rng_);
    return static_cast<TimeUs>(
        std::llround(-static_cast<double>(config_.mean_delay_us) * std::log(u)));
  }

  using Entry = std::pair<TimeUs, PacketHandle>;  // (due time, packet)

  const PolicyConfig config_;
  Rng& rng_;
  std::priority_queue<Entry, std::vector<Entry>, std::greater<>> pending_;  // earliest due on top
};

}  // namespace

std::unique_ptr<MixingPolicy> MakeContinuousPolicy(const PolicyConfig& config, Rng& rng) {
  return std::make_unique<ContinuousPolicy>(config, rng);
}

}  // namespace sotto::mixnode
