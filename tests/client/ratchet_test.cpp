// The Double Ratchet (client_lib/ratchet.h, papers/e2ee-spec.md §4–§6): correctness under
// reordering, rejection of tampering and replays, forward secrecy, post-compromise security and
// state persistence.
#include "sotto/client_lib/ratchet.h"

#include <sodium.h>

#include <algorithm>
#include <array>
#include <catch2/catch.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sotto/client_lib/elligator.h"
#include "sotto/client_lib/x3dh.h"
#include "sotto/core/random.h"

namespace sotto::client {
namespace {

Bytes ToBytes(std::string_view s) { return Bytes(s.begin(), s.end()); }

// Offsets in the serialized state (spec §6), used to capture key material from outside.
constexpr std::size_t kAdOffset = 5;
constexpr std::size_t kRkOffset = 69;
constexpr std::size_t kDhsOffset = 101;
constexpr std::size_t kCksOffset = 133;
constexpr std::size_t kCkrOffset = 165;
constexpr std::size_t kHksOffset = 197;
constexpr std::size_t kHkrOffset = 229;
constexpr std::size_t kNhksOffset = 261;
constexpr std::size_t kNhkrOffset = 293;
constexpr std::size_t kStateFixed = 341;

using Key = std::array<std::uint8_t, 32>;

Key At(const Bytes& blob, std::size_t offset) {
  Key k{};
  std::copy_n(blob.begin() + static_cast<std::ptrdiff_t>(offset), 32, k.begin());
  return k;
}

bool Contains(const Bytes& haystack, const Key& needle) {
  return std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end()) !=
         haystack.end();
}

// The spec's KDF, written again here: BLAKE2b(key, "sotto-ratchet-v2/" ‖ label, len).
template <std::size_t N>
std::array<std::uint8_t, N> SpecKdf(const Key& key, std::string_view label) {
  const std::string m = "sotto-ratchet-v2/" + std::string(label);
  std::array<std::uint8_t, N> out{};
  crypto_generichash(out.data(), N, reinterpret_cast<const unsigned char*>(m.data()), m.size(),
                     key.data(), key.size());
  return out;
}

// The header nonce of §4: BLAKE2b-192("sotto-ratchet-v2/header-nonce" ‖ body).
std::array<std::uint8_t, 24> SpecHeaderNonce(const Bytes& message) {
  std::string m = "sotto-ratchet-v2/header-nonce";
  m.append(message.begin() + kEncryptedHeaderSize, message.end());
  std::array<std::uint8_t, 24> n{};
  crypto_generichash(n.data(), n.size(), reinterpret_cast<const unsigned char*>(m.data()), m.size(),
                     nullptr, 0);
  return n;
}

// Opens the encrypted header of a ratchet message with a captured header key (§5).
std::optional<Bytes> OpenHeaderWith(const Key& hk, const Bytes& ad, const Bytes& message) {
  const auto nonce = SpecHeaderNonce(message);
  Bytes h(kRatchetHeaderSize);
  unsigned long long len = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(h.data(), &len, nullptr, message.data(),
                                                 kEncryptedHeaderSize, ad.data(), ad.size(),
                                                 nonce.data(), hk.data()) != 0) {
    return std::nullopt;
  }
  return h;
}

// Opens a ratchet message with a captured header key and message key, as the spec says (§5).
std::optional<Bytes> OpenWith(const Key& hk, const Key& mk, const Bytes& ad, const Bytes& message) {
  const auto header = OpenHeaderWith(hk, ad, message);
  if (!header) return std::nullopt;
  const auto key = SpecKdf<32>(mk, "aead-key");
  const auto nonce = SpecKdf<24>(mk, "aead-nonce");
  Bytes aad = ad;
  aad.insert(aad.end(), header->begin(), header->end());
  Bytes plain(message.size() - kRatchetOverhead);
  unsigned long long len = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(plain.data(), &len, nullptr,
                                                 message.data() + kEncryptedHeaderSize,
                                                 message.size() - kEncryptedHeaderSize, aad.data(),
                                                 aad.size(), nonce.data(), key.data()) != 0) {
    return std::nullopt;
  }
  return plain;
}

// Two users with a session set up through X3DH; each side has its own reproducible randomness.
struct Conversation {
  DeterministicRng rng_a = DeterministicRng::FromByte(0xA1);
  DeterministicRng rng_b = DeterministicRng::FromByte(0xB2);
  std::optional<RatchetSession> alice;
  std::optional<RatchetSession> bob;

