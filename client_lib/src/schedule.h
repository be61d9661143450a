// TrafficSchedule: WHEN the client puts something on its provider link (papers/client-spec.md
// §3). Three Poisson streams — payload, loop and drop, each with exponential gaps on its own
// clock — the steady fetch timer, and the ACK that follows each MAIL reply by a fixed delay plus
// a fresh uniform jitter.
// It decides only the times; what a slot carries is the wire loop's business (wire_loop.h), and
// nothing the engine does (mail, store, commands) can move an event.
//
// A late event (the thread was descheduled) is followed by the next draw from the time it was
// due, so the long-run rate is the configured one; at most kMaxBacklog of events are caught up.
// Pure: the caller passes the time, randomness comes from the Rng given. Not thread-safe: the
// wire thread owns it.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>

#include "sotto/core/random.h"

namespace sotto::client {

enum class ScheduleEvent : std::uint8_t { kPayload, kLoop, kDrop, kFetch, kAck };

struct TrafficRates {
  std::uint32_t send_per_min = 0;  // payload stream
  std::uint32_t loop_per_min = 0;
  std::uint32_t drop_per_min = 0;
  std::uint32_t fetch_interval_ms = 0;  // 0: no fetches
  friend bool operator==(const TrafficRates&, const TrafficRates&) = default;
};

class TrafficSchedule {
 public:
  using Clock = std::chrono::steady_clock;
  using TimePoint = Clock::time_point;

  static constexpr auto kMaxBacklog = std::chrono::seconds(5);
  // The ACK after a MAIL reply leaves AckDelay + U[0, AckJitter) after the reply's arrival:
  // half the fetch interval, within [50 ms, 1 s], plus up to an eighth of that. The delay is
  // fixed, so the ACK's time says nothing about what the MAIL held; the jitter, drawn afresh
  // for every ACK, drowns what the machine's scheduling can still add or take (tens of µs to
  // a ms, when other work competes for the cores: client-spec §3.2).
  static std::chrono::milliseconds AckDelayFor(std::uint32_t fetch_interval_ms);
  static std::chrono::microseconds AckJitterFor(std::uint32_t fetch_interval_ms);
  // One ACK's delay after its MAIL, drawn from `rng` (also for `sotto init`'s registration).
  static std::chrono::microseconds DrawAckDelay(std::uint32_t fetch_interval_ms, Rng& rng);

  // The streams draw from `rng`, the ACKs' jitter from `jitter_rng` (the same by default; a
  // test that compares two schedules passes separate ones, so that ACKs move no stream).
  explicit TrafficSchedule(Rng& rng) : rng_(rng), jitter_rng_(rng) {}
  TrafficSchedule(Rng& rng, Rng& jitter_rng) : rng_(rng), jitter_rng_(jitter_rng) {}

  // Sets or changes the rates. A stream without a rate so far starts at `now` (its first event
  // one draw later; the first fetch at `now`); a stream whose rate changes keeps its next event
  // and draws the following ones at the new rate; rate 0 stops it.
  void SetRates(const TrafficRates& rates, TimePoint now);
  const TrafficRates& rates() const { return rates_; }

  // A MAIL reply arrived at `at`: an ACK becomes due DrawAckDelay() later.
  void MailArrived(TimePoint at);
  std::chrono::milliseconds AckDelay() const { return AckDelayFor(rates_.fetch_interval_ms); }
  std::chrono::microseconds AckJitter() const { return AckJitterFor(rates_.fetch_interval_ms); }
  // Forgets the ACKs not yet due (their connection was replaced).
  void ForgetAcks() { acks_.clear(); }
  bool acks_pending() const { return !acks_.empty(); }

  // The earliest event due at or before `now`, removed (its stream's next event drawn), or
  // nullopt. Events come out in time order.
  std::optional<ScheduleEvent> PopDue(TimePoint now);
  TimePoint NextDue() const;  // TimePoint::max() if nothing is scheduled

 private:
  TimePoint Draw(TimePoint from, std::uint32_t per_minute);
  Rng& rng_;
  Rng& jitter_rng_;
  TrafficRates rates_;
  TimePoint next_payload_ = TimePoint::max();
  TimePoint next_loop_ = TimePoint::max();
  TimePoint next_drop_ = TimePoint::max();
  TimePoint next_fetch_ = TimePoint::max();
  std::deque<TimePoint> acks_;  // in time order (MAIL replies arrive in order)
};

}  // namespace sotto::client
