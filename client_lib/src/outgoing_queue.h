// OutgoingQueue: the engine's side of sending (papers/client-spec.md §4): the outbox in the
// store, which entries the wire thread holds, and what happens when it reports back.
//
//   queued ──Offer──▶ held by the wire ──acked──▶ removed (a text becomes "sent")
//                         │  └─returned (never left)──▶ queued, as it is
//                         └─given up──▶ queued, to be SEALED AGAIN (fresh ciphertext) after a
//                                       back-off of 2^seals s (at most 5 min)
// An entry is counted as handed out on disk before the wire gets it (attempts + 1), so after a
// crash or restart an entry that may have left is sealed again before it leaves again: no two
// packets ever carry the same end-to-end ciphertext, and the recipient drops the duplicate
// message by its id. Receipts wait unsealed in the queue until their time (ReceiptPolicy) and
// are sealed when they are first offered, unless a text to the same person takes their ids
// first (then no receipt packet leaves at all). Entries written by older versions have no body:
// they are sent as they are and never sealed again. Not thread-safe: the engine thread owns it.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <vector>

#include "packet_builder.h"
#include "receipt_policy.h"
#include "sotto/client_lib/client_store.h"

namespace sotto::client {

class OutgoingQueue {
 public:
  // Seals an entry's body for its recipient (advancing and saving the session): a fresh
  // ciphertext every call. NotFound if the recipient is no longer a contact (the entry is then
  // dropped).
  using Sealer = std::function<Result<Bytes>(const OutboxEntry&)>;
  using Routable = std::function<bool(const sphinx::NodeId&)>;
  static constexpr std::int64_t kMaxBackoffMs = 300000;

  OutgoingQueue(ClientStore& store, Sealer sealer) : store_(store), seal_(std::move(sealer)) {}

  void Load();  // the index of what the store holds

  // A text, sealed now; its history entry and its queue entry are one write. Receipts waiting
  // for the same person ride inside it (up to kMaxReceiptsPerText ids; their own entries
  // shrink or go, after the text is stored). The body is kept (sealed at rest) for sealing
  // again.
  Status AddText(HistoryEntry entry, const ContactCode& to, MessageBody body, std::int64_t now_ms);
  // A receipt for message `id` to `to`, due per `policy`: joins a waiting receipt to the same
  // person if the policy allows and it has room, else starts a new one.
  Status AddReceipt(const ContactCode& to, const MessageId& id, ReceiptPolicy& policy,
                    std::int64_t now_ms);
  std::size_t DropReceipts();  // every receipt not yet handed out (receipts turned off)

  // Up to `max` entries to hand to the wire now (due, not held, recipient routable), oldest
  // first, each sealed (again) if needed and counted as handed out.
  std::vector<ReadyPacket> Offer(std::size_t max, std::int64_t now_ms, const Routable& routable);
  // What the wire reported. Acked returns the history id of a text (to mark it sent).
  std::optional<MessageId> Acked(std::uint64_t seq);
  void GaveUp(std::uint64_t seq, std::int64_t now_ms);
  void Returned(std::uint64_t seq, std::int64_t now_ms);

  std::size_t size() const { return index_.size(); }
  std::size_t receipts_waiting() const;
  std::size_t held() const;
  std::uint64_t reseals() const { return reseals_; }
  std::uint64_t receipts_in_texts() const { return receipts_in_texts_; }
  std::optional<std::string> TakeError();  // the last problem, once
  // The earliest time an entry not held becomes due (max if none).
  std::int64_t NextDue() const;

 private:
  struct Meta {
    OutboxKind kind = OutboxKind::kText;
    PublicKey peer;
    sphinx::NodeId provider{};
    std::int64_t not_before_ms = 0;
    bool held = false;
    bool sealed = false;     // has a ciphertext
    bool resealable = true;  // has a body
    std::uint32_t attempts = 0;
    std::size_t receipt_ids = 0;
  };
  void Index(const OutboxEntry& e);
  ClientStore& store_;
  Sealer seal_;
  std::map<std::uint64_t, Meta> index_;
  std::uint64_t reseals_ = 0;
  std::uint64_t receipts_in_texts_ = 0;
  std::optional<std::string> error_;
};

}  // namespace sotto::client
