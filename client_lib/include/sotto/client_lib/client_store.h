// ClientStore: everything a Sotto client keeps on disk, under its home folder:
//   <home>/state.key   the state key (state_key.h)
//   <home>/db/         RocksDB: profile, contacts, outgoing queue, message history
//   <home>/sessions/   one file per conversation partner with their ratchet sessions
// Every stored value is sealed with the state key (SealValue, with the column and key as
// associated data); keys that would name a person are keyed BLAKE2b hashes under the state key.
//
// Ratchet sessions live in files rather than in RocksDB because RocksDB keeps overwritten values
// (WAL, older SST files) until compaction: a session file is replaced atomically (temp + fsync +
// rename) and its old content is gone with the old file, which forward secrecy needs.
// PurgeExpired compacts the history so deleted messages leave the database files too.
//
// Only one process may open a home at a time (RocksDB's LOCK): the daemon. Not thread-safe.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sotto/client_lib/contact_code.h"
#include "sotto/client_lib/envelope.h"
#include "sotto/client_lib/state_key.h"
#include "sotto/core/bytes.h"
#include "sotto/core/keys.h"
#include "sotto/core/status.h"

namespace sotto::client {

// Who I am and where I am registered. Written by `sotto init`, read at every start.
struct Profile {
  SecretKey identity_secret;      // IK (X25519), e2ee-spec §3
  SecretKey prekey_secret;        // SPK
  LockedSecret<32> link_secret;   // CURVE key for the provider link; names my mailbox
  sphinx::NodeId provider{};      // my provider's node id
  std::string provider_name;      // for people
  std::string directory_address;  // "tcp://127.0.0.1:7000"
  std::array<std::uint8_t, 32> directory_link_key{};
  std::array<std::uint8_t, 32> directory_verify_key{};
  std::int64_t genesis_unix = 0;
  std::uint32_t epoch_length_s = 3600;
  std::int64_t created_unix = 0;
};

struct Contact {
  std::string name;  // 1-32 chars: letters, digits, '-', '_', '.'
  ContactCode code;
  std::int64_t added_unix = 0;
};

enum class Direction : std::uint8_t { kOutgoing = 1, kIncoming = 2 };
enum class DeliveryStatus : std::uint8_t {
  kQueued = 1,     // outgoing, waiting in the queue
  kSent = 2,       // outgoing, accepted by my provider
  kDelivered = 3,  // outgoing, the recipient's client sent a receipt
  kReceived = 4,   // incoming
};

struct HistoryEntry {
  MessageId id{};
  PublicKey peer;  // the other side's identity key
  Direction direction = Direction::kOutgoing;
  DeliveryStatus status = DeliveryStatus::kQueued;
  std::string text;               // UTF-8
  std::int64_t sent_unix = 0;     // sender's clock
  std::int64_t stored_unix = 0;   // my clock, when it entered the history
  std::int64_t expires_unix = 0;  // 0 = never; deleted by PurgeExpired after this time
  bool read = false;              // incoming: shown by `sotto inbox` once
  std::uint64_t seq = 0;          // filled in by the store: order of arrival, unique
};

enum class OutboxKind : std::uint8_t { kText = 1, kReceipt = 2 };

// One message waiting to be sent (papers/client-spec.md §4): its body, and the end-to-end
// encrypted form that leaves in a payload slot (the Sphinx message, envelope.h). The body is
// kept so that a message whose packet was given up on can be sealed again (fresh ciphertext,
// never the same bytes twice); a delayed receipt waits unsealed until `not_before_ms`.
struct OutboxEntry {
  std::uint64_t seq = 0;  // filled in by the store
  MessageId id{};         // the history entry it belongs to (or a receipt's own id)
  PublicKey peer;
  sphinx::NodeId provider{};
  sphinx::MailboxId mailbox{};
  Bytes sphinx_message;  // kSphinxMessageSize bytes, or empty while unsealed
  std::int64_t queued_unix = 0;
  // How many times the current `sphinx_message` was handed to the sending thread: a message
  // with attempts > 0 may have left, so it is sealed again before it is handed out again.
  std::uint32_t attempts = 0;
  OutboxKind kind = OutboxKind::kText;
  Bytes body;                      // EncodeBody output (kBodySize bytes); empty in old records
  std::int64_t not_before_ms = 0;  // Unix ms; not handed out before (delayed receipts, back-off)
  std::uint32_t seals = 0;         // how many times it was sealed again
};

// What the user chose (client-spec §4.2). Defaults are the safe ones.
enum class ReceiptMode : std::uint8_t { kOff = 0, kOn = 1 };
struct Settings {
  ReceiptMode receipts = ReceiptMode::kOn;
  std::uint32_t receipt_delay_s = 900;  // mean delay of a receipt sent on its own (≥ 1)
};

class ClientStore {
 public:
  // Creates <home>/db and <home>/sessions (0700) if missing. IoError if the home is in use by
  // another process ("is the daemon already running?") or cannot be opened.
  static Result<std::unique_ptr<ClientStore>> Open(const std::filesystem::path& home, StateKey key);
  ~ClientStore();

