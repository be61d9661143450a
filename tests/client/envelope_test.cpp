// Message bodies, UTF-8 validation and loop cover messages (client_lib/envelope.h,
// papers/e2ee-spec.md §7).
#include "sotto/client_lib/envelope.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "sotto/core/random.h"

namespace sotto::client {
namespace {

MessageId Id(std::uint8_t seed) {
  MessageId id{};
  for (std::size_t i = 0; i < id.size(); ++i) id[i] = static_cast<std::uint8_t>(seed + i);
  return id;
}

Bytes IdBytes(std::uint8_t seed) {
  const MessageId id = Id(seed);
  return Bytes(id.begin(), id.end());
}

MessageBody Text(std::string text) {
  MessageBody b;
  b.type = BodyType::kText;
  b.id = Id(7);
  b.sent_unix = 1'700'000'000;
  b.expires_after_s = 3600;
  b.text = std::move(text);
  return b;
}

MessageBody Receipt(std::size_t n) {
  MessageBody b;
  b.type = BodyType::kReceipt;
  b.id = Id(9);
  b.sent_unix = -5;  // signed: a clock before 1970 still round-trips
  for (std::size_t i = 0; i < n; ++i) b.receipts.push_back(Id(static_cast<std::uint8_t>(i * 3)));
  return b;
}

void CheckSame(const MessageBody& a, const MessageBody& b) {
  CHECK(a.type == b.type);
  CHECK(a.id == b.id);
  CHECK(a.sent_unix == b.sent_unix);
  CHECK(a.expires_after_s == b.expires_after_s);
  CHECK(a.text == b.text);
  CHECK(a.receipts == b.receipts);
}

void RoundTrip(const MessageBody& body) {
  auto encoded = EncodeBody(body);
  REQUIRE(encoded.ok());
  CHECK(encoded->size() == kBodySize);
  auto decoded = DecodeBody(*encoded);
  REQUIRE(decoded.ok());
  CheckSame(*decoded, body);
}

bool Contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

// A valid encoded text body to damage.
Bytes Valid(const std::string& text = "hello") { return EncodeBody(Text(text)).value(); }

TEST_CASE("envelope: sizes follow from the Sphinx message size", "[envelope]") {
  CHECK(kSphinxMessageSize == 2030);
  CHECK(kSlotSize + kRatchetOverhead + kBodySize == kSphinxMessageSize);
  CHECK(kSlotSize == 112);
  CHECK(kRatchetOverhead == 72);
  CHECK(kBodySize == 1846);
  CHECK(kBodyHeaderSize == 33);
  CHECK(kMaxReceiptsPerText == 8);
  CHECK(kMaxTextBytes == 1685);
  CHECK(kBodyHeaderSize + kMaxReceiptsPerText * 16 + kMaxTextBytes == kBodySize);
}

TEST_CASE("envelope: text bodies round-trip in any script", "[envelope]") {
  RoundTrip(Text("hello"));
  RoundTrip(Text("Привет, как дела?"));
  RoundTrip(Text("مرحبا بالعالم"));
  RoundTrip(Text("你好，世界。こんにちは 안녕하세요"));
  RoundTrip(Text("👋🏽 family: 👨‍👩‍👧‍👦, flag: 🇺🇦"));
  RoundTrip(Text(std::string("a\0b", 3)));  // NUL is a valid code point
  RoundTrip(Text("x"));
  auto never = Text("no expiry");
  never.expires_after_s = 0;
  never.sent_unix = INT64_MIN;
  RoundTrip(never);
  auto far = Text("far future");
  far.sent_unix = INT64_MAX;
  far.expires_after_s = UINT32_MAX;
  RoundTrip(far);
}

TEST_CASE("envelope: exactly kMaxTextBytes fits, one byte more is refused", "[envelope]") {
  RoundTrip(Text(std::string(kMaxTextBytes, 'a')));
  // 421 four-byte emoji (1684 bytes) and one ASCII letter: 1685 bytes exactly.
  std::string emoji;
  for (int i = 0; i < 421; ++i) emoji += "😀";
  RoundTrip(Text(emoji + "a"));
  // The limit holds with all 8 receipts riding along too.
  auto full = Text(emoji + "a");
  for (std::uint8_t i = 0; i < kMaxReceiptsPerText; ++i) full.receipts.push_back(Id(i));
  RoundTrip(full);

  auto over = EncodeBody(Text(std::string(kMaxTextBytes + 1, 'a')));
  REQUIRE_FALSE(over.ok());
  CHECK(over.status().code() == Status::Code::kInvalidArgument);
  CHECK(over.status().message() ==
        "message is 1686 bytes; at most 1685 bytes fit in one message (longer messages and files "
        "are not supported yet)");
  auto way_over = EncodeBody(Text(std::string(2400, 'a')));
  REQUIRE_FALSE(way_over.ok());
  CHECK(Contains(way_over.status().message(), "message is 2400 bytes; at most 1685 bytes"));
  CHECK_FALSE(EncodeBody(Text(emoji + "ab")).ok());
}

TEST_CASE("envelope: a text message carries 0 to 8 receipts", "[envelope]") {
  for (std::size_t n = 0; n <= kMaxReceiptsPerText; ++n) {
    auto b = Text("thanks, got them");
    for (std::size_t i = 0; i < n; ++i) b.receipts.push_back(Id(static_cast<std::uint8_t>(5 * i)));
    RoundTrip(b);
  }
  auto nine = Text("too many");
  for (std::uint8_t i = 0; i < 9; ++i) nine.receipts.push_back(Id(i));
  auto r = EncodeBody(nine);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Status::Code::kInvalidArgument);
  CHECK(r.status().message() == "a text message carries at most 8 receipts, not 9");
}

TEST_CASE("envelope: empty text and mixed bodies are refused", "[envelope]") {
  auto empty = EncodeBody(Text(""));
  REQUIRE_FALSE(empty.ok());
  CHECK(empty.status().code() == Status::Code::kInvalidArgument);
  CHECK(Contains(empty.status().message(), "empty"));

  auto receipt_with_text = Receipt(1);
  receipt_with_text.text = "hi";
  CHECK_FALSE(EncodeBody(receipt_with_text).ok());
  auto unknown = Text("hi");
  unknown.type = static_cast<BodyType>(3);
  CHECK_FALSE(EncodeBody(unknown).ok());
}

TEST_CASE("envelope: receipts carry 1 to kMaxReceiptIds ids", "[envelope]") {
  RoundTrip(Receipt(1));
  RoundTrip(Receipt(2));
  RoundTrip(Receipt(kMaxReceiptIds));
  for (std::size_t n : {std::size_t{0}, kMaxReceiptIds + 1}) {
    auto r = EncodeBody(Receipt(n));
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Status::Code::kInvalidArgument);
    CHECK(Contains(r.status().message(), "1 to 64 message ids"));
  }
}

