// The client daemon's traffic schedule (client_lib/src/schedule.h, client-spec §3): Poisson
// streams at their rates, a steady fetch grid, the ACK a fixed delay after each MAIL reply,
// and — the property the wire relies on — nothing but the ACKs depends on the mail.
#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <cmath>
#include <map>
#include <vector>

#include "schedule.h"
#include "sotto/core/random.h"

namespace sotto::client {
namespace {

using namespace std::chrono_literals;
using TimePoint = TrafficSchedule::TimePoint;

struct Event {
  ScheduleEvent kind;
  TimePoint at;
  bool operator==(const Event&) const = default;
};

// Every event up to `end`, jumping from one to the next (as a thread that wakes on time would).
// `on_fetch` is called at every fetch (a test may answer it with a MAIL reply).
template <class F>
std::vector<Event> RunUntil(TrafficSchedule& s, TimePoint start, TimePoint end, F on_fetch) {
  std::vector<Event> out;
  for (auto now = start; now < end;) {
    now = std::max(now, s.NextDue());
    if (now >= end) break;
    while (auto e = s.PopDue(now)) {
      out.push_back({*e, now});
      if (*e == ScheduleEvent::kFetch) on_fetch(now);
    }
  }
  return out;
}

// One-sample Kolmogorov-Smirnov statistic of `xs` against Exp(rate).
double KsExponential(std::vector<double> xs, double rate) {
  std::sort(xs.begin(), xs.end());
  double d = 0;
  const double n = static_cast<double>(xs.size());
  for (std::size_t i = 0; i < xs.size(); ++i) {
    const double f = 1 - std::exp(-rate * xs[i]);
    d = std::max({d, std::abs(f - static_cast<double>(i) / n),
                  std::abs(static_cast<double>(i + 1) / n - f)});
  }
  return d;
}

const TrafficRates kRates{600, 60, 120, 500};

TEST_CASE("schedule: each stream keeps its Poisson rate; fetches are a steady grid",
          "[client][schedule]") {
  auto rng = DeterministicRng::FromByte(1);
  TrafficSchedule s(rng);
  const TimePoint t0{};
  s.SetRates(kRates, t0);
  const auto events = RunUntil(s, t0, t0 + 3600s, [](TimePoint) {});
  std::map<ScheduleEvent, std::vector<TimePoint>> by;
  for (const auto& e : events) by[e.kind].push_back(e.at);
  // Counts within 4 standard deviations of λT (fixed seed: this is deterministic).
  const auto within = [](std::size_t n, double mean) {
    return std::abs(static_cast<double>(n) - mean) <= 4 * std::sqrt(mean);
  };
  CHECK(within(by[ScheduleEvent::kPayload].size(), 600 * 60));
  CHECK(within(by[ScheduleEvent::kLoop].size(), 60 * 60));
  CHECK(within(by[ScheduleEvent::kDrop].size(), 120 * 60));
  CHECK(by[ScheduleEvent::kAck].empty());  // no MAIL, no ACK
  const auto& fetches = by[ScheduleEvent::kFetch];
  REQUIRE(fetches.size() == 7200);
  for (std::size_t i = 1; i < fetches.size(); ++i) CHECK(fetches[i] - fetches[i - 1] == 500ms);
  // Payload gaps are exponential: KS against Exp(10/s) below the α = 0.01 critical value.
  std::vector<double> gaps;
  const auto& p = by[ScheduleEvent::kPayload];
  for (std::size_t i = 1; i < p.size(); ++i) {
    gaps.push_back(std::chrono::duration<double>(p[i] - p[i - 1]).count());
  }
  const double d = KsExponential(gaps, 10.0);
  INFO("KS D = " << d << " over " << gaps.size() << " gaps");
  CHECK(d < 1.63 / std::sqrt(static_cast<double>(gaps.size())));
}

TEST_CASE("schedule: nothing but the ACKs depends on what the fetches brought",
          "[client][schedule]") {
  const TimePoint t0{};
  auto rng_a = DeterministicRng::FromByte(2);
  auto rng_b = DeterministicRng::FromByte(2);
  auto pick = DeterministicRng::FromByte(9);
  auto jitter = DeterministicRng::FromByte(5);
  TrafficSchedule busy(rng_a, jitter), idle(rng_b);
  busy.SetRates(kRates, t0);
  idle.SetRates(kRates, t0);
  std::vector<TimePoint> mails;
  // The busy client's provider answers some fetches after 0.3 ms, some after 40 ms.
  const auto busy_events = RunUntil(busy, t0, t0 + 600s, [&](TimePoint at) {
    const auto delay = UniformBelow(pick, 2) == 0 ? 300us : 40ms;
    mails.push_back(at + delay);
    busy.MailArrived(at + delay);
  });
  const auto idle_events = RunUntil(idle, t0, t0 + 600s, [](TimePoint) {});
  std::vector<Event> busy_slots, acks;
  for (const auto& e : busy_events)
    (e.kind == ScheduleEvent::kAck ? acks : busy_slots).push_back(e);
  CHECK(busy_slots == idle_events);  // the same packets and fetches, at the same times
  // One ACK per MAIL, AckDelay plus a jitter in [0, AckJitter) after it, whatever the MAIL
  // held (here: whenever it came).
  REQUIRE(acks.size() + 1 >= mails.size());
  CHECK(busy.AckDelay() == 250ms);
  CHECK(busy.AckJitter() == 31250us);
  double sum_us = 0;
  for (std::size_t i = 0; i < acks.size(); ++i) {
    const auto extra = acks[i].at - (mails[i] + busy.AckDelay());
    CHECK(extra >= 0us);
    CHECK(extra < busy.AckJitter());
    sum_us += std::chrono::duration<double, std::micro>(extra).count();
  }
  // The jitter is uniform: its mean is AckJitter/2 within 5 standard errors (σ = J/√12).
  REQUIRE(acks.size() > 200);
  const double mean = sum_us / static_cast<double>(acks.size());
  const double se = 31250.0 / std::sqrt(12.0 * static_cast<double>(acks.size()));
  CHECK(std::abs(mean - 15625.0) < 5 * se);
}

TEST_CASE("schedule: a late wake-up catches up at most kMaxBacklog of events",
          "[client][schedule]") {
  auto rng = DeterministicRng::FromByte(3);
  TrafficSchedule s(rng);
  const TimePoint t0{};
  s.SetRates({600, 0, 0, 0}, t0);
  // Asleep for 60 s: about 10/s × 5 s come out at once, not 600.
  std::size_t burst = 0;
  while (s.PopDue(t0 + 60s)) ++burst;
  INFO("events caught up: " << burst);
  CHECK(burst > 20);
  CHECK(burst < 100);
  CHECK(s.NextDue() > t0 + 60s);
}

TEST_CASE("schedule: rates start, change and stop streams", "[client][schedule]") {
  auto rng = DeterministicRng::FromByte(4);
  TrafficSchedule s(rng);
  const TimePoint t0{};
  CHECK(s.NextDue() == TimePoint::max());
  s.SetRates({0, 0, 60, 0}, t0);
  const auto first = s.NextDue();
  CHECK(first > t0);
  s.SetRates({60, 0, 120, 0}, t0 + 1ms);  // drop changes rate: its next event stays
  CHECK(s.NextDue() <= first);
  std::size_t payload = 0, drop = 0;
  for (auto e : RunUntil(s, t0, t0 + 600s, [](TimePoint) {})) {
    (e.kind == ScheduleEvent::kPayload ? payload : drop)++;
  }
  CHECK(payload > 400);
  CHECK(drop > 900);
  s.SetRates({0, 0, 0, 0}, t0 + 600s);
  CHECK(s.NextDue() == TimePoint::max());
  CHECK(TrafficSchedule::AckDelayFor(2000) == 1000ms);
  CHECK(TrafficSchedule::AckDelayFor(20) == 50ms);
  CHECK(TrafficSchedule::AckDelayFor(60000) == 1000ms);
  CHECK(TrafficSchedule::AckJitterFor(2000) == 125ms);
  CHECK(TrafficSchedule::AckJitterFor(20) == 6250us);
}

}  // namespace
}  // namespace sotto::client
