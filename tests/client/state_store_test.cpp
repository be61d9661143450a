// The client's state key and encrypted store (client_lib/state_key.h, client_lib/client_store.h,
// papers/e2ee-spec.md §11). Every test works in its own folder under /tmp and removes it.
#include <fcntl.h>
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <sodium.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "sotto/client_lib/client_store.h"
#include "sotto/client_lib/state_key.h"
#include "sotto/core/random.h"

namespace sotto::client {
namespace {

namespace fs = std::filesystem;

constexpr PassphraseCost kFastCost{1, 8ull * 1024 * 1024};
const std::string kPassphrase = "correct horse battery";

class TempHome {
 public:
  TempHome() {
    std::string tmpl = "/tmp/sotto-store-test-XXXXXX";
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    root_ = tmpl;
  }
  TempHome(const TempHome&) = delete;
  TempHome& operator=(const TempHome&) = delete;
  ~TempHome() {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
  fs::path home() const { return root_ / "home"; }

 private:
  fs::path root_;
};

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Writes a file with mode 0600, as a key file must have.
void WriteFile(const fs::path& path, std::string_view bytes) {
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::replace);
}

std::string AsString(ByteSpan b) { return {reinterpret_cast<const char*>(b.data()), b.size()}; }

// The files under `dir` (recursively) whose bytes contain `needle`.
std::vector<std::string> FilesContaining(const fs::path& dir, std::string_view needle) {
  std::vector<std::string> hits;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    if (ReadFile(entry.path()).find(needle) != std::string::npos) {
      hits.push_back(entry.path().string());
    }
  }
  return hits;
}

fs::perms Mode(const fs::path& p) { return fs::status(p).permissions() & fs::perms::mask; }

PublicKey RandomKey(Rng& rng) {
  PublicKey k;
  rng.Fill(k.bytes);
  return k;
}

MessageId RandomId(Rng& rng) {
  MessageId id{};
  rng.Fill(id);
  return id;
}

StateKey NewKey(const fs::path& home) {
  auto key = CreateStateKey(home, std::nullopt);
  REQUIRE(key.ok());
  return std::move(key).value();
}

std::unique_ptr<ClientStore> OpenStore(const fs::path& home) {
  auto key = OpenStateKey(home, std::nullopt);
  REQUIRE(key.ok());
  auto store = ClientStore::Open(home, std::move(key).value());
  INFO(store.status().ToString());
  REQUIRE(store.ok());
  return std::move(store).value();
}

Contact MakeContact(const std::string& name, Rng& rng) {
  Contact c;
  c.name = name;
  c.code.identity_key = RandomKey(rng);
  c.code.prekey = RandomKey(rng);
  rng.Fill(c.code.provider);
  rng.Fill(c.code.mailbox);
  c.added_unix = 1700000000;
  return c;
}

HistoryEntry MakeEntry(const PublicKey& peer, Direction direction, std::string text, Rng& rng) {
  HistoryEntry e;
  e.id = RandomId(rng);
  e.peer = peer;
  e.direction = direction;
  e.status =
      direction == Direction::kIncoming ? DeliveryStatus::kReceived : DeliveryStatus::kQueued;
  e.text = std::move(text);
  e.sent_unix = 1700000100;
  e.stored_unix = 1700000101;
  return e;
}

OutboxEntry MakePacket(const HistoryEntry& e, Rng& rng) {
  OutboxEntry o;
  o.id = e.id;
  o.peer = e.peer;
  rng.Fill(o.provider);
  rng.Fill(o.mailbox);
  o.sphinx_message.resize(kSphinxMessageSize);
  rng.Fill(o.sphinx_message);
  o.queued_unix = 1700000102;
  return o;
}

// Direct access to the store's RocksDB, to look at the raw (sealed) values.
class RawDb {
 public:
  // Read-only: works while the store has the database open (it takes no lock) and sees what is
  // still only in the WAL.
  explicit RawDb(const fs::path& db_path, bool read_only = false) {
    std::vector<std::string> names;
    REQUIRE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), db_path.string(), &names).ok());
    std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
    for (const auto& name : names) descriptors.emplace_back(name, rocksdb::ColumnFamilyOptions());
    rocksdb::DB* raw = nullptr;
    auto s = read_only ? rocksdb::DB::OpenForReadOnly(rocksdb::DBOptions(), db_path.string(),
                                                      descriptors, &handles_, &raw)
                       : rocksdb::DB::Open(rocksdb::DBOptions(), db_path.string(), descriptors,
                                           &handles_, &raw);
    INFO(s.ToString());
    REQUIRE(s.ok());
    db_.reset(raw);
  }
  RawDb(const RawDb&) = delete;
  RawDb& operator=(const RawDb&) = delete;
  ~RawDb() {
    for (auto* h : handles_) (void)db_->DestroyColumnFamilyHandle(h);
    (void)db_->Close();
  }
  rocksdb::ColumnFamilyHandle* Cf(std::string_view name) {
    for (auto* h : handles_) {
      if (h->GetName() == name) return h;
    }
    FAIL("no column family " << name);
    return nullptr;
  }
  // key → value of every entry in a column family.
  std::map<std::string, std::string> All(std::string_view cf) {
    std::map<std::string, std::string> out;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), Cf(cf)));
    for (it->SeekToFirst(); it->Valid(); it->Next())
      out[it->key().ToString()] = it->value().ToString();
    REQUIRE(it->status().ok());
    return out;
  }
  void Put(std::string_view cf, const std::string& key, const std::string& value) {
    REQUIRE(db_->Put(rocksdb::WriteOptions(), Cf(cf), key, value).ok());
  }

 private:
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
};

// Values in `after` that are not in `before`.
std::vector<std::string> NewValues(const std::map<std::string, std::string>& before,
                                   const std::map<std::string, std::string>& after) {
  std::set<std::string> old;
  for (const auto& [k, v] : before) old.insert(v);
  std::vector<std::string> out;
  for (const auto& [k, v] : after) {
    if (!old.contains(v)) out.push_back(v);
  }
  return out;
}

// The check value at the end of a state.key file (e2ee-spec §11).
void FixCheck(std::string& file) {
  crypto_generichash(reinterpret_cast<unsigned char*>(file.data() + file.size() - 16), 16,
                     reinterpret_cast<const unsigned char*>(file.data()), file.size() - 16, nullptr,
                     0);
}

// ---- State key ----

TEST_CASE("state key: the default Argon2id cost is libsodium's INTERACTIVE", "[store]") {
  CHECK(PassphraseCost{}.opslimit == crypto_pwhash_OPSLIMIT_INTERACTIVE);
  CHECK(PassphraseCost{}.memlimit == crypto_pwhash_MEMLIMIT_INTERACTIVE);
  CHECK(crypto_pwhash_ALG_DEFAULT == crypto_pwhash_ALG_ARGON2ID13);
}

