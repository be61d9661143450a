// Key files: private directories, modes 0700/0600, atomic replacement, refusal of exposed or
// damaged files — and no key bytes in any error message.
#include "sotto/core/keyfile.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "sotto/core/bytes.h"

namespace fs = std::filesystem;
using sotto::LockedSecret;
using sotto::Status;

namespace {

// A fresh private directory under /tmp for one test, removed afterwards.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = "/tmp/sotto-keyfile-test-XXXXXX";
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    path_ = tmpl;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ec;
    // Restore permissions a test may have removed, so everything can be deleted.
    for (const auto& entry : fs::recursive_directory_iterator(path_, ec)) {
      if (entry.is_directory()) ::chmod(entry.path().c_str(), 0700);
    }
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

mode_t ModeOf(const fs::path& p) {
  struct stat st {};
  REQUIRE(::stat(p.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

std::string ReadAll(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteRaw(const fs::path& p, const std::string& contents, mode_t mode) {
  {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out << contents;
  }
  REQUIRE(::chmod(p.c_str(), mode) == 0);
}

LockedSecret<32> TestKey(std::uint8_t first) {
  LockedSecret<32> key;
  for (std::size_t i = 0; i < key.size(); ++i) {
    key.MutableBytes()[i] = static_cast<std::uint8_t>(first + 7 * i);
  }
  return key;
}

std::string KeyHex(const LockedSecret<32>& key) { return sotto::ToHex(key.Bytes()); }

// No run of 8 hex digits of the key appears in `message` (a prefix, a suffix, anything between).
void CheckNoKeyBytes(const std::string& message, const LockedSecret<32>& key) {
  const std::string hex = KeyHex(key);
  for (std::size_t i = 0; i + 8 <= hex.size(); i += 2) {
    INFO("message: " << message);
    CHECK(message.find(hex.substr(i, 8)) == std::string::npos);
  }
}

// Files in `dir` (temporary files would show up here).
std::size_t EntryCount(const fs::path& dir) {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir)) ++n;
  return n;
}

}  // namespace

TEST_CASE("EnsurePrivateDirectory creates missing directories with mode 0700", "[core][keyfile]") {
  TempDir tmp;
  const fs::path dir = tmp.path() / "a" / "b" / "keys";
  REQUIRE(sotto::EnsurePrivateDirectory(dir).ok());
  CHECK(fs::is_directory(dir));
  CHECK(ModeOf(tmp.path() / "a") == 0700);
  CHECK(ModeOf(tmp.path() / "a" / "b") == 0700);
  CHECK(ModeOf(dir) == 0700);
  // Idempotent, also with a trailing slash.
  CHECK(sotto::EnsurePrivateDirectory(dir).ok());
  CHECK(sotto::EnsurePrivateDirectory(dir.string() + "/").ok());
}

TEST_CASE("EnsurePrivateDirectory gives 0700 even under a hostile umask", "[core][keyfile]") {
  TempDir tmp;
  const mode_t old = ::umask(0777);
  const Status s = sotto::EnsurePrivateDirectory(tmp.path() / "keys");
  ::umask(old);
  REQUIRE(s.ok());
  CHECK(ModeOf(tmp.path() / "keys") == 0700);
}

TEST_CASE("EnsurePrivateDirectory refuses an exposed directory and a file", "[core][keyfile]") {
  TempDir tmp;
  const fs::path open_dir = tmp.path() / "open";
  REQUIRE(::mkdir(open_dir.c_str(), 0700) == 0);
  REQUIRE(::chmod(open_dir.c_str(), 0755) == 0);
  const Status s = sotto::EnsurePrivateDirectory(open_dir);
  REQUIRE_FALSE(s.ok());
  CHECK(s.code() == Status::Code::kInvalidArgument);
  CHECK(s.message() == "directory " + open_dir.string() +
                           " is readable by other users (mode 0755); run 'chmod 700 " +
                           open_dir.string() + "'");
  CHECK(ModeOf(open_dir) == 0755);  // reported, not silently changed

  const fs::path file = tmp.path() / "file";
  WriteRaw(file, "x", 0600);
  const Status f = sotto::EnsurePrivateDirectory(file);
  REQUIRE_FALSE(f.ok());
  CHECK_THAT(f.message(), Catch::Contains("not a directory"));
}

TEST_CASE("a key file round-trips with mode 0600 and the documented format", "[core][keyfile]") {
  TempDir tmp;
  const fs::path path = tmp.path() / "identity.key";
  const LockedSecret<32> key = TestKey(1);
  REQUIRE(sotto::WriteKeyFile(path, key).ok());
  CHECK(ModeOf(path) == 0600);
  CHECK(ReadAll(path) == KeyHex(key) + "\n");
  CHECK(EntryCount(tmp.path()) == 1);  // no temporary file left behind

  auto loaded = sotto::ReadKeyFile(path);
  REQUIRE(loaded.ok());
  CHECK(loaded->CtEqual(key));
}

TEST_CASE("a key file is 0600 even under a permissive umask", "[core][keyfile]") {
  TempDir tmp;
  const mode_t old = ::umask(0);
  const Status s = sotto::WriteKeyFile(tmp.path() / "k", TestKey(2));
  ::umask(old);
  REQUIRE(s.ok());
  CHECK(ModeOf(tmp.path() / "k") == 0600);
}

TEST_CASE("WriteKeyFile overwrites only when asked, and replaces atomically", "[core][keyfile]") {
  TempDir tmp;
  const fs::path path = tmp.path() / "identity.key";
  const LockedSecret<32> old_key = TestKey(10);
  const LockedSecret<32> new_key = TestKey(20);
  REQUIRE(sotto::WriteKeyFile(path, old_key).ok());

  const Status refused = sotto::WriteKeyFile(path, new_key);
  REQUIRE_FALSE(refused.ok());
  CHECK_THAT(refused.message(), Catch::Contains("already exists"));
  CheckNoKeyBytes(refused.message(), new_key);
  CHECK(ReadAll(path) == KeyHex(old_key) + "\n");
  CHECK(EntryCount(tmp.path()) == 1);

  // A reader that opened the old file keeps seeing the whole old key: the new key arrives as a
  // new file renamed over the name, never by rewriting the old one in place.
  const int reader = ::open(path.c_str(), O_RDONLY);
  REQUIRE(reader >= 0);
  REQUIRE(sotto::WriteKeyFile(path, new_key, /*overwrite=*/true).ok());
  std::string seen(65, '\0');
  CHECK(::pread(reader, seen.data(), seen.size(), 0) == 65);
  ::close(reader);
  CHECK(seen == KeyHex(old_key) + "\n");
  CHECK(ReadAll(path) == KeyHex(new_key) + "\n");
  CHECK(ModeOf(path) == 0600);
  CHECK(EntryCount(tmp.path()) == 1);
}

TEST_CASE("WriteKeyFile refuses a directory others can read, and a missing one",
          "[core][keyfile]") {
  TempDir tmp;
  const fs::path open_dir = tmp.path() / "open";
  REQUIRE(::mkdir(open_dir.c_str(), 0755) == 0);
  REQUIRE(::chmod(open_dir.c_str(), 0755) == 0);
  const LockedSecret<32> key = TestKey(3);
  const Status s = sotto::WriteKeyFile(open_dir / "k", key);
  REQUIRE_FALSE(s.ok());
  CHECK(s.code() == Status::Code::kInvalidArgument);
  CHECK_THAT(s.message(), Catch::Contains("chmod 700 " + open_dir.string()));
  CHECK_FALSE(fs::exists(open_dir / "k"));
  CHECK(EntryCount(open_dir) == 0);

  const Status missing = sotto::WriteKeyFile(tmp.path() / "nowhere" / "k", key);
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.code() == Status::Code::kNotFound);
}

TEST_CASE("ReadKeyFile refuses files other users can access", "[core][keyfile]") {
  TempDir tmp;
  const fs::path path = tmp.path() / "identity.key";
  const LockedSecret<32> key = TestKey(4);
  REQUIRE(sotto::WriteKeyFile(path, key).ok());

  REQUIRE(::chmod(path.c_str(), 0644) == 0);
  auto r = sotto::ReadKeyFile(path);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Status::Code::kInvalidArgument);
  CHECK(r.status().message() == "key file " + path.string() +
                                    " is readable by other users (mode 0644); run 'chmod 600 " +
                                    path.string() + "'");
  CheckNoKeyBytes(r.status().message(), key);

