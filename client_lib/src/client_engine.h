// ClientEngine: the background client's work that is not on the wire (papers/client-spec.md
// §1.1), on the engine thread. It owns the store, the ratchet sessions (SessionBook), the
// outgoing queue (OutgoingQueue), the receipts (ReceiptPolicy) and the mailbox processing
// (MailProcessor); the control requests are answered by ControlApi over it. It trades with the
// wire thread only through the WireExchange: it takes the fetched mail and the fate of its
// packets, and hands over sealed messages. Nothing here touches the provider link, so the work
// here — fsyncs, trial decryption, a large history — can take as long as it takes without
// moving anything on the wire. Not thread-safe: one thread runs it.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "mail_processor.h"
#include "outgoing_queue.h"
#include "receipt_policy.h"
#include "session_book.h"
#include "sotto/client_lib/client_store.h"
#include "sotto/client_lib/envelope.h"
#include "sotto/core/directory_client.h"
#include "wire_exchange.h"
#include "wire_loop.h"

namespace sotto::client {

class ClientEngine {
 public:
  // How many sealed messages wait at the wire thread for payload slots (so a slot finds one
  // even while the engine is busy).
  static constexpr std::size_t kOfferDepth = 2;

  // Loads the profile, the settings, the sessions and the queue.
  static Result<std::unique_ptr<ClientEngine>> Create(std::unique_ptr<ClientStore> store,
                                                      LoopKey loop_key, WireExchange& exchange);
  ~ClientEngine();

  // What the other threads need: the wire thread's keys and addresses, the directory's.
  WireLoop::Identity WireIdentity() const;
  directory::AuthorityInfo Authority() const;

  // Does what is due: the wire's news (mail to process, packets acknowledged or given up),
  // sealed messages for the wire, receipts whose time came, expiry. Returns how long until it
  // should run again at the latest.
  std::chrono::milliseconds Tick();

  // ---- for ControlApi ----
  ClientStore& store() { return *store_; }
  const Profile& profile() const { return profile_; }
  const IdentityKeys& identity() const { return identity_; }
  const PreKey& prekey() const { return prekey_; }
  const sphinx::MailboxId& mailbox() const { return mailbox_; }
  std::shared_ptr<const directory::Consensus> consensus() const { return exchange_.consensus(); }
  const WireCounters& wire() const { return exchange_.counters; }
  const MailCounters& mail() const { return processor_.counters(); }
  const OutgoingQueue& outgoing() const { return outgoing_; }
  const Settings& settings() const { return receipts_.settings(); }
  std::string last_error() const;
  // A text to `to`: sealed now, then its history entry and queue entry in one write.
  Status QueueText(HistoryEntry entry, const ContactCode& to, const MessageBody& body);
  // Saves new settings; receipts turned off drop the receipts still waiting.
  Status SetSettings(const Settings& settings);

 private:
  ClientEngine(std::unique_ptr<ClientStore> store, Profile profile, Settings settings,
               LoopKey loop_key, WireExchange& exchange);
  void OnTextStored(const PublicKey& from, const MessageId& id);
  void NoteError(const std::string& what);

  std::unique_ptr<ClientStore> store_;
  Profile profile_;
  IdentityKeys identity_;
  PreKey prekey_;
  sphinx::MailboxId mailbox_{};
  LoopKey loop_key_;
  WireExchange& exchange_;
  ReceiptPolicy receipts_;
  SessionBook sessions_;
  OutgoingQueue outgoing_;
  MailProcessor processor_;
  std::chrono::steady_clock::time_point next_purge_{};
  std::string last_error_;
};

}  // namespace sotto::client
