// The client store's record formats: the encoder, the decoder and one Encode/Decode pair per
// record (store_records.h).
#include "store_records.h"

#include <sodium.h>

#include <algorithm>
#include <cctype>

namespace sotto::client::store_internal {

// ---- Bytes helpers ----

SeqKey EncodeSeq(std::uint64_t seq) {
  SeqKey out{};
  for (std::size_t i = 0; i < 8; ++i) out[7 - i] = static_cast<std::uint8_t>(seq >> (8 * i));
  return out;
}
std::uint64_t DecodeSeq(ByteSpan b) {
  std::uint64_t v = 0;
  for (std::uint8_t byte : b.first(8)) v = (v << 8) | byte;
  return v;
}

Plain::~Plain() { sodium_memzero(b_.data(), b_.size()); }

// ---- Writer ----

Writer::Writer(std::size_t capacity, std::uint8_t version) {
  out_.reserve(capacity);
  out_.push_back(version);
}
Writer::~Writer() { sodium_memzero(out_.data(), out_.size()); }

void Writer::U8(std::uint8_t v) { out_.push_back(v); }
void Writer::U32(std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8)
    out_.push_back(static_cast<std::uint8_t>(v >> shift));
}
void Writer::U64(std::uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8)
    out_.push_back(static_cast<std::uint8_t>(v >> shift));
}
void Writer::I64(std::int64_t v) { U64(static_cast<std::uint64_t>(v)); }
void Writer::Raw(ByteSpan b) { out_.insert(out_.end(), b.begin(), b.end()); }
void Writer::Blob(ByteSpan b) {
  U32(static_cast<std::uint32_t>(b.size()));
  Raw(b);
}
void Writer::Str(std::string_view s) {
  Blob(ByteSpan(reinterpret_cast<const std::uint8_t*>(s.data()), s.size()));
}

// ---- Reader ----

Reader::Reader(ByteSpan b, std::uint8_t max_version) : b_(b) {
  U8(version_);
  if (version_ == 0 || version_ > max_version) ok_ = false;
}
void Reader::U8(std::uint8_t& v) {
  if (Take(1)) v = b_[pos_ - 1];
}
void Reader::U32(std::uint32_t& v) {
  if (!Take(4)) return;
  v = 0;
  for (std::size_t i = pos_ - 4; i < pos_; ++i) v = (v << 8) | b_[i];
}
void Reader::U64(std::uint64_t& v) {
  if (!Take(8)) return;
  v = DecodeSeq(b_.subspan(pos_ - 8));
}
void Reader::I64(std::int64_t& v) {
  std::uint64_t u = 0;
  U64(u);
  v = static_cast<std::int64_t>(u);
}
void Reader::Raw(std::span<std::uint8_t> out) {
  if (Take(out.size()))
    std::copy_n(b_.begin() + static_cast<std::ptrdiff_t>(pos_ - out.size()), out.size(),
                out.begin());
}
void Reader::Blob(Bytes& out) {
  std::uint32_t n = 0;
  U32(n);
  if (!Take(n)) return;
  out.assign(b_.begin() + static_cast<std::ptrdiff_t>(pos_ - n),
             b_.begin() + static_cast<std::ptrdiff_t>(pos_));
}
void Reader::Str(std::string& out) {
  std::uint32_t n = 0;
  U32(n);
  if (!Take(n)) return;
  out.assign(reinterpret_cast<const char*>(b_.data() + pos_ - n), n);
}
bool Reader::Take(std::size_t n) {
  if (!ok_ || b_.size() - pos_ < n) {
    ok_ = false;
    return false;
  }
  pos_ += n;
  return true;
}

// ---- Records ----

bool ValidName(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameLength || name[0] == '-' || name[0] == '.') {
    return false;
  }
  return std::all_of(name.begin(), name.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return (u < 0x80 && std::isalnum(u)) || c == '.' || c == '_' || c == '-';
  });
}

std::string Printable(std::string_view name) {
  std::string out;
  for (char c : name.substr(0, 40)) {
    const auto u = static_cast<unsigned char>(c);
    out.push_back(u >= 0x20 && u < 0x7f ? c : '?');
  }
  if (name.size() > 40) out += "...";
  return out;
}

void EncodeProfile(const Profile& p, Writer& w) {
  w.Raw(p.identity_secret.Bytes());
  w.Raw(p.prekey_secret.Bytes());
  w.Raw(p.link_secret.Bytes());
  w.Raw(p.provider);
  w.Str(p.provider_name);
  w.Str(p.directory_address);
  w.Raw(p.directory_link_key);
  w.Raw(p.directory_verify_key);
  w.I64(p.genesis_unix);
  w.U32(p.epoch_length_s);
  w.I64(p.created_unix);
}

