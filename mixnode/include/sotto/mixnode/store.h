// NodeStore: everything a mix or provider keeps on disk, in one RocksDB database.
//
//   - the replay cache, one column family per Sphinx key epoch ("replay-<epoch>"), dropped
//     together with the epoch's key;
//   - the pool: packets accepted (and dummies made) but not yet acknowledged by the next hop, so
//     that a restart (clean or kill -9) loses none — a packet and its replay tag are written in
//     one atomic batch;
//   - mailboxes (providers): messages stored until fetched and acknowledged, or expired.
//
// Writes go through RocksDB's write-ahead log (not fsync'ed per write: a killed process loses
// nothing; a power cut may lose the last few milliseconds). All methods return Status/Result;
// RocksDB errors are turned into IoError/Corruption with the path in the message. Thread-safe
// (RocksDB is), but the daemon uses it from one thread.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <vector>

#include "sotto/core/bytes.h"
#include "sotto/core/sphinx.h"
#include "sotto/core/status.h"

namespace sotto::mixnode {

// A packet this node will send to its next hop: a packet it accepted (Accept) or a dummy it made
// (PoolOwn). It stays until the next hop acknowledges it or its epoch expires.
struct PooledPacket {
  std::uint64_t id = 0;            // pool id: assigned by the store, increasing; never on the wire
  std::int64_t arrival_us = 0;     // wall-clock microseconds since the Unix epoch
  std::uint32_t delay_ms = 0;      // the Sphinx per-hop delay
  sphinx::NodeId next_hop{};
  Bytes packet;                    // sphinx::kPacketSize bytes
  // The id of this packet on the link to next_hop (PACKET's seq): chosen by the node, uniformly
  // random and non-zero. 0 only in records written before it was stored (version 1).
  std::uint64_t link_id = 0;
  // The Sphinx key epoch the packet was processed under (Accept) or built for (a dummy): it is
  // given up when that epoch's keys are gone everywhere. 0 in version-1 records.
  std::uint64_t epoch = 0;
  bool dummy = false;              // made by this node (PoolOwn)
};

struct MailItem {
  std::uint64_t id = 0;            // per-mailbox, increasing from 1 (0: padding on the wire)
  std::int64_t received_us = 0;
  bool is_reply = false;           // a SURB reply (payload still encrypted) rather than a message
  sphinx::SurbId surb_id{};        // for replies
  Bytes payload;                   // the message, or the opaque reply payload
};

class NodeStore {
 public:
  // Opens or creates the database in `dir` (created 0700 if missing).
  static Result<std::unique_ptr<NodeStore>> Open(const std::filesystem::path& dir);
  virtual ~NodeStore() = default;

  // ---- Replay cache ----
  // Creates the keyspace for `epoch` if missing (idempotent).
  virtual Status AddReplayEpoch(std::uint64_t epoch) = 0;
  // Drops every replay keyspace for epochs < `epoch` (their keys are gone, so are their tags).
  virtual Status DropReplayEpochsBefore(std::uint64_t epoch) = 0;
  virtual std::vector<std::uint64_t> ReplayEpochs() const = 0;
  // True if the tag is recorded for the epoch. An unknown epoch or a read error answers true
  // ("seen"): failing closed drops the packet rather than risk accepting a replay.
  virtual bool ReplaySeen(std::uint64_t epoch, const sphinx::ReplayTag& tag) const = 0;
  // Records a tag without pooling anything (final hops that deliver straight to a mailbox).
  virtual Status RecordReplay(std::uint64_t epoch, const sphinx::ReplayTag& tag) = 0;

  // ---- Pool ----
  // Atomically records the replay tag and stores the packet, with `epoch` as its epoch; returns
  // the packet's pool id.
  virtual Result<std::uint64_t> Accept(std::uint64_t epoch, const sphinx::ReplayTag& tag,
                                       PooledPacket packet) = 0;
  // Stores a packet this node made itself (a dummy: no replay tag); returns its pool id.
  virtual Result<std::uint64_t> PoolOwn(PooledPacket packet) = 0;
  virtual Status RemovePooled(const std::vector<std::uint64_t>& ids) = 0;
  // Every pooled packet, in id order (on start-up, to resume forwarding).
  virtual Result<std::vector<PooledPacket>> LoadPool() const = 0;

  // ---- Mailboxes ----
  // Atomically records the replay tag (if given) and stores the item; returns its id.
  virtual Result<std::uint64_t> StoreMail(const sphinx::MailboxId& mailbox, MailItem item,
                                          std::optional<std::pair<std::uint64_t, sphinx::ReplayTag>>
                                              replay = std::nullopt) = 0;
  // Up to `max` items, oldest first, without removing them.
  virtual Result<std::vector<MailItem>> FetchMail(const sphinx::MailboxId& mailbox,
                                                  std::size_t max) const = 0;
  // Removes the acknowledged items (unknown ids are ignored).
  virtual Status AckMail(const sphinx::MailboxId& mailbox,
                         const std::vector<std::uint64_t>& ids) = 0;
  // Removes items received before `cutoff_us`; returns how many.
  virtual Result<std::size_t> ExpireMail(std::int64_t cutoff_us) = 0;
  virtual Result<std::size_t> MailCount(const sphinx::MailboxId& mailbox) const = 0;
};

}  // namespace sotto::mixnode
