// Generates the end-to-end encryption known-answer vectors, tests/vectors/e2ee.json
// (papers/e2ee-spec.md version 2, §12).
//
//   cmake --build build --target sotto-gen-e2ee-vectors
//   build/tests/sotto-gen-e2ee-vectors > tests/vectors/e2ee.json
//
// Deterministic: identity keys, pre-keys and ephemerals come from DeterministicRng seeded with
// the session's seed byte, each party's fresh ratchet keys from its own DeterministicRng, and a
// conversation's session headers and random slots from a third; every random draw is written
// out explicitly, so that another implementation can reproduce every byte from the JSON alone.
// The messages, slots and states are what client_lib produces; the intermediates (DH outputs,
// slot keys, header keys, message keys, header nonces) are computed here from the spec with raw
// libsodium calls and checked against client_lib's output before they are written; the
// Elligator forward map is checked against libsodium's crypto_core_ed25519_from_uniform. Run it
// again only when the format changes on purpose.
#include <sodium.h>

#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "sotto/client_lib/elligator.h"
#include "sotto/client_lib/envelope.h"
#include "sotto/client_lib/peer_sessions.h"
#include "sotto/client_lib/ratchet.h"
#include "sotto/client_lib/x3dh.h"
#include "sotto/core/sodium.h"

namespace sc = sotto::client;
using nlohmann::json;
using sotto::Bytes;
using sotto::ByteSpan;
using sotto::ToHex;

namespace {

[[noreturn]] void Die(const std::string& what) {
  std::cerr << "generator bug: " << what << "\n";
  std::exit(1);
}

template <class T>
T Must(sotto::Result<T> r, const std::string& what) {
  if (!r.ok()) Die(what + ": " + r.status().ToString());
  return std::move(r).value();
}

// Hands out bytes from an inner Rng and remembers them, so the vectors can list every input.
class RecordingRng final : public sotto::Rng {
 public:
  explicit RecordingRng(std::uint8_t seed) : inner_(sotto::DeterministicRng::FromByte(seed)) {}
  void Fill(std::span<std::uint8_t> out) override {
    inner_.Fill(out);
    draws.emplace_back(out.begin(), out.end());
  }
  std::vector<Bytes> draws;