TEST_CASE("envelope: the body layout is the one the spec gives", "[envelope]") {
  auto b = Text("hi");
  b.sent_unix = 0x0102030405060708;
  b.expires_after_s = 0x0a0b0c0d;
  const Bytes e = EncodeBody(b).value();
  CHECK(e[1] == 1);
  CHECK(Bytes(e.begin() + 2, e.begin() + 18) == Bytes(b.id.begin(), b.id.end()));
  CHECK(Bytes(e.begin() + 18, e.begin() + 26) == Bytes{1, 2, 3, 4, 5, 6, 7, 8});
  CHECK(Bytes(e.begin() + 26, e.begin() + 30) == Bytes{0x0a, 0x0b, 0x0c, 0x0d});
  CHECK(e[0] == 2);   // version 2
  CHECK(e[30] == 0);  // no receipts
  CHECK(Bytes(e.begin() + 31, e.begin() + 33) == Bytes{0, 2});
  CHECK(e[33] == 'h');
  CHECK(e[34] == 'i');
  CHECK(std::all_of(e.begin() + 35, e.end(), [](std::uint8_t x) { return x == 0; }));
  const Bytes r = EncodeBody(Receipt(3)).value();
  CHECK(r[1] == 2);
  CHECK(r[30] == 3);
  CHECK(Bytes(r.begin() + 31, r.begin() + 33) == Bytes{0, 0});
  CHECK(Bytes(r.begin() + 33, r.begin() + 49) == IdBytes(0));
  CHECK(std::all_of(r.begin() + 33 + 48, r.end(), [](std::uint8_t x) { return x == 0; }));
  // A text with receipts: the ids first, then the text.
  auto with = Text("ok");
  with.receipts = {Id(0x20), Id(0x40)};
  const Bytes w = EncodeBody(with).value();
  CHECK(w[30] == 2);
  CHECK(Bytes(w.begin() + 31, w.begin() + 33) == Bytes{0, 2});
  CHECK(Bytes(w.begin() + 33, w.begin() + 49) == IdBytes(0x20));
  CHECK(Bytes(w.begin() + 49, w.begin() + 65) == IdBytes(0x40));
  CHECK(w[65] == 'o');
  CHECK(w[66] == 'k');
  CHECK(std::all_of(w.begin() + 67, w.end(), [](std::uint8_t x) { return x == 0; }));
}