TEST_CASE("state key: created without a passphrase, opened again", "[store]") {
  TempHome t;
  CHECK(StateKeyNeedsPassphrase(t.home()).status().code() == Status::Code::kNotFound);
  CHECK(OpenStateKey(t.home(), std::nullopt).status().code() == Status::Code::kNotFound);
  auto key = CreateStateKey(t.home(), std::nullopt);
  REQUIRE(key.ok());
  const fs::path file = t.home() / "state.key";
  CHECK(Mode(t.home()) == fs::perms::owner_all);
  CHECK(Mode(file) == (fs::perms::owner_read | fs::perms::owner_write));
  CHECK(fs::file_size(file) == 68);
  const std::string bytes = ReadFile(file);
  CHECK(bytes.rfind("sotto-state-key-v1\n", 0) == 0);
  CHECK(bytes[19] == 0);
  CHECK(std::vector<fs::path>(fs::directory_iterator(t.home()), {}) ==
        std::vector<fs::path>{file});  // no temporary file left behind

  auto needs = StateKeyNeedsPassphrase(t.home());
  REQUIRE(needs.ok());
  CHECK_FALSE(*needs);
  auto again = OpenStateKey(t.home(), std::nullopt);
  REQUIRE(again.ok());
  CHECK(again->CtEqual(*key));
  auto with_passphrase = OpenStateKey(t.home(), kPassphrase);  // not needed: ignored
  REQUIRE(with_passphrase.ok());
  CHECK(with_passphrase->CtEqual(*key));

  // A second key is different.
  TempHome other;
  auto key2 = CreateStateKey(other.home(), std::nullopt);
  REQUIRE(key2.ok());
  CHECK_FALSE(key2->CtEqual(*key));
}

TEST_CASE("state key: wrapped with a passphrase", "[store]") {
  TempHome t;
  auto key = CreateStateKey(t.home(), kPassphrase, kFastCost);
  REQUIRE(key.ok());
  const std::string bytes = ReadFile(t.home() / "state.key");
  CHECK(bytes.size() == 140);
  CHECK(bytes[19] == 1);
  CHECK(bytes.find(AsString(key->Bytes())) == std::string::npos);  // the key is not in clear
  CHECK(bytes.find(kPassphrase) == std::string::npos);

  auto needs = StateKeyNeedsPassphrase(t.home());
  REQUIRE(needs.ok());
  CHECK(*needs);
  auto opened = OpenStateKey(t.home(), kPassphrase);
  REQUIRE(opened.ok());
  CHECK(opened->CtEqual(*key));

  auto wrong = OpenStateKey(t.home(), std::string("correct horse battery!"));
  CHECK(wrong.status().code() == Status::Code::kCryptoError);
  CHECK_THAT(wrong.status().message(), Catch::Contains("wrong passphrase"));

  auto missing = OpenStateKey(t.home(), std::nullopt);
  CHECK(missing.status().code() == Status::Code::kInvalidArgument);
  CHECK_THAT(missing.status().message(), Catch::Contains("passphrase"));
}

TEST_CASE("state key: the cost is stored and bounded", "[store]") {
  TempHome t;
  REQUIRE(CreateStateKey(t.home(), kPassphrase, PassphraseCost{2, 16ull << 20}).ok());
  const std::string bytes = ReadFile(t.home() / "state.key");
  const std::string expected_cost("\0\0\0\0\0\0\0\x02\0\0\0\0\x01\0\0\0", 16);
  CHECK(bytes.substr(20 + crypto_pwhash_SALTBYTES, 16) == expected_cost);
  CHECK(OpenStateKey(t.home(), kPassphrase).ok());

  TempHome t2;
  CHECK(CreateStateKey(t2.home(), kPassphrase, PassphraseCost{1, 2ull << 30}).status().code() ==
        Status::Code::kInvalidArgument);
  CHECK(CreateStateKey(t2.home(), kPassphrase, PassphraseCost{0, 8ull << 20}).status().code() ==
        Status::Code::kInvalidArgument);
  CHECK_FALSE(fs::exists(t2.home() / "state.key"));
}

TEST_CASE("state key: a short passphrase is refused", "[store]") {
  TempHome t;
  auto key = CreateStateKey(t.home(), std::string("short"), kFastCost);
  CHECK(key.status().code() == Status::Code::kInvalidArgument);
  CHECK_THAT(key.status().message(), Catch::Contains("at least 8"));
  CHECK_FALSE(fs::exists(t.home() / "state.key"));
}

TEST_CASE("state key: an existing state key is never overwritten", "[store]") {
  TempHome t;
  auto first = CreateStateKey(t.home(), std::nullopt);
  REQUIRE(first.ok());
  const std::string before = ReadFile(t.home() / "state.key");
  for (const auto& passphrase : {std::optional<std::string>(), std::optional(kPassphrase)}) {
    auto second = CreateStateKey(t.home(), passphrase, kFastCost);
    CHECK(second.status().code() == Status::Code::kIoError);
    CHECK_THAT(second.status().message(), Catch::Contains("already exists"));
  }
  CHECK(ReadFile(t.home() / "state.key") == before);
  auto opened = OpenStateKey(t.home(), std::nullopt);
  REQUIRE(opened.ok());
  CHECK(opened->CtEqual(*first));
  CHECK(std::distance(fs::directory_iterator(t.home()), fs::directory_iterator()) == 1);
}

TEST_CASE("state key: every truncation, extension and flipped bit is rejected", "[store]") {
  for (bool wrapped : {false, true}) {
    TempHome t;
    const auto passphrase = wrapped ? std::optional(kPassphrase) : std::nullopt;
    REQUIRE(CreateStateKey(t.home(), passphrase, kFastCost).ok());
    const fs::path file = t.home() / "state.key";
    const std::string good = ReadFile(file);
    INFO("wrapped " << wrapped);
    for (std::size_t len = 0; len < good.size(); ++len) {
      WriteFile(file, good.substr(0, len));
      auto key = OpenStateKey(t.home(), passphrase);
      INFO("length " << len);
      CHECK(key.status().code() == Status::Code::kCorruption);
      CHECK(StateKeyNeedsPassphrase(t.home()).status().code() == Status::Code::kCorruption);
    }
    WriteFile(file, good + '\0');
    CHECK(OpenStateKey(t.home(), passphrase).status().code() == Status::Code::kCorruption);
    for (std::size_t i = 0; i < good.size(); ++i) {
      for (int bit = 0; bit < 8; ++bit) {
        std::string bad = good;
        bad[i] = static_cast<char>(bad[i] ^ (1 << bit));
        WriteFile(file, bad);
        auto key = OpenStateKey(t.home(), passphrase);
        INFO("byte " << i << " bit " << bit);
        REQUIRE_FALSE(key.ok());
        CHECK(key.status().code() == Status::Code::kCorruption);
      }
    }
    WriteFile(file, good);
    CHECK(OpenStateKey(t.home(), passphrase).ok());
  }
}

