// ClientStore on RocksDB and session files (papers/e2ee-spec.md §11 describes the layout).
//
// <home>/db column families (every value is SealValue(state key, "<cf>/<hex of key>", record)):
//   default   "check" → a fixed text (tells a wrong state key from a damaged store);
//             "next-seq" → the next sequence number (u64), written with every item that takes one
//   profile   "profile" → Profile
//   contacts  NameTag(name) (32) → Contact
//   history   PeerTag(peer) (16) ‖ seq (8, BE) → HistoryEntry
//   msgindex  MessageTag(id) (16) → the history key of that message
//   outbox    seq (8, BE) → OutboxEntry
// Tags are keyed BLAKE2b under subkeys of the state key (crypto_kdf, context "sottodb1"), so the
// database files name no person, contact name or message id in clear.
// <home>/sessions/<hex of PeerTag(peer)>: SealValue(state key, "sessions/<name>", peer ‖ blob).
//
// Records are a version byte (1) and fields in a fixed order: integers big-endian, strings and
// byte strings as a u32 length and the bytes. Decoding rejects anything else with Corruption.
// Plaintext records are wiped as soon as they are sealed or decoded.
//
// Errors: RocksDB statuses become sotto::Status with the path and the operation; exceptions
// (allocation failure, std::filesystem) are caught at the public methods.
#include "sotto/client_lib/client_store.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <rocksdb/db.h>
#include <rocksdb/iterator.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <set>
#include <system_error>
#include <utility>

#include "sotto/core/keyfile.h"

namespace sotto::client {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kProfileCf = "profile";
constexpr std::string_view kContactsCf = "contacts";
constexpr std::string_view kHistoryCf = "history";
constexpr std::string_view kMsgIndexCf = "msgindex";
constexpr std::string_view kOutboxCf = "outbox";

constexpr std::string_view kCheckKey = "check";
constexpr std::string_view kNextSeqKey = "next-seq";
constexpr std::string_view kProfileKey = "profile";
constexpr std::string_view kCheckText = "sotto-client-store-v1";

constexpr std::uint8_t kRecordVersion = 1;
constexpr std::size_t kNameTagSize = 32;
constexpr std::size_t kPeerTagSize = 16;
constexpr std::size_t kMessageTagSize = 16;
constexpr std::size_t kHistoryKeySize = kPeerTagSize + 8;
constexpr std::size_t kMaxNameLength = 32;
constexpr std::size_t kMaxSessionFileSize = 16u << 20;

constexpr char kKdfContext[crypto_kdf_CONTEXTBYTES + 1] = "sottodb1";
constexpr std::uint64_t kNameSubkeyId = 1;
constexpr std::uint64_t kPeerSubkeyId = 2;
constexpr std::uint64_t kMessageSubkeyId = 3;

using NameTag = std::array<std::uint8_t, kNameTagSize>;
using PeerTag = std::array<std::uint8_t, kPeerTagSize>;
using MessageTag = std::array<std::uint8_t, kMessageTagSize>;
using HistoryKey = std::array<std::uint8_t, kHistoryKeySize>;
using SeqKey = std::array<std::uint8_t, 8>;

// ---- Bytes helpers ----

template <std::size_t N>
rocksdb::Slice AsSlice(const std::array<std::uint8_t, N>& bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), N};
}
rocksdb::Slice AsSlice(std::string_view s) { return {s.data(), s.size()}; }
rocksdb::Slice AsSlice(const Bytes& b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}
ByteSpan AsBytes(const rocksdb::Slice& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

SeqKey EncodeSeq(std::uint64_t seq) {
  SeqKey out{};
  for (std::size_t i = 0; i < 8; ++i) out[7 - i] = static_cast<std::uint8_t>(seq >> (8 * i));
  return out;
}
std::uint64_t DecodeSeq(ByteSpan b) {
  std::uint64_t v = 0;
  for (std::uint8_t byte : b.first(8)) v = (v << 8) | byte;
  return v;
}

// A plaintext buffer that wipes itself.
class Plain {
 public:
  Plain() = default;
  explicit Plain(Bytes b) : b_(std::move(b)) {}
  Plain(Plain&& o) noexcept : b_(std::move(o.b_)) {}
  Plain& operator=(Plain&&) = delete;
  Plain(const Plain&) = delete;
  Plain& operator=(const Plain&) = delete;
  ~Plain() { sodium_memzero(b_.data(), b_.size()); }
  ByteSpan span() const { return b_; }

 private:
  Bytes b_;
};

// Record encoder. The buffer is reserved up front (so no unwiped copy is left behind by a
// reallocation, as long as the estimate holds) and wiped on destruction.
class Writer {
 public:
  explicit Writer(std::size_t capacity) {
    out_.reserve(capacity);
    out_.push_back(kRecordVersion);
  }
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;
  ~Writer() { sodium_memzero(out_.data(), out_.size()); }

  void U8(std::uint8_t v) { out_.push_back(v); }
  void U32(std::uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8)
      out_.push_back(static_cast<std::uint8_t>(v >> shift));
  }
  void U64(std::uint64_t v) {
    for (int shift = 56; shift >= 0; shift -= 8)
      out_.push_back(static_cast<std::uint8_t>(v >> shift));
  }
  void I64(std::int64_t v) { U64(static_cast<std::uint64_t>(v)); }
  void Raw(ByteSpan b) { out_.insert(out_.end(), b.begin(), b.end()); }
  void Blob(ByteSpan b) {
    U32(static_cast<std::uint32_t>(b.size()));
    Raw(b);
  }
  void Str(std::string_view s) {
    Blob(ByteSpan(reinterpret_cast<const std::uint8_t*>(s.data()), s.size()));
  }
  ByteSpan bytes() const { return out_; }

 private:
  Bytes out_;
};

