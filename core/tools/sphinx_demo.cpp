// sotto-sphinx-demo: builds one Sphinx packet for a 3-hop path, processes it at each hop with
// that hop's own key, and prints what each hop learns (and what it cannot). Then shows a SURB
// reply coming back, a tampered packet being dropped, and a replay being recognised.
// The README's first command runs this until the local testnet lands.
#include <fmt/core.h>

#include <cstring>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "sotto/core/sodium.h"
#include "sotto/core/sphinx.h"

namespace sx = sotto::sphinx;

namespace {

constexpr std::string_view kUsage =
    "usage: sotto-sphinx-demo [--help]\n"
    "\n"
    "Builds a Sphinx packet from Alice to Bob's mailbox across three mix nodes, processes it\n"
    "hop by hop with each node's own private key, and prints what every hop learns. Then Bob\n"
    "replies through a single-use reply block (SURB), and the demo shows that a tampered packet\n"
    "is dropped and that a replayed packet carries the same replay tag.\n";

struct Node {
  std::string name;
  sx::NodeId id{};
  sotto::KeyPair keys;
};

// A mix's replay cache, in memory for the demo (the daemon keeps it in RocksDB).
class MemoryReplayCache final : public sx::ReplayGuard {
 public:
  bool CheckAndRecord(const sx::ReplayTag& tag) noexcept override {
    return seen_.insert(tag).second;
  }

