// TrafficSchedule (schedule.h): the client's link events in time.
#include "schedule.h"

#include <algorithm>
#include <array>
#include <cmath>

namespace sotto::client {

std::chrono::milliseconds TrafficSchedule::AckDelayFor(std::uint32_t fetch_interval_ms) {
  return std::chrono::milliseconds(std::clamp<std::uint32_t>(fetch_interval_ms / 2, 50, 1000));
}

std::chrono::microseconds TrafficSchedule::AckJitterFor(std::uint32_t fetch_interval_ms) {
  return std::chrono::duration_cast<std::chrono::microseconds>(AckDelayFor(fetch_interval_ms)) / 8;
}

std::chrono::microseconds TrafficSchedule::DrawAckDelay(std::uint32_t fetch_interval_ms,
                                                        Rng& rng) {
  const auto jitter = AckJitterFor(fetch_interval_ms);
  return std::chrono::duration_cast<std::chrono::microseconds>(AckDelayFor(fetch_interval_ms)) +
         std::chrono::microseconds(
             UniformBelow(rng, static_cast<std::uint64_t>(jitter.count())));
}

TrafficSchedule::TimePoint TrafficSchedule::Draw(TimePoint from, std::uint32_t per_minute) {
  if (per_minute == 0) return TimePoint::max();
  const double seconds = -std::log(UniformOpenClosed(rng_)) * 60.0 / per_minute;
  return from + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
}

void TrafficSchedule::SetRates(const TrafficRates& rates, TimePoint now) {
  const auto update = [&](TimePoint& next, std::uint32_t old_rate, std::uint32_t rate) {
    if (rate == 0) {
      next = TimePoint::max();
    } else if (old_rate == 0 || next == TimePoint::max()) {
      next = Draw(now, rate);
    }
  };
  update(next_payload_, rates_.send_per_min, rates.send_per_min);
  update(next_loop_, rates_.loop_per_min, rates.loop_per_min);
  update(next_drop_, rates_.drop_per_min, rates.drop_per_min);
  if (rates.fetch_interval_ms == 0) {
    next_fetch_ = TimePoint::max();
  } else if (rates_.fetch_interval_ms == 0 || next_fetch_ == TimePoint::max()) {
    next_fetch_ = now;
  }
  rates_ = rates;
}

void TrafficSchedule::MailArrived(TimePoint at) {
  if (rates_.fetch_interval_ms == 0) return;
  const auto due = at + DrawAckDelay(rates_.fetch_interval_ms, jitter_rng_);
  // Replies arrive in order, so this keeps the queue sorted (an ACK never overtakes the one
  // before it, jitter or not); a bounded queue (a provider that floods us with MAIL replies
  // gets at most this many ACKs scheduled).
  if (acks_.size() < 64) acks_.push_back(std::max(due, acks_.empty() ? due : acks_.back()));
}

TrafficSchedule::TimePoint TrafficSchedule::NextDue() const {
  return std::min({next_payload_, next_loop_, next_drop_, next_fetch_,
                   acks_.empty() ? TimePoint::max() : acks_.front()});
}

std::optional<ScheduleEvent> TrafficSchedule::PopDue(TimePoint now) {
  const auto due = NextDue();
  if (due == TimePoint::max() || due > now) return std::nullopt;
  // The next event of a stream is drawn from the time this one was due, never more than
  // kMaxBacklog behind `now`.
  const auto advance = [&](TimePoint& next, std::uint32_t rate) {
    next = std::max(Draw(next, rate), now - kMaxBacklog);
  };
  if (!acks_.empty() && acks_.front() == due) {
    acks_.pop_front();
    return ScheduleEvent::kAck;
  }
  if (next_fetch_ == due) {
    const auto interval = std::chrono::milliseconds(rates_.fetch_interval_ms);
    next_fetch_ += interval;  // a steady grid, whatever the fetch found
    if (next_fetch_ + interval < now) next_fetch_ = now + interval;  // long asleep: resume
    return ScheduleEvent::kFetch;
  }
  if (next_payload_ == due) {
    advance(next_payload_, rates_.send_per_min);
    return ScheduleEvent::kPayload;
  }
  if (next_loop_ == due) {
    advance(next_loop_, rates_.loop_per_min);
    return ScheduleEvent::kLoop;
  }
  advance(next_drop_, rates_.drop_per_min);
  return ScheduleEvent::kDrop;
}

}  // namespace sotto::client
