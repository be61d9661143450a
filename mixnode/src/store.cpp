// NodeStore on RocksDB: one database in the state directory, one column family per keyspace.
//
//   default      meta: the next pool id and, per mailbox, the next mail id (store_codec.h)
//   pool         pooled packets by id
//   mail         mail items by mailbox ‖ id
//   replay-<e>   the replay tags of Sphinx key epoch e (Bloom-filtered point lookups)
// Key and value encodings: store_codec.h. Every column family found on disk is opened (RocksDB
// requires it); names this version does not know are kept open and left alone.
//
// Ids: the next id is kept in memory and written to the meta column family in the same batch as
// the item that uses it, so ids never repeat, even after the newest items were removed and the
// node restarted (a client re-sending an old acknowledgement must not delete a new message). On
// open, every counter is loaded and raised past the last key actually present, so storing an
// item never reads the disk. Mail ids start at 1: 0 is
// the id of the padding items in MAIL replies and never names a stored item. The in-memory counters
// and the replay column-family map are guarded by `mu_`; RocksDB itself is thread-safe.
//
// Errors: every RocksDB status becomes a sotto::Status naming the operation and the path (see
// store_rocks.h); a value that does not decode is Corruption naming its key; exceptions (only
// allocation failure or std::filesystem can throw here) are caught and returned as Internal.
#include "sotto/mixnode/store.h"

#include <fmt/format.h>
#include <rocksdb/db.h>
#include <rocksdb/iterator.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <limits>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <system_error>
#include <utility>

#include "store_codec.h"
#include "store_dir.h"
#include "store_rocks.h"

namespace sotto::mixnode {
namespace {

using namespace store_internal;  // NOLINT: internal helpers of this one file
namespace fs = std::filesystem;

constexpr std::size_t kExpireBatchSize = 1024;

template <std::size_t N>
rocksdb::Slice AsSlice(const std::array<std::uint8_t, N>& bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), N};
}

std::string KeyHex(const rocksdb::Slice& key) {
  return ToHex(ByteSpan(reinterpret_cast<const std::uint8_t*>(key.data()), key.size()));
}

class RocksNodeStore final : public NodeStore {
 public:
  static Result<std::unique_ptr<NodeStore>> Create(const fs::path& dir);

  explicit RocksNodeStore(fs::path dir) : dir_(std::move(dir)) {}
  RocksNodeStore(const RocksNodeStore&) = delete;
  RocksNodeStore& operator=(const RocksNodeStore&) = delete;

  ~RocksNodeStore() override {
    if (!db_) return;
    for (auto* handle : {meta_, pool_, mail_}) {
      if (handle != nullptr) (void)db_->DestroyColumnFamilyHandle(handle);
    }
    for (auto& [epoch, handle] : replay_) (void)db_->DestroyColumnFamilyHandle(handle);
    for (auto* handle : unknown_) (void)db_->DestroyColumnFamilyHandle(handle);
    (void)db_->Close();
  }

  // ---- Replay cache ----

  Status AddReplayEpoch(std::uint64_t epoch) override try {
    std::unique_lock lock(mu_);
    if (replay_.contains(epoch)) return Status::Ok();
    rocksdb::ColumnFamilyHandle* handle = nullptr;
    auto s = db_->CreateColumnFamily(ReplayCfOptions(), ReplayCfName(epoch), &handle);
    if (!s.ok()) return Fail(s, fmt::format("add replay epoch {} to", epoch));
    replay_.emplace(epoch, handle);
    return Status::Ok();
  } catch (const std::exception& e) {
    return Unexpected("add a replay epoch to", e);
  }

  Status DropReplayEpochsBefore(std::uint64_t epoch) override try {
    std::unique_lock lock(mu_);
    while (!replay_.empty() && replay_.begin()->first < epoch) {
      auto [old_epoch, handle] = *replay_.begin();
      auto s = db_->DropColumnFamily(handle);
      if (!s.ok()) return Fail(s, fmt::format("drop replay epoch {} from", old_epoch));
      (void)db_->DestroyColumnFamilyHandle(handle);
      replay_.erase(replay_.begin());
    }
    return Status::Ok();
  } catch (const std::exception& e) {
    return Unexpected("drop replay epochs from", e);
  }

  std::vector<std::uint64_t> ReplayEpochs() const override {
    std::shared_lock lock(mu_);
    std::vector<std::uint64_t> epochs;
    epochs.reserve(replay_.size());
    for (const auto& [epoch, handle] : replay_) epochs.push_back(epoch);
    return epochs;
  }

