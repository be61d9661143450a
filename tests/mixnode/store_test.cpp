// NodeStore on RocksDB: the replay cache per epoch (and failing closed), the pool surviving
// restarts and kill -9, mailboxes, corrupt values, and the state directory's protection. Each
// test runs in its own directory under /tmp, removed at the end.
#include "sotto/mixnode/store.h"

#include <poll.h>
#include <rocksdb/db.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

namespace fs = std::filesystem;
namespace sx = sotto::sphinx;
using sotto::Bytes;
using sotto::Status;
using sotto::mixnode::MailItem;
using sotto::mixnode::NodeStore;
using sotto::mixnode::PooledPacket;

namespace {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = "/tmp/sotto-store-test-XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) FAIL("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

std::unique_ptr<NodeStore> MustOpen(const fs::path& dir) {
  auto store = NodeStore::Open(dir);
  INFO(store.status().ToString());
  REQUIRE(store.ok());
  return std::move(store).value();
}

void MustOk(const Status& s) {
  INFO(s.ToString());
  REQUIRE(s.ok());
}

template <class T>
T MustValue(sotto::Result<T> r) {
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  return std::move(r).value();
}

// Distinct, recognisable 32-byte values.
template <class Array>
Array Filled(unsigned n, std::uint8_t salt) {
  Array a{};
  for (std::size_t i = 0; i < a.size(); ++i) a[i] = static_cast<std::uint8_t>(salt + i);
  a[0] = static_cast<std::uint8_t>(n >> 8);
  a[1] = static_cast<std::uint8_t>(n);
  return a;
}
sx::ReplayTag Tag(unsigned n) { return Filled<sx::ReplayTag>(n, 0x10); }

PooledPacket Packet(unsigned n) {
  PooledPacket p;
  p.arrival_us = 1'700'000'000'000'000 + n;
  p.delay_ms = 100 * n;
  p.next_hop = Filled<sx::NodeId>(n, 0x50);
  p.packet.assign(sx::kPacketSize, static_cast<std::uint8_t>(n));
  p.packet[0] = 0xAB;
  p.link_id = 0xF00D'0000'0000'0000 + n;  // any non-zero id
  return p;
}

// Everything but the pool id, the epoch and the dummy flag (the store sets those).
void RequireSamePacket(const PooledPacket& got, const PooledPacket& want) {
  CHECK(got.arrival_us == want.arrival_us);
  CHECK(got.delay_ms == want.delay_ms);
  CHECK(got.next_hop == want.next_hop);
  CHECK(got.packet == want.packet);
  CHECK(got.link_id == want.link_id);
}

MailItem Mail(std::int64_t received_us, const std::string& text) {
  MailItem m;
  m.received_us = received_us;
  m.payload.assign(text.begin(), text.end());
  return m;
}
std::string Text(const MailItem& m) { return {m.payload.begin(), m.payload.end()}; }

// Two mailboxes whose keys are adjacent in RocksDB order, and the last possible one.
const sx::MailboxId kAlice = [] {
  sx::MailboxId m{};
  return m;
}();
const sx::MailboxId kBob = [] {
  sx::MailboxId m{};
  m.back() = 1;
  return m;
}();
const sx::MailboxId kCarol = [] {
  sx::MailboxId m{};
  m.fill(0xFF);
  return m;
}();

std::string BigEndian64(std::uint64_t v) {
  std::string out;
  for (int shift = 56; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((v >> shift) & 0xff));
  return out;
}

// A pooled packet of version 1, as the code before per-link ids wrote it (store_codec.h).
std::string PooledVersion1(const PooledPacket& p) {
  std::string value = "\x01" + BigEndian64(static_cast<std::uint64_t>(p.arrival_us));
  value += BigEndian64(p.delay_ms).substr(4);
  value.append(p.next_hop.begin(), p.next_hop.end());
  value += BigEndian64(p.packet.size()).substr(4);
  value.append(p.packet.begin(), p.packet.end());
  return value;
}

// Writes `value` under `key` in column family `cf` of the closed store in `dir` (or deletes the
// key if there is no value), with RocksDB directly, the way a damaged disk or a foreign tool would.
void RawWrite(const fs::path& dir, const std::string& cf, const std::string& key,
              const std::optional<std::string>& value) {
  rocksdb::DBOptions options;
  std::vector<std::string> names;
  REQUIRE(rocksdb::DB::ListColumnFamilies(options, dir.string(), &names).ok());
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const auto& name : names) descriptors.emplace_back(name, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  REQUIRE(rocksdb::DB::Open(options, dir.string(), descriptors, &handles, &db).ok());
  rocksdb::Status write = rocksdb::Status::NotFound("no column family " + cf);
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (names[i] != cf) continue;
    write = value ? db->Put(rocksdb::WriteOptions(), handles[i], key, *value)
                  : db->Delete(rocksdb::WriteOptions(), handles[i], key);
  }
  for (auto* handle : handles) (void)db->DestroyColumnFamilyHandle(handle);
  (void)db->Close();
  delete db;
  INFO(write.ToString());
  REQUIRE(write.ok());
}

}  // namespace