  Status SaveProfile(const Profile& profile);
  Result<Profile> LoadProfile();                  // NotFound before `sotto init`
  Status SaveSettings(const Settings& settings);  // InvalidArgument for a delay of 0
  Result<Settings> LoadSettings();                // the defaults if none were saved

  // InvalidArgument for a bad name, a name already taken, or a code whose identity key is
  // already saved under another name (the message names it).
  Status AddContact(const Contact& contact);
  Status RemoveContact(const std::string& name);  // NotFound if there is none
  Result<Contact> FindContact(const std::string& name);
  std::optional<Contact> FindContactByIdentity(const PublicKey& identity);
  std::vector<Contact> ListContacts();  // sorted by name

  // Ratchet sessions of one partner, as an opaque blob (peer_sessions.h), in their own file.
  Status SaveSessions(const PublicKey& peer, ByteSpan blob);
  Result<Bytes> LoadSessions(const PublicKey& peer);  // NotFound if none
  std::vector<PublicKey> SessionPeers();              // everyone we have a session file for

  // The history entry and (optionally) its packet enter together, in one write batch.
  Result<std::uint64_t> AddHistory(HistoryEntry entry, std::optional<OutboxEntry> packet);
  Result<std::uint64_t> Enqueue(OutboxEntry packet);  // a packet with no history (a receipt)
  bool HasMessage(const MessageId& id);               // incoming duplicates are dropped
  // With `only_to`, only an outgoing message sent to that peer is changed (a receipt can only
  // confirm what was sent to its author); NotFound otherwise.
  Status SetStatus(const MessageId& id, DeliveryStatus status,
                   const std::optional<PublicKey>& only_to = std::nullopt);
  // The newest `limit` entries (0 = all), oldest first.
  std::vector<HistoryEntry> History(const PublicKey& peer, std::size_t limit);
  std::vector<HistoryEntry> Unread();  // incoming, not yet read, oldest first
  Status MarkRead(const std::vector<MessageId>& ids);
  // Deletes every history entry with 0 < expires_unix <= now, then compacts. Returns how many.
  std::size_t PurgeExpired(std::int64_t now_unix);

  std::optional<OutboxEntry> NextOutgoing();  // oldest
  std::vector<OutboxEntry> ListOutgoing();    // all, oldest first (damaged entries skipped)
  Result<OutboxEntry> GetOutgoing(std::uint64_t seq);  // NotFound if there is none
  // Rewrites an entry that is in the queue (same seq): NotFound if it is not.
  Status UpdateOutgoing(const OutboxEntry& entry);
  Status RemoveOutgoing(std::uint64_t seq);  // once the provider took it
  Status CountAttempt(std::uint64_t seq);    // attempts + 1
  // Moves a message that cannot be sent now behind the others (attempts + 1), atomically, so one
  // unroutable message does not hold up the queue.
  Status RequeueAtTail(std::uint64_t seq);
  std::size_t OutgoingCount();

 private:
  struct Impl;
  explicit ClientStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sotto::client