TEST_CASE("envelope: well-formed UTF-8 at every boundary is accepted", "[envelope]") {
  for (const char* s :
       {"", "\x7f", "\xc2\x80", "\xdf\xbf", "\xe0\xa0\x80", "\xed\x9f\xbf", "\xee\x80\x80",
        "\xef\xbf\xbf", "\xf0\x90\x80\x80", "\xf4\x8f\xbf\xbf", "\xf3\xbf\xbf\xbf"}) {
    INFO(ToHex(ByteSpan(reinterpret_cast<const std::uint8_t*>(s), std::strlen(s))));
    CHECK(ValidateUtf8(s).ok());
  }
}

TEST_CASE("envelope: every class of ill-formed UTF-8 is rejected with its offset", "[envelope]") {
  struct Case {
    const char* what;
    std::string bad;
  };
  const std::vector<Case> cases = {
      {"lone continuation byte", "\x80"},
      {"lone continuation byte (last)", "\xbf"},
      {"overlong 2-byte (C0)", "\xc0\x80"},
      {"overlong 2-byte (C1)", "\xc1\xbf"},
      {"overlong 3-byte", "\xe0\x80\x80"},
      {"overlong 3-byte (U+07FF)", "\xe0\x9f\xbf"},
      {"overlong 4-byte", "\xf0\x80\x80\x80"},
      {"overlong 4-byte (U+FFFF)", "\xf0\x8f\xbf\xbf"},
      {"surrogate U+D800", "\xed\xa0\x80"},
      {"surrogate U+DFFF", "\xed\xbf\xbf"},
      {"above U+10FFFF", "\xf4\x90\x80\x80"},
      {"F5 lead byte", "\xf5\x80\x80\x80"},
      {"FF byte", "\xff"},
      {"FE byte", "\xfe"},
      {"truncated 2-byte", "\xc3"},
      {"truncated 3-byte", "\xe2\x82"},
      {"truncated 4-byte", "\xf0\x9f\x98"},
      {"truncated 3-byte before ASCII",
       "\xe2\x82"
       "A"},
      {"truncated 2-byte before lead byte", "\xc3\xc3\xa9"},
      {"continuation byte out of range", "\xe2\x28\xa1"},
  };
  for (const std::string prefix : {"", "ok ", "Привет 👋 "}) {
    for (const Case& c : cases) {
      INFO(c.what << " after a prefix of " << prefix.size() << " bytes");
      const std::string text = prefix + c.bad + " tail";
      const Status s = ValidateUtf8(text);
      REQUIRE_FALSE(s.ok());
      CHECK(s.code() == Status::Code::kInvalidArgument);
      CHECK(s.message() == "invalid UTF-8 at byte " + std::to_string(prefix.size()));
      auto encoded = EncodeBody(Text(text));
      REQUIRE_FALSE(encoded.ok());
      CHECK(encoded.status().message() == s.message());
    }
  }
}

