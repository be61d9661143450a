// The attacks of attacks.h as `sotto-sim attack` runs them: each config field settable by name
// from text (like scenario keys), sweeps over the cartesian product of some fields' values on
// several threads, and the CSV and one-line forms of the results.
//
// Repetition (or trial) r of point p draws from DeriveSeed(seed, p, r), as attacks.h says, so
// points are independent samples and each CSV row is exactly what RunSda(config, p),
// RunFloodingAttack(config, p) or RunTimingAttack(config, p, r) returns for the config in that
// row. The timing attack has no repetitions of its own; here repetition r of point p runs
// RunTimingAttack(config, p, r) and the row reports the means over the repetitions with 95%
// confidence intervals. Results come back in point order whatever the thread count.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sotto/core/status.h"
#include "sotto/sim/attacks.h"
#include "sotto/sim/sweep.h"

namespace sotto::sim::attacks {

enum class AttackKind : std::uint8_t { kSda, kFlooding, kTiming };

// "sda" | "flood" | "timing"; InvalidArgument lists them.
Result<AttackKind> ParseAttackKind(std::string_view name);
std::string_view AttackKindName(AttackKind kind);

// Everything one attack run needs; only the config of `kind` is used.
struct AttackSetup {
  AttackKind kind = AttackKind::kSda;
  SdaConfig sda;
  FloodingConfig flooding;
  TimingConfig timing;
  std::size_t timing_repetitions = 1;  // field "repetitions" of timing, in [1, 1000]

  // The config's own Validate (naming the field and its range), plus timing_repetitions.
  Status Validate() const;
};

// Sets one field of the kind's config from text, checking its syntax and range; the message names
// the field and what is allowed. The fields are the config structs' field names (flattened for
// the flooding policy: policy, threshold, timeout_us, ...); AttackFieldsHelp lists them.
Status SetAttackField(AttackSetup& setup, std::string_view field, std::string_view value);
// The field's value as text, or NotFound.
Result<std::string> GetAttackField(const AttackSetup& setup, std::string_view field);
// The fields of `kind`, in order.
std::vector<std::string_view> AttackFields(AttackKind kind);
// One line per field: name, meaning, default, allowed values (for --help).
std::string AttackFieldsHelp(AttackKind kind);
// The field --repetitions sets: "repetitions" (sda, timing) or "trials" (flood).
std::string_view RepetitionsField(AttackKind kind);

// At most this many points in one attack sweep.
inline constexpr std::uint64_t kMaxAttackPoints = 10'000;

// "FIELD=V1,V2,...": SplitAxis, then every value checked with SetAttackField and replaced by its
// canonical text.
Result<SweepAxis> ParseAttackAxis(AttackKind kind, std::string_view text);

struct AttackPoint {
  std::uint64_t index = 0;
  std::vector<std::string> values;  // one per axis
  AttackSetup setup;
};

struct AttackPlan {
  AttackKind kind = AttackKind::kSda;
  std::vector<SweepAxis> axes;
  std::vector<AttackPoint> points;  // the cartesian product, last axis fastest
};

// Every point must pass AttackSetup::Validate; an error names the point's values.
Result<AttackPlan> PlanAttackSweep(const AttackSetup& base, std::vector<SweepAxis> axes);

// The timing attack's repetitions of one point.
struct TimingSummary {
  TimingConfig config;
  std::vector<TimingResult> runs;  // run r of point p: RunTimingAttack(config, p, r)
  MeanCi top1, top5;
};

// One point's result: the member of the plan's kind is set.
struct AttackOutcome {
  std::uint64_t point = 0;
  std::optional<SdaResult> sda;
  std::optional<FloodingResult> flooding;
  std::optional<TimingSummary> timing;
};

struct AttackSweepOptions {
  unsigned jobs = 0;  // threads; 0 = the hardware's concurrency
  // Every point, in order, on the calling thread; a failed Status stops the sweep.
  std::function<Status(const AttackOutcome&)> on_point;
  std::function<void(const SweepProgress&)> on_progress;  // runs_* count points (timing: runs)
};

Result<std::vector<AttackOutcome>> RunAttackSweep(const AttackPlan& plan,
                                                  const AttackSweepOptions& options = {});

// CSV with a fixed header per kind: point, every field of AttackFields(kind), then the measures.
std::string AttackCsvHeader(AttackKind kind);
std::string AttackCsvRow(const AttackOutcome& outcome);
// One line for people, e.g. "N=1000 b=10 m=10: identified after 97.7 ± 8.0 of Alice's rounds …".
std::string FormatAttackOutcome(const AttackOutcome& outcome);

}  // namespace sotto::sim::attacks
