// MailLedger: the mailbox items the client has seen, by the provider's item id (network-spec
// §4.3: never 0 for a stored item, never reused), so that the ACK can leave at a fixed time
// after each MAIL reply (papers/client-spec.md §3.2) without ever acknowledging an item before
// it is stored:
//   new       → handed to the engine, state "processing"
//   Stored()  → "to acknowledge"; the next ACK carries it (up to 8 ids per ACK, oldest first)
//   Retry()   → forgotten: the item stays at the provider and a later fetch brings it again
//   NextAck() → "acknowledged", remembered for a while: if the same id comes back (our ACK was
//               lost), it is acknowledged again without being processed again
// An item that is fetched again while it is being processed, or waits for its ACK, is
// recognised by its id and skipped: no second trial decryption. Processing that never reports
// back is forgotten after `processing_timeout` (the item is then processed again; the engine
// recognises a duplicate by its message id). Bounded: the provider only returns the oldest
// unacknowledged items, and at most `remember` acknowledged ids are kept.
// Pure: times are passed in. Not thread-safe (the wire thread owns it).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <set>
#include <vector>

namespace sotto::client {

class MailLedger {
 public:
  using Clock = std::chrono::steady_clock;
  using TimePoint = Clock::time_point;

  explicit MailLedger(std::size_t remember = 1024,
                      std::chrono::seconds processing_timeout = std::chrono::seconds(60))
      : remember_(remember), timeout_(processing_timeout) {}

  // The ids of one MAIL reply (0 = padding, skipped). Returns the positions (in `ids`) of the
  // items to process now; marks them as being processed.
  std::vector<std::size_t> OnMail(const std::vector<std::uint64_t>& ids, TimePoint now);
  void Stored(std::uint64_t id);  // stored (or dropped for good): may be acknowledged
  void Retry(std::uint64_t id);   // not stored: forget it
  // The ids of the next ACK: up to `n` waiting ids, oldest first, then zeros — always `n` ids.
  std::vector<std::uint64_t> NextAck(std::size_t n);
  // The ACK with these ids could not be handed to the socket: they wait for the next one.
  void AckNotSent(const std::vector<std::uint64_t>& ids);
  // Forgets processing that took longer than the timeout.
  void Expire(TimePoint now);

  std::size_t processing() const { return processing_.size(); }
  std::size_t waiting() const { return to_ack_.size(); }

 private:
  void Remember(std::uint64_t id);
  std::size_t remember_;
  std::chrono::seconds timeout_;
  std::map<std::uint64_t, TimePoint> processing_;  // id → since when
  std::deque<std::uint64_t> to_ack_;               // stored, not yet acknowledged
  std::set<std::uint64_t> to_ack_set_;
  std::deque<std::uint64_t> acked_;  // acknowledged recently, oldest first
  std::set<std::uint64_t> acked_set_;
};

}  // namespace sotto::client