  Conversation() {
    auto ik_a = IdentityKeys::Generate(rng_a);
    auto ik_b = IdentityKeys::Generate(rng_b);
    auto spk_b = PreKey::Generate(rng_b);
    auto start = StartSession(ik_a, ik_b.keys.public_key, spk_b.keys.public_key, rng_a);
    REQUIRE(start.ok());
    auto a = RatchetSession::Initiate(start->agreed, spk_b.keys.public_key, rng_a);
    REQUIRE(a.ok());
    alice.emplace(std::move(a.value()));
    auto agreed = AcceptSession(ik_b, spk_b, start->header);
    REQUIRE(agreed.ok());
    bob.emplace(RatchetSession::Respond(*agreed, spk_b, rng_b));
  }
};

Bytes Enc(RatchetSession& s, std::string_view text) {
  auto m = s.Encrypt(ToBytes(text));
  REQUIRE(m.ok());
  return std::move(m.value());
}

void ExpectDecrypts(RatchetSession& s, const Bytes& message, std::string_view text) {
  auto p = s.Decrypt(message);
  INFO(p.status().ToString());
  REQUIRE(p.ok());
  CHECK(*p == ToBytes(text));
}

void Send(RatchetSession& from, RatchetSession& to, std::string_view text) {
  ExpectDecrypts(to, Enc(from, text), text);
}

// KDF_RK per spec §4: BLAKE2b-512(key = rk, "sotto-ratchet-v2/root" ‖ dh_out), split in two,
// and the next header key BLAKE2b-256(key = rk, "sotto-ratchet-v2/root-header-key" ‖ dh_out).
struct SpecRoot {
  Key rk, ck, nhk;
};
SpecRoot SpecKdfRk(const Key& rk, const Key& dh_out) {
  std::string m = "sotto-ratchet-v2/root";
  m.append(dh_out.begin(), dh_out.end());
  std::array<std::uint8_t, 64> o{};
  crypto_generichash(o.data(), o.size(), reinterpret_cast<const unsigned char*>(m.data()), m.size(),
                     rk.data(), rk.size());
  SpecRoot out{};
  std::copy_n(o.begin(), 32, out.rk.begin());
  std::copy_n(o.begin() + 32, 32, out.ck.begin());
  std::string mh = "sotto-ratchet-v2/root-header-key";
  mh.append(dh_out.begin(), dh_out.end());
  crypto_generichash(out.nhk.data(), 32, reinterpret_cast<const unsigned char*>(mh.data()),
                     mh.size(), rk.data(), rk.size());
  return out;
}

Key SpecDh(const Key& secret, const PublicKey& pub) {
  Key out{};
  REQUIRE(crypto_scalarmult(out.data(), secret.data(), pub.bytes.data()) == 0);
  return out;
}

Key SecretOf(const KeyPair& kp) {
  Key k{};
  std::copy_n(kp.secret_key.data(), 32, k.begin());
  return k;
}