TEST_CASE("state key: damaged fields with a valid check value are rejected", "[store]") {
  TempHome t;
  REQUIRE(CreateStateKey(t.home(), kPassphrase, kFastCost).ok());
  const fs::path file = t.home() / "state.key";
  const std::string good = ReadFile(file);
  const std::size_t ops_at = 20 + crypto_pwhash_SALTBYTES;
  const std::size_t mem_at = ops_at + 8;

  // An absurd memlimit (1 TiB) must not reach Argon2id (it would try to allocate it).
  std::string huge_mem = good;
  huge_mem[mem_at + 3] = 1;
  FixCheck(huge_mem);
  WriteFile(file, huge_mem);
  CHECK(OpenStateKey(t.home(), kPassphrase).status().code() == Status::Code::kCorruption);

  std::string huge_ops = good;
  huge_ops[ops_at] = 1;
  FixCheck(huge_ops);
  WriteFile(file, huge_ops);
  CHECK(OpenStateKey(t.home(), kPassphrase).status().code() == Status::Code::kCorruption);

  std::string mode = good;
  mode[19] = 2;
  FixCheck(mode);
  WriteFile(file, mode);
  CHECK(OpenStateKey(t.home(), kPassphrase).status().code() == Status::Code::kCorruption);

  // The wrapped key altered (check value fixed up): the MAC refuses it.
  std::string wrapped = good;
  wrapped[good.size() - 20] ^= 0x01;
  FixCheck(wrapped);
  WriteFile(file, wrapped);
  CHECK(OpenStateKey(t.home(), kPassphrase).status().code() == Status::Code::kCryptoError);

  // A file others can read is refused with advice.
  WriteFile(file, good);
  fs::permissions(file, fs::perms::group_read, fs::perm_options::add);
  auto exposed = OpenStateKey(t.home(), kPassphrase);
  CHECK(exposed.status().code() == Status::Code::kInvalidArgument);
  CHECK_THAT(exposed.status().message(), Catch::Contains("chmod 600"));
}

// ---- Sealing ----

TEST_CASE("sealed values: round trip, wrong place, wrong key, tampering", "[store]") {
  TempHome t;
  const StateKey key = NewKey(t.home());
  const std::string text = "meet me at the usual place";
  const ByteSpan plain(reinterpret_cast<const std::uint8_t*>(text.data()), text.size());
  const Bytes sealed = SealValue(key, "history/00ff", plain);
  CHECK(sealed.size() == text.size() + kSealOverhead);
  CHECK(AsString(sealed).find(text) == std::string::npos);
  CHECK(SealValue(key, "history/00ff", plain) != sealed);  // fresh nonce every time

  auto opened = OpenValue(key, "history/00ff", sealed);
  REQUIRE(opened.ok());
  CHECK(AsString(*opened) == text);

  auto empty = OpenValue(key, "x", SealValue(key, "x", {}));
  REQUIRE(empty.ok());
  CHECK(empty->empty());

  CHECK(OpenValue(key, "history/00fe", sealed).status().code() == Status::Code::kCorruption);
  CHECK(OpenValue(key, "contacts/00ff", sealed).status().code() == Status::Code::kCorruption);
  StateKey other;
  randombytes_buf(other.data(), other.size());
  CHECK(OpenValue(other, "history/00ff", sealed).status().code() == Status::Code::kCorruption);
  for (std::size_t i = 0; i < sealed.size(); ++i) {
    Bytes bad = sealed;
    bad[i] ^= 0x20;
    CHECK(OpenValue(key, "history/00ff", bad).status().code() == Status::Code::kCorruption);
  }
  for (std::size_t len = 0; len < sealed.size(); ++len) {
    CHECK(OpenValue(key, "history/00ff", ByteSpan(sealed).first(len)).status().code() ==
          Status::Code::kCorruption);
  }
}

// ---- Store ----

TEST_CASE("store: folders are private; the profile round-trips", "[store]") {
  TempHome t;
  auto key = NewKey(t.home());
  auto opened = ClientStore::Open(t.home(), std::move(key));
  REQUIRE(opened.ok());
  auto store = std::move(opened).value();
  CHECK(Mode(t.home() / "db") == fs::perms::owner_all);
  CHECK(Mode(t.home() / "sessions") == fs::perms::owner_all);

  auto none = store->LoadProfile();
  CHECK(none.status().code() == Status::Code::kNotFound);
  CHECK_THAT(none.status().message(), Catch::Contains("sotto init"));

  auto rng = DeterministicRng::FromByte(1);
  Profile p;
  rng.Fill(p.identity_secret.MutableBytes());
  rng.Fill(p.prekey_secret.MutableBytes());
  rng.Fill(p.link_secret.MutableBytes());
  rng.Fill(p.provider);
  p.provider_name = "provider-1";
  p.directory_address = "tcp://127.0.0.1:7000";
  rng.Fill(p.directory_link_key);
  rng.Fill(p.directory_verify_key);
  p.genesis_unix = -5;
  p.epoch_length_s = 600;
  p.created_unix = 1700000000;
  REQUIRE(store->SaveProfile(p).ok());
  store.reset();

  store = OpenStore(t.home());
  auto back = store->LoadProfile();
  REQUIRE(back.ok());
  CHECK(back->identity_secret.CtEqual(p.identity_secret));
  CHECK(back->prekey_secret.CtEqual(p.prekey_secret));
  CHECK(back->link_secret.CtEqual(p.link_secret));
  CHECK(back->provider == p.provider);
  CHECK(back->provider_name == p.provider_name);
  CHECK(back->directory_address == p.directory_address);
  CHECK(back->directory_link_key == p.directory_link_key);
  CHECK(back->directory_verify_key == p.directory_verify_key);
  CHECK(back->genesis_unix == -5);
  CHECK(back->epoch_length_s == 600);
  CHECK(back->created_unix == 1700000000);
}

