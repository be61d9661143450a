// Mailbox identifiers. A client's mailbox at its provider is named after the client's CURVE link
// key, so the provider can check that whoever fetches a mailbox owns it (the key is
// authenticated by the CURVE handshake) without any account or password.
#pragma once

#include "sotto/core/sphinx.h"
#include "sotto/core/transport.h"

namespace sotto {

// BLAKE2b-256("sotto-mailbox-v1" ‖ link public key).
sphinx::MailboxId MailboxForLinkKey(const transport::LinkPublicKey& key);

// The all-zero mailbox: the sink for dummy packets, which providers count and drop.
inline constexpr sphinx::MailboxId kDummyMailbox{};

}  // namespace sotto
