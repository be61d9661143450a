// Encoding and strict decoding of wire messages (papers/network-spec.md §3).
#include "sotto/core/wire.h"

#include <algorithm>
#include <string>

namespace sotto::wire {
namespace {

class Writer {
 public:
  explicit Writer(std::uint8_t type) { out_.push_back(type); }
  void U8(std::uint8_t v) { out_.push_back(v); }
  void U16(std::uint16_t v) {
    out_.push_back(static_cast<std::uint8_t>(v >> 8));
    out_.push_back(static_cast<std::uint8_t>(v));
  }
  void U64(std::uint64_t v) {
    for (int shift = 56; shift >= 0; shift -= 8) out_.push_back(static_cast<std::uint8_t>(v >> shift));
  }
  void Raw(ByteSpan b) { out_.insert(out_.end(), b.begin(), b.end()); }
  void Text(const std::string& s) { out_.insert(out_.end(), s.begin(), s.end()); }
  Bytes Take() { return std::move(out_); }

 private:
  Bytes out_;
};

class Reader {
 public:
  explicit Reader(ByteSpan b) : b_(b) {}
  bool Has(std::size_t n) const { return b_.size() - pos_ >= n; }
  std::size_t Remaining() const { return b_.size() - pos_; }
  std::uint8_t U8() { return b_[pos_++]; }
  std::uint16_t U16() {
    const auto v = static_cast<std::uint16_t>((b_[pos_] << 8) | b_[pos_ + 1]);
    pos_ += 2;
    return v;
  }
  std::uint64_t U64() {
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | b_[pos_++];
    return v;
  }
  template <std::size_t N>
  std::array<std::uint8_t, N> Fixed() {
    std::array<std::uint8_t, N> a{};
    std::copy_n(b_.begin() + static_cast<std::ptrdiff_t>(pos_), N, a.begin());
    pos_ += N;
    return a;
  }
  Bytes Take(std::size_t n) {
    Bytes out(b_.begin() + static_cast<std::ptrdiff_t>(pos_),
              b_.begin() + static_cast<std::ptrdiff_t>(pos_ + n));
    pos_ += n;
    return out;
  }
  std::string Rest() {
    std::string s(b_.begin() + static_cast<std::ptrdiff_t>(pos_), b_.end());
    pos_ = b_.size();
    return s;
  }

 private:
  ByteSpan b_;
  std::size_t pos_ = 0;
};

Status Bad(const std::string& what) { return Status::InvalidArgument("malformed message: " + what); }

std::string Sz(std::size_t n) { return std::to_string(n); }

}  // namespace

Bytes Encode(const Message& message) {
  return std::visit(
      [](const auto& m) -> Bytes {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, PacketMsg>) {
          Writer w(kPacket);
          w.U64(m.seq);
          w.Raw(m.packet);
          return w.Take();
        } else if constexpr (std::is_same_v<T, PacketAckMsg>) {
          Writer w(kPacketAck);
          w.U64(m.seq);
          return w.Take();
        } else if constexpr (std::is_same_v<T, FetchMsg>) {
          Writer w(kFetch);
          w.Raw(m.mailbox);
          w.U16(m.max_items);
          return w.Take();
        } else if constexpr (std::is_same_v<T, AckMsg>) {
          Writer w(kAck);
          w.Raw(m.mailbox);
          w.U16(static_cast<std::uint16_t>(m.ids.size()));
          for (auto id : m.ids) w.U64(id);
          return w.Take();
        } else if constexpr (std::is_same_v<T, MailMsg>) {
          Writer w(kMail);
          w.U16(static_cast<std::uint16_t>(m.items.size()));
          for (const auto& item : m.items) {
            w.U64(item.id);
            w.U64(static_cast<std::uint64_t>(item.received_us));
            w.U8(item.is_reply ? 1 : 0);
            w.Raw(item.surb_id);
            w.U16(static_cast<std::uint16_t>(item.payload.size()));
            w.Raw(item.payload);
          }
          return w.Take();
        } else if constexpr (std::is_same_v<T, AckedMsg>) {
          Writer w(kAcked);
          w.U16(m.count);
          return w.Take();
        } else if constexpr (std::is_same_v<T, PostDescriptorMsg>) {
          Writer w(kPostDescriptor);
          w.Text(m.document);
          return w.Take();
        } else if constexpr (std::is_same_v<T, GetConsensusMsg>) {
          Writer w(kGetConsensus);
          w.U64(m.epoch);
          return w.Take();
        } else if constexpr (std::is_same_v<T, ConsensusMsg>) {
          Writer w(kConsensus);
          w.Text(m.document);
          return w.Take();
        } else if constexpr (std::is_same_v<T, PostedMsg>) {
          return Writer(kPosted).Take();
        } else {
          Writer w(kError);
          w.U8(static_cast<std::uint8_t>(m.code));
          w.Text(m.message);
          return w.Take();
        }
      },
      message);
}

