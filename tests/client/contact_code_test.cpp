// Contact codes and their terminal QR rendering (client_lib/contact_code.h, client_lib/qr.h,
// papers/e2ee-spec.md §10).
#include "sotto/client_lib/contact_code.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cctype>
#include <string>
#include <vector>

#include "sotto/client_lib/qr.h"
#include "sotto/client_lib/x3dh.h"
#include "sotto/core/random.h"

namespace sotto::client {
namespace {

constexpr std::string_view kBase32 = "abcdefghijklmnopqrstuvwxyz234567";
constexpr std::string_view kChecksumMessage =
    "contact code checksum does not match: a character was mistyped or the code is incomplete "
    "— copy it again";

ContactCode MakeCode(std::uint8_t seed = 0x41) {
  auto rng = DeterministicRng::FromByte(seed);
  ContactCode code;
  code.identity_key = IdentityKeys::Generate(rng).keys.public_key;
  code.prekey = PreKey::Generate(rng).keys.public_key;
  rng.Fill(code.provider);
  rng.Fill(code.mailbox);
  return code;
}

std::string Upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

bool Contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

TEST_CASE("contact code: round trip in grouped and compact form", "[contact]") {
  const ContactCode code = MakeCode();
  const std::string grouped = EncodeContactCode(code);
  const std::string compact = EncodeContactCode(code, ContactCodeStyle::kCompact);
  CHECK(compact.size() == kContactCodePrefix.size() + kContactCodeBase32Length);
  CHECK(compact.size() == 6 + 213);
  CHECK(compact.rfind("sotto1", 0) == 0);
  CHECK(grouped.rfind("sotto1-", 0) == 0);
  // Groups of five after the prefix; the last group holds the remaining 213 % 5 = 3 characters.
  CHECK(grouped.size() == compact.size() + 43);
  CHECK(std::all_of(compact.begin() + 6, compact.end(),
                    [](char c) { return kBase32.find(c) != std::string_view::npos; }));
  for (const auto& text : {grouped, compact}) {
    auto back = DecodeContactCode(text);
    REQUIRE(back.ok());
    CHECK(*back == code);
    CHECK(back->version == 1);
  }
  // Different contents give different codes.
  CHECK(EncodeContactCode(MakeCode(0x42)) != grouped);
}

TEST_CASE("contact code: dashes, whitespace and case are tolerated", "[contact]") {
  const ContactCode code = MakeCode();
  const std::string grouped = EncodeContactCode(code);
  const std::string compact = EncodeContactCode(code, ContactCodeStyle::kCompact);
  std::string wrapped = compact;  // as a mail client might wrap it
  wrapped.insert(100, "\r\n  ");
  wrapped.insert(50, " ");
  std::string odd_dashes = compact;
  odd_dashes.insert(10, "--");
  const std::vector<std::string> variants = {"  " + grouped + "\n",
                                             "\t" + compact + " \r\n",
                                             Upper(grouped),
                                             Upper(compact),
                                             "SoTtO1" + compact.substr(6),
                                             wrapped,
                                             odd_dashes,
                                             "\n\n" + Upper(grouped) + "\t"};
  for (const auto& text : variants) {
    INFO(text);
    auto back = DecodeContactCode(text);
    REQUIRE(back.ok());
    CHECK(*back == code);
  }
}

TEST_CASE("contact code: every single-character substitution is detected", "[contact]") {
  const std::string compact = EncodeContactCode(MakeCode(), ContactCodeStyle::kCompact);
  std::size_t tried = 0;
  for (std::size_t pos = 0; pos < compact.size(); ++pos) {
    for (char sub : kBase32) {
      if (sub == compact[pos]) continue;
      std::string typo = compact;
      typo[pos] = sub;
      auto r = DecodeContactCode(typo);
      if (r.ok()) FAIL("substitution of '" << sub << "' at position " << pos << " not detected");
      ++tried;
    }
  }
  CHECK(tried == compact.size() * 31 + 1);  // "sotto1": '1' is not in the alphabet
}

TEST_CASE("contact code: every adjacent transposition is detected", "[contact]") {
  for (int seed : {0x41, 0x42, 0x43}) {
    for (auto style : {ContactCodeStyle::kCompact, ContactCodeStyle::kGrouped}) {
      const std::string text = EncodeContactCode(MakeCode(static_cast<std::uint8_t>(seed)), style);
      std::size_t tried = 0;
      for (std::size_t pos = 0; pos + 1 < text.size(); ++pos) {
        if (text[pos] == text[pos + 1]) continue;
        if (text[pos] == '-' || text[pos + 1] == '-') continue;  // moves a separator only
        std::string swapped = text;
        std::swap(swapped[pos], swapped[pos + 1]);
        if (DecodeContactCode(swapped).ok()) FAIL("transposition at position " << pos);
        ++tried;
      }
      CHECK(tried > 150);
    }
  }
}

TEST_CASE("contact code: truncated and extended codes are rejected", "[contact]") {
  const std::string compact = EncodeContactCode(MakeCode(), ContactCodeStyle::kCompact);
  const std::string grouped = EncodeContactCode(MakeCode());
  for (std::size_t len = 0; len < compact.size(); ++len) {
    CHECK_FALSE(DecodeContactCode(compact.substr(0, len)).ok());
  }
  for (std::size_t len = 0; len < grouped.size(); ++len) {
    CHECK_FALSE(DecodeContactCode(grouped.substr(0, len)).ok());
  }
  for (char extra : kBase32) {
    CHECK_FALSE(DecodeContactCode(compact + extra).ok());
    CHECK_FALSE(DecodeContactCode(std::string(1, extra) + compact.substr(6)).ok());
  }
  CHECK_FALSE(DecodeContactCode(compact + compact.substr(6)).ok());

  auto short_code = DecodeContactCode(compact.substr(0, compact.size() - 1));
  REQUIRE_FALSE(short_code.ok());
  const std::string& m1 = short_code.status().message();
  CHECK(Contains(m1, "212 characters"));
  CHECK(Contains(m1, "must have 213"));
  CHECK(Contains(m1, "incomplete"));
  auto long_code = DecodeContactCode(compact + "aa");
  REQUIRE_FALSE(long_code.ok());
  CHECK(Contains(long_code.status().message(), "215 characters"));
  CHECK(Contains(long_code.status().message(), "too long"));
}

TEST_CASE("contact code: each rejection says what is wrong", "[contact]") {
  const ContactCode code = MakeCode();
  const std::string compact = EncodeContactCode(code, ContactCodeStyle::kCompact);

  SECTION("empty") {
    for (std::string_view text : {"", "   ", "\n\t"}) {
      auto r = DecodeContactCode(text);
      REQUIRE_FALSE(r.ok());
      CHECK(Contains(r.status().message(), "empty"));
    }
  }
  SECTION("wrong prefix") {
    auto r = DecodeContactCode("sotto2" + compact.substr(6));
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Status::Code::kInvalidArgument);
    CHECK(Contains(r.status().message(), "must start with 'sotto1'"));
    CHECK_FALSE(DecodeContactCode("https://example.org/").ok());
  }
  SECTION("invalid character, named with its position") {
    std::string bad = compact;
    bad[20] = '0';
    auto r = DecodeContactCode("  " + bad);
    REQUIRE_FALSE(r.ok());
    CHECK(Contains(r.status().message(), "invalid character '0' at position 23"));
    bad[20] = '\x07';
    r = DecodeContactCode(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(Contains(r.status().message(), "byte 0x07 at position 21"));
    CHECK_FALSE(Contains(r.status().message(), "\x07"));
    bad[20] = '=';  // base32 padding is never written
    CHECK(Contains(DecodeContactCode(bad).status().message(), "'=' at position 21"));
  }
  SECTION("checksum mismatch") {
    std::string bad = compact;
    bad[100] = bad[100] == 'a' ? 'b' : 'a';
    auto r = DecodeContactCode(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Status::Code::kCorruption);
    CHECK(r.status().message() == kChecksumMessage);
  }
  SECTION("non-zero padding bit in the last character") {
    std::string bad = compact;
    const auto v = kBase32.find(bad.back());
    bad.back() = kBase32[v ^ 1u];  // the last character carries 4 data bits and 1 zero bit
    auto r = DecodeContactCode(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().message() == kChecksumMessage);
  }
  SECTION("unknown version") {
    // The first character holds the version's top 5 bits: 'b' makes version 0b00001'001 = 9.
    std::string bad = compact;
    REQUIRE(bad[6] == 'a');
    bad[6] = 'b';
    auto r = DecodeContactCode(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(Contains(r.status().message(), "version 9"));
    CHECK(Contains(r.status().message(), "update Sotto"));
  }
  SECTION("all-zero identity key") {
    ContactCode bad = code;
    bad.identity_key = PublicKey{};
    auto r = DecodeContactCode(EncodeContactCode(bad));
    REQUIRE_FALSE(r.ok());
    CHECK(Contains(r.status().message(), "identity key"));
    CHECK(Contains(r.status().message(), "all-zero or a low-order point"));
  }
  SECTION("low-order and all-zero pre-key") {
    ContactCode bad = code;
    bad.prekey = PublicKey{};
    bad.prekey.bytes[0] = 1;  // u = 1: a point of order 4
    auto r = DecodeContactCode(EncodeContactCode(bad));
    REQUIRE_FALSE(r.ok());
    CHECK(Contains(r.status().message(), "pre-key"));
    CHECK_FALSE(Contains(r.status().message(), "identity key"));
    bad.prekey = PublicKey{};
    CHECK(Contains(DecodeContactCode(EncodeContactCode(bad)).status().message(), "pre-key"));
  }
  SECTION("all-zero provider or mailbox") {
    ContactCode bad = code;
    bad.provider = {};
    CHECK(Contains(DecodeContactCode(EncodeContactCode(bad)).status().message(), "provider"));
    bad = code;
    bad.mailbox = {};
    CHECK(Contains(DecodeContactCode(EncodeContactCode(bad)).status().message(), "mailbox"));
  }
}

TEST_CASE("contact code: random junk never crashes and is rejected", "[contact]") {
  auto rng = DeterministicRng::FromByte(0x99);
  const std::string compact = EncodeContactCode(MakeCode(), ContactCodeStyle::kCompact);
  for (int i = 0; i < 3000; ++i) {
    std::string text;
    const auto kind = UniformBelow(rng, 4);
    const auto len = static_cast<std::size_t>(UniformBelow(rng, 400));
    if (kind == 0) {  // arbitrary bytes
      text.resize(len);
      rng.Fill(std::span(reinterpret_cast<std::uint8_t*>(text.data()), text.size()));
    } else if (kind == 1) {  // well-formed-looking: prefix and base32 symbols, often 213 of them
      text = "sotto1";
      const std::size_t n = UniformBelow(rng, 2) == 0 ? kContactCodeBase32Length : len;
      for (std::size_t j = 0; j < n; ++j) text += kBase32[UniformBelow(rng, 32)];
    } else {  // a real code with a few random bytes overwritten
      text = compact;
      const auto edits = 1 + UniformBelow(rng, 4);
      for (std::uint64_t e = 0; e < edits; ++e) {
        const auto pos = static_cast<std::size_t>(UniformBelow(rng, text.size()));
        text[pos] = static_cast<char>(UniformBelow(rng, 256));
      }
      if (text == compact) continue;
      // A changed letter's case or a byte turned into a separator can leave the code valid.
      auto r = DecodeContactCode(text);
      if (r.ok()) CHECK(EncodeContactCode(*r, ContactCodeStyle::kCompact) == compact);
      continue;
    }
    CHECK_FALSE(DecodeContactCode(text).ok());
  }
}

// Display width of a UTF-8 line: code points (every glyph used here is one cell wide).
std::size_t CodePoints(std::string_view s) {
  return static_cast<std::size_t>(std::count_if(
      s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xc0) != 0x80; }));
}

std::vector<std::string> SplitGlyphs(std::string_view line) {
  std::vector<std::string> glyphs;
  for (std::size_t i = 0; i < line.size();) {
    const std::size_t n = (static_cast<unsigned char>(line[i]) & 0x80) == 0 ? 1 : 3;
    glyphs.emplace_back(line.substr(i, n));
    i += n;
  }
  return glyphs;
}

TEST_CASE("qr: a contact code renders as a rectangular block of half-block glyphs", "[contact]") {
  for (auto style : {ContactCodeStyle::kCompact, ContactCodeStyle::kGrouped}) {
    const std::string text = EncodeContactCode(MakeCode(), style);
    auto qr = RenderQrForTerminal(text);
    REQUIRE(qr.ok());
    const std::string& block = *qr;
    REQUIRE_FALSE(block.empty());
    REQUIRE(block.back() == '\n');

    std::vector<std::string> lines;
    for (std::size_t start = 0; start < block.size();) {
      const auto nl = block.find('\n', start);
      lines.push_back(block.substr(start, nl - start));
      start = nl + 1;
    }
    const std::size_t width = CodePoints(lines.front());
    for (const auto& line : lines) {
      CHECK(CodePoints(line) == width);
      for (const auto& g : SplitGlyphs(line)) {
        const bool allowed = g == " " || g == "\u2580" || g == "\u2584" || g == "\u2588";
        if (!allowed) FAIL("unexpected glyph in QR output: " << g);
      }
    }
    // width = symbol modules + 2 * 2 quiet-zone modules; a QR symbol of version v has 17 + 4v
    // modules (v >= 1); two module rows per line.
    REQUIRE(width >= 21 + 4);
    const std::size_t modules = width - 4;
    CHECK((modules - 17) % 4 == 0);
    CHECK(lines.size() == (width + 1) / 2);
    // 219+ bytes in byte mode at level M need at least version 11 (61 modules).
    CHECK(modules >= 61);

    // Dark-on-light: the quiet zone is light (a glyph), so the top line is all full blocks and
    // the two outer columns are light on every line.
    for (const auto& g : SplitGlyphs(lines.front())) CHECK(g == "\u2588");
    for (std::size_t i = 0; i + 1 < lines.size(); ++i) {
      auto glyphs = SplitGlyphs(lines[i]);
      CHECK(glyphs[0] == "\u2588");
      CHECK(glyphs[1] == "\u2588");
      CHECK(glyphs[width - 1] == "\u2588");
    }
    // Line 1 holds module rows 2 and 3, the top of the upper-left finder pattern: at column 2
    // both are dark (blank); at column 3 the first is dark and the second light ('▄').
    auto second = SplitGlyphs(lines[1]);
    CHECK(second[2] == " ");
    CHECK(second[3] == "\u2584");
  }
}

TEST_CASE("qr: text too long or unusable is an error, not a crash", "[contact]") {
  auto too_long = RenderQrForTerminal(std::string(10000, 'x'));
  REQUIRE_FALSE(too_long.ok());
  CHECK(Contains(too_long.status().message(), "too long"));
  CHECK_FALSE(RenderQrForTerminal("").ok());
  CHECK_FALSE(RenderQrForTerminal(std::string_view("a\0b", 3)).ok());
  // The largest byte-mode payload at level M still renders.
  CHECK(RenderQrForTerminal(std::string(2331, 'x')).ok());
  CHECK_FALSE(RenderQrForTerminal(std::string(2332, 'x')).ok());
}

}  // namespace
}  // namespace sotto::client
