// SURBs: reply round trips, the replier learns nothing of the path, and reply packets look
// like forward packets at every mix.
#include <sodium.h>

#include <algorithm>
#include <bit>
#include <catch2/catch.hpp>

#include "sotto/core/sphinx.h"
#include "sphinx_testutil.h"

namespace sx = sotto::sphinx;
using namespace sotto::sphinx::testing;
using sotto::Bytes;

namespace {

const sx::MailboxId kAliceMailbox = [] {
  sx::MailboxId m{};
  m.fill(0xA1);
  return m;
}();

bool Contains(const Bytes& haystack, sotto::ByteSpan needle) {
  return std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end()) !=
         haystack.end();
}

// Carries a packet to its final hop; returns the packets each hop received and the last result.
sx::ProcessResult Carry(const std::vector<TestNode>& nodes, sx::NodeId at, Bytes packet,
                        std::vector<Bytes>& seen) {
  for (std::size_t guard = 0; guard <= sx::kMaxHops; ++guard) {
    seen.push_back(packet);
    auto r = sx::ProcessPacket(NodeById(nodes, at).keys.secret_key, packet);
    auto* f = std::get_if<sx::Forward>(&r);
    if (f == nullptr) return r;
    at = f->next_hop;
    packet = f->packet;
  }
  return sx::Drop{sx::DropReason::kBadLength};
}

}  // namespace

TEST_CASE("a reply through a SURB reaches its creator for every path length", "[sphinx][surb]") {
  const auto nodes = MakeNodes(sx::kMaxHops, 11);
  for (std::size_t n = 1; n <= sx::kMaxHops; ++n) {
    INFO("path length " << n);
    auto made = sx::CreateSurb(PathOver(nodes, n), kAliceMailbox);
    REQUIRE(made.ok());
    CHECK(made->keys.hop_payload_keys.size() == n);
    // The SURB travels inside a message: serialise and parse it as the replier would.
    const Bytes wire = made->surb.Serialize();
    CHECK(wire.size() == sx::kSurbSize);
    auto surb = sx::Surb::Parse(wire);
    REQUIRE(surb.ok());
    const std::string reply = "réponse 🙂 ответ " + std::to_string(n);
    const sx::NodeId first_hop = surb->first_hop;
    auto packet = sx::CreateReplyPacket(std::move(surb.value()), Text(reply));
    REQUIRE(packet.ok());
    CHECK(packet->size() == sx::kPacketSize);
    // The SURB was consumed: its key is wiped from the replier's copy.
    CHECK(sodium_is_zero(surb->payload_key.data(), sx::kSurbKeySize) == 1);
    std::vector<Bytes> seen;
    auto result = Carry(nodes, first_hop, packet.value(), seen);
    CHECK(seen.size() == n);
    auto* delivered = std::get_if<sx::SurbDeliver>(&result);
    REQUIRE(delivered != nullptr);
    CHECK(delivered->mailbox == kAliceMailbox);
    CHECK(delivered->surb_id == made->keys.id);
    // The final hop stores something it cannot read: the reply text is not in it.
    CHECK_FALSE(Contains(delivered->payload, Text(reply)));
    auto opened = sx::OpenReply(made->keys, delivered->payload);
    REQUIRE(opened.ok());
    CHECK(std::string(opened->begin(), opened->end()) == reply);
  }
}

TEST_CASE("a SURB reveals neither the creator's mailbox nor the path beyond the first hop",
          "[sphinx][surb][security]") {
  const auto nodes = MakeNodes(3, 12);
  auto made = sx::CreateSurb(PathOver(nodes, 3), kAliceMailbox).value();
  const Bytes wire = made.surb.Serialize();
  CHECK_FALSE(Contains(wire, kAliceMailbox));
  CHECK_FALSE(Contains(wire, made.keys.id));
  CHECK_FALSE(Contains(wire, nodes[1].id));
  CHECK_FALSE(Contains(wire, nodes[2].id));
  CHECK_FALSE(Contains(wire, nodes[1].keys.public_key.bytes));
  CHECK(made.surb.first_hop == nodes[0].id);
}

