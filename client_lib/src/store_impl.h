// The inside of ClientStore (internal to client_lib): the RocksDB handles and column families,
// the keyed tags that name records, sealing and opening of values under the state key, and the
// session files. client_store.cpp builds the public methods on it. papers/e2ee-spec.md §11
// describes the layout:
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
// The records themselves are in store_records.h.
//
// Errors: RocksDB statuses become sotto::Status with the path and the operation. Not
// thread-safe: ClientStore has one user at a time.
#pragma once

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sotto/client_lib/client_store.h"
#include "sotto/core/secret.h"
#include "store_records.h"

namespace sotto::client {
namespace store_internal {

inline constexpr std::string_view kProfileKey = "profile";

inline constexpr std::size_t kNameTagSize = 32;
inline constexpr std::size_t kPeerTagSize = 16;
inline constexpr std::size_t kMessageTagSize = 16;
inline constexpr std::size_t kHistoryKeySize = kPeerTagSize + 8;
inline constexpr std::size_t kMaxSessionFileSize = 16u << 20;

using NameTag = std::array<std::uint8_t, kNameTagSize>;
using PeerTag = std::array<std::uint8_t, kPeerTagSize>;
using MessageTag = std::array<std::uint8_t, kMessageTagSize>;
using HistoryKey = std::array<std::uint8_t, kHistoryKeySize>;

// Views of bytes as RocksDB slices and back (no copies).
template <std::size_t N>
rocksdb::Slice AsSlice(const std::array<std::uint8_t, N>& bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), N};
}
inline rocksdb::Slice AsSlice(std::string_view s) { return {s.data(), s.size()}; }
inline rocksdb::Slice AsSlice(const Bytes& b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}
inline ByteSpan AsBytes(const rocksdb::Slice& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// Reads a whole file of at most `limit` bytes. NotFound if it does not exist.
Result<Bytes> ReadSmallFile(const std::filesystem::path& path, std::size_t limit);

// A session file's name: the hex of a PeerTag (temporary files start with '.').
bool IsSessionFileName(const std::string& name);

}  // namespace store_internal

struct ClientStore::Impl {
  std::filesystem::path home;
  std::filesystem::path db_path;
  std::filesystem::path sessions_dir;
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

  // Derives the tag subkeys; opens nothing (OpenDb, CheckKey and LoadNextSeq do).
  Impl(std::filesystem::path home_dir, StateKey state_key);
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
  ~Impl();

  // ---- Tags ----

  store_internal::NameTag TagName(std::string_view name) const;
  store_internal::PeerTag TagPeer(const PublicKey& peer) const;
  store_internal::MessageTag TagMessage(const MessageId& id) const;
  store_internal::HistoryKey KeyOfHistory(const PublicKey& peer, std::uint64_t seq) const;

  // ---- Sealing ----

  Bytes Seal(rocksdb::ColumnFamilyHandle* cf, const rocksdb::Slice& k, ByteSpan plain) const;
  Result<store_internal::Plain> Open(rocksdb::ColumnFamilyHandle* cf, const rocksdb::Slice& k,
                                     const rocksdb::Slice& sealed) const;
  // Reads and opens one value; NotFound if there is none.
  Result<store_internal::Plain> Read(rocksdb::ColumnFamilyHandle* cf,
                                     const rocksdb::Slice& k) const;

  // ---- Writing ----

  // A RocksDB failure as a Status that names the store, the operation and what to do.
  Status Fail(const rocksdb::Status& s, std::string_view op) const;
  Status Write(rocksdb::WriteBatch& batch, std::string_view op);  // synced
  void PutSealed(rocksdb::WriteBatch& batch, rocksdb::ColumnFamilyHandle* cf,
                 const rocksdb::Slice& k, ByteSpan plain) const;
  void PutNextSeq(rocksdb::WriteBatch& batch, std::uint64_t next) const;
  void PutHistory(rocksdb::WriteBatch& batch, const store_internal::HistoryKey& k,
                  const HistoryEntry& e) const;
  void PutOutbox(rocksdb::WriteBatch& batch, const OutboxEntry& o) const;

  // ---- Open ----

  Status OpenDb();
  // The check record opens only with the state key that created the store.
  Status CheckKey();
  // The next sequence number: past the stored counter and past every key present.
  Status LoadNextSeq();

  // ---- Lookups ----

  // Every contact that decodes, with its key.
  std::vector<Contact> AllContacts() const;
  // The history key of a message id; NotFound if unknown.
  Result<store_internal::HistoryKey> FindHistoryKey(const MessageId& id) const;
  Result<HistoryEntry> ReadHistory(const store_internal::HistoryKey& k) const;

  std::filesystem::path SessionPath(const PublicKey& peer) const;
};

}  // namespace sotto::client
