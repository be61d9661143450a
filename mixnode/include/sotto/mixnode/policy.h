// Mixing policies: when a mix releases the packets in its pool, and in what order.
//
// One interface, four policies (Serjantov, Dingledine & Syverson 2002; Loopix 2017):
//   - threshold-and-timeout batch (the cascade default): release everything when `threshold`
//     packets are pooled or `timeout` has passed since the first packet of the round arrived;
//   - timed: release everything every `period`;
//   - pool (timed dynamic pool): every `period`, send all but a randomly chosen remainder of
//     max(min_keep, floor(keep_fraction · pool size)) packets, which stay for later rounds;
//   - continuous-time (Poisson/exponential, "stop-and-go"): each packet is held for its own
//     delay — the Sphinx per-hop delay if the sender set one, else Exp(mean_delay) — and released
//     alone when it expires.
// Every released batch is in uniformly random order (Fisher–Yates with the policy's Rng), so
// output order reveals nothing about input order.
//
// Driving a policy: call Release(now) whenever convenient (at least when the clock reaches
// NextWakeup()) and send what it returns plus DummiesFor(size) dummies. A Release at or after
// NextWakeup() is a *round*; an earlier Release returns nothing, is not a round, and
// DummiesFor then returns 0, so calling both on every event-loop turn is safe. Precisely:
//   - threshold-timeout: the round is due at the `now` of the Add that brought the pool to
//     `threshold`, or `timeout` after the round's first packet, whichever is earlier, and it
//     releases every pooled packet (also any added after the threshold was reached). No packet,
//     no round: an empty mix is silent (NextWakeup() is nullopt).
//   - timed and pool: rounds are at every multiple k·period (k ≥ 1) of the caller's clock,
//     whether or not packets arrived; an empty round still asks for min_batch dummies, which is
//     what hides silence. A caller that falls behind gets one round for all the missed ones.
//   - continuous: a packet is due at now + delay (saturating); all due packets are released
//     together, in random order. No dummies (DummiesFor is always 0).
//
// The daemon (sotto-mixnode) and the simulator (sotto-sim) both drive these classes, so what the
// simulator measures is what the daemon does. Policies never read a clock: the caller passes
// `now`, which makes them deterministic under a DeterministicRng. Not thread-safe: one owner.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sotto/core/random.h"
#include "sotto/core/status.h"

namespace sotto::mixnode {

using TimeUs = std::int64_t;         // microseconds on the caller's clock (real or simulated)
using PacketHandle = std::uint64_t;  // chosen by the caller; the policy only stores and returns it

enum class PolicyKind : std::uint8_t { kThresholdTimeout, kTimed, kPool, kContinuous };

struct PolicyConfig {
  PolicyKind kind = PolicyKind::kThresholdTimeout;
  std::size_t threshold = 100;       // threshold-timeout: batch size n
  TimeUs timeout_us = 1'000'000;     // threshold-timeout: t
  TimeUs period_us = 1'000'000;      // timed and pool: time between rounds
  double keep_fraction = 0.0;        // pool: fraction of the pool kept each round, in [0, 1)
  std::size_t min_keep = 0;          // pool: at least this many kept each round
  TimeUs mean_delay_us = 1'000'000;  // continuous: mean of the exponential delay
  std::size_t min_batch = 0;         // batch policies: pad each batch with dummies to this size

  // Checks the range of every field, whichever policy `kind` selects; the InvalidArgument
  // message names the bad field and the allowed range. Durations are 1 µs to 1 day, counts at
  // most 1,000,000.
  Status Validate() const;
  // "threshold-timeout(n=100, t=1000ms)" etc., for logs and CSV headers.
  std::string Describe() const;
};

// "threshold-timeout" | "timed" | "pool" | "continuous" (the names used in configs and the
// consensus). InvalidArgument lists the allowed names.
Result<PolicyKind> ParsePolicyKind(std::string_view name);
std::string_view PolicyKindName(PolicyKind kind);

class MixingPolicy {
 public:
  virtual ~MixingPolicy() = default;

  // A packet entered the pool at `now`. `requested_delay_us` is the sender's per-hop delay from
  // the Sphinx routing command (0 = none); only the continuous-time policy uses it.
  virtual void Add(PacketHandle packet, TimeUs now, TimeUs requested_delay_us = 0) = 0;

  // Everything due at `now`, in uniformly random order; empty if nothing is due. Each returned
  // handle leaves the pool.
  virtual std::vector<PacketHandle> Release(TimeUs now) = 0;

  // The earliest time at which Release may return something, or nullopt if only a future Add
  // can change that (e.g. an empty threshold mix).
  virtual std::optional<TimeUs> NextWakeup() const = 0;

  virtual std::size_t PoolSize() const = 0;

  // Dummy packets to send with the batch the latest Release returned, `released` being its size:
  // max(0, min_batch - released) if that Release was a round (see above), else 0. Always 0 for
  // the continuous-time policy, which sends packets one at a time and relies on cover traffic.
  virtual std::size_t DummiesFor(std::size_t released) const = 0;

  virtual const PolicyConfig& config() const = 0;
};

// The config must be valid (checked: call Validate first). `rng` must outlive the policy.
std::unique_ptr<MixingPolicy> MakePolicy(const PolicyConfig& config, Rng& rng);

}  // namespace sotto::mixnode