TEST_CASE("reply packets are indistinguishable from forward packets at every mix",
          "[sphinx][surb][security]") {
  const auto nodes = MakeNodes(sx::kMaxHops, 13);
  for (std::size_t n = 2; n <= sx::kMaxHops; ++n) {
    INFO("path length " << n);
    const auto path = PathOver(nodes, n);
    auto forward = sx::CreateForwardPacket(path, kAliceMailbox, Text("a forward message")).value();
    auto made = sx::CreateSurb(path, kAliceMailbox).value();
    auto reply = sx::CreateReplyPacket(std::move(made.surb), Text("a reply message")).value();
    std::vector<Bytes> fseen, rseen;
    Carry(nodes, path[0].id, forward, fseen);
    Carry(nodes, path[0].id, reply, rseen);
    REQUIRE(fseen.size() == n);
    REQUIRE(rseen.size() == n);
    // Every mix before the last: same size, same command (relay to the same next hop, same
    // delay), and both packets look uniformly random (no zero block, no structure).
    for (std::size_t i = 0; i + 1 < n; ++i) {
      CHECK(fseen[i].size() == rseen[i].size());
      auto fr = sx::ProcessPacket(nodes[i].keys.secret_key, fseen[i]);
      auto rr = sx::ProcessPacket(nodes[i].keys.secret_key, rseen[i]);
      REQUIRE(std::holds_alternative<sx::Forward>(fr));
      REQUIRE(std::holds_alternative<sx::Forward>(rr));
      CHECK(std::get<sx::Forward>(fr).next_hop == std::get<sx::Forward>(rr).next_hop);
      CHECK(std::get<sx::Forward>(fr).delay_ms == std::get<sx::Forward>(rr).delay_ms);
      for (const Bytes* p : {&fseen[i], &rseen[i]}) {
        CHECK(LongestZeroRun(*p) < 8);
        std::size_t ones = 0;
        for (auto byte : *p) ones += static_cast<std::size_t>(std::popcount(unsigned{byte}));
        CHECK(ones > p->size() * 8 * 45 / 100);
        CHECK(ones < p->size() * 8 * 55 / 100);
      }
    }
  }
}

TEST_CASE("a tampered reply or the wrong keys are detected by the creator",
          "[sphinx][surb][security]") {
  const auto nodes = MakeNodes(3, 14);
  auto made = sx::CreateSurb(PathOver(nodes, 3), kAliceMailbox).value();
  auto other = sx::CreateSurb(PathOver(nodes, 3), kAliceMailbox).value();
  const sx::NodeId first_hop = made.surb.first_hop;
  const Bytes good = sx::CreateReplyPacket(std::move(made.surb), Text("secret plan")).value();
  Bytes packet = good;
  packet[sx::kHeaderSize + 3] ^= 0x01;
  std::vector<Bytes> seen;
  auto result = Carry(nodes, first_hop, packet, seen);
  REQUIRE(std::holds_alternative<sx::SurbDeliver>(result));
  auto opened = sx::OpenReply(made.keys, std::get<sx::SurbDeliver>(result).payload);
  REQUIRE_FALSE(opened.ok());
  CHECK(opened.status().code() == sotto::Status::Code::kCorruption);

  seen.clear();
  auto ok = Carry(nodes, first_hop, good, seen);
  REQUIRE(std::holds_alternative<sx::SurbDeliver>(ok));
  CHECK_FALSE(sx::OpenReply(other.keys, std::get<sx::SurbDeliver>(ok).payload).ok());
  CHECK(sx::OpenReply(made.keys, std::get<sx::SurbDeliver>(ok).payload).ok());
  CHECK_FALSE(sx::OpenReply(made.keys, Bytes(10)).ok());
  sx::SurbKeys empty;
  CHECK_FALSE(sx::OpenReply(empty, std::get<sx::SurbDeliver>(ok).payload).ok());
}

TEST_CASE("malformed SURBs are refused", "[sphinx][surb]") {
  CHECK_FALSE(sx::Surb::Parse(Bytes(sx::kSurbSize - 1)).ok());
  CHECK_FALSE(sx::Surb::Parse(Bytes(sx::kSurbSize + 1)).ok());
  sx::Surb bad;
  bad.header = Bytes(10);
  auto r = sx::CreateReplyPacket(std::move(bad), Text("x"));
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == sotto::Status::Code::kInvalidArgument);
}
