// QR codes for the terminal, so that a contact code can be scanned from one screen by another
// device's camera instead of being typed. Encoding is done by Debian's libqrencode (byte mode,
// error-correction level M, case preserved); this module only draws the symbol.
//
// Drawing: every character cell holds two modules, one above the other, using the Unicode half
// blocks '▀' (upper), '▄' (lower), '█' (both) and ' ' (neither), with a quiet zone of 2 modules on
// every side. A block glyph marks a LIGHT module and a space a DARK one: the glyph is painted in
// the terminal's foreground colour, and in the usual light-text-on-dark-background terminal
// (the default of most Linux terminal emulators and SSH sessions) this shows dark modules on a
// light field with a light quiet zone — the way round QR readers expect, as in libqrencode's own
// `qrencode -t UTF8`. On a dark-text-on-light terminal the symbol appears inverted; most phone
// readers still decode it, and a caller can invert the glyphs if needed. Every line has the same
// number of characters (the symbol width plus 4); the block ends with a newline. Below an odd
// number of rows the last line's lower halves are blank (dark), outside the quiet zone.
//
// Pure and thread-safe (libqrencode's encoder is reentrant).
#pragma once

#include <string>
#include <string_view>

#include "sotto/core/status.h"

namespace sotto::client {

inline constexpr int kQrQuietZoneModules = 2;

// Fails with InvalidArgument if `text` is empty, contains a NUL byte, or is too long for any QR
// version at level M (more than 2331 bytes); with Internal if libqrencode fails otherwise.
Result<std::string> RenderQrForTerminal(std::string_view text);

}  // namespace sotto::client
