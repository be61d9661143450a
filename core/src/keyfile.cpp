// Key files on disk: private directories, atomic writes (temp file + fsync + rename + fsync of
// the directory) and strict loading. POSIX calls throughout, so that modes and durability are
// exactly what the header promises; nothing here ever formats key bytes into a message.
#include "sotto/core/keyfile.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <system_error>
#include <vector>

#include "sotto/core/bytes.h"

namespace sotto {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kHexDigits = 64;
constexpr std::size_t kKeyFileSize = kHexDigits + 1;  // 64 hex digits and '\n'
constexpr mode_t kGroupOtherBits = 077;

std::string ErrnoText(int err) { return std::generic_category().message(err); }
std::string Mode(mode_t mode) { return fmt::format("{:04o}", mode & 07777); }

// "readable" / "writable" / "accessible", for the message about a too-open file or directory.
std::string_view Exposure(mode_t mode) {
  if ((mode & 044) != 0) return "readable";
  if ((mode & 022) != 0) return "writable";
  return "accessible";
}

// The directory a file lives in ("." for a bare file name).
fs::path ParentDir(const fs::path& path) {
  fs::path parent = path.parent_path();
  return parent.empty() ? fs::path(".") : parent;
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  // Closes now and reports the error close(2) returned (it can report a failed write-back).
  int Close() {
    const int rc = ::close(fd_);
    fd_ = -1;
    return rc;
  }

 private:
  int fd_;
};

// Removes the temporary file unless the write completed.
class TempFileGuard {
 public:
  explicit TempFileGuard(std::string path) : path_(std::move(path)) {}
  TempFileGuard(const TempFileGuard&) = delete;
  TempFileGuard& operator=(const TempFileGuard&) = delete;
  ~TempFileGuard() {
    if (!path_.empty()) ::unlink(path_.c_str());
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

Status WriteAll(int fd, ByteSpan data, const fs::path& path) {
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::IoError(
          fmt::format("cannot write a temporary file for {}: {}", path.string(), ErrnoText(errno)));
    }
    done += static_cast<std::size_t>(n);
  }
  return Status::Ok();
}

// Makes a rename or link in `dir` durable.
Status SyncDirectory(const fs::path& dir) {
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) {
    return Status::IoError(
        fmt::format("cannot open directory {} to sync it: {}", dir.string(), ErrnoText(errno)));
  }
  if (::fsync(fd.get()) != 0) {
    return Status::IoError(
        fmt::format("cannot sync directory {}: {}", dir.string(), ErrnoText(errno)));
  }
  return Status::Ok();
}

// Refuses a directory that group or others can access, or that does not exist.
Status CheckPrivateDirectory(const fs::path& dir) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) {
    const int err = errno;
    if (err == ENOENT) {
      return Status::NotFound(fmt::format("directory {} does not exist", dir.string()));
    }
    return Status::IoError(
        fmt::format("cannot inspect directory {}: {}", dir.string(), ErrnoText(err)));
  }
  if (!S_ISDIR(st.st_mode)) {
    return Status::InvalidArgument(fmt::format("{} exists and is not a directory", dir.string()));
  }
  if ((st.st_mode & kGroupOtherBits) != 0) {
    return Status::InvalidArgument(
        fmt::format("directory {} is {} by other users (mode {}); run 'chmod 700 {}'", dir.string(),
                    Exposure(st.st_mode), Mode(st.st_mode), dir.string()));
  }
  return Status::Ok();
}