TEST_CASE("store: contacts", "[store]") {
  TempHome t;
  NewKey(t.home());
  auto store = OpenStore(t.home());
  auto rng = DeterministicRng::FromByte(2);
  const Contact bob = MakeContact("bob", rng);
  const Contact alice = MakeContact("Alice_2.x-y", rng);
  REQUIRE(store->AddContact(bob).ok());
  REQUIRE(store->AddContact(alice).ok());

  auto found = store->FindContact("bob");
  REQUIRE(found.ok());
  CHECK(found->name == "bob");
  CHECK(found->code == bob.code);
  CHECK(found->added_unix == bob.added_unix);

  auto list = store->ListContacts();
  REQUIRE(list.size() == 2);
  CHECK(list[0].name == "Alice_2.x-y");  // sorted by name
  CHECK(list[1].name == "bob");
  CHECK(list[0].code == alice.code);

  auto by_identity = store->FindContactByIdentity(alice.code.identity_key);
  REQUIRE(by_identity);
  CHECK(by_identity->name == "Alice_2.x-y");
  CHECK_FALSE(store->FindContactByIdentity(RandomKey(rng)));

  // The same name again, even with another code.
  auto dup = store->AddContact(MakeContact("bob", rng));
  CHECK(dup.code() == Status::Code::kInvalidArgument);
  CHECK(dup.message() ==
        "a contact named 'bob' already exists; remove it first or choose another name");
  // The same code under another name.
  Contact bob_again = bob;
  bob_again.name = "robert";
  auto same_code = store->AddContact(bob_again);
  CHECK(same_code.code() == Status::Code::kInvalidArgument);
  CHECK(same_code.message() == "this code is already saved as 'bob'");

  const std::vector<std::string> bad_names = {"",
                                              "-bob",
                                              ".bob",
                                              "bob smith",
                                              "bob/x",
                                              "bøb",
                                              std::string(33, 'a'),
                                              "a\nb",
                                              std::string("a\0b", 3)};
  for (const std::string& bad : bad_names) {
    INFO(bad);
    auto s = store->AddContact(MakeContact(bad, rng));
    CHECK(s.code() == Status::Code::kInvalidArgument);
    CHECK_THAT(s.message(), Catch::Contains("not a valid contact name"));
  }
  CHECK(store->AddContact(MakeContact(std::string(32, 'a'), rng)).ok());
  CHECK(store->AddContact(MakeContact("x", rng)).ok());
  CHECK(store->AddContact(MakeContact("b-.", rng)).ok());

  auto missing = store->FindContact("carol");
  CHECK(missing.status().code() == Status::Code::kNotFound);
  CHECK(missing.status().message() == "no contact named 'carol' (see `sotto contact list`)");
  CHECK(store->FindContact("-carol").status().code() == Status::Code::kNotFound);

  REQUIRE(store->RemoveContact("bob").ok());
  CHECK(store->FindContact("bob").status().code() == Status::Code::kNotFound);
  CHECK(store->RemoveContact("bob").code() == Status::Code::kNotFound);
  CHECK_FALSE(store->FindContactByIdentity(bob.code.identity_key));
  REQUIRE(store->AddContact(bob_again).ok());  // the code is free again
  store.reset();

  store = OpenStore(t.home());
  CHECK(store->ListContacts().size() == 5);
  CHECK(store->FindContact("robert").ok());
}

TEST_CASE("store: history and outbox", "[store]") {
  TempHome t;
  NewKey(t.home());
  auto store = OpenStore(t.home());
  auto rng = DeterministicRng::FromByte(3);
  const PublicKey bob = RandomKey(rng);
  const PublicKey carol = RandomKey(rng);

  CHECK_FALSE(store->NextOutgoing());
  CHECK(store->OutgoingCount() == 0);

  HistoryEntry m1 = MakeEntry(bob, Direction::kOutgoing, "hello bob", rng);
  m1.expires_unix = 1700009999;
  const OutboxEntry p1 = MakePacket(m1, rng);
  auto s1 = store->AddHistory(m1, p1);
  REQUIRE(s1.ok());
  HistoryEntry m2 = MakeEntry(carol, Direction::kIncoming, "hi from carol", rng);
  auto s2 = store->AddHistory(m2, std::nullopt);
  REQUIRE(s2.ok());
  HistoryEntry m3 = MakeEntry(bob, Direction::kIncoming, "hello back", rng);
  auto s3 = store->AddHistory(m3, std::nullopt);
  REQUIRE(s3.ok());
  CHECK(*s1 < *s2);
  CHECK(*s2 < *s3);
  CHECK(store->HasMessage(m1.id));
  CHECK(store->HasMessage(m2.id));
  CHECK_FALSE(store->HasMessage(RandomId(rng)));

  // The history entry and its packet went in together.
  auto next = store->NextOutgoing();
  REQUIRE(next);
  CHECK(next->id == m1.id);
  CHECK(next->peer == bob);
  CHECK(next->provider == p1.provider);
  CHECK(next->mailbox == p1.mailbox);
  CHECK(next->sphinx_message == p1.sphinx_message);
  CHECK(next->queued_unix == p1.queued_unix);
  CHECK(next->attempts == 0);
  CHECK(next->seq != *s1);
  CHECK(store->OutgoingCount() == 1);

  // A bad packet: neither the entry nor the packet is stored.
  HistoryEntry m4 = MakeEntry(bob, Direction::kOutgoing, "never stored", rng);
  OutboxEntry bad = MakePacket(m4, rng);
  bad.sphinx_message.pop_back();
  CHECK(store->AddHistory(m4, bad).status().code() == Status::Code::kInvalidArgument);
  CHECK_FALSE(store->HasMessage(m4.id));
  CHECK(store->OutgoingCount() == 1);
  CHECK(store->Enqueue(bad).status().code() == Status::Code::kInvalidArgument);
  // The same message id twice.
  CHECK(store->AddHistory(m1, std::nullopt).status().code() == Status::Code::kInvalidArgument);

  auto history = store->History(bob, 10);
  REQUIRE(history.size() == 2);
  CHECK(history[0].id == m1.id);
  CHECK(history[0].text == "hello bob");
  CHECK(history[0].seq == *s1);
  CHECK(history[0].direction == Direction::kOutgoing);
  CHECK(history[0].status == DeliveryStatus::kQueued);
  CHECK(history[0].expires_unix == 1700009999);
  CHECK(history[0].sent_unix == m1.sent_unix);
  CHECK(history[0].stored_unix == m1.stored_unix);
  CHECK(history[1].id == m3.id);
  CHECK(history[1].text == "hello back");
  CHECK(store->History(carol, 0).size() == 1);
  CHECK(store->History(RandomKey(rng), 10).empty());

  // Limits keep the newest entries, oldest first.
  std::vector<MessageId> ids;
  for (int i = 0; i < 20; ++i) {
    auto e = MakeEntry(carol, Direction::kOutgoing, "n" + std::to_string(i), rng);
    ids.push_back(e.id);
    REQUIRE(store->AddHistory(e, std::nullopt).ok());
  }
  auto last3 = store->History(carol, 3);
  REQUIRE(last3.size() == 3);
  CHECK(last3[0].text == "n17");
  CHECK(last3[2].text == "n19");
  CHECK(store->History(carol, 0).size() == 21);

  // A receipt: a packet with no history entry.
  OutboxEntry receipt = MakePacket(m2, rng);
  receipt.id = RandomId(rng);
  auto rs = store->Enqueue(receipt);
  REQUIRE(rs.ok());
  CHECK(store->OutgoingCount() == 2);
  CHECK(store->NextOutgoing()->seq == next->seq);  // oldest first

  REQUIRE(store->CountAttempt(next->seq).ok());
  REQUIRE(store->CountAttempt(next->seq).ok());
  CHECK(store->NextOutgoing()->attempts == 2);
  CHECK(store->CountAttempt(999999).code() == Status::Code::kNotFound);
  REQUIRE(store->RemoveOutgoing(next->seq).ok());
  CHECK(store->OutgoingCount() == 1);
  CHECK(store->NextOutgoing()->seq == *rs);
  CHECK(store->NextOutgoing()->id == receipt.id);
  REQUIRE(store->RemoveOutgoing(*rs).ok());
  CHECK_FALSE(store->NextOutgoing());
  store.reset();

  // Sequence numbers are never reused, even after the newest items were removed.
  store = OpenStore(t.home());
  auto after = store->Enqueue(receipt);
  REQUIRE(after.ok());
  CHECK(*after > *rs);
  CHECK(store->History(bob, 0).size() == 2);
}

