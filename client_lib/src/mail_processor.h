// MailProcessor: what the engine does with one fetched mailbox item (papers/client-spec.md §5):
// my own loop message (counted), else trial decryption with every session and my pre-key
// (SessionBook), then the body: a text enters the history (deduplicated by its message id,
// so a message sealed and sent twice is shown once); receipt ids — a receipt's, or those riding
// in a text — mark my messages to their author delivered.
// A text is written to the history before its session is saved: a crash in between makes the
// provider deliver it again, the old session opens it again, and the duplicate id is
// recognised. Runs on the engine thread; the wire thread acknowledges the item only after
// Process() returned kDone (MailLedger). Not thread-safe.
#pragma once

#include <cstdint>
#include <functional>

#include "session_book.h"
#include "sotto/client_lib/client_store.h"
#include "sotto/client_lib/envelope.h"

namespace sotto::client {

struct MailCounters {
  std::uint64_t loops_returned = 0;
  std::int64_t last_loop_return_unix = 0;
  std::uint64_t received = 0;       // texts stored
  std::uint64_t undecryptable = 0;  // dropped: no session opens it, or a malformed body
  std::uint64_t duplicates = 0;     // texts already in the history
  std::uint64_t receipts = 0;       // bodies that carried receipt ids
};

class MailProcessor {
 public:
  // Called for every text stored, with its sender and id (to queue a receipt).
  using OnText = std::function<void(const PublicKey& from, const MessageId& id)>;
  enum class Outcome { kDone, kRetry };  // kRetry: not stored; do not acknowledge it

  MailProcessor(ClientStore& store, SessionBook& sessions, const LoopKey& loop_key, OnText on_text)
      : store_(store), sessions_(sessions), loop_key_(loop_key), on_text_(std::move(on_text)) {}

  Outcome Process(ByteSpan payload, std::int64_t now_unix);
  const MailCounters& counters() const { return counters_; }
  std::optional<std::string> TakeError();

 private:
  ClientStore& store_;
  SessionBook& sessions_;
  const LoopKey& loop_key_;
  OnText on_text_;
  MailCounters counters_;
  std::optional<std::string> error_;
};

}  // namespace sotto::client