TEST_CASE("ratchet: the key schedule is the one papers/e2ee-spec.md §3–§4 describes") {
  // Recomputed here from the spec with raw libsodium calls, not with the library's helpers.
  DeterministicRng rng = DeterministicRng::FromByte(0x5C);
  auto ik_a = IdentityKeys::Generate(rng);
  auto ik_b = IdentityKeys::Generate(rng);
  auto spk_b = PreKey::Generate(rng);
  auto start = StartSession(ik_a, ik_b.keys.public_key, spk_b.keys.public_key, rng);
  REQUIRE(start.ok());
  auto agreed_b = AcceptSession(ik_b, spk_b, start->header);
  REQUIRE(agreed_b.ok());

  // §3: SK = BLAKE2b-256("sotto-x3dh-v2/shared-key" ‖ DH1 ‖ DH2 ‖ DH3), from B's side.
  std::string m = "sotto-x3dh-v2/shared-key";
  for (const Key& dh : {SpecDh(SecretOf(spk_b.keys), ik_a.keys.public_key),
                        SpecDh(SecretOf(ik_b.keys), start->header.ephemeral),
                        SpecDh(SecretOf(spk_b.keys), start->header.ephemeral)}) {
    m.append(dh.begin(), dh.end());
  }
  Key sk{};
  crypto_generichash(sk.data(), sk.size(), reinterpret_cast<const unsigned char*>(m.data()),
                     m.size(), nullptr, 0);
  REQUIRE(std::equal(sk.begin(), sk.end(), start->agreed.shared_key.data()));
  const Key hk_a = SpecKdf<32>(sk, "initiator-header-key");
  const Key hk_b = SpecKdf<32>(sk, "responder-header-key");

  // §3: the session header R ‖ AEAD(H(key = DH(e, SPK_B), "sotto-x3dh-v2/slot-key"), 0,
  // EK_A ‖ IK_A, ad = R), opened here by hand with SPK_B and the forward map.
  auto slot = SealSessionHeader(start->header, spk_b.keys.public_key, rng);
  REQUIRE(slot.ok());
  Representative r{};
  std::copy_n(slot->begin(), 32, r.begin());
  const Key slot_dh = SpecDh(SecretOf(spk_b.keys), ElligatorMap(r));
  const std::string label = "sotto-x3dh-v2/slot-key";
  Key slot_key{};
  crypto_generichash(slot_key.data(), 32, reinterpret_cast<const unsigned char*>(label.data()),
                     label.size(), slot_dh.data(), slot_dh.size());
  std::array<std::uint8_t, 64> sealed{};
  const std::array<std::uint8_t, 24> zero_nonce{};
  REQUIRE(crypto_aead_xchacha20poly1305_ietf_decrypt(sealed.data(), nullptr, nullptr,
                                                     slot->data() + 32, 80, r.data(), r.size(),
                                                     zero_nonce.data(), slot_key.data()) == 0);
  CHECK(std::equal(sealed.begin(), sealed.begin() + 32, start->header.ephemeral.bytes.begin()));
  CHECK(std::equal(sealed.begin() + 32, sealed.end(), ik_a.keys.public_key.bytes.begin()));

  // §4 initiator: (RK, CKs, NHKs) = KDF_RK(SK, DH(DHs, SPK_B)); HKs = HK_A; NHKr = HK_B.
  auto alice = RatchetSession::Initiate(start->agreed, spk_b.keys.public_key, rng);
  REQUIRE(alice.ok());
  const Bytes a0 = alice->Serialize();
  CHECK(a0[4] == 1);  // a sending chain, no receiving chain
  Key a_dhs = At(a0, kDhsOffset);
  PublicKey a_dhs_pub;
  crypto_scalarmult_base(a_dhs_pub.bytes.data(), a_dhs.data());
  const SpecRoot a_root = SpecKdfRk(sk, SpecDh(a_dhs, spk_b.keys.public_key));
  CHECK(At(a0, kRkOffset) == a_root.rk);
  CHECK(At(a0, kCksOffset) == a_root.ck);
  CHECK(At(a0, kNhksOffset) == a_root.nhk);
  CHECK(At(a0, kHksOffset) == hk_a);
  CHECK(At(a0, kNhkrOffset) == hk_b);

  // §5: the first message is AEAD(HK_A, HN(body), DHs ‖ PN ‖ N, AD) ‖ body, the body under the
  // keys derived from KDF_CK(CKs) with AD ‖ header as associated data.
  const Bytes first = Enc(*alice, "first");
  const Bytes ad(a0.begin() + kAdOffset, a0.begin() + kAdOffset + 64);
  const auto header = OpenHeaderWith(hk_a, ad, first);
  REQUIRE(header.has_value());
  CHECK(std::equal(a_dhs_pub.bytes.begin(), a_dhs_pub.bytes.end(), header->begin()));
  CHECK(Bytes(header->begin() + 32, header->end()) == Bytes(8, 0));  // PN = 0, N = 0
  CHECK(OpenWith(hk_a, SpecKdf<32>(a_root.ck, "message"), ad, first) == ToBytes("first"));
  CHECK_FALSE(OpenHeaderWith(hk_b, ad, first).has_value());

  // §4 responder after the first message: (RK1, CKr, NHKr) = KDF_RK(SK, DH(SPK_B, A's ratchet
  // key)), then a fresh DHs and (RK2, CKs, NHKs) = KDF_RK(RK1, DH(DHs, A's ratchet key));
  // HKs = HK_B (the responder's initial NHKs), HKr = HK_A (its initial NHKr).
  DeterministicRng rng_b = DeterministicRng::FromByte(0x5D);
  auto bob = RatchetSession::Respond(*agreed_b, spk_b, rng_b);
  {
    const Bytes b0 = bob.Serialize();
    CHECK(b0[4] == 0);
    CHECK(At(b0, kRkOffset) == sk);
    CHECK(At(b0, kNhksOffset) == hk_b);
    CHECK(At(b0, kNhkrOffset) == hk_a);
  }
  ExpectDecrypts(bob, first, "first");
  const Bytes b1 = bob.Serialize();
  CHECK(b1[4] == 3);
  const SpecRoot recv = SpecKdfRk(sk, SpecDh(SecretOf(spk_b.keys), a_dhs_pub));
  const SpecRoot send = SpecKdfRk(recv.rk, SpecDh(At(b1, kDhsOffset), a_dhs_pub));
  CHECK(At(b1, kCkrOffset) == SpecKdf<32>(recv.ck, "chain"));  // advanced past message 0
  CHECK(At(b1, kRkOffset) == send.rk);
  CHECK(At(b1, kCksOffset) == send.ck);
  CHECK(At(b1, kHksOffset) == hk_b);
  CHECK(At(b1, kHkrOffset) == hk_a);
  CHECK(At(b1, kNhkrOffset) == recv.nhk);
  CHECK(At(b1, kNhksOffset) == send.nhk);
  CHECK(recv.nhk == a_root.nhk);  // Bob's next receiving header key is Alice's next sending one
  // Bob's reply is under HK_B; Alice's answer to it under her NHKs.
  const Bytes reply = Enc(bob, "reply");
  CHECK(OpenHeaderWith(hk_b, ad, reply).has_value());
  ExpectDecrypts(*alice, reply, "reply");
  const Bytes next = Enc(*alice, "next chain");
  CHECK(OpenHeaderWith(a_root.nhk, ad, next).has_value());
  CHECK_FALSE(OpenHeaderWith(hk_a, ad, next).has_value());
  ExpectDecrypts(bob, next, "next chain");
}