TEST_CASE("store: unread, read and delivery status", "[store]") {
  TempHome t;
  NewKey(t.home());
  auto store = OpenStore(t.home());
  auto rng = DeterministicRng::FromByte(4);
  const PublicKey bob = RandomKey(rng);
  const PublicKey carol = RandomKey(rng);
  const auto in1 = MakeEntry(bob, Direction::kIncoming, "one", rng);
  const auto out1 = MakeEntry(bob, Direction::kOutgoing, "mine", rng);
  const auto in2 = MakeEntry(carol, Direction::kIncoming, "two", rng);
  const auto in3 = MakeEntry(bob, Direction::kIncoming, "three", rng);
  for (const auto* e : {&in1, &out1, &in2, &in3}) REQUIRE(store->AddHistory(*e, std::nullopt).ok());

  auto unread = store->Unread();
  REQUIRE(unread.size() == 3);
  CHECK(unread[0].text == "one");
  CHECK(unread[1].text == "two");
  CHECK(unread[2].text == "three");

  REQUIRE(store->MarkRead({in1.id, in3.id, RandomId(rng)}).ok());  // unknown ids are ignored
  unread = store->Unread();
  REQUIRE(unread.size() == 1);
  CHECK(unread[0].id == in2.id);
  CHECK(store->History(bob, 0)[0].read);
  REQUIRE(store->MarkRead({in2.id}).ok());
  CHECK(store->Unread().empty());

  REQUIRE(store->SetStatus(out1.id, DeliveryStatus::kSent).ok());
  CHECK(store->History(bob, 0)[1].status == DeliveryStatus::kSent);
  REQUIRE(store->SetStatus(out1.id, DeliveryStatus::kDelivered).ok());
  // A late "sent" does not undo "delivered".
  REQUIRE(store->SetStatus(out1.id, DeliveryStatus::kSent).ok());
  CHECK(store->History(bob, 0)[1].status == DeliveryStatus::kDelivered);
  CHECK(store->History(bob, 0)[1].text == "mine");
  CHECK(store->SetStatus(RandomId(rng), DeliveryStatus::kSent).code() == Status::Code::kNotFound);
  store.reset();

  store = OpenStore(t.home());
  CHECK(store->Unread().empty());
  CHECK(store->History(bob, 0)[1].status == DeliveryStatus::kDelivered);
}

TEST_CASE("store: a receipt only confirms messages sent to its author", "[store]") {
  TempHome t;
  NewKey(t.home());
  auto store = OpenStore(t.home());
  auto rng = DeterministicRng::FromByte(5);
  const PublicKey bob = RandomKey(rng);
  const PublicKey carol = RandomKey(rng);
  const auto to_bob = MakeEntry(bob, Direction::kOutgoing, "to bob", rng);
  const auto from_bob = MakeEntry(bob, Direction::kIncoming, "from bob", rng);
  for (const auto* e : {&to_bob, &from_bob}) REQUIRE(store->AddHistory(*e, std::nullopt).ok());
  // Carol cannot confirm what went to Bob; Bob cannot mark his own incoming message.
  CHECK(store->SetStatus(to_bob.id, DeliveryStatus::kDelivered, carol).code() ==
        Status::Code::kNotFound);
  CHECK(store->SetStatus(from_bob.id, DeliveryStatus::kDelivered, bob).code() ==
        Status::Code::kNotFound);
  CHECK(store->History(bob, 0)[0].status == DeliveryStatus::kQueued);
  CHECK(store->History(bob, 0)[1].status == DeliveryStatus::kReceived);
  REQUIRE(store->SetStatus(to_bob.id, DeliveryStatus::kDelivered, bob).ok());
  CHECK(store->History(bob, 0)[0].status == DeliveryStatus::kDelivered);
}

TEST_CASE("store: an unroutable message moves behind the others", "[store]") {
  TempHome t;
  NewKey(t.home());
  auto store = OpenStore(t.home());
  auto rng = DeterministicRng::FromByte(6);
  const PublicKey bob = RandomKey(rng);
  const auto m1 = MakeEntry(bob, Direction::kOutgoing, "first", rng);
  const auto m2 = MakeEntry(bob, Direction::kOutgoing, "second", rng);
  REQUIRE(store->AddHistory(m1, MakePacket(m1, rng)).ok());
  REQUIRE(store->AddHistory(m2, MakePacket(m2, rng)).ok());
  auto head = store->NextOutgoing();
  REQUIRE(head);
  REQUIRE(head->id == m1.id);
  REQUIRE(store->RequeueAtTail(head->seq).ok());
  CHECK(store->OutgoingCount() == 2);
  auto next = store->NextOutgoing();
  REQUIRE(next);
  CHECK(next->id == m2.id);
  REQUIRE(store->RemoveOutgoing(next->seq).ok());
  next = store->NextOutgoing();
  REQUIRE(next);
  CHECK(next->id == m1.id);
  CHECK(next->attempts == 1);
  CHECK(next->sphinx_message == head->sphinx_message);
  store.reset();
  store = OpenStore(t.home());  // and it survives a restart in its new place
  CHECK(store->OutgoingCount() == 1);
  CHECK(store->RequeueAtTail(12345).code() == Status::Code::kNotFound);
}