// ---- Replay cache ----

TEST_CASE("store: replay tags are recorded per epoch, epochs are independent", "[store]") {
  TempDir tmp;
  auto store = MustOpen(tmp.path() / "node");
  MustOk(store->AddReplayEpoch(7));
  MustOk(store->AddReplayEpoch(8));
  CHECK(store->ReplayEpochs() == std::vector<std::uint64_t>{7, 8});

  CHECK_FALSE(store->ReplaySeen(7, Tag(1)));
  MustOk(store->RecordReplay(7, Tag(1)));
  CHECK(store->ReplaySeen(7, Tag(1)));
  CHECK_FALSE(store->ReplaySeen(7, Tag(2)));
  CHECK_FALSE(store->ReplaySeen(8, Tag(1)));  // the same tag under another key is another packet

  MustOk(store->AddReplayEpoch(7));  // idempotent: keeps the tags
  CHECK(store->ReplaySeen(7, Tag(1)));
  CHECK(store->ReplayEpochs() == std::vector<std::uint64_t>{7, 8});

  store.reset();  // tags and epochs survive a restart
  store = MustOpen(tmp.path() / "node");
  CHECK(store->ReplayEpochs() == std::vector<std::uint64_t>{7, 8});
  CHECK(store->ReplaySeen(7, Tag(1)));
  CHECK_FALSE(store->ReplaySeen(8, Tag(1)));
}

TEST_CASE("store: dropped epochs forget their tags and fail closed", "[store]") {
  TempDir tmp;
  auto store = MustOpen(tmp.path() / "node");
  for (std::uint64_t epoch : {7, 8, 9}) {
    MustOk(store->AddReplayEpoch(epoch));
    MustOk(store->RecordReplay(epoch, Tag(1)));
  }
  CHECK(store->ReplaySeen(42, Tag(99)));  // never added: unknown epochs answer "seen"

  MustOk(store->DropReplayEpochsBefore(9));
  CHECK(store->ReplayEpochs() == std::vector<std::uint64_t>{9});
  CHECK(store->ReplaySeen(7, Tag(99)));  // dropped: fail closed, even for a fresh tag
  CHECK(store->ReplaySeen(8, Tag(99)));
  CHECK(store->ReplaySeen(9, Tag(1)));
  CHECK_FALSE(store->ReplaySeen(9, Tag(99)));
  CHECK(store->RecordReplay(8, Tag(2)).code() == Status::Code::kNotFound);

  store.reset();  // the drop is durable
  store = MustOpen(tmp.path() / "node");
  CHECK(store->ReplayEpochs() == std::vector<std::uint64_t>{9});
  MustOk(store->AddReplayEpoch(7));  // re-created empty: the old tags are gone
  CHECK_FALSE(store->ReplaySeen(7, Tag(1)));
}

// ---- Pool ----

