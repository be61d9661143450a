// ClientStore::Impl: the store's RocksDB database and session files (store_impl.h).
#include "store_impl.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <rocksdb/iterator.h>
#include <rocksdb/options.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <set>
#include <system_error>
#include <utility>

#include "sotto/core/check.h"

namespace sotto::client {
namespace {

namespace fs = std::filesystem;

using store_internal::AsBytes;
using store_internal::AsSlice;
using store_internal::DecodeContact;
using store_internal::DecodeHistory;
using store_internal::DecodeSeq;
using store_internal::EncodeHistory;
using store_internal::EncodeOutbox;
using store_internal::EncodeSeq;
using store_internal::HistoryKey;
using store_internal::kHistoryFixedSize;
using store_internal::kHistoryKeySize;
using store_internal::kMessageTagSize;
using store_internal::kNameTagSize;
using store_internal::kOutboxFixedSize;
using store_internal::kOutboxRecordVersion;
using store_internal::kPeerTagSize;
using store_internal::MessageTag;
using store_internal::NameTag;
using store_internal::PeerTag;
using store_internal::Plain;
using store_internal::Reader;
using store_internal::SeqKey;
using store_internal::Writer;

constexpr std::string_view kProfileCf = "profile";
constexpr std::string_view kContactsCf = "contacts";
constexpr std::string_view kHistoryCf = "history";
constexpr std::string_view kMsgIndexCf = "msgindex";
constexpr std::string_view kOutboxCf = "outbox";

constexpr std::string_view kCheckKey = "check";
constexpr std::string_view kNextSeqKey = "next-seq";
constexpr std::string_view kCheckText = "sotto-client-store-v1";

constexpr char kKdfContext[crypto_kdf_CONTEXTBYTES + 1] = "sottodb1";
constexpr std::uint64_t kNameSubkeyId = 1;
constexpr std::uint64_t kPeerSubkeyId = 2;
constexpr std::uint64_t kMessageSubkeyId = 3;

bool MentionsLock(const rocksdb::Status& s) {
  std::string text = s.ToString();
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text.find("lock") != std::string::npos;
}

rocksdb::Options StoreOptions() {
  rocksdb::Options options;
  options.create_if_missing = true;
  options.create_missing_column_families = true;
  options.paranoid_checks = true;
  options.keep_log_file_num = 2;                // RocksDB's own info logs
  options.max_manifest_file_size = 4ull << 20;  // roll the MANIFEST instead of growing it
  options.recycle_log_file_num = 0;             // a recycled WAL would keep old values
  options.WAL_ttl_seconds = 0;                  // no WAL archive: obsolete logs are deleted
  options.WAL_size_limit_MB = 0;
  options.max_background_jobs = 2;
  return options;
}

std::string ErrnoText(int err) { return std::generic_category().message(err); }

template <std::size_t N>
std::array<std::uint8_t, N> Tag(const LockedSecret<32>& subkey, ByteSpan in) {
  std::array<std::uint8_t, N> out{};
  crypto_generichash(out.data(), N, in.data(), in.size(), subkey.data(), subkey.size());
  return out;
}

// The associated data of a sealed value: where it is stored.
std::string Where(rocksdb::ColumnFamilyHandle* cf, const rocksdb::Slice& k) {
  return cf->GetName() + "/" + ToHex(AsBytes(k));
}

}  // namespace

// ---- Files ----

namespace store_internal {

// Reads a whole file of at most `limit` bytes. NotFound if it does not exist.
Result<Bytes> ReadSmallFile(const fs::path& path, std::size_t limit) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
  if (fd < 0) {
    const int err = errno;
    if (err == ENOENT) return Status::NotFound(fmt::format("{} does not exist", path.string()));
    return Status::IoError(fmt::format("cannot open {}: {}", path.string(), ErrnoText(err)));
  }
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    return Status::Corruption(fmt::format("{} is not a regular file", path.string()));
  }
  if (st.st_size < 0 || static_cast<std::uint64_t>(st.st_size) > limit) {
    return Status::Corruption(fmt::format("{} is too large ({} bytes)", path.string(), st.st_size));
  }
  Bytes out(static_cast<std::size_t>(st.st_size));
  std::size_t got = 0;
  while (got < out.size()) {
    const ssize_t n = ::read(fd, out.data() + got, out.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      return Status::IoError(fmt::format("cannot read {}: {}", path.string(), ErrnoText(errno)));
    }
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  out.resize(got);
  return out;
}

bool IsSessionFileName(const std::string& name) {
  return name.size() == 2 * kPeerTagSize && std::all_of(name.begin(), name.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

}  // namespace store_internal

// ---- Impl ----

ClientStore::Impl::Impl(fs::path home_dir, StateKey state_key)
    : home(std::move(home_dir)),
      db_path(home / "db"),
      sessions_dir(home / "sessions"),
      key(std::move(state_key)) {
  crypto_kdf_derive_from_key(name_key.data(), name_key.size(), kNameSubkeyId, kKdfContext,
                             key.data());
  crypto_kdf_derive_from_key(peer_key.data(), peer_key.size(), kPeerSubkeyId, kKdfContext,
                             key.data());
  crypto_kdf_derive_from_key(message_key.data(), message_key.size(), kMessageSubkeyId, kKdfContext,
                             key.data());
}

ClientStore::Impl::~Impl() {
  if (!db) return;
  for (auto* handle : handles) (void)db->DestroyColumnFamilyHandle(handle);
  (void)db->Close();
}

// ---- Tags ----

NameTag ClientStore::Impl::TagName(std::string_view name) const {
  return Tag<kNameTagSize>(
      name_key, ByteSpan(reinterpret_cast<const std::uint8_t*>(name.data()), name.size()));
}
PeerTag ClientStore::Impl::TagPeer(const PublicKey& peer) const {
  return Tag<kPeerTagSize>(peer_key, peer.bytes);
}
MessageTag ClientStore::Impl::TagMessage(const MessageId& id) const {
  return Tag<kMessageTagSize>(message_key, id);
}
HistoryKey ClientStore::Impl::KeyOfHistory(const PublicKey& peer, std::uint64_t seq) const {
  HistoryKey k{};
  const PeerTag tag = TagPeer(peer);
  const SeqKey s = EncodeSeq(seq);
  std::copy(tag.begin(), tag.end(), k.begin());
  std::copy(s.begin(), s.end(), k.begin() + kPeerTagSize);
  return k;
}

// ---- Sealing ----

Bytes ClientStore::Impl::Seal(rocksdb::ColumnFamilyHandle* cf, const rocksdb::Slice& k,
                              ByteSpan plain) const {
  return SealValue(key, Where(cf, k), plain);
}
Result<Plain> ClientStore::Impl::Open(rocksdb::ColumnFamilyHandle* cf, const rocksdb::Slice& k,
                                      const rocksdb::Slice& sealed) const {
  auto opened = OpenValue(key, Where(cf, k), AsBytes(sealed));
  if (!opened.ok()) return opened.status();
  return Plain(std::move(opened).value());
}
Result<Plain> ClientStore::Impl::Read(rocksdb::ColumnFamilyHandle* cf,
                                      const rocksdb::Slice& k) const {
  rocksdb::PinnableSlice value;
  auto s = db->Get(rocksdb::ReadOptions(), cf, k, &value);
  if (s.IsNotFound()) return Status::NotFound("no such record");
  if (!s.ok()) return Fail(s, "read from");
  return Open(cf, k, value);
}

// ---- Writing ----

Status ClientStore::Impl::Fail(const rocksdb::Status& s, std::string_view op) const {
  std::string msg =
      fmt::format("cannot {} the client store {}: {}", op, db_path.string(), s.ToString());
  if (s.IsCorruption()) {
    return Status::Corruption(msg + " (the store is damaged; restore " + home.string() +
                              " from a backup)");
  }
  if (s.IsNoSpace()) return Status::IoError(msg + " (the disk is full)");
  return Status::IoError(msg);
}
Status ClientStore::Impl::Write(rocksdb::WriteBatch& batch, std::string_view op) {
  rocksdb::WriteOptions options;
  options.sync = true;  // the user is told it is saved
  auto s = db->Write(options, &batch);
  return s.ok() ? Status::Ok() : Fail(s, op);
}
void ClientStore::Impl::PutSealed(rocksdb::WriteBatch& batch, rocksdb::ColumnFamilyHandle* cf,
                                  const rocksdb::Slice& k, ByteSpan plain) const {
  (void)batch.Put(cf, k, AsSlice(Seal(cf, k, plain)));
}
void ClientStore::Impl::PutNextSeq(rocksdb::WriteBatch& batch, std::uint64_t next) const {
  Writer w(16);
  w.U64(next);
  PutSealed(batch, meta, AsSlice(kNextSeqKey), w.bytes());
}
void ClientStore::Impl::PutHistory(rocksdb::WriteBatch& batch, const HistoryKey& k,
                                   const HistoryEntry& e) const {
  Writer w(kHistoryFixedSize + e.text.size());
  EncodeHistory(e, w);
  PutSealed(batch, history, AsSlice(k), w.bytes());
}
void ClientStore::Impl::PutOutbox(rocksdb::WriteBatch& batch, const OutboxEntry& o) const {
  Writer w(kOutboxFixedSize + o.sphinx_message.size() + o.body.size(), kOutboxRecordVersion);
  EncodeOutbox(o, w);
  PutSealed(batch, outbox, AsSlice(EncodeSeq(o.seq)), w.bytes());
}

// ---- Open ----

Status ClientStore::Impl::OpenDb() {
  rocksdb::Options options = StoreOptions();
  std::vector<std::string> existing;
  // Fails for a database that does not exist yet; it then has no column families to keep.
  (void)rocksdb::DB::ListColumnFamilies(options, db_path.string(), &existing);
  std::set<std::string> names(existing.begin(), existing.end());
  names.insert(rocksdb::kDefaultColumnFamilyName);
  for (auto cf : {kProfileCf, kContactsCf, kHistoryCf, kMsgIndexCf, kOutboxCf}) {
    names.insert(std::string(cf));
  }
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const auto& name : names)
    descriptors.emplace_back(name, rocksdb::ColumnFamilyOptions(options));
  rocksdb::DB* raw = nullptr;
  auto s = rocksdb::DB::Open(options, db_path.string(), descriptors, &handles, &raw);
  if (!s.ok()) {
    if (s.IsIOError() && MentionsLock(s)) {
      return Status::IoError(
          fmt::format("{} is in use by another sotto process (is the daemon running? `sotto down`)",
                      home.string()));
    }
    return Fail(s, "open");
  }
  db.reset(raw);
  for (auto* handle : handles) {
    const std::string& name = handle->GetName();
    if (name == rocksdb::kDefaultColumnFamilyName) meta = handle;
    if (name == kProfileCf) profile = handle;
    if (name == kContactsCf) contacts = handle;
    if (name == kHistoryCf) history = handle;
    if (name == kMsgIndexCf) msgindex = handle;
    if (name == kOutboxCf) outbox = handle;
  }
  SOTTO_CHECK(meta && profile && contacts && history && msgindex && outbox);
  return Status::Ok();
}

// The check record opens only with the state key that created the store.
Status ClientStore::Impl::CheckKey() {
  auto check = Read(meta, AsSlice(kCheckKey));
  if (check.ok()) return Status::Ok();
  if (check.status().code() == Status::Code::kNotFound) {
    rocksdb::WriteBatch batch;
    const ByteSpan text(reinterpret_cast<const std::uint8_t*>(kCheckText.data()),
                        kCheckText.size());
    PutSealed(batch, meta, AsSlice(kCheckKey), text);
    return Write(batch, "initialise");
  }
  if (check.status().code() == Status::Code::kCorruption) {
    return Status::Corruption(fmt::format(
        "the state key does not match this store ({} does not open with {}); was state.key "
        "replaced? Restore the state.key that belongs to this store",
        db_path.string(), (home / "state.key").string()));
  }
  return check.status();
}

// The next sequence number: past the stored counter and past every key present.
Status ClientStore::Impl::LoadNextSeq() {
  std::uint64_t next = 1;
  auto counter = Read(meta, AsSlice(kNextSeqKey));
  if (counter.ok()) {
    Reader r(counter->span());
    std::uint64_t v = 0;
    r.U64(v);
    if (!r.Done()) {
      return Status::Corruption(
          fmt::format("the sequence counter in {} is damaged; restore {} from a backup",
                      db_path.string(), home.string()));
    }
    next = std::max(next, v);
  } else if (counter.status().code() != Status::Code::kNotFound) {
    return counter.status();
  }
  {
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), outbox));
    it->SeekToLast();
    if (it->Valid() && it->key().size() == 8)
      next = std::max(next, DecodeSeq(AsBytes(it->key())) + 1);
    if (!it->status().ok()) return Fail(it->status(), "read the outbox of");
  }
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), history));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    if (it->key().size() != kHistoryKeySize) continue;
    next = std::max(next, DecodeSeq(AsBytes(it->key()).subspan(kPeerTagSize)) + 1);
  }
  if (!it->status().ok()) return Fail(it->status(), "read the history of");
  next_seq = next;
  return Status::Ok();
}