TEST_CASE("envelope: decoding rejects every truncation and extension", "[envelope]") {
  const Bytes good = Valid();
  for (std::size_t n = 0; n < good.size(); ++n) {
    auto r = DecodeBody(ByteSpan(good).first(n));
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Status::Code::kCorruption);
  }
  Bytes longer = good;
  longer.push_back(0);
  CHECK(DecodeBody(longer).status().code() == Status::Code::kCorruption);
}

TEST_CASE("envelope: decoding rejects unknown versions and types", "[envelope]") {
  for (int v : {0, 1, 3, 255}) {
    Bytes b = Valid();
    b[0] = static_cast<std::uint8_t>(v);
    auto r = DecodeBody(b);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Status::Code::kCorruption);
    CHECK(Contains(r.status().message(), "version"));
    if (v == 1) CHECK(Contains(r.status().message(), "older Sotto version"));
  }
  for (int t : {0, 3, 255}) {
    Bytes b = Valid();
    b[1] = static_cast<std::uint8_t>(t);
    auto r = DecodeBody(b);
    REQUIRE_FALSE(r.ok());
    CHECK(Contains(r.status().message(), "type"));
  }
}

TEST_CASE("envelope: decoding rejects non-zero padding anywhere", "[envelope]") {
  const Bytes good = Valid("hey");
  for (std::size_t i = kBodyHeaderSize + 3; i < kBodySize; ++i) {
    Bytes b = good;
    b[i] = 0x01;
    auto r = DecodeBody(b);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Status::Code::kCorruption);
  }
}

TEST_CASE("envelope: decoding rejects bad lengths and content", "[envelope]") {
  auto with_length = [](Bytes b, std::size_t length) {
    b[31] = static_cast<std::uint8_t>(length >> 8);
    b[32] = static_cast<std::uint8_t>(length);
    return b;
  };
  auto with_receipts = [](Bytes b, std::size_t count) {
    b[30] = static_cast<std::uint8_t>(count);
    return b;
  };
  const Bytes text = Valid("hey");
  CHECK_FALSE(DecodeBody(with_length(text, 0)).ok());                  // empty text
  CHECK_FALSE(DecodeBody(with_length(text, 2)).ok());                  // 'y' left in the padding
  CHECK_FALSE(DecodeBody(with_length(text, kMaxTextBytes + 1)).ok());  // beyond the body
  CHECK_FALSE(DecodeBody(with_length(text, 0xffff)).ok());
  {
    // One more byte of the (zero) padding counted as text: "hey\0" is well-formed and is
    // exactly what EncodeBody makes of "hey\0", so decoding stays one-to-one.
    const Bytes b = with_length(text, 4);
    REQUIRE(DecodeBody(b).ok());
    CHECK(DecodeBody(b)->text == std::string("hey\0", 4));
    CHECK(EncodeBody(Text(std::string("hey\0", 4))).value() == b);
  }
  Bytes bad_utf8 = text;
  bad_utf8[34] = 0xc0;
  auto r = DecodeBody(bad_utf8);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Status::Code::kCorruption);
  CHECK(Contains(r.status().message(), "UTF-8 (at byte 1)"));

  // Receipt counts in a text: up to 8; the ids shift the text.
  {
    auto t = Text("hey");
    for (std::uint8_t i = 0; i < 8; ++i) t.receipts.push_back(Id(i));
    const Bytes eight = EncodeBody(t).value();
    REQUIRE(DecodeBody(eight).ok());
    CHECK_FALSE(DecodeBody(with_receipts(eight, 9)).ok());
    CHECK_FALSE(DecodeBody(with_receipts(eight, 7)).ok());  // the text then starts too early
  }

  const Bytes receipt = EncodeBody(Receipt(2)).value();
  CHECK(DecodeBody(receipt).ok());
  CHECK_FALSE(DecodeBody(with_receipts(receipt, 0)).ok());
  CHECK_FALSE(DecodeBody(with_receipts(receipt, 1)).ok());  // the second id left in the padding
  CHECK_FALSE(DecodeBody(with_length(receipt, 1)).ok());    // a receipt has no text
  Bytes big(kBodySize, 0);
  big[0] = 2;
  big[1] = 2;
  CHECK_FALSE(DecodeBody(with_receipts(big, 65)).ok());
  CHECK_FALSE(DecodeBody(with_receipts(big, 255)).ok());
  CHECK(DecodeBody(with_receipts(big, 64)).ok());
}

