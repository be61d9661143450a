// SendTracker (send_tracker.h): acks, resends and give-ups, the same for every kind of packet.
#include "send_tracker.h"

#include <algorithm>

namespace sotto::client {
namespace {
constexpr std::size_t kLateAcksRemembered = 64;
}

SendTracker::Outcome SendTracker::GiveUp(const Entry& e) {
  if (e.packet.kind == PacketKind::kReal) {
    given_up_.emplace_back(e.packet.seq, e.packet.outbox_seq);
    if (given_up_.size() > kLateAcksRemembered) given_up_.pop_front();
  }
  return Outcome{e.packet.kind, e.packet.outbox_seq};
}

std::optional<SendTracker::Outcome> SendTracker::Add(Packet packet, TimePoint now) {
  std::optional<Outcome> evicted;
  if (pending_.size() >= limits_.max_pending && !pending_.empty()) {
    evicted = GiveUp(pending_.front());
    pending_.pop_front();
  }
  pending_.push_back(Entry{std::move(packet), 1, now + limits_.ack_timeout});
  return evicted;
}

std::optional<SendTracker::Resend> SendTracker::TakeResend(TimePoint now) {
  for (auto& e : pending_) {
    if (e.deadline <= now && e.attempts < limits_.max_attempts) {
      ++e.attempts;
      e.deadline = now + limits_.ack_timeout;
      return Resend{e.packet.seq, &e.packet.frame, e.packet.kind};
    }
  }
  return std::nullopt;
}

void SendTracker::ResendNotSent(std::uint64_t seq, TimePoint now) {
  for (auto& e : pending_) {
    if (e.packet.seq == seq) {
      if (e.attempts > 1) --e.attempts;
      e.deadline = now;  // still due: the next slot tries again
      return;
    }
  }
}

std::optional<SendTracker::Outcome> SendTracker::Ack(std::uint64_t seq) {
  const auto it = std::find_if(pending_.begin(), pending_.end(),
                               [&](const Entry& e) { return e.packet.seq == seq; });
  if (it == pending_.end()) return std::nullopt;
  Outcome out{it->packet.kind, it->packet.outbox_seq};
  pending_.erase(it);
  return out;
}

std::optional<std::uint64_t> SendTracker::LateAck(std::uint64_t seq) {
  const auto it = std::find_if(given_up_.begin(), given_up_.end(),
                               [&](const auto& p) { return p.first == seq; });
  if (it == given_up_.end()) return std::nullopt;
  const auto outbox_seq = it->second;
  given_up_.erase(it);
  return outbox_seq;
}

std::vector<SendTracker::Outcome> SendTracker::Expire(TimePoint now, std::uint64_t current_epoch) {
  std::vector<Outcome> out;
  for (auto it = pending_.begin(); it != pending_.end();) {
    const bool due = it->deadline <= now;
    const bool exhausted = it->attempts >= limits_.max_attempts;
    const bool stale = it->packet.epoch < current_epoch;
    if (due && (exhausted || stale)) {
      out.push_back(GiveUp(*it));
      it = pending_.erase(it);
    } else {
      ++it;
    }
  }
  return out;
}

}  // namespace sotto::client
