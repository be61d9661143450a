// OutgoingQueue (outgoing_queue.h): queued messages, their sealing and their fate.
#include "outgoing_queue.h"

#include <sodium.h>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace sotto::client {
namespace {

void Wipe(Bytes& b) { sodium_memzero(b.data(), b.size()); }

std::int64_t BackoffMs(std::uint32_t seals) {
  return std::min<std::int64_t>(std::int64_t{1000} << std::min<std::uint32_t>(seals, 9),
                                OutgoingQueue::kMaxBackoffMs);
}

}  // namespace

void OutgoingQueue::Index(const OutboxEntry& e) {
  Meta m;
  m.kind = e.kind;
  m.peer = e.peer;
  m.provider = e.provider;
  m.not_before_ms = e.not_before_ms;
  m.sealed = !e.sphinx_message.empty();
  m.resealable = !e.body.empty();
  m.attempts = e.attempts;
  if (e.kind == OutboxKind::kReceipt && m.resealable) {
    if (auto body = DecodeBody(e.body); body.ok()) m.receipt_ids = body.value().receipts.size();
  }
  index_[e.seq] = m;
}

void OutgoingQueue::Load() {
  index_.clear();
  for (auto& e : store_.ListOutgoing()) {
    Index(e);
    Wipe(e.body);
  }
}

Status OutgoingQueue::AddText(HistoryEntry entry, const ContactCode& to, MessageBody body,
                              std::int64_t now_ms) {
  // Receipts waiting for this person ride along: oldest first, up to kMaxReceiptsPerText ids.
  struct Taken {
    std::uint64_t seq;
    std::vector<MessageId> rest;
  };
  std::vector<Taken> taken;
  for (const auto& [seq, m] : index_) {
    if (body.receipts.size() >= kMaxReceiptsPerText) break;
    if (m.kind != OutboxKind::kReceipt || m.held || m.sealed || !(m.peer == to.identity_key)) {
      continue;
    }
    auto waiting = store_.GetOutgoing(seq);
    if (!waiting.ok()) continue;
    auto receipt = DecodeBody(waiting.value().body);
    Wipe(waiting.value().body);
    if (!receipt.ok()) continue;
    auto& ids = receipt.value().receipts;
    std::size_t n = 0;
    while (n < ids.size() && body.receipts.size() < kMaxReceiptsPerText) {
      body.receipts.push_back(ids[n++]);
    }
    taken.push_back(
        {seq, std::vector<MessageId>(ids.begin() + static_cast<std::ptrdiff_t>(n), ids.end())});
  }
  auto encoded = EncodeBody(body);
  if (!encoded.ok()) return encoded.status();
  OutboxEntry out;
  out.id = entry.id;
  out.peer = to.identity_key;
  out.provider = to.provider;
  out.mailbox = to.mailbox;
  out.kind = OutboxKind::kText;
  out.queued_unix = now_ms / 1000;
  out.body = std::move(encoded.value());
  auto sealed = seal_(out);
  if (!sealed.ok()) {
    Wipe(out.body);
    return sealed.status();
  }
  out.sphinx_message = std::move(sealed.value());
  auto added = store_.AddHistory(std::move(entry), out);
  if (!added.ok()) {
    Wipe(out.body);
    return added.status();
  }
  out.seq = added.value() + 1;  // AddHistory gives the packet the next sequence number
  Index(out);
  Wipe(out.body);
  // The text is stored: the receipts it carries leave with it. (A crash before this point
  // sends them a second time on their own, which only marks delivered what already is.)
  for (auto& t : taken) {
    receipts_in_texts_ += index_[t.seq].receipt_ids - t.rest.size();
    if (t.rest.empty()) {
      if (store_.RemoveOutgoing(t.seq).ok()) index_.erase(t.seq);
      continue;
    }
    auto waiting = store_.GetOutgoing(t.seq);
    if (!waiting.ok()) continue;
    auto receipt = DecodeBody(waiting.value().body);
    Wipe(waiting.value().body);
    if (!receipt.ok()) continue;
    receipt.value().receipts = t.rest;
    auto re = EncodeBody(receipt.value());
    if (!re.ok()) continue;
    waiting.value().body = std::move(re.value());
    if (store_.UpdateOutgoing(waiting.value()).ok()) index_[t.seq].receipt_ids = t.rest.size();
    Wipe(waiting.value().body);
  }
  return Status::Ok();
}

