// PolicyConfig checking and naming, and the MakePolicy factory that picks a policy by kind.
#include <fmt/format.h>

#include <array>
#include <cmath>
#include <string>
#include <utility>

#include "policies.h"

namespace sotto::mixnode {
namespace {

constexpr TimeUs kMaxDurationUs = 86'400'000'000;  // one day
constexpr std::size_t kMaxCount = 1'000'000;       // packets in a batch, kept or padded to

constexpr std::array<std::pair<PolicyKind, std::string_view>, 4> kNames = {{
    {PolicyKind::kThresholdTimeout, "threshold-timeout"},
    {PolicyKind::kTimed, "timed"},
    {PolicyKind::kPool, "pool"},
    {PolicyKind::kContinuous, "continuous"},
}};

bool KnownKind(PolicyKind kind) {
  for (const auto& [k, name] : kNames) {
    if (k == kind) return true;
  }
  return false;
}

Status CheckDuration(std::string_view field, TimeUs value) {
  if (value >= 1 && value <= kMaxDurationUs) return Status::Ok();
  return Status::InvalidArgument(
      fmt::format("policy field {} = {} is out of range: it must be in [1, {}] microseconds (1 µs "
                  "to 1 day)",
                  field, value, kMaxDurationUs));
}

Status CheckCount(std::string_view field, std::size_t value, std::size_t min) {
  if (value >= min && value <= kMaxCount) return Status::Ok();
  return Status::InvalidArgument(
      fmt::format("policy field {} = {} is out of range: it must be in [{}, {}]", field, value, min,
                  kMaxCount));
}

// "1000ms" when whole milliseconds, else "1500us".
std::string FormatDuration(TimeUs us) {
  return us % 1000 == 0 ? fmt::format("{}ms", us / 1000) : fmt::format("{}us", us);
}

}  // namespace

Status PolicyConfig::Validate() const {
  if (!KnownKind(kind)) {
    return Status::InvalidArgument(fmt::format(
        "policy field kind = {} is not a known policy: it must be one of threshold-timeout, "
        "timed, pool, continuous",
        static_cast<int>(kind)));
  }
  if (Status s = CheckCount("threshold", threshold, 1); !s.ok()) return s;
  if (Status s = CheckDuration("timeout_us", timeout_us); !s.ok()) return s;
  if (Status s = CheckDuration("period_us", period_us); !s.ok()) return s;
  // Written so that NaN fails too.
  if (!(keep_fraction >= 0.0 && keep_fraction < 1.0)) {
    return Status::InvalidArgument(fmt::format(
        "policy field keep_fraction = {} is out of range: it must be in [0, 1) (a pool that "
        "keeps everything never sends)",
        keep_fraction));
  }
  if (Status s = CheckCount("min_keep", min_keep, 0); !s.ok()) return s;
  if (Status s = CheckDuration("mean_delay_us", mean_delay_us); !s.ok()) return s;
  if (Status s = CheckCount("min_batch", min_batch, 0); !s.ok()) return s;
  return Status::Ok();
}

std::string PolicyConfig::Describe() const {
  const std::string padding = min_batch > 0 ? fmt::format(", min_batch={}", min_batch) : "";
  switch (kind) {
    case PolicyKind::kThresholdTimeout:
      return fmt::format("threshold-timeout(n={}, t={}{})", threshold, FormatDuration(timeout_us),
                         padding);
    case PolicyKind::kTimed:
      return fmt::format("timed(period={}{})", FormatDuration(period_us), padding);
    case PolicyKind::kPool:
      return fmt::format("pool(period={}, keep={:g}, min_keep={}{})", FormatDuration(period_us),
                         keep_fraction, min_keep, padding);
    case PolicyKind::kContinuous:
      return fmt::format("continuous(mean={})", FormatDuration(mean_delay_us));
  }
  return fmt::format("unknown-policy(kind={})", static_cast<int>(kind));
}

Result<PolicyKind> ParsePolicyKind(std::string_view name) {
  for (const auto& [kind, known] : kNames) {
    if (known == name) return kind;
  }
  return Status::InvalidArgument(
      fmt::format("unknown mixing policy '{}': expected one of threshold-timeout, timed, pool, "
                  "continuous",
                  name));
}

std::string_view PolicyKindName(PolicyKind kind) {
  for (const auto& [k, name] : kNames) {
    if (k == kind) return name;
  }
  return "unknown";
}

std::unique_ptr<MixingPolicy> MakePolicy(const PolicyConfig& config, Rng& rng) {
  SOTTO_CHECK(config.Validate().ok());
  switch (config.kind) {
    case PolicyKind::kThresholdTimeout:
      return MakeThresholdTimeoutPolicy(config, rng);
    case PolicyKind::kTimed:
      return MakeTimedPolicy(config, rng);
    case PolicyKind::kPool:
      return MakePoolPolicy(config, rng);
    case PolicyKind::kContinuous:
      return MakeContinuousPolicy(config, rng);
  }
  SOTTO_CHECK(false);  // unreachable: Validate accepted the kind
  return nullptr;
}

}  // namespace sotto::mixnode
