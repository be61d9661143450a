// Terminal QR rendering over libqrencode (client_lib/qr.h).
#include "sotto/client_lib/qr.h"

#include <qrencode.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>

namespace sotto::client {
namespace {

constexpr std::string_view kUpper = "\u2580";  // ▀
constexpr std::string_view kLower = "\u2584";  // ▄
constexpr std::string_view kFull = "\u2588";   // █

struct QrFree {
  void operator()(QRcode* code) const { QRcode_free(code); }
};

}  // namespace

Result<std::string> RenderQrForTerminal(std::string_view text) {
  if (text.empty()) return Status::InvalidArgument("cannot make a QR code of empty text");
  if (text.find('\0') != std::string_view::npos) {
    return Status::InvalidArgument("cannot make a QR code of text that contains a NUL byte");
  }
  const std::string input(text);  // libqrencode wants a NUL-terminated string
  errno = 0;
  std::unique_ptr<QRcode, QrFree> code(QRcode_encodeString8bit(input.c_str(), 0, QR_ECLEVEL_M));
  if (!code) {
    const int err = errno;
    if (err == ERANGE) {
      return Status::InvalidArgument("text of " + std::to_string(text.size()) +
                                     " bytes is too long for a QR code (at most 2331 bytes at "
                                     "error-correction level M): share it as text instead");
    }
    return Status::Internal(std::string("libqrencode could not encode the text: ") +
                            (err != 0 ? std::strerror(err) : "unknown error"));
  }

  const int width = code->width;
  const int size = width + 2 * kQrQuietZoneModules;
  // Light (true) outside the symbol but inside the quiet zone; bit 0 of a data byte is "dark".
  auto light = [&](int row, int col) {
    if (row >= size) return false;  // below the quiet zone: blank
    const int r = row - kQrQuietZoneModules;
    const int c = col - kQrQuietZoneModules;
    if (r < 0 || c < 0 || r >= width || c >= width) return true;
    return (code->data[static_cast<std::size_t>(r) * static_cast<std::size_t>(width) +
                       static_cast<std::size_t>(c)] &
            1u) == 0;
  };

  std::string out;
  out.reserve(static_cast<std::size_t>((size + 1) / 2) * (static_cast<std::size_t>(size) * 3 + 1));
  for (int row = 0; row < size; row += 2) {
    for (int col = 0; col < size; ++col) {
      const bool top = light(row, col);
      const bool bottom = light(row + 1, col);
      if (top && bottom) {
        out += kFull;
      } else if (top) {
        out += kUpper;
      } else if (bottom) {
        out += kLower;
      } else {
        out += ' ';
      }
    }
    out += '\n';
  }
  return out;
}

}  // namespace sotto::client