Status OutgoingQueue::AddReceipt(const ContactCode& to, const MessageId& id, ReceiptPolicy& policy,
                                 std::int64_t now_ms) {
  for (auto& [seq, m] : index_) {
    if (m.kind != OutboxKind::kReceipt || m.held || m.sealed || !(m.peer == to.identity_key) ||
        m.receipt_ids >= ReceiptPolicy::kIdsPerReceipt ||
        !policy.MayJoin(m.not_before_ms, now_ms)) {
      continue;
    }
    auto entry = store_.GetOutgoing(seq);
    if (!entry.ok()) continue;
    auto body = DecodeBody(entry.value().body);
    if (!body.ok()) continue;
    body.value().receipts.push_back(id);
    auto encoded = EncodeBody(body.value());
    Wipe(entry.value().body);
    if (!encoded.ok()) continue;
    entry.value().body = std::move(encoded.value());
    const auto s = store_.UpdateOutgoing(entry.value());
    Wipe(entry.value().body);
    if (!s.ok()) return s;
    m.receipt_ids = body.value().receipts.size();
    return Status::Ok();
  }
  MessageBody receipt;
  receipt.type = BodyType::kReceipt;
  SystemRng().Fill(receipt.id);
  receipt.sent_unix = now_ms / 1000;
  receipt.receipts = {id};
  auto encoded = EncodeBody(receipt);
  if (!encoded.ok()) return encoded.status();
  OutboxEntry out;
  out.id = receipt.id;
  out.peer = to.identity_key;
  out.provider = to.provider;
  out.mailbox = to.mailbox;
  out.kind = OutboxKind::kReceipt;
  out.queued_unix = now_ms / 1000;
  out.not_before_ms = policy.DueAt(now_ms);
  out.body = std::move(encoded.value());
  auto seq = store_.Enqueue(out);
  Wipe(out.body);
  if (!seq.ok()) return seq.status();
  out.seq = seq.value();
  Index(out);
  index_[out.seq].receipt_ids = 1;
  return Status::Ok();
}

std::size_t OutgoingQueue::DropReceipts() {
  std::size_t n = 0;
  for (auto it = index_.begin(); it != index_.end();) {
    if (it->second.kind == OutboxKind::kReceipt && !it->second.held &&
        store_.RemoveOutgoing(it->first).ok()) {
      it = index_.erase(it);
      ++n;
    } else {
      ++it;
    }
  }
  return n;
}

std::vector<ReadyPacket> OutgoingQueue::Offer(std::size_t max, std::int64_t now_ms,
                                              const Routable& routable) {
  std::vector<ReadyPacket> out;
  for (auto it = index_.begin(); it != index_.end() && out.size() < max;) {
    const auto seq = it->first;
    Meta& m = it->second;
    if (m.held || m.not_before_ms > now_ms || !routable(m.provider)) {
      ++it;
      continue;
    }
    auto entry = store_.GetOutgoing(seq);
    if (!entry.ok()) {
      if (entry.status().code() == Status::Code::kNotFound) {
        it = index_.erase(it);
      } else {
        error_ = "a queued message cannot be read: " + entry.status().message();
        m.not_before_ms = now_ms + 5000;
        ++it;
      }
      continue;
    }
    OutboxEntry& e = entry.value();
    // Sealed (again) if it has no ciphertext yet, or if the one it has may have left.
    if (m.resealable && (!m.sealed || e.attempts > 0)) {
      auto sealed = seal_(e);
      if (!sealed.ok()) {
        Wipe(e.body);
        if (sealed.status().code() == Status::Code::kNotFound) {
          spdlog::warn("a queued message was dropped: its recipient is no longer a contact");
          (void)store_.RemoveOutgoing(seq);
          it = index_.erase(it);
        } else {
          error_ = "a queued message cannot be encrypted now: " + sealed.status().message();
          m.not_before_ms = now_ms + 5000;
          ++it;
        }
        continue;
      }
      if (m.sealed) {
        ++e.seals;
        ++reseals_;
      }
      if (!e.sphinx_message.empty()) Wipe(e.sphinx_message);
      e.sphinx_message = std::move(sealed.value());
      e.attempts = 0;
    }
    ++e.attempts;  // on disk before it can leave
    const auto s = store_.UpdateOutgoing(e);
    Wipe(e.body);
    if (!s.ok()) {
      error_ = "a queued message cannot be updated: " + s.message();
      m.not_before_ms = now_ms + 5000;
      Wipe(e.sphinx_message);
      ++it;
      continue;
    }
    m.sealed = true;
    m.held = true;
    m.attempts = e.attempts;
    out.push_back(ReadyPacket{seq, e.provider, e.mailbox, std::move(e.sphinx_message)});
    ++it;
  }
  return out;
}

