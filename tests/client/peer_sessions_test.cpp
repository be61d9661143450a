// The sessions held with one partner (client_lib/peer_sessions.h, papers/e2ee-spec.md §8):
// first messages and replies, out-of-order first messages, replays, simultaneous starts, the
// session cap, persistence, and what the envelope does not reveal.
#include "sotto/client_lib/peer_sessions.h"

#include <sodium.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "sotto/client_lib/envelope.h"
#include "sotto/core/random.h"

namespace sotto::client {
namespace {

struct Person {
  IdentityKeys id;
  PreKey prekey;
  ContactCode code;
};

Person MakePerson(Rng& rng) {
  Person p{IdentityKeys::Generate(rng), PreKey::Generate(rng), {}};
  p.code.identity_key = p.id.keys.public_key;
  p.code.prekey = p.prekey.keys.public_key;
  rng.Fill(p.code.provider);
  rng.Fill(p.code.mailbox);
  return p;
}

bool Less(const PublicKey& a, const PublicKey& b) {
  return std::lexicographical_compare(a.bytes.begin(), a.bytes.end(), b.bytes.begin(),
                                      b.bytes.end());
}

Bytes Body(const std::string& text) {
  MessageBody b;
  b.text = text;
  b.sent_unix = 1'700'000'000;
  return EncodeBody(b).value();
}

std::string TextOf(const Result<Bytes>& opened) {
  REQUIRE(opened.ok());
  auto body = DecodeBody(*opened);
  REQUIRE(body.ok());
  return body->text;
}

Bytes Slot(const Bytes& message) { return Bytes(message.begin(), message.begin() + kSlotSize); }

// The EK_A named by a message's session header, opened with the recipient's pre-key; fails the
// test if the slot is not a session header for `to`.
PublicKey SessionOf(const Bytes& message, const Person& to) {
  auto h = X3dhHeader::Open(message, to.prekey);
  REQUIRE(h.ok());
  return h->ephemeral;
}
bool HasSessionHeader(const Bytes& message, const Person& to) {
  return X3dhHeader::Open(message, to.prekey).ok();
}

// What a client does with a message from its mailbox: the sessions it has first, then the slot
// as a session header.
Result<Bytes> Receive(PeerSessions& sessions, const Person& me, const Bytes& message) {
  auto opened = sessions.TryOpen(message);
  if (opened.ok() || opened.status().code() != Status::Code::kNotFound) return opened;
  auto header = X3dhHeader::Open(message, me.prekey);
  if (!header.ok()) return header.status();
  if (!(header->initiator_identity == sessions.peer())) {
    return Status::NotFound("not from this partner");
  }
  return sessions.OpenNewSession(me.id, me.prekey, *header, message);
}

// Seals `text` from `from` to `to`, checking the envelope's size.
Bytes Send(PeerSessions& sessions, const Person& from, const Person& to, const std::string& text) {
  auto sealed = sessions.Seal(from.id, to.code, Body(text));
  REQUIRE(sealed.ok());
  CHECK(sealed->size() == kSphinxMessageSize);
  return *sealed;
}

bool Contains(const Bytes& haystack, ByteSpan needle) {
  return std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end()) !=
         haystack.end();
}

struct Pair {
  DeterministicRng rng = DeterministicRng::FromByte(0x71);
  Person alice = MakePerson(rng);
  Person bob = MakePerson(rng);
  PeerSessions at_alice{bob.id.keys.public_key, rng};  // Alice's sessions with Bob
  PeerSessions at_bob{alice.id.keys.public_key, rng};  // Bob's sessions with Alice
};

TEST_CASE("sessions: a first message, a reply and a conversation both ways", "[sessions]") {
  Pair p;
  CHECK(p.at_alice.size() == 0);
  const Bytes m1 = Send(p.at_alice, p.alice, p.bob, "hello Bob");
  CHECK(p.at_alice.size() == 1);

  // Bob has no session: TryOpen finds nothing; the slot opens as a session header from Alice.
  CHECK(p.at_bob.TryOpen(m1).status().code() == Status::Code::kNotFound);
  auto header = X3dhHeader::Open(m1, p.bob.prekey);
  REQUIRE(header.ok());
  CHECK(header->initiator_identity == p.alice.id.keys.public_key);
  CHECK(TextOf(p.at_bob.OpenNewSession(p.bob.id, p.bob.prekey, *header, m1)) == "hello Bob");
  CHECK(p.at_bob.size() == 1);

  // Bob replies at once on the responder session; its slot is random, not a header.
  const Bytes r1 = Send(p.at_bob, p.bob, p.alice, "hi Alice");
  CHECK_FALSE(X3dhHeader::Open(r1, p.alice.prekey).ok());
  CHECK(TextOf(p.at_alice.TryOpen(r1)) == "hi Alice");

  // Alice has heard back: her slot is no longer the session header.
  const Bytes m2 = Send(p.at_alice, p.alice, p.bob, "how are you?");
  CHECK(Slot(m2) != Slot(m1));
  CHECK_FALSE(X3dhHeader::Open(m2, p.bob.prekey).ok());
  CHECK(TextOf(p.at_bob.TryOpen(m2)) == "how are you?");

  for (int round = 0; round < 10; ++round) {
    const int burst = 1 + round % 3;
    for (int i = 0; i < burst; ++i) {
      const std::string t = "alice " + std::to_string(round) + "." + std::to_string(i);
      CHECK(TextOf(Receive(p.at_bob, p.bob, Send(p.at_alice, p.alice, p.bob, t))) == t);
    }
    const std::string t = "bob " + std::to_string(round);
    CHECK(TextOf(Receive(p.at_alice, p.alice, Send(p.at_bob, p.bob, p.alice, t))) == t);
  }
  CHECK(p.at_alice.size() == 1);
  CHECK(p.at_bob.size() == 1);
}

TEST_CASE("sessions: first messages out of order all carry the header and all decrypt",
          "[sessions]") {
  Pair p;
  const Bytes m1 = Send(p.at_alice, p.alice, p.bob, "one");
  const Bytes m2 = Send(p.at_alice, p.alice, p.bob, "two");
  const Bytes m3 = Send(p.at_alice, p.alice, p.bob, "three");
  // Every message has its own session header (nothing repeats), all naming the same session.
  CHECK(Slot(m2) != Slot(m1));
  CHECK(Slot(m3) != Slot(m1));
  CHECK(Slot(m3) != Slot(m2));
  for (const Bytes* m : {&m1, &m2, &m3}) {
    auto h = X3dhHeader::Open(*m, p.bob.prekey);
    REQUIRE(h.ok());
    CHECK(h->initiator_identity == p.alice.id.keys.public_key);
    CHECK(h->ephemeral == SessionOf(m1, p.bob));
  }

  CHECK(TextOf(Receive(p.at_bob, p.bob, m3)) == "three");  // creates the session
  // Message 1 through OpenNewSession finds the session made from message 3 ...
  auto h1 = X3dhHeader::Open(m1, p.bob.prekey);
  REQUIRE(h1.ok());
  CHECK(TextOf(p.at_bob.OpenNewSession(p.bob.id, p.bob.prekey, *h1, m1)) == "one");
  // ... and message 2 opens in it directly.
  CHECK(TextOf(p.at_bob.TryOpen(m2)) == "two");
  CHECK(p.at_bob.size() == 1);

  // Until Bob's reply arrives, Alice keeps sending the header.
  const Bytes m4 = Send(p.at_alice, p.alice, p.bob, "four");
  CHECK(Slot(m4) != Slot(m1));
  CHECK(SessionOf(m4, p.bob) == SessionOf(m1, p.bob));
  const Bytes reply = Send(p.at_bob, p.bob, p.alice, "got them");
  CHECK(TextOf(Receive(p.at_alice, p.alice, reply)) == "got them");
  const Bytes m5 = Send(p.at_alice, p.alice, p.bob, "five");
  CHECK(Slot(m5) != Slot(m1));
  CHECK_FALSE(X3dhHeader::Open(m5, p.bob.prekey).ok());
  // The late m4 (with header) and m5 (without) both arrive.
  CHECK(TextOf(Receive(p.at_bob, p.bob, m5)) == "five");
  CHECK(TextOf(Receive(p.at_bob, p.bob, m4)) == "four");
}

TEST_CASE("sessions: a replayed message is refused by TryOpen and OpenNewSession", "[sessions]") {
  Pair p;
  const Bytes m1 = Send(p.at_alice, p.alice, p.bob, "once");
  CHECK(TextOf(Receive(p.at_bob, p.bob, m1)) == "once");
  const Bytes r1 = Send(p.at_bob, p.bob, p.alice, "reply");
  CHECK(TextOf(Receive(p.at_alice, p.alice, r1)) == "reply");
  const Bytes m2 = Send(p.at_alice, p.alice, p.bob, "later");
  CHECK(TextOf(Receive(p.at_bob, p.bob, m2)) == "later");

  const Bytes bob_state = p.at_bob.Serialize();
  CHECK(p.at_bob.TryOpen(m1).status().code() == Status::Code::kNotFound);
  auto h = X3dhHeader::Open(m1, p.bob.prekey);
  REQUIRE(h.ok());
  CHECK_FALSE(p.at_bob.OpenNewSession(p.bob.id, p.bob.prekey, *h, m1).ok());
  CHECK(p.at_bob.TryOpen(m2).status().code() == Status::Code::kNotFound);
  CHECK(p.at_bob.Serialize() == bob_state);
  CHECK(p.at_bob.size() == 1);

  const Bytes alice_state = p.at_alice.Serialize();
  CHECK(p.at_alice.TryOpen(r1).status().code() == Status::Code::kNotFound);
  CHECK(p.at_alice.Serialize() == alice_state);
}

// Both start a session before hearing from the other; `small_first` says who receives first.
void SimultaneousStart(bool small_first) {
  DeterministicRng rng = DeterministicRng::FromByte(0x72);
  Person a = MakePerson(rng), b = MakePerson(rng);
  if (Less(b.id.keys.public_key, a.id.keys.public_key)) std::swap(a, b);
  const Person& small = a;  // the smaller identity key: both must converge on its session
  const Person& large = b;
  PeerSessions at_small(large.id.keys.public_key, rng), at_large(small.id.keys.public_key, rng);

  const Bytes s1 = Send(at_small, small, large, "s1");
  const Bytes s2 = Send(at_small, small, large, "s2");
  const Bytes l1 = Send(at_large, large, small, "l1");
  const Bytes l2 = Send(at_large, large, small, "l2");  // stays in flight for a while
  if (small_first) {
    CHECK(TextOf(Receive(at_small, small, l1)) == "l1");
    CHECK(TextOf(Receive(at_large, large, s1)) == "s1");
  } else {
    CHECK(TextOf(Receive(at_large, large, s1)) == "s1");
    CHECK(TextOf(Receive(at_small, small, l1)) == "l1");
  }
  CHECK(at_small.size() == 2);
  CHECK(at_large.size() == 2);

  // Both now send on the session the smaller key started: the small side still with its header
  // (it has not heard back in it), the large side with a random slot instead of its own header.
  const Bytes s3 = Send(at_small, small, large, "s3");
  CHECK(SessionOf(s3, large) == SessionOf(s1, large));
  const Bytes l3 = Send(at_large, large, small, "l3");
  CHECK(Slot(l3) != Slot(l1));
  CHECK_FALSE(X3dhHeader::Open(l3, small.prekey).ok());

  CHECK(TextOf(Receive(at_small, small, l3)) == "l3");
  CHECK(TextOf(Receive(at_large, large, s3)) == "s3");
  // In-flight messages of both sessions still arrive: nothing is lost.
  CHECK(TextOf(Receive(at_large, large, s2)) == "s2");
  CHECK(TextOf(Receive(at_small, small, l2)) == "l2");

  // From here on the two converse on one session; the large side never shows its header again.
  for (int i = 0; i < 6; ++i) {
    const std::string ts = "small " + std::to_string(i), tl = "large " + std::to_string(i);
    const Bytes ms = Send(at_small, small, large, ts);
    CHECK_FALSE(HasSessionHeader(ms, large));
    CHECK(TextOf(Receive(at_large, large, ms)) == ts);
    const Bytes ml = Send(at_large, large, small, tl);
    CHECK_FALSE(HasSessionHeader(ml, small));
    CHECK(TextOf(Receive(at_small, small, ml)) == tl);
  }
  CHECK(at_small.size() == 2);
  CHECK(at_large.size() == 2);
}

TEST_CASE("sessions: a simultaneous start converges on one session and loses nothing",
          "[sessions]") {
  SECTION("the smaller key receives first") { SimultaneousStart(true); }
  SECTION("the larger key receives first") { SimultaneousStart(false); }
}

TEST_CASE("sessions: state survives serialization in the middle of a conversation", "[sessions]") {
  Pair p;
  const Bytes m1 = Send(p.at_alice, p.alice, p.bob, "before");
  const Bytes m2 = Send(p.at_alice, p.alice, p.bob, "in flight");

  // Alice saved while unconfirmed: the restored state still sends the header.
  const Bytes alice_blob = p.at_alice.Serialize();
  auto alice = PeerSessions::Deserialize(alice_blob, p.rng);
  REQUIRE(alice.ok());
  CHECK(alice->Serialize() == alice_blob);
  CHECK(alice->peer() == p.bob.id.keys.public_key);
  CHECK(alice->size() == 1);
  const Bytes m3 = Send(*alice, p.alice, p.bob, "after restore");
  CHECK(Slot(m3) != Slot(m1));
  CHECK(SessionOf(m3, p.bob) == SessionOf(m1, p.bob));

  CHECK(TextOf(Receive(p.at_bob, p.bob, m1)) == "before");
  auto bob = PeerSessions::Deserialize(p.at_bob.Serialize(), p.rng);
  REQUIRE(bob.ok());
  CHECK(TextOf(Receive(*bob, p.bob, m3)) == "after restore");
  CHECK(TextOf(Receive(*bob, p.bob, m2)) == "in flight");
  for (int i = 0; i < 4; ++i) {
    const std::string t = "turn " + std::to_string(i);
    CHECK(TextOf(Receive(*alice, p.alice, Send(*bob, p.bob, p.alice, t))) == t);
    alice = PeerSessions::Deserialize(alice->Serialize(), p.rng);
    REQUIRE(alice.ok());
    CHECK(TextOf(Receive(*bob, p.bob, Send(*alice, p.alice, p.bob, t))) == t);
    bob = PeerSessions::Deserialize(bob->Serialize(), p.rng);
    REQUIRE(bob.ok());
  }
  // A moved-to object keeps working.
  PeerSessions moved = std::move(*bob);
  CHECK(TextOf(Receive(*alice, p.alice, Send(moved, p.bob, p.alice, "moved"))) == "moved");
  // An empty set round-trips too.
  PeerSessions empty(p.alice.id.keys.public_key, p.rng);
  auto restored = PeerSessions::Deserialize(empty.Serialize(), p.rng);
  REQUIRE(restored.ok());
  CHECK(restored->size() == 0);
  CHECK(restored->Serialize() == empty.Serialize());
}

// Recomputes the trailing checksum (spec §8) after a deliberate edit.
Bytes Reseal(Bytes blob) {
  const std::size_t n = blob.size() - 32;
  crypto_generichash(blob.data() + n, 32, blob.data(), n, nullptr, 0);
  return blob;
}

TEST_CASE("sessions: corrupt, truncated or inconsistent blobs are rejected", "[sessions]") {
  Pair p;
  CHECK(TextOf(Receive(p.at_bob, p.bob, Send(p.at_alice, p.alice, p.bob, "x"))) == "x");
  (void)Send(p.at_bob, p.bob, p.alice, "y");  // so Bob's blob holds a used responder session
  const Bytes blob = p.at_bob.Serialize();
  REQUIRE(PeerSessions::Deserialize(blob, p.rng).ok());

  for (std::size_t n = 0; n < blob.size(); ++n) {
    auto r = PeerSessions::Deserialize(ByteSpan(blob).first(n), p.rng);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Status::Code::kCorruption);
  }
  Bytes longer = blob;
  longer.push_back(0);
  CHECK(PeerSessions::Deserialize(longer, p.rng).status().code() == Status::Code::kCorruption);

