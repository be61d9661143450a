// sotto-test-mailbox-dump: what a provider's RocksDB holds for one mailbox, for the client
// integration tests (client_withheld_acks_test.sh): the number of items and whether any two
// carry the same bytes (issue 9, leak 3: no two items that reach a mailbox may be identical).
//
//   sotto-test-mailbox-dump STORE_DIR MAILBOX_HEX [--add-copy-of-first]
// prints "items N distinct D" and one BLAKE2b-256 hash of each payload per line. The provider
// must be stopped (RocksDB allows one process). --add-copy-of-first first stores a second copy
// of the mailbox's first item — the leak put back, for the test's positive control; use it on a
// copy of the store. Exit 0 if it could read the store, 1 otherwise, 2 for bad arguments.
#include <sodium.h>

#include <iostream>
#include <set>
#include <string>

#include "sotto/core/bytes.h"
#include "sotto/mixnode/store.h"

int main(int argc, char** argv) {
  const bool add_copy = argc == 4 && std::string(argv[3]) == "--add-copy-of-first";
  if (argc != 3 && !add_copy) {
    std::cerr << "usage: sotto-test-mailbox-dump STORE_DIR MAILBOX_HEX [--add-copy-of-first]\n";
    return 2;
  }
  if (sodium_init() < 0) return 1;
  auto mailbox = sotto::FixedFromHex<32>(argv[2]);
  if (!mailbox.ok()) {
    std::cerr << "the mailbox must be 64 hex digits\n";
    return 2;
  }
  auto store = sotto::mixnode::NodeStore::Open(argv[1]);
  if (!store.ok()) {
    std::cerr << "cannot open " << argv[1] << ": " << store.status().message() << "\n";
    return 1;
  }
  if (add_copy) {
    auto first = store.value()->FetchMail(mailbox.value(), 1);
    if (!first.ok() || first.value().empty()) {
      std::cerr << "no item to copy\n";
      return 1;
    }
    if (!store.value()->StoreMail(mailbox.value(), first.value()[0]).ok()) return 1;
  }
  auto items = store.value()->FetchMail(mailbox.value(), 1u << 20);
  if (!items.ok()) {
    std::cerr << "cannot read the mailbox: " << items.status().message() << "\n";
    return 1;
  }
  std::set<std::string> distinct;
  std::string lines;
  for (const auto& item : items.value()) {
    unsigned char hash[32];
    crypto_generichash(hash, sizeof hash, item.payload.data(), item.payload.size(), nullptr, 0);
    const std::string hex = sotto::ToHex(sotto::ByteSpan(hash, sizeof hash));
    distinct.insert(hex);
    lines += hex + "\n";
  }
  std::cout << "items " << items.value().size() << " distinct " << distinct.size() << "\n" << lines;
  return 0;
}