TEST_CASE("store: pooled packets keep their link id, epoch and dummy flag", "[store]") {
  TempDir tmp;
  const fs::path dir = tmp.path() / "node";
  std::uint64_t accepted = 0, own = 0;
  {
    auto store = MustOpen(dir);
    MustOk(store->AddReplayEpoch(3));
    PooledPacket p = Packet(1);
    p.epoch = 99;    // Accept takes the epoch it is given ...
    p.dummy = true;  // ... and an accepted packet is never this node's own
    accepted = MustValue(store->Accept(3, Tag(1), p));
    PooledPacket d = Packet(2);
    d.epoch = 5;
    own = MustValue(store->PoolOwn(d));
    CHECK(own > accepted);
    CHECK_FALSE(store->ReplaySeen(3, Tag(2)));  // a dummy has no replay tag

    PooledPacket no_link = Packet(3);
    no_link.link_id = 0;
    CHECK(store->Accept(3, Tag(3), no_link).status().code() == Status::Code::kInvalidArgument);
    CHECK(store->PoolOwn(no_link).status().code() == Status::Code::kInvalidArgument);
    PooledPacket short_packet = Packet(4);
    short_packet.packet.pop_back();
    CHECK(store->PoolOwn(short_packet).status().code() == Status::Code::kInvalidArgument);
    CHECK_FALSE(store->ReplaySeen(3, Tag(3)));  // nothing of a refused packet is kept
  }
  auto store = MustOpen(dir);  // after a restart
  auto pool = MustValue(store->LoadPool());
  REQUIRE(pool.size() == 2);
  CHECK(pool[0].id == accepted);
  RequireSamePacket(pool[0], Packet(1));
  CHECK(pool[0].epoch == 3);
  CHECK_FALSE(pool[0].dummy);
  CHECK(pool[1].id == own);
  RequireSamePacket(pool[1], Packet(2));
  CHECK(pool[1].epoch == 5);
  CHECK(pool[1].dummy);
}

TEST_CASE("store: a pool written before per-link ids (version 1) still loads, with new records",
          "[store]") {
  TempDir tmp;
  const fs::path dir = tmp.path() / "node";
  {
    auto store = MustOpen(dir);
    MustOk(store->AddReplayEpoch(1));
    MustValue(store->Accept(1, Tag(1), Packet(1)));  // creates the column families
    MustOk(store->RemovePooled({1}));
  }
  // What the previous version left: pool ids 2..4 in version 1, and its id counter.
  for (unsigned n = 2; n <= 4; ++n)
    RawWrite(dir, "pool", BigEndian64(n), PooledVersion1(Packet(n)));
  RawWrite(dir, "default", "next-pool-id", BigEndian64(5));
  auto store = MustOpen(dir);
  MustOk(store->AddReplayEpoch(2));
  const auto fresh = MustValue(store->Accept(2, Tag(5), Packet(5)));
  CHECK(fresh == 5);  // ids go on after the old ones
  auto pool = MustValue(store->LoadPool());
  REQUIRE(pool.size() == 4);
  for (unsigned n = 2; n <= 4; ++n) {
    const auto& p = pool[n - 2];
    CHECK(p.id == n);
    PooledPacket want = Packet(n);
    want.link_id = 0;  // the node assigns one on load
    RequireSamePacket(p, want);
    CHECK(p.epoch == 0);
    CHECK_FALSE(p.dummy);
  }
  RequireSamePacket(pool[3], Packet(5));
  CHECK(pool[3].epoch == 2);
}

TEST_CASE("store: Accept records the replay tag and the packet together", "[store]") {
  TempDir tmp;
  auto store = MustOpen(tmp.path() / "node");
  MustOk(store->AddReplayEpoch(3));

  const auto id = MustValue(store->Accept(3, Tag(1), Packet(1)));
  CHECK(store->ReplaySeen(3, Tag(1)));
  auto pool = MustValue(store->LoadPool());
  REQUIRE(pool.size() == 1);
  CHECK(pool[0].id == id);
  RequireSamePacket(pool[0], Packet(1));

  SECTION("an unknown epoch stores neither the packet nor the tag") {
    auto r = store->Accept(4, Tag(2), Packet(2));
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Status::Code::kNotFound);
    CHECK_THAT(r.status().message(), Catch::Contains("epoch 4"));
    CHECK(MustValue(store->LoadPool()).size() == 1);
    CHECK_FALSE(store->ReplaySeen(3, Tag(2)));
  }
  SECTION("a packet of the wrong size stores neither the packet nor the tag") {
    PooledPacket bad = Packet(2);
    bad.packet.pop_back();
    auto r = store->Accept(3, Tag(2), bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Status::Code::kInvalidArgument);
    CHECK(MustValue(store->LoadPool()).size() == 1);
    CHECK_FALSE(store->ReplaySeen(3, Tag(2)));
  }
}

