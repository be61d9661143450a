// SessionBook: the ratchet sessions of every conversation partner, in memory, and their files in
// the store (papers/e2ee-spec.md §8, §11). Sealing a message advances a session and saves it
// before the ciphertext is used, so a message key is never reused, even across a crash;
// opening tries every session (a failed attempt changes nothing), then a first message's
// session header with my pre-key. Not thread-safe: the engine thread owns it.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "sotto/client_lib/client_store.h"
#include "sotto/client_lib/peer_sessions.h"
#include "sotto/client_lib/x3dh.h"

namespace sotto::client {

class SessionBook {
 public:
  SessionBook(ClientStore& store, const IdentityKeys& me, const PreKey& prekey)
      : store_(store), me_(me), prekey_(prekey) {}

  // Loads every session file (a damaged one is skipped and logged: that conversation restarts).
  void Load();

  // Seals an encoded body for `code`'s owner and saves the advanced session first.
  Result<Bytes> Seal(const ContactCode& code, ByteSpan body);

  struct Opened {
    PublicKey from;
    Bytes body;  // wipe when done
  };
  // NotFound if no session (and no session header with my pre-key) opens the message. The
  // session that opened it has advanced in memory; Save() or Reload() it.
  Result<Opened> Open(ByteSpan sphinx_message);
  Status Save(const PublicKey& peer);
  // Back to the saved state (a message that opened could not be stored: open it again later).
  void Reload(const PublicKey& peer);

 private:
  PeerSessions& For(const PublicKey& peer);
  ClientStore& store_;
  const IdentityKeys& me_;
  const PreKey& prekey_;
  std::map<std::string, PeerSessions> sessions_;  // by hex of the peer's identity key
};

}  // namespace sotto::client
