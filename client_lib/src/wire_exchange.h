// WireExchange: what the engine thread and the wire thread hand each other (papers/client-spec.md
// §1.1). The wire thread never waits for the engine: every call here takes one short lock and
// returns; the engine is woken through an eventfd (doorbell()) when something arrives for it.
//
//   engine → wire   sealed messages ready for payload slots (Offer; a few at a time), the
//                   outcome of each fetched item (MailResult), the consensus (from the
//                   directory thread, SetConsensus)
//   wire → engine   fetched mail items (PostMail), what became of real packets (PostOutcome:
//                   acknowledged, given up, or returned unsent), counters, the last link error
// Queues towards the engine are bounded (kMaxQueued); an item that does not fit is dropped and
// counted: a dropped mail item stays at the provider (it was never acknowledged), a dropped
// outcome only delays a message (given up later, or sent again and recognised as a duplicate).
// Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "packet_builder.h"
#include "sotto/core/directory.h"

namespace sotto::client {

struct FetchedMail {
  std::uint64_t id = 0;  // the provider's item id
  Bytes payload;
};

enum class OutcomeKind : std::uint8_t {
  kAcked,     // my provider has it (also a late ack after a give-up)
  kGaveUp,    // no ack after every attempt, or its epoch passed: seal it again, send later
  kReturned,  // never left (no connection, or not routable any more): it may be offered again
};
struct PacketOutcome {
  OutcomeKind kind;
  std::uint64_t outbox_seq;
};

// Counters of the wire thread, read by `sotto status`.
struct WireCounters {
  std::atomic<std::uint64_t> sent_real{0}, sent_loop{0}, sent_drop{0};  // fresh packets
  std::atomic<std::uint64_t> resent_real{0}, resent_cover{0};           // the same frame again
  std::atomic<std::uint64_t> acked{0}, late_acks{0};
  std::atomic<std::uint64_t> gave_up_real{0}, gave_up_cover{0};
  std::atomic<std::uint64_t> unsent{0};  // slots that carried nothing: no connection
  std::atomic<std::uint64_t> pending_acks{0};
  std::atomic<std::uint64_t> fetches{0}, mail_replies{0}, acks_sent{0}, mail_items{0};
  std::atomic<std::uint64_t> provider_errors{0}, dropped_events{0};
  std::atomic<std::int64_t> last_mail_unix{0};
  std::atomic<bool> connected{false};
};

class WireExchange {
 public:
  static constexpr std::size_t kMaxQueued = 4096;

  WireExchange();  // aborts if no eventfd can be made (out of file descriptors at start-up)
  ~WireExchange();
  WireExchange(const WireExchange&) = delete;
  WireExchange& operator=(const WireExchange&) = delete;

  // ---- both ----
  void SetConsensus(std::shared_ptr<const directory::Consensus> consensus);
  std::shared_ptr<const directory::Consensus> consensus() const;
  void SetError(std::string what);  // the last problem with the link or the directory
  std::string error() const;
  WireCounters counters;
  std::atomic<bool> stop{false};

  // ---- engine → wire ----
  void Offer(ReadyPacket packet);
  std::size_t offered() const;
  void MailResult(std::uint64_t id, bool stored);

  // ---- wire side ----
  std::optional<ReadyPacket> TakeOffered();
  void PutBackOffered(ReadyPacket packet);  // it did not leave: first in line again
  std::vector<std::pair<std::uint64_t, bool>> TakeMailResults();
  void PostMail(std::vector<FetchedMail> items);
  void PostOutcome(PacketOutcome outcome);

  // ---- engine side ----
  int doorbell() const { return doorbell_; }  // readable when Drain() has something
  struct Drained {
    std::vector<FetchedMail> mail;
    std::vector<PacketOutcome> outcomes;
    bool consensus_changed = false;
  };
  Drained Drain();  // also clears the doorbell

 private:
  void Ring();
  int doorbell_ = -1;
  mutable std::mutex mu_;
  std::shared_ptr<const directory::Consensus> consensus_;
  bool consensus_changed_ = false;
  std::string error_;
  std::deque<ReadyPacket> offered_;
  std::vector<std::pair<std::uint64_t, bool>> mail_results_;
  std::vector<FetchedMail> mail_;
  std::vector<PacketOutcome> outcomes_;
};

}  // namespace sotto::client