TEST_CASE("store: PurgeExpired deletes entries and their bytes leave the database files",
          "[store]") {
  TempHome t;
  NewKey(t.home());
  const fs::path db = t.home() / "db";
  auto rng = DeterministicRng::FromByte(5);
  const PublicKey bob = RandomKey(rng);
  const auto keep = MakeEntry(bob, Direction::kIncoming, "keep me", rng);
  auto keep_later = MakeEntry(bob, Direction::kIncoming, "expires later", rng);
  keep_later.expires_unix = 2000;
  auto old_expired = MakeEntry(bob, Direction::kOutgoing, "old and expired", rng);
  old_expired.expires_unix = 1000;
  auto new_expired = MakeEntry(bob, Direction::kIncoming, "new and expired", rng);
  new_expired.expires_unix = 1500;
  const auto keep_new = MakeEntry(bob, Direction::kIncoming, "kept, in the WAL", rng);

  // The sealed values (history and msgindex) a step added, read from the database directly.
  std::map<std::string, std::string> history, index;
  const auto new_blobs = [&](bool read_only) {
    RawDb raw(db, read_only);
    auto h = raw.All("history");
    auto i = raw.All("msgindex");
    std::vector<std::string> out = NewValues(history, h);
    for (const auto& v : NewValues(index, i)) out.push_back(v);
    history = std::move(h);
    index = std::move(i);
    return out;
  };

  auto store = OpenStore(t.home());
  REQUIRE(store->AddHistory(keep, std::nullopt).ok());
  REQUIRE(store->AddHistory(keep_later, std::nullopt).ok());
  store.reset();
  const auto kept = new_blobs(false);
  REQUIRE(kept.size() == 4);
  // The first expired entry reaches an SST file (a WAL is flushed when the database is opened)...
  store = OpenStore(t.home());
  REQUIRE(store->AddHistory(old_expired, std::nullopt).ok());
  REQUIRE(store->MarkRead({old_expired.id}).ok());  // a second version of the value
  store.reset();
  std::vector<std::string> purged = new_blobs(false);
  REQUIRE(purged.size() == 2);
  // ... the second stays in the WAL and the memtable until the purge.
  store = OpenStore(t.home());
  REQUIRE(store->AddHistory(new_expired, std::nullopt).ok());
  auto wal_blobs = new_blobs(/*read_only=*/true);
  REQUIRE(wal_blobs.size() == 2);
  purged.insert(purged.end(), wal_blobs.begin(), wal_blobs.end());
  REQUIRE(store->AddHistory(keep_new, std::nullopt).ok());
  // Sanity: the sealed values are in the files now (so the check below can fail).
  for (const auto& blob : purged) CHECK_FALSE(FilesContaining(db, blob).empty());

  CHECK(store->PurgeExpired(999) == 0);
  CHECK(store->PurgeExpired(1500) == 2);
  CHECK_FALSE(store->HasMessage(old_expired.id));
  CHECK_FALSE(store->HasMessage(new_expired.id));
  CHECK(store->HasMessage(keep.id));
  CHECK(store->HasMessage(keep_later.id));
  CHECK(store->HasMessage(keep_new.id));
  auto left = store->History(bob, 0);
  REQUIRE(left.size() == 3);
  CHECK(left[0].text == "keep me");
  CHECK(left[1].text == "expires later");
  CHECK(left[2].text == "kept, in the WAL");
  for (const auto& blob : purged) {
    auto hits = FilesContaining(db, blob);
    INFO("still in " << (hits.empty() ? "" : hits[0]));
    CHECK(hits.empty());
  }
  for (const auto& blob : kept) CHECK_FALSE(FilesContaining(db, blob).empty());
  CHECK(store->PurgeExpired(1500) == 0);
  store.reset();
  for (const auto& blob : purged) CHECK(FilesContaining(db, blob).empty());

  store = OpenStore(t.home());
  CHECK(store->History(bob, 0).size() == 3);
  CHECK(store->PurgeExpired(2000) == 1);
  CHECK(store->History(bob, 0).size() == 2);
}

TEST_CASE("store: one process at a time", "[store]") {
  TempHome t;
  NewKey(t.home());
  {
    auto store = OpenStore(t.home());
    auto second = ClientStore::Open(t.home(), OpenStateKey(t.home(), std::nullopt).value());
    CHECK(second.status().code() == Status::Code::kIoError);
    CHECK(second.status().message() ==
          t.home().string() +
              " is in use by another sotto process (is the daemon running? `sotto down`)");
  }
  // Another process holding RocksDB's lock (an fcntl lock on db/LOCK, as RocksDB takes it).
  int ready[2];
  int release[2];
  REQUIRE(::pipe(ready) == 0);
  REQUIRE(::pipe(release) == 0);
  const std::string lock_path = (t.home() / "db" / "LOCK").string();
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {  // only async-signal-safe calls until _exit
    ::close(ready[0]);
    ::close(release[1]);
    const int fd = ::open(lock_path.c_str(), O_RDWR);
    struct flock fl {};
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    const char ok = (fd >= 0 && ::fcntl(fd, F_SETLK, &fl) == 0) ? '1' : '0';
    (void)!::write(ready[1], &ok, 1);
    char c = 0;
    (void)!::read(release[0], &c, 1);
    ::_exit(0);
  }
  ::close(ready[1]);
  ::close(release[0]);
  {
    // Closing the pipe lets the child exit (and so drop the lock), however this block ends.
    struct ChildGuard {
      pid_t pid;
      int ready_fd;
      int release_fd;
      ~ChildGuard() {
        ::close(release_fd);
        ::close(ready_fd);
        int status = 0;
        ::waitpid(pid, &status, 0);
      }
    } guard{child, ready[0], release[1]};
    char ok = 0;
    REQUIRE(::read(ready[0], &ok, 1) == 1);
    REQUIRE(ok == '1');
    auto blocked = ClientStore::Open(t.home(), OpenStateKey(t.home(), std::nullopt).value());
    CHECK(blocked.status().code() == Status::Code::kIoError);
    CHECK_THAT(blocked.status().message(), Catch::Contains("is in use by another sotto process"));
  }
  CHECK(ClientStore::Open(t.home(), OpenStateKey(t.home(), std::nullopt).value()).ok());
}

TEST_CASE("store: another state key does not open the store", "[store]") {
  TempHome t;
  NewKey(t.home());
  {
    auto store = OpenStore(t.home());
    auto rng = DeterministicRng::FromByte(6);
    REQUIRE(store->AddContact(MakeContact("bob", rng)).ok());
  }
  StateKey other;
  randombytes_buf(other.data(), other.size());
  auto store = ClientStore::Open(t.home(), std::move(other));
  CHECK(store.status().code() == Status::Code::kCorruption);
  CHECK_THAT(store.status().message(), Catch::Contains("the state key does not match this store"));
  CHECK(OpenStore(t.home())->FindContact("bob").ok());  // nothing was changed
}