  auto flips = DeterministicRng::FromByte(0x73);
  for (int i = 0; i < 500; ++i) {
    Bytes f = blob;
    const auto bit = UniformBelow(flips, f.size() * 8);
    f[bit / 8] = static_cast<std::uint8_t>(f[bit / 8] ^ (1u << (bit % 8)));
    auto r = PeerSessions::Deserialize(f, p.rng);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Status::Code::kCorruption);
  }

  // Edits with a valid checksum are caught by the structure checks (layout: spec §8).
  constexpr std::size_t kCount = 44, kRecord = 46;  // no retired keys in this blob
  REQUIRE(blob[kCount] == 1);
  auto rejected = [&](Bytes edited) {
    auto r = PeerSessions::Deserialize(Reseal(std::move(edited)), p.rng);
    return !r.ok() && r.status().code() == Status::Code::kCorruption;
  };
  Bytes e = blob;
  e[3] = 3;  // an unknown (newer) version
  CHECK(rejected(e));
  e = blob;
  e[kCount] = 5;  // more sessions than the cap
  CHECK(rejected(e));
  e = blob;
  e[kCount] = 0;  // fewer sessions than stored
  CHECK(rejected(e));
  e = blob;
  e[kCount + 1] = 65;  // too many retired keys
  CHECK(rejected(e));
  for (int flags : {0x00, 0x01, 0x06, 0x08, 0x80}) {  // responder 0x02 is the valid one
    e = blob;
    REQUIRE(e[kRecord] == 0x02);
    e[kRecord] = static_cast<std::uint8_t>(flags);
    CHECK(rejected(e));
  }
  e = blob;
  e[kRecord + 1 + 32 + 7] = 0xff;  // created after last used
  CHECK(rejected(e));
  e = blob;
  e[kRecord + 1 + 32 + 16 + 3] = static_cast<std::uint8_t>(e[kRecord + 1 + 32 + 16 + 3] + 1);
  CHECK(rejected(e));  // ratchet state length off by one
  e = blob;
  e[kRecord + 1 + 32 + 16 + 4 + 10] ^= 1;  // inside the ratchet state (its own checksum fails)
  CHECK(rejected(e));
  CHECK(rejected(Bytes(blob.size(), 0)));
}

