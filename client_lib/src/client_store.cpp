// ClientStore's public methods (client_store.h): they check their input, build records
// (store_records.h) and write them through ClientStore::Impl (store_impl.h) in one synced batch
// each. papers/e2ee-spec.md §11 describes the layout.
//
// Errors: exceptions (allocation failure, std::filesystem) are caught here and become
// sotto::Status.
#include "sotto/client_lib/client_store.h"

#include <fmt/format.h>
#include <rocksdb/db.h>
#include <rocksdb/iterator.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>
#include <sodium.h>

#include <algorithm>
#include <system_error>
#include <utility>

#include "sotto/core/keyfile.h"
#include "store_impl.h"
#include "store_records.h"

namespace sotto::client {
namespace {

namespace fs = std::filesystem;

using store_internal::AsBytes;
using store_internal::AsSlice;
using store_internal::DecodeContact;
using store_internal::DecodeHistory;
using store_internal::DecodeOutbox;
using store_internal::DecodeProfile;
using store_internal::DecodeSettings;
using store_internal::EncodeContact;
using store_internal::EncodeProfile;
using store_internal::EncodeSeq;
using store_internal::EncodeSettings;
using store_internal::HistoryKey;
using store_internal::IsSessionFileName;
using store_internal::kHistoryKeySize;
using store_internal::kMaxNameLength;
using store_internal::kMaxSessionFileSize;
using store_internal::kProfileKey;
using store_internal::NameTag;
using store_internal::PeerTag;
using store_internal::Plain;
using store_internal::Printable;
using store_internal::ReadSmallFile;
using store_internal::SeqKey;
using store_internal::ValidDirection;
using store_internal::ValidName;
using store_internal::ValidStatus;
using store_internal::Writer;

// A queued message is sealed (kSphinxMessageSize bytes) or waits unsealed with its body.
Status CheckPacket(const OutboxEntry& packet) {
  if (!packet.sphinx_message.empty() && packet.sphinx_message.size() != kSphinxMessageSize) {
    return Status::InvalidArgument(fmt::format("cannot queue a message of {} bytes (must be {})",
                                               packet.sphinx_message.size(), kSphinxMessageSize));
  }
  if (!packet.body.empty() && packet.body.size() != kBodySize) {
    return Status::InvalidArgument(
        fmt::format("cannot queue a body of {} bytes (must be {})", packet.body.size(), kBodySize));
  }
  if (packet.sphinx_message.empty() && packet.body.empty()) {
    return Status::InvalidArgument("cannot queue a message with neither a body nor a ciphertext");
  }
  return Status::Ok();
}

Status Unexpected(std::string_view op, const std::exception& e) {
  return Status::Internal(fmt::format("unexpected failure to {}: {}", op, e.what()));
}

// Status order of outgoing messages: a late "sent" must not undo "delivered".
int Rank(DeliveryStatus s) {
  switch (s) {
    case DeliveryStatus::kQueued:
      return 1;
    case DeliveryStatus::kSent:
      return 2;
    case DeliveryStatus::kDelivered:
      return 3;
    case DeliveryStatus::kReceived:
      return 0;
  }
  return 0;
}

}  // namespace

// ---- ClientStore ----

ClientStore::ClientStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ClientStore::~ClientStore() = default;

Result<std::unique_ptr<ClientStore>> ClientStore::Open(const std::filesystem::path& home,
                                                       StateKey key) try {
  auto impl = std::make_unique<Impl>(home, std::move(key));
  for (const auto& dir : {impl->home, impl->db_path, impl->sessions_dir}) {
    if (Status s = EnsurePrivateDirectory(dir); !s.ok()) return s;
  }
  if (Status s = impl->OpenDb(); !s.ok()) return s;
  if (Status s = impl->CheckKey(); !s.ok()) return s;
  if (Status s = impl->LoadNextSeq(); !s.ok()) return s;
  return std::unique_ptr<ClientStore>(new ClientStore(std::move(impl)));
} catch (const std::exception& e) {
  return Unexpected("open the client store in " + home.string(), e);
}

// ---- Profile ----

Status ClientStore::SaveProfile(const Profile& profile) try {
  Writer w(256 + profile.provider_name.size() + profile.directory_address.size());
  EncodeProfile(profile, w);
  rocksdb::WriteBatch batch;
  impl_->PutSealed(batch, impl_->profile, AsSlice(kProfileKey), w.bytes());
  return impl_->Write(batch, "save the profile in");
} catch (const std::exception& e) {
  return Unexpected("save the profile", e);
}

Result<Profile> ClientStore::LoadProfile() try {
  auto plain = impl_->Read(impl_->profile, AsSlice(kProfileKey));
  if (!plain.ok()) {
    if (plain.status().code() == Status::Code::kNotFound) {
      return Status::NotFound(
          fmt::format("{} has no profile yet (run `sotto init`)", impl_->home.string()));
    }
    return plain.status();
  }
  auto profile = DecodeProfile(plain->span());
  if (!profile) {
    return Status::Corruption(fmt::format("the profile in {} is damaged; restore {} from a backup",
                                          impl_->db_path.string(), impl_->home.string()));
  }
  return std::move(*profile);
} catch (const std::exception& e) {
  return Unexpected("load the profile", e);
}

constexpr std::string_view kSettingsKey = "settings";

Status ClientStore::SaveSettings(const Settings& settings) try {
  if (settings.receipt_delay_s == 0) {
    return Status::InvalidArgument("the receipt delay must be at least 1 second");
  }
  Writer w(16);
  EncodeSettings(settings, w);
  rocksdb::WriteBatch batch;
  impl_->PutSealed(batch, impl_->profile, AsSlice(kSettingsKey), w.bytes());
  return impl_->Write(batch, "save the settings in");
} catch (const std::exception& e) {
  return Unexpected("save the settings", e);
}

Result<Settings> ClientStore::LoadSettings() try {
  auto plain = impl_->Read(impl_->profile, AsSlice(kSettingsKey));
  if (!plain.ok()) {
    if (plain.status().code() == Status::Code::kNotFound) return Settings{};
    return plain.status();
  }
  auto settings = DecodeSettings(plain->span());
  if (!settings) {
    return Status::Corruption(
        fmt::format("the settings in {} are damaged; set them again (sotto receipts ...)",
                    impl_->db_path.string()));
  }
  return *settings;
} catch (const std::exception& e) {
  return Unexpected("load the settings", e);
}

// ---- Contacts ----

Status ClientStore::AddContact(const Contact& contact) try {
  if (!ValidName(contact.name)) {
    return Status::InvalidArgument(fmt::format(
        "'{}' is not a valid contact name: use 1 to {} letters, digits, '.', '_' or '-', not "
        "starting with '.' or '-'",
        Printable(contact.name), kMaxNameLength));
  }
  const NameTag tag = impl_->TagName(contact.name);
  rocksdb::PinnableSlice existing;
  auto s = impl_->db->Get(rocksdb::ReadOptions(), impl_->contacts, AsSlice(tag), &existing);
  if (s.ok()) {
    return Status::InvalidArgument(
        fmt::format("a contact named '{}' already exists; remove it first or choose another name",
                    contact.name));
  }
  if (!s.IsNotFound()) return impl_->Fail(s, "read the contacts in");
  for (const Contact& other : impl_->AllContacts()) {
    if (other.code.identity_key == contact.code.identity_key) {
      return Status::InvalidArgument(fmt::format("this code is already saved as '{}'", other.name));
    }
  }
  Writer w(256 + contact.name.size());
  EncodeContact(contact, w);
  rocksdb::WriteBatch batch;
  impl_->PutSealed(batch, impl_->contacts, AsSlice(tag), w.bytes());
  return impl_->Write(batch, "save a contact in");
} catch (const std::exception& e) {
  return Unexpected("add a contact", e);
}

Status ClientStore::RemoveContact(const std::string& name) try {
  auto found = FindContact(name);
  if (!found.ok()) return found.status();
  rocksdb::WriteBatch batch;
  (void)batch.Delete(impl_->contacts, AsSlice(impl_->TagName(name)));
  return impl_->Write(batch, "remove a contact from");
} catch (const std::exception& e) {
  return Unexpected("remove a contact", e);
}

Result<Contact> ClientStore::FindContact(const std::string& name) try {
  const auto not_found = [&] {
    return Status::NotFound(
        fmt::format("no contact named '{}' (see `sotto contact list`)", Printable(name)));
  };
  if (!ValidName(name)) return not_found();
  const NameTag tag = impl_->TagName(name);
  auto plain = impl_->Read(impl_->contacts, AsSlice(tag));
  if (!plain.ok()) {
    if (plain.status().code() == Status::Code::kNotFound) return not_found();
    return plain.status();
  }
  auto contact = DecodeContact(plain->span());
  if (!contact || contact->name != name) {
    return Status::Corruption(
        fmt::format("the contact '{}' in {} is damaged; remove it and add it again", name,
                    impl_->db_path.string()));
  }
  return std::move(*contact);
} catch (const std::exception& e) {
  return Unexpected("find a contact", e);
}

std::optional<Contact> ClientStore::FindContactByIdentity(const PublicKey& identity) {
  for (Contact& c : impl_->AllContacts()) {
    if (c.code.identity_key == identity) return std::move(c);
  }
  return std::nullopt;
}

std::vector<Contact> ClientStore::ListContacts() {
  auto all = impl_->AllContacts();
  std::sort(all.begin(), all.end(),
            [](const Contact& a, const Contact& b) { return a.name < b.name; });
  return all;
}

// ---- Sessions ----

Status ClientStore::SaveSessions(const PublicKey& peer, ByteSpan blob) try {
  const fs::path path = impl_->SessionPath(peer);
  Bytes plain;
  plain.reserve(peer.bytes.size() + blob.size());
  plain.insert(plain.end(), peer.bytes.begin(), peer.bytes.end());
  plain.insert(plain.end(), blob.begin(), blob.end());
  const Plain wipe(std::move(plain));
  const Bytes sealed = SealValue(impl_->key, "sessions/" + path.filename().string(), wipe.span());
  return WriteFileAtomically(
      path, std::string_view(reinterpret_cast<const char*>(sealed.data()), sealed.size()));
} catch (const std::exception& e) {
  return Unexpected("save sessions", e);
}

Result<Bytes> ClientStore::LoadSessions(const PublicKey& peer) try {
  const fs::path path = impl_->SessionPath(peer);
  auto sealed = ReadSmallFile(path, kMaxSessionFileSize);
  if (!sealed.ok()) {
    if (sealed.status().code() == Status::Code::kNotFound) {
      return Status::NotFound("no sessions with this peer");
    }
    return sealed.status();
  }
  auto opened = OpenValue(impl_->key, "sessions/" + path.filename().string(), *sealed);
  if (!opened.ok()) {
    return Status::Corruption(fmt::format(
        "the session file {} is damaged or does not belong to this store; move it away to start "
        "a new session with this contact",
        path.string()));
  }
  const Plain plain(std::move(opened).value());
  const ByteSpan content = plain.span();
  if (content.size() < kX25519KeySize ||
      !std::equal(peer.bytes.begin(), peer.bytes.end(), content.begin())) {
    return Status::Corruption(
        fmt::format("the session file {} belongs to another peer", path.string()));
  }
  return Bytes(content.begin() + kX25519KeySize, content.end());
} catch (const std::exception& e) {
  return Unexpected("load sessions", e);
}

std::vector<PublicKey> ClientStore::SessionPeers() {
  std::vector<PublicKey> peers;
  try {
    std::error_code ec;
    for (fs::directory_iterator it(impl_->sessions_dir, ec), end; !ec && it != end;
         it.increment(ec)) {
      const std::string name = it->path().filename().string();
      if (!IsSessionFileName(name)) continue;  // temporary files start with '.'
      auto sealed = ReadSmallFile(it->path(), kMaxSessionFileSize);
      if (!sealed.ok()) continue;
      auto opened = OpenValue(impl_->key, "sessions/" + name, *sealed);
      if (!opened.ok()) continue;  // left in place: LoadSessions reports it
      const Plain plain(std::move(opened).value());
      if (plain.span().size() < kX25519KeySize) continue;
      PublicKey peer;
      std::copy_n(plain.span().begin(), kX25519KeySize, peer.bytes.begin());
      if (ToHex(impl_->TagPeer(peer)) == name) peers.push_back(peer);
    }
  } catch (const std::exception&) {
    // A directory that cannot be listed has no peers to offer; LoadSessions reports errors.
  }
  return peers;
}

// ---- History ----

Result<std::uint64_t> ClientStore::AddHistory(HistoryEntry entry,
                                              std::optional<OutboxEntry> packet) try {
  if (!ValidDirection(entry.direction) || !ValidStatus(entry.status)) {
    return Status::InvalidArgument("history entry with an unknown direction or status");
  }
  if (packet) {
    if (Status s = CheckPacket(*packet); !s.ok()) return s;
  }
  if (HasMessage(entry.id)) {
    return Status::InvalidArgument("a message with this id is already in the history");
  }
  Impl& d = *impl_;
  entry.seq = d.next_seq;
  std::uint64_t next = entry.seq + 1;
  const HistoryKey hkey = d.KeyOfHistory(entry.peer, entry.seq);
  rocksdb::WriteBatch batch;
  d.PutHistory(batch, hkey, entry);
  d.PutSealed(batch, d.msgindex, AsSlice(d.TagMessage(entry.id)), hkey);
  if (packet) {
    packet->seq = next++;
    d.PutOutbox(batch, *packet);
  }
  d.PutNextSeq(batch, next);
  if (Status s = d.Write(batch, "add a message to"); !s.ok()) return s;
  d.next_seq = next;
  return entry.seq;
} catch (const std::exception& e) {
  return Unexpected("add a message to the history", e);
}

Result<std::uint64_t> ClientStore::Enqueue(OutboxEntry packet) try {
  if (Status s = CheckPacket(packet); !s.ok()) return s;
  Impl& d = *impl_;
  packet.seq = d.next_seq;
  rocksdb::WriteBatch batch;
  d.PutOutbox(batch, packet);
  d.PutNextSeq(batch, packet.seq + 1);
  if (Status s = d.Write(batch, "queue a message in"); !s.ok()) return s;
  d.next_seq = packet.seq + 1;
  return packet.seq;
} catch (const std::exception& e) {
  return Unexpected("queue a message", e);
}

bool ClientStore::HasMessage(const MessageId& id) {
  rocksdb::PinnableSlice value;
  auto s = impl_->db->Get(rocksdb::ReadOptions(), impl_->msgindex, AsSlice(impl_->TagMessage(id)),
                          &value);
  return s.ok();
}

Status ClientStore::SetStatus(const MessageId& id, DeliveryStatus status,
                              const std::optional<PublicKey>& only_to) try {
  if (!ValidStatus(status)) return Status::InvalidArgument("unknown delivery status");
  auto hkey = impl_->FindHistoryKey(id);
  if (!hkey.ok()) return hkey.status();
  auto entry = impl_->ReadHistory(*hkey);
  if (!entry.ok()) return entry.status();
  if (only_to && (entry->direction != Direction::kOutgoing || !(entry->peer == *only_to))) {
    return Status::NotFound("no message with this id was sent to that contact");
  }
  if (entry->direction == Direction::kOutgoing && Rank(status) <= Rank(entry->status)) {
    return Status::Ok();
  }
  entry->status = status;
  rocksdb::WriteBatch batch;
  impl_->PutHistory(batch, *hkey, *entry);
  sodium_memzero(entry->text.data(), entry->text.size());
  return impl_->Write(batch, "update a message in");
} catch (const std::exception& e) {
  return Unexpected("update a message's status", e);
}

std::vector<HistoryEntry> ClientStore::History(const PublicKey& peer, std::size_t limit) {
  std::vector<HistoryEntry> out;
  try {
    const PeerTag prefix = impl_->TagPeer(peer);
    const HistoryKey last = impl_->KeyOfHistory(peer, ~std::uint64_t{0});
    std::unique_ptr<rocksdb::Iterator> it(
        impl_->db->NewIterator(rocksdb::ReadOptions(), impl_->history));
    for (it->SeekForPrev(AsSlice(last)); it->Valid(); it->Prev()) {
      const ByteSpan k = AsBytes(it->key());
      if (k.size() != kHistoryKeySize || !std::equal(prefix.begin(), prefix.end(), k.begin())) {
        break;
      }
      auto plain = impl_->Open(impl_->history, it->key(), it->value());
      if (!plain.ok()) continue;
      if (auto entry = DecodeHistory(plain->span())) out.push_back(std::move(*entry));
      if (limit != 0 && out.size() == limit) break;
    }
  } catch (const std::exception&) {
    // Out of memory: return what was found so far.
  }
  std::reverse(out.begin(), out.end());
  return out;
}

std::vector<HistoryEntry> ClientStore::Unread() {
  std::vector<HistoryEntry> out;
  try {
    std::unique_ptr<rocksdb::Iterator> it(
        impl_->db->NewIterator(rocksdb::ReadOptions(), impl_->history));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      auto plain = impl_->Open(impl_->history, it->key(), it->value());
      if (!plain.ok()) continue;
      auto entry = DecodeHistory(plain->span());
      if (!entry) continue;
      if (entry->direction == Direction::kIncoming && !entry->read) {
        out.push_back(std::move(*entry));
      } else {
        sodium_memzero(entry->text.data(), entry->text.size());
      }
    }
  } catch (const std::exception&) {
    // Out of memory: return what was found so far.
  }
  std::sort(out.begin(), out.end(),
            [](const HistoryEntry& a, const HistoryEntry& b) { return a.seq < b.seq; });
  return out;
}