TEST_CASE("ratchet: messages round-trip both ways, emoji included; sizes as specified") {
  Conversation c;
  const std::string emoji = "héllo 👋🏽 — ✓ 你好 🏳️‍🌈";
  const Bytes m = Enc(*c.alice, emoji);
  CHECK(m.size() == emoji.size() + kRatchetOverhead);
  ExpectDecrypts(*c.bob, m, emoji);
  Send(*c.bob, *c.alice, "");  // the empty message is a message too
  Send(*c.alice, *c.bob, std::string(5000, 'x'));
}

TEST_CASE("ratchet: the responder cannot send before the first message arrives") {
  Conversation c;
  auto m = c.bob->Encrypt(ToBytes("too early"));
  REQUIRE_FALSE(m.ok());
  CHECK(m.status().message().find("cannot send yet") != std::string::npos);
  Send(*c.alice, *c.bob, "first");
  Send(*c.bob, *c.alice, "now it works");
}

TEST_CASE("ratchet: a long conversation with alternating and bursty senders") {
  Conversation c;
  DeterministicRng pick = DeterministicRng::FromByte(7);
  Send(*c.alice, *c.bob, "hi");
  int sent = 0;
  for (int round = 0; round < 300; ++round) {
    const bool from_alice = UniformBelow(pick, 2) == 0;
    const auto burst = 1 + UniformBelow(pick, round % 10 == 0 ? 40 : 4);
    RatchetSession& from = from_alice ? *c.alice : *c.bob;
    RatchetSession& to = from_alice ? *c.bob : *c.alice;
    for (std::uint64_t i = 0; i < burst; ++i, ++sent) {
      Send(from, to, "message " + std::to_string(sent));
    }
  }
  CHECK(sent > 600);
}

TEST_CASE("ratchet: out-of-order delivery of 50 messages across ratchet steps and header keys") {
  Conversation c;
  std::vector<std::pair<Bytes, std::string>> batch;
  auto send = [&](const std::string& prefix, int count) {
    for (int i = 0; i < count; ++i) {
      const std::string t = prefix + " " + std::to_string(i);
      batch.emplace_back(Enc(*c.alice, t), t);
    }
  };
  // Three sending chains of Alice, each under its own header key: Bob reads one message of a
  // chain and answers, so Alice's next messages start a new chain (PN = 15, then 15).
  send("early", 15);
  ExpectDecrypts(*c.bob, batch[3].first, batch[3].second);
  batch.erase(batch.begin() + 3);
  Send(*c.bob, *c.alice, "got one");
  send("middle", 15);
  ExpectDecrypts(*c.bob, batch[20].first, batch[20].second);
  batch.erase(batch.begin() + 20);
  Send(*c.bob, *c.alice, "got another");
  send("late", 22);
  REQUIRE(batch.size() == 50);
  DeterministicRng shuffle = DeterministicRng::FromByte(0x50);
  Shuffle(batch, shuffle);
  for (const auto& [message, text] : batch) ExpectDecrypts(*c.bob, message, text);
  // Every skipped key was used exactly once and deleted: nothing remains stored.
  CHECK(c.bob->Serialize().size() == kStateFixed + 32);
  Send(*c.bob, *c.alice, "all read");
}