  // Fails closed: an epoch without a keyspace (never added, or dropped because its key is gone)
  // or a read error answers "seen", so the caller drops the packet.
  bool ReplaySeen(std::uint64_t epoch, const sphinx::ReplayTag& tag) const override try {
    std::shared_lock lock(mu_);
    auto it = replay_.find(epoch);
    if (it == replay_.end()) return true;
    rocksdb::PinnableSlice value;
    auto s = db_->Get(rocksdb::ReadOptions(), it->second, AsSlice(tag), &value);
    return !s.IsNotFound();
  } catch (const std::exception&) {
    return true;
  }

  Status RecordReplay(std::uint64_t epoch, const sphinx::ReplayTag& tag) override try {
    std::unique_lock lock(mu_);
    auto* replay = ReplayCf(epoch);
    if (replay == nullptr) return UnknownEpoch(epoch, "record a replay tag in");
    auto s = db_->Put(rocksdb::WriteOptions(), replay, AsSlice(tag), rocksdb::Slice());
    if (!s.ok()) return Fail(s, "record a replay tag in");
    return Status::Ok();
  } catch (const std::exception& e) {
    return Unexpected("record a replay tag in", e);
  }

  // ---- Pool ----

  Result<std::uint64_t> Accept(std::uint64_t epoch, const sphinx::ReplayTag& tag,
                               PooledPacket packet) override try {
    if (packet.packet.size() != sphinx::kPacketSize) {
      return Status::InvalidArgument(
          fmt::format("cannot pool a packet of {} bytes (Sphinx packets are {})",
                      packet.packet.size(), sphinx::kPacketSize));
    }
    if (packet.link_id == 0) {
      return Status::InvalidArgument("cannot pool a packet without a link id (use a non-zero id)");
    }
    std::unique_lock lock(mu_);
    auto* replay = ReplayCf(epoch);
    if (replay == nullptr) return UnknownEpoch(epoch, "accept a packet into");
    packet.epoch = epoch;
    packet.dummy = false;
    rocksdb::WriteBatch batch;
    (void)batch.Put(replay, AsSlice(tag), rocksdb::Slice());
    return AddToPool(std::move(packet), batch, "accept a packet into");
  } catch (const std::exception& e) {
    return Unexpected("accept a packet into", e);
  }

  Result<std::uint64_t> PoolOwn(PooledPacket packet) override try {
    if (packet.packet.size() != sphinx::kPacketSize || packet.link_id == 0) {
      return Status::InvalidArgument(fmt::format(
          "cannot pool a packet of {} bytes with link id {} (Sphinx packets are {} bytes; link "
          "ids are non-zero)",
          packet.packet.size(), packet.link_id, sphinx::kPacketSize));
    }
    std::unique_lock lock(mu_);
    packet.dummy = true;
    rocksdb::WriteBatch batch;
    return AddToPool(std::move(packet), batch, "pool a packet of this node in");
  } catch (const std::exception& e) {
    return Unexpected("pool a packet of this node in", e);
  }

  Status RemovePooled(const std::vector<std::uint64_t>& ids) override try {
    rocksdb::WriteBatch batch;
    for (std::uint64_t id : ids) (void)batch.Delete(pool_, PoolKey(id));
    auto s = db_->Write(rocksdb::WriteOptions(), &batch);
    if (!s.ok()) return Fail(s, "remove pooled packets from");
    return Status::Ok();
  } catch (const std::exception& e) {
    return Unexpected("remove pooled packets from", e);
  }