TEST_CASE("store: damaged records give errors, not crashes", "[store]") {
  TempHome t;
  NewKey(t.home());
  auto rng = DeterministicRng::FromByte(7);
  const PublicKey bob = RandomKey(rng);
  const auto entry = MakeEntry(bob, Direction::kIncoming, "text", rng);
  {
    auto store = OpenStore(t.home());
    REQUIRE(store->AddContact(MakeContact("bob", rng)).ok());
    REQUIRE(store->AddContact(MakeContact("carol", rng)).ok());
    REQUIRE(store->AddHistory(entry, std::nullopt).ok());
    REQUIRE(store->Enqueue(MakePacket(entry, rng)).ok());
  }
  {
    // Swap two contacts' values (each sealed for its own key), garble history and outbox.
    RawDb raw(t.home() / "db");
    auto contacts = raw.All("contacts");
    REQUIRE(contacts.size() == 2);
    const auto a = contacts.begin();
    const auto b = std::next(a);
    raw.Put("contacts", a->first, b->second);
    for (const auto& [k, v] : raw.All("history")) raw.Put("history", k, v.substr(0, v.size() - 1));
    for (const auto& [k, v] : raw.All("outbox")) raw.Put("outbox", k, "garbage");
  }
  auto store = OpenStore(t.home());
  CHECK(store->ListContacts().size() == 1);
  const bool bob_damaged = !store->FindContact("bob").ok();
  const bool carol_damaged = !store->FindContact("carol").ok();
  CHECK(bob_damaged != carol_damaged);
  const auto damaged = store->FindContact(bob_damaged ? "bob" : "carol");
  CHECK(damaged.status().code() == Status::Code::kCorruption);
  CHECK(store->History(bob, 0).empty());
  CHECK(store->Unread().empty());
  CHECK(store->SetStatus(entry.id, DeliveryStatus::kSent).code() == Status::Code::kCorruption);
  CHECK_FALSE(store->NextOutgoing());
  CHECK(store->OutgoingCount() == 1);  // damaged entries are kept, not deleted
  CHECK(store->PurgeExpired(1 << 30) == 0);
}

TEST_CASE("store: ratchet session files", "[store]") {
  TempHome t;
  NewKey(t.home());
  auto store = OpenStore(t.home());
  auto rng = DeterministicRng::FromByte(8);
  const PublicKey bob = RandomKey(rng);
  const PublicKey carol = RandomKey(rng);
  const Bytes blob1(300, 0x11);
  const Bytes blob2(500, 0x22);
  const Bytes blob3(100, 0x33);

  CHECK(store->LoadSessions(bob).status().code() == Status::Code::kNotFound);
  CHECK(store->SessionPeers().empty());
  REQUIRE(store->SaveSessions(bob, blob1).ok());
  REQUIRE(store->SaveSessions(carol, blob2).ok());
  CHECK(*store->LoadSessions(bob) == blob1);
  CHECK(*store->LoadSessions(carol) == blob2);
  REQUIRE(store->SaveSessions(bob, blob3).ok());  // replaced
  CHECK(*store->LoadSessions(bob) == blob3);

  const fs::path dir = t.home() / "sessions";
  std::vector<fs::path> files(fs::directory_iterator(dir), {});
  REQUIRE(files.size() == 2);
  for (const auto& f : files) {
    CHECK(Mode(f) == (fs::perms::owner_read | fs::perms::owner_write));
    CHECK(f.filename().string().size() == 32);
  }
  auto peers = store->SessionPeers();
  REQUIRE(peers.size() == 2);
  CHECK(std::find(peers.begin(), peers.end(), bob) != peers.end());
  CHECK(std::find(peers.begin(), peers.end(), carol) != peers.end());

  // Stray files (a temporary file left by a crash, anything else) are ignored and left alone.
  WriteFile(dir / ".0123.tmp-abcdef", "partial");
  WriteFile(dir / "notes.txt", "hello");
  CHECK(store->SessionPeers().size() == 2);

  // A damaged file: Corruption, skipped by SessionPeers, never deleted.
  std::string bytes = ReadFile(files[0]);
  bytes[bytes.size() / 2] ^= 0x01;
  WriteFile(files[0], bytes);
  const bool first_is_bob = !store->LoadSessions(bob).ok();
  const PublicKey& damaged = first_is_bob ? bob : carol;
  const PublicKey& intact = first_is_bob ? carol : bob;
  CHECK(store->LoadSessions(damaged).status().code() == Status::Code::kCorruption);
  CHECK(store->LoadSessions(intact).ok());
  peers = store->SessionPeers();
  REQUIRE(peers.size() == 1);
  CHECK(peers[0] == intact);
  CHECK(fs::exists(files[0]));
  CHECK(fs::exists(dir / ".0123.tmp-abcdef"));
  CHECK(fs::exists(dir / "notes.txt"));

  WriteFile(files[0], "");
  CHECK(store->LoadSessions(damaged).status().code() == Status::Code::kCorruption);
  // One peer's file under another peer's name does not open (sealed for its own name).
  fs::copy_file(files[1], files[0], fs::copy_options::overwrite_existing);
  CHECK(store->LoadSessions(damaged).status().code() == Status::Code::kCorruption);
  CHECK(store->SessionPeers().size() == 1);

  // Saving again repairs it.
  REQUIRE(store->SaveSessions(damaged, blob1).ok());
  CHECK(*store->LoadSessions(damaged) == blob1);
  CHECK(store->SessionPeers().size() == 2);
}