Status ClientStore::MarkRead(const std::vector<MessageId>& ids) try {
  rocksdb::WriteBatch batch;
  for (const MessageId& id : ids) {
    auto hkey = impl_->FindHistoryKey(id);
    if (!hkey.ok()) {
      if (hkey.status().code() == Status::Code::kNotFound) continue;  // expired meanwhile
      return hkey.status();
    }
    auto entry = impl_->ReadHistory(*hkey);
    if (!entry.ok()) return entry.status();
    if (!entry->read) {
      entry->read = true;
      impl_->PutHistory(batch, *hkey, *entry);
    }
    sodium_memzero(entry->text.data(), entry->text.size());
  }
  if (batch.Count() == 0) return Status::Ok();
  return impl_->Write(batch, "mark messages read in");
} catch (const std::exception& e) {
  return Unexpected("mark messages read", e);
}

std::size_t ClientStore::PurgeExpired(std::int64_t now_unix) {
  Impl& d = *impl_;
  std::size_t purged = 0;  // entries actually deleted
  try {
    std::size_t expired = 0;
    rocksdb::WriteBatch batch;
    {
      std::unique_ptr<rocksdb::Iterator> it(d.db->NewIterator(rocksdb::ReadOptions(), d.history));
      for (it->SeekToFirst(); it->Valid(); it->Next()) {
        auto plain = d.Open(d.history, it->key(), it->value());
        if (!plain.ok()) continue;
        auto entry = DecodeHistory(plain->span());
        if (!entry) continue;
        sodium_memzero(entry->text.data(), entry->text.size());
        if (entry->expires_unix <= 0 || entry->expires_unix > now_unix) continue;
        (void)batch.Delete(d.history, it->key());
        (void)batch.Delete(d.msgindex, AsSlice(d.TagMessage(entry->id)));
        ++expired;
      }
      if (!it->status().ok()) return 0;
    }  // the iterator pins the current files; it must be gone before compaction
    if (expired == 0) return 0;
    if (!d.Write(batch, "delete expired messages from").ok()) return 0;
    purged = expired;
    // Deleted values live on in the memtables, the WAL and SST files until they are rewritten:
    // flush every column family (so the WAL holding them becomes obsolete and is deleted), then
    // rewrite history and msgindex down to the last level, which drops the values and tombstones.
    rocksdb::FlushOptions flush;
    flush.wait = true;
    (void)d.db->Flush(flush, d.handles);
    rocksdb::CompactRangeOptions compact;
    compact.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
    for (auto* cf : {d.history, d.msgindex}) {
      (void)d.db->CompactRange(compact, cf, nullptr, nullptr);
    }
  } catch (const std::exception&) {
    // Out of memory: the deletion (if it was written) stands; compaction waits for the next call.
  }
  return purged;
}