TEST_CASE("ratchet: duplicates and replays are rejected and change nothing") {
  Conversation c;
  const Bytes m0 = Enc(*c.alice, "zero");
  const Bytes m1 = Enc(*c.alice, "one");
  const Bytes m2 = Enc(*c.alice, "two");
  ExpectDecrypts(*c.bob, m2, "two");   // m0, m1 skipped: their keys stored
  ExpectDecrypts(*c.bob, m0, "zero");  // uses (and deletes) a stored key
  for (const Bytes* m : {&m0, &m2}) {
    const Bytes before = c.bob->Serialize();
    auto again = c.bob->Decrypt(*m);
    REQUIRE_FALSE(again.ok());
    CHECK(c.bob->Serialize() == before);
  }
  auto replay = c.bob->Decrypt(m2);
  CHECK(replay.status().message().find("already decrypted") != std::string::npos);
  ExpectDecrypts(*c.bob, m1, "one");
  CHECK_FALSE(c.bob->Decrypt(m1).ok());
  // A replayed message that once caused a DH ratchet step is rejected too.
  const Bytes reply = Enc(*c.bob, "reply");
  ExpectDecrypts(*c.alice, reply, "reply");
  CHECK_FALSE(c.alice->Decrypt(reply).ok());
  Send(*c.alice, *c.bob, "still fine");
}

TEST_CASE("ratchet: any flipped bit in header or body is rejected, state unchanged") {
  Conversation c;
  Send(*c.alice, *c.bob, "setup");
  // One message that triggers a DH ratchet step at the receiver, then one within that chain,
  // then one whose key is stored as skipped (the three ways Decrypt finds a key).
  const Bytes step = Enc(*c.bob, "ratchet step 🔑");
  const Bytes skipped = Enc(*c.bob, "skipped");
  const Bytes chain = Enc(*c.bob, "same chain");
  const std::vector<std::pair<const Bytes*, std::string>> order = {
      {&step, "ratchet step 🔑"}, {&chain, "same chain"}, {&skipped, "skipped"}};
  for (const auto& [original, text] : order) {
    const Bytes before = c.alice->Serialize();
    for (std::size_t bit = 0; bit < original->size() * 8; ++bit) {
      Bytes tampered = *original;
      tampered[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
      INFO("bit " << bit);
      REQUIRE_FALSE(c.alice->Decrypt(tampered).ok());
    }
    CHECK(c.alice->Serialize() == before);
    // Truncated messages too.
    for (std::size_t len = 0; len < original->size(); len += 7) {
      REQUIRE_FALSE(c.alice->Decrypt(ByteSpan(original->data(), len)).ok());
    }
    CHECK(c.alice->Serialize() == before);
    ExpectDecrypts(*c.alice, *original, text);  // the untouched message still works
  }
  Bytes forged = Enc(*c.bob, "genuine header");  // a genuine header over a forged body
  std::fill(forged.begin() + kEncryptedHeaderSize, forged.end(), 0x42);
  auto flipped = c.alice->Decrypt(forged);
  CHECK(flipped.status().message().find("could not be authenticated") != std::string::npos);
}

TEST_CASE("ratchet: too many skipped messages are rejected with a clear error, state unchanged") {
  Conversation c;
  std::vector<Bytes> sent;
  for (std::uint32_t i = 0; i <= kMaxSkip + 1; ++i)
    sent.push_back(Enc(*c.alice, std::to_string(i)));
  const Bytes before = c.bob->Serialize();
  auto far = c.bob->Decrypt(sent.back());  // N = 1001: 1001 keys would be skipped
  REQUIRE_FALSE(far.ok());
  CHECK(far.status().message().find("more than the limit of 1000") != std::string::npos);
  CHECK(c.bob->Serialize() == before);
  // Exactly kMaxSkip skipped is allowed; then the skipped ones still decrypt, in any order.
  ExpectDecrypts(*c.bob, sent[kMaxSkip], std::to_string(kMaxSkip));
  ExpectDecrypts(*c.bob, sent[17], "17");
  ExpectDecrypts(*c.bob, sent[0], "0");
  ExpectDecrypts(*c.bob, sent.back(), std::to_string(kMaxSkip + 1));

  // Within the same chain after progress: again refused, state unchanged.
  std::vector<Bytes> more;
  for (std::uint32_t i = 0; i < kMaxSkip + 5; ++i) more.push_back(Enc(*c.alice, "m"));
  const Bytes before2 = c.bob->Serialize();
  CHECK_FALSE(c.bob->Decrypt(more.back()).ok());
  CHECK(c.bob->Serialize() == before2);
}

TEST_CASE(
    "ratchet: a peer's chain with more than kMaxSkip lost messages does not block the session") {
  Conversation c;
  std::vector<Bytes> lost;
  for (std::uint32_t i = 0; i < kMaxSkip + 2; ++i) lost.push_back(Enc(*c.alice, std::to_string(i)));
  ExpectDecrypts(*c.bob, lost[0], "0");
  Send(*c.bob, *c.alice, "only got one");
  // Alice's new chain says PN = 1002: 1001 unread, of which kMaxSkip keys are kept.
  Send(*c.alice, *c.bob, "new chain");
  CHECK(c.bob->Serialize().size() == kStateFixed + kMaxSkip * 68 + 32);
  ExpectDecrypts(*c.bob, lost[kMaxSkip], std::to_string(kMaxSkip));
  CHECK_FALSE(c.bob->Decrypt(lost[kMaxSkip + 1]).ok());  // beyond the kept keys: given up
  Send(*c.bob, *c.alice, "and on");
}

TEST_CASE("ratchet: at most kMaxSkip skipped keys are stored; the oldest are dropped first") {
  Conversation c;
  std::vector<Bytes> chain1;
  for (std::uint32_t i = 0; i <= kMaxSkip; ++i) chain1.push_back(Enc(*c.alice, "c1"));
  ExpectDecrypts(*c.bob, chain1.back(), "c1");  // 1000 keys stored
  CHECK(c.bob->Serialize().size() == kStateFixed + kMaxSkip * 68 + 32);
  Send(*c.bob, *c.alice, "reply");
  std::vector<Bytes> chain2;
  for (int i = 0; i < 11; ++i) chain2.push_back(Enc(*c.alice, "c2"));
  ExpectDecrypts(*c.bob, chain2.back(), "c2");  // 10 more skipped: 10 oldest evicted
  CHECK(c.bob->Serialize().size() == kStateFixed + kMaxSkip * 68 + 32);
  CHECK_FALSE(c.bob->Decrypt(chain1[9]).ok());
  ExpectDecrypts(*c.bob, chain1[10], "c1");
  ExpectDecrypts(*c.bob, chain2[0], "c2");
}

TEST_CASE("ratchet: at most kMaxSkippedHeaderKeys header keys are kept; the oldest chain goes") {
  Conversation c;
  // Each round Alice starts a new chain of two messages; Bob reads only the second, so one key
  // of each chain is kept, under that chain's header key.
  std::vector<Bytes> lost;
  const std::size_t rounds = kMaxSkippedHeaderKeys + 2;
  for (std::size_t i = 0; i < rounds; ++i) {
    lost.push_back(Enc(*c.alice, "lost " + std::to_string(i)));
    ExpectDecrypts(*c.bob, Enc(*c.alice, "read"), "read");
    Send(*c.bob, *c.alice, "next round");
    const std::size_t kept = std::min(i + 1, kMaxSkippedHeaderKeys);
    CHECK(c.bob->Serialize().size() == kStateFixed + kept * 68 + 32);
  }
  // The two oldest chains were evicted entirely; the others still open.
  const Bytes before = c.bob->Serialize();
  for (std::size_t i = 0; i < 2; ++i) {
    auto r = c.bob->Decrypt(lost[i]);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().message().find("not for this session") != std::string::npos);
  }
  CHECK(c.bob->Serialize() == before);
  for (std::size_t i = rounds; i-- > 2;)
    ExpectDecrypts(*c.bob, lost[i], "lost " + std::to_string(i));
  CHECK(c.bob->Serialize().size() == kStateFixed + 32);
}

