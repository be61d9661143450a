// Checks client_lib against the known-answer vectors in tests/vectors/e2ee.json
// (papers/e2ee-spec.md version 2, §12): the Elligator 2 maps and hidden keys, the session set-up
// from the recorded keys, every session header, message, envelope and stored state of the
// conversations with the recorded draws, the transitions, the bodies, the negative cases
// (rejected, state unchanged) and the refused stored states.
#include <sodium.h>

#include <catch2/catch.hpp>
#include <deque>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>

#include "sotto/client_lib/elligator.h"
#include "sotto/client_lib/envelope.h"
#include "sotto/client_lib/peer_sessions.h"
#include "sotto/client_lib/ratchet.h"
#include "sotto/client_lib/x3dh.h"

namespace sotto::client {
namespace {

using nlohmann::json;

json LoadVectors() {
  std::ifstream in(std::string(SOTTO_VECTORS_DIR) + "/e2ee.json");
  REQUIRE(in.good());
  return json::parse(in);
}

Bytes Hex(const json& j) { return FromHex(j.get<std::string>()).value(); }

std::array<std::uint8_t, 32> Fixed32(const json& j) {
  return FixedFromHex<32>(j.get<std::string>()).value();
}

PublicKey KeyOf(const json& j) { return PublicKey{Fixed32(j)}; }

KeyPair PairFrom(const json& secret, const json& public_key) {
  SecretKey sk(std::span<const std::uint8_t, 32>(Fixed32(secret)));
  const PublicKey pk{Fixed32(public_key)};
  CHECK(DerivePublicKey(sk) == pk);
  return KeyPair{pk, std::move(sk)};
}

KeyPair PairFromSecret(const json& secret) {
  SecretKey sk(std::span<const std::uint8_t, 32>(Fixed32(secret)));
  const PublicKey pk = DerivePublicKey(sk);
  return KeyPair{pk, std::move(sk)};
}

// Replays recorded random draws, in order; fails the test if the implementation asks for
// different amounts than the spec says.
class ReplayRng final : public Rng {
 public:
  explicit ReplayRng(const json& draws) {
    for (const auto& d : draws) draws_.push_back(Hex(d));
  }
  void Fill(std::span<std::uint8_t> out) override {
    REQUIRE_FALSE(draws_.empty());
    REQUIRE(draws_.front().size() == out.size());
    std::copy(draws_.front().begin(), draws_.front().end(), out.begin());
    draws_.pop_front();
  }
  bool Exhausted() const { return draws_.empty(); }