TEST_CASE("sessions: stored sessions from an older Sotto version get their own status",
          "[sessions]") {
  Pair p;
  CHECK(TextOf(Receive(p.at_bob, p.bob, Send(p.at_alice, p.alice, p.bob, "x"))) == "x");
  Bytes v1 = p.at_bob.Serialize();
  v1[3] = 1;  // what a version-1 client wrote: "SPS" 0x01 (its contents do not matter)
  for (const Bytes& blob : {v1, Reseal(v1), Bytes(v1.begin(), v1.begin() + 4)}) {
    auto r = PeerSessions::Deserialize(blob, p.rng);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Status::Code::kNotFound);
    CHECK(r.status().message() ==
          "stored sessions were made by an older Sotto version (format 1); the conversation will "
          "start a new session");
  }
  // A version-2 set holding a version-1 ratchet state is damaged, not old: it cannot exist.
  Bytes inner = p.at_bob.Serialize();
  const std::size_t state_at = 46 + 1 + 32 + 8 + 8 + 4;
  REQUIRE(inner[state_at] == 'S');
  inner[state_at + 3] = 1;
  CHECK(PeerSessions::Deserialize(Reseal(inner), p.rng).status().code() ==
        Status::Code::kCorruption);
}

TEST_CASE("sessions: at most kMaxSessionsPerPeer are kept; the least recently used goes",
          "[sessions]") {
  Pair p;
  // Alice "reinstalls" (same identity, no sessions) again and again, starting a new session
  // each time; each first message creates a session at Bob.
  std::vector<PeerSessions> alices;
  std::vector<Bytes> firsts;
  for (int i = 0; i < 6; ++i) {
    alices.emplace_back(p.bob.id.keys.public_key, p.rng);
    firsts.push_back(Send(alices.back(), p.alice, p.bob, "start " + std::to_string(i)));
  }
  for (int i = 0; i < 4; ++i) {
    CHECK(TextOf(Receive(p.at_bob, p.bob, firsts[static_cast<std::size_t>(i)])) ==
          "start " + std::to_string(i));
  }
  CHECK(p.at_bob.size() == 4);
  // Session 0 is used again, so session 1 is now the least recently used.
  CHECK(TextOf(Receive(p.at_bob, p.bob, Send(alices[0], p.alice, p.bob, "again 0"))) == "again 0");
  CHECK(TextOf(Receive(p.at_bob, p.bob, firsts[4])) == "start 4");
  CHECK(p.at_bob.size() == kMaxSessionsPerPeer);
  CHECK(TextOf(Receive(p.at_bob, p.bob, firsts[5])) == "start 5");
  CHECK(p.at_bob.size() == kMaxSessionsPerPeer);  // session 2 went

  // Evicted sessions can be neither used nor revived by a replay of their first message.
  const Bytes before = p.at_bob.Serialize();
  CHECK_FALSE(Receive(p.at_bob, p.bob, Send(alices[1], p.alice, p.bob, "lost 1")).ok());
  CHECK_FALSE(Receive(p.at_bob, p.bob, firsts[1]).ok());
  CHECK_FALSE(Receive(p.at_bob, p.bob, firsts[2]).ok());
  CHECK(p.at_bob.Serialize() == before);
  // The kept ones work, and survive a round trip through storage.
  auto bob = PeerSessions::Deserialize(before, p.rng);
  REQUIRE(bob.ok());
  for (int i : {0, 3, 4, 5}) {
    const std::string t = "still " + std::to_string(i);
    CHECK(TextOf(Receive(*bob, p.bob,
                         Send(alices[static_cast<std::size_t>(i)], p.alice, p.bob, t))) == t);
  }
  auto replayed = X3dhHeader::Open(firsts[1], p.bob.prekey);
  REQUIRE(replayed.ok());
  CHECK_FALSE(bob->OpenNewSession(p.bob.id, p.bob.prekey, *replayed, firsts[1]).ok());
  CHECK(bob->size() == kMaxSessionsPerPeer);
}