// ---- Outbox ----

std::optional<OutboxEntry> ClientStore::NextOutgoing() {
  try {
    std::unique_ptr<rocksdb::Iterator> it(
        impl_->db->NewIterator(rocksdb::ReadOptions(), impl_->outbox));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      auto plain = impl_->Open(impl_->outbox, it->key(), it->value());
      if (!plain.ok()) continue;  // a damaged entry is skipped, not deleted
      if (auto entry = DecodeOutbox(plain->span())) return entry;
    }
  } catch (const std::exception&) {
    // Out of memory: return what was found so far.
  }
  return std::nullopt;
}

std::vector<OutboxEntry> ClientStore::ListOutgoing() {
  std::vector<OutboxEntry> out;
  try {
    std::unique_ptr<rocksdb::Iterator> it(
        impl_->db->NewIterator(rocksdb::ReadOptions(), impl_->outbox));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      auto plain = impl_->Open(impl_->outbox, it->key(), it->value());
      if (!plain.ok()) continue;  // a damaged entry is skipped, not deleted
      if (auto entry = DecodeOutbox(plain->span())) out.push_back(std::move(*entry));
    }
  } catch (const std::exception&) {
    // Out of memory: return what was found so far.
  }
  return out;
}

Result<OutboxEntry> ClientStore::GetOutgoing(std::uint64_t seq) try {
  auto plain = impl_->Read(impl_->outbox, AsSlice(EncodeSeq(seq)));
  if (!plain.ok()) {
    if (plain.status().code() == Status::Code::kNotFound) {
      return Status::NotFound(fmt::format("no queued message number {}", seq));
    }
    return plain.status();
  }
  auto entry = DecodeOutbox(plain->span());
  if (!entry) return Status::Corruption(fmt::format("queued message number {} is damaged", seq));
  return std::move(*entry);
} catch (const std::exception& e) {
  return Unexpected("read a queued message", e);
}