// ---- Lookups ----

// Every contact that decodes, with its key.
std::vector<Contact> ClientStore::Impl::AllContacts() const {
  std::vector<Contact> out;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), contacts));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    auto plain = Open(contacts, it->key(), it->value());
    if (!plain.ok()) continue;
    if (auto c = DecodeContact(plain->span())) out.push_back(std::move(*c));
  }
  return out;
}

// The history key of a message id; NotFound if unknown.
Result<HistoryKey> ClientStore::Impl::FindHistoryKey(const MessageId& id) const {
  const MessageTag tag = TagMessage(id);
  auto plain = Read(msgindex, AsSlice(tag));
  if (!plain.ok()) {
    if (plain.status().code() == Status::Code::kNotFound) {
      return Status::NotFound("no message with this id in the history");
    }
    return plain.status();
  }
  if (plain->span().size() != kHistoryKeySize) {
    return Status::Corruption("a message index entry is damaged");
  }
  HistoryKey k{};
  std::copy(plain->span().begin(), plain->span().end(), k.begin());
  return k;
}

Result<HistoryEntry> ClientStore::Impl::ReadHistory(const HistoryKey& k) const {
  auto plain = Read(history, AsSlice(k));
  if (!plain.ok()) return plain.status();
  auto entry = DecodeHistory(plain->span());
  if (!entry) return Status::Corruption("a history entry is damaged");
  return std::move(*entry);
}

fs::path ClientStore::Impl::SessionPath(const PublicKey& peer) const {
  return sessions_dir / ToHex(TagPeer(peer));
}

}  // namespace sotto::client