TEST_CASE("store: the pool survives a restart and ids keep increasing", "[store]") {
  TempDir tmp;
  const fs::path dir = tmp.path() / "node";
  std::vector<std::uint64_t> ids;
  {
    auto store = MustOpen(dir);
    MustOk(store->AddReplayEpoch(1));
    for (unsigned i = 0; i < 5; ++i) ids.push_back(MustValue(store->Accept(1, Tag(i), Packet(i))));
    for (std::size_t i = 1; i < ids.size(); ++i) CHECK(ids[i] > ids[i - 1]);
    MustOk(store->RemovePooled({ids[1], ids[3], 123456}));  // unknown ids are ignored
  }
  auto store = MustOpen(dir);
  auto pool = MustValue(store->LoadPool());
  REQUIRE(pool.size() == 3);
  const unsigned kept[] = {0, 2, 4};
  for (std::size_t i = 0; i < pool.size(); ++i) {  // in id order, contents intact
    CHECK(pool[i].id == ids[kept[i]]);
    RequireSamePacket(pool[i], Packet(kept[i]));
  }
  const auto next = MustValue(store->Accept(1, Tag(10), Packet(10)));
  CHECK(next > ids.back());

  // Even with the newest packets gone, a restart never hands out an id twice.
  MustOk(store->RemovePooled({ids[0], ids[2], ids[4], next}));
  CHECK(MustValue(store->LoadPool()).empty());
  store.reset();
  store = MustOpen(dir);
  CHECK(MustValue(store->Accept(1, Tag(11), Packet(11))) > next);
}

TEST_CASE("store: without its id counters, a store still continues after its last ids", "[store]") {
  TempDir tmp;
  const fs::path dir = tmp.path() / "node";
  std::uint64_t pool_id = 0;
  std::uint64_t mail_id = 0;
  {
    auto store = MustOpen(dir);
    MustOk(store->AddReplayEpoch(1));
    for (unsigned i = 0; i < 3; ++i) pool_id = MustValue(store->Accept(1, Tag(i), Packet(i)));
    for (int i = 0; i < 3; ++i) mail_id = MustValue(store->StoreMail(kBob, Mail(i, "m")));
  }
  RawWrite(dir, "default", "next-pool-id", std::nullopt);
  RawWrite(dir, "default",
           "next-mail-id/" + std::string(reinterpret_cast<const char*>(kBob.data()), kBob.size()),
           std::nullopt);
  auto store = MustOpen(dir);
  CHECK(MustValue(store->Accept(1, Tag(9), Packet(9))) > pool_id);
  CHECK(MustValue(store->StoreMail(kBob, Mail(9, "n"))) > mail_id);
  CHECK(MustValue(store->StoreMail(kAlice, Mail(9, "first"))) >= 1);
}

// ---- Mailboxes ----

TEST_CASE("store: mailboxes store, fetch oldest first, acknowledge and count", "[store]") {
  TempDir tmp;
  auto store = MustOpen(tmp.path() / "node");
  std::vector<std::uint64_t> alice;
  for (int i = 0; i < 5; ++i) {
    alice.push_back(MustValue(store->StoreMail(kAlice, Mail(100 + i, "a" + std::to_string(i)))));
  }
  const auto bob = MustValue(store->StoreMail(kBob, Mail(50, "b0")));
  MailItem reply = Mail(60, "opaque reply");
  reply.is_reply = true;
  reply.surb_id = Filled<sx::SurbId>(9, 0x70);
  MustValue(store->StoreMail(kCarol, reply));

  auto first = MustValue(store->FetchMail(kAlice, 3));
  REQUIRE(first.size() == 3);
  for (std::size_t i = 0; i < 3; ++i) {
    CHECK(first[i].id == alice[i]);
    CHECK(Text(first[i]) == "a" + std::to_string(i));
    CHECK(first[i].received_us == static_cast<std::int64_t>(100 + i));
    CHECK_FALSE(first[i].is_reply);
  }
  CHECK(MustValue(store->FetchMail(kAlice, 100)).size() == 5);
  CHECK(MustValue(store->FetchMail(kAlice, 0)).empty());
  CHECK(MustValue(store->FetchMail(kAlice, 3)).size() == 3);  // fetching removes nothing

  auto carol = MustValue(store->FetchMail(kCarol, 10));
  REQUIRE(carol.size() == 1);
  CHECK(carol[0].is_reply);
  CHECK(carol[0].surb_id == reply.surb_id);
  CHECK(Text(carol[0]) == "opaque reply");

  // Isolation: adjacent mailboxes never see, count or acknowledge each other's items.
  auto bobs = MustValue(store->FetchMail(kBob, 10));
  REQUIRE(bobs.size() == 1);
  CHECK(Text(bobs[0]) == "b0");
  CHECK(MustValue(store->MailCount(kAlice)) == 5);
  CHECK(MustValue(store->MailCount(kBob)) == 1);
  MustOk(store->AckMail(kAlice, {bob}));  // Bob's id, in Alice's mailbox
  CHECK(MustValue(store->MailCount(kBob)) == 1);

  MustOk(store->AckMail(kAlice, {alice[0], alice[1], 999}));
  CHECK(MustValue(store->MailCount(kAlice)) == 3);
  auto rest = MustValue(store->FetchMail(kAlice, 10));
  REQUIRE(rest.size() == 3);
  CHECK(rest[0].id == alice[2]);
  CHECK(MustValue(store->MailCount(kCarol)) == 1);
}

