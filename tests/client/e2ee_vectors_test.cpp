// Checks client_lib against the known-answer vectors in tests/vectors/e2ee.json
// (papers/e2ee-spec.md §12): the session set-up from the recorded keys, every message and every
// stored state of the conversations with the recorded ratchet keys, the negative cases (rejected,
// state unchanged) and the corrupt stored states.
#include <sodium.h>

#include <catch2/catch.hpp>
#include <deque>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

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

KeyPair PairFrom(const json& secret, const json& public_key) {
  SecretKey sk(std::span<const std::uint8_t, 32>(Fixed32(secret)));
  const PublicKey pk{Fixed32(public_key)};
  CHECK(DerivePublicKey(sk) == pk);
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

}  // namespace

TEST_CASE("e2ee known-answer vectors", "[vectors]") {
  const json v = LoadVectors();
  const json& p = v["parameters"];
  CHECK(p["x3dh_header_size"].get<std::size_t>() == kX3dhHeaderSize);
  CHECK(p["associated_data_size"].get<std::size_t>() == kAssociatedDataSize);
  CHECK(p["ratchet_header_size"].get<std::size_t>() == kRatchetHeaderSize);
  CHECK(p["tag_size"].get<std::size_t>() == kAeadTagSize);
  CHECK(p["message_overhead"].get<std::size_t>() == kRatchetOverhead);
  CHECK(p["max_skip"].get<std::uint32_t>() == kMaxSkip);

  SECTION("session set-up (§3) from the recorded keys") {
    REQUIRE(v["sessions"].size() >= 2);
    for (const auto& s : v["sessions"]) {
      INFO(s["name"].get<std::string>());
      Keys k = KeysOf(s);
      ReplayRng rng(json::array({s["ephemeral_secret"]}));
      auto start = StartSession(k.alice, k.bob.keys.public_key, k.bob_prekey.keys.public_key, rng);
      REQUIRE(start.ok());
      CHECK(rng.Exhausted());
      CHECK(ToHex(start->wire_header) == s["wire_header"]);
      CHECK(ToHex(SessionKeyBytes(start->agreed.shared_key)) == s["shared_key"]);
      CHECK(ToHex(start->agreed.associated_data) == s["associated_data"]);
      CHECK(ToHex(start->header.ephemeral.bytes) == s["ephemeral_public"]);
      // The listed intermediates, recomputed from the spec with raw libsodium calls.
      const Bytes ek = Hex(s["ephemeral_secret"]);
      CHECK(ToHex(Dh(Hex(s["alice_identity_secret"]), Hex(s["bob_prekey_public"]))) == s["dh1"]);
      CHECK(ToHex(Dh(ek, Hex(s["bob_identity_public"]))) == s["dh2"]);
      const Bytes dh3 = Dh(ek, Hex(s["bob_prekey_public"]));
      CHECK(ToHex(dh3) == s["dh3"]);
      const std::string label = "sotto-x3dh-v1/identity-seal";
      Bytes seal(32);
      crypto_generichash(seal.data(), seal.size(),
                         reinterpret_cast<const unsigned char*>(label.data()), label.size(),
                         dh3.data(), dh3.size());
      CHECK(ToHex(seal) == s["seal_key"]);
      // Bob's side, from the wire header.
      auto header = X3dhHeader::Open(start->wire_header, k.bob_prekey);
      REQUIRE(header.ok());
      CHECK(header->initiator_identity == k.alice.keys.public_key);
      auto accepted = AcceptSession(k.bob, k.bob_prekey, *header);
      REQUIRE(accepted.ok());
      CHECK(ToHex(SessionKeyBytes(accepted->shared_key)) == s["shared_key"]);
      CHECK(ToHex(accepted->associated_data) == s["associated_data"]);
    }
  }

  SECTION("conversations (§4–§6): every message and every stored state") {
    REQUIRE(v["conversations"].size() >= 2);
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
          // The chain key listed for the message is CKs of the state before it (§6 offset 165).
          CHECK(ToHex(ByteSpan(me->Serialize()).subspan(165, 32)) == (*m)["chain_key"]);
          auto out = me->Encrypt(Hex((*m)["plaintext"]));
          REQUIRE(out.ok());
          REQUIRE(ToHex(*out) == (*m)["message"]);
          if (m->contains("first_message")) {
            Bytes first(start->wire_header.begin(), start->wire_header.end());
            first.insert(first.end(), out->begin(), out->end());
            CHECK(ToHex(first) == (*m)["first_message"]);
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
        }
        const Bytes state = me->Serialize();
        REQUIRE(ToHex(state) == e["state_after"]);
        CheckRoundTrip(state);
      }
      CHECK(alice_rng.Exhausted());
      CHECK(bob_rng.Exhausted());
    }
  }

  SECTION("negative cases are rejected and change nothing") {
    REQUIRE(v["negative"].size() >= 10);
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
      IdentityKeys bob{KeyPair{PublicKey{}, SecretKey(std::span<const std::uint8_t, 32>(
                                                Fixed32(c["bob_identity_secret"])))}};
      bob.keys.public_key = DerivePublicKey(bob.keys.secret_key);
      PreKey prekey{KeyPair{PublicKey{}, SecretKey(std::span<const std::uint8_t, 32>(
                                             Fixed32(c["bob_prekey_secret"])))}};
      prekey.keys.public_key = DerivePublicKey(prekey.keys.secret_key);
      const Bytes first = Hex(c["first_message"]);
      std::string stage = "header";
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

  SECTION("corrupt stored states are rejected as Corruption") {
    REQUIRE(v["corrupt_states"].size() >= 5);
    for (const auto& c : v["corrupt_states"]) {
      INFO(c["name"].get<std::string>());
      DeterministicRng rng = DeterministicRng::FromByte(0xee);
      auto r = RatchetSession::Deserialize(Hex(c["state"]), rng);
      REQUIRE_FALSE(r.ok());
      CHECK(r.status().code() == Status::Code::kCorruption);
    }
  }
}

}  // namespace sotto::client
