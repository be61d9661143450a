// Forward secrecy of the client's stored state (issue 4): once the ratchet has moved on, the
// chain key that made an earlier message's key is gone — from the session state the client
// keeps (decrypted with its state key, as an attacker who also has the passphrase would) and
// from every file in its home folder — and the current state cannot open that message again.
#include <sodium.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "sotto/client_lib/client_store.h"
#include "sotto/client_lib/envelope.h"
#include "sotto/client_lib/peer_sessions.h"
#include "sotto/client_lib/x3dh.h"

namespace sotto::client {
namespace {

namespace fs = std::filesystem;
using Key = std::array<std::uint8_t, 32>;

// Offsets inside one serialized RatchetSession (e2ee-spec §6): AD at 5, CKr at 165.
constexpr std::size_t kAdOffset = 5;
constexpr std::size_t kCkrOffset = 165;

struct TempHome {
  fs::path path;
  TempHome() {
    char tmpl[] = "/tmp/sotto-fs-test-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~TempHome() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

template <class Range, class Needle>
bool Contains(const Range& hay, const Needle& needle) {
  return std::search(hay.begin(), hay.end(), needle.begin(), needle.end()) != hay.end();
}

Bytes ReadAll(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), {});
}

bool AnyFileContains(const fs::path& root, ByteSpan needle) {
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    if (e.is_regular_file() && Contains(ReadAll(e.path()), needle)) return true;
  }
  return false;
}

// The receiving chain key of the ratchet session whose associated data is `ad`, found in a
// PeerSessions blob.
Key ReceivingChainKey(const Bytes& sessions_blob, const AssociatedData& ad) {
  auto it = std::search(sessions_blob.begin(), sessions_blob.end(), ad.begin(), ad.end());
  REQUIRE(it != sessions_blob.end());
  const auto start = static_cast<std::size_t>(it - sessions_blob.begin()) - kAdOffset;
  REQUIRE(start + kCkrOffset + 32 <= sessions_blob.size());
  Key k{};
  std::copy_n(sessions_blob.begin() + static_cast<std::ptrdiff_t>(start + kCkrOffset), 32,
              k.begin());
  return k;
}

Bytes Text(const std::string& text, std::uint8_t id) {
  MessageBody body;
  body.text = text;
  body.id.fill(id);
  body.sent_unix = 1;
  auto encoded = EncodeBody(body);
  REQUIRE(encoded.ok());
  return encoded.value();
}

TEST_CASE("stored client state forgets the keys of earlier messages", "[client][forward]") {
  TempHome home;
  auto key = CreateStateKey(home.path, std::nullopt);
  REQUIRE(key.ok());
  auto store_or = ClientStore::Open(home.path, key.value().Clone());
  REQUIRE(store_or.ok());
  auto& store = *store_or.value();

  const auto alice = IdentityKeys::Generate();
  const auto bob = IdentityKeys::Generate();
  const auto bob_prekey = PreKey::Generate();
  const auto alice_prekey = PreKey::Generate();
  ContactCode bob_code{
      kContactCodeVersion, bob.keys.public_key, bob_prekey.keys.public_key, {}, {}};
  bob_code.provider.fill(1);
  bob_code.mailbox.fill(2);
  ContactCode alice_code{
      kContactCodeVersion, alice.keys.public_key, alice_prekey.keys.public_key, {}, {}};
  alice_code.provider.fill(3);
  alice_code.mailbox.fill(4);
  AssociatedData ad{};
  std::copy(alice.keys.public_key.bytes.begin(), alice.keys.public_key.bytes.end(), ad.begin());
  std::copy(bob.keys.public_key.bytes.begin(), bob.keys.public_key.bytes.end(), ad.begin() + 32);

  PeerSessions alice_side(bob.keys.public_key);
  PeerSessions bob_side(alice.keys.public_key);

  // Alice's first message reaches Bob, whose client saves the session.
  auto m1 = alice_side.Seal(alice, bob_code, Text("first", 1));
  REQUIRE(m1.ok());
  auto header = X3dhHeader::Open(m1.value(), bob_prekey);
  REQUIRE(header.ok());
  REQUIRE(bob_side.OpenNewSession(bob, bob_prekey, header.value(), m1.value()).ok());
  REQUIRE(store.SaveSessions(alice.keys.public_key, bob_side.Serialize()).ok());
  const Bytes first_state = store.LoadSessions(alice.keys.public_key).value();
  const Key old_ckr = ReceivingChainKey(first_state, ad);
  Bytes old_file;
  for (const auto& e : fs::directory_iterator(home.path / "sessions")) {
    if (e.is_regular_file()) old_file = ReadAll(e.path());
  }
  REQUIRE(!old_file.empty());

  // The conversation goes on: a reply, then a new message from Alice (a DH ratchet step).
  auto m2 = bob_side.Seal(bob, alice_code, Text("reply", 2));
  REQUIRE(m2.ok());
  REQUIRE(alice_side.TryOpen(m2.value()).ok());
  auto m3 = alice_side.Seal(alice, bob_code, Text("third", 3));
  REQUIRE(m3.ok());
  REQUIRE(bob_side.TryOpen(m3.value()).ok());
  REQUIRE(store.SaveSessions(alice.keys.public_key, bob_side.Serialize()).ok());

  // The stored state, opened with the state key: the old chain key is not in it, and it opens
  // neither the first message nor the third again.
  const Bytes now_state = store.LoadSessions(alice.keys.public_key).value();
  CHECK_FALSE(Contains(now_state, old_ckr));
  CHECK(ReceivingChainKey(now_state, ad) != old_ckr);
  auto reloaded = PeerSessions::Deserialize(now_state);
  REQUIRE(reloaded.ok());
  CHECK_FALSE(reloaded.value().TryOpen(m1.value()).ok());
  CHECK_FALSE(reloaded.value().TryOpen(m3.value()).ok());
  // Nor is the old session file, or the old key in clear, anywhere in the home folder.
  CHECK_FALSE(AnyFileContains(home.path, old_file));
  CHECK_FALSE(AnyFileContains(home.path, old_ckr));
}

}  // namespace
}  // namespace sotto::client