 private:
  sotto::DeterministicRng inner_;
};

ByteSpan Text(const std::string& s) {
  return ByteSpan(reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
}

Bytes Concat(ByteSpan a, ByteSpan b) {
  Bytes out(a.begin(), a.end());
  out.insert(out.end(), b.begin(), b.end());
  return out;
}

// §2: H(key, m, len), keyed BLAKE2b (unkeyed for an empty key).
Bytes H(ByteSpan key, ByteSpan m, std::size_t len) {
  Bytes out(len);
  if (crypto_generichash(out.data(), len, m.data(), m.size(), key.empty() ? nullptr : key.data(),
                         key.size()) != 0) {
    Die("crypto_generichash");
  }
  return out;
}

// §2: KDF(key, label, "", len).
Bytes Kdf(ByteSpan key, const std::string& label, std::size_t len) {
  return H(key, Text("sotto-ratchet-v2/" + label), len);
}

// §4: HN(body).
Bytes HeaderNonce(ByteSpan body) {
  return H({}, Concat(Text("sotto-ratchet-v2/header-nonce"), body), 24);
}

Bytes Dh(ByteSpan secret, ByteSpan pub) {
  Bytes out(32);
  if (crypto_scalarmult(out.data(), secret.data(), pub.data()) != 0) Die("low-order key");
  return out;
}

Bytes BasePublic(ByteSpan secret) {
  Bytes out(32);
  crypto_scalarmult_base(out.data(), secret.data());
  return out;
}

Bytes AeadEncrypt(ByteSpan key, ByteSpan nonce, ByteSpan plaintext, ByteSpan ad) {
  Bytes out(plaintext.size() + 16);
  crypto_aead_xchacha20poly1305_ietf_encrypt(out.data(), nullptr, plaintext.data(),
                                             plaintext.size(), ad.data(), ad.size(), nullptr,
                                             nonce.data(), key.data());
  return out;
}

std::optional<Bytes> AeadDecrypt(ByteSpan key, ByteSpan nonce, ByteSpan ciphertext, ByteSpan ad) {
  if (ciphertext.size() < 16) return std::nullopt;
  Bytes out(ciphertext.size() - 16);
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(out.data(), nullptr, nullptr, ciphertext.data(),
                                                 ciphertext.size(), ad.data(), ad.size(),
                                                 nonce.data(), key.data()) != 0) {
    return std::nullopt;
  }
  return out;
}

Bytes Of(const sotto::PublicKey& k) { return Bytes(k.bytes.begin(), k.bytes.end()); }
Bytes Of(const sotto::SecretKey& k) { return Bytes(k.Bytes().begin(), k.Bytes().end()); }
template <std::size_t N>
Bytes Of(const std::array<std::uint8_t, N>& a) {
  return Bytes(a.begin(), a.end());
}
sotto::PublicKey KeyOf(ByteSpan b) {
  if (b.size() != 32) Die("a key that is not 32 bytes");
  sotto::PublicKey k;
  std::copy_n(b.begin(), 32, k.bytes.begin());
  return k;
}

std::uint32_t Be32(ByteSpan b, std::size_t at) {
  return (std::uint32_t{b[at]} << 24) | (std::uint32_t{b[at + 1]} << 16) |
         (std::uint32_t{b[at + 2]} << 8) | std::uint32_t{b[at + 3]};
}

json HexList(const std::vector<Bytes>& list) {
  json out = json::array();
  for (const auto& b : list) out.push_back(ToHex(b));
  return out;
}

// State offsets (§6).
constexpr std::size_t kAd = 5, kCks = 133, kHks = 197, kNhkr = 293;

// ---------------------------------------------------------------- §3a Elligator

// [8] of the Edwards point (y = (u-1)/(u+1), sign) with libsodium, as from_uniform computes it.
Bytes EdwardsTimes8(const sotto::PublicKey& u, bool sign) {
  auto p = sc::EdwardsY(u);
  if (sign) p[31] |= 0x80;
  for (int i = 0; i < 3; ++i) {
    std::array<std::uint8_t, 32> twice{};
    if (crypto_core_ed25519_add(twice.data(), p.data(), p.data()) != 0) Die("Edwards add");
    p = twice;
  }
  return Of(p);
}

// The scalar x of §3a step 2, computed here with plain integer arithmetic.
Bytes HiddenScalar(ByteSpan s) {
  static const Bytes kL =
      sotto::FromHex("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010").value();
  Bytes k(s.begin(), s.begin() + 32);
  k[0] &= 0xf8;
  k[31] = static_cast<std::uint8_t>((k[31] & 0x7f) | 0x40);
  const unsigned c = (5u * (s[0] & 7u)) % 8u;
  Bytes x(32);
  unsigned carry = 0;
  for (std::size_t i = 0; i < 32; ++i) {
    const unsigned sum = k[i] + kL[i] * c + carry;
    x[i] = static_cast<std::uint8_t>(sum);
    carry = sum >> 8;
  }
  if (carry != 0) Die("hidden scalar overflow");
  return x;
}

json ElligatorVectors() {
  json forward = json::array();
  auto add_forward = [&](const std::string& name, const Bytes& r) {
    std::array<std::uint8_t, 32> in{};
    std::copy(r.begin(), r.end(), in.begin());
    const sotto::PublicKey u = sc::ElligatorMap(in);
    // libsodium reads the low 255 bits: compare on the input with bit 254 cleared.
    Bytes sodium_in(in.begin(), in.end());
    sodium_in[31] &= 0x3f;
    Bytes expected(32);
    crypto_core_ed25519_from_uniform(expected.data(), sodium_in.data());
    if (EdwardsTimes8(u, false) != expected) Die("forward map differs from libsodium: " + name);
    forward.push_back({{"name", name}, {"representative", ToHex(r)}, {"u", ToHex(Of(u))}});
  };
  add_forward("zero", Bytes(32, 0));
  add_forward("all-ones (top bits set, r = 2^254 - 1 > (p-1)/2)", Bytes(32, 0xff));
  add_forward(
      "r = (p+1)/2, the smallest negative value",
      sotto::FromHex("f7ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff3f").value());
  {
    sotto::DeterministicRng rng = sotto::DeterministicRng::FromByte(0x50);
    for (int i = 0; i < 6; ++i) {
      Bytes r(32);
      rng.Fill(r);
      if (i < 2) r[31] &= 0x3f;
      add_forward("random " + std::to_string(i) + " (DeterministicRng(0x50))", r);
    }
  }

  json inverse = json::array();
  auto add_inverse = [&](const std::string& name, const Bytes& u, int branch) {
    const auto r = sc::ElligatorInverse(KeyOf(u), branch);
    if (r && sc::ElligatorMap(*r) != KeyOf(u)) Die("inverse does not invert: " + name);
    inverse.push_back({{"name", name},
                       {"u", ToHex(u)},
                       {"branch", branch},
                       {"representative", r ? json(ToHex(Of(*r))) : json(nullptr)}});
  };
  add_inverse("u = 0", Bytes(32, 0), 0);
  add_inverse(
      "u = -A",
      sotto::FromHex("e792f8ffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f").value(),
      1);
  {
    sotto::DeterministicRng rng = sotto::DeterministicRng::FromByte(0x51);
    bool none = false;
    int both = 0;
    for (int i = 0; i < 64 && (!none || both < 3); ++i) {
      Bytes s(32);
      rng.Fill(s);
      const Bytes u = BasePublic(s);
      const bool has = sc::ElligatorInverse(KeyOf(u), 0).has_value();
      const std::string from =
          " (public key of DeterministicRng(0x51) draw " + std::to_string(i) + ")";
      if (!has && !none) {
        none = true;
        add_inverse("no representative" + from, u, 0);
        add_inverse("no representative" + from, u, 1);
      } else if (has && both < 3) {
        ++both;
        add_inverse("branch 0" + from, u, 0);
        add_inverse("branch 1" + from, u, 1);
      }
    }
  }

  json hidden = json::array();
  bool seen_branch[2] = {false, false}, seen_top[4] = {false, false, false, false};
  bool seen_torsion0 = false, seen_rejected = false;
  for (int seed = 0x60; seed < 0x100; ++seed) {
    RecordingRng rng(static_cast<std::uint8_t>(seed));
    const sc::HiddenKeyPair kp = sc::GenerateHiddenKeyPair(rng);
    const Bytes& accepted = rng.draws.back();
    for (const auto& d : rng.draws) {
      if (d.size() != 33) Die("hidden key draw of the wrong size");
    }
    const Bytes s(accepted.begin(), accepted.begin() + 32);
    const std::uint8_t tweak = accepted[32];
    const int branch = tweak & 1, top = tweak >> 6, torsion = s[0] & 7;
    const bool rejected = rng.draws.size() > 1;
    const bool novel = !seen_branch[branch] || !seen_top[top] || (torsion == 0 && !seen_torsion0) ||
                       (rejected && !seen_rejected);
    if (!novel) continue;
    seen_branch[branch] = seen_top[top] = true;
    seen_torsion0 = seen_torsion0 || torsion == 0;
    seen_rejected = seen_rejected || rejected;
    if (Of(kp.secret) != s) Die("hidden secret");
    if (sc::ElligatorMap(kp.representative) != kp.hidden_public) Die("hidden map");
    if ((kp.representative[31] & 0xc0) != (tweak & 0xc0)) Die("hidden top bits");
    auto r = sc::ElligatorInverse(kp.hidden_public, branch);
    if (!r) Die("hidden inverse");
    (*r)[31] = static_cast<std::uint8_t>((*r)[31] | (tweak & 0xc0));
    if (*r != kp.representative) Die("hidden representative");
    sotto::DeterministicRng peer_rng =
        sotto::DeterministicRng::FromByte(static_cast<std::uint8_t>(seed ^ 0x80));
    Bytes peer(32);
    peer_rng.Fill(peer);
    const Bytes dh = Dh(s, BasePublic(peer));
    if (Dh(peer, Of(kp.hidden_public)) != dh) Die("hidden DH");
    hidden.push_back({{"name", "DeterministicRng(" + std::to_string(seed) + ")"},
                      {"draws", HexList(rng.draws)},
                      {"secret", ToHex(s)},
                      {"tweak", tweak},
                      {"torsion", torsion},
                      {"scalar", ToHex(HiddenScalar(s))},
                      {"clean_public", ToHex(BasePublic(s))},
                      {"hidden_public", ToHex(Of(kp.hidden_public))},
                      {"branch", branch},
                      {"representative", ToHex(Of(kp.representative))},
                      {"peer_secret", ToHex(peer)},
                      {"dh", ToHex(dh)}});
    if (seen_branch[0] && seen_branch[1] && seen_top[0] && seen_top[1] && seen_top[2] &&
        seen_top[3] && seen_torsion0 && seen_rejected) {
      break;
    }
  }
  if (!(seen_torsion0 && seen_rejected)) Die("hidden key cases incomplete");
  return {{"forward", forward}, {"inverse", inverse}, {"hidden_keys", hidden}};
}

// ---------------------------------------------------------------- §3 sessions

struct Session {
  std::string name;
  sc::IdentityKeys alice;
  sc::IdentityKeys bob;
  sc::PreKey bob_prekey;
  sc::InitiatorStart start;
  json vector;
};

// IK_A, IK_B, SPK_B, then EK_A, all drawn from DeterministicRng(seed).
Session MakeSession(const std::string& name, std::uint8_t seed) {
  RecordingRng rng(seed);
  auto alice = sc::IdentityKeys::Generate(rng);
  auto bob = sc::IdentityKeys::Generate(rng);
  auto prekey = sc::PreKey::Generate(rng);
  rng.draws.clear();
  auto start = Must(sc::StartSession(alice, bob.keys.public_key, prekey.keys.public_key, rng),
                    "StartSession");
  if (rng.draws.size() != 1 || rng.draws[0].size() != 32) Die("StartSession draws");
  const Bytes& ek = rng.draws[0];
  const Bytes ek_public = BasePublic(ek);
  if (ek_public != Of(start.header.ephemeral)) Die("EK_A is not the drawn secret's public key");

  const Bytes dh1 = Dh(Of(alice.keys.secret_key), Of(prekey.keys.public_key));
  const Bytes dh2 = Dh(ek, Of(bob.keys.public_key));
  const Bytes dh3 = Dh(ek, Of(prekey.keys.public_key));
  Bytes sk_input = Concat(Text("sotto-x3dh-v2/shared-key"), dh1);
  sk_input = Concat(sk_input, dh2);
  sk_input = Concat(sk_input, dh3);
  const Bytes sk = H({}, sk_input, 32);
  if (sk != Bytes(start.agreed.shared_key.Bytes().begin(), start.agreed.shared_key.Bytes().end()))
    Die("SK differs from §3");

  json v = {{"name", name},
            {"seed_byte", seed},
            {"alice_identity_secret", ToHex(Of(alice.keys.secret_key))},
            {"alice_identity_public", ToHex(Of(alice.keys.public_key))},
            {"bob_identity_secret", ToHex(Of(bob.keys.secret_key))},
            {"bob_identity_public", ToHex(Of(bob.keys.public_key))},
            {"bob_prekey_secret", ToHex(Of(prekey.keys.secret_key))},
            {"bob_prekey_public", ToHex(Of(prekey.keys.public_key))},
            {"ephemeral_secret", ToHex(ek)},
            {"ephemeral_public", ToHex(ek_public)},
            {"dh1", ToHex(dh1)},
            {"dh2", ToHex(dh2)},
            {"dh3", ToHex(dh3)},
            {"shared_key", ToHex(sk)},
            {"associated_data", ToHex(start.agreed.associated_data)},
            {"initiator_header_key", ToHex(Kdf(sk, "initiator-header-key", 32))},
            {"responder_header_key", ToHex(Kdf(sk, "responder-header-key", 32))}};
  return Session{name,        std::move(alice), std::move(bob), std::move(prekey), std::move(start),
                 std::move(v)};
}

// ---------------------------------------------------------------- §7 bodies

sc::MessageId IdOf(std::uint8_t b) {
  sc::MessageId id{};
  for (std::size_t i = 0; i < id.size(); ++i) id[i] = static_cast<std::uint8_t>(b + i);
  return id;
}

json BodyFields(const sc::MessageBody& b) {
  json receipts = json::array();
  for (const auto& r : b.receipts) receipts.push_back(ToHex(r));
  return {{"type", b.type == sc::BodyType::kText ? "text" : "receipt"},
          {"id", ToHex(b.id)},
          {"sent_unix", b.sent_unix},
          {"expires_after_s", b.expires_after_s},
          {"text", ToHex(Text(b.text))},
          {"receipts", receipts}};
}

Bytes Encode(const sc::MessageBody& b) {
  Bytes e = Must(sc::EncodeBody(b), "EncodeBody");
  const auto d = Must(sc::DecodeBody(e), "DecodeBody");
  if (d.text != b.text || d.receipts != b.receipts || d.id != b.id) Die("body round trip");
  return e;
}

sc::MessageBody TextBody(std::uint8_t id, const std::string& text,
                         std::vector<sc::MessageId> receipts = {}) {
  sc::MessageBody b;
  b.type = sc::BodyType::kText;
  b.id = IdOf(id);
  b.sent_unix = 1'700'000'000 + id;
  b.expires_after_s = id % 2 == 0 ? 0 : 86400;
  b.text = text;
  b.receipts = std::move(receipts);
  return b;
}

sc::MessageBody ReceiptBody(std::uint8_t id, std::vector<sc::MessageId> receipts) {
  sc::MessageBody b;
  b.type = sc::BodyType::kReceipt;
  b.id = IdOf(id);
  b.sent_unix = -1;
  b.receipts = std::move(receipts);
  return b;
}

// ---------------------------------------------------------------- §4–§6 conversations

struct Party {
  explicit Party(std::uint8_t seed) : rng(seed) {}
  RecordingRng rng;  // must outlive the session
  std::optional<sc::RatchetSession> session;
};

// Plays a conversation between the session's two users, recording every message, slot, state
// and fresh ratchet key. Alice (the initiator) ratchets with DeterministicRng(seed + 1), Bob with
// DeterministicRng(seed + 2); the slots come from DeterministicRng(seed + 3).
class Conversation {
 public:
  Conversation(std::string name, Session& session, bool envelopes = false)
      : name_(std::move(name)),
        session_(session),
        envelopes_(envelopes),
        alice_(std::make_unique<Party>(Seed(1))),
        bob_(std::make_unique<Party>(Seed(2))),
        slots_(Seed(3)) {
    alice_->session.emplace(
        Must(sc::RatchetSession::Initiate(session.start.agreed, session.bob_prekey.keys.public_key,
                                          alice_->rng),
             "Initiate"));
    alice_initial_ = alice_->session->Serialize();
  }

