// RocksDB adapter pieces of the node store (internal to store.cpp): column-family names and
// options, and the translation of rocksdb::Status into sotto::Status with the database path and
// the operation in the message. Pure functions, thread-safe.
#pragma once

#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/status.h>
#include <rocksdb/table.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "sotto/core/status.h"

namespace sotto::mixnode::store_internal {

inline constexpr std::string_view kPoolCf = "pool";
inline constexpr std::string_view kMailCf = "mail";
inline constexpr std::string_view kReplayCfPrefix = "replay-";

inline std::string ReplayCfName(std::uint64_t epoch) {
  return std::string(kReplayCfPrefix) + std::to_string(epoch);
}

// The epoch of a "replay-<epoch>" name, in canonical decimal (so two names never map to one
// epoch); nullopt for any other name.
inline std::optional<std::uint64_t> ParseReplayCfName(std::string_view name) {
  if (!name.starts_with(kReplayCfPrefix)) return std::nullopt;
  std::string_view digits = name.substr(kReplayCfPrefix.size());
  std::uint64_t epoch = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), epoch);
  if (ec != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  if (std::to_string(epoch) != digits) return std::nullopt;  // "007", "+7"
  return epoch;
}

// Replay keyspaces answer mostly "not seen" point lookups: a Bloom filter answers most of those
// without reading a block.
inline rocksdb::ColumnFamilyOptions ReplayCfOptions() {
  rocksdb::ColumnFamilyOptions options;
  rocksdb::BlockBasedTableOptions table;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  return options;
}

inline bool MentionsLock(const rocksdb::Status& s) {
  std::string text = s.ToString();
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text.find("lock") != std::string::npos;
}

// "cannot <op> node store at <path>: <rocksdb message>[ (<hint>)]". Corruption stays Corruption
// (the data is bad); everything else is an I/O error (the operation may succeed later).
inline Status FromRocks(const rocksdb::Status& s, std::string_view op,
                        const std::filesystem::path& path) {
  std::string msg =
      "cannot " + std::string(op) + " node store at " + path.string() + ": " + s.ToString();
  if (s.IsCorruption()) {
    return Status::Corruption(msg + " (the state directory is damaged; restore it from a backup)");
  }
  if (s.IsIOError() && MentionsLock(s)) {
    return Status::IoError(msg + " (is another sotto-mixnode using this state directory?)");
  }
  if (s.IsNoSpace()) return Status::IoError(msg + " (the disk is full)");
  return Status::IoError(msg);
}

}  // namespace sotto::mixnode::store_internal
