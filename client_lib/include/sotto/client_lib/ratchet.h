// RatchetSession: the end-to-end encryption of one conversation, the Double Ratchet with header
// encryption of Perrin & Marlinspike (2016) with X25519, keyed-BLAKE2b KDFs and
// XChaCha20-Poly1305 (papers/e2ee-spec.md §4–§6). It starts from the AgreedSecret of x3dh.h.
//
// Guarantees: a message is pseudorandom bytes to anyone without the session's keys — the
// header (ratchet key, PN, N) is encrypted under a per-chain header key with a nonce derived
// from the body ciphertext, the body under a one-time message key; every message is
// authenticated as a whole together with the session's associated data; a message key is
// deleted as soon as it is used (a replay is rejected); messages may arrive out of order, across
// ratchet steps, as long as at most kMaxSkip keys are skipped; a failed Decrypt leaves the
// session exactly as it was, so a session can be tried on any mailbox item. Trying one costs at
// most kMaxSkippedHeaderKeys + 2 header decryptions when the item is not for this session.
//
// A session is a move-only value holding secrets (wiped on destruction). Not thread-safe: guard
// each session with a lock or keep it on one thread. The Rng passed in must outlive the session.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "sotto/client_lib/x3dh.h"
#include "sotto/core/bytes.h"
#include "sotto/core/keys.h"
#include "sotto/core/random.h"
#include "sotto/core/status.h"

namespace sotto::client {

inline constexpr std::size_t kRatchetHeaderSize = 40;  // DH public key ‖ PN (BE32) ‖ N (BE32)
inline constexpr std::size_t kAeadTagSize = 16;
inline constexpr std::size_t kEncryptedHeaderSize = kRatchetHeaderSize + kAeadTagSize;  // 56
inline constexpr std::size_t kRatchetOverhead = kEncryptedHeaderSize + kAeadTagSize;    // 72
// Most message keys one message may make us skip, and most skipped keys a session keeps.
inline constexpr std::uint32_t kMaxSkip = 1000;
// Most distinct header keys (chains) among the skipped keys a session keeps (oldest go first).
inline constexpr std::size_t kMaxSkippedHeaderKeys = 16;

class RatchetSession {
 public:
  // The initiator, right after StartSession; it may send at once.
  static Result<RatchetSession> Initiate(const AgreedSecret& agreed, const PublicKey& their_prekey,
                                         Rng& rng = SystemRng());
  // The responder, after AcceptSession; it can send once the first message has been decrypted.
  static RatchetSession Respond(const AgreedSecret& agreed, const PreKey& my_prekey,
                                Rng& rng = SystemRng());

  RatchetSession(RatchetSession&&) noexcept;
  RatchetSession& operator=(RatchetSession&&) noexcept;
  ~RatchetSession();

  // encrypted header ‖ AEAD ciphertext, kRatchetOverhead bytes longer than the plaintext.
  Result<Bytes> Encrypt(ByteSpan plaintext);
  // The plaintext, or an error naming the cause; on error the session is unchanged. CryptoError
  // "not for this session" when no header key held opens the header.
  Result<Bytes> Decrypt(ByteSpan message);

  // The whole state, for persistence (format in the spec, §6). It holds secret keys: encrypt it
  // at rest and sodium_memzero it when done.
  Bytes Serialize() const;
  // Corruption for a truncated, altered or unknown blob; never aborts on bad input. NotFound
  // (with a message saying so) for a state made by an older Sotto version (format 1): the
  // caller should treat the session as gone, not as damaged.
  static Result<RatchetSession> Deserialize(ByteSpan blob, Rng& rng = SystemRng());

 private:
  struct State;
  RatchetSession(std::unique_ptr<State> state, Rng& rng);
  std::unique_ptr<State> s_;
  Rng* rng_;
};

}  // namespace sotto::client