// Temp file in the same directory, fsync, then rename (overwrite) or link (no overwrite: link(2)
// fails atomically if the target exists), then fsync the directory.
Status WriteAtomically(const fs::path& path, ByteSpan contents, bool overwrite) {
  if (!path.has_filename()) {
    return Status::InvalidArgument(fmt::format("{} names a directory, not a file", path.string()));
  }
  const fs::path dir = ParentDir(path);
  std::string tmpl = (dir / ("." + path.filename().string() + ".tmp-XXXXXX")).string();
  const int raw_fd = ::mkostemp(tmpl.data(), O_CLOEXEC);  // created with mode 0600
  if (raw_fd < 0) {
    return Status::IoError(
        fmt::format("cannot create a temporary file in {}: {}", dir.string(), ErrnoText(errno)));
  }
  Fd fd(raw_fd);
  TempFileGuard guard(tmpl);
  if (::fchmod(fd.get(), 0600) != 0) {
    return Status::IoError(
        fmt::format("cannot set mode 0600 on {}: {}", guard.path(), ErrnoText(errno)));
  }
  if (Status s = WriteAll(fd.get(), contents, path); !s.ok()) return s;
  if (::fsync(fd.get()) != 0) {
    return Status::IoError(fmt::format("cannot sync {}: {}", guard.path(), ErrnoText(errno)));
  }
  if (fd.Close() != 0) {
    return Status::IoError(fmt::format("cannot close {}: {}", guard.path(), ErrnoText(errno)));
  }
  if (overwrite) {
    if (::rename(guard.path().c_str(), path.c_str()) != 0) {
      return Status::IoError(
          fmt::format("cannot rename {} to {}: {}", guard.path(), path.string(), ErrnoText(errno)));
    }
  } else if (::link(guard.path().c_str(), path.c_str()) != 0) {
    const int err = errno;
    if (err == EEXIST) {
      return Status::InvalidArgument(fmt::format(
          "{} already exists; refusing to overwrite it (move it away first if you mean to replace "
          "it)",
          path.string()));
    }
    return Status::IoError(fmt::format("cannot create {}: {}", path.string(), ErrnoText(err)));
  }
  // After rename the temporary name is gone; after link it still exists and the guard unlinks
  // it. Either way the directory entry for `path` must reach the disk.
  return SyncDirectory(dir);
}

Status EnsurePrivateDirectoryImpl(fs::path dir) {
  if (dir.empty()) return Status::InvalidArgument("empty directory path");
  if (!dir.has_filename() && dir.has_relative_path()) dir = dir.parent_path();  // "a/b/" → "a/b"
  // Collect the missing components, deepest first.
  std::vector<fs::path> missing;
  for (fs::path p = dir; !p.empty(); p = p.parent_path()) {
    struct stat st {};
    if (::stat(p.c_str(), &st) == 0) break;
    if (errno != ENOENT) {
      return Status::IoError(fmt::format("cannot inspect {}: {}", p.string(), ErrnoText(errno)));
    }
    missing.push_back(p);
    if (p == p.parent_path()) break;
  }
  for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
    if (::mkdir(it->c_str(), 0700) != 0) {
      if (errno == EEXIST) continue;  // created concurrently; checked below
      return Status::IoError(
          fmt::format("cannot create directory {}: {}", it->string(), ErrnoText(errno)));
    }
    // mkdir applies the umask, which may have removed owner bits; set exactly 0700.
    if (::chmod(it->c_str(), 0700) != 0) {
      return Status::IoError(
          fmt::format("cannot set mode 0700 on {}: {}", it->string(), ErrnoText(errno)));
    }
  }
  return CheckPrivateDirectory(dir);
}