std::optional<MessageId> OutgoingQueue::Acked(std::uint64_t seq) {
  auto it = index_.find(seq);
  if (it == index_.end()) return std::nullopt;  // already done (a second ack)
  auto entry = store_.GetOutgoing(seq);
  if (auto s = store_.RemoveOutgoing(seq); !s.ok()) {
    error_ = "a sent message could not be removed from the queue: " + s.message();
  }
  const bool text = it->second.kind == OutboxKind::kText;
  index_.erase(it);
  if (!entry.ok()) return std::nullopt;
  Wipe(entry.value().body);
  Wipe(entry.value().sphinx_message);
  if (!text) return std::nullopt;
  return entry.value().id;
}

void OutgoingQueue::GaveUp(std::uint64_t seq, std::int64_t now_ms) {
  auto it = index_.find(seq);
  if (it == index_.end()) return;
  Meta& m = it->second;
  m.held = false;
  auto entry = store_.GetOutgoing(seq);
  const std::uint32_t seals = entry.ok() ? entry.value().seals : 0;
  if (entry.ok()) {
    Wipe(entry.value().body);
    Wipe(entry.value().sphinx_message);
  }
  // It is sealed again when it is next offered (attempts > 0), after a back-off: the payload
  // slots meanwhile carry cover, as they would anyway.
  m.not_before_ms = now_ms + BackoffMs(seals);
}

void OutgoingQueue::Returned(std::uint64_t seq, std::int64_t now_ms) {
  auto it = index_.find(seq);
  if (it == index_.end()) return;
  Meta& m = it->second;
  m.held = false;
  m.not_before_ms = now_ms + 1000;
  // It never left: undo the count, so it is not sealed again for nothing.
  auto entry = store_.GetOutgoing(seq);
  if (entry.ok() && entry.value().attempts > 0) {
    --entry.value().attempts;
    (void)store_.UpdateOutgoing(entry.value());
    m.attempts = entry.value().attempts;
  }
  if (entry.ok()) {
    Wipe(entry.value().body);
    Wipe(entry.value().sphinx_message);
  }
}

std::size_t OutgoingQueue::receipts_waiting() const {
  return static_cast<std::size_t>(std::count_if(index_.begin(), index_.end(), [](const auto& p) {
    return p.second.kind == OutboxKind::kReceipt;
  }));
}

std::size_t OutgoingQueue::held() const {
  return static_cast<std::size_t>(
      std::count_if(index_.begin(), index_.end(), [](const auto& p) { return p.second.held; }));
}

std::optional<std::string> OutgoingQueue::TakeError() {
  auto e = std::move(error_);
  error_.reset();
  return e;
}

std::int64_t OutgoingQueue::NextDue() const {
  std::int64_t next = INT64_MAX;
  for (const auto& [seq, m] : index_) {
    if (!m.held) next = std::min(next, m.not_before_ms);
  }
  return next;
}

}  // namespace sotto::client