Status ClientStore::UpdateOutgoing(const OutboxEntry& entry) try {
  if (Status s = CheckPacket(entry); !s.ok()) return s;
  rocksdb::PinnableSlice existing;
  auto s = impl_->db->Get(rocksdb::ReadOptions(), impl_->outbox, AsSlice(EncodeSeq(entry.seq)),
                          &existing);
  if (s.IsNotFound()) {
    return Status::NotFound(fmt::format("no queued message number {}", entry.seq));
  }
  if (!s.ok()) return impl_->Fail(s, "read a queued message in");
  rocksdb::WriteBatch batch;
  impl_->PutOutbox(batch, entry);
  return impl_->Write(batch, "update a queued message in");
} catch (const std::exception& e) {
  return Unexpected("update a queued message", e);
}

Status ClientStore::RemoveOutgoing(std::uint64_t seq) try {
  rocksdb::WriteBatch batch;
  (void)batch.Delete(impl_->outbox, AsSlice(EncodeSeq(seq)));
  return impl_->Write(batch, "remove a sent message from");
} catch (const std::exception& e) {
  return Unexpected("remove a sent message", e);
}

Status ClientStore::CountAttempt(std::uint64_t seq) try {
  const SeqKey k = EncodeSeq(seq);
  auto plain = impl_->Read(impl_->outbox, AsSlice(k));
  if (!plain.ok()) {
    if (plain.status().code() == Status::Code::kNotFound) {
      return Status::NotFound(fmt::format("no queued message number {}", seq));
    }
    return plain.status();
  }
  auto entry = DecodeOutbox(plain->span());
  if (!entry) return Status::Corruption(fmt::format("queued message number {} is damaged", seq));
  ++entry->attempts;
  rocksdb::WriteBatch batch;
  impl_->PutOutbox(batch, *entry);
  return impl_->Write(batch, "update a queued message in");
} catch (const std::exception& e) {
  return Unexpected("count a sending attempt", e);
}