 private:
  std::deque<Bytes> draws_;
};

struct Keys {
  IdentityKeys alice;
  IdentityKeys bob;
  PreKey bob_prekey;
};

Keys KeysOf(const json& s) {
  return Keys{IdentityKeys{PairFrom(s["alice_identity_secret"], s["alice_identity_public"])},
              IdentityKeys{PairFrom(s["bob_identity_secret"], s["bob_identity_public"])},
              PreKey{PairFrom(s["bob_prekey_secret"], s["bob_prekey_public"])}};
}

Bytes SessionKeyBytes(const SessionKey& k) { return Bytes(k.Bytes().begin(), k.Bytes().end()); }

Bytes Dh(const Bytes& secret, const Bytes& pub) {
  Bytes out(32);
  REQUIRE(crypto_scalarmult(out.data(), secret.data(), pub.data()) == 0);
  return out;
}

Bytes Blake2b(const Bytes& key, const std::string& label, std::size_t len) {
  Bytes out(len);
  crypto_generichash(out.data(), len, reinterpret_cast<const unsigned char*>(label.data()),
                     label.size(), key.empty() ? nullptr : key.data(), key.size());
  return out;
}

template <class Range>
Bytes Concat(const Bytes& a, const Range& b) {
  Bytes out = a;
  out.insert(out.end(), b.begin(), b.end());
  return out;
}

// The state blob must round-trip through Deserialize.
void CheckRoundTrip(const Bytes& blob) {
  DeterministicRng rng = DeterministicRng::FromByte(0xee);
  auto restored = RatchetSession::Deserialize(blob, rng);
  REQUIRE(restored.ok());
  CHECK(restored->Serialize() == blob);
}

const json& SessionNamed(const json& v, const json& name) {
  for (const auto& s : v["sessions"]) {
    if (s["name"] == name) return s;
  }
  FAIL("no session " << name);
  return v;  // not reached
}

MessageBody BodyFrom(const json& f) {
  MessageBody b;
  b.type = f["type"] == "text" ? BodyType::kText : BodyType::kReceipt;
  const Bytes id = Hex(f["id"]);
  std::copy(id.begin(), id.end(), b.id.begin());
  b.sent_unix = f["sent_unix"].get<std::int64_t>();
  b.expires_after_s = f["expires_after_s"].get<std::uint32_t>();
  const Bytes text = Hex(f["text"]);
  b.text.assign(text.begin(), text.end());
  for (const auto& r : f["receipts"]) {
    const Bytes rb = Hex(r);
    MessageId m{};
    std::copy(rb.begin(), rb.end(), m.begin());
    b.receipts.push_back(m);
  }
  return b;
}

}  // namespace

TEST_CASE("e2ee known-answer vectors", "[vectors]") {
  const json v = LoadVectors();
  const json& p = v["parameters"];
  CHECK(p["session_header_size"].get<std::size_t>() == kX3dhHeaderSize);
  CHECK(p["representative_size"].get<std::size_t>() == kRepresentativeSize);
  CHECK(p["associated_data_size"].get<std::size_t>() == kAssociatedDataSize);
  CHECK(p["ratchet_header_size"].get<std::size_t>() == kRatchetHeaderSize);
  CHECK(p["encrypted_header_size"].get<std::size_t>() == kEncryptedHeaderSize);
  CHECK(p["tag_size"].get<std::size_t>() == kAeadTagSize);
  CHECK(p["message_overhead"].get<std::size_t>() == kRatchetOverhead);
  CHECK(p["max_skip"].get<std::uint32_t>() == kMaxSkip);
  CHECK(p["max_skipped_header_keys"].get<std::size_t>() == kMaxSkippedHeaderKeys);
  CHECK(p["envelope_size"].get<std::size_t>() == kSphinxMessageSize);
  CHECK(p["body_size"].get<std::size_t>() == kBodySize);
  CHECK(p["body_header_size"].get<std::size_t>() == kBodyHeaderSize);
  CHECK(p["max_text_bytes"].get<std::size_t>() == kMaxTextBytes);
  CHECK(p["max_receipts_per_text"].get<std::size_t>() == kMaxReceiptsPerText);
  CHECK(p["max_receipt_ids"].get<std::size_t>() == kMaxReceiptIds);

  SECTION("Elligator 2 (§3a): forward and inverse maps, hidden keys") {
    const json& e = v["elligator"];
    REQUIRE(e["forward"].size() >= 5);
    for (const auto& f : e["forward"]) {
      INFO(f["name"].get<std::string>());
      CHECK(ElligatorMap(Fixed32(f["representative"])) == KeyOf(f["u"]));
    }
    REQUIRE(e["inverse"].size() >= 4);
    for (const auto& i : e["inverse"]) {
      INFO(i["name"].get<std::string>() << " branch " << i["branch"]);
      const auto r = ElligatorInverse(KeyOf(i["u"]), i["branch"].get<int>());
      if (i["representative"].is_null()) {
        CHECK_FALSE(r.has_value());
      } else {
        REQUIRE(r.has_value());
        CHECK(ToHex(*r) == i["representative"]);
      }
    }
    REQUIRE(e["hidden_keys"].size() >= 4);
    for (const auto& k : e["hidden_keys"]) {
      INFO(k["name"].get<std::string>());
      ReplayRng rng(k["draws"]);
      const HiddenKeyPair kp = GenerateHiddenKeyPair(rng);
      CHECK(rng.Exhausted());
      CHECK(ToHex(kp.secret.Bytes()) == k["secret"]);
      CHECK(ToHex(kp.representative) == k["representative"]);
      CHECK(ToHex(kp.hidden_public.bytes) == k["hidden_public"]);
      CHECK(HiddenPublicKey(kp.secret) == kp.hidden_public);
      CHECK(ToHex(DerivePublicKey(kp.secret).bytes) == k["clean_public"]);
      CHECK((kp.representative[31] & 0xc0) == (k["tweak"].get<int>() & 0xc0));
      const Bytes peer = Hex(k["peer_secret"]);
      const Bytes secret(kp.secret.Bytes().begin(), kp.secret.Bytes().end());
      Bytes peer_public(32);
      crypto_scalarmult_base(peer_public.data(), peer.data());
      CHECK(ToHex(Dh(secret, peer_public)) == k["dh"]);
      CHECK(ToHex(Dh(peer, Hex(k["hidden_public"]))) == k["dh"]);
    }
  }

  SECTION("session set-up (§3) from the recorded keys") {
    REQUIRE(v["sessions"].size() >= 3);
    for (const auto& s : v["sessions"]) {
      INFO(s["name"].get<std::string>());
      Keys k = KeysOf(s);
      ReplayRng rng(json::array({s["ephemeral_secret"]}));
      auto start = StartSession(k.alice, k.bob.keys.public_key, k.bob_prekey.keys.public_key, rng);
      REQUIRE(start.ok());
      CHECK(rng.Exhausted());
      CHECK(ToHex(SessionKeyBytes(start->agreed.shared_key)) == s["shared_key"]);
      CHECK(ToHex(start->agreed.associated_data) == s["associated_data"]);
      CHECK(ToHex(start->header.ephemeral.bytes) == s["ephemeral_public"]);
      // The listed intermediates, recomputed from the spec with raw libsodium calls.
      const Bytes ek = Hex(s["ephemeral_secret"]);
      CHECK(ToHex(Dh(Hex(s["alice_identity_secret"]), Hex(s["bob_prekey_public"]))) == s["dh1"]);
      CHECK(ToHex(Dh(ek, Hex(s["bob_identity_public"]))) == s["dh2"]);
      CHECK(ToHex(Dh(ek, Hex(s["bob_prekey_public"]))) == s["dh3"]);
      const Bytes sk = Hex(s["shared_key"]);
      CHECK(ToHex(Blake2b(sk, "sotto-ratchet-v2/initiator-header-key", 32)) ==
            s["initiator_header_key"]);
      CHECK(ToHex(Blake2b(sk, "sotto-ratchet-v2/responder-header-key", 32)) ==
            s["responder_header_key"]);
      auto accepted = AcceptSession(k.bob, k.bob_prekey, start->header);
      REQUIRE(accepted.ok());
      CHECK(ToHex(SessionKeyBytes(accepted->shared_key)) == s["shared_key"]);
    }
  }

  SECTION("conversations (§3–§7): every session header, message, envelope and state") {
    REQUIRE(v["conversations"].size() >= 3);
    for (const auto& c : v["conversations"]) {
      INFO(c["name"].get<std::string>());
      const json& s = SessionNamed(v, c["session"]);
      Keys k = KeysOf(s);
      ReplayRng ephemeral(json::array({s["ephemeral_secret"]}));
      auto start =
          StartSession(k.alice, k.bob.keys.public_key, k.bob_prekey.keys.public_key, ephemeral);
      REQUIRE(start.ok());
      ReplayRng alice_rng(c["alice_ratchet_keys"]);
      ReplayRng bob_rng(c["bob_ratchet_keys"]);
      auto initiated =
          RatchetSession::Initiate(start->agreed, k.bob_prekey.keys.public_key, alice_rng);
      REQUIRE(initiated.ok());
      std::optional<RatchetSession> alice(std::move(initiated).value());
      std::optional<RatchetSession> bob;
      CHECK(ToHex(alice->Serialize()) == c["alice_initial_state"]);
      std::set<std::string> slots;

      for (const auto& e : c["events"]) {
        const std::string who = e["party"], id = e["message"];
        INFO(e["op"].get<std::string>() << " " << who << " " << id);
        const json* m = nullptr;
        for (const auto& candidate : c["messages"]) {
          if (candidate["id"] == id) m = &candidate;
        }
        REQUIRE(m != nullptr);
        std::optional<RatchetSession>& me = who == "alice" ? alice : bob;
        if (e["op"] == "encrypt") {
          REQUIRE(me.has_value());
          // The chain and header keys listed are CKs and HKs of the state before (§6).
          const Bytes before = me->Serialize();
          CHECK(ToHex(ByteSpan(before).subspan(133, 32)) == (*m)["chain_key"]);
          CHECK(ToHex(ByteSpan(before).subspan(197, 32)) == (*m)["header_key"]);
          if (m->contains("body_fields")) {
            auto encoded = EncodeBody(BodyFrom((*m)["body_fields"]));
            REQUIRE(encoded.ok());
            CHECK(ToHex(*encoded) == (*m)["plaintext"]);
          }
          auto out = me->Encrypt(Hex((*m)["plaintext"]));
          REQUIRE(out.ok());
          REQUIRE(ToHex(*out) == (*m)["message"]);
          CHECK(ToHex(ByteSpan(*out).first(kEncryptedHeaderSize)) == (*m)["encrypted_header"]);
          CHECK(ToHex(ByteSpan(*out).subspan(kEncryptedHeaderSize)) == (*m)["body"]);
          // HN(body) = BLAKE2b-192("sotto-ratchet-v2/header-nonce" ‖ body).
          std::string hn_input = "sotto-ratchet-v2/header-nonce";
          hn_input.append(out->begin() + kEncryptedHeaderSize, out->end());
          CHECK(ToHex(Blake2b({}, hn_input, 24)) == (*m)["header_nonce"]);
          Bytes slot;
          if (m->contains("session_header")) {
            const json& sh = (*m)["session_header"];
            ReplayRng slot_rng(sh["draws"]);
            auto sealed = SealSessionHeader(start->header, k.bob_prekey.keys.public_key, slot_rng);
            REQUIRE(sealed.ok());
            CHECK(slot_rng.Exhausted());
            CHECK(ToHex(*sealed) == sh["slot"]);
            CHECK(ToHex(ElligatorMap(Fixed32(sh["representative"])).bytes) == sh["hidden_public"]);
            CHECK(ToHex(Blake2b(Hex(sh["dh"]), "sotto-x3dh-v2/slot-key", 32)) == sh["slot_key"]);
            CHECK(slots.insert(sh["slot"].get<std::string>()).second);  // never repeats
            slot.assign(sealed->begin(), sealed->end());
            CHECK(ToHex(Concat(slot, *out)) == (*m)["first_message"]);
            auto opened = X3dhHeader::Open(Hex((*m)["first_message"]), k.bob_prekey);
            REQUIRE(opened.ok());
            CHECK(opened->initiator_identity == k.alice.keys.public_key);
            CHECK(opened->ephemeral == start->header.ephemeral);
          } else if (m->contains("random_slot")) {
            slot = Hex((*m)["random_slot"]);
            CHECK_FALSE(X3dhHeader::Open(Concat(slot, *out), k.bob_prekey).ok());
          }
          if (m->contains("envelope")) {
            const Bytes envelope = Concat(slot, *out);
            CHECK(envelope.size() == kSphinxMessageSize);
            CHECK(ToHex(envelope) == (*m)["envelope"]);
          }
        } else {
          Bytes message = Hex((*m)["message"]);
          if (!me.has_value()) {
            // Bob's first message: open the session header, agree, respond (§3).
            REQUIRE(m->contains("first_message"));
            const Bytes first = Hex((*m)["first_message"]);
            auto header = X3dhHeader::Open(first, k.bob_prekey);
            REQUIRE(header.ok());
            auto agreed = AcceptSession(k.bob, k.bob_prekey, *header);
            REQUIRE(agreed.ok());
            me.emplace(RatchetSession::Respond(*agreed, k.bob_prekey, bob_rng));
            message.assign(first.begin() + kX3dhHeaderSize, first.end());
          }
          auto plain = me->Decrypt(message);
          REQUIRE(plain.ok());
          CHECK(ToHex(*plain) == (*m)["plaintext"]);
          if (m->contains("body_fields")) {
            auto body = DecodeBody(*plain);
            REQUIRE(body.ok());
            CHECK(ToHex(Bytes(body->text.begin(), body->text.end())) ==
                  (*m)["body_fields"]["text"]);
            CHECK(body->receipts.size() == (*m)["body_fields"]["receipts"].size());
          }
        }
        const Bytes state = me->Serialize();
        REQUIRE(ToHex(state) == e["state_after"]);
        CheckRoundTrip(state);
      }
      CHECK(alice_rng.Exhausted());
      CHECK(bob_rng.Exhausted());
    }
  }

  SECTION("transitions (§4): one decryption from a listed state") {
    REQUIRE(v["transitions"].size() >= 1);
    for (const auto& t : v["transitions"]) {
      INFO(t["name"].get<std::string>());
      ReplayRng rng(t["fresh_ratchet_key"].is_null() ? json::array()
                                                     : json::array({t["fresh_ratchet_key"]}));
      auto session = RatchetSession::Deserialize(Hex(t["state_before"]), rng);
      REQUIRE(session.ok());
      auto plain = session->Decrypt(Hex(t["message"]));
      REQUIRE(plain.ok());
      CHECK(ToHex(*plain) == t["plaintext"]);
      CHECK(ToHex(session->Serialize()) == t["state_after"]);
      CHECK(rng.Exhausted());
    }
  }

  SECTION("bodies (§7)") {
    REQUIRE(v["bodies"].size() >= 4);
    for (const auto& b : v["bodies"]) {
      INFO(b["name"].get<std::string>());
      auto encoded = EncodeBody(BodyFrom(b));
      REQUIRE(encoded.ok());
      CHECK(ToHex(*encoded) == b["encoded"]);
      auto decoded = DecodeBody(Hex(b["encoded"]));
      REQUIRE(decoded.ok());
      CHECK(EncodeBody(*decoded).value() == *encoded);
    }
    REQUIRE(v["bad_bodies"].size() >= 5);
    for (const auto& b : v["bad_bodies"]) {
      INFO(b["name"].get<std::string>());
      auto decoded = DecodeBody(Hex(b["encoded"]));
      REQUIRE_FALSE(decoded.ok());
      CHECK(decoded.status().code() == Status::Code::kCorruption);
    }
  }

  SECTION("negative cases are rejected and change nothing") {
    REQUIRE(v["negative"].size() >= 15);
    for (const auto& c : v["negative"]) {
      INFO(c["name"].get<std::string>());
      DeterministicRng rng = DeterministicRng::FromByte(0xee);
      if (c["kind"] == "ratchet") {
        const Bytes state = Hex(c["state"]);
        auto session = RatchetSession::Deserialize(state, rng);
        REQUIRE(session.ok());
        CHECK_FALSE(session->Decrypt(Hex(c["message"])).ok());
        CHECK(session->Serialize() == state);
        continue;
      }
      REQUIRE(c["kind"] == "first_message");
      IdentityKeys bob{PairFromSecret(c["bob_identity_secret"])};
      PreKey prekey{PairFromSecret(c["bob_prekey_secret"])};
      const Bytes first = Hex(c["first_message"]);
      std::string stage = "slot";
      auto header = X3dhHeader::Open(first, prekey);
      if (header.ok()) {
        stage = "agreement";
        auto agreed = AcceptSession(bob, prekey, *header);
        if (agreed.ok()) {
          stage = "ratchet";
          auto session = RatchetSession::Respond(*agreed, prekey, rng);
          CHECK_FALSE(session.Decrypt(ByteSpan(first).subspan(kX3dhHeaderSize)).ok());
        }
      }
      CHECK(stage == c["rejected_at"].get<std::string>());
    }
  }

  SECTION("refused stored states: corrupt, or from an older version") {
    REQUIRE(v["corrupt_states"].size() >= 10);
    for (const auto& c : v["corrupt_states"]) {
      INFO(c["name"].get<std::string>());
      DeterministicRng rng = DeterministicRng::FromByte(0xee);
      auto r = RatchetSession::Deserialize(Hex(c["state"]), rng);
      REQUIRE_FALSE(r.ok());
      CHECK(r.status().code() == (c["expected"] == "older_version" ? Status::Code::kNotFound
                                                                   : Status::Code::kCorruption));
    }
    REQUIRE(v["session_sets"].size() >= 1);
    for (const auto& c : v["session_sets"]) {
      INFO(c["name"].get<std::string>());
      DeterministicRng rng = DeterministicRng::FromByte(0xee);
      auto r = PeerSessions::Deserialize(Hex(c["blob"]), rng);
      REQUIRE_FALSE(r.ok());
      CHECK(c["expected"] == "older_version");
      CHECK(r.status().code() == Status::Code::kNotFound);
    }
  }
}

}  // namespace sotto::client
