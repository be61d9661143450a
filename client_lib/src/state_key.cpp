// The client's state key at rest, and sealing of stored values (papers/e2ee-spec.md §11).
//
// `<home>/state.key` (all integers big-endian):
//   magic "sotto-state-key-v1\n" (19) ‖ mode (1) ‖ body ‖ check (16)
//   mode 0 (plain):   body = key (32)                                          → 68 bytes
//   mode 1 (wrapped): body = salt (16) ‖ opslimit (8) ‖ memlimit (8) ‖ nonce (24)
//                            ‖ crypto_secretbox_easy(key) (48)                  → 140 bytes
//   check = unkeyed BLAKE2b-128 of everything before it
// The check tells a damaged file (Corruption) from a wrong passphrase (CryptoError), and catches
// a flipped bit in a plain key, which nothing else could. Argon2id's costs are read from the file
// only within fixed bounds, so a damaged or hostile file cannot make us allocate gigabytes.
#include "sotto/client_lib/state_key.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <string>
#include <system_error>

#include "sotto/core/keyfile.h"

namespace sotto::client {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kMagic = "sotto-state-key-v1\n";
constexpr std::uint8_t kModePlain = 0;
constexpr std::uint8_t kModeWrapped = 1;
constexpr std::size_t kCheckSize = 16;
constexpr std::size_t kKeySize = StateKey::kSize;
constexpr std::size_t kSaltSize = crypto_pwhash_SALTBYTES;
constexpr std::size_t kNonceSize = crypto_secretbox_NONCEBYTES;
constexpr std::size_t kWrappedKeySize = kKeySize + crypto_secretbox_MACBYTES;
constexpr std::size_t kHeaderSize = kMagic.size() + 1;
constexpr std::size_t kPlainFileSize = kHeaderSize + kKeySize + kCheckSize;
constexpr std::size_t kWrappedFileSize =
    kHeaderSize + kSaltSize + 8 + 8 + kNonceSize + kWrappedKeySize + kCheckSize;
static_assert(kPlainFileSize == 68 && kWrappedFileSize == 140);

// Bounds on the Argon2id costs accepted from a file or a caller. The upper memory bound is
// libsodium's SENSITIVE limit (1 GiB); 32 passes is eight times SENSITIVE.
constexpr unsigned long long kMinOpslimit = crypto_pwhash_argon2id_OPSLIMIT_MIN;
constexpr unsigned long long kMaxOpslimit = 32;
constexpr std::size_t kMinMemlimit = crypto_pwhash_argon2id_MEMLIMIT_MIN;
constexpr std::size_t kMaxMemlimit = 1024ull * 1024 * 1024;
static_assert(PassphraseCost{}.opslimit == crypto_pwhash_OPSLIMIT_INTERACTIVE);
static_assert(PassphraseCost{}.memlimit == crypto_pwhash_MEMLIMIT_INTERACTIVE);

using FileBuffer = Secret<kWrappedFileSize>;  // large enough for either mode

fs::path KeyPath(const fs::path& home) { return home / "state.key"; }

std::string ErrnoText(int err) { return std::generic_category().message(err); }

std::string Damaged(const fs::path& path, std::string_view what) {
  return fmt::format(
      "{} is not a usable Sotto state key file ({}); it is damaged. Restore it from a backup: "
      "without it nothing stored in {} can be read",
      path.string(), what, path.parent_path().string());
}

void PutU64(std::uint8_t* out, std::uint64_t v) {
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<std::uint8_t>(v);
    v >>= 8;
  }
}

std::uint64_t GetU64(const std::uint8_t* in) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | in[i];
  return v;
}

void ComputeCheck(const std::uint8_t* file, std::size_t size_without_check, std::uint8_t* out) {
  crypto_generichash(out, kCheckSize, file, size_without_check, nullptr, 0);
}