TEST_CASE("ratchet: forward secrecy: used and superseded keys are gone from the state") {
  Conversation c;
  Send(*c.alice, *c.bob, "a");
  Send(*c.bob, *c.alice, "b");
  // Capture Alice's sending chain key and root key, and derive the next message key per spec.
  const Bytes alice_before = c.alice->Serialize();
  const Bytes ad(alice_before.begin() + kAdOffset, alice_before.begin() + kAdOffset + 64);
  const Key ck0 = At(alice_before, kCksOffset);
  const Key rk0 = At(alice_before, kRkOffset);
  const Key hk0 = At(alice_before, kHksOffset);
  const Key mk0 = SpecKdf<32>(ck0, "message");
  const Key ck1 = SpecKdf<32>(ck0, "chain");
  const Key mk1 = SpecKdf<32>(ck1, "message");
  REQUIRE(Contains(alice_before, ck0));  // the search does find what is there

  const Bytes m0 = Enc(*c.alice, "secret zero");
  const Bytes m1 = Enc(*c.alice, "secret one");
  // The captured keys are the real ones: they open the messages.
  REQUIRE(OpenWith(hk0, mk0, ad, m0) == ToBytes("secret zero"));
  REQUIRE(OpenWith(hk0, mk1, ad, m1) == ToBytes("secret one"));
  const Bytes bob_mid = c.bob->Serialize();
  const Key bob_ckr = At(bob_mid, kCkrOffset);

  ExpectDecrypts(*c.bob, m1, "secret one");  // m0's key is now stored as skipped
  CHECK(Contains(c.bob->Serialize(), mk0));
  CHECK_FALSE(Contains(c.bob->Serialize(), mk1));  // used: deleted at once
  ExpectDecrypts(*c.bob, m0, "secret zero");
  CHECK_FALSE(Contains(c.bob->Serialize(), mk0));  // skipped key deleted once used

  // A couple of DH ratchet steps.
  Send(*c.bob, *c.alice, "c");
  Send(*c.alice, *c.bob, "d");
  Send(*c.bob, *c.alice, "e");
  for (const Bytes& blob : {c.alice->Serialize(), c.bob->Serialize()}) {
    for (const Key& k : {ck0, ck1, mk0, mk1, rk0, hk0, bob_ckr, SpecKdf<32>(ck1, "chain")}) {
      CHECK_FALSE(Contains(blob, k));
    }
  }
}

