// The client store's record formats (internal to client_lib; client_store.cpp and store_impl.cpp
// use it). A record is a version byte (1; 2 for outbox entries written since issue 9, which
// carry the body, kind, not-before time and seal count; version 1 outbox entries are still read)
// and fields in a fixed order: integers big-endian,
// strings and byte strings as a u32 length and the bytes. Decoding rejects anything else
// (nullopt; the store reports Corruption). Plaintext records are wiped as soon as they are
// sealed or decoded: Writer and Plain wipe their buffers on destruction.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "sotto/client_lib/client_store.h"
#include "sotto/core/bytes.h"

namespace sotto::client::store_internal {

inline constexpr std::uint8_t kRecordVersion = 1;
inline constexpr std::uint8_t kOutboxRecordVersion = 2;
inline constexpr std::size_t kMaxNameLength = 32;
// The encoded size of a history entry without its text, of an outbox entry without its packet.
inline constexpr std::size_t kHistoryFixedSize = 1 + 16 + 32 + 1 + 1 + 4 + 8 + 8 + 8 + 1 + 8;
inline constexpr std::size_t kOutboxFixedSize =
    1 + 8 + 16 + 32 + 32 + 32 + 4 + 8 + 4 + 1 + 4 + 8 + 4;

// A sequence number as a database key: 8 bytes, big-endian (so keys sort by number).
using SeqKey = std::array<std::uint8_t, 8>;
SeqKey EncodeSeq(std::uint64_t seq);
std::uint64_t DecodeSeq(ByteSpan b);  // the first 8 bytes of b

// A plaintext buffer that wipes itself.
class Plain {
 public:
  Plain() = default;
  explicit Plain(Bytes b) : b_(std::move(b)) {}
  Plain(Plain&& o) noexcept : b_(std::move(o.b_)) {}
  Plain& operator=(Plain&&) = delete;
  Plain(const Plain&) = delete;
  Plain& operator=(const Plain&) = delete;
  ~Plain();
  ByteSpan span() const { return b_; }

 private:
  Bytes b_;
};

// Record encoder. The buffer is reserved up front (so no unwiped copy is left behind by a
// reallocation, as long as the estimate holds) and wiped on destruction.
class Writer {
 public:
  explicit Writer(std::size_t capacity, std::uint8_t version = kRecordVersion);
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;
  ~Writer();

  void U8(std::uint8_t v);
  void U32(std::uint32_t v);
  void U64(std::uint64_t v);
  void I64(std::int64_t v);
  void Raw(ByteSpan b);
  void Blob(ByteSpan b);
  void Str(std::string_view s);
  ByteSpan bytes() const { return out_; }

 private:
  Bytes out_;
};

// Record decoder: every read fails (and stays failed) once the input runs out, and at once for a
// version byte above `max_version` (or 0).
class Reader {
 public:
  explicit Reader(ByteSpan b, std::uint8_t max_version = kRecordVersion);
  std::uint8_t version() const { return version_; }
  void U8(std::uint8_t& v);
  void U32(std::uint32_t& v);
  void U64(std::uint64_t& v);
  void I64(std::int64_t& v);
  void Raw(std::span<std::uint8_t> out);
  void Blob(Bytes& out);
  void Str(std::string& out);
  bool Done() const { return ok_ && pos_ == b_.size(); }

 private:
  bool Take(std::size_t n);
  ByteSpan b_;
  std::size_t pos_ = 0;
  bool ok_ = true;
  std::uint8_t version_ = 0;
};

// A contact name: 1 to kMaxNameLength ASCII letters, digits, '.', '_' or '-', not starting
// with '.' or '-'.
bool ValidName(std::string_view name);

// A name as it may appear in a message: printable ASCII only, at most 40 characters.
std::string Printable(std::string_view name);

bool ValidDirection(Direction d);
bool ValidStatus(DeliveryStatus s);

void EncodeProfile(const Profile& p, Writer& w);
std::optional<Profile> DecodeProfile(ByteSpan b);

void EncodeContact(const Contact& c, Writer& w);
std::optional<Contact> DecodeContact(ByteSpan b);  // also checks the name

void EncodeHistory(const HistoryEntry& e, Writer& w);
std::optional<HistoryEntry> DecodeHistory(ByteSpan b);

// Writes version 2 (the Writer must be made with kOutboxRecordVersion); reads 1 and 2.
void EncodeOutbox(const OutboxEntry& o, Writer& w);
std::optional<OutboxEntry> DecodeOutbox(ByteSpan b);

void EncodeSettings(const Settings& s, Writer& w);
std::optional<Settings> DecodeSettings(ByteSpan b);

}  // namespace sotto::client::store_internal
