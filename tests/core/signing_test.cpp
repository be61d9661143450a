// Ed25519 signing: RFC 8032 key derivation, the label ‖ 0x00 ‖ message construction, and
// rejection of tampered, mislabelled, malleated and small-order inputs.
#include "sotto/core/signing.h"

#include <sodium.h>

#include <catch2/catch.hpp>
#include <string>
#include <type_traits>

#include "sotto/core/bytes.h"

using sotto::Bytes;
using sotto::ByteSpan;
using sotto::Signature;
using sotto::SigningKey;
using sotto::VerifyKey;

static_assert(!std::is_copy_constructible_v<SigningKey>, "signing keys are move-only");
static_assert(std::is_move_constructible_v<SigningKey>);

namespace {

ByteSpan AsBytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

template <std::size_t N>
std::array<std::uint8_t, N> Hex(std::string_view hex) {
  auto bytes = sotto::FixedFromHex<N>(hex);
  REQUIRE(bytes.ok());
  return *bytes;
}

// RFC 8032 §7.1, TEST 1.
constexpr std::string_view kRfcSeed =
    "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
constexpr std::string_view kRfcPublic =
    "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";

}  // namespace

TEST_CASE("FromSeed derives the RFC 8032 public key and keeps the seed", "[core][signing]") {
  const auto seed = Hex<32>(kRfcSeed);
  const SigningKey key = SigningKey::FromSeed(seed);
  CHECK(sotto::ToHex(key.verify_key().bytes) == kRfcPublic);
  const auto stored = key.seed().Bytes();
  CHECK(std::equal(stored.begin(), stored.end(), seed.begin()));
  // Re-deriving from the stored seed (what loading a key file does) gives the same key.
  CHECK(SigningKey::FromSeed(key.seed().Bytes()).verify_key() == key.verify_key());
}

TEST_CASE("the signed bytes are label, a zero byte, then the message", "[core][signing]") {
  const SigningKey key = SigningKey::FromSeed(Hex<32>(kRfcSeed));
  const std::string message = "{\"epoch\":7}";
  const Signature sig = key.Sign("sotto-consensus-v1", AsBytes(message));

  // An independent construction with libsodium directly: Ed25519 is deterministic, so the
  // signature must be identical byte for byte.
  unsigned char pk[crypto_sign_PUBLICKEYBYTES];
  unsigned char sk[crypto_sign_SECRETKEYBYTES];
  REQUIRE(crypto_sign_seed_keypair(pk, sk, Hex<32>(kRfcSeed).data()) == 0);
  std::string input = std::string("sotto-consensus-v1") + '\0' + message;
  Signature expected{};
  REQUIRE(crypto_sign_detached(expected.data(), nullptr,
                               reinterpret_cast<const unsigned char*>(input.data()), input.size(),
                               sk) == 0);
  sodium_memzero(sk, sizeof sk);
  CHECK(sig == expected);
  CHECK(sotto::VerifySignature(key.verify_key(), "sotto-consensus-v1", AsBytes(message), sig));
}

TEST_CASE("verification fails when anything changes", "[core][signing]") {
  const SigningKey key = SigningKey::Generate();
  const SigningKey other = SigningKey::Generate();
  REQUIRE_FALSE(key.verify_key() == other.verify_key());
  const std::string message = "a directory document";
  const Signature sig = key.Sign("label", AsBytes(message));
  REQUIRE(sotto::VerifySignature(key.verify_key(), "label", AsBytes(message), sig));

  SECTION("one bit of the message") {
    std::string changed = message;
    changed[3] ^= 0x01;
    CHECK_FALSE(sotto::VerifySignature(key.verify_key(), "label", AsBytes(changed), sig));
  }
  SECTION("one bit of the signature, anywhere") {
    for (std::size_t i = 0; i < sig.size(); ++i) {
      Signature bad = sig;
      bad[i] ^= 0x80;
      CHECK_FALSE(sotto::VerifySignature(key.verify_key(), "label", AsBytes(message), bad));
    }
  }
  SECTION("another key") {
    CHECK_FALSE(sotto::VerifySignature(other.verify_key(), "label", AsBytes(message), sig));
  }
  SECTION("another label") {
    CHECK_FALSE(sotto::VerifySignature(key.verify_key(), "label2", AsBytes(message), sig));
    CHECK_FALSE(sotto::VerifySignature(key.verify_key(), "", AsBytes(message), sig));
  }
}

TEST_CASE("the zero byte separates label from message", "[core][signing]") {
  // Without a separator, ("sotto-a", "bc") and ("sotto-ab", "c") would sign the same bytes.
  const SigningKey key = SigningKey::Generate();
  const Signature sig = key.Sign("sotto-ab", AsBytes("c"));
  CHECK(sotto::VerifySignature(key.verify_key(), "sotto-ab", AsBytes("c"), sig));
  CHECK_FALSE(sotto::VerifySignature(key.verify_key(), "sotto-a", AsBytes("bc"), sig));
  CHECK_FALSE(sotto::VerifySignature(key.verify_key(), "sotto-abc", AsBytes(""), sig));
}

TEST_CASE("malleated and small-order signatures are rejected", "[core][signing]") {
  const SigningKey key = SigningKey::Generate();
  const std::string message = "m";
  const Signature sig = key.Sign("label", AsBytes(message));

  SECTION("S + L (the same signature, non-canonical)") {
    // L, the order of the Ed25519 base point, little-endian.
    const auto order = Hex<32>("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010");
    Signature malleated = sig;
    unsigned carry = 0;
    for (std::size_t i = 0; i < 32; ++i) {
      const unsigned sum = malleated[32 + i] + order[i] + carry;
      malleated[32 + i] = static_cast<std::uint8_t>(sum & 0xff);
      carry = sum >> 8;
    }
    REQUIRE(carry == 0);
    CHECK_FALSE(sotto::VerifySignature(key.verify_key(), "label", AsBytes(message), malleated));
  }
  SECTION("identity public key with the trivial signature") {
    // With pk = R = the neutral element and S = 0, the verification equation holds for every
    // message; a strict verifier refuses small-order keys and R.
    VerifyKey neutral;
    neutral.bytes[0] = 0x01;
    Signature trivial{};
    trivial[0] = 0x01;
    CHECK_FALSE(sotto::VerifySignature(neutral, "label", AsBytes(message), trivial));
    CHECK_FALSE(sotto::VerifySignature(neutral, "label", AsBytes("anything"), trivial));
  }
}

TEST_CASE("Generate makes distinct keys", "[core][signing]") {
  const SigningKey a = SigningKey::Generate();
  const SigningKey b = SigningKey::Generate();
  CHECK_FALSE(a.verify_key() == b.verify_key());
  CHECK_FALSE(a.seed().CtEqual(b.seed()));
}
