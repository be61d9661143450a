// Generates the end-to-end encryption known-answer vectors, tests/vectors/e2ee.json.
//
//   cmake --build build --target sotto-gen-e2ee-vectors
//   build/tests/sotto-gen-e2ee-vectors > tests/vectors/e2ee.json
//
// Deterministic: identity keys, pre-keys and ephemerals come from DeterministicRng seeded with
// the session's seed byte, and each party's fresh ratchet keys from its own DeterministicRng;
// every such input is written out explicitly, so that another implementation can reproduce
// every byte from the JSON alone (papers/e2ee-spec.md §12). The messages and states are what
// client_lib produces; the intermediates (DH outputs, seal key, message keys) are computed here
// from the spec with raw libsodium calls and checked against client_lib's output before they
// are written. Run it again only when the format changes on purpose.
#include <sodium.h>

#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

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
  return H(key, Text("sotto-ratchet-v1/" + label), len);
}

Bytes Dh(ByteSpan secret, ByteSpan pub) {
  Bytes out(32);
  if (crypto_scalarmult(out.data(), secret.data(), pub.data()) != 0) Die("low-order key");
  return out;
}

Bytes Of(const sotto::PublicKey& k) { return Bytes(k.bytes.begin(), k.bytes.end()); }
Bytes Of(const sotto::SecretKey& k) { return Bytes(k.Bytes().begin(), k.Bytes().end()); }

std::uint32_t Be32(const Bytes& b, std::size_t at) {
  return (std::uint32_t{b[at]} << 24) | (std::uint32_t{b[at + 1]} << 16) |
         (std::uint32_t{b[at + 2]} << 8) | std::uint32_t{b[at + 3]};
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
  Bytes ek_public(32);
  crypto_scalarmult_base(ek_public.data(), ek.data());
  if (ek_public != Of(start.header.ephemeral)) Die("EK_A is not the drawn secret's public key");

  const Bytes dh1 = Dh(Of(alice.keys.secret_key), Of(prekey.keys.public_key));
  const Bytes dh2 = Dh(ek, Of(bob.keys.public_key));
  const Bytes dh3 = Dh(ek, Of(prekey.keys.public_key));
  Bytes sk_input = Concat(Text("sotto-x3dh-v1/shared-key"), dh1);
  sk_input = Concat(sk_input, dh2);
  sk_input = Concat(sk_input, dh3);
  const Bytes sk = H({}, sk_input, 32);
  if (sk != Bytes(start.agreed.shared_key.Bytes().begin(), start.agreed.shared_key.Bytes().end()))
    Die("SK differs from §3");
  const Bytes seal_key = H(dh3, Text("sotto-x3dh-v1/identity-seal"), 32);
  const Bytes wire(start.wire_header.begin(), start.wire_header.end());

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
            {"seal_key", ToHex(seal_key)},
            {"sealed_identity", ToHex(ByteSpan(wire).subspan(32))},
            {"wire_header", ToHex(wire)}};
  return Session{name,        std::move(alice), std::move(bob), std::move(prekey), std::move(start),
                 std::move(v)};
}

// ---------------------------------------------------------------- §4–§6 conversations

struct Party {
  explicit Party(std::uint8_t seed) : rng(seed) {}
  RecordingRng rng;  // must outlive the session
  std::optional<sc::RatchetSession> session;
};

// Plays a conversation between the session's two users, recording every message, every state
// and every fresh ratchet key. Alice (the initiator) ratchets with DeterministicRng(seed + 1),
// Bob with DeterministicRng(seed + 2), seed being the session's seed byte.
class Conversation {
 public:
  Conversation(std::string name, Session& session)
      : name_(std::move(name)),
        session_(session),
        alice_(std::make_unique<Party>(
            static_cast<std::uint8_t>(session.vector["seed_byte"].get<int>() + 1))),
        bob_(std::make_unique<Party>(
            static_cast<std::uint8_t>(session.vector["seed_byte"].get<int>() + 2))) {
    alice_->session.emplace(
        Must(sc::RatchetSession::Initiate(session.start.agreed, session.bob_prekey.keys.public_key,
                                          alice_->rng),
             "Initiate"));
    alice_initial_ = alice_->session->Serialize();
  }

