// Deniable triple-DH session set-up (client_lib/x3dh.h, papers/e2ee-spec.md §3).
#include "sotto/client_lib/x3dh.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "sotto/client_lib/ratchet.h"
#include "sotto/core/random.h"

namespace sotto::client {
namespace {

Bytes ToBytes(std::string_view s) { return Bytes(s.begin(), s.end()); }

struct Users {
  DeterministicRng rng = DeterministicRng::FromByte(0x33);
  IdentityKeys alice = IdentityKeys::Generate(rng);
  IdentityKeys bob = IdentityKeys::Generate(rng);
  PreKey bob_prekey = PreKey::Generate(rng);
};

TEST_CASE("x3dh: both sides derive the same shared key and associated data") {
  Users u;
  auto start = StartSession(u.alice, u.bob.keys.public_key, u.bob_prekey.keys.public_key, u.rng);
  REQUIRE(start.ok());
  auto slot = SealSessionHeader(start->header, u.bob_prekey.keys.public_key, u.rng);
  REQUIRE(slot.ok());
  auto header = X3dhHeader::Open(*slot, u.bob_prekey);
  REQUIRE(header.ok());
  CHECK(header->initiator_identity == u.alice.keys.public_key);
  CHECK(header->ephemeral == start->header.ephemeral);
  auto accepted = AcceptSession(u.bob, u.bob_prekey, *header);
  REQUIRE(accepted.ok());
  CHECK(accepted->shared_key.CtEqual(start->agreed.shared_key));
  CHECK(accepted->associated_data == start->agreed.associated_data);
  // AD = IK_A ‖ IK_B.
  CHECK(std::equal(u.alice.keys.public_key.bytes.begin(), u.alice.keys.public_key.bytes.end(),
                   accepted->associated_data.begin()));
  CHECK(std::equal(u.bob.keys.public_key.bytes.begin(), u.bob.keys.public_key.bytes.end(),
                   accepted->associated_data.begin() + 32));
  // A second session uses a fresh ephemeral key, hence a different shared key.
  auto again = StartSession(u.alice, u.bob.keys.public_key, u.bob_prekey.keys.public_key, u.rng);
  REQUIRE(again.ok());
  CHECK_FALSE(again->agreed.shared_key.CtEqual(start->agreed.shared_key));
}

TEST_CASE("x3dh: a wrong pre-key or identity gives a different key and the first message fails") {
  Users u;
  PreKey other_prekey = PreKey::Generate(u.rng);
  IdentityKeys other_identity = IdentityKeys::Generate(u.rng);
  auto start = StartSession(u.alice, u.bob.keys.public_key, u.bob_prekey.keys.public_key, u.rng);
  REQUIRE(start.ok());
  auto alice = RatchetSession::Initiate(start->agreed, u.bob_prekey.keys.public_key, u.rng);
  REQUIRE(alice.ok());
  auto first = alice->Encrypt(ToBytes("hello"));
  REQUIRE(first.ok());

  auto wrong_prekey = AcceptSession(u.bob, other_prekey, start->header);
  REQUIRE(wrong_prekey.ok());
  CHECK_FALSE(wrong_prekey->shared_key.CtEqual(start->agreed.shared_key));
  auto bob = RatchetSession::Respond(*wrong_prekey, other_prekey, u.rng);
  auto plain = bob.Decrypt(*first);
  REQUIRE_FALSE(plain.ok());
  CHECK(plain.status().message().find("could not be authenticated") != std::string::npos);

  auto wrong_identity = AcceptSession(other_identity, u.bob_prekey, start->header);
  REQUIRE(wrong_identity.ok());
  CHECK_FALSE(wrong_identity->shared_key.CtEqual(start->agreed.shared_key));
  auto bob2 = RatchetSession::Respond(*wrong_identity, u.bob_prekey, u.rng);
  CHECK_FALSE(bob2.Decrypt(*first).ok());

  // The right keys work (so the failures above are the keys' doing).
  auto right = AcceptSession(u.bob, u.bob_prekey, start->header);
  REQUIRE(right.ok());
  auto bob3 = RatchetSession::Respond(*right, u.bob_prekey, u.rng);
  auto ok = bob3.Decrypt(*first);
  REQUIRE(ok.ok());
  CHECK(*ok == ToBytes("hello"));
}

TEST_CASE("x3dh: low-order public keys (all-zero DH output) are rejected") {
  Users u;
  PublicKey zero{};  // u = 0
  PublicKey one{};   // u = 1, a point of order 4
  one.bytes[0] = 1;
  for (const PublicKey& bad : {zero, one}) {
    auto s1 = StartSession(u.alice, u.bob.keys.public_key, bad, u.rng);
    REQUIRE_FALSE(s1.ok());
    CHECK(s1.status().code() == Status::Code::kCryptoError);
    CHECK(s1.status().message().find("low-order") != std::string::npos);
    CHECK_FALSE(StartSession(u.alice, bad, u.bob_prekey.keys.public_key, u.rng).ok());
    CHECK_FALSE(AcceptSession(u.bob, u.bob_prekey, X3dhHeader{bad, u.alice.keys.public_key}).ok());
    CHECK_FALSE(AcceptSession(u.bob, u.bob_prekey, X3dhHeader{u.alice.keys.public_key, bad}).ok());
    auto slot =
        SealSessionHeader(X3dhHeader{u.alice.keys.public_key, u.alice.keys.public_key}, bad, u.rng);
    REQUIRE_FALSE(slot.ok());
    CHECK(slot.status().code() == Status::Code::kCryptoError);
  }
}

TEST_CASE("x3dh: a truncated session header is rejected") {
  Users u;
  Bytes short_header(kX3dhHeaderSize - 1, 7);
  auto h = X3dhHeader::Open(short_header, u.bob_prekey);
  REQUIRE_FALSE(h.ok());
  CHECK(h.status().message().find("too short") != std::string::npos);
}

TEST_CASE(
    "x3dh: the session header hides the initiator's identity from everyone but the recipient") {
  Users u;
  auto start = StartSession(u.alice, u.bob.keys.public_key, u.bob_prekey.keys.public_key, u.rng);
  REQUIRE(start.ok());
  auto slot = SealSessionHeader(start->header, u.bob_prekey.keys.public_key, u.rng);
  REQUIRE(slot.ok());
  const auto& wire = *slot;
  // Neither IK_A nor EK_A is in the bytes the recipient's provider stores...
  for (const auto& key : {u.alice.keys.public_key.bytes, start->header.ephemeral.bytes}) {
    CHECK(std::search(wire.begin(), wire.end(), key.begin(), key.end()) == wire.end());
  }
  // ...only the holder of the pre-key can open it...
  PreKey other = PreKey::Generate(u.rng);
  auto wrong = X3dhHeader::Open(wire, other);
  REQUIRE_FALSE(wrong.ok());
  CHECK(wrong.status().message().find("could not be opened") != std::string::npos);
  // ...and every modified bit is detected, the two filler bits of the representative included
  // (they are authenticated as associated data though the map ignores them).
  for (std::size_t bit = 0; bit < kX3dhHeaderSize * 8; ++bit) {
    auto flipped = wire;
    flipped[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
    INFO("bit " << bit);
    REQUIRE_FALSE(X3dhHeader::Open(flipped, u.bob_prekey).ok());
  }
  auto opened = X3dhHeader::Open(wire, u.bob_prekey);
  REQUIRE(opened.ok());
  CHECK(opened->initiator_identity == u.alice.keys.public_key);
  CHECK(opened->ephemeral == start->header.ephemeral);
  // Random bytes are not a session header.
  for (int i = 0; i < 50; ++i) {
    SessionHeader junk{};
    u.rng.Fill(junk);
    CHECK_FALSE(X3dhHeader::Open(junk, u.bob_prekey).ok());
  }
}

TEST_CASE("x3dh: session headers never repeat, yet all name the same session") {
  Users u;
  auto start = StartSession(u.alice, u.bob.keys.public_key, u.bob_prekey.keys.public_key, u.rng);
  REQUIRE(start.ok());
  std::vector<SessionHeader> slots;
  for (int i = 0; i < 64; ++i) {
    auto slot = SealSessionHeader(start->header, u.bob_prekey.keys.public_key, u.rng);
    REQUIRE(slot.ok());
    auto opened = X3dhHeader::Open(*slot, u.bob_prekey);
    REQUIRE(opened.ok());
    CHECK(opened->ephemeral == start->header.ephemeral);
    CHECK(opened->initiator_identity == u.alice.keys.public_key);
    slots.push_back(*slot);
  }
  // No two share any aligned 8-byte block (a chance match has probability about 2^-64 each).
  std::set<std::pair<std::size_t, std::uint64_t>> blocks;
  std::size_t total = 0;
  for (const auto& slot : slots) {
    for (std::size_t at = 0; at + 8 <= slot.size(); at += 8) {
      std::uint64_t v = 0;
      for (std::size_t i = 0; i < 8; ++i) v = (v << 8) | slot[at + i];
      blocks.emplace(at, v);
      ++total;
    }
  }
  CHECK(blocks.size() == total);
  // The representative's top bits are random filler: all four values occur.
  std::set<int> tops;
  for (const auto& slot : slots) tops.insert(slot[31] >> 6);
  CHECK(tops.size() == 4);
}

TEST_CASE("x3dh: deniable: the responder alone can forge a first message 'from' the initiator") {
  // Nothing in a transcript needs the initiator's secrets, so it proves nothing to a third party.
  Users u;
  KeyPair forged_ephemeral = KeyPair::Generate(u.rng);
  const X3dhHeader forged_header{u.alice.keys.public_key, forged_ephemeral.public_key};
  // Bob computes the "initiator's" secret from his own keys and plays Alice.
  auto forged = AcceptSession(u.bob, u.bob_prekey, forged_header);
  REQUIRE(forged.ok());
  auto fake_alice = RatchetSession::Initiate(*forged, u.bob_prekey.keys.public_key, u.rng);
  REQUIRE(fake_alice.ok());
  auto msg = fake_alice->Encrypt(ToBytes("a message Alice never wrote"));
  REQUIRE(msg.ok());
  // Indistinguishable to Bob's real client: it decrypts as a message in a session with Alice.
  auto agreed = AcceptSession(u.bob, u.bob_prekey, forged_header);
  REQUIRE(agreed.ok());
  auto bob = RatchetSession::Respond(*agreed, u.bob_prekey, u.rng);
  auto plain = bob.Decrypt(*msg);
  REQUIRE(plain.ok());
  CHECK(*plain == ToBytes("a message Alice never wrote"));
}

}  // namespace
}  // namespace sotto::client