Result<Message> Decode(ByteSpan bytes) {
  if (bytes.empty()) return Bad("empty");
  if (bytes.size() > kMaxControlMessageSize + 1) return Bad("too large (" + Sz(bytes.size()) + " bytes)");
  Reader r(bytes);
  const std::uint8_t type = r.U8();
  switch (type) {
    case kPacket: {
      if (bytes.size() != kPacketMessageSize) {
        return Bad("packet message is " + Sz(bytes.size()) + " bytes, expected " +
                   Sz(kPacketMessageSize));
      }
      PacketMsg m;
      m.seq = r.U64();
      m.packet = r.Take(sphinx::kPacketSize);
      return Message(std::move(m));
    }
    case kPacketAck:
      if (bytes.size() != 9) return Bad("packet ack must be 9 bytes");
      return Message(PacketAckMsg{r.U64()});
    case kFetch: {
      if (bytes.size() != 1 + 32 + 2) return Bad("fetch must be 35 bytes");
      FetchMsg m;
      m.mailbox = r.Fixed<32>();
      m.max_items = r.U16();
      if (m.max_items == 0 || m.max_items > kMaxFetchItems) {
        return Bad("fetch asks for " + Sz(m.max_items) + " items; 1 to " + Sz(kMaxFetchItems));
      }
      return Message(m);
    }
    case kAck: {
      if (!r.Has(34)) return Bad("ack too short");
      AckMsg m;
      m.mailbox = r.Fixed<32>();
      const std::size_t count = r.U16();
      if (count > kMaxFetchItems || r.Remaining() != count * 8) {
        return Bad("ack count " + Sz(count) + " does not match its length");
      }
      for (std::size_t i = 0; i < count; ++i) m.ids.push_back(r.U64());
      return Message(std::move(m));
    }
    case kMail: {
      if (!r.Has(2)) return Bad("mail too short");
      const std::size_t count = r.U16();
      if (count > kMaxFetchItems) return Bad("mail holds " + Sz(count) + " items");
      MailMsg m;
      for (std::size_t i = 0; i < count; ++i) {
        if (!r.Has(kMailItemHeaderSize)) return Bad("mail item " + Sz(i) + " truncated");
        MailEntry e;
        e.id = r.U64();
        e.received_us = static_cast<std::int64_t>(r.U64());
        const std::uint8_t kind = r.U8();
        if (kind > 1) return Bad("mail item kind " + Sz(kind));
        e.is_reply = kind == 1;
        e.surb_id = r.Fixed<32>();
        const std::size_t len = r.U16();
        if (len > sphinx::kPayloadSize || !r.Has(len)) return Bad("mail item " + Sz(i) + " length");
        e.payload = r.Take(len);
        m.items.push_back(std::move(e));
      }
      if (r.Remaining() != 0) return Bad("trailing bytes after mail items");
      return Message(std::move(m));
    }
    case kAcked:
      if (bytes.size() != 3) return Bad("acked must be 3 bytes");
      return Message(AckedMsg{r.U16()});
    case kPostDescriptor:
      return Message(PostDescriptorMsg{r.Rest()});
    case kGetConsensus:
      if (bytes.size() != 9) return Bad("get-consensus must be 9 bytes");
      return Message(GetConsensusMsg{r.U64()});
    case kConsensus:
      return Message(ConsensusMsg{r.Rest()});
    case kPosted:
      if (bytes.size() != 1) return Bad("posted has no body");
      return Message(PostedMsg{});
    case kError: {
      if (!r.Has(1)) return Bad("error without code");
      const std::uint8_t code = r.U8();
      if (code < 1 || code > 5) return Bad("unknown error code " + Sz(code));
      return Message(ErrorMsg{static_cast<ErrorCode>(code), r.Rest()});
    }
    default:
      return Bad("unknown message type " + Sz(type));
  }
}

}  // namespace sotto::wire