// Record decoder: every read fails (and stays failed) once the input runs out.
class Reader {
 public:
  explicit Reader(ByteSpan b) : b_(b) {
    std::uint8_t version = 0;
    U8(version);
    if (version != kRecordVersion) ok_ = false;
  }
  void U8(std::uint8_t& v) {
    if (Take(1)) v = b_[pos_ - 1];
  }
  void U32(std::uint32_t& v) {
    if (!Take(4)) return;
    v = 0;
    for (std::size_t i = pos_ - 4; i < pos_; ++i) v = (v << 8) | b_[i];
  }
  void U64(std::uint64_t& v) {
    if (!Take(8)) return;
    v = DecodeSeq(b_.subspan(pos_ - 8));
  }
  void I64(std::int64_t& v) {
    std::uint64_t u = 0;
    U64(u);
    v = static_cast<std::int64_t>(u);
  }
  void Raw(std::span<std::uint8_t> out) {
    if (Take(out.size()))
      std::copy_n(b_.begin() + static_cast<std::ptrdiff_t>(pos_ - out.size()), out.size(),
                  out.begin());
  }
  void Blob(Bytes& out) {
    std::uint32_t n = 0;
    U32(n);
    if (!Take(n)) return;
    out.assign(b_.begin() + static_cast<std::ptrdiff_t>(pos_ - n),
               b_.begin() + static_cast<std::ptrdiff_t>(pos_));
  }
  void Str(std::string& out) {
    std::uint32_t n = 0;
    U32(n);
    if (!Take(n)) return;
    out.assign(reinterpret_cast<const char*>(b_.data() + pos_ - n), n);
  }
  bool Done() const { return ok_ && pos_ == b_.size(); }

 private:
  bool Take(std::size_t n) {
    if (!ok_ || b_.size() - pos_ < n) {
      ok_ = false;
      return false;
    }
    pos_ += n;
    return true;
  }
  ByteSpan b_;
  std::size_t pos_ = 0;
  bool ok_ = true;
};

// ---- Records ----

bool ValidName(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameLength || name[0] == '-' || name[0] == '.') {
    return false;
  }
  return std::all_of(name.begin(), name.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return (u < 0x80 && std::isalnum(u)) || c == '.' || c == '_' || c == '-';
  });
}