  void Send(const std::string& who, const std::string& id, const std::string& plaintext) {
    SendBytes(who, id, Bytes(Text(plaintext).begin(), Text(plaintext).end()), json());
  }
  void SendBody(const std::string& who, const std::string& id, const sc::MessageBody& body) {
    SendBytes(who, id, Encode(body), BodyFields(body));
  }

  // `who` receives message `id`; Bob's first message carries a session header (§3).
  void Receive(const std::string& who, const std::string& id) {
    Party& p = PartyOf(who);
    const json& m = Message(id);
    Bytes message = bytes_.at(id);
    if (!p.session) {
      const Bytes first = sotto::FromHex(m.at("first_message").get<std::string>()).value();
      auto header = Must(sc::X3dhHeader::Open(first, session_.bob_prekey), "Open");
      if (header.initiator_identity != session_.alice.keys.public_key) Die("Open: IK_A");
      auto agreed = Must(sc::AcceptSession(session_.bob, session_.bob_prekey, header), "Accept");
      p.session.emplace(sc::RatchetSession::Respond(agreed, session_.bob_prekey, p.rng));
      message.assign(first.begin() + sc::kX3dhHeaderSize, first.end());
    }
    const Bytes plaintext = Must(p.session->Decrypt(message), "Decrypt " + id);
    if (ToHex(plaintext) != m["plaintext"]) Die("plaintext of " + id);
    if (who == "alice") alice_confirmed_ = true;
    Event("decrypt", who, id);
  }