std::optional<Profile> DecodeProfile(ByteSpan b) {
  Reader r(b);
  Profile p;
  r.Raw(p.identity_secret.MutableBytes());
  r.Raw(p.prekey_secret.MutableBytes());
  r.Raw(p.link_secret.MutableBytes());
  r.Raw(p.provider);
  r.Str(p.provider_name);
  r.Str(p.directory_address);
  r.Raw(p.directory_link_key);
  r.Raw(p.directory_verify_key);
  r.I64(p.genesis_unix);
  r.U32(p.epoch_length_s);
  r.I64(p.created_unix);
  if (!r.Done()) return std::nullopt;
  return p;
}

void EncodeContact(const Contact& c, Writer& w) {
  w.Str(c.name);
  w.U8(c.code.version);
  w.Raw(c.code.identity_key.bytes);
  w.Raw(c.code.prekey.bytes);
  w.Raw(c.code.provider);
  w.Raw(c.code.mailbox);
  w.I64(c.added_unix);
}

std::optional<Contact> DecodeContact(ByteSpan b) {
  Reader r(b);
  Contact c;
  r.Str(c.name);
  r.U8(c.code.version);
  r.Raw(c.code.identity_key.bytes);
  r.Raw(c.code.prekey.bytes);
  r.Raw(c.code.provider);
  r.Raw(c.code.mailbox);
  r.I64(c.added_unix);
  if (!r.Done() || !ValidName(c.name)) return std::nullopt;
  return c;
}

bool ValidDirection(Direction d) { return d == Direction::kOutgoing || d == Direction::kIncoming; }
bool ValidStatus(DeliveryStatus s) {
  return s == DeliveryStatus::kQueued || s == DeliveryStatus::kSent ||
         s == DeliveryStatus::kDelivered || s == DeliveryStatus::kReceived;
}

void EncodeHistory(const HistoryEntry& e, Writer& w) {
  w.Raw(e.id);
  w.Raw(e.peer.bytes);
  w.U8(static_cast<std::uint8_t>(e.direction));
  w.U8(static_cast<std::uint8_t>(e.status));
  w.Str(e.text);
  w.I64(e.sent_unix);
  w.I64(e.stored_unix);
  w.I64(e.expires_unix);
  w.U8(e.read ? 1 : 0);
  w.U64(e.seq);
}

std::optional<HistoryEntry> DecodeHistory(ByteSpan b) {
  Reader r(b);
  HistoryEntry e;
  std::uint8_t direction = 0, status = 0, read = 0;
  r.Raw(e.id);
  r.Raw(e.peer.bytes);
  r.U8(direction);
  r.U8(status);
  r.Str(e.text);
  r.I64(e.sent_unix);
  r.I64(e.stored_unix);
  r.I64(e.expires_unix);
  r.U8(read);
  r.U64(e.seq);
  e.direction = static_cast<Direction>(direction);
  e.status = static_cast<DeliveryStatus>(status);
  e.read = read == 1;
  if (!r.Done() || !ValidDirection(e.direction) || !ValidStatus(e.status) || read > 1) {
    sodium_memzero(e.text.data(), e.text.size());
    return std::nullopt;
  }
  return e;
}

void EncodeOutbox(const OutboxEntry& o, Writer& w) {
  w.U64(o.seq);
  w.Raw(o.id);
  w.Raw(o.peer.bytes);
  w.Raw(o.provider);
  w.Raw(o.mailbox);
  w.Blob(o.sphinx_message);
  w.I64(o.queued_unix);
  w.U32(o.attempts);
  w.U8(static_cast<std::uint8_t>(o.kind));
  w.Blob(o.body);
  w.I64(o.not_before_ms);
  w.U32(o.seals);
}

std::optional<OutboxEntry> DecodeOutbox(ByteSpan b) {
  Reader r(b, kOutboxRecordVersion);
  OutboxEntry o;
  r.U64(o.seq);
  r.Raw(o.id);
  r.Raw(o.peer.bytes);
  r.Raw(o.provider);
  r.Raw(o.mailbox);
  r.Blob(o.sphinx_message);
  r.I64(o.queued_unix);
  r.U32(o.attempts);
  if (r.version() >= 2) {
    std::uint8_t kind = 0;
    r.U8(kind);
    r.Blob(o.body);
    r.I64(o.not_before_ms);
    r.U32(o.seals);
    if (kind != static_cast<std::uint8_t>(OutboxKind::kText) &&
        kind != static_cast<std::uint8_t>(OutboxKind::kReceipt)) {
      return std::nullopt;
    }
    o.kind = static_cast<OutboxKind>(kind);
  }
  if (!r.Done()) return std::nullopt;
  return o;
}

void EncodeSettings(const Settings& s, Writer& w) {
  w.U8(static_cast<std::uint8_t>(s.receipts));
  w.U32(s.receipt_delay_s);
}

std::optional<Settings> DecodeSettings(ByteSpan b) {
  Reader r(b);
  Settings s;
  std::uint8_t mode = 0;
  r.U8(mode);
  r.U32(s.receipt_delay_s);
  if (!r.Done() || mode > 1 || s.receipt_delay_s == 0) return std::nullopt;
  s.receipts = static_cast<ReceiptMode>(mode);
  return s;
}

}  // namespace sotto::client::store_internal