// A name as it may appear in a message: printable ASCII only, at most 40 characters.
std::string Printable(std::string_view name) {
  std::string out;
  for (char c : name.substr(0, 40)) {
    const auto u = static_cast<unsigned char>(c);
    out.push_back(u >= 0x20 && u < 0x7f ? c : '?');
  }
  if (name.size() > 40) out += "...";
  return out;
}

void EncodeProfile(const Profile& p, Writer& w) {
  w.Raw(p.identity_secret.Bytes());
  w.Raw(p.prekey_secret.Bytes());
  w.Raw(p.link_secret.Bytes());
  w.Raw(p.provider);
  w.Str(p.provider_name);
  w.Str(p.directory_address);
  w.Raw(p.directory_link_key);
  w.Raw(p.directory_verify_key);
  w.I64(p.genesis_unix);
  w.U32(p.epoch_length_s);
  w.I64(p.created_unix);
}

std::optional<Profile> DecodeProfile(ByteSpan b) {
  Reader r(b);
  Profile p;
  r.Raw(p.identity_secret.MutableBytes());
  r.Raw(p.prekey_secret.MutableBytes());
  r.Raw(p.link_secret.MutableBytes());
  r.Raw(p.provider);
  r.Str(p.provider_name);
  r.Str(p.directory_address);
  r.Raw(p.directory_link_key);
  r.Raw(p.directory_verify_key);
  r.I64(p.genesis_unix);
  r.U32(p.epoch_length_s);
  r.I64(p.created_unix);
  if (!r.Done()) return std::nullopt;
  return p;
}

void EncodeContact(const Contact& c, Writer& w) {
  w.Str(c.name);
  w.U8(c.code.version);
  w.Raw(c.code.identity_key.bytes);
  w.Raw(c.code.prekey.bytes);
  w.Raw(c.code.provider);
  w.Raw(c.code.mailbox);
  w.I64(c.added_unix);
}

std::optional<Contact> DecodeContact(ByteSpan b) {
  Reader r(b);
  Contact c;
  r.Str(c.name);
  r.U8(c.code.version);
  r.Raw(c.code.identity_key.bytes);
  r.Raw(c.code.prekey.bytes);
  r.Raw(c.code.provider);
  r.Raw(c.code.mailbox);
  r.I64(c.added_unix);
  if (!r.Done() || !ValidName(c.name)) return std::nullopt;
  return c;
}

bool ValidDirection(Direction d) { return d == Direction::kOutgoing || d == Direction::kIncoming; }
bool ValidStatus(DeliveryStatus s) {
  return s == DeliveryStatus::kQueued || s == DeliveryStatus::kSent ||
         s == DeliveryStatus::kDelivered || s == DeliveryStatus::kReceived;
}

void EncodeHistory(const HistoryEntry& e, Writer& w) {
  w.Raw(e.id);
  w.Raw(e.peer.bytes);
  w.U8(static_cast<std::uint8_t>(e.direction));
  w.U8(static_cast<std::uint8_t>(e.status));
  w.Str(e.text);
  w.I64(e.sent_unix);
  w.I64(e.stored_unix);
  w.I64(e.expires_unix);
  w.U8(e.read ? 1 : 0);
  w.U64(e.seq);
}
constexpr std::size_t kHistoryFixedSize = 1 + 16 + 32 + 1 + 1 + 4 + 8 + 8 + 8 + 1 + 8;

std::optional<HistoryEntry> DecodeHistory(ByteSpan b) {
  Reader r(b);
  HistoryEntry e;
  std::uint8_t direction = 0, status = 0, read = 0;
  r.Raw(e.id);
  r.Raw(e.peer.bytes);
  r.U8(direction);
  r.U8(status);
  r.Str(e.text);
  r.I64(e.sent_unix);
  r.I64(e.stored_unix);
  r.I64(e.expires_unix);
  r.U8(read);
  r.U64(e.seq);
  e.direction = static_cast<Direction>(direction);
  e.status = static_cast<DeliveryStatus>(status);
  e.read = read == 1;
  if (!r.Done() || !ValidDirection(e.direction) || !ValidStatus(e.status) || read > 1) {
    sodium_memzero(e.text.data(), e.text.size());
    return std::nullopt;
  }
  return e;
}

