// Mailbox identifiers derived from link keys.
#include "sotto/core/mailbox.h"

#include <sodium.h>

#include <string_view>

namespace sotto {

sphinx::MailboxId MailboxForLinkKey(const transport::LinkPublicKey& key) {
  constexpr std::string_view kLabel = "sotto-mailbox-v1";
  sphinx::MailboxId id{};
  crypto_generichash_state st;
  crypto_generichash_init(&st, nullptr, 0, id.size());
  crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(kLabel.data()), kLabel.size());
  crypto_generichash_update(&st, key.data(), key.size());
  crypto_generichash_final(&st, id.data(), id.size());
  return id;
}

}  // namespace sotto
