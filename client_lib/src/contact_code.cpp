// Contact code encoding and decoding (client_lib/contact_code.h, papers/e2ee-spec.md §10).
#include "sotto/client_lib/contact_code.h"

#include <sodium.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <span>
#include <string>

namespace sotto::client {
namespace {

constexpr std::string_view kChecksumLabel = "sotto-contact-v1";
constexpr std::string_view kAlphabet = "abcdefghijklmnopqrstuvwxyz234567";
constexpr std::size_t kGroupSize = 5;
constexpr std::size_t kPayloadSize = kContactCodeBinarySize - kContactCodeChecksumSize;

using Binary = std::array<std::uint8_t, kContactCodeBinarySize>;

constexpr std::string_view kChecksumMismatch =
    "contact code checksum does not match: a character was mistyped or the code is incomplete "
    "— copy it again";

std::array<std::uint8_t, kContactCodeChecksumSize> Checksum(
    std::span<const std::uint8_t, kPayloadSize> payload) {
  std::array<std::uint8_t, crypto_generichash_BYTES> digest{};
  crypto_generichash_state st;
  crypto_generichash_init(&st, nullptr, 0, digest.size());
  crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(kChecksumLabel.data()),
                            kChecksumLabel.size());
  crypto_generichash_update(&st, payload.data(), payload.size());
  crypto_generichash_final(&st, digest.data(), digest.size());
  std::array<std::uint8_t, kContactCodeChecksumSize> out{};
  std::copy_n(digest.begin(), out.size(), out.begin());
  return out;
}

// -1 if not a base32 symbol; accepts upper and lower case.
int SymbolValue(char c) {
  if (c >= 'a' && c <= 'z') return c - 'a';
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= '2' && c <= '7') return c - '2' + 26;
  return -1;
}

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

// A character as a human should see it in an error message; bytes that are not printable ASCII
// are shown as hex so that a message never carries control characters to a terminal.
std::string Describe(char c) {
  const auto byte = static_cast<unsigned char>(c);
  if (byte >= 0x21 && byte <= 0x7e) return std::string("'") + c + "'";
  char buf[16];
  std::snprintf(buf, sizeof buf, "byte 0x%02x", static_cast<unsigned>(byte));
  return buf;
}

// X25519 refuses (returns non-zero) exactly when the shared point is all-zero, i.e. when `key` is
// zero or of small order: the clamped scalar is a multiple of 8, which kills any small-order
// component. The scalar is a throwaway constant; only success or failure is used.
bool IsUsableX25519PublicKey(const PublicKey& key) {
  std::array<std::uint8_t, crypto_scalarmult_SCALARBYTES> scalar{};
  scalar.fill(0x5a);
  std::array<std::uint8_t, crypto_scalarmult_BYTES> out{};
  const bool ok = crypto_scalarmult(out.data(), scalar.data(), key.bytes.data()) == 0;
  sodium_memzero(out.data(), out.size());
  return ok;
}

template <std::size_t N>
bool AllZero(const std::array<std::uint8_t, N>& a) {
  return std::all_of(a.begin(), a.end(), [](std::uint8_t b) { return b == 0; });
}

template <std::size_t N>
std::size_t CopyOut(const Binary& bin, std::size_t at, std::array<std::uint8_t, N>& out) {
  std::copy_n(bin.begin() + static_cast<std::ptrdiff_t>(at), N, out.begin());
  return at + N;
}

}  // namespace

std::string EncodeContactCode(const ContactCode& code, ContactCodeStyle style) {
  Binary bin{};
  std::size_t at = 0;
  bin[at++] = kContactCodeVersion;
  auto put = [&](std::span<const std::uint8_t> part) {
    std::copy(part.begin(), part.end(), bin.begin() + static_cast<std::ptrdiff_t>(at));
    at += part.size();
  };
  put(code.identity_key.bytes);
  put(code.prekey.bytes);
  put(code.provider);
  put(code.mailbox);
  const auto sum = Checksum(std::span<const std::uint8_t, kPayloadSize>(bin.data(), kPayloadSize));
  put(sum);

  std::string symbols;
  symbols.reserve(kContactCodeBase32Length);
  std::uint32_t buffer = 0;
  int bits = 0;
  for (std::uint8_t byte : bin) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      symbols.push_back(kAlphabet[(buffer >> bits) & 31u]);
    }
  }
  if (bits > 0) symbols.push_back(kAlphabet[(buffer << (5 - bits)) & 31u]);  // zero-padded

  std::string out(kContactCodePrefix);
  if (style == ContactCodeStyle::kCompact) return out + symbols;
  for (std::size_t i = 0; i < symbols.size(); i += kGroupSize) {
    out.push_back('-');
    out.append(symbols, i, kGroupSize);
  }
  return out;
}