TEST_CASE("store: mail ids are never reused, even after everything was acknowledged", "[store]") {
  TempDir tmp;
  const fs::path dir = tmp.path() / "node";
  std::uint64_t last = 0;
  {
    auto store = MustOpen(dir);
    const auto a = MustValue(store->StoreMail(kAlice, Mail(1, "x")));
    last = MustValue(store->StoreMail(kAlice, Mail(2, "y")));
    CHECK(last > a);
    MustOk(store->AckMail(kAlice, {a, last}));
  }
  auto store = MustOpen(dir);
  // A client re-sending its old acknowledgement must not delete this new message.
  const auto fresh = MustValue(store->StoreMail(kAlice, Mail(3, "z")));
  CHECK(fresh > last);
  MustOk(store->AckMail(kAlice, {last}));
  CHECK(MustValue(store->MailCount(kAlice)) == 1);
}

TEST_CASE("store: mail ids start at 1 and are never 0 (0 marks padding on the wire)", "[store]") {
  TempDir tmp;
  const fs::path dir = tmp.path() / "node";
  {
    auto store = MustOpen(dir);
    CHECK(MustValue(store->StoreMail(kAlice, Mail(1, "first"))) == 1);
    CHECK(MustValue(store->StoreMail(kAlice, Mail(2, "second"))) == 2);
    MustOk(store->AckMail(kAlice, {1, 2}));
  }
  // A counter damaged to 0 (8 zero bytes, as the store encodes it) with an empty mailbox.
  RawWrite(dir, "default",
           "next-mail-id/" + std::string(reinterpret_cast<const char*>(kBob.data()), kBob.size()),
           std::string(8, '\0'));
  auto store = MustOpen(dir);
  CHECK(MustValue(store->StoreMail(kBob, Mail(3, "bob"))) == 1);
  CHECK(MustValue(store->StoreMail(kAlice, Mail(3, "third"))) == 3);
  // Acknowledging id 0 removes nothing.
  MustOk(store->AckMail(kBob, {0}));
  CHECK(MustValue(store->MailCount(kBob)) == 1);
}

TEST_CASE("store: StoreMail records its replay tag in the same batch", "[store]") {
  TempDir tmp;
  auto store = MustOpen(tmp.path() / "node");
  MustOk(store->AddReplayEpoch(5));
  MustValue(store->StoreMail(kAlice, Mail(1, "m"), std::pair{std::uint64_t{5}, Tag(1)}));
  CHECK(store->ReplaySeen(5, Tag(1)));
  CHECK(MustValue(store->MailCount(kAlice)) == 1);

  auto r = store->StoreMail(kAlice, Mail(2, "n"), std::pair{std::uint64_t{6}, Tag(2)});
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Status::Code::kNotFound);
  CHECK(MustValue(store->MailCount(kAlice)) == 1);
}

TEST_CASE("store: ExpireMail removes exactly the items received before the cutoff", "[store]") {
  TempDir tmp;
  auto store = MustOpen(tmp.path() / "node");
  MustValue(store->StoreMail(kAlice, Mail(100, "old")));
  MustValue(store->StoreMail(kAlice, Mail(300, "new")));
  MustValue(store->StoreMail(kBob, Mail(200, "old")));
  MustValue(store->StoreMail(kBob, Mail(250, "at the cutoff")));
  MustValue(store->StoreMail(kCarol, Mail(-5, "before 1970")));

  CHECK(MustValue(store->ExpireMail(250)) == 3);
  auto alice = MustValue(store->FetchMail(kAlice, 10));
  REQUIRE(alice.size() == 1);
  CHECK(Text(alice[0]) == "new");
  auto bob = MustValue(store->FetchMail(kBob, 10));
  REQUIRE(bob.size() == 1);
  CHECK(Text(bob[0]) == "at the cutoff");
  CHECK(MustValue(store->MailCount(kCarol)) == 0);
  CHECK(MustValue(store->ExpireMail(250)) == 0);
}