 private:
  std::set<sx::ReplayTag> seen_;
};

std::string Short(sotto::ByteSpan bytes) { return sotto::ToHex(bytes.first(8)) + "…"; }

sx::NodeId IdFromName(std::string_view name) {
  sx::NodeId id{};
  std::memcpy(id.data(), name.data(), std::min(name.size(), id.size()));
  return id;
}

std::string NameOf(const std::vector<Node>& nodes, const sx::NodeId& id) {
  for (const auto& n : nodes) {
    if (n.id == id) return n.name;
  }
  return "unknown node " + Short(id);
}

// Walks a packet from `first` through `nodes` until it is delivered or dropped; returns the
// final result.
sx::ProcessResult Walk(const std::vector<Node>& nodes, sx::NodeId at, sotto::Bytes packet,
                       bool verbose) {
  for (int hop = 1;; ++hop) {
    const Node* node = nullptr;
    for (const auto& n : nodes) {
      if (n.id == at) node = &n;
    }
    if (node == nullptr) return sx::Drop{sx::DropReason::kMalformedCommand};
    auto result = sx::ProcessPacket(node->keys.secret_key, packet);
    if (verbose) fmt::print("  hop {} — {} receives {} bytes\n", hop, node->name, packet.size());
    if (auto* fwd = std::get_if<sx::Forward>(&result)) {
      if (verbose) {
        fmt::print("      learns: the previous hop, and: relay to {} (delay {} ms)\n",
                   NameOf(nodes, fwd->next_hop), fwd->delay_ms);
        fmt::print("      replay tag {} (kept in its replay cache)\n", Short(fwd->replay_tag));
        fmt::print(
            "      cannot learn: the sender, the destination, the message, or how many\n"
            "      hops come before or after it\n");
      }
      at = fwd->next_hop;
      packet = std::move(fwd->packet);
      continue;
    }
    return result;
  }
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      fmt::print("{}", kUsage);
      return 0;
    }
    fmt::print(stderr, "sotto-sphinx-demo: unknown argument '{}'\n\n{}", arg, kUsage);
    return 2;
  }
  sotto::InitSodiumOrDie();

  std::vector<Node> nodes;
  for (const char* name : {"mix-1", "mix-2", "mix-3"}) {
    nodes.push_back({name, IdFromName(name), sotto::KeyPair::Generate()});
  }
  std::vector<sx::PathHop> path;
  for (const auto& n : nodes) path.push_back({n.id, n.keys.public_key, 0});
  const sx::MailboxId bob = IdFromName("bob's mailbox");
  const std::string message = "Hi Bob — meet at the usual place at 6? 🌻";

  fmt::print("Sphinx: {} hops max, every packet {} bytes (header {}, payload {}).\n\n",
             sx::kMaxHops, sx::kPacketSize, sx::kHeaderSize, sx::kPayloadSize);
  fmt::print("Alice sends \"{}\" to Bob's mailbox via mix-1 → mix-2 → mix-3.\n", message);
  auto packet = sx::CreateForwardPacket(
      path, bob,
      sotto::ByteSpan(reinterpret_cast<const std::uint8_t*>(message.data()), message.size()));
  if (!packet.ok()) {
    fmt::print(stderr, "error: {}\n", packet.status().ToString());
    return 1;
  }
  auto result = Walk(nodes, path[0].id, packet.value(), true);
  auto* delivered = std::get_if<sx::Deliver>(&result);
  if (delivered == nullptr) {
    fmt::print(stderr, "error: the packet was not delivered\n");
    return 1;
  }
  fmt::print("      learns: deliver to mailbox \"{}\", payload integrity verified\n",
             std::string(reinterpret_cast<const char*>(delivered->mailbox.data())));
  fmt::print(
      "      message ({} bytes, still end-to-end encrypted once the client lands): \"{}\"\n\n",
      delivered->message.size(), std::string(delivered->message.begin(), delivered->message.end()));

  fmt::print(
      "Bob replies through a SURB Alice put in her message (he never learns her address).\n");
  const sx::MailboxId alice = IdFromName("alice's mailbox");
  std::vector<sx::PathHop> back(path.rbegin(), path.rend());
  auto surb = sx::CreateSurb(back, alice);
  const std::string reply = "6 works. ¡Hasta luego! 👋";
  const sx::NodeId reply_first_hop = surb->surb.first_hop;
  auto reply_packet = sx::CreateReplyPacket(
      std::move(surb->surb),
      sotto::ByteSpan(reinterpret_cast<const std::uint8_t*>(reply.data()), reply.size()));
  fmt::print("  the reply packet is {} bytes too — mixes cannot tell it from a forward packet\n",
             reply_packet->size());
  auto reply_result = Walk(nodes, reply_first_hop, reply_packet.value(), false);
  auto* surb_delivered = std::get_if<sx::SurbDeliver>(&reply_result);
  if (surb_delivered == nullptr) {
    fmt::print(stderr, "error: the reply was not delivered\n");
    return 1;
  }
  auto opened = sx::OpenReply(surb->keys, surb_delivered->payload);
  if (!opened.ok()) {
    fmt::print(stderr, "error: {}\n", opened.status().ToString());
    return 1;
  }
  fmt::print("  the last hop stores an opaque payload for SURB {}; Alice opens it: \"{}\"\n\n",
             Short(surb_delivered->surb_id), std::string(opened->begin(), opened->end()));

  fmt::print("An attacker flips one bit of the header in flight:\n");
  sotto::Bytes tampered = packet.value();
  tampered[100] ^= 0x01;
  auto dropped = sx::ProcessPacket(nodes[0].keys.secret_key, tampered);
  if (auto* d = std::get_if<sx::Drop>(&dropped)) {
    fmt::print("  mix-1 drops it: {}\n", sx::DropReasonName(d->reason));
  }
  fmt::print("An attacker replays Alice's packet to mix-1:\n");
  MemoryReplayCache cache;
  auto first = sx::ProcessPacket(nodes[0].keys.secret_key, packet.value(), &cache);
  auto again = sx::ProcessPacket(nodes[0].keys.secret_key, packet.value(), &cache);
  const auto* replay = std::get_if<sx::Drop>(&again);
  if (!std::holds_alternative<sx::Forward>(first) || replay == nullptr) {
    fmt::print(stderr, "error: the replay was not detected\n");
    return 1;
  }
  fmt::print("  the first copy is forwarded; mix-1's replay cache drops the second: {}\n",
             sx::DropReasonName(replay->reason));
  return 0;
}