Status CostInBounds(unsigned long long opslimit, std::uint64_t memlimit) {
  if (opslimit < kMinOpslimit || opslimit > kMaxOpslimit || memlimit < kMinMemlimit ||
      memlimit > kMaxMemlimit) {
    return Status::InvalidArgument(fmt::format(
        "Argon2id cost out of range: opslimit {} (allowed {}..{}), memlimit {} bytes (allowed "
        "{}..{})",
        opslimit, kMinOpslimit, kMaxOpslimit, memlimit, kMinMemlimit, kMaxMemlimit));
  }
  return Status::Ok();
}

// The key that wraps the state key: Argon2id(passphrase, salt), 32 bytes.
Result<Secret<32>> DeriveWrapKey(const std::string& passphrase, const std::uint8_t* salt,
                                 unsigned long long opslimit, std::size_t memlimit) {
  Secret<32> wrap;
  if (crypto_pwhash(wrap.data(), wrap.size(), passphrase.data(), passphrase.size(), salt, opslimit,
                    memlimit, crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return Status::IoError(fmt::format(
        "cannot derive the state key's wrapping key from the passphrase: Argon2id needs {} MiB "
        "of memory and could not get it (free some memory and try again)",
        memlimit / (1024 * 1024)));
  }
  return wrap;
}

Status SyncDirectory(const fs::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    return Status::IoError(
        fmt::format("cannot open directory {} to sync it: {}", dir.string(), ErrnoText(errno)));
  }
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) {
    return Status::IoError(
        fmt::format("cannot sync directory {}: {}", dir.string(), ErrnoText(err)));
  }
  return Status::Ok();
}

// Writes `contents` to `path` atomically and never over an existing file: the bytes go to a
// uniquely named file first (WriteFileAtomically: temp + fsync + rename, 0600), which is then
// hard-linked into place (link(2) fails if the target exists, whoever created it) and removed.
Status WriteNewFile(const fs::path& path, ByteSpan contents) {
  std::array<std::uint8_t, 8> tag{};
  randombytes_buf(tag.data(), tag.size());
  const fs::path staged =
      path.parent_path() / ("." + path.filename().string() + ".new-" + ToHex(tag));
  const std::string_view text(reinterpret_cast<const char*>(contents.data()), contents.size());
  if (Status s = WriteFileAtomically(staged, text); !s.ok()) return s;
  const int rc = ::link(staged.c_str(), path.c_str());
  const int err = errno;
  ::unlink(staged.c_str());
  if (rc != 0) {
    if (err == EEXIST) {
      return Status::IoError(fmt::format(
          "{} already exists; refusing to overwrite it (it is the key to everything stored in {})",
          path.string(), path.parent_path().string()));
    }
    return Status::IoError(fmt::format("cannot create {}: {}", path.string(), ErrnoText(err)));
  }
  return SyncDirectory(path.parent_path());
}

// Reads the whole file into `buf` after checking it is a regular file only its owner can use;
// `size` receives its length (at most buf.size(), or Corruption).
Status ReadStateFile(const fs::path& path, FileBuffer& buf, std::size_t& size) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    const int err = errno;
    if (err == ENOENT) {
      return Status::NotFound(fmt::format(
          "there is no state key at {} (run `sotto init` to set up this client)", path.string()));
    }
    return Status::IoError(fmt::format("cannot open {}: {}", path.string(), ErrnoText(err)));
  }
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    return Status::IoError(fmt::format("cannot inspect {}: {}", path.string(), ErrnoText(errno)));
  }
  if (!S_ISREG(st.st_mode)) {
    return Status::Corruption(Damaged(path, "not a regular file"));
  }
  if ((st.st_mode & 077) != 0) {
    return Status::InvalidArgument(
        fmt::format("{} can be used by other users (mode {:04o}); run 'chmod 600 {}'",
                    path.string(), st.st_mode & 07777, path.string()));
  }
  size = 0;
  for (;;) {
    if (size == buf.size()) {
      std::uint8_t extra = 0;
      const ssize_t n = ::read(fd, &extra, 1);
      if (n > 0) return Status::Corruption(Damaged(path, "too long"));
      if (n == 0) break;
      if (errno == EINTR) continue;
      return Status::IoError(fmt::format("cannot read {}: {}", path.string(), ErrnoText(errno)));
    }
    const ssize_t n = ::read(fd, buf.data() + size, buf.size() - size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::IoError(fmt::format("cannot read {}: {}", path.string(), ErrnoText(errno)));
    }
    if (n == 0) break;
    size += static_cast<std::size_t>(n);
  }
  return Status::Ok();
}

