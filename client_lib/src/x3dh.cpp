// Deniable triple-DH session set-up and hidden session headers (papers/e2ee-spec.md §3).
#include "sotto/client_lib/x3dh.h"

#include <sodium.h>

#include <algorithm>
#include <string>
#include <string_view>

#include "sotto/client_lib/elligator.h"

namespace sotto::client {
namespace {

constexpr std::string_view kSharedKeyLabel = "sotto-x3dh-v2/shared-key";
constexpr std::string_view kSlotKeyLabel = "sotto-x3dh-v2/slot-key";

// The key that seals EK_A ‖ IK_A in a session header: BLAKE2b-256(key = DH(e, SPK_B), label).
// e is fresh for every session header, so the key is used once and the nonce can be zero.
Secret<32> SlotKey(const Secret<32>& dh) {
  Secret<32> k;
  crypto_generichash(k.data(), k.size(),
                     reinterpret_cast<const unsigned char*>(kSlotKeyLabel.data()),
                     kSlotKeyLabel.size(), dh.data(), dh.size());
  return k;
}
constexpr std::uint8_t kZeroNonce[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES] = {};
constexpr std::size_t kSealedSize = 2 * kX25519KeySize;  // EK_A ‖ IK_A
static_assert(kX3dhHeaderSize ==
              kRepresentativeSize + kSealedSize + crypto_aead_xchacha20poly1305_ietf_ABYTES);

// out = X25519(secret, their_public); refuses an all-zero result (low-order point).
Status Dh(const SecretKey& secret, const PublicKey& their_public, std::uint8_t* out,
          std::string_view which) {
  if (crypto_scalarmult(out, secret.data(), their_public.bytes.data()) != 0) {
    return Status::CryptoError("key agreement failed: " + std::string(which) +
                               " is a low-order point (all-zero shared secret); the contact "
                               "code or first message is malformed or malicious");
  }
  return Status::Ok();
}

// SK = BLAKE2b-256(label ‖ DH1 ‖ DH2 ‖ DH3), unkeyed.
SessionKey DeriveSharedKey(const Secret<96>& dh) {
  SessionKey sk;
  crypto_generichash_state st;
  crypto_generichash_init(&st, nullptr, 0, sk.size());
  crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(kSharedKeyLabel.data()),
                            kSharedKeyLabel.size());
  crypto_generichash_update(&st, dh.data(), dh.size());
  crypto_generichash_final(&st, sk.data(), sk.size());
  sodium_memzero(&st, sizeof st);
  return sk;
}

AssociatedData MakeAd(const PublicKey& initiator, const PublicKey& responder) {
  AssociatedData ad{};
  for (std::size_t i = 0; i < kX25519KeySize; ++i) {
    ad[i] = initiator.bytes[i];
    ad[kX25519KeySize + i] = responder.bytes[i];
  }
  return ad;
}

}  // namespace

IdentityKeys IdentityKeys::Generate(Rng& rng) { return IdentityKeys{KeyPair::Generate(rng)}; }

PreKey PreKey::Generate(Rng& rng) { return PreKey{KeyPair::Generate(rng)}; }

PreKey PreKey::Clone() const { return PreKey{KeyPair{keys.public_key, keys.secret_key.Clone()}}; }