  const Bytes& MessageBytes(const std::string& id) const { return bytes_.at(id); }
  Bytes FirstMessage(const std::string& id) const {
    return sotto::FromHex(Message(id).at("first_message").get<std::string>()).value();
  }
  // The state `who` had after event `index`.
  Bytes StateAfter(std::size_t index) const {
    return sotto::FromHex(events_.at(index)["state_after"].get<std::string>()).value();
  }
  std::size_t EventCount() const { return events_.size(); }
  const Bytes& AliceInitial() const { return alice_initial_; }

  json ToJson() const {
    for (const auto* party : {alice_.get(), bob_.get()}) {
      for (const auto& d : party->rng.draws) {
        if (d.size() != 32) Die("a ratchet draw that is not a key");
      }
    }
    return {{"name", name_},
            {"session", session_.name},
            {"alice_ratchet_seed_byte", Seed(1)},
            {"bob_ratchet_seed_byte", Seed(2)},
            {"slot_seed_byte", Seed(3)},
            {"alice_ratchet_keys", HexList(alice_->rng.draws)},
            {"bob_ratchet_keys", HexList(bob_->rng.draws)},
            {"alice_initial_state", ToHex(alice_initial_)},
            {"messages", messages_},
            {"events", events_}};
  }

 private:
  std::uint8_t Seed(int offset) const {
    return static_cast<std::uint8_t>(session_.vector["seed_byte"].get<int>() + offset);
  }

  void SendBytes(const std::string& who, const std::string& id, const Bytes& plaintext,
                 const json& fields) {
    Party& p = PartyOf(who);
    if (!p.session) Die("sender without a session");
    const Bytes before = p.session->Serialize();
    const ByteSpan ck = ByteSpan(before).subspan(kCks, 32);
    const ByteSpan hk = ByteSpan(before).subspan(kHks, 32);
    const ByteSpan ad = ByteSpan(before).subspan(kAd, 64);
    const Bytes mk = Kdf(ck, "message", 32);
    const Bytes key = Kdf(mk, "aead-key", 32);
    const Bytes nonce = Kdf(mk, "aead-nonce", 24);
    const Bytes message = Must(p.session->Encrypt(plaintext), "Encrypt " + id);
    // The keys derived here from the spec must open client_lib's message: first the header under
    // HKs with HN(body), then the body with AD ‖ header.
    const ByteSpan body = ByteSpan(message).subspan(sc::kEncryptedHeaderSize);
    const Bytes header_nonce = HeaderNonce(body);
    const auto header = AeadDecrypt(hk, header_nonce, ByteSpan(message).first(56), ad);
    if (!header) Die("header encryption differs from §4 for " + id);
    const auto opened = AeadDecrypt(key, nonce, body, Concat(ad, *header));
    if (!opened || *opened != plaintext) Die("message key schedule differs from §4 for " + id);
    json m = {{"id", id},
              {"sender", who},
              {"plaintext", ToHex(plaintext)},
              {"dh", ToHex(ByteSpan(*header).first(32))},
              {"pn", Be32(*header, 32)},
              {"n", Be32(*header, 36)},
              {"header", ToHex(*header)},
              {"header_key", ToHex(hk)},
              {"chain_key", ToHex(ck)},
              {"message_key", ToHex(mk)},
              {"aead_key", ToHex(key)},
              {"aead_nonce", ToHex(nonce)},
              {"body", ToHex(body)},
              {"header_nonce", ToHex(header_nonce)},
              {"encrypted_header", ToHex(ByteSpan(message).first(56))},
              {"message", ToHex(message)}};
    if (!fields.is_null()) m["body_fields"] = fields;
    std::optional<Bytes> slot;
    if (who == "alice" && !alice_confirmed_) {
      m["session_header"] = SessionHeader(slot);
      m["first_message"] = ToHex(Concat(*slot, message));
    } else if (envelopes_) {
      slots_.draws.clear();
      slot.emplace(sc::kSlotSize);
      slots_.Fill(*slot);
      m["random_slot"] = ToHex(*slot);
    }
    if (envelopes_) {
      const Bytes envelope = Concat(*slot, message);
      if (envelope.size() != sc::kSphinxMessageSize) Die("envelope size of " + id);
      m["envelope"] = ToHex(envelope);
    }
    messages_.push_back(m);
    bytes_[id] = message;
    Event("encrypt", who, id);
  }

  // A fresh session header (§3) for Alice's next message, with its intermediates.
  json SessionHeader(std::optional<Bytes>& slot_out) {
    slots_.draws.clear();
    const auto slot = Must(
        sc::SealSessionHeader(session_.start.header, session_.bob_prekey.keys.public_key, slots_),
        "SealSessionHeader");
    const Bytes& accepted = slots_.draws.back();
    const Bytes e(accepted.begin(), accepted.begin() + 32);
    const ByteSpan representative = ByteSpan(slot).first(32);
    std::array<std::uint8_t, 32> r{};
    std::copy(representative.begin(), representative.end(), r.begin());
    const Bytes hidden = Of(sc::ElligatorMap(r));
    const Bytes dh = Dh(e, Of(session_.bob_prekey.keys.public_key));
    if (Dh(Of(session_.bob_prekey.keys.secret_key), hidden) != dh) Die("slot DH");
    const Bytes slot_key = H(dh, Text("sotto-x3dh-v2/slot-key"), 32);
    const ByteSpan sealed = ByteSpan(slot).subspan(32);
    const auto plain = AeadDecrypt(slot_key, Bytes(24, 0), sealed, representative);
    if (!plain ||
        *plain != Concat(Of(session_.start.header.ephemeral), Of(session_.alice.keys.public_key))) {
      Die("session header differs from §3");
    }
    slot_out = Of(slot);
    if (seen_slots_.count(*slot_out) != 0) Die("a session header repeated");
    seen_slots_.insert(*slot_out);
    return {{"draws", HexList(slots_.draws)},
            {"secret", ToHex(e)},
            {"tweak", accepted[32]},
            {"hidden_public", ToHex(hidden)},
            {"representative", ToHex(representative)},
            {"dh", ToHex(dh)},
            {"slot_key", ToHex(slot_key)},
            {"sealed", ToHex(sealed)},
            {"slot", ToHex(slot)}};
  }

  Party& PartyOf(const std::string& who) {
    if (who == "alice") return *alice_;
    if (who == "bob") return *bob_;
    Die("no party " + who);
  }
  const json& Message(const std::string& id) const {
    for (const auto& m : messages_) {
      if (m["id"] == id) return m;
    }
    Die("no message " + id);
  }
  void Event(const std::string& op, const std::string& who, const std::string& id) {
    events_.push_back({{"op", op},
                       {"party", who},
                       {"message", id},
                       {"state_after", ToHex(PartyOf(who).session->Serialize())}});
  }