TEST_CASE("sessions: a message for someone else is refused and changes nothing", "[sessions]") {
  Pair p;
  Person carol = MakePerson(p.rng);
  CHECK(TextOf(Receive(p.at_bob, p.bob, Send(p.at_alice, p.alice, p.bob, "hi"))) == "hi");
  const Bytes before = p.at_bob.Serialize();

  // Alice writes to Carol: Bob can open neither the slot nor the message.
  PeerSessions alice_to_carol(carol.id.keys.public_key, p.rng);
  const Bytes for_carol = Send(alice_to_carol, p.alice, carol, "for Carol only");
  CHECK(p.at_bob.TryOpen(for_carol).status().code() == Status::Code::kNotFound);
  CHECK_FALSE(X3dhHeader::Open(for_carol, p.bob.prekey).ok());
  CHECK(p.at_bob.Serialize() == before);

  // A header for Bob's current pre-key handed in with an old pre-key: the first message fails
  // to authenticate and no session is kept.
  PeerSessions fresh_alice(p.bob.id.keys.public_key, p.rng);
  const Bytes m = Send(fresh_alice, p.alice, p.bob, "new session");
  auto header = X3dhHeader::Open(m, p.bob.prekey);
  REQUIRE(header.ok());
  const PreKey old_prekey = PreKey::Generate(p.rng);
  CHECK_FALSE(p.at_bob.OpenNewSession(p.bob.id, old_prekey, *header, m).ok());
  CHECK(p.at_bob.Serialize() == before);
  // A header from someone who is not this partner is refused.
  X3dhHeader from_carol = *header;
  from_carol.initiator_identity = carol.id.keys.public_key;
  auto wrong = p.at_bob.OpenNewSession(p.bob.id, p.bob.prekey, from_carol, m);
  REQUIRE_FALSE(wrong.ok());
  CHECK(wrong.status().code() == Status::Code::kInvalidArgument);
  CHECK(p.at_bob.Serialize() == before);

  // Tampered messages and junk: NotFound, nothing changed.
  const Bytes next = Send(p.at_alice, p.alice, p.bob, "tamper with me");
  for (std::size_t i : {kSlotSize, kSlotSize + 35, kSlotSize + 40, kSphinxMessageSize - 1}) {
    Bytes t = next;
    t[i] ^= 0x20;
    CHECK(p.at_bob.TryOpen(t).status().code() == Status::Code::kNotFound);
  }
  Bytes junk(kSphinxMessageSize);
  p.rng.Fill(junk);
  CHECK(p.at_bob.TryOpen(junk).status().code() == Status::Code::kNotFound);
  CHECK(p.at_bob.TryOpen(ByteSpan(next).first(100)).status().code() ==
        Status::Code::kInvalidArgument);
  CHECK(p.at_bob.Serialize() == before);
  CHECK(TextOf(p.at_bob.TryOpen(next)) == "tamper with me");
}