  for (mode_t mode : {0640, 0604, 0620, 0602, 0610}) {
    REQUIRE(::chmod(path.c_str(), mode) == 0);
    INFO("mode " << std::oct << mode);
    auto refused = sotto::ReadKeyFile(path);
    REQUIRE_FALSE(refused.ok());
    CHECK_THAT(refused.status().message(), Catch::Contains("run 'chmod 600"));
  }
  REQUIRE(::chmod(path.c_str(), 0400) == 0);  // owner-only read is fine
  CHECK(sotto::ReadKeyFile(path).ok());
}

TEST_CASE("ReadKeyFile refuses damaged files without printing their bytes", "[core][keyfile]") {
  TempDir tmp;
  const fs::path path = tmp.path() / "identity.key";
  const LockedSecret<32> key = TestKey(5);
  const std::string hex = KeyHex(key);
  std::string upper = hex;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  std::string bad_digit = hex;
  bad_digit[17] = 'g';

  const std::pair<const char*, std::string> cases[] = {
      {"empty", ""},
      {"short", hex.substr(0, 30)},
      {"no newline", hex},
      {"trailing data", hex + "\n\n"},
      {"two keys", hex + "\n" + hex + "\n"},
      {"upper case", upper + "\n"},
      {"not hex", bad_digit + "\n"},
      {"wrong terminator", hex + " "},
      {"CRLF", hex.substr(0, 63) + "\r\n"},
  };
  for (const auto& [what, contents] : cases) {
    INFO(what);
    WriteRaw(path, contents, 0600);
    auto r = sotto::ReadKeyFile(path);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Status::Code::kCorruption);
    CHECK_THAT(r.status().message(), Catch::Contains(path.string()));
    CHECK_THAT(r.status().message(), Catch::Contains("restore it from a backup"));
    CheckNoKeyBytes(r.status().message(), key);
  }
}