Status ReadKeyFileInto(const fs::path& path, LockedSecret<32>& key) {
  const std::string name = path.string();
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (fd.get() < 0) {
    const int err = errno;
    if (err == ENOENT) return Status::NotFound(fmt::format("key file {} does not exist", name));
    return Status::IoError(fmt::format("cannot open key file {}: {}", name, ErrnoText(err)));
  }
  // Checks on the opened file, so a swap between check and read is impossible.
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    return Status::IoError(fmt::format("cannot inspect key file {}: {}", name, ErrnoText(errno)));
  }
  if (!S_ISREG(st.st_mode)) {
    return Status::InvalidArgument(fmt::format("key file {} is not a regular file", name));
  }
  if ((st.st_mode & kGroupOtherBits) != 0) {
    return Status::InvalidArgument(
        fmt::format("key file {} is {} by other users (mode {}); run 'chmod 600 {}'", name,
                    Exposure(st.st_mode), Mode(st.st_mode), name));
  }
  const std::string damaged =
      "it is damaged or not a Sotto key file; restore it from a backup, or move it away and "
      "create a new key";
  if (st.st_size != static_cast<off_t>(kKeyFileSize)) {
    return Status::Corruption(fmt::format(
        "key file {} has {} bytes, but a key file holds exactly {} (64 hex digits and a "
        "newline); {}",
        name, st.st_size, kKeyFileSize, damaged));
  }
  // One byte of room beyond the expected size detects a file that grew after fstat.
  Secret<kKeyFileSize + 1> buf;
  std::size_t got = 0;
  while (got < buf.size()) {
    const ssize_t n = ::read(fd.get(), buf.data() + got, buf.size() - got);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::IoError(fmt::format("cannot read key file {}: {}", name, ErrnoText(errno)));
    }
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  if (got != kKeyFileSize) {
    return Status::Corruption(
        fmt::format("key file {} changed size while it was read; {}", name, damaged));
  }
  const char* hex = reinterpret_cast<const char*>(buf.data());
  std::size_t decoded = 0;
  const char* end = nullptr;
  // sodium_hex2bin and sodium_memcmp are constant-time in the key bytes.
  const bool parsed =
      buf.data()[kHexDigits] == '\n' &&
      sodium_hex2bin(key.data(), key.size(), hex, kHexDigits, nullptr, &decoded, &end) == 0 &&
      decoded == key.size() && end == hex + kHexDigits;
  Secret<kKeyFileSize> lower;  // re-encoded: the file must be lowercase exactly
  sodium_bin2hex(reinterpret_cast<char*>(lower.data()), lower.size(), key.data(), key.size());
  if (!parsed || sodium_memcmp(lower.data(), buf.data(), kHexDigits) != 0) {
    sodium_memzero(key.data(), key.size());
    return Status::Corruption(fmt::format(
        "key file {} does not hold 64 lowercase hex digits and a newline; {}", name, damaged));
  }
  return Status::Ok();
}

Status FilesystemError(const fs::filesystem_error& e) {
  return Status::IoError(fmt::format("file system error: {}", e.what()));
}

}  // namespace

Status EnsurePrivateDirectory(const std::filesystem::path& dir) {
  try {
    return EnsurePrivateDirectoryImpl(dir);
  } catch (const fs::filesystem_error& e) {
    return FilesystemError(e);
  }
}

Status WriteKeyFile(const std::filesystem::path& path, const LockedSecret<32>& key,
                    bool overwrite) {
  try {
    if (Status s = CheckPrivateDirectory(ParentDir(path)); !s.ok()) {
      const std::string context = fmt::format("cannot write key file {}: ", path.string());
      switch (s.code()) {
        case Status::Code::kNotFound:
          return Status::NotFound(context + s.message() +
                                  " (create it first with mode 0700: key files live in a private "
                                  "directory)");
        case Status::Code::kInvalidArgument:
          return Status::InvalidArgument(context + s.message());
        default:
          return s;
      }
    }
    Secret<kKeyFileSize> text;  // 64 hex digits and '\n', wiped on return
    sodium_bin2hex(reinterpret_cast<char*>(text.data()), text.size(), key.data(), key.size());
    text.data()[kHexDigits] = '\n';
    return WriteAtomically(path, text.Bytes(), overwrite);
  } catch (const fs::filesystem_error& e) {
    return FilesystemError(e);
  }
}

Result<LockedSecret<32>> ReadKeyFile(const std::filesystem::path& path) {
  try {
    LockedSecret<32> key;
    if (Status s = ReadKeyFileInto(path, key); !s.ok()) return s;
    return key;
  } catch (const fs::filesystem_error& e) {
    return FilesystemError(e);
  }
}

Status WriteFileAtomically(const std::filesystem::path& path, std::string_view contents) {
  try {
    const auto* bytes = reinterpret_cast<const std::uint8_t*>(contents.data());
    return WriteAtomically(path, ByteSpan(bytes, contents.size()), /*overwrite=*/true);
  } catch (const fs::filesystem_error& e) {
    return FilesystemError(e);
  }
}

}  // namespace sotto
