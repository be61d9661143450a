// The client's state key: one 32-byte key that encrypts everything the client keeps at rest
// (its RocksDB values and its session files, see client_store.h). It lives in
// `<home>/state.key`, either as is (no passphrase; the file is 0600 in a 0700 folder) or wrapped
// with a key derived from the user's passphrase by Argon2id (crypto_pwhash) and sealed with
// XSalsa20-Poly1305 (crypto_secretbox). Format: papers/e2ee-spec.md §11.
//
// Sealing values: XChaCha20-Poly1305 with a random 24-byte nonce, and associated data that names
// where the value is stored, so a value moved to another key or column fails to open.
//
// All functions are thread-safe.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "sotto/core/bytes.h"
#include "sotto/core/secret.h"
#include "sotto/core/status.h"

namespace sotto::client {

using StateKey = LockedSecret<32>;

inline constexpr std::size_t kSealOverhead = 24 + 16;  // nonce ‖ tag
inline constexpr std::size_t kMinPassphraseLength = 8;

// Argon2id cost. The defaults are libsodium's INTERACTIVE limits; tests may lower them.
struct PassphraseCost {
  unsigned long long opslimit = 2;             // crypto_pwhash_OPSLIMIT_INTERACTIVE
  std::size_t memlimit = 64ull * 1024 * 1024;  // crypto_pwhash_MEMLIMIT_INTERACTIVE
};

// Creates a fresh random state key and writes `<home>/state.key` atomically (0600). With a
// passphrase the key is stored wrapped; an empty optional stores it as is. InvalidArgument for a
// passphrase shorter than kMinPassphraseLength; IoError if the file exists or cannot be written.
Result<StateKey> CreateStateKey(const std::filesystem::path& home,
                                const std::optional<std::string>& passphrase,
                                const PassphraseCost& cost = {});

// True if `<home>/state.key` is wrapped with a passphrase. NotFound if there is no file;
// Corruption if it is not a state key file.
Result<bool> StateKeyNeedsPassphrase(const std::filesystem::path& home);

// Reads the state key. CryptoError "wrong passphrase" if the passphrase does not open it;
// InvalidArgument if a passphrase is needed and none was given; Corruption for a damaged file.
Result<StateKey> OpenStateKey(const std::filesystem::path& home,
                              const std::optional<std::string>& passphrase);

// XChaCha20-Poly1305 with a random nonce: nonce ‖ ciphertext ‖ tag.
Bytes SealValue(const StateKey& key, std::string_view where, ByteSpan plaintext);
// Corruption if the blob is too short, was altered, or was sealed for another `where`.
Result<Bytes> OpenValue(const StateKey& key, std::string_view where, ByteSpan sealed);

}  // namespace sotto::client
