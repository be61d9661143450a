// MailProcessor (mail_processor.h): decrypt, deduplicate, store.
#include "mail_processor.h"

#include <sodium.h>
#include <spdlog/spdlog.h>

namespace sotto::client {

std::optional<std::string> MailProcessor::TakeError() {
  auto e = std::move(error_);
  error_.reset();
  return e;
}

MailProcessor::Outcome MailProcessor::Process(ByteSpan payload, std::int64_t now_unix) {
  if (IsLoopMessage(loop_key_, payload)) {
    ++counters_.loops_returned;
    counters_.last_loop_return_unix = now_unix;
    return Outcome::kDone;
  }
  auto opened = sessions_.Open(payload);
  if (!opened.ok()) {
    ++counters_.undecryptable;
    spdlog::info("dropped a message no session could open");
    return Outcome::kDone;
  }
  const PublicKey from = opened.value().from;
  auto decoded = DecodeBody(opened.value().body);
  sodium_memzero(opened.value().body.data(), opened.value().body.size());
  if (!decoded.ok()) {
    ++counters_.undecryptable;
    spdlog::info("dropped a message with a malformed body");
    (void)sessions_.Save(from);
    return Outcome::kDone;
  }
  auto& msg = decoded.value();
  // Receipts, on their own or riding in a text: only messages sent to their author change.
  if (!msg.receipts.empty()) ++counters_.receipts;
  for (const auto& id : msg.receipts) {
    (void)store_.SetStatus(id, DeliveryStatus::kDelivered, from);
  }
  if (msg.type == BodyType::kReceipt) {
    // nothing more
  } else if (store_.HasMessage(msg.id)) {
    ++counters_.duplicates;
    sodium_memzero(msg.text.data(), msg.text.size());
  } else {
    HistoryEntry entry;
    entry.id = msg.id;
    entry.peer = from;
    entry.direction = Direction::kIncoming;
    entry.status = DeliveryStatus::kReceived;
    entry.text = std::move(msg.text);
    entry.sent_unix = msg.sent_unix;
    entry.stored_unix = now_unix;
    if (msg.expires_after_s > 0) entry.expires_unix = entry.stored_unix + msg.expires_after_s;
    // History first, then the session (see the header).
    if (auto s = store_.AddHistory(std::move(entry), std::nullopt); !s.ok()) {
      // Not stored: the message stays at the provider (not acknowledged), and the session goes
      // back to its saved state so that it opens the message again next time.
      error_ =
          "could not store a received message (it stays at the provider): " + s.status().message();
      sessions_.Reload(from);
      return Outcome::kRetry;
    }
    ++counters_.received;
    if (on_text_) on_text_(from, msg.id);
  }
  if (auto s = sessions_.Save(from); !s.ok()) error_ = "could not save a session: " + s.message();
  return Outcome::kDone;
}

}  // namespace sotto::client
