// Contact codes: the compact, copy-pasteable string two Sotto users exchange out of band (in
// person, over a phone call, in an e-mail) to start talking. A code carries everything a sender
// needs to reach the owner: their identity key and pre-key (e2ee-spec §3) and where their mail
// waits (provider node id and mailbox id). Its authenticity comes only from the channel it was
// exchanged over; the checksum catches typing and copying mistakes, not forgeries.
//
// Format (papers/e2ee-spec.md §10 is normative):
//   binary (133 bytes) = version (1, = 1) ‖ identity_key (32) ‖ prekey (32)
//                        ‖ provider node id (32) ‖ mailbox id (32) ‖ checksum (4)
//   checksum           = BLAKE2b-256("sotto-contact-v1" ‖ the 129 preceding bytes)[0..4)
//   text               = "sotto1" ‖ base32(binary)
// base32 is RFC 4648 §6 with the lower-case alphabet "abcdefghijklmnopqrstuvwxyz234567" and no
// '=' padding: 213 characters, the last of which carries 4 data bits and 1 zero bit. The grouped
// form puts a '-' after "sotto1" and after every 5 base32 characters:
//   sotto1-aeaqc-...-xyz
//
// DecodeContactCode accepts the code with or without dashes, in any case, with whitespace around
// it or inside it (a code wrapped by a mail client), and rejects with a message that says what is
// wrong and what to do: a wrong prefix, a character outside the alphabet (named, with its
// 1-based position in the input), a wrong length, an unknown version, a checksum mismatch (which
// includes non-zero padding bits), an all-zero or low-order identity key or pre-key, and an
// all-zero provider or mailbox id. It never crashes and never throws, whatever the input.
//
// All functions are pure and thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "sotto/core/keys.h"
#include "sotto/core/sphinx.h"
#include "sotto/core/status.h"

namespace sotto::client {

inline constexpr std::uint8_t kContactCodeVersion = 1;
inline constexpr std::string_view kContactCodePrefix = "sotto1";
inline constexpr std::size_t kContactCodeChecksumSize = 4;
// version ‖ identity_key ‖ prekey ‖ provider ‖ mailbox ‖ checksum = 133 bytes.
inline constexpr std::size_t kContactCodeBinarySize = 1 + kX25519KeySize + kX25519KeySize +
                                                      sphinx::kNodeIdSize + sphinx::kMailboxIdSize +
                                                      kContactCodeChecksumSize;
// ceil(133 * 8 / 5) = 213 base32 characters after the prefix.
inline constexpr std::size_t kContactCodeBase32Length = (kContactCodeBinarySize * 8 + 4) / 5;

struct ContactCode {
  std::uint8_t version = kContactCodeVersion;
  PublicKey identity_key;  // IK, e2ee-spec §3
  PublicKey prekey;        // SPK, e2ee-spec §3
  sphinx::NodeId provider{};
  sphinx::MailboxId mailbox{};
  friend bool operator==(const ContactCode&, const ContactCode&) = default;
};

enum class ContactCodeStyle : std::uint8_t {
  kGrouped,  // "sotto1-xxxxx-xxxxx-…-xxx": for people to read out and type
  kCompact,  // "sotto1xxxxxxxx…": for QR codes and machines
};

// Always produces a code that DecodeContactCode accepts back unchanged, provided the keys and ids
// themselves are acceptable (see above). Writes version 1 whatever `code.version` says.
std::string EncodeContactCode(const ContactCode& code,
                              ContactCodeStyle style = ContactCodeStyle::kGrouped);

Result<ContactCode> DecodeContactCode(std::string_view text);

}  // namespace sotto::client