  Result<std::vector<PooledPacket>> LoadPool() const override try {
    std::vector<PooledPacket> pool;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), pool_));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      auto id = ParsePoolKey(it->key().ToStringView());
      if (!id) return CorruptEntry("pool entry with a malformed key", it->key());
      auto packet = DecodePooled(*id, it->value().ToStringView());
      if (!packet) return CorruptEntry(fmt::format("pool entry {}", *id), it->key());
      pool.push_back(std::move(*packet));
    }
    if (!it->status().ok()) return Fail(it->status(), "read the pool of");
    return pool;
  } catch (const std::exception& e) {
    return Unexpected("read the pool of", e);
  }

  // ---- Mailboxes ----

  Result<std::uint64_t> StoreMail(
      const sphinx::MailboxId& mailbox, MailItem item,
      std::optional<std::pair<std::uint64_t, sphinx::ReplayTag>> replay) override try {
    if (item.payload.size() > std::numeric_limits<std::uint32_t>::max()) {
      return Status::InvalidArgument(
          fmt::format("cannot store a mail item of {} bytes", item.payload.size()));
    }
    std::unique_lock lock(mu_);
    rocksdb::ColumnFamilyHandle* replay_cf = nullptr;
    if (replay) {
      replay_cf = ReplayCf(replay->first);
      if (replay_cf == nullptr) return UnknownEpoch(replay->first, "store mail in");
    }
    item.id = NextMailId(mailbox);
    rocksdb::WriteBatch batch;
    if (replay) (void)batch.Put(replay_cf, AsSlice(replay->second), rocksdb::Slice());
    (void)batch.Put(mail_, MailKey(mailbox, item.id), EncodeMail(item));
    (void)batch.Put(meta_, NextMailIdKey(mailbox), EncodeU64(item.id + 1));
    auto s = db_->Write(rocksdb::WriteOptions(), &batch);
    if (!s.ok()) return Fail(s, "store mail in");
    next_mail_id_[mailbox] = item.id + 1;
    return item.id;
  } catch (const std::exception& e) {
    return Unexpected("store mail in", e);
  }

  Result<std::vector<MailItem>> FetchMail(const sphinx::MailboxId& mailbox,
                                          std::size_t max) const override try {
    std::vector<MailItem> items;
    Status s =
        ScanMailbox(mailbox, max,
                    [&](std::uint64_t id, const rocksdb::Slice& key, const rocksdb::Slice& value) {
                      auto item = DecodeMail(id, value.ToStringView());
                      if (!item) return CorruptEntry(fmt::format("mail item {}", id), key);
                      items.push_back(std::move(*item));
                      return Status::Ok();
                    });
    if (!s.ok()) return s;
    return items;
  } catch (const std::exception& e) {
    return Unexpected("fetch mail from", e);
  }

  Status AckMail(const sphinx::MailboxId& mailbox, const std::vector<std::uint64_t>& ids) override
      try {
    rocksdb::WriteBatch batch;
    for (std::uint64_t id : ids) (void)batch.Delete(mail_, MailKey(mailbox, id));
    auto s = db_->Write(rocksdb::WriteOptions(), &batch);
    if (!s.ok()) return Fail(s, "acknowledge mail in");
    return Status::Ok();
  } catch (const std::exception& e) {
    return Unexpected("acknowledge mail in", e);
  }

  // Deletes in batches of kExpireBatchSize so memory stays bounded however large the mail is.
  Result<std::size_t> ExpireMail(std::int64_t cutoff_us) override try {
    std::size_t expired = 0;
    rocksdb::WriteBatch batch;
    auto flush = [&]() -> Status {
      auto s = db_->Write(rocksdb::WriteOptions(), &batch);
      batch.Clear();
      return s.ok() ? Status::Ok() : Fail(s, "expire mail in");
    };
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), mail_));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      if (it->key().size() != kMailKeySize) {
        return CorruptEntry("mail item with a malformed key", it->key());
      }
      auto item = DecodeMail(0, it->value().ToStringView());
      if (!item) return CorruptEntry("mail item", it->key());
      if (item->received_us >= cutoff_us) continue;
      (void)batch.Delete(mail_, it->key());
      ++expired;
      if (batch.Count() >= kExpireBatchSize) {
        if (Status s = flush(); !s.ok()) return s;
      }
    }
    if (!it->status().ok()) return Fail(it->status(), "expire mail in");
    if (Status s = flush(); !s.ok()) return s;
    return expired;
  } catch (const std::exception& e) {
    return Unexpected("expire mail in", e);
  }

  Result<std::size_t> MailCount(const sphinx::MailboxId& mailbox) const override try {
    std::size_t count = 0;
    Status s = ScanMailbox(mailbox, std::numeric_limits<std::size_t>::max(),
                           [&](std::uint64_t, const rocksdb::Slice&, const rocksdb::Slice&) {
                             ++count;
                             return Status::Ok();
                           });
    if (!s.ok()) return s;
    return count;
  } catch (const std::exception& e) {
    return Unexpected("count mail in", e);
  }

 private:
  Status Fail(const rocksdb::Status& s, std::string_view op) const {
    return FromRocks(s, op, dir_);
  }
  Status Unexpected(std::string_view op, const std::exception& e) const {
    return Status::Internal(
        fmt::format("cannot {} node store at {}: {}", op, dir_.string(), e.what()));
  }
  Status UnknownEpoch(std::uint64_t epoch, std::string_view op) const {
    return Status::NotFound(fmt::format(
        "cannot {} node store at {}: no replay keyspace for epoch {} (add the epoch first; an "
        "epoch whose key was retired cannot be used)",
        op, dir_.string(), epoch));
  }
  Status CorruptEntry(std::string_view what, const rocksdb::Slice& key) const {
    return Status::Corruption(fmt::format(
        "corrupt {} (key {}) in node store at {} (restore the state directory from a backup)", what,
        KeyHex(key), dir_.string()));
  }

  // Requires mu_ held exclusively. Adds the packet under the next pool id to `batch` and writes
  // it; returns the id.
  Result<std::uint64_t> AddToPool(PooledPacket packet, rocksdb::WriteBatch& batch,
                                  std::string_view op) {
    packet.id = next_pool_id_;
    (void)batch.Put(pool_, PoolKey(packet.id), EncodePooled(packet));
    (void)batch.Put(meta_, kNextPoolIdKey, EncodeU64(packet.id + 1));
    auto s = db_->Write(rocksdb::WriteOptions(), &batch);
    if (!s.ok()) return Fail(s, op);
    next_pool_id_ = packet.id + 1;
    return packet.id;
  }

  // Requires mu_.
  rocksdb::ColumnFamilyHandle* ReplayCf(std::uint64_t epoch) const {
    auto it = replay_.find(epoch);
    return it == replay_.end() ? nullptr : it->second;
  }

  // Calls `visit(id, key, value)` on up to `max` items of `mailbox`, oldest first.
  template <class Visit>
  Status ScanMailbox(const sphinx::MailboxId& mailbox, std::size_t max, Visit&& visit) const {
    if (max == 0) return Status::Ok();
    std::size_t seen = 0;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), mail_));
    for (it->Seek(MailKey(mailbox, 0)); it->Valid() && seen < max; it->Next()) {
      if (!it->key().starts_with(AsSlice(mailbox))) break;
      auto id = ParseMailKey(it->key().ToStringView(), mailbox);
      if (!id) return CorruptEntry("mail item with a malformed key", it->key());
      if (Status s = visit(*id, it->key(), it->value()); !s.ok()) return s;
      ++seen;
    }
    if (!it->status().ok()) return Fail(it->status(), "read mail in");
    return Status::Ok();
  }

  // The recorded high-water mark under `meta_key`, or 1 if none.
  Result<std::uint64_t> ReadNextId(const std::string& meta_key) const {
    std::string value;
    auto s = db_->Get(rocksdb::ReadOptions(), meta_, meta_key, &value);
    if (s.IsNotFound()) return std::uint64_t{1};
    if (!s.ok()) return Fail(s, "read the id counters of");
    auto next = DecodeU64(value);
    if (!next) return CorruptEntry("id counter", meta_key);
    return *next;
  }

  // Requires mu_ held exclusively. Every mailbox that ever held an item has its counter in
  // memory since Open (InitMailCounters), so this never reads the disk: storing the first item
  // of a mailbox takes as long as storing the next one (a previous hop timing the ack must not
  // learn whether a packet was real mail or a dummy, network-spec §4.4).
  std::uint64_t NextMailId(const sphinx::MailboxId& mailbox) {
    auto it = next_mail_id_.find(mailbox);
    return it == next_mail_id_.end() ? 1 : it->second;
  }

  // Loads every mailbox's next mail id: the recorded counter, raised past the last item
  // actually present (one seek per mailbox). Never 0, even from a damaged counter: id 0 marks
  // padding in MAIL replies (wire.h).
  Status InitMailCounters() {
    {
      std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), meta_));
      for (it->Seek(kNextMailIdPrefix); it->Valid() && it->key().starts_with(kNextMailIdPrefix);
           it->Next()) {
        sphinx::MailboxId mailbox{};
        Reader r(it->key().ToStringView().substr(kNextMailIdPrefix.size()));
        auto next = DecodeU64(it->value().ToStringView());
        if (!r.Fixed(mailbox) || !r.done() || !next) return CorruptEntry("id counter", it->key());
        next_mail_id_[mailbox] = std::max<std::uint64_t>(*next, 1);
      }
      if (!it->status().ok()) return Fail(it->status(), "read the id counters of");
    }
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), mail_));
    for (it->SeekToFirst(); it->Valid();) {
      if (it->key().size() != kMailKeySize) {
        return CorruptEntry("mail item with a malformed key", it->key());
      }
      sphinx::MailboxId mailbox{};
      std::copy_n(reinterpret_cast<const std::uint8_t*>(it->key().data()), mailbox.size(),
                  mailbox.begin());
      it->SeekForPrev(MailKey(mailbox, std::numeric_limits<std::uint64_t>::max()));
      auto last = it->Valid() ? ParseMailKey(it->key().ToStringView(), mailbox) : std::nullopt;
      if (!last) return CorruptEntry("mail item with a malformed key", it->key());
      auto& next = next_mail_id_[mailbox];
      next = std::max({next, *last + 1, std::uint64_t{1}});
      it->Next();  // the first key of the next mailbox
    }
    if (!it->status().ok()) return Fail(it->status(), "read mail in");
    return Status::Ok();
  }

  Status InitPoolCounter() {
    auto next = ReadNextId(std::string(kNextPoolIdKey));
    if (!next.ok()) return next.status();
    next_pool_id_ = *next;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), pool_));
    it->SeekToLast();
    if (it->Valid()) {
      auto last = ParsePoolKey(it->key().ToStringView());
      if (!last) return CorruptEntry("pool entry with a malformed key", it->key());
      next_pool_id_ = std::max(next_pool_id_, *last + 1);
    }
    if (!it->status().ok()) return Fail(it->status(), "read the pool of");
    return Status::Ok();
  }

  const fs::path dir_;
  std::unique_ptr<rocksdb::DB> db_;
  rocksdb::ColumnFamilyHandle* meta_ = nullptr;
  rocksdb::ColumnFamilyHandle* pool_ = nullptr;
  rocksdb::ColumnFamilyHandle* mail_ = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> unknown_;  // column families of a newer version

  mutable std::shared_mutex mu_;
  std::map<std::uint64_t, rocksdb::ColumnFamilyHandle*> replay_;  // guarded by mu_
  std::uint64_t next_pool_id_ = 1;                                // guarded by mu_
  std::map<sphinx::MailboxId, std::uint64_t> next_mail_id_;       // guarded by mu_
};

