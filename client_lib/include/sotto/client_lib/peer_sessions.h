// PeerSessions: every ratchet session I hold with one conversation partner, and the rules for
// which one to send on (papers/e2ee-spec.md §8).
//
// Usually there is one session. There are two when both people started talking before hearing
// from each other (each ran X3DH as initiator); then both sides send on the session started by
// the person with the smaller identity key (bytewise), so they converge, and keep the other for
// messages still in flight. At most kMaxSessionsPerPeer are kept (the least recently used goes).
//
// An initiator session puts a fresh X3DH session header (new hidden key, new seal: no two are
// alike) in the envelope slot of every message until the first message in that session arrives
// from the partner (out-of-order delivery means the partner may get message 3 before message 1);
// then, and in responder sessions (which can send at once), the slot is random bytes.
//
// Not thread-safe. Holds secrets; Serialize() output must be wiped and sealed before storing
// (ClientStore::SaveSessions does the sealing).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "sotto/client_lib/contact_code.h"
#include "sotto/client_lib/envelope.h"
#include "sotto/client_lib/ratchet.h"
#include "sotto/client_lib/x3dh.h"
#include "sotto/core/bytes.h"
#include "sotto/core/keys.h"
#include "sotto/core/random.h"
#include "sotto/core/status.h"

namespace sotto::client {

inline constexpr std::size_t kMaxSessionsPerPeer = 4;

class PeerSessions {
 public:
  explicit PeerSessions(const PublicKey& peer, Rng& rng = SystemRng());
  PeerSessions(PeerSessions&&) noexcept;
  PeerSessions& operator=(PeerSessions&&) noexcept;
  ~PeerSessions();

  const PublicKey& peer() const;
  std::size_t size() const;

  // Encrypts a body (EncodeBody output, kBodySize bytes) into a whole Sphinx message
  // (kSphinxMessageSize bytes) on the session chosen by the rules above, starting a new
  // initiator session from `peer_code` if there is none to send on. InvalidArgument if
  // `peer_code` is not this peer's or the body has the wrong size; CryptoError for low-order keys.
  Result<Bytes> Seal(const IdentityKeys& me, const ContactCode& peer_code, ByteSpan body);

  // Tries the sessions held here. The body on success (the session has advanced); NotFound if no
  // session here could open it (nothing changed).
  Result<Bytes> TryOpen(ByteSpan sphinx_message);

  // For a message whose slot opened as an X3DH header from this peer (header.initiator_identity
  // == peer()): finds the responder session started by the same ephemeral key, or creates it,
  // and decrypts. On failure nothing changes (a new session is only kept if it decrypted).
  Result<Bytes> OpenNewSession(const IdentityKeys& me, const PreKey& my_prekey,
                               const X3dhHeader& header, ByteSpan sphinx_message);

  Bytes Serialize() const;
  // Corruption for a truncated or altered blob; never aborts. NotFound (the message says so) for
  // sessions stored by an older Sotto version (format 1): treat the partner as having no session
  // (the next message starts a new one) and overwrite the file at the next save; not damage.
  static Result<PeerSessions> Deserialize(ByteSpan blob, Rng& rng = SystemRng());

 private:
  struct State;
  std::unique_ptr<State> s_;
};

}  // namespace sotto::client