  // `who` encrypts `plaintext` as message `id`.
  void Send(const std::string& who, const std::string& id, const std::string& plaintext) {
    Party& p = PartyOf(who);
    if (!p.session) Die("sender without a session");
    const Bytes before = p.session->Serialize();
    const ByteSpan ck = ByteSpan(before).subspan(165, 32);  // CKs, §6
    const ByteSpan ad = ByteSpan(before).subspan(5, 64);    // AD, §6
    const Bytes mk = Kdf(ck, "message", 32);
    const Bytes key = Kdf(mk, "aead-key", 32);
    const Bytes nonce = Kdf(mk, "aead-nonce", 24);
    const Bytes message = Must(p.session->Encrypt(Text(plaintext)), "Encrypt " + id);
    // The keys derived here from the spec must open client_lib's message.
    const Bytes aad = Concat(ad, ByteSpan(message).first(40));
    Bytes opened(message.size() - 56);
    unsigned long long opened_len = 0;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(
            opened.data(), &opened_len, nullptr, message.data() + 40, message.size() - 40,
            aad.data(), aad.size(), nonce.data(), key.data()) != 0 ||
        opened != Bytes(Text(plaintext).begin(), Text(plaintext).end())) {
      Die("message key schedule differs from §4 for " + id);
    }
    json m = {{"id", id},
              {"sender", who},
              {"plaintext", ToHex(Text(plaintext))},
              {"dh", ToHex(ByteSpan(message).first(32))},
              {"pn", Be32(message, 32)},
              {"n", Be32(message, 36)},
              {"chain_key", ToHex(ck)},
              {"message_key", ToHex(mk)},
              {"aead_key", ToHex(key)},
              {"aead_nonce", ToHex(nonce)},
              {"message", ToHex(message)}};
    if (who == "alice" && messages_.empty()) {
      m["first_message"] = ToHex(Concat(session_.start.wire_header, message));
    }
    messages_.push_back(m);
    bytes_[id] = message;
    Event("encrypt", who, id);
  }

  // `who` receives message `id`; Bob's first message carries the session header (§3).
  void Receive(const std::string& who, const std::string& id) {
    Party& p = PartyOf(who);
    const json& m = Message(id);
    Bytes message = bytes_.at(id);
    if (!p.session) {
      const Bytes first = sotto::FromHex(m.at("first_message").get<std::string>()).value();
      auto header = Must(sc::X3dhHeader::Open(first, session_.bob_prekey), "Open");
      auto agreed = Must(sc::AcceptSession(session_.bob, session_.bob_prekey, header), "Accept");
      p.session.emplace(sc::RatchetSession::Respond(agreed, session_.bob_prekey, p.rng));
    }
    const Bytes plaintext = Must(p.session->Decrypt(message), "Decrypt " + id);
    if (ToHex(plaintext) != m["plaintext"]) Die("plaintext of " + id);
    Event("decrypt", who, id);
  }

  const Bytes& MessageBytes(const std::string& id) const { return bytes_.at(id); }
  // The state `who` had after event `index`.
  Bytes StateAfter(std::size_t index) const {
    return sotto::FromHex(events_.at(index)["state_after"].get<std::string>()).value();
  }
  std::size_t EventCount() const { return events_.size(); }

  json ToJson() const {
    json keys_a = json::array(), keys_b = json::array();
    for (const auto& d : alice_->rng.draws) {
      if (d.size() != 32) Die("a ratchet draw that is not a key");
      keys_a.push_back(ToHex(d));
    }
    for (const auto& d : bob_->rng.draws) {
      if (d.size() != 32) Die("a ratchet draw that is not a key");
      keys_b.push_back(ToHex(d));
    }
    return {{"name", name_},
            {"session", session_.name},
            {"alice_ratchet_seed_byte", session_.vector["seed_byte"].get<int>() + 1},
            {"bob_ratchet_seed_byte", session_.vector["seed_byte"].get<int>() + 2},
            {"alice_ratchet_keys", keys_a},
            {"bob_ratchet_keys", keys_b},
            {"alice_initial_state", ToHex(alice_initial_)},
            {"messages", messages_},
            {"events", events_}};
  }

 private:
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
  std::unique_ptr<Party> alice_;
  std::unique_ptr<Party> bob_;
  Bytes alice_initial_;
  json messages_ = json::array();
  json events_ = json::array();
  std::map<std::string, Bytes> bytes_;
};

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
                          const Bytes& first) {
  std::string stage = "header";
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
// Bob (drawn, with the ephemeral and Alice's ratchet key, from DeterministicRng(seed)).
Bytes FirstMessageWithWrongKey(const Session& s, bool wrong_prekey, std::uint8_t seed) {
  sotto::DeterministicRng rng = sotto::DeterministicRng::FromByte(seed);
  const auto other = sotto::KeyPair::Generate(rng);
  const auto& identity = wrong_prekey ? s.bob.keys.public_key : other.public_key;
  const auto& prekey = wrong_prekey ? other.public_key : s.bob_prekey.keys.public_key;
  auto start = Must(sc::StartSession(s.alice, identity, prekey, rng), "StartSession (wrong key)");
  auto alice = Must(sc::RatchetSession::Initiate(start.agreed, prekey, rng), "Initiate");
  return Concat(start.wire_header, Must(alice.Encrypt(Text("Hello, Bob?")), "Encrypt"));
}

Bytes AeadEncrypt(ByteSpan key, ByteSpan nonce, ByteSpan plaintext, ByteSpan ad) {
  Bytes out(plaintext.size() + 16);
  crypto_aead_xchacha20poly1305_ietf_encrypt(out.data(), nullptr, plaintext.data(),
                                             plaintext.size(), ad.data(), ad.size(), nullptr,
                                             nonce.data(), key.data());
  return out;
}

// A message to Alice in her initial state (`alice_state`, §6) whose ratchet key is Bob's
// pre-key SPK_B, her DHr. Only Bob could build it: it uses the keys that treating SPK_B as a
// new ratchet key (§4 Decrypt step 3) would derive. §4 step 2 rejects it, as there is no CKr.
Bytes PrekeyAsRatchetKey(const Bytes& alice_state, const sotto::PublicKey& spk_b) {
  const ByteSpan st(alice_state);
  const Bytes dh_out = Dh(st.subspan(101, 32), Of(spk_b));
  const Bytes root = H(st.subspan(69, 32), Concat(Text("sotto-ratchet-v1/root"), dh_out), 64);
  const Bytes mk = Kdf(ByteSpan(root).subspan(32), "message", 32);
  Bytes message = Concat(Of(spk_b), Bytes(8, 0));  // PN = 0, N = 0
  const Bytes aad = Concat(st.subspan(5, 64), message);
  const Bytes body = AeadEncrypt(Kdf(mk, "aead-key", 32), Kdf(mk, "aead-nonce", 24),
                                 Text("from the pre-key"), aad);
  return Concat(message, body);
}

// A first message whose session header, correctly sealed to s's pre-key, carries a low-order
// point (of order 8) as IK_A; EK_A is the public key of DeterministicRng(seed)'s first 32 bytes.
Bytes LowOrderSealedIdentity(const Session& s, const Bytes& ratchet_message, std::uint8_t seed) {
  sotto::DeterministicRng rng = sotto::DeterministicRng::FromByte(seed);
  const auto ek = sotto::KeyPair::Generate(rng);
  const Bytes low_order =
      sotto::FromHex("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800").value();
  const Bytes dh3 = Dh(Of(ek.secret_key), Of(s.bob_prekey.keys.public_key));
  const Bytes seal = H(dh3, Text("sotto-x3dh-v1/identity-seal"), 32);
  const Bytes header =
      Concat(Of(ek.public_key), AeadEncrypt(seal, Bytes(24, 0), low_order, Of(ek.public_key)));
  return Concat(header, ratchet_message);
}

json CorruptState(const std::string& name, const std::string& what, const Bytes& blob) {
  sotto::DeterministicRng rng = sotto::DeterministicRng::FromByte(0xee);
  auto r = sc::RatchetSession::Deserialize(blob, rng);
  if (r.ok() || r.status().code() != sotto::Status::Code::kCorruption) {
    Die("corrupt state " + name + " was not rejected as Corruption");
  }
  return {{"name", name}, {"description", what}, {"state", ToHex(blob)}, {"expected", "reject"}};
}

}  // namespace

