// Deniable session set-up between two Sotto users: an X3DH-style triple Diffie–Hellman with no
// signatures (papers/e2ee-spec.md §3). Each user has a long-term X25519 identity key and a
// pre-key, both published in their contact code. The initiator adds a fresh ephemeral key EK_A.
// Every message it sends before hearing back carries a *fresh* session header in its envelope
// slot: the Elligator 2 representative of a new hidden key e (elligator.h), then EK_A ‖ IK_A
// sealed under a key from DH(e, SPK_B). Only the holder of the recipient's pre-key can open it,
// and to everyone else — the recipient's provider, which stores the message, included — no two
// session headers share any bytes and each looks like 112 random bytes. Both sides then hold the
// same 32-byte shared key and associated data, which start a RatchetSession (ratchet.h).
//
// Nothing is signed, so a transcript proves nothing to a third party: either side could have
// produced it alone. Secrets live in sodium_malloc'ed or self-wiping types. All functions are
// thread-safe (they touch no shared state except the Rng passed in, which must be thread-safe
// itself if shared — SystemRng() is).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "sotto/core/bytes.h"
#include "sotto/core/keys.h"
#include "sotto/core/random.h"
#include "sotto/core/secret.h"
#include "sotto/core/status.h"

namespace sotto::client {

// A session header: representative R (32) ‖ XChaCha20-Poly1305(EK_A ‖ IK_A) (64 + 16), §3.
inline constexpr std::size_t kX3dhHeaderSize = 112;
inline constexpr std::size_t kAssociatedDataSize = 64;  // IK_A ‖ IK_B
using SessionKey = Secret<32>;
using AssociatedData = std::array<std::uint8_t, kAssociatedDataSize>;
using SessionHeader = std::array<std::uint8_t, kX3dhHeaderSize>;

// A user's long-term X25519 identity key pair (IK).
struct IdentityKeys {
  KeyPair keys;
  static IdentityKeys Generate(Rng& rng = SystemRng());
};

// A user's published pre-key pair (SPK). Unsigned by design (deniability).
struct PreKey {
  KeyPair keys;
  static PreKey Generate(Rng& rng = SystemRng());
  PreKey Clone() const;
};

// The session header's contents, once opened.
struct X3dhHeader {
  PublicKey initiator_identity;  // IK_A
  PublicKey ephemeral;           // EK_A
  // Opens the first kX3dhHeaderSize bytes of `message` (the envelope slot; the ratchet message
  // follows) as a session header with the recipient's pre-key. Fails (CryptoError) if it was
  // sealed for another pre-key, is random bytes or was modified; InvalidArgument if too short.
  static Result<X3dhHeader> Open(ByteSpan message, const PreKey& my_prekey);
};

// The agreed secret: SK and AD = IK_A ‖ IK_B, equal on both sides when the keys match.
struct AgreedSecret {
  SessionKey shared_key;
  AssociatedData associated_data{};
};

struct InitiatorStart {
  AgreedSecret agreed;
  X3dhHeader header;  // what every session header of this session tells the recipient
};

// Initiator A: SK = KDF(DH(IK_A, SPK_B) ‖ DH(EK_A, IK_B) ‖ DH(EK_A, SPK_B)) with a fresh EK_A
// (32 bytes drawn). Fails (CryptoError) if any DH output is all zeros (a low-order public key).
Result<InitiatorStart> StartSession(const IdentityKeys& me, const PublicKey& their_identity,
                                    const PublicKey& their_prekey, Rng& rng = SystemRng());

// A fresh session header for one message of an unconfirmed initiator session: a new hidden key
// pair (33 bytes drawn per attempt, elligator.h), its representative, and `header` sealed under
// H(DH(e, their_prekey)). Call it for every message; never reuse the result. CryptoError for a
// low-order pre-key.
Result<SessionHeader> SealSessionHeader(const X3dhHeader& header, const PublicKey& their_prekey,
                                        Rng& rng = SystemRng());

// Responder B: the same SK from the header A sent. A wrong pre-key gives a different SK, which
// the first ratchet message then fails to authenticate.
Result<AgreedSecret> AcceptSession(const IdentityKeys& me, const PreKey& my_prekey,
                                   const X3dhHeader& header);

}  // namespace sotto::client