Result<std::unique_ptr<NodeStore>> RocksNodeStore::Create(const fs::path& dir) {
  if (Status s = PrepareDirectory(dir); !s.ok()) return s;

  rocksdb::DBOptions options;
  options.create_if_missing = true;
  options.create_missing_column_families = true;
  options.keep_log_file_num = 4;  // RocksDB's own info logs, not the WAL

  // Every column family on disk must be opened; a new database has none yet.
  std::vector<std::string> names = {rocksdb::kDefaultColumnFamilyName, std::string(kPoolCf),
                                    std::string(kMailCf)};
  std::error_code ec;
  if (fs::exists(dir / "CURRENT", ec)) {
    std::vector<std::string> existing;
    auto s = rocksdb::DB::ListColumnFamilies(options, dir.string(), &existing);
    if (!s.ok()) return FromRocks(s, "open", dir);
    for (auto& name : existing) {
      if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
    }
  }
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const auto& name : names) {
    descriptors.emplace_back(
        name, ParseReplayCfName(name) ? ReplayCfOptions() : rocksdb::ColumnFamilyOptions());
  }

  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  auto s = rocksdb::DB::Open(options, dir.string(), descriptors, &handles, &raw);
  if (!s.ok()) return FromRocks(s, "open", dir);

  auto store = std::make_unique<RocksNodeStore>(dir);
  store->db_.reset(raw);
  for (std::size_t i = 0; i < handles.size(); ++i) {
    const std::string& name = names[i];
    if (name == rocksdb::kDefaultColumnFamilyName) {
      store->meta_ = handles[i];
    } else if (name == kPoolCf) {
      store->pool_ = handles[i];
    } else if (name == kMailCf) {
      store->mail_ = handles[i];
    } else if (auto epoch = ParseReplayCfName(name)) {
      store->replay_.emplace(*epoch, handles[i]);
    } else {
      store->unknown_.push_back(handles[i]);
    }
  }
  if (Status init = store->InitPoolCounter(); !init.ok()) return init;
  if (Status init = store->InitMailCounters(); !init.ok()) return init;
  return std::unique_ptr<NodeStore>(std::move(store));
}

}  // namespace

Result<std::unique_ptr<NodeStore>> NodeStore::Open(const std::filesystem::path& dir) try {
  return RocksNodeStore::Create(dir);
} catch (const std::exception& e) {
  return Status::Internal(fmt::format("cannot open node store at {}: {}", dir.string(), e.what()));
}

}  // namespace sotto::mixnode