TEST_CASE("ReadKeyFile: missing file and not a regular file", "[core][keyfile]") {
  TempDir tmp;
  auto missing = sotto::ReadKeyFile(tmp.path() / "none.key");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().code() == Status::Code::kNotFound);
  CHECK_THAT(missing.status().message(), Catch::Contains("does not exist"));

  auto dir = sotto::ReadKeyFile(tmp.path());
  REQUIRE_FALSE(dir.ok());
  CHECK_THAT(dir.status().message(), Catch::Contains("not a regular file"));
}

TEST_CASE("WriteFileAtomically writes and replaces small public files", "[core][keyfile]") {
  TempDir tmp;
  const fs::path path = tmp.path() / "descriptor.json";
  REQUIRE(sotto::WriteFileAtomically(path, "first").ok());
  CHECK(ReadAll(path) == "first");
  CHECK(ModeOf(path) == 0600);
  REQUIRE(sotto::WriteFileAtomically(path, std::string(100000, 'x')).ok());
  CHECK(ReadAll(path) == std::string(100000, 'x'));
  REQUIRE(sotto::WriteFileAtomically(path, "").ok());
  CHECK(ReadAll(path).empty());
  CHECK(EntryCount(tmp.path()) == 1);

  const Status s = sotto::WriteFileAtomically(tmp.path() / "missing" / "f", "x");
  REQUIRE_FALSE(s.ok());
  CHECK_THAT(s.message(), Catch::Contains("cannot create a temporary file"));
}
