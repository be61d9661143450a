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

// One packet's worth of work for the sending loop: an end-to-end encrypted message (the Sphinx
// message, envelope.h) and where it goes.
struct OutboxEntry {
  std::uint64_t seq = 0;  // filled in by the store
  MessageId id{};         // the history entry it belongs to (or a receipt's own id)
  PublicKey peer;
  sphinx::NodeId provider{};
  sphinx::MailboxId mailbox{};
  Bytes sphinx_message;  // exactly envelope's kSphinxMessageSize bytes
  std::int64_t queued_unix = 0;
  std::uint32_t attempts = 0;
};

class ClientStore {
 public:
  // Creates <home>/db and <home>/sessions (0700) if missing. IoError if the home is in use by
  // another process ("is the daemon already running?") or cannot be opened.
  static Result<std::unique_ptr<ClientStore>> Open(const std::filesystem::path& home, StateKey key);
  ~ClientStore();

  Status SaveProfile(const Profile& profile);
  Result<Profile> LoadProfile();  // NotFound before `sotto init`

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
  Status RemoveOutgoing(std::uint64_t seq);   // once the provider took it
  Status CountAttempt(std::uint64_t seq);     // attempts + 1
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
