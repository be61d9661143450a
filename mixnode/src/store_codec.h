// On-disk encoding of the node store's keys and values (internal to store.cpp).
//
// Keys are big-endian so that RocksDB's bytewise order is numeric order:
//   pool CF      id (u64)                        → pooled packet
//   mail CF      mailbox (32) ‖ id (u64)         → mail item
//   replay-<e>   tag (32)                        → empty
//   default CF   "next-pool-id"                  → u64, ids below it have been handed out
//                "next-mail-id/" ‖ mailbox (32)  → u64, the same per mailbox
//
// Values start with a version byte (integers big-endian, i64 as two's complement):
//   pooled packet, version 2 (written since per-link ids, issue 9):
//                  02 ‖ arrival_us i64 ‖ delay_ms u32 ‖ next_hop (32) ‖ link_id u64 (≠ 0) ‖
//                  epoch u64 ‖ flags u8 (bit 0: dummy; others 0) ‖ len u32 ‖ packet (len)
//   pooled packet, version 1 (still read; loads with link_id 0, epoch 0, not a dummy):
//                  01 ‖ arrival_us i64 ‖ delay_ms u32 ‖ next_hop (32) ‖ len u32 ‖ packet (len)
//   mail item      01 ‖ received_us i64 ‖ flags u8 (bit 0: is_reply; others 0) ‖ surb_id (32,
//                  zero unless a reply) ‖ len u32 ‖ payload (len)
// Decoding checks the version, the flags and that the length covers the value exactly; a value
// that fails any check is reported, never trusted. All functions are pure and thread-safe.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "sotto/core/sphinx.h"
#include "sotto/mixnode/store.h"

namespace sotto::mixnode::store_internal {

inline constexpr std::uint8_t kValueVersion = 1;   // mail items; pooled packets before v2
inline constexpr std::uint8_t kPooledVersion = 2;  // pooled packets
inline constexpr std::uint8_t kPooledFlagDummy = 0x01;
inline constexpr std::string_view kNextPoolIdKey = "next-pool-id";
inline constexpr std::string_view kNextMailIdPrefix = "next-mail-id/";
inline constexpr std::size_t kMailKeySize = sphinx::kMailboxIdSize + 8;

// ---- Primitive big-endian writers and a bounds-checked reader ----

inline void PutU64(std::string& out, std::uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) {
    out.push_back(static_cast<char>((v >> shift) & 0xff));
  }
}
inline void PutU32(std::string& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) {
    out.push_back(static_cast<char>((v >> shift) & 0xff));
  }
}
template <class Container>
inline void PutBytes(std::string& out, const Container& bytes) {
  out.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool U8(std::uint8_t& v) {
    if (in_.size() < 1) return false;
    v = static_cast<std::uint8_t>(in_[0]);
    in_.remove_prefix(1);
    return true;
  }
  bool U32(std::uint32_t& v) {
    std::uint64_t wide = 0;
    if (!Uint(4, wide)) return false;
    v = static_cast<std::uint32_t>(wide);
    return true;
  }
  bool U64(std::uint64_t& v) { return Uint(8, v); }
  bool I64(std::int64_t& v) {
    std::uint64_t u = 0;
    if (!Uint(8, u)) return false;
    v = static_cast<std::int64_t>(u);  // two's complement (C++20)
    return true;
  }
  template <std::size_t N>
  bool Fixed(std::array<std::uint8_t, N>& out) {
    if (in_.size() < N) return false;
    for (std::size_t i = 0; i < N; ++i) out[i] = static_cast<std::uint8_t>(in_[i]);
    in_.remove_prefix(N);
    return true;
  }
  // A u32 length followed by exactly that many bytes, which must be the rest of the input.
  bool LengthPrefixedRest(Bytes& out) {
    std::uint32_t len = 0;
    if (!U32(len) || in_.size() != len) return false;
    out.assign(in_.begin(), in_.end());
    in_ = {};
    return true;
  }
  bool done() const { return in_.empty(); }

 private:
  bool Uint(std::size_t n, std::uint64_t& v) {
    if (in_.size() < n) return false;
    v = 0;
    for (std::size_t i = 0; i < n; ++i) v = (v << 8) | static_cast<std::uint8_t>(in_[i]);
    in_.remove_prefix(n);
    return true;
  }
  std::string_view in_;
};

// ---- Keys ----

inline std::string PoolKey(std::uint64_t id) {
  std::string key;
  PutU64(key, id);
  return key;
}
inline std::optional<std::uint64_t> ParsePoolKey(std::string_view key) {
  Reader r(key);
  std::uint64_t id = 0;
  if (!r.U64(id) || !r.done()) return std::nullopt;
  return id;
}