  std::string name_;
  Session& session_;
  bool envelopes_;
  std::unique_ptr<Party> alice_;
  std::unique_ptr<Party> bob_;
  RecordingRng slots_;
  bool alice_confirmed_ = false;
  std::set<Bytes> seen_slots_;
  Bytes alice_initial_;
  json messages_ = json::array();
  json events_ = json::array();
  std::map<std::string, Bytes> bytes_;
};

// ---------------------------------------------------------------- transitions

// Bob holds skipped keys of kMaxSkippedHeaderKeys chains, and a message of one chain more
// arrives. Returns the transition and, for a negative case, the state after and the lost message
// of the evicted chain.
struct Eviction {
  json transition;
  Bytes state_after;
  Bytes evicted_message;
};
Eviction EvictionTransition(const Session& s) {
  RecordingRng alice_rng(0x70), bob_rng(0x71);
  auto alice =
      Must(sc::RatchetSession::Initiate(s.start.agreed, s.bob_prekey.keys.public_key, alice_rng),
           "Initiate");
  auto bob = sc::RatchetSession::Respond(
      Must(sc::AcceptSession(s.bob, s.bob_prekey, s.start.header), "Accept"), s.bob_prekey,
      bob_rng);
  std::vector<Bytes> lost;
  for (std::size_t round = 0;; ++round) {
    lost.push_back(Must(alice.Encrypt(Text("lost " + std::to_string(round))), "Encrypt"));
    const Bytes read = Must(alice.Encrypt(Text("read " + std::to_string(round))), "Encrypt");
    if (round == sc::kMaxSkippedHeaderKeys) {
      const Bytes before = bob.Serialize();
      bob_rng.draws.clear();
      const Bytes plain = Must(bob.Decrypt(read), "Decrypt");
      const Bytes after = bob.Serialize();
      if (bob_rng.draws.size() != 1) Die("eviction draws");
      if (before.size() != after.size()) Die("eviction did not evict");
      json t = {{"name", "evict-oldest-header-key"},
                {"description",
                 "Bob holds one skipped key in each of 16 chains of Alice's (16 header keys); the "
                 "second message of a 17th chain arrives (its first is set aside, under a 17th "
                 "header key), so the oldest chain's entry is deleted (§4 (b)). Played from "
                 "session basic with Alice's ratchet keys from DeterministicRng(0x70) and Bob's "
                 "from DeterministicRng(0x71)"},
                {"state_before", ToHex(before)},
                {"message", ToHex(read)},
                {"fresh_ratchet_key", ToHex(bob_rng.draws[0])},
                {"plaintext", ToHex(plain)},
                {"state_after", ToHex(after)}};
      return Eviction{t, after, lost[0]};
    }
    Must(bob.Decrypt(read), "Decrypt");
    const Bytes reply = Must(bob.Encrypt(Text("next")), "Encrypt");
    Must(alice.Decrypt(reply), "Decrypt");
  }
}

// ---------------------------------------------------------------- negative cases

// A state blob with its §6 checksum recomputed after an edit.
Bytes Rechecksum(Bytes blob) {
  const Bytes sum = H({}, ByteSpan(blob).first(blob.size() - 32), 32);
  std::copy(sum.begin(), sum.end(), blob.end() - 32);
  return blob;
}

Bytes Flip(Bytes b, std::size_t byte, int bit) {
  b.at(byte) ^= static_cast<std::uint8_t>(1u << bit);
  return b;
}

json RatchetNegative(const std::string& name, const std::string& what, const Bytes& state,
                     const Bytes& message) {
  sotto::DeterministicRng rng = sotto::DeterministicRng::FromByte(0xee);
  auto session = Must(sc::RatchetSession::Deserialize(state, rng), "Deserialize for " + name);
  if (session.Decrypt(message).ok()) Die("negative case " + name + " decrypted");
  if (session.Serialize() != state) Die("negative case " + name + " changed the state");
  return {{"name", name},          {"kind", "ratchet"},         {"description", what},
          {"state", ToHex(state)}, {"message", ToHex(message)}, {"expected", "reject"}};
}

json FirstMessageNegative(const std::string& name, const std::string& what, const Session& s,
                          const Bytes& first, const std::string& expected_stage) {
  std::string stage = "slot";
  auto header = sc::X3dhHeader::Open(first, s.bob_prekey);
  if (header.ok()) {
    stage = "agreement";
    auto agreed = sc::AcceptSession(s.bob, s.bob_prekey, *header);
    if (agreed.ok()) {
      stage = "ratchet";
      sotto::DeterministicRng rng = sotto::DeterministicRng::FromByte(0xee);
      auto bob = sc::RatchetSession::Respond(*agreed, s.bob_prekey, rng);
      if (bob.Decrypt(ByteSpan(first).subspan(sc::kX3dhHeaderSize)).ok()) {
        Die("negative case " + name + " decrypted");
      }
    }
  }
  if (stage != expected_stage) Die("negative case " + name + " rejected at " + stage);
  return {{"name", name},
          {"kind", "first_message"},
          {"description", what},
          {"bob_identity_secret", ToHex(Of(s.bob.keys.secret_key))},
          {"bob_prekey_secret", ToHex(Of(s.bob_prekey.keys.secret_key))},
          {"first_message", ToHex(first)},
          {"expected", "reject"},
          {"rejected_at", stage}};
}

// A first message from s's Alice to s's Bob, but started with another identity or pre-key for
// Bob (drawn, with the ephemeral, Alice's ratchet key and the hidden key, from
// DeterministicRng(seed)).
Bytes FirstMessageWithWrongKey(const Session& s, bool wrong_prekey, std::uint8_t seed) {
  sotto::DeterministicRng rng = sotto::DeterministicRng::FromByte(seed);
  const auto other = sotto::KeyPair::Generate(rng);
  const auto& identity = wrong_prekey ? s.bob.keys.public_key : other.public_key;
  const auto& prekey = wrong_prekey ? other.public_key : s.bob_prekey.keys.public_key;
  auto start = Must(sc::StartSession(s.alice, identity, prekey, rng), "StartSession (wrong key)");
  auto alice = Must(sc::RatchetSession::Initiate(start.agreed, prekey, rng), "Initiate");
  const Bytes message = Must(alice.Encrypt(Text("Hello, Bob?")), "Encrypt");
  const auto slot = Must(sc::SealSessionHeader(start.header, prekey, rng), "SealSessionHeader");
  return Concat(slot, message);
}

// A header correctly encrypted under the receiver's NHKr (from `state`, §6) carrying the
// all-zero ratchet key, over a 40-byte body from DeterministicRng(0x44): it opens as the start
// of a new chain, and the DH with the zero key fails.
Bytes ZeroRatchetKey(const Bytes& state) {
  sotto::DeterministicRng rng = sotto::DeterministicRng::FromByte(0x44);
  Bytes body(40);
  rng.Fill(body);
  const ByteSpan st(state);
  const Bytes header(40, 0);
  const Bytes eh =
      AeadEncrypt(st.subspan(kNhkr, 32), HeaderNonce(body), header, st.subspan(kAd, 64));
  return Concat(eh, body);
}

json CorruptState(const std::string& name, const std::string& what, const Bytes& blob,
                  const std::string& expected = "corrupt") {
  sotto::DeterministicRng rng = sotto::DeterministicRng::FromByte(0xee);
  auto r = sc::RatchetSession::Deserialize(blob, rng);
  const auto code =
      expected == "corrupt" ? sotto::Status::Code::kCorruption : sotto::Status::Code::kNotFound;
  if (r.ok() || r.status().code() != code) Die("corrupt state " + name + " was not refused");
  return {{"name", name}, {"description", what}, {"state", ToHex(blob)}, {"expected", expected}};
}

// Alice's initial state of session s in the version-1 layout (e2ee-spec version 1, §6): magic
// "SRS" 0x01, flags (DHr, CKs), AD, RK, DHs, DHr = SPK_B, CKs, CKr = 0, Ns, Nr, PN, count 0,
// BLAKE2b-256 checksum; the key values are this version's, only the layout matters.
Bytes Version1State(const Bytes& v2_initial, const Session& s) {
  const ByteSpan st(v2_initial);
  Bytes v1 = {'S', 'R', 'S', 1, 0x03};
  v1 = Concat(v1, st.subspan(kAd, 64));
  v1 = Concat(v1, st.subspan(69, 64));  // RK, DHs secret
  v1 = Concat(v1, Of(s.bob_prekey.keys.public_key));
  v1 = Concat(v1, st.subspan(kCks, 32));
  v1 = Concat(v1, Bytes(32 + 16, 0));  // CKr, Ns, Nr, PN, count
  return Concat(v1, H({}, v1, 32));
}

}  // namespace