Status ClientStore::RequeueAtTail(std::uint64_t seq) try {
  Impl& d = *impl_;
  const SeqKey k = EncodeSeq(seq);
  auto plain = d.Read(d.outbox, AsSlice(k));
  if (!plain.ok()) return plain.status();
  auto entry = DecodeOutbox(plain->span());
  if (!entry) return Status::Corruption(fmt::format("queued message number {} is damaged", seq));
  ++entry->attempts;
  entry->seq = d.next_seq;
  rocksdb::WriteBatch batch;  // one batch: the entry is never in neither place
  (void)batch.Delete(d.outbox, AsSlice(k));
  d.PutOutbox(batch, *entry);
  d.PutNextSeq(batch, entry->seq + 1);
  if (Status s = d.Write(batch, "requeue a message in"); !s.ok()) return s;
  d.next_seq = entry->seq + 1;
  return Status::Ok();
} catch (const std::exception& e) {
  return Unexpected("requeue a message", e);
}

std::size_t ClientStore::OutgoingCount() {
  std::size_t n = 0;
  std::unique_ptr<rocksdb::Iterator> it(
      impl_->db->NewIterator(rocksdb::ReadOptions(), impl_->outbox));
  for (it->SeekToFirst(); it->Valid(); it->Next()) ++n;
  return n;
}

}  // namespace sotto::client