TEST_CASE("ratchet: post-compromise: a copied state cannot read messages after DH ratchet steps") {
  Conversation c;
  Send(*c.alice, *c.bob, "before");
  Send(*c.bob, *c.alice, "before too");
  // The attacker copies Bob's whole state (but not his future randomness).
  DeterministicRng attacker_rng = DeterministicRng::FromByte(0xEE);
  auto eve = RatchetSession::Deserialize(c.bob->Serialize(), attacker_rng);
  REQUIRE(eve.ok());
  // Right after the compromise the copy reads Alice's messages (the test can fail).
  const Bytes exposed = Enc(*c.alice, "exposed");
  ExpectDecrypts(*eve, exposed, "exposed");
  ExpectDecrypts(*c.bob, exposed, "exposed");
  // Bob answers with a fresh ratchet key, Alice answers that: the session heals.
  Send(*c.bob, *c.alice, "healing");
  const Bytes healed = Enc(*c.alice, "healed");
  ExpectDecrypts(*c.bob, healed, "healed");
  auto attempt = eve->Decrypt(healed);
  REQUIRE_FALSE(attempt.ok());
  CHECK(attempt.status().message().find("could not be authenticated") != std::string::npos);
  for (int i = 0; i < 3; ++i) {
    const Bytes later = Enc(*c.alice, "later");
    CHECK_FALSE(eve->Decrypt(later).ok());
    ExpectDecrypts(*c.bob, later, "later");
    const Bytes from_bob = Enc(*c.bob, "from bob");
    CHECK_FALSE(eve->Decrypt(from_bob).ok());
    ExpectDecrypts(*c.alice, from_bob, "from bob");
  }
}

TEST_CASE("ratchet: serialization round-trips mid-conversation") {
  Conversation c;
  Send(*c.alice, *c.bob, "one");
  Send(*c.bob, *c.alice, "two");
  const Bytes pending0 = Enc(*c.alice, "pending 0");
  const Bytes pending1 = Enc(*c.alice, "pending 1");
  ExpectDecrypts(*c.bob, pending1, "pending 1");  // a skipped key is stored

  const Bytes alice_blob = c.alice->Serialize();
  const Bytes bob_blob = c.bob->Serialize();
  auto alice2 = RatchetSession::Deserialize(alice_blob, c.rng_a);
  auto bob2 = RatchetSession::Deserialize(bob_blob, c.rng_b);
  REQUIRE(alice2.ok());
  REQUIRE(bob2.ok());
  CHECK(alice2->Serialize() == alice_blob);
  CHECK(bob2->Serialize() == bob_blob);
  c.alice.reset();
  c.bob.reset();
  ExpectDecrypts(*bob2, pending0, "pending 0");
  Send(*bob2, *alice2, "three");
  Send(*alice2, *bob2, "four");
  Send(*alice2, *bob2, "five");
  // A fresh responder (never received) round-trips too.
  Conversation fresh;
  auto bob3 = RatchetSession::Deserialize(fresh.bob->Serialize(), fresh.rng_b);
  REQUIRE(bob3.ok());
  Send(*fresh.alice, *bob3, "hello");
  Send(*bob3, *fresh.alice, "hi");
}

