// Hex encoding for public data (packets, public keys, identifiers), via libsodium's
// constant-time codecs.
#include "sotto/core/bytes.h"

#include <sodium.h>

namespace sotto {

std::string ToHex(ByteSpan bytes) {
  if (bytes.empty()) return {};
  std::string out(bytes.size() * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), bytes.data(), bytes.size());
  out.pop_back();  // the terminating NUL
  return out;
}

Result<Bytes> FromHex(std::string_view hex) {
  if (hex.size() % 2 != 0) {
    return Status::InvalidArgument("hex string has an odd number of digits (" +
                                   std::to_string(hex.size()) + ")");
  }
  if (hex.empty()) return Bytes{};
  Bytes out(hex.size() / 2);
  std::size_t written = 0;
  const char* end = nullptr;
  if (sodium_hex2bin(out.data(), out.size(), hex.data(), hex.size(), nullptr, &written, &end) !=
          0 ||
      written != out.size() || end != hex.data() + hex.size()) {
    return Status::InvalidArgument("not a hex string (only 0-9, a-f allowed)");
  }
  return out;
}

}  // namespace sotto