int main() {
  sotto::InitSodiumOrDie();
  Session basic = MakeSession("basic", 0x10);
  Session ooo = MakeSession("out-of-order", 0x20);

  // (2) Two messages each way and one more: three DH ratchet steps.
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

  // (3) Out of order: keys set aside from the previous chain (through PN) and within a chain.
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

  // (4) Negative cases. Events of the basic conversation: #2 Bob has read A1, #3 also A2,
  // #7 Alice has read B1 and B2.
  const Bytes bob_after_a1 = conv.StateAfter(2);
  const Bytes a2 = conv.MessageBytes("A2");
  json negative = json::array();
  negative.push_back(RatchetNegative("flipped-header-dh-bit",
                                     "basic A2 with bit 0 of the ratchet key's byte 3 flipped, "
                                     "to Bob after A1",
                                     bob_after_a1, Flip(a2, 3, 0)));
  negative.push_back(RatchetNegative("flipped-header-pn-bit",
                                     "basic A2 with PN 0 -> 1 (bit 0 of byte 35); PN is "
                                     "authenticated though unused here",
                                     bob_after_a1, Flip(a2, 35, 0)));
  negative.push_back(RatchetNegative("flipped-header-n-bit",
                                     "basic A2 with N 1 -> 3 (bit 1 of byte 39): the wrong key",
                                     bob_after_a1, Flip(a2, 39, 1)));
  negative.push_back(RatchetNegative("flipped-ciphertext-bit",
                                     "basic A2 with bit 4 of ciphertext byte 2 (byte 42) flipped",
                                     bob_after_a1, Flip(a2, 42, 4)));
  negative.push_back(RatchetNegative("flipped-tag-bit", "basic A2 with the tag's last bit flipped",
                                     bob_after_a1, Flip(a2, a2.size() - 1, 7)));
  {
    Bytes wrong_ad = bob_after_a1;
    sotto::DeterministicRng rng = sotto::DeterministicRng::FromByte(0x40);
    const auto carol = sotto::KeyPair::Generate(rng);
    std::copy(carol.public_key.bytes.begin(), carol.public_key.bytes.end(), wrong_ad.begin() + 5);
    negative.push_back(RatchetNegative(
        "wrong-associated-data",
        "basic A2 to Bob's state after A1 with AD's first half (IK_A) replaced by another key "
        "(the public key of DeterministicRng(0x40)'s first 32 bytes), checksum recomputed",
        Rechecksum(wrong_ad), a2));
  }
  negative.push_back(RatchetNegative("truncated",
                                     "basic A2 cut to 55 bytes, one less than header + tag",
                                     bob_after_a1, Bytes(a2.begin(), a2.begin() + 55)));
  {
    Bytes zero_dh = a2;
    std::fill(zero_dh.begin(), zero_dh.begin() + 32, std::uint8_t{0});
    negative.push_back(RatchetNegative("low-order-ratchet-key",
                                       "basic A2 with the all-zero (low-order) ratchet key",
                                       bob_after_a1, zero_dh));
  }
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
      "prekey-as-ratchet-key",
      "to Alice in her initial state: a message under Bob's pre-key (her DHr, with no CKr) "
      "built with the keys a new-ratchet-key step would derive; rejected by §4 step 2",
      sotto::FromHex(conv.ToJson()["alice_initial_state"].get<std::string>()).value(),
      PrekeyAsRatchetKey(
          sotto::FromHex(conv.ToJson()["alice_initial_state"].get<std::string>()).value(),
          basic.bob_prekey.keys.public_key)));
  const Bytes first =
      sotto::FromHex(conv.ToJson()["messages"][0]["first_message"].get<std::string>()).value();
  negative.push_back(FirstMessageNegative(
      "sealed-to-other-prekey",
      "Alice started with another pre-key for Bob (the public key of DeterministicRng(0x41)'s "
      "first 32 bytes): Bob cannot open the session header",
      basic, FirstMessageWithWrongKey(basic, true, 0x41)));
  negative.push_back(FirstMessageNegative("flipped-sealed-identity-bit",
                                          "basic first message, bit 0 of byte 40 (sealed IK_A) "
                                          "flipped",
                                          basic, Flip(first, 40, 0)));
  negative.push_back(FirstMessageNegative("flipped-ephemeral-bit",
                                          "basic first message, bit 0 of byte 0 (EK_A) flipped",
                                          basic, Flip(first, 0, 0)));
  negative.push_back(FirstMessageNegative(
      "wrong-responder-identity",
      "Alice started with the right pre-key but another identity key for Bob (the public key of "
      "DeterministicRng(0x42)'s first 32 bytes): the header opens, SK differs, the ratchet "
      "message fails",
      basic, FirstMessageWithWrongKey(basic, false, 0x42)));

  negative.push_back(FirstMessageNegative(
      "low-order-sealed-identity",
      "a session header correctly sealed to Bob's pre-key, carrying a point of order 8 as IK_A "
      "(EK_A from DeterministicRng(0x43)), then basic A1: DH1 is all zeros",
      basic, LowOrderSealedIdentity(basic, conv.MessageBytes("A1"), 0x43)));

  // Stored states (§6) that Deserialize must reject, from Bob's out-of-order state holding
  // three skipped keys (481 bytes).
  const Bytes held = late.StateAfter(with_skipped);
  const Bytes initial =
      sotto::FromHex(conv.ToJson()["alice_initial_state"].get<std::string>()).value();
  json corrupt = json::array();
  corrupt.push_back(CorruptState("too-short",
                                 "basic Alice's initial state (277 bytes) minus "
                                 "its last byte",
                                 Bytes(initial.begin(), initial.end() - 1)));
  corrupt.push_back(
      CorruptState("truncated", "minus its last byte", Bytes(held.begin(), held.end() - 1)));
  {
    Bytes b = held;
    b[2] = 'T';
    corrupt.push_back(
        CorruptState("bad-magic", "magic SRT 0x01, checksum recomputed", Rechecksum(b)));
    b = held;
    b[3] = 2;
    corrupt.push_back(
        CorruptState("unknown-version", "magic SRS 0x02, checksum recomputed", Rechecksum(b)));
  }
  corrupt.push_back(CorruptState("bad-checksum", "bit 0 of RK's first byte (byte 69) flipped",
                                 Flip(held, 69, 0)));
  corrupt.push_back(CorruptState("unknown-flag", "flag bit 3 set, checksum recomputed",
                                 Rechecksum(Flip(held, 4, 3))));
  corrupt.push_back(CorruptState("ckr-without-dhr",
                                 "flag bit 0 (DHr) cleared, checksum "
                                 "recomputed",
                                 Rechecksum(Flip(held, 4, 0))));
  {
    Bytes b = held;
    b[243] = 0x03;  // count 3 -> 1001 (0x3e9)
    b[244] = 0xe9;
    corrupt.push_back(
        CorruptState("count-above-max-skip", "count 1001, checksum recomputed", Rechecksum(b)));
    b = held;
    b[244] = 2;
    corrupt.push_back(CorruptState("count-length-mismatch",
                                   "count 2 with three entries present, checksum recomputed",
                                   Rechecksum(b)));
  }

  json out = {
      {"description",
       "Sotto end-to-end encryption known-answer vectors: triple-DH session set-up, Double "
       "Ratchet messages and stored states. Format and algorithms: papers/e2ee-spec.md (§12 "
       "describes this file). All byte strings are lowercase hex."},
      {"generated_by", "build/tests/sotto-gen-e2ee-vectors > tests/vectors/e2ee.json"},
      {"parameters",
       {{"x3dh_header_size", sc::kX3dhHeaderSize},
        {"associated_data_size", sc::kAssociatedDataSize},
        {"ratchet_header_size", sc::kRatchetHeaderSize},
        {"tag_size", sc::kAeadTagSize},
        {"message_overhead", sc::kRatchetOverhead},
        {"max_skip", sc::kMaxSkip},
        {"state_min_size", 277}}},
      {"sessions", json::array({basic.vector, ooo.vector})},
      {"conversations", json::array({conv.ToJson(), late.ToJson()})},
      {"negative", negative},
      {"corrupt_states", corrupt}};
  std::cout << out.dump(1) << "\n";
  return 0;
}