TEST_CASE("ratchet: corrupt, truncated or inconsistent state blobs are rejected") {
  Conversation c;
  Send(*c.alice, *c.bob, "x");
  const Bytes m = Enc(*c.alice, "y");
  (void)Enc(*c.alice, "z");
  ExpectDecrypts(*c.bob, Enc(*c.alice, "w"), "w");  // two skipped keys stored
  const Bytes blob = c.bob->Serialize();
  for (std::size_t len = 0; len < blob.size(); ++len) {
    auto r = RatchetSession::Deserialize(ByteSpan(blob.data(), len), c.rng_b);
    REQUIRE_FALSE(r.ok());
    REQUIRE(r.status().code() == Status::Code::kCorruption);
  }
  for (std::size_t i = 0; i < blob.size(); ++i) {
    Bytes bad = blob;
    bad[i] ^= 0x01;
    REQUIRE_FALSE(RatchetSession::Deserialize(bad, c.rng_b).ok());
  }
  Bytes longer = blob;
  longer.push_back(0);
  CHECK_FALSE(RatchetSession::Deserialize(longer, c.rng_b).ok());
  CHECK_FALSE(RatchetSession::Deserialize(Bytes(5000, 0xFF), c.rng_b).ok());

  // Well-formed checksum over inconsistent contents: still refused.
  auto reseal = [](const Bytes& b) {
    Bytes out(b.begin(), b.end() - 32);
    std::array<std::uint8_t, 32> sum{};
    crypto_generichash(sum.data(), sum.size(), out.data(), out.size(), nullptr, 0);
    out.insert(out.end(), sum.begin(), sum.end());
    return out;
  };
  REQUIRE(RatchetSession::Deserialize(reseal(blob), c.rng_b).ok());
  Bytes flags = blob;
  flags[4] = 0x80;
  CHECK_FALSE(RatchetSession::Deserialize(reseal(flags), c.rng_b).ok());
  flags[4] = 0x02;  // a receiving chain without a sending chain
  CHECK_FALSE(RatchetSession::Deserialize(reseal(flags), c.rng_b).ok());
  Bytes version = blob;
  version[3] = 3;
  auto newer = RatchetSession::Deserialize(reseal(version), c.rng_b);
  CHECK(newer.status().code() == Status::Code::kCorruption);
  CHECK(newer.status().message().find("unknown format version 3") != std::string::npos);
  Bytes count = blob;
  count[kStateFixed - 1] = 0x03;  // claims 3 skipped keys, holds 2
  CHECK_FALSE(RatchetSession::Deserialize(reseal(count), c.rng_b).ok());
  Bytes huge = blob;
  huge[kStateFixed - 4] = 0xFF;
  CHECK_FALSE(RatchetSession::Deserialize(reseal(huge), c.rng_b).ok());

  // Skipped keys under more than kMaxSkippedHeaderKeys header keys: refused.
  {
    Conversation d;
    Send(*d.alice, *d.bob, "x");
    std::vector<Bytes> ahead;
    for (std::size_t i = 0; i <= kMaxSkippedHeaderKeys + 1; ++i)
      ahead.push_back(Enc(*d.alice, "a"));
    ExpectDecrypts(*d.bob, ahead.back(), "a");  // 17 keys under one header key
    Bytes edited = d.bob->Serialize();
    REQUIRE(edited.size() == kStateFixed + (kMaxSkippedHeaderKeys + 1) * 68 + 32);
    REQUIRE(RatchetSession::Deserialize(reseal(edited), d.rng_b).ok());
    for (std::size_t i = 0; i <= kMaxSkippedHeaderKeys; ++i) {
      edited[kStateFixed + i * 68] = static_cast<std::uint8_t>(i);  // 17 "different" header keys
    }
    auto r = RatchetSession::Deserialize(reseal(edited), d.rng_b);
    CHECK(r.status().code() == Status::Code::kCorruption);
    edited[kStateFixed + kMaxSkippedHeaderKeys * 68] = 0;  // 16 again
    CHECK(RatchetSession::Deserialize(reseal(edited), d.rng_b).ok());
  }

  auto good = RatchetSession::Deserialize(blob, c.rng_b);
  REQUIRE(good.ok());
  ExpectDecrypts(*good, m, "y");
}

TEST_CASE("ratchet: a state from an older Sotto version gets its own status, not 'corrupt'") {
  // A version-1 state: magic "SRS" 0x01 (its layout does not matter; 277 bytes is the smallest).
  DeterministicRng rng = DeterministicRng::FromByte(0x11);
  Bytes v1(277);
  rng.Fill(v1);
  v1[0] = 'S';
  v1[1] = 'R';
  v1[2] = 'S';
  v1[3] = 1;
  for (std::size_t len : {std::size_t{4}, std::size_t{100}, v1.size()}) {
    auto r = RatchetSession::Deserialize(ByteSpan(v1).first(len), rng);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Status::Code::kNotFound);
    CHECK(r.status().message() ==
          "session state was made by an older Sotto version (format 1); the conversation will "
          "start a new session");
  }
}

}  // namespace
}  // namespace sotto::client