// ---- Bad state on disk ----

TEST_CASE("store: a corrupt value is reported as Corruption naming its key", "[store]") {
  TempDir tmp;
  const fs::path dir = tmp.path() / "node";
  std::uint64_t id = 0;
  {
    auto store = MustOpen(dir);
    MustOk(store->AddReplayEpoch(1));
    id = MustValue(store->Accept(1, Tag(1), Packet(1)));
    MustValue(store->StoreMail(kAlice, Mail(1, "fine")));
  }

  SECTION("garbage in the pool") {
    const std::string key = BigEndian64(id);
    RawWrite(dir, "pool", key, "garbage");
    auto store = MustOpen(dir);
    auto pool = store->LoadPool();
    REQUIRE_FALSE(pool.ok());
    CHECK(pool.status().code() == Status::Code::kCorruption);
    CHECK_THAT(pool.status().message(),
               Catch::Contains(sotto::ToHex(std::vector<std::uint8_t>(key.begin(), key.end()))));
    CHECK_THAT(pool.status().message(), Catch::Contains(dir.string()));
  }
  SECTION("a pooled packet one byte short or long") {
    // Version 1 as documented in store_codec.h, written by hand: first whole, then truncated.
    PooledPacket want = Packet(2);
    const std::string value = PooledVersion1(want);
    RawWrite(dir, "pool", BigEndian64(id + 1), value);
    {
      auto store = MustOpen(dir);
      auto pool = MustValue(store->LoadPool());
      REQUIRE(pool.size() == 2);
      CHECK(pool[1].id == id + 1);
      want.link_id = 0;  // version 1 has none
      RequireSamePacket(pool[1], want);
    }
    for (std::string bad : {value.substr(0, value.size() - 1), value + '\0'}) {
      RawWrite(dir, "pool", BigEndian64(id + 1), bad);
      auto store = MustOpen(dir);
      CHECK(store->LoadPool().status().code() == Status::Code::kCorruption);
    }
  }
  SECTION("a pooled packet of version 2 with a zero link id or unknown flags") {
    auto good = MustValue(MustOpen(dir)->LoadPool());
    REQUIRE(good.size() == 1);
    const std::string key = BigEndian64(id);
    std::string value;
    {
      rocksdb::DB* db = nullptr;
      std::vector<std::string> names;
      REQUIRE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), dir.string(), &names).ok());
      std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
      for (const auto& name : names) descriptors.emplace_back(name, rocksdb::ColumnFamilyOptions());
      std::vector<rocksdb::ColumnFamilyHandle*> handles;
      REQUIRE(
          rocksdb::DB::Open(rocksdb::DBOptions(), dir.string(), descriptors, &handles, &db).ok());
      for (std::size_t i = 0; i < names.size(); ++i) {
        if (names[i] == "pool")
          REQUIRE(db->Get(rocksdb::ReadOptions(), handles[i], key, &value).ok());
      }
      for (auto* handle : handles) (void)db->DestroyColumnFamilyHandle(handle);
      (void)db->Close();
      delete db;
    }
    REQUIRE(value[0] == '\x02');
    const std::size_t link_at = 1 + 8 + 4 + 32, flags_at = link_at + 8 + 8;
    std::string zero_link = value, bad_flags = value;
    zero_link.replace(link_at, 8, std::string(8, '\0'));
    bad_flags[flags_at] = '\x02';
    for (const std::string& bad : {zero_link, bad_flags}) {
      RawWrite(dir, "pool", key, bad);
      CHECK(MustOpen(dir)->LoadPool().status().code() == Status::Code::kCorruption);
    }
  }
  SECTION("a mail item of an unknown version") {
    std::string key(reinterpret_cast<const char*>(kAlice.data()), kAlice.size());
    key += BigEndian64(7);
    RawWrite(dir, "mail", key, std::string(1 + 8 + 1 + 32 + 4, '\0').replace(0, 1, "\x09"));
    auto store = MustOpen(dir);
    CHECK(store->FetchMail(kAlice, 10).status().code() == Status::Code::kCorruption);
    CHECK(store->ExpireMail(1000).status().code() == Status::Code::kCorruption);
    CHECK(MustValue(store->MailCount(kAlice)) == 2);  // counting reads no values
  }
}