Result<X3dhHeader> X3dhHeader::Open(ByteSpan message, const PreKey& my_prekey) {
  if (message.size() < kX3dhHeaderSize) {
    return Status::InvalidArgument("first message too short: " + std::to_string(message.size()) +
                                   " bytes, the session header alone is " +
                                   std::to_string(kX3dhHeaderSize));
  }
  const auto representative = message.first<kRepresentativeSize>();
  const PublicKey hidden = ElligatorMap(representative);
  Secret<32> dh;
  if (crypto_scalarmult(dh.data(), my_prekey.keys.secret_key.data(), hidden.bytes.data()) != 0) {
    return Status::CryptoError("session header could not be opened: not a session header");
  }
  const Secret<32> key = SlotKey(dh);
  Secret<kSealedSize> plain;
  unsigned long long len = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
          plain.data(), &len, nullptr, message.data() + kRepresentativeSize,
          kX3dhHeaderSize - kRepresentativeSize, representative.data(), representative.size(),
          kZeroNonce, key.data()) != 0 ||
      len != kSealedSize) {
    return Status::CryptoError(
        "session header could not be opened: sealed for another pre-key, not a session header, "
        "or tampered");
  }
  X3dhHeader h;
  std::copy_n(plain.data(), kX25519KeySize, h.ephemeral.bytes.begin());
  std::copy_n(plain.data() + kX25519KeySize, kX25519KeySize, h.initiator_identity.bytes.begin());
  return h;
}

Result<InitiatorStart> StartSession(const IdentityKeys& me, const PublicKey& their_identity,
                                    const PublicKey& their_prekey, Rng& rng) {
  KeyPair ephemeral = KeyPair::Generate(rng);
  Secret<96> dh;
  if (auto s = Dh(me.keys.secret_key, their_prekey, dh.data(), "the contact's pre-key"); !s.ok())
    return s;
  if (auto s =
          Dh(ephemeral.secret_key, their_identity, dh.data() + 32, "the contact's identity key");
      !s.ok())
    return s;
  if (auto s = Dh(ephemeral.secret_key, their_prekey, dh.data() + 64, "the contact's pre-key");
      !s.ok())
    return s;
  return InitiatorStart{
      AgreedSecret{DeriveSharedKey(dh), MakeAd(me.keys.public_key, their_identity)},
      X3dhHeader{me.keys.public_key, ephemeral.public_key}};
}

Result<SessionHeader> SealSessionHeader(const X3dhHeader& header, const PublicKey& their_prekey,
                                        Rng& rng) {
  const HiddenKeyPair hidden = GenerateHiddenKeyPair(rng);
  Secret<32> dh;
  if (auto s = Dh(hidden.secret, their_prekey, dh.data(), "the contact's pre-key"); !s.ok()) {
    return s;
  }
  const Secret<32> key = SlotKey(dh);
  Secret<kSealedSize> plain;
  std::copy(header.ephemeral.bytes.begin(), header.ephemeral.bytes.end(), plain.data());
  std::copy(header.initiator_identity.bytes.begin(), header.initiator_identity.bytes.end(),
            plain.data() + kX25519KeySize);
  // slot = R ‖ AEAD(slot key, 0, EK_A ‖ IK_A, ad = R): every bit of R is authenticated.
  SessionHeader slot{};
  std::copy(hidden.representative.begin(), hidden.representative.end(), slot.begin());
  crypto_aead_xchacha20poly1305_ietf_encrypt(
      slot.data() + kRepresentativeSize, nullptr, plain.data(), plain.size(),
      hidden.representative.data(), hidden.representative.size(), nullptr, kZeroNonce, key.data());
  return slot;
}

Result<AgreedSecret> AcceptSession(const IdentityKeys& me, const PreKey& my_prekey,
                                   const X3dhHeader& header) {
  Secret<96> dh;
  if (auto s = Dh(my_prekey.keys.secret_key, header.initiator_identity, dh.data(),
                  "the initiator's identity key");
      !s.ok())
    return s;
  if (auto s =
          Dh(me.keys.secret_key, header.ephemeral, dh.data() + 32, "the initiator's ephemeral key");
      !s.ok())
    return s;
  if (auto s = Dh(my_prekey.keys.secret_key, header.ephemeral, dh.data() + 64,
                  "the initiator's ephemeral key");
      !s.ok())
    return s;
  return AgreedSecret{DeriveSharedKey(dh), MakeAd(header.initiator_identity, me.keys.public_key)};
}

}  // namespace sotto::client