TEST_CASE("sessions: Seal refuses a wrong contact code or body size", "[sessions]") {
  Pair p;
  Person carol = MakePerson(p.rng);
  auto wrong_peer = p.at_alice.Seal(p.alice.id, carol.code, Body("x"));
  REQUIRE_FALSE(wrong_peer.ok());
  CHECK(wrong_peer.status().code() == Status::Code::kInvalidArgument);
  auto short_body = p.at_alice.Seal(p.alice.id, p.bob.code, Bytes(kBodySize - 1));
  REQUIRE_FALSE(short_body.ok());
  CHECK(short_body.status().code() == Status::Code::kInvalidArgument);
  CHECK(p.at_alice.size() == 0);
  ContactCode low_order = p.bob.code;
  low_order.prekey = PublicKey{};  // all zeros: a low-order point
  auto crypto = p.at_alice.Seal(p.alice.id, low_order, Body("x"));
  REQUIRE_FALSE(crypto.ok());
  CHECK(crypto.status().code() == Status::Code::kCryptoError);
  CHECK(p.at_alice.size() == 0);
}

TEST_CASE("sessions: the envelope shows neither identity key nor the text", "[sessions]") {
  Pair p;
  const std::string text = "a very secret sentence that must not appear in the clear";
  const Bytes body = Body(text);
  std::vector<Bytes> envelopes;
  envelopes.push_back(Send(p.at_alice, p.alice, p.bob, text));  // with the session header
  CHECK(TextOf(Receive(p.at_bob, p.bob, envelopes.back())) == text);
  envelopes.push_back(Send(p.at_bob, p.bob, p.alice, text));
  CHECK(TextOf(Receive(p.at_alice, p.alice, envelopes.back())) == text);
  envelopes.push_back(Send(p.at_alice, p.alice, p.bob, text));  // without
  const PublicKey ek = SessionOf(envelopes[0], p.bob);
  for (const Bytes& e : envelopes) {
    CHECK(e.size() == kSphinxMessageSize);
    CHECK_FALSE(Contains(e, p.alice.id.keys.public_key.bytes));
    CHECK_FALSE(Contains(e, p.bob.id.keys.public_key.bytes));
    CHECK_FALSE(Contains(e, ek.bytes));
    for (std::size_t i = 0; i + 8 <= text.size(); ++i) {
      CHECK_FALSE(Contains(e, ByteSpan(reinterpret_cast<const std::uint8_t*>(text.data()) + i, 8)));
    }
    CHECK_FALSE(Contains(e, ByteSpan(body).first(kBodyHeaderSize)));
  }
  // No two envelopes share a 16-byte substring (same text, same session, first and later
  // messages): a chance match anywhere has probability about 2^-107.
  for (std::size_t i = 0; i < envelopes.size(); ++i) {
    for (std::size_t j = 0; j < envelopes.size(); ++j) {
      if (i == j) continue;
      for (std::size_t at = 0; at + 16 <= kSphinxMessageSize; at += 16) {
        CHECK_FALSE(Contains(envelopes[j], ByteSpan(envelopes[i]).subspan(at, 16)));
      }
    }
  }
}

}  // namespace
}  // namespace sotto::client