Result<ContactCode> DecodeContactCode(std::string_view text) {
  std::size_t begin = 0;
  std::size_t end = text.size();
  while (begin < end && IsSpace(text[begin])) ++begin;
  while (end > begin && IsSpace(text[end - 1])) --end;
  if (begin == end) {
    return Status::InvalidArgument(
        "contact code is empty: paste the whole code, which starts with 'sotto1'");
  }

  const std::string_view trimmed = text.substr(begin, end - begin);
  bool prefix_ok = trimmed.size() >= kContactCodePrefix.size();
  for (std::size_t i = 0; prefix_ok && i < kContactCodePrefix.size(); ++i) {
    char c = trimmed[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    prefix_ok = c == kContactCodePrefix[i];
  }
  if (!prefix_ok) {
    return Status::InvalidArgument(
        "not a Sotto contact code: it must start with 'sotto1' — copy the whole code again");
  }

  // Collect the 5-bit symbols, skipping separators; positions are 1-based in `text` as given.
  std::array<std::uint8_t, kContactCodeBase32Length> values{};
  std::size_t count = 0;  // symbols seen, including any beyond the expected length
  for (std::size_t i = begin + kContactCodePrefix.size(); i < end; ++i) {
    const char c = text[i];
    if (c == '-' || IsSpace(c)) continue;
    const int v = SymbolValue(c);
    if (v < 0) {
      return Status::InvalidArgument(
          "contact code has an invalid character " + Describe(c) + " at position " +
          std::to_string(i + 1) +
          ": only letters a-z, digits 2-7 and '-' can appear (0, 1, 8 and 9 are never used: "
          "did you mean o, l, b or g?)");
    }
    if (count < values.size()) values[count] = static_cast<std::uint8_t>(v);
    ++count;
  }
  if (count != kContactCodeBase32Length) {
    return Status::InvalidArgument("contact code has " + std::to_string(count) +
                                   " characters after 'sotto1' but " + "must have " +
                                   std::to_string(kContactCodeBase32Length) + ": it is " +
                                   (count < kContactCodeBase32Length ? "incomplete" : "too long") +
                                   " — copy the whole code again");
  }

  Binary bin{};
  std::size_t at = 0;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (std::uint8_t v : values) {
    buffer = (buffer << 5) | v;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      bin[at++] = static_cast<std::uint8_t>((buffer >> bits) & 0xffu);
    }
  }
  // The leftover bits are padding and must be zero: otherwise two spellings would decode to the
  // same bytes and a typo in the last character could go unnoticed.
  if ((buffer & ((1u << bits) - 1u)) != 0)
    return Status::Corruption(std::string(kChecksumMismatch));

  if (bin[0] != kContactCodeVersion) {
    return Status::InvalidArgument(
        "contact code has version " + std::to_string(bin[0]) + " but this Sotto reads only " +
        "version " + std::to_string(kContactCodeVersion) +
        ": update Sotto, or if the code was typed by hand check its first characters");
  }
  const auto want = Checksum(std::span<const std::uint8_t, kPayloadSize>(bin.data(), kPayloadSize));
  if (!std::equal(want.begin(), want.end(), bin.begin() + kPayloadSize)) {
    return Status::Corruption(std::string(kChecksumMismatch));
  }

  ContactCode code;
  code.version = bin[0];
  at = 1;
  at = CopyOut(bin, at, code.identity_key.bytes);
  at = CopyOut(bin, at, code.prekey.bytes);
  at = CopyOut(bin, at, code.provider);
  CopyOut(bin, at, code.mailbox);

  if (!IsUsableX25519PublicKey(code.identity_key)) {
    return Status::CryptoError(
        "contact code's identity key is all-zero or a low-order point, which no Sotto client "
        "makes: ask your contact for a fresh code");
  }
  if (!IsUsableX25519PublicKey(code.prekey)) {
    return Status::CryptoError(
        "contact code's pre-key is all-zero or a low-order point, which no Sotto client makes: "
        "ask your contact for a fresh code");
  }
  if (AllZero(code.provider)) {
    return Status::InvalidArgument(
        "contact code's provider node id is all-zero, so there is nowhere to deliver mail: ask "
        "your contact for a fresh code");
  }
  if (AllZero(code.mailbox)) {
    return Status::InvalidArgument(
        "contact code's mailbox id is all-zero (the dummy mailbox): ask your contact for a fresh "
        "code");
  }
  return code;
}

}  // namespace sotto::client
