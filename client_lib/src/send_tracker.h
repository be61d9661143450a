// SendTracker: the packets the client has put on its provider link and not yet seen
// acknowledged (papers/client-spec.md §3.3), real and cover alike — the client's side of leak 3
// of issue 9: a provider that withholds an ack must see the same behaviour whatever the packet.
//
//   - Every packet gets a fresh random 64-bit seq, and its PACKET frame is kept as sent.
//   - A packet whose ack is overdue (ack_timeout) is resent, byte for byte the same frame, in the
//     next slot of any stream, in place of that slot's packet; at most max_attempts sends in
//     all. The provider's replay cache drops a copy that arrives twice and acknowledges it.
//   - A packet is given up when its last attempt went unacknowledged, or when its resend is due
//     but the epoch whose keys built it is over (its Sphinx header would no longer open). A
//     given-up real packet goes back to the engine, which seals its message again (fresh bytes);
//     cover is forgotten. Whatever the kind, the wire sees the same thing.
//   - At most max_pending packets are tracked; adding one more gives up the oldest first, so
//     the memory is bounded whatever the provider does.
// A late ack for a given-up real packet is still reported (LateAck), so the engine can stop
// sending its message again. Pure: times are passed in. Not thread-safe (the wire thread).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include "sotto/core/bytes.h"

namespace sotto::client {

enum class PacketKind : std::uint8_t { kReal, kLoop, kDrop };

class SendTracker {
 public:
  using Clock = std::chrono::steady_clock;
  using TimePoint = Clock::time_point;

  struct Limits {
    std::size_t max_pending = 64;    // ~64 × 2.5 KB
    std::uint32_t max_attempts = 3;  // the first send and two resends
    std::chrono::milliseconds ack_timeout{2000};
  };

  struct Packet {
    std::uint64_t seq = 0;
    Bytes frame;  // the encoded PACKET message, resent as is
    PacketKind kind = PacketKind::kDrop;
    std::uint64_t outbox_seq = 0;  // real packets: the engine's outbox entry
    std::uint64_t epoch = 0;       // the consensus epoch whose keys built it
  };
  struct Resend {
    std::uint64_t seq;
    const Bytes* frame;  // valid until the next call that changes the tracker
    PacketKind kind;
  };
  struct Outcome {  // an ack, or a packet given up
    PacketKind kind;
    std::uint64_t outbox_seq;
  };

  explicit SendTracker(Limits limits) : limits_(limits) {}

  // A packet just sent for the first time. If the table is full, the oldest packet is given up
  // to make room, and returned.
  std::optional<Outcome> Add(Packet packet, TimePoint now);
  // The oldest packet whose ack is overdue and that may still be resent; its attempt is counted.
  // Call Expire first, so that only packets with attempts left and a current epoch remain due.
  std::optional<Resend> TakeResend(TimePoint now);
  // The resend just taken could not be handed to the socket: it did not leave, so its count is
  // undone and it stays due for the next slot.
  void ResendNotSent(std::uint64_t seq, TimePoint now);
  // A PACKET_ACK: the packet, if we were waiting for it (removed); nullopt otherwise.
  std::optional<Outcome> Ack(std::uint64_t seq);
  // For an ack Ack() did not know: the outbox seq of a real packet given up recently.
  std::optional<std::uint64_t> LateAck(std::uint64_t seq);
  // Gives up (removes and returns) packets whose last attempt is overdue, and packets whose
  // resend is due while `current_epoch` is past the epoch that built them.
  std::vector<Outcome> Expire(TimePoint now, std::uint64_t current_epoch);

  std::size_t size() const { return pending_.size(); }
  const Limits& limits() const { return limits_; }

 private:
  struct Entry {
    Packet packet;
    std::uint32_t attempts = 0;
    TimePoint deadline;
  };
  Outcome GiveUp(const Entry& e);
  Limits limits_;
  std::deque<Entry> pending_;                                     // in order of first sending
  std::deque<std::pair<std::uint64_t, std::uint64_t>> given_up_;  // (seq, outbox seq), real only
};

}  // namespace sotto::client