// Checks size, magic, mode, check value and (mode 1) the Argon2id costs; returns the mode.
Result<std::uint8_t> ParseStateFile(const fs::path& path, const FileBuffer& buf, std::size_t size) {
  if (size < kHeaderSize || sodium_memcmp(buf.data(), kMagic.data(), kMagic.size()) != 0) {
    return Status::Corruption(Damaged(path, "it does not start with the state key magic"));
  }
  const std::uint8_t mode = buf.data()[kMagic.size()];
  if (mode != kModePlain && mode != kModeWrapped) {
    return Status::Corruption(Damaged(path, fmt::format("unknown mode {}", mode)));
  }
  const std::size_t expected = mode == kModePlain ? kPlainFileSize : kWrappedFileSize;
  if (size != expected) {
    return Status::Corruption(
        Damaged(path, fmt::format("{} bytes, expected {} for mode {}", size, expected, mode)));
  }
  std::array<std::uint8_t, kCheckSize> check{};
  ComputeCheck(buf.data(), size - kCheckSize, check.data());
  if (sodium_memcmp(check.data(), buf.data() + size - kCheckSize, kCheckSize) != 0) {
    return Status::Corruption(Damaged(path, "its check value does not match"));
  }
  if (mode == kModeWrapped) {
    const std::uint8_t* p = buf.data() + kHeaderSize + kSaltSize;
    if (!CostInBounds(GetU64(p), GetU64(p + 8)).ok()) {
      return Status::Corruption(Damaged(path, "its Argon2id cost is out of range"));
    }
  }
  return mode;
}

}  // namespace

Result<StateKey> CreateStateKey(const std::filesystem::path& home,
                                const std::optional<std::string>& passphrase,
                                const PassphraseCost& cost) {
  try {
    if (passphrase && passphrase->size() < kMinPassphraseLength) {
      return Status::InvalidArgument(
          fmt::format("the passphrase is too short ({} characters); use at least {}",
                      passphrase->size(), kMinPassphraseLength));
    }
    if (passphrase) {
      if (Status s = CostInBounds(cost.opslimit, cost.memlimit); !s.ok()) return s;
    }
    if (Status s = EnsurePrivateDirectory(home); !s.ok()) return s;
    const fs::path path = KeyPath(home);
    std::error_code ec;
    if (fs::symlink_status(path, ec).type() != fs::file_type::not_found) {
      return Status::IoError(fmt::format(
          "{} already exists; refusing to overwrite it (it is the key to everything stored in {})",
          path.string(), home.string()));
    }

    StateKey key;
    randombytes_buf(key.data(), key.size());
    FileBuffer file;
    std::uint8_t* out = file.data();
    std::copy(kMagic.begin(), kMagic.end(), out);
    std::size_t pos = kMagic.size();
    if (!passphrase) {
      out[pos++] = kModePlain;
      std::copy(key.data(), key.data() + kKeySize, out + pos);
      pos += kKeySize;
    } else {
      out[pos++] = kModeWrapped;
      std::uint8_t* salt = out + pos;
      randombytes_buf(salt, kSaltSize);
      pos += kSaltSize;
      PutU64(out + pos, cost.opslimit);
      PutU64(out + pos + 8, cost.memlimit);
      pos += 16;
      std::uint8_t* nonce = out + pos;
      randombytes_buf(nonce, kNonceSize);
      pos += kNonceSize;
      auto wrap = DeriveWrapKey(*passphrase, salt, cost.opslimit, cost.memlimit);
      if (!wrap.ok()) return wrap.status();
      crypto_secretbox_easy(out + pos, key.data(), kKeySize, nonce, wrap->data());
      pos += kWrappedKeySize;
    }
    ComputeCheck(out, pos, out + pos);
    pos += kCheckSize;
    if (Status s = WriteNewFile(path, ByteSpan(out, pos)); !s.ok()) return s;
    return key;
  } catch (const std::exception& e) {
    return Status::Internal(
        fmt::format("cannot create the state key in {}: {}", home.string(), e.what()));
  }
}