void EncodeOutbox(const OutboxEntry& o, Writer& w) {
  w.U64(o.seq);
  w.Raw(o.id);
  w.Raw(o.peer.bytes);
  w.Raw(o.provider);
  w.Raw(o.mailbox);
  w.Blob(o.sphinx_message);
  w.I64(o.queued_unix);
  w.U32(o.attempts);
}
constexpr std::size_t kOutboxFixedSize = 1 + 8 + 16 + 32 + 32 + 32 + 4 + 8 + 4;

std::optional<OutboxEntry> DecodeOutbox(ByteSpan b) {
  Reader r(b);
  OutboxEntry o;
  r.U64(o.seq);
  r.Raw(o.id);
  r.Raw(o.peer.bytes);
  r.Raw(o.provider);
  r.Raw(o.mailbox);
  r.Blob(o.sphinx_message);
  r.I64(o.queued_unix);
  r.U32(o.attempts);
  if (!r.Done()) return std::nullopt;
  return o;
}

// ---- RocksDB ----

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

}  // namespace

// ---- Impl ----

struct ClientStore::Impl {
  fs::path home;
  fs::path db_path;
  fs::path sessions_dir;
  StateKey key;
  LockedSecret<32> name_key;
  LockedSecret<32> peer_key;
  LockedSecret<32> message_key;
  std::unique_ptr<rocksdb::DB> db;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;  // every open column family
  rocksdb::ColumnFamilyHandle* meta = nullptr;
  rocksdb::ColumnFamilyHandle* profile = nullptr;
  rocksdb::ColumnFamilyHandle* contacts = nullptr;
  rocksdb::ColumnFamilyHandle* history = nullptr;
  rocksdb::ColumnFamilyHandle* msgindex = nullptr;
  rocksdb::ColumnFamilyHandle* outbox = nullptr;
  std::uint64_t next_seq = 1;

  Impl(fs::path home_dir, StateKey state_key)
      : home(std::move(home_dir)),
        db_path(home / "db"),
        sessions_dir(home / "sessions"),
        key(std::move(state_key)) {
    crypto_kdf_derive_from_key(name_key.data(), name_key.size(), kNameSubkeyId, kKdfContext,
                               key.data());
    crypto_kdf_derive_from_key(peer_key.data(), peer_key.size(), kPeerSubkeyId, kKdfContext,
                               key.data());
    crypto_kdf_derive_from_key(message_key.data(), message_key.size(), kMessageSubkeyId,
                               kKdfContext, key.data());
  }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  ~Impl() {
    if (!db) return;
    for (auto* handle : handles) (void)db->DestroyColumnFamilyHandle(handle);
    (void)db->Close();
  }

  // ---- Tags ----

  template <std::size_t N>
  static std::array<std::uint8_t, N> Tag(const LockedSecret<32>& subkey, ByteSpan in) {
    std::array<std::uint8_t, N> out{};
    crypto_generichash(out.data(), N, in.data(), in.size(), subkey.data(), subkey.size());
    return out;
  }
  NameTag TagName(std::string_view name) const {
    return Tag<kNameTagSize>(
        name_key, ByteSpan(reinterpret_cast<const std::uint8_t*>(name.data()), name.size()));
  }
  PeerTag TagPeer(const PublicKey& peer) const { return Tag<kPeerTagSize>(peer_key, peer.bytes); }
  MessageTag TagMessage(const MessageId& id) const { return Tag<kMessageTagSize>(message_key, id); }
  HistoryKey KeyOfHistory(const PublicKey& peer, std::uint64_t seq) const {
    HistoryKey k{};
    const PeerTag tag = TagPeer(peer);
    const SeqKey s = EncodeSeq(seq);
    std::copy(tag.begin(), tag.end(), k.begin());
    std::copy(s.begin(), s.end(), k.begin() + kPeerTagSize);
    return k;
  }

  // ---- Sealing ----