inline std::string MailKey(const sphinx::MailboxId& mailbox, std::uint64_t id) {
  std::string key;
  PutBytes(key, mailbox);
  PutU64(key, id);
  return key;
}
// The id of a mail key that belongs to `mailbox`; nullopt if the key is another mailbox's or
// malformed.
inline std::optional<std::uint64_t> ParseMailKey(std::string_view key,
                                                 const sphinx::MailboxId& mailbox) {
  Reader r(key);
  sphinx::MailboxId owner{};
  std::uint64_t id = 0;
  if (!r.Fixed(owner) || owner != mailbox || !r.U64(id) || !r.done()) return std::nullopt;
  return id;
}

inline std::string NextMailIdKey(const sphinx::MailboxId& mailbox) {
  std::string key(kNextMailIdPrefix);
  PutBytes(key, mailbox);
  return key;
}

inline std::string EncodeU64(std::uint64_t v) {
  std::string out;
  PutU64(out, v);
  return out;
}
inline std::optional<std::uint64_t> DecodeU64(std::string_view in) { return ParsePoolKey(in); }

// ---- Values ----

inline std::string EncodePooled(const PooledPacket& p) {
  std::string out;
  out.reserve(1 + 8 + 4 + p.next_hop.size() + 8 + 8 + 1 + 4 + p.packet.size());
  out.push_back(static_cast<char>(kPooledVersion));
  PutU64(out, static_cast<std::uint64_t>(p.arrival_us));
  PutU32(out, p.delay_ms);
  PutBytes(out, p.next_hop);
  PutU64(out, p.link_id);
  PutU64(out, p.epoch);
  out.push_back(static_cast<char>(p.dummy ? kPooledFlagDummy : 0));
  PutU32(out, static_cast<std::uint32_t>(p.packet.size()));
  PutBytes(out, p.packet);
  return out;
}
// nullopt if the value is not a well-formed pooled packet of version 2 (or 1).
inline std::optional<PooledPacket> DecodePooled(std::uint64_t id, std::string_view in) {
  Reader r(in);
  PooledPacket p;
  p.id = id;
  std::uint8_t version = 0;
  if (!r.U8(version) || (version != kPooledVersion && version != 1) || !r.I64(p.arrival_us) ||
      !r.U32(p.delay_ms) || !r.Fixed(p.next_hop)) {
    return std::nullopt;
  }
  if (version == kPooledVersion) {
    std::uint8_t flags = 0;
    if (!r.U64(p.link_id) || p.link_id == 0 || !r.U64(p.epoch) || !r.U8(flags) ||
        (flags & ~kPooledFlagDummy) != 0) {
      return std::nullopt;
    }
    p.dummy = (flags & kPooledFlagDummy) != 0;
  }
  if (!r.LengthPrefixedRest(p.packet)) return std::nullopt;
  return p;
}

inline constexpr std::uint8_t kMailFlagReply = 0x01;

inline std::string EncodeMail(const MailItem& m) {
  std::string out;
  out.reserve(1 + 8 + 1 + m.surb_id.size() + 4 + m.payload.size());
  out.push_back(static_cast<char>(kValueVersion));
  PutU64(out, static_cast<std::uint64_t>(m.received_us));
  out.push_back(static_cast<char>(m.is_reply ? kMailFlagReply : 0));
  if (m.is_reply) {
    PutBytes(out, m.surb_id);
  } else {
    out.append(m.surb_id.size(), '\0');
  }
  PutU32(out, static_cast<std::uint32_t>(m.payload.size()));
  PutBytes(out, m.payload);
  return out;
}
// nullopt if the value is not a well-formed version-1 mail item.
inline std::optional<MailItem> DecodeMail(std::uint64_t id, std::string_view in) {
  Reader r(in);
  MailItem m;
  m.id = id;
  std::uint8_t version = 0;
  std::uint8_t flags = 0;
  if (!r.U8(version) || version != kValueVersion || !r.I64(m.received_us) || !r.U8(flags) ||
      (flags & ~kMailFlagReply) != 0 || !r.Fixed(m.surb_id) || !r.LengthPrefixedRest(m.payload)) {
    return std::nullopt;
  }
  m.is_reply = (flags & kMailFlagReply) != 0;
  if (!m.is_reply && m.surb_id != sphinx::SurbId{}) return std::nullopt;
  return m;
}

}  // namespace sotto::mixnode::store_internal