Result<bool> StateKeyNeedsPassphrase(const std::filesystem::path& home) {
  const fs::path path = KeyPath(home);
  FileBuffer buf;
  std::size_t size = 0;
  if (Status s = ReadStateFile(path, buf, size); !s.ok()) return s;
  auto mode = ParseStateFile(path, buf, size);
  if (!mode.ok()) return mode.status();
  return *mode == kModeWrapped;
}

Result<StateKey> OpenStateKey(const std::filesystem::path& home,
                              const std::optional<std::string>& passphrase) {
  try {
    const fs::path path = KeyPath(home);
    FileBuffer buf;
    std::size_t size = 0;
    if (Status s = ReadStateFile(path, buf, size); !s.ok()) return s;
    auto mode = ParseStateFile(path, buf, size);
    if (!mode.ok()) return mode.status();
    const std::uint8_t* body = buf.data() + kHeaderSize;
    StateKey key;
    if (*mode == kModePlain) {  // a passphrase given for a plain key is not needed; ignored
      std::copy(body, body + kKeySize, key.data());
      return key;
    }
    if (!passphrase) {
      return Status::InvalidArgument(fmt::format(
          "the state key {} is protected by a passphrase; give the passphrase", path.string()));
    }
    const std::uint8_t* salt = body;
    const std::uint64_t opslimit = GetU64(body + kSaltSize);
    const std::uint64_t memlimit = GetU64(body + kSaltSize + 8);
    const std::uint8_t* nonce = body + kSaltSize + 16;
    const std::uint8_t* wrapped = nonce + kNonceSize;
    auto wrap = DeriveWrapKey(*passphrase, salt, opslimit, static_cast<std::size_t>(memlimit));
    if (!wrap.ok()) return wrap.status();
    if (crypto_secretbox_open_easy(key.data(), wrapped, kWrappedKeySize, nonce, wrap->data()) !=
        0) {
      return Status::CryptoError(fmt::format("wrong passphrase for {}; try again", path.string()));
    }
    return key;
  } catch (const std::exception& e) {
    return Status::Internal(
        fmt::format("cannot open the state key in {}: {}", home.string(), e.what()));
  }
}

Bytes SealValue(const StateKey& key, std::string_view where, ByteSpan plaintext) {
  Bytes out(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + plaintext.size() +
            crypto_aead_xchacha20poly1305_ietf_ABYTES);
  static_assert(kSealOverhead == crypto_aead_xchacha20poly1305_ietf_NPUBBYTES +
                                     crypto_aead_xchacha20poly1305_ietf_ABYTES);
  std::uint8_t* nonce = out.data();
  randombytes_buf(nonce, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
  unsigned long long written = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(nonce + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
                                             &written, plaintext.data(), plaintext.size(),
                                             reinterpret_cast<const unsigned char*>(where.data()),
                                             where.size(), nullptr, nonce, key.data());
  SOTTO_CHECK(written + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES == out.size());
  return out;
}

Result<Bytes> OpenValue(const StateKey& key, std::string_view where, ByteSpan sealed) {
  if (sealed.size() < kSealOverhead) {
    return Status::Corruption(
        fmt::format("stored value at {} is truncated ({} bytes)", where, sealed.size()));
  }
  Bytes out(sealed.size() - kSealOverhead);
  const std::uint8_t* nonce = sealed.data();
  unsigned long long written = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
          out.data(), &written, nullptr, nonce + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
          sealed.size() - crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
          reinterpret_cast<const unsigned char*>(where.data()), where.size(), nonce,
          key.data()) != 0) {
    return Status::Corruption(fmt::format(
        "stored value at {} does not open with the state key: it was altered, damaged, or "
        "belongs elsewhere",
        where));
  }
  return out;
}

}  // namespace sotto::client