  static std::string Where(rocksdb::ColumnFamilyHandle* cf, const rocksdb::Slice& k) {
    return cf->GetName() + "/" + ToHex(AsBytes(k));
  }
  Bytes Seal(rocksdb::ColumnFamilyHandle* cf, const rocksdb::Slice& k, ByteSpan plain) const {
    return SealValue(key, Where(cf, k), plain);
  }
  Result<Plain> Open(rocksdb::ColumnFamilyHandle* cf, const rocksdb::Slice& k,
                     const rocksdb::Slice& sealed) const {
    auto opened = OpenValue(key, Where(cf, k), AsBytes(sealed));
    if (!opened.ok()) return opened.status();
    return Plain(std::move(opened).value());
  }
  // Reads and opens one value; NotFound if there is none.
  Result<Plain> Read(rocksdb::ColumnFamilyHandle* cf, const rocksdb::Slice& k) const {
    rocksdb::PinnableSlice value;
    auto s = db->Get(rocksdb::ReadOptions(), cf, k, &value);
    if (s.IsNotFound()) return Status::NotFound("no such record");
    if (!s.ok()) return Fail(s, "read from");
    return Open(cf, k, value);
  }

  // ---- Writing ----

  Status Fail(const rocksdb::Status& s, std::string_view op) const {
    std::string msg =
        fmt::format("cannot {} the client store {}: {}", op, db_path.string(), s.ToString());
    if (s.IsCorruption()) {
      return Status::Corruption(msg + " (the store is damaged; restore " + home.string() +
                                " from a backup)");
    }
    if (s.IsNoSpace()) return Status::IoError(msg + " (the disk is full)");
    return Status::IoError(msg);
  }
  Status Write(rocksdb::WriteBatch& batch, std::string_view op) {
    rocksdb::WriteOptions options;
    options.sync = true;  // the user is told it is saved
    auto s = db->Write(options, &batch);
    return s.ok() ? Status::Ok() : Fail(s, op);
  }
  void PutSealed(rocksdb::WriteBatch& batch, rocksdb::ColumnFamilyHandle* cf,
                 const rocksdb::Slice& k, ByteSpan plain) const {
    (void)batch.Put(cf, k, AsSlice(Seal(cf, k, plain)));
  }
  void PutNextSeq(rocksdb::WriteBatch& batch, std::uint64_t next) const {
    Writer w(16);
    w.U64(next);
    PutSealed(batch, meta, AsSlice(kNextSeqKey), w.bytes());
  }

  // ---- Open ----

  Status OpenDb() {
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
        return Status::IoError(fmt::format(
            "{} is in use by another sotto process (is the daemon running? `sotto down`)",
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
  Status CheckKey() {
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
  Status LoadNextSeq() {
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
  std::vector<Contact> AllContacts() const {
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
  Result<HistoryKey> FindHistoryKey(const MessageId& id) const {
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

  Result<HistoryEntry> ReadHistory(const HistoryKey& k) const {
    auto plain = Read(history, AsSlice(k));
    if (!plain.ok()) return plain.status();
    auto entry = DecodeHistory(plain->span());
    if (!entry) return Status::Corruption("a history entry is damaged");
    return std::move(*entry);
  }

  void PutHistory(rocksdb::WriteBatch& batch, const HistoryKey& k, const HistoryEntry& e) const {
    Writer w(kHistoryFixedSize + e.text.size());
    EncodeHistory(e, w);
    PutSealed(batch, history, AsSlice(k), w.bytes());
  }

  void PutOutbox(rocksdb::WriteBatch& batch, const OutboxEntry& o) const {
    Writer w(kOutboxFixedSize + o.sphinx_message.size());
    EncodeOutbox(o, w);
    PutSealed(batch, outbox, AsSlice(EncodeSeq(o.seq)), w.bytes());
  }

  fs::path SessionPath(const PublicKey& peer) const { return sessions_dir / ToHex(TagPeer(peer)); }
};

namespace {

Status CheckPacket(const OutboxEntry& packet) {
  if (packet.sphinx_message.size() != kSphinxMessageSize) {
    return Status::InvalidArgument(fmt::format("cannot queue a message of {} bytes (must be {})",
                                               packet.sphinx_message.size(), kSphinxMessageSize));
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
