// The attack configs' fields by name (attack_sweep.h): one table per attack with each field's
// meaning, range, parser and printer, serving --set, --vary, the CSV and --help alike. The ranges
// are those of the configs' Validate (attack_*.cpp, mixnode's PolicyConfig::Validate).
#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <limits>
#include <string>

#include "sotto/sim/attack_sweep.h"

namespace sotto::sim::attacks {
namespace {

using mixnode::TimeUs;

struct Field {
  std::string_view name;
  std::string_view help;
  std::string allowed;
  std::function<Status(AttackSetup&, std::string_view)> set;
  std::function<std::string(const AttackSetup&)> get;
};

Status NotAllowed(AttackKind kind, std::string_view name, std::string_view value,
                  std::string_view allowed) {
  return Status::InvalidArgument(fmt::format("{} field {} = '{}' is not allowed: it must be {}",
                                             AttackKindName(kind), name, value, allowed));
}

template <class T>
bool ParseNumber(std::string_view text, T& out) {
  if (text.empty()) return false;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  if constexpr (std::is_floating_point_v<T>) {
    if (!std::isfinite(out)) return false;
  }
  return ec == std::errc() && end == text.data() + text.size();
}

// A whole-number field of type T in [lo, hi]; `access` gives the field of a (const) setup.
template <class T, class Access>
Field Whole(AttackKind kind, std::string_view name, std::string_view help, T lo, T hi,
            Access access) {
  std::string allowed = fmt::format("a whole number in [{}, {}]", lo, hi);
  return {name, help, allowed,
          [=](AttackSetup& s, std::string_view v) {
            T x{};
            if (!ParseNumber(v, x) || x < lo || x > hi) return NotAllowed(kind, name, v, allowed);
            access(s) = x;
            return Status::Ok();
          },
          [=](const AttackSetup& s) { return fmt::format("{}", access(s)); }};
}

// A real field in [lo, hi], or (lo, hi] when lo_open.
template <class Access>
Field Real(AttackKind kind, std::string_view name, std::string_view help, double lo, double hi,
           bool lo_open, Access access) {
  std::string allowed = fmt::format("a number in {}{}, {}]", lo_open ? "(" : "[", lo, hi);
  return {name, help, allowed,
          [=](AttackSetup& s, std::string_view v) {
            double x = 0;
            if (!ParseNumber(v, x) || x < lo || x > hi || (lo_open && x == lo)) {
              return NotAllowed(kind, name, v, allowed);
            }
            access(s) = x;
            return Status::Ok();
          },
          [=](const AttackSetup& s) { return fmt::format("{}", access(s)); }};
}

constexpr std::uint64_t kMaxSeed = std::numeric_limits<std::uint64_t>::max();
constexpr TimeUs kOneDayUs = 86'400'000'000;
constexpr std::size_t kMaxCount = 1'000'000;

std::vector<Field> SdaFields() {
  constexpr AttackKind k = AttackKind::kSda;
  std::vector<Field> f;
  f.push_back(Whole<std::size_t>(
      k, "recipients", "N, the possible recipients", 2, 10'000'000,
      [](auto& s) -> auto& { return s.sda.recipients; }));
  f.push_back(Whole<std::size_t>(
      k, "batch_size", "b, the threshold of the mix", 2, kMaxCount,
      [](auto& s) -> auto& { return s.sda.batch_size; }));
  f.push_back(Whole<std::size_t>(
      k, "friends", "m, Alice's friends (fewer than recipients)", 1, 10'000'000 - 1,
      [](auto& s) -> auto& { return s.sda.friends; }));
  f.push_back(Real(
      k, "alice_participation", "chance that Alice sends in a round", 0.001, 1, false,
      [](auto& s) -> auto& { return s.sda.alice_participation; }));
  f.push_back(Whole<std::size_t>(
      k, "repetitions", "independent attacks (set by --repetitions)", 1, 1'000'000,
      [](auto& s) -> auto& { return s.sda.repetitions; }));
  f.push_back(Whole<std::size_t>(
      k, "max_alice_rounds", "give up after this many of Alice's rounds", 1, 1'000'000'000,
      [](auto& s) -> auto& { return s.sda.max_alice_rounds; }));
  f.push_back(Whole<std::uint64_t>(
      k, "seed", "master seed (set by --seed)", 0, kMaxSeed,
      [](auto& s) -> auto& { return s.sda.seed; }));
  return f;
}

Field PolicyField() {
  constexpr AttackKind k = AttackKind::kFlooding;
  std::string allowed = "one of threshold-timeout | timed | pool | continuous";
  return {"policy", "the mix's policy (mixnode/policy.h)", allowed,
          [=](AttackSetup& s, std::string_view v) {
            auto kind = mixnode::ParsePolicyKind(v);
            if (!kind.ok()) return NotAllowed(k, "policy", v, allowed);
            s.flooding.policy.kind = *kind;
            return Status::Ok();
          },
          [](const AttackSetup& s) {
            return std::string(mixnode::PolicyKindName(s.flooding.policy.kind));
          }};
}

std::vector<Field> FloodingFields() {
  constexpr AttackKind k = AttackKind::kFlooding;
  std::vector<Field> f;
  f.push_back(PolicyField());
  f.push_back(Whole<std::size_t>(
      k, "threshold", "threshold-timeout: batch size n", 1, kMaxCount,
      [](auto& s) -> auto& { return s.flooding.policy.threshold; }));
  f.push_back(Whole<TimeUs>(
      k, "timeout_us", "threshold-timeout: timeout t, microseconds", 1, kOneDayUs,
      [](auto& s) -> auto& { return s.flooding.policy.timeout_us; }));
  f.push_back(Whole<TimeUs>(
      k, "period_us", "timed and pool: period, microseconds", 1, kOneDayUs,
      [](auto& s) -> auto& { return s.flooding.policy.period_us; }));
  f.push_back(Real(
      k, "keep_fraction", "pool: fraction kept each round", 0, 0.999999, false,
      [](auto& s) -> auto& { return s.flooding.policy.keep_fraction; }));
  f.push_back(Whole<std::size_t>(
      k, "min_keep", "pool: at least this many kept each round", 0, kMaxCount,
      [](auto& s) -> auto& { return s.flooding.policy.min_keep; }));
  f.push_back(Whole<TimeUs>(
      k, "mean_delay_us", "continuous: mean delay, microseconds", 1, kOneDayUs,
      [](auto& s) -> auto& { return s.flooding.policy.mean_delay_us; }));
  f.push_back(Whole<std::size_t>(
      k, "min_batch", "batch policies: pad each round with dummies", 0, kMaxCount,
      [](auto& s) -> auto& { return s.flooding.policy.min_batch; }));
  f.push_back(Real(
      k, "honest_rate_per_s", "honest arrivals per second before the attack", 1e-6, 1e6, false,
      [](auto& s) -> auto& { return s.flooding.honest_rate_per_s; }));
  f.push_back(Real(
      k, "warmup_s", "honest traffic before the attack, seconds", 0, 1e6, true,
      [](auto& s) -> auto& { return s.flooding.warmup_s; }));
  f.push_back(Whole<std::size_t>(
      k, "flood_per_round", "timed, pool: attacker packets per round (0: a normal round's)", 0,
      kMaxCount, [](auto& s) -> auto& { return s.flooding.flood_per_round; }));
  f.push_back(Whole<std::size_t>(
      k, "max_rounds", "rounds with the target inside before giving up", 1, kMaxCount,
      [](auto& s) -> auto& { return s.flooding.max_rounds; }));
  f.push_back(Real(
      k, "mix_loop_rate_per_s",
      "the mix's own loop cover per second, 0 or >= 1e-6 (a blocked loop = detected)", 0, 1e6,
      false, [](auto& s) -> auto& { return s.flooding.mix_loop_rate_per_s; }));
  f.push_back(Whole<std::size_t>(
      k, "trials", "independent attacks (set by --repetitions)", 1, 10'000'000,
      [](auto& s) -> auto& { return s.flooding.trials; }));
  f.push_back(Whole<std::uint64_t>(
      k, "seed", "master seed (set by --seed)", 0, kMaxSeed,
      [](auto& s) -> auto& { return s.flooding.seed; }));
  return f;
}

std::vector<Field> TimingFields() {
  constexpr AttackKind k = AttackKind::kTiming;
  std::vector<Field> f;
  f.push_back(Whole<std::size_t>(
      k, "senders", "N, the senders", 2, 10'000'000,
      [](auto& s) -> auto& { return s.timing.senders; }));
  f.push_back(Real(
      k, "load", "λ/μ, arrivals per mean delay", 1e-6, 10'000, false,
      [](auto& s) -> auto& { return s.timing.load; }));
  f.push_back(Real(
      k, "mean_delay_s", "1/μ, mean delay per hop, seconds", 1e-6, 86'400, false,
      [](auto& s) -> auto& { return s.timing.mean_delay_s; }));
  f.push_back(Whole<std::size_t>(
      k, "hops", "continuous-time mixes in the cascade", 1, 10,
      [](auto& s) -> auto& { return s.timing.hops; }));
  f.push_back(Whole<std::size_t>(
      k, "messages", "outputs attacked per run (after the burn-in)", 1, 10'000'000,
      [](auto& s) -> auto& { return s.timing.messages; }));
  f.push_back(Real(
      k, "burn_in_delays", "burn-in, in mean end-to-end delays", 0, 1e6, false,
      [](auto& s) -> auto& { return s.timing.burn_in_delays; }));
  f.push_back(Real(
      k, "window_delays", "candidate window, in mean end-to-end delays", 0, 1000, true,
      [](auto& s) -> auto& { return s.timing.window_delays; }));
  f.push_back(Whole<std::size_t>(
      k, "repetitions",
      "independent runs, streams DeriveSeed(seed, point, r) (set by --repetitions)", 1, 1000,
      [](auto& s) -> auto& { return s.timing_repetitions; }));
  f.push_back(Whole<std::uint64_t>(
      k, "seed", "master seed (set by --seed)", 0, kMaxSeed,
      [](auto& s) -> auto& { return s.timing.seed; }));
  return f;
}

const std::vector<Field>& Fields(AttackKind kind) {
  static const std::vector<Field> sda = SdaFields();
  static const std::vector<Field> flooding = FloodingFields();
  static const std::vector<Field> timing = TimingFields();
  switch (kind) {
    case AttackKind::kSda:
      return sda;
    case AttackKind::kFlooding:
      return flooding;
    case AttackKind::kTiming:
      break;
  }
  return timing;
}

const Field* FindField(AttackKind kind, std::string_view name) {
  for (const Field& f : Fields(kind)) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

std::string FieldList(AttackKind kind) {
  std::string out;
  for (const Field& f : Fields(kind)) out += (out.empty() ? "" : ", ") + std::string(f.name);
  return out;
}

}  // namespace

Result<AttackKind> ParseAttackKind(std::string_view name) {
  if (name == "sda") return AttackKind::kSda;
  if (name == "flood") return AttackKind::kFlooding;
  if (name == "timing") return AttackKind::kTiming;
  return Status::InvalidArgument(
      fmt::format("unknown attack '{}': it must be one of sda | flood | timing", name));
}

std::string_view AttackKindName(AttackKind kind) {
  switch (kind) {
    case AttackKind::kSda:
      return "sda";
    case AttackKind::kFlooding:
      return "flood";
    case AttackKind::kTiming:
      break;
  }
  return "timing";
}

Status AttackSetup::Validate() const {
  switch (kind) {
    case AttackKind::kSda:
      return sda.Validate();
    case AttackKind::kFlooding:
      return flooding.Validate();
    case AttackKind::kTiming:
      break;
  }
  if (timing_repetitions < 1 || timing_repetitions > 1000) {
    return Status::InvalidArgument(
        fmt::format("timing field repetitions = {} is out of range: it must be in [1, 1000]",
                    timing_repetitions));
  }
  return timing.Validate();
}

Status SetAttackField(AttackSetup& setup, std::string_view field, std::string_view value) {
  const Field* f = FindField(setup.kind, field);
  if (f == nullptr) {
    return Status::InvalidArgument(fmt::format("unknown {} field '{}': it must be one of {}",
                                               AttackKindName(setup.kind), field,
                                               FieldList(setup.kind)));
  }
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  return f->set(setup, value);
}

Result<std::string> GetAttackField(const AttackSetup& setup, std::string_view field) {
  const Field* f = FindField(setup.kind, field);
  if (f == nullptr) {
    return Status::NotFound(
        fmt::format("unknown {} field '{}'", AttackKindName(setup.kind), field));
  }
  return f->get(setup);
}

std::vector<std::string_view> AttackFields(AttackKind kind) {
  std::vector<std::string_view> out;
  for (const Field& f : Fields(kind)) out.push_back(f.name);
  return out;
}

std::string AttackFieldsHelp(AttackKind kind) {
  AttackSetup defaults;
  defaults.kind = kind;
  std::string out;
  for (const Field& f : Fields(kind)) {
    out +=
        fmt::format("  {:<20} {} (default {}; {})\n", f.name, f.help, f.get(defaults), f.allowed);
  }
  return out;
}

std::string_view RepetitionsField(AttackKind kind) {
  return kind == AttackKind::kFlooding ? "trials" : "repetitions";
}

}  // namespace sotto::sim::attacks