TEST_CASE("envelope: random bodies never crash the decoder", "[envelope]") {
  auto rng = DeterministicRng::FromByte(0x51);
  Bytes b(kBodySize);
  for (int i = 0; i < 2000; ++i) {
    rng.Fill(b);
    b[0] = 2;
    b[1] = static_cast<std::uint8_t>(1 + (b[1] & 1));
    b[31] = static_cast<std::uint8_t>(b[31] & 7);
    if (i % 2 == 0) b[30] = static_cast<std::uint8_t>(b[30] & 15);
    (void)DecodeBody(b);
  }
  const Bytes good = Valid("bit flips");
  for (std::size_t bit = 0; bit < (kBodyHeaderSize + 12) * 8; ++bit) {
    Bytes f = good;
    f[bit / 8] = static_cast<std::uint8_t>(f[bit / 8] ^ (1u << (bit % 8)));
    auto r = DecodeBody(f);
    if (r.ok()) CHECK(EncodeBody(*r).value() == f);  // anything accepted is canonical
  }
}

TEST_CASE("envelope: loop messages are recognised only with their key", "[envelope]") {
  auto rng = DeterministicRng::FromByte(0x61);
  LoopKey key, other;
  rng.Fill(key.MutableBytes());
  rng.Fill(other.MutableBytes());
  const Bytes loop = MakeLoopMessage(key, rng);
  CHECK(loop.size() == kSphinxMessageSize);
  CHECK(IsLoopMessage(key, loop));
  CHECK_FALSE(IsLoopMessage(other, loop));
  CHECK(MakeLoopMessage(key, rng) != loop);  // fresh randomness each time
  CHECK(IsLoopMessage(key, MakeLoopMessage(key)));

  // Wrong length: false, never a crash.
  CHECK_FALSE(IsLoopMessage(key, ByteSpan(loop).first(kSphinxMessageSize - 1)));
  CHECK_FALSE(IsLoopMessage(key, ByteSpan(loop).first(31)));
  CHECK_FALSE(IsLoopMessage(key, {}));
  Bytes longer = loop;
  longer.push_back(0);
  CHECK_FALSE(IsLoopMessage(key, longer));

  // Any change to r or the tag breaks it.
  for (std::size_t bit = 0; bit < 32 * 8; ++bit) {
    Bytes f = loop;
    f[bit / 8] = static_cast<std::uint8_t>(f[bit / 8] ^ (1u << (bit % 8)));
    CHECK_FALSE(IsLoopMessage(key, f));
  }
  // Random messages are not loops.
  Bytes random(kSphinxMessageSize);
  for (int i = 0; i < 100; ++i) {
    rng.Fill(random);
    CHECK_FALSE(IsLoopMessage(key, random));
  }
}

}  // namespace
}  // namespace sotto::client