TEST_CASE("store: no name, text or key appears in clear in any file of the home", "[store]") {
  TempHome t;
  NewKey(t.home());
  auto rng = DeterministicRng::FromByte(9);
  const Contact zed = MakeContact("zebrafriend", rng);
  const std::string text_in = "the eagle lands at midnight";
  const std::string text_out = "bring the blue umbrella";
  const auto in = MakeEntry(zed.code.identity_key, Direction::kIncoming, text_in, rng);
  const auto out = MakeEntry(zed.code.identity_key, Direction::kOutgoing, text_out, rng);
  const std::string session_marker = "SESSION-SECRET-MARKER-0123456789";
  Profile p;
  rng.Fill(p.identity_secret.MutableBytes());
  rng.Fill(p.prekey_secret.MutableBytes());
  rng.Fill(p.link_secret.MutableBytes());
  p.provider_name = "provider-name-xyz";
  {
    auto store = OpenStore(t.home());
    REQUIRE(store->SaveProfile(p).ok());
    REQUIRE(store->AddContact(zed).ok());
    REQUIRE(store->AddHistory(in, std::nullopt).ok());
    REQUIRE(store->AddHistory(out, MakePacket(out, rng)).ok());
    REQUIRE(store->MarkRead({in.id}).ok());
    const Bytes blob(session_marker.begin(), session_marker.end());
    REQUIRE(store->SaveSessions(zed.code.identity_key, blob).ok());
    // Checked while open (WAL, memtable) and after closing (flushed on the next open).
    for (int round = 0; round < 2; ++round) {
      for (const std::string& needle :
           {zed.name, text_in, text_out, session_marker, p.provider_name,
            AsString(zed.code.identity_key.bytes), ToHex(zed.code.identity_key.bytes),
            AsString(zed.code.prekey.bytes), AsString(p.identity_secret.Bytes()),
            AsString(p.link_secret.Bytes()), AsString(in.id), AsString(out.id)}) {
        INFO(round << ": "
                   << (FilesContaining(t.home(), needle).empty()
                           ? ""
                           : FilesContaining(t.home(), needle)[0]));
        CHECK(FilesContaining(t.home(), needle).empty());
      }
      if (round == 0) {
        store.reset();
        store = OpenStore(t.home());
      }
    }
  }
}

TEST_CASE("store: settings; outbox entries keep body, kind, time and seal count", "[store]") {
  TempHome t;
  NewKey(t.home());
  auto store = OpenStore(t.home());
  auto rng = DeterministicRng::FromByte(21);
  // Settings: the safe defaults until saved.
  auto defaults = store->LoadSettings();
  REQUIRE(defaults.ok());
  CHECK(defaults->receipts == ReceiptMode::kOn);
  CHECK(defaults->receipt_delay_s == 900);
  REQUIRE(store->SaveSettings({ReceiptMode::kOff, 60}).ok());
  CHECK(store->SaveSettings({ReceiptMode::kOn, 0}).code() == Status::Code::kInvalidArgument);

  // An unsealed receipt (body only) and a sealed text (both).
  const PublicKey bob = RandomKey(rng);
  OutboxEntry receipt;
  receipt.id = RandomId(rng);
  receipt.peer = bob;
  receipt.kind = OutboxKind::kReceipt;
  receipt.body.resize(kBodySize);
  rng.Fill(receipt.body);
  receipt.not_before_ms = 1'700'000'123'456;
  auto rseq = store->Enqueue(receipt);
  REQUIRE(rseq.ok());
  HistoryEntry m = MakeEntry(bob, Direction::kOutgoing, "text", rng);
  OutboxEntry text = MakePacket(m, rng);
  text.body.resize(kBodySize);
  rng.Fill(text.body);
  text.seals = 3;
  REQUIRE(store->AddHistory(m, text).ok());
  OutboxEntry neither = MakePacket(m, rng);
  neither.sphinx_message.clear();
  CHECK(store->Enqueue(neither).status().code() == Status::Code::kInvalidArgument);
  OutboxEntry short_body = receipt;
  short_body.body.pop_back();
  CHECK(store->Enqueue(short_body).status().code() == Status::Code::kInvalidArgument);
  store.reset();

  store = OpenStore(t.home());
  auto settings = store->LoadSettings();
  REQUIRE(settings.ok());
  CHECK(settings->receipts == ReceiptMode::kOff);
  CHECK(settings->receipt_delay_s == 60);
  auto all = store->ListOutgoing();
  REQUIRE(all.size() == 2);
  CHECK(all[0].seq == *rseq);
  CHECK(all[0].kind == OutboxKind::kReceipt);
  CHECK(all[0].body == receipt.body);
  CHECK(all[0].sphinx_message.empty());
  CHECK(all[0].not_before_ms == receipt.not_before_ms);
  CHECK(all[1].kind == OutboxKind::kText);
  CHECK(all[1].body == text.body);
  CHECK(all[1].sphinx_message == text.sphinx_message);
  CHECK(all[1].seals == 3);
  // Update in place (a new ciphertext, one more attempt); NotFound for an entry not queued.
  OutboxEntry updated = all[1];
  rng.Fill(updated.sphinx_message);
  updated.attempts = 1;
  REQUIRE(store->UpdateOutgoing(updated).ok());
  auto got = store->GetOutgoing(updated.seq);
  REQUIRE(got.ok());
  CHECK(got->sphinx_message == updated.sphinx_message);
  CHECK(got->attempts == 1);
  updated.seq = 999999;
  CHECK(store->UpdateOutgoing(updated).code() == Status::Code::kNotFound);
  CHECK(store->GetOutgoing(999999).status().code() == Status::Code::kNotFound);
}

TEST_CASE("store: an outbox entry written by the previous version (record version 1) loads",
          "[store]") {
  TempHome t;
  NewKey(t.home());
  auto rng = DeterministicRng::FromByte(22);
  { auto store = OpenStore(t.home()); }
  // The version 1 layout (e2ee-spec §11 before issue 9): no kind, body, time or seal count.
  const std::uint64_t seq = 42;
  std::string key(8, '\0');
  for (int i = 0; i < 8; ++i) key[7 - i] = static_cast<char>((seq >> (8 * i)) & 0xff);
  Bytes record = {1};
  record.insert(record.end(), key.begin(), key.end());
  Bytes fields(16 + 32 + 32 + 32);
  rng.Fill(fields);
  record.insert(record.end(), fields.begin(), fields.end());
  record.insert(record.end(), {0, 0, 0x07, 0xee});  // 2030
  Bytes message(kSphinxMessageSize);
  rng.Fill(message);
  record.insert(record.end(), message.begin(), message.end());
  record.insert(record.end(), {0, 0, 0, 0, 0x65, 0x53, 0xf1, 0x00});  // queued
  record.insert(record.end(), {0, 0, 0, 2});                          // attempts
  auto state_key = OpenStateKey(t.home(), std::nullopt);
  REQUIRE(state_key.ok());
  const Bytes sealed = SealValue(
      *state_key, "outbox/" + ToHex(ByteSpan(reinterpret_cast<const std::uint8_t*>(key.data()), 8)),
      record);
  {
    RawDb raw(t.home() / "db");
    raw.Put("outbox", key, AsString(sealed));
  }
  auto store = OpenStore(t.home());
  auto all = store->ListOutgoing();
  REQUIRE(all.size() == 1);
  CHECK(all[0].seq == seq);
  CHECK(all[0].kind == OutboxKind::kText);
  CHECK(all[0].body.empty());
  CHECK(all[0].sphinx_message == message);
  CHECK(all[0].attempts == 2);
  // New items take numbers past it.
  OutboxEntry next = all[0];
  auto added = store->Enqueue(next);
  REQUIRE(added.ok());
  CHECK(*added > seq);
}

}  // namespace
}  // namespace sotto::client