int main() {
  sotto::InitSodiumOrDie();
  const json elligator = ElligatorVectors();
  Session basic = MakeSession("basic", 0x10);
  Session ooo = MakeSession("out-of-order", 0x20);
  Session env = MakeSession("envelope", 0x30);

  // Two messages each way and one more: three DH ratchet steps.
  Conversation conv(basic.name, basic);
  conv.Send("alice", "A1", "Hi Bob! 👋 This is the first message.");
  conv.Send("alice", "A2", "Are you there?");
  conv.Receive("bob", "A1");
  conv.Receive("bob", "A2");
  conv.Send("bob", "B1", "Hello Alice.");
  conv.Send("bob", "B2", "Yes — here. Привет! مرحبا");
  conv.Receive("alice", "B1");
  conv.Receive("alice", "B2");
  conv.Send("alice", "A3", "Good.");
  conv.Send("alice", "A4", "");
  conv.Receive("bob", "A3");
  conv.Receive("bob", "A4");

  // Out of order: keys set aside from the previous chain (through PN) and within a chain, under
  // two different header keys.
  Conversation late(ooo.name, ooo);
  late.Send("alice", "A1", "one");
  late.Send("alice", "A2", "two (lost for a while)");
  late.Send("alice", "A3", "three (lost for a while)");
  late.Receive("bob", "A1");
  late.Send("bob", "B1", "got one");
  late.Receive("alice", "B1");
  late.Send("alice", "A4", "four: a new chain, PN = 3");
  late.Send("alice", "A5", "five (overtaken)");
  late.Send("alice", "A6", "six");
  late.Receive("bob", "A4");
  late.Receive("bob", "A6");
  const std::size_t with_skipped = late.EventCount() - 1;  // Bob holds A2, A3, A5's keys
  late.Receive("bob", "A3");
  const std::size_t after_late_a3 = late.EventCount() - 1;
  late.Receive("bob", "A5");
  late.Receive("bob", "A2");

  // Whole envelopes: bodies as plaintexts, session headers and random slots.
  Conversation envelope(env.name, env, /*envelopes=*/true);
  envelope.SendBody("alice", "A1", TextBody(0xa1, "Hi Bob, this is Alice."));
  envelope.SendBody("alice", "A2",
                    TextBody(0xa2, "And thanks for yours.", {IdOf(0xb7), IdOf(0xb8)}));
  envelope.Receive("bob", "A2");
  envelope.Receive("bob", "A1");
  envelope.SendBody("bob", "B1", ReceiptBody(0xb1, {IdOf(0xa1), IdOf(0xa2)}));
  envelope.Receive("alice", "B1");
  envelope.SendBody("alice", "A3", TextBody(0xa3, "See you."));
  envelope.Receive("bob", "A3");

  const Eviction eviction = EvictionTransition(basic);

  // Bodies (§7).
  json bodies = json::array();
  auto add_body = [&](const std::string& name, const sc::MessageBody& b) {
    json j = BodyFields(b);
    j["name"] = name;
    j["encoded"] = ToHex(Encode(b));
    bodies.push_back(j);
  };
  std::string longest;
  for (int i = 0; i < 842; ++i) longest += "é";
  longest += "!";
  std::vector<sc::MessageId> eight, sixty_four;
  for (std::uint8_t i = 0; i < 8; ++i) eight.push_back(IdOf(static_cast<std::uint8_t>(0x10 * i)));
  for (std::uint8_t i = 0; i < 64; ++i)
    sixty_four.push_back(IdOf(static_cast<std::uint8_t>(3 * i)));
  add_body("text", TextBody(0x01, "Hello, Bob! 👋"));
  add_body("text-with-receipts", TextBody(0x02, "Got them, thanks.", {IdOf(0x40), IdOf(0x50)}));
  add_body("longest-text-with-8-receipts", TextBody(0x03, longest, eight));
  add_body("receipt", ReceiptBody(0x04, {IdOf(0x60), IdOf(0x70), IdOf(0x80)}));
  add_body("receipt-64-ids", ReceiptBody(0x05, sixty_four));
  json bad_bodies = json::array();
  auto add_bad = [&](const std::string& name, const std::string& what, const Bytes& encoded) {
    if (sc::DecodeBody(encoded).ok()) Die("bad body " + name + " decoded");
    bad_bodies.push_back({{"name", name}, {"description", what}, {"encoded", ToHex(encoded)}});
  };
  {
    const Bytes text = Encode(TextBody(0x02, "Got them, thanks.", {IdOf(0x40), IdOf(0x50)}));
    Bytes b = text;
    b[0] = 1;
    add_bad("version-1", "text-with-receipts with version 1", b);
    b = text;
    b[30] = 9;
    add_bad("nine-receipts-in-text", "text-with-receipts with R = 9", b);
    b = text;
    b[31] = 0;
    b[32] = 0;
    add_bad("empty-text", "text-with-receipts with L = 0", b);
    b = text;
    b[31] = 0x06;
    b[32] = 0x96;
    add_bad("text-too-long", "text-with-receipts with L = 1686", b);
    b = text;
    b.back() = 1;
    add_bad("non-zero-padding", "text-with-receipts with its last byte 1", b);
    b = Encode(ReceiptBody(0x04, {IdOf(0x60), IdOf(0x70), IdOf(0x80)}));
    b[32] = 1;
    add_bad("receipt-with-text", "receipt with L = 1", b);
  }

  // Negative cases. Events of the basic conversation: #2 Bob has read A1, #3 also A2,
  // #7 Alice has read B1 and B2, #11 Bob has read A3 and A4.
  const Bytes bob_after_a1 = conv.StateAfter(2);
  const Bytes a2 = conv.MessageBytes("A2");
  json negative = json::array();
  negative.push_back(RatchetNegative("flipped-encrypted-header-bit",
                                     "basic A2 with bit 0 of byte 3 (the encrypted header) "
                                     "flipped, to Bob after A1: no header key opens it",
                                     bob_after_a1, Flip(a2, 3, 0)));
  negative.push_back(RatchetNegative("flipped-header-tag-bit",
                                     "basic A2 with bit 2 of byte 45 (the header tag) flipped",
                                     bob_after_a1, Flip(a2, 45, 2)));
  negative.push_back(RatchetNegative("flipped-body-bit",
                                     "basic A2 with bit 4 of byte 60 (the body) flipped: the "
                                     "header nonce changes, so the header no longer opens",
                                     bob_after_a1, Flip(a2, 60, 4)));
  negative.push_back(RatchetNegative("flipped-body-tag-bit",
                                     "basic A2 with the body tag's last bit flipped", bob_after_a1,
                                     Flip(a2, a2.size() - 1, 7)));
  {
    Bytes wrong_ad = bob_after_a1;
    sotto::DeterministicRng rng = sotto::DeterministicRng::FromByte(0x40);
    const auto carol = sotto::KeyPair::Generate(rng);
    std::copy(carol.public_key.bytes.begin(), carol.public_key.bytes.end(), wrong_ad.begin() + kAd);
    negative.push_back(RatchetNegative(
        "wrong-associated-data",
        "basic A2 to Bob's state after A1 with AD's first half (IK_A) replaced by another key "
        "(the public key of DeterministicRng(0x40)'s first 32 bytes), checksum recomputed",
        Rechecksum(wrong_ad), a2));
  }
  negative.push_back(RatchetNegative("truncated",
                                     "basic A2 cut to 71 bytes, one less than the overhead",
                                     bob_after_a1, Bytes(a2.begin(), a2.begin() + 71)));
  negative.push_back(RatchetNegative(
      "low-order-ratchet-key",
      "to Bob after A1: a header (all-zero ratchet key, PN = 0, N = 0) correctly encrypted under "
      "his NHKr with HN of a 40-byte body (DeterministicRng(0x44)): a new chain whose DH fails",
      bob_after_a1, ZeroRatchetKey(bob_after_a1)));
  negative.push_back(RatchetNegative("replayed-message", "basic A1 again, to Bob after A1 and A2",
                                     conv.StateAfter(3), conv.MessageBytes("A1")));
  negative.push_back(RatchetNegative("replayed-message-after-ratchet-step",
                                     "basic B1 again, to Alice after B1 and B2", conv.StateAfter(7),
                                     conv.MessageBytes("B1")));
  negative.push_back(RatchetNegative("replayed-skipped-key",
                                     "out-of-order A3 again, to Bob after he read it late with "
                                     "a skipped key",
                                     late.StateAfter(after_late_a3), late.MessageBytes("A3")));
  negative.push_back(RatchetNegative(
      "replayed-under-old-header-key",
      "out-of-order A1 again, to Bob after A4, A6 and A3: its header opens under HK_A, still held "
      "for A2's skipped key, but no key is kept for N = 0 (§4 step 4)",
      late.StateAfter(after_late_a3), late.MessageBytes("A1")));
  negative.push_back(RatchetNegative("stale-header-key",
                                     "basic A1 again, to Bob after A3 and A4: HK_A is no longer "
                                     "held at all",
                                     conv.StateAfter(11), conv.MessageBytes("A1")));
  negative.push_back(RatchetNegative(
      "evicted-chain",
      "to Bob's state after evict-oldest-header-key: the lost message of the evicted chain",
      eviction.state_after, eviction.evicted_message));

  const Bytes first = conv.FirstMessage("A1");
  negative.push_back(FirstMessageNegative(
      "sealed-to-other-prekey",
      "Alice started with another pre-key for Bob (the public key of DeterministicRng(0x41)'s "
      "first 32 bytes; EK_A, her ratchet key and the hidden key drawn next from it): Bob cannot "
      "open the session header",
      basic, FirstMessageWithWrongKey(basic, true, 0x41), "slot"));
  negative.push_back(FirstMessageNegative("flipped-representative-bit",
                                          "basic A1's first message, bit 0 of byte 5 (the "
                                          "representative) flipped",
                                          basic, Flip(first, 5, 0), "slot"));
  negative.push_back(FirstMessageNegative(
      "flipped-representative-top-bit",
      "basic A1's first message, bit 7 of byte 31 flipped: ignored by the map, but the "
      "representative is the seal's associated data",
      basic, Flip(first, 31, 7), "slot"));
  negative.push_back(FirstMessageNegative("flipped-sealed-bit",
                                          "basic A1's first message, bit 0 of byte 40 (the "
                                          "sealed EK_A ‖ IK_A) flipped",
                                          basic, Flip(first, 40, 0), "slot"));
  {
    sotto::DeterministicRng rng = sotto::DeterministicRng::FromByte(0x45);
    Bytes slot(sc::kSlotSize);
    rng.Fill(slot);
    negative.push_back(FirstMessageNegative(
        "random-slot",
        "112 bytes of DeterministicRng(0x45) as the slot, then basic A1's ratchet message", basic,
        Concat(slot, conv.MessageBytes("A1")), "slot"));
  }
  negative.push_back(FirstMessageNegative(
      "wrong-responder-identity",
      "Alice started with the right pre-key but another identity key for Bob (the public key of "
      "DeterministicRng(0x42)'s first 32 bytes): the slot opens, SK differs, the ratchet "
      "message fails",
      basic, FirstMessageWithWrongKey(basic, false, 0x42), "ratchet"));
  {
    const sotto::PublicKey low_order = KeyOf(
        sotto::FromHex("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800").value());
    sotto::DeterministicRng rng = sotto::DeterministicRng::FromByte(0x43);
    const auto slot =
        Must(sc::SealSessionHeader(sc::X3dhHeader{low_order, basic.start.header.ephemeral},
                                   basic.bob_prekey.keys.public_key, rng),
             "SealSessionHeader");
    negative.push_back(FirstMessageNegative(
        "low-order-sealed-identity",
        "a session header correctly sealed to Bob's pre-key (hidden key from "
        "DeterministicRng(0x43)), carrying basic's EK_A and a point of order 8 as IK_A, then "
        "basic A1's ratchet message: DH1 is all zeros",
        basic, Concat(slot, conv.MessageBytes("A1")), "agreement"));
  }

  // Stored states (§6) that Deserialize must refuse, from Bob's out-of-order state holding
  // three skipped keys under two header keys (577 bytes).
  const Bytes held = late.StateAfter(with_skipped);
  const Bytes initial = conv.AliceInitial();
  json corrupt = json::array();
  corrupt.push_back(CorruptState("too-short",
                                 "basic Alice's initial state (373 bytes) minus its last byte",
                                 Bytes(initial.begin(), initial.end() - 1)));
  corrupt.push_back(
      CorruptState("truncated", "minus its last byte", Bytes(held.begin(), held.end() - 1)));
  {
    Bytes b = held;
    b[2] = 'T';
    corrupt.push_back(
        CorruptState("bad-magic", "magic SRT 0x02, checksum recomputed", Rechecksum(b)));
    b = held;
    b[3] = 3;
    corrupt.push_back(
        CorruptState("unknown-version", "magic SRS 0x03, checksum recomputed", Rechecksum(b)));
  }
  corrupt.push_back(CorruptState("bad-checksum", "bit 0 of RK's first byte (byte 69) flipped",
                                 Flip(held, 69, 0)));
  corrupt.push_back(CorruptState("unknown-flag", "flag bit 3 set, checksum recomputed",
                                 Rechecksum(Flip(held, 4, 3))));
  corrupt.push_back(CorruptState("receiving-without-sending",
                                 "flag bit 0 (sending chain) cleared, checksum recomputed",
                                 Rechecksum(Flip(held, 4, 0))));
  {
    Bytes b = held;
    b[339] = 0x03;  // count 3 -> 1001 (0x3e9)
    b[340] = 0xe9;
    corrupt.push_back(
        CorruptState("count-above-max-skip", "count 1001, checksum recomputed", Rechecksum(b)));
    b = held;
    b[340] = 2;
    corrupt.push_back(CorruptState("count-length-mismatch",
                                   "count 2 with three entries present, checksum recomputed",
                                   Rechecksum(b)));
  }
  {
    // 17 entries, the first byte of each header key set to its index: 17 header keys.
    Bytes b = eviction.state_after;  // 16 entries under 16 header keys
    const ByteSpan extra = ByteSpan(b).subspan(341, 68);
    Bytes grown(b.begin(), b.begin() + 341 + 16 * 68);
    grown.insert(grown.end(), extra.begin(), extra.end());
    grown.insert(grown.end(), 32, 0);
    grown[340] = 17;
    for (std::size_t i = 0; i < 17; ++i) grown[341 + i * 68] = static_cast<std::uint8_t>(i);
    corrupt.push_back(CorruptState("too-many-header-keys",
                                   "Bob's state after evict-oldest-header-key with its first "
                                   "entry appended again (count 17) and the first byte of entry "
                                   "i's header key set to i: 17 header keys, checksum recomputed",
                                   Rechecksum(grown)));
  }
  corrupt.push_back(CorruptState("older-version",
                                 "basic Alice's initial state in the version-1 layout (magic SRS "
                                 "0x01): refused as made by an older version, not as corrupt",
                                 Version1State(initial, basic), "older_version"));

  json session_sets = json::array();
  {
    Bytes v1 = {'S', 'P', 'S', 1};
    v1 = Concat(v1, Of(basic.alice.keys.public_key));
    v1 = Concat(v1, Bytes(8 + 1 + 1, 0));  // clock 0, no sessions, no retired keys
    v1 = Concat(v1, H({}, v1, 32));
    sotto::DeterministicRng rng = sotto::DeterministicRng::FromByte(0xee);
    auto r = sc::PeerSessions::Deserialize(v1, rng);
    if (r.ok() || r.status().code() != sotto::Status::Code::kNotFound) Die("v1 session set");
    session_sets.push_back({{"name", "older-version"},
                            {"description",
                             "an empty version-1 session set for basic's Alice (magic SPS 0x01, "
                             "her identity key, clock 0, no sessions, no retired keys, checksum)"},
                            {"blob", ToHex(v1)},
                            {"expected", "older_version"}});
  }

  json out = {
      {"description",
       "Sotto end-to-end encryption known-answer vectors, version 2: Elligator 2 representatives "
       "and hidden keys, triple-DH session set-up with per-message hidden session headers, Double "
       "Ratchet messages with encrypted headers, envelopes, bodies and stored states. Format and "
       "algorithms: papers/e2ee-spec.md (§12 describes this file). All byte strings are "
       "lowercase hex."},
      {"generated_by", "build/tests/sotto-gen-e2ee-vectors > tests/vectors/e2ee.json"},
      {"parameters",
       {{"session_header_size", sc::kX3dhHeaderSize},
        {"representative_size", sc::kRepresentativeSize},
        {"associated_data_size", sc::kAssociatedDataSize},
        {"ratchet_header_size", sc::kRatchetHeaderSize},
        {"encrypted_header_size", sc::kEncryptedHeaderSize},
        {"tag_size", sc::kAeadTagSize},
        {"message_overhead", sc::kRatchetOverhead},
        {"max_skip", sc::kMaxSkip},
        {"max_skipped_header_keys", sc::kMaxSkippedHeaderKeys},
        {"state_min_size", 373},
        {"envelope_size", sc::kSphinxMessageSize},
        {"body_size", sc::kBodySize},
        {"body_header_size", sc::kBodyHeaderSize},
        {"max_text_bytes", sc::kMaxTextBytes},
        {"max_receipts_per_text", sc::kMaxReceiptsPerText},
        {"max_receipt_ids", sc::kMaxReceiptIds},
        {"curve_a", 486662},
        {"elligator_z", 2},
        {"u_q", "bb72312170e8156f7a836313f85bee9b1fdce926ba9804a29e8d137ec67f2533"}}},
      {"elligator", elligator},
      {"sessions", json::array({basic.vector, ooo.vector, env.vector})},
      {"conversations", json::array({conv.ToJson(), late.ToJson(), envelope.ToJson()})},
      {"transitions", json::array({eviction.transition})},
      {"bodies", bodies},
      {"bad_bodies", bad_bodies},
      {"negative", negative},
      {"corrupt_states", corrupt},
      {"session_sets", session_sets}};
  std::cout << out.dump(1) << "\n";
  return 0;
}