TEST_CASE("store: the state directory is private", "[store]") {
  TempDir tmp;
  const fs::path dir = tmp.path() / "state" / "node";

  SECTION("a missing directory is created 0700") {
    MustOpen(dir);
    CHECK((fs::status(dir).permissions() & fs::perms::mask) == fs::perms::owner_all);
  }
  SECTION("a directory open to group or others is refused") {
    fs::create_directories(dir);
    fs::permissions(dir, static_cast<fs::perms>(0755));
    auto store = NodeStore::Open(dir);
    REQUIRE_FALSE(store.ok());
    CHECK(store.status().code() == Status::Code::kInvalidArgument);
    CHECK_THAT(store.status().message(), Catch::Contains("chmod 700 " + dir.string()));
    CHECK_FALSE(fs::exists(dir / "CURRENT"));  // nothing written into it

    fs::permissions(dir, static_cast<fs::perms>(0701));
    CHECK_FALSE(NodeStore::Open(dir).ok());
  }
  SECTION("a file is not a directory") {
    fs::create_directories(dir.parent_path());
    {
      std::FILE* f = std::fopen(dir.c_str(), "w");
      REQUIRE(f != nullptr);
      std::fclose(f);
    }
    CHECK(NodeStore::Open(dir).status().code() == Status::Code::kInvalidArgument);
  }
}

TEST_CASE("store: a second open of the same directory fails clearly", "[store]") {
  TempDir tmp;
  auto first = MustOpen(tmp.path() / "node");
  auto second = NodeStore::Open(tmp.path() / "node");
  REQUIRE_FALSE(second.ok());
  CHECK_THAT(second.status().message(), Catch::Contains("another sotto-mixnode"));
  CHECK_THAT(second.status().message(), Catch::Contains((tmp.path() / "node").string()));
  MustOk(first->AddReplayEpoch(1));  // the first is unaffected
}

// ---- Crash safety ----

TEST_CASE("store: every accepted packet survives kill -9 right after Accept returns", "[store]") {
  constexpr unsigned kPackets = 50;
  TempDir tmp;
  const fs::path dir = tmp.path() / "node";
  int pipe_fds[2];
  REQUIRE(::pipe(pipe_fds) == 0);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    // The child: Accept, report, wait to be killed. No Catch2 here, and _exit skips its teardown.
    ::close(pipe_fds[0]);
    ::alarm(120);  // never outlive a parent that stopped waiting
    char report = 'E';
    auto store = NodeStore::Open(dir);
    if (store.ok() && (*store)->AddReplayEpoch(1).ok()) {
      bool all = true;
      for (unsigned i = 0; i < kPackets && all; ++i) {
        all = (*store)->Accept(1, Tag(i), Packet(i)).ok();
      }
      if (all) report = 'K';
    }
    if (::write(pipe_fds[1], &report, 1) != 1) ::_exit(2);
    for (;;) ::pause();
  }

  ::close(pipe_fds[1]);
  pollfd pfd{pipe_fds[0], POLLIN, 0};
  const int ready = ::poll(&pfd, 1, 60'000);
  char report = 0;
  const bool got = ready == 1 && ::read(pipe_fds[0], &report, 1) == 1;
  ::close(pipe_fds[0]);

  // While the child holds the store, another process cannot open it.
  if (got && report == 'K') {
    auto locked = NodeStore::Open(dir);
    CHECK_FALSE(locked.ok());
    CHECK_THAT(locked.status().message(), Catch::Contains("another sotto-mixnode"));
  }

  ::kill(child, SIGKILL);
  int wstatus = 0;
  REQUIRE(::waitpid(child, &wstatus, 0) == child);
  REQUIRE(got);
  REQUIRE(report == 'K');
  CHECK(WIFSIGNALED(wstatus));
  CHECK(WTERMSIG(wstatus) == SIGKILL);

  auto store = MustOpen(dir);
  auto pool = MustValue(store->LoadPool());
  REQUIRE(pool.size() == kPackets);
  for (unsigned i = 0; i < kPackets; ++i) {
    RequireSamePacket(pool[i], Packet(i));
    CHECK(store->ReplaySeen(1, Tag(i)));
  }
  CHECK(MustValue(store->Accept(1, Tag(kPackets), Packet(kPackets))) > pool.back().id);
}
