// Sphinx forward packets: round trips, constant size, tamper and replay properties, and hostile
// input at a node. Each test fails if the property it names breaks.
#include "sotto/core/sphinx.h"

#include <algorithm>
#include <bit>
#include <catch2/catch.hpp>
#include <set>

#include "sphinx_kdf.h"
#include "sphinx_process.h"
#include "sphinx_testutil.h"

namespace sx = sotto::sphinx;
using namespace sotto::sphinx::testing;
using sotto::Bytes;

namespace {

const sx::MailboxId kMailbox = [] {
  sx::MailboxId m{};
  m.fill(0x4D);
  return m;
}();

// Carries `packet` along the path; returns the final result and every intermediate packet.
sx::ProcessResult Walk(const std::vector<TestNode>& nodes, sx::NodeId at, Bytes packet,
                       std::vector<Bytes>* seen = nullptr,
                       std::vector<sx::Forward>* hops = nullptr) {
  for (std::size_t guard = 0; guard < sx::kMaxHops + 1; ++guard) {
    if (seen) seen->push_back(packet);
    auto result = sx::ProcessPacket(NodeById(nodes, at).keys.secret_key, packet);
    auto* fwd = std::get_if<sx::Forward>(&result);
    if (fwd == nullptr) return result;
    if (hops) hops->push_back(*fwd);
    at = fwd->next_hop;
    packet = fwd->packet;
  }
  FAIL("packet kept being forwarded beyond the maximum path length");
  return sx::Drop{sx::DropReason::kBadLength};
}

sx::DropReason DropOf(const sx::ProcessResult& r) {
  REQUIRE(std::holds_alternative<sx::Drop>(r));
  return std::get<sx::Drop>(r).reason;
}

}  // namespace

TEST_CASE("forward packets arrive intact for every path length 1..r", "[sphinx]") {
  const auto nodes = MakeNodes(sx::kMaxHops);
  for (std::size_t n = 1; n <= sx::kMaxHops; ++n) {
    INFO("path length " << n);
    const auto path = PathOver(nodes, n);
    const std::string message = "hop count " + std::to_string(n) + " — héllo 🌍 你好";
    auto packet = sx::CreateForwardPacket(path, kMailbox, Text(message));
    REQUIRE(packet.ok());
    CHECK(packet->size() == sx::kPacketSize);
    std::vector<sx::Forward> hops;
    auto result = Walk(nodes, path[0].id, packet.value(), nullptr, &hops);
    REQUIRE(hops.size() == n - 1);
    for (std::size_t i = 0; i + 1 < n; ++i) {
      CHECK(hops[i].next_hop == path[i + 1].id);
      CHECK(hops[i].delay_ms == path[i].delay_ms);
      CHECK(hops[i].packet.size() == sx::kPacketSize);
    }
    auto* delivered = std::get_if<sx::Deliver>(&result);
    REQUIRE(delivered != nullptr);
    CHECK(delivered->mailbox == kMailbox);
    CHECK(std::string(delivered->message.begin(), delivered->message.end()) == message);
  }
}

TEST_CASE("empty and maximum-size messages round trip", "[sphinx]") {
  const auto nodes = MakeNodes(3);
  const auto path = PathOver(nodes, 3);
  for (std::size_t size : {std::size_t{0}, std::size_t{1}, sx::kMaxMessageSize}) {
    Bytes message(size, 0xC3);
    auto packet = sx::CreateForwardPacket(path, kMailbox, message);
    REQUIRE(packet.ok());
    auto result = Walk(nodes, path[0].id, packet.value());
    REQUIRE(std::holds_alternative<sx::Deliver>(result));
    CHECK(std::get<sx::Deliver>(result).message == message);
  }
}

TEST_CASE("every packet has the same size whatever the path length and message", "[sphinx]") {
  const auto nodes = MakeNodes(sx::kMaxHops);
  for (std::size_t n = 1; n <= sx::kMaxHops; ++n) {
    for (std::size_t len : {std::size_t{0}, std::size_t{100}, sx::kMaxMessageSize}) {
      std::vector<Bytes> seen;
      auto packet = sx::CreateForwardPacket(PathOver(nodes, n), kMailbox, Bytes(len, 1));
      REQUIRE(packet.ok());
      Walk(nodes, nodes[0].id, packet.value(), &seen);
      for (const auto& p : seen) CHECK(p.size() == sx::kPacketSize);
    }
  }
}

TEST_CASE("bad arguments to packet creation are refused with a clear error", "[sphinx]") {
  const auto nodes = MakeNodes(sx::kMaxHops + 1, 7);
  const auto too_long = PathOver(nodes, sx::kMaxHops + 1);
  auto r1 = sx::CreateForwardPacket(too_long, kMailbox, Text("x"));
  REQUIRE_FALSE(r1.ok());
  CHECK(r1.status().code() == sotto::Status::Code::kInvalidArgument);
  CHECK_THAT(r1.status().message(), Catch::Contains("hops"));
  auto r2 = sx::CreateForwardPacket({}, kMailbox, Text("x"));
  CHECK_FALSE(r2.ok());
  auto r3 = sx::CreateForwardPacket(PathOver(nodes, 2), kMailbox, Bytes(sx::kMaxMessageSize + 1));
  REQUIRE_FALSE(r3.ok());
  CHECK_THAT(r3.status().message(), Catch::Contains("does not fit"));
  // A low-order routing key (here: zero) cannot be used.
  auto path = PathOver(nodes, 3);
  path[1].routing_key = sotto::PublicKey{};
  auto r4 = sx::CreateForwardPacket(path, kMailbox, Text("x"));
  REQUIRE_FALSE(r4.ok());
  CHECK_THAT(r4.status().message(), Catch::Contains("hop 1"));
}

TEST_CASE("a bit flipped anywhere in the header is dropped at the next hop", "[sphinx][security]") {
  const auto nodes = MakeNodes(3);
  const auto path = PathOver(nodes, 3);
  auto packet = sx::CreateForwardPacket(path, kMailbox, Text("tamper me")).value();
  std::vector<Bytes> seen;
  Walk(nodes, path[0].id, packet, &seen);
  REQUIRE(seen.size() == 3);
  // Every header bit of the packet entering hop 0, and of the packet entering the last hop.
  for (std::size_t hop : {std::size_t{0}, std::size_t{2}}) {
    std::size_t dropped = 0, total = 0;
    for (std::size_t bit = 0; bit < sx::kHeaderSize * 8; ++bit) {
      Bytes tampered = seen[hop];
      tampered[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
      auto r = sx::ProcessPacket(nodes[hop].keys.secret_key, tampered);
      ++total;
      if (auto* d = std::get_if<sx::Drop>(&r)) {
        if (d->reason == sx::DropReason::kBadMac || d->reason == sx::DropReason::kInvalidPoint) {
          ++dropped;
        }
      }
    }
    INFO("hop " << hop);
    CHECK(dropped == total);
  }
}

TEST_CASE("a flipped payload bit is detected at the destination and garbles everything",
          "[sphinx][security]") {
  const auto nodes = MakeNodes(3);
  const auto path = PathOver(nodes, 3);
  const std::string message(1500, 'a');
  auto packet = sx::CreateForwardPacket(path, kMailbox, Text(message)).value();
  Bytes tampered = packet;
  tampered[sx::kHeaderSize + 700] ^= 0x10;

  // The mixes cannot see the change (the header is intact) and forward it...
  std::vector<Bytes> clean_seen, tampered_seen;
  auto clean = Walk(nodes, path[0].id, packet, &clean_seen);
  auto result = Walk(nodes, path[0].id, tampered, &tampered_seen);
  REQUIRE(std::holds_alternative<sx::Deliver>(clean));
  // ...and the destination drops it.
  CHECK(DropOf(result) == sx::DropReason::kPayloadCorrupt);

  // What the destination decrypted differs from the real body in about half of all bits —
  // not in one bit, which is what a stream cipher would give (a tagging attack).
  REQUIRE(tampered_seen.size() == 3);
  sx::internal::HopTrace trace;
  (void)sx::internal::ProcessPacketTraced(nodes[2].keys.secret_key, clean_seen[2], nullptr, &trace);
  sotto::LionessKey key(std::span<const std::uint8_t, sotto::kLionessKeySize>(trace.payload_key));
  Bytes clean_body(clean_seen[2].begin() + sx::kHeaderSize, clean_seen[2].end());
  Bytes bad_body(tampered_seen[2].begin() + sx::kHeaderSize, tampered_seen[2].end());
  sotto::LionessDecrypt(key, clean_body);
  sotto::LionessDecrypt(key, bad_body);
  std::size_t bits = 0;
  for (std::size_t i = 0; i < clean_body.size(); ++i) {
    bits +=
        static_cast<std::size_t>(std::popcount(static_cast<unsigned>(clean_body[i] ^ bad_body[i])));
  }
  CHECK(bits > sx::kPayloadSize * 8 * 45 / 100);
  CHECK(bits < sx::kPayloadSize * 8 * 55 / 100);
}

TEST_CASE("replay tags: identical packets give identical tags, different packets differ",
          "[sphinx][security]") {
  const auto nodes = MakeNodes(3);
  const auto path = PathOver(nodes, 3);
  auto p1 = sx::CreateForwardPacket(path, kMailbox, Text("same")).value();
  auto p2 = sx::CreateForwardPacket(path, kMailbox, Text("same")).value();
  auto a = sx::ProcessPacket(nodes[0].keys.secret_key, p1);
  auto b = sx::ProcessPacket(nodes[0].keys.secret_key, p1);
  auto c = sx::ProcessPacket(nodes[0].keys.secret_key, p2);
  REQUIRE(std::holds_alternative<sx::Forward>(a));
  REQUIRE(std::holds_alternative<sx::Forward>(c));
  const auto& fa = std::get<sx::Forward>(a);
  CHECK(fa.replay_tag == std::get<sx::Forward>(b).replay_tag);
  CHECK(fa.replay_tag != std::get<sx::Forward>(c).replay_tag);
  // The next hop sees a different tag for the same packet.
  auto next = sx::ProcessPacket(nodes[1].keys.secret_key, fa.packet);
  REQUIRE(std::holds_alternative<sx::Forward>(next));
  CHECK(std::get<sx::Forward>(next).replay_tag != fa.replay_tag);
  // A payload change does not change the tag (the tag is bound to the header's shared secret),
  // so a mix cannot be made to accept a "fresh" copy by re-randomising the payload.
  Bytes altered = p1;
  altered.back() ^= 1;
  auto d = sx::ProcessPacket(nodes[0].keys.secret_key, altered);
  REQUIRE(std::holds_alternative<sx::Forward>(d));
  CHECK(std::get<sx::Forward>(d).replay_tag == fa.replay_tag);
}

TEST_CASE("the wrong node key drops the packet", "[sphinx][security]") {
  const auto nodes = MakeNodes(4);
  auto packet = sx::CreateForwardPacket(PathOver(nodes, 3), kMailbox, Text("x")).value();
  CHECK(DropOf(sx::ProcessPacket(nodes[1].keys.secret_key, packet)) == sx::DropReason::kBadMac);
  CHECK(DropOf(sx::ProcessPacket(nodes[3].keys.secret_key, packet)) == sx::DropReason::kBadMac);
}

TEST_CASE("low-order, zero and non-canonical points are dropped", "[sphinx][security]") {
  // The small-order points of Curve25519 and their non-canonical encodings (the list libsodium
  // and RFC 7748 implementations block).
  const char* kLowOrder[] = {
      "0000000000000000000000000000000000000000000000000000000000000000",
      "0100000000000000000000000000000000000000000000000000000000000000",
      "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
      "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
      "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
      "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
      "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
      // Non-canonical encodings of ordinary points: p + 9 (aliases the base point), and the
      // base point with the ignored top bit set.
      "f6ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
      "0900000000000000000000000000000000000000000000000000000000000080",
  };
  const auto nodes = MakeNodes(3);
  auto packet = sx::CreateForwardPacket(PathOver(nodes, 3), kMailbox, Text("x")).value();
  for (const char* hex : kLowOrder) {
    INFO(hex);
    auto point = sotto::FromHex(hex).value();
    Bytes p = packet;
    std::copy(point.begin(), point.end(), p.begin());
    CHECK(DropOf(sx::ProcessPacket(nodes[0].keys.secret_key, p)) == sx::DropReason::kInvalidPoint);
  }
}

TEST_CASE("packets of the wrong length are dropped", "[sphinx][security]") {
  const auto nodes = MakeNodes(1);
  auto packet = sx::CreateForwardPacket(PathOver(nodes, 1), kMailbox, Text("x")).value();
  const auto& key = nodes[0].keys.secret_key;
  CHECK(DropOf(sx::ProcessPacket(key, {})) == sx::DropReason::kBadLength);
  CHECK(DropOf(sx::ProcessPacket(key, sotto::ByteSpan(packet).first(sx::kPacketSize - 1))) ==
        sx::DropReason::kBadLength);
  Bytes longer = packet;
  longer.push_back(0);
  CHECK(DropOf(sx::ProcessPacket(key, longer)) == sx::DropReason::kBadLength);
}

TEST_CASE("random bytes of the right size never crash a node and are dropped",
          "[sphinx][security]") {
  const auto nodes = MakeNodes(1);
  auto rng = sotto::DeterministicRng::FromByte(0x99);
  Bytes junk(sx::kPacketSize);
  for (int i = 0; i < 300; ++i) {
    rng.Fill(junk);
    auto r = sx::ProcessPacket(nodes[0].keys.secret_key, junk);
    CHECK(std::holds_alternative<sx::Drop>(r));
  }
}

TEST_CASE("malformed routing commands are dropped after the MAC check", "[sphinx][security]") {
  const auto nodes = MakeNodes(1);
  std::array<std::uint8_t, sx::kSlotSize> slot{};
  slot[0] = 0x09;  // unknown command
  CHECK(DropOf(sx::ProcessPacket(nodes[0].keys.secret_key,
                                 PacketWithRawSlot(nodes[0].keys.public_key, slot))) ==
        sx::DropReason::kMalformedCommand);
  slot = {};
  slot[0] = 0x00;  // zero is not a command
  CHECK(DropOf(sx::ProcessPacket(nodes[0].keys.secret_key,
                                 PacketWithRawSlot(nodes[0].keys.public_key, slot))) ==
        sx::DropReason::kMalformedCommand);
  slot = {};
  slot[0] = 0x01;
  slot[2] = 0x01;  // reserved byte set on a relay
  CHECK(DropOf(sx::ProcessPacket(nodes[0].keys.secret_key,
                                 PacketWithRawSlot(nodes[0].keys.public_key, slot))) ==
        sx::DropReason::kMalformedCommand);
  slot = {};
  slot[0] = 0x02;
  slot[7] = 0x01;  // a delay on a final hop
  CHECK(DropOf(sx::ProcessPacket(nodes[0].keys.secret_key,
                                 PacketWithRawSlot(nodes[0].keys.public_key, slot))) ==
        sx::DropReason::kMalformedCommand);
  // Sanity: a well-formed relay slot built the same way is forwarded.
  slot = {};
  slot[0] = 0x01;
  CHECK(std::holds_alternative<sx::Forward>(sx::ProcessPacket(
      nodes[0].keys.secret_key, PacketWithRawSlot(nodes[0].keys.public_key, slot))));
}

TEST_CASE("the routing information the last hop sees is pseudo-random, never zero padding",
          "[sphinx][security]") {
  // If the padding were zeros, the last hop would see (r - n) zero slots after its own and so
  // learn the path length n.
  const auto nodes = MakeNodes(sx::kMaxHops);
  for (std::size_t n = 1; n <= sx::kMaxHops; ++n) {
    INFO("path length " << n);
    const auto path = PathOver(nodes, n);
    std::vector<Bytes> seen;
    Walk(nodes, path[0].id, sx::CreateForwardPacket(path, kMailbox, Text("x")).value(), &seen);
    const Bytes& last = seen.back();
    sx::internal::HopTrace trace;
    (void)sx::internal::ProcessPacketTraced(nodes[n - 1].keys.secret_key, last, nullptr, &trace);
    sx::internal::Key32 header_key(std::span<const std::uint8_t, 32>(trace.header_key));
    Bytes b(last.begin() + sx::kGroupElementSize,
            last.begin() + sx::kGroupElementSize + sx::kRoutingInfoSize);
    b.resize(sx::kRoutingInfoSize + sx::kSlotSize, 0);
    sx::internal::StreamXor(header_key, b);
    // Everything after the final hop's own slot — padding and filler — looks random.
    const sotto::ByteSpan rest(b.data() + sx::kSlotSize, b.size() - sx::kSlotSize);
    CHECK(LongestZeroRun(rest) < 8);
    std::size_t ones = 0;
    for (auto byte : rest) ones += static_cast<std::size_t>(std::popcount(unsigned{byte}));
    CHECK(ones > rest.size() * 8 * 40 / 100);
    CHECK(ones < rest.size() * 8 * 60 / 100);
  }
}

TEST_CASE("alpha plus a small-order point (same shared secret) is dropped", "[sphinx][security]") {
  const auto nodes = MakeNodes(3);
  auto packet = sx::CreateForwardPacket(PathOver(nodes, 3), kMailbox, Text("x")).value();
  std::array<std::uint8_t, 32> alpha{};
  std::copy_n(packet.begin(), 32, alpha.begin());
  const auto twisted = InvertModP(alpha);
  REQUIRE(twisted != alpha);
  // The attack is real at the DH level: both encodings give the node the same shared secret...
  std::array<std::uint8_t, 32> s1{}, s2{};
  REQUIRE(sx::internal::X25519(s1, nodes[0].keys.secret_key.Bytes(), alpha));
  REQUIRE(sx::internal::X25519(s2, nodes[0].keys.secret_key.Bytes(), twisted));
  CHECK(s1 == s2);
  // ...so only the MAC over alpha ‖ beta catches the modified packet.
  Bytes modified = packet;
  std::copy(twisted.begin(), twisted.end(), modified.begin());
  CHECK(DropOf(sx::ProcessPacket(nodes[0].keys.secret_key, modified)) == sx::DropReason::kBadMac);
}

namespace {

// An in-memory replay cache, as a mix would keep one (the real one is in RocksDB).
class SetGuard final : public sx::ReplayGuard {
 public:
  bool CheckAndRecord(const sx::ReplayTag& tag) noexcept override {
    return seen.insert(tag).second;
  }
  std::set<sx::ReplayTag> seen;
};

}  // namespace

TEST_CASE("a replay guard drops replays right after the MAC check", "[sphinx][security]") {
  const auto nodes = MakeNodes(3);
  const auto path = PathOver(nodes, 3);
  auto packet = sx::CreateForwardPacket(path, kMailbox, Text("once")).value();
  SetGuard guard;
  auto first = sx::ProcessPacket(nodes[0].keys.secret_key, packet, &guard);
  REQUIRE(std::holds_alternative<sx::Forward>(first));
  CHECK(guard.seen.count(std::get<sx::Forward>(first).replay_tag) == 1);
  CHECK(DropOf(sx::ProcessPacket(nodes[0].keys.secret_key, packet, &guard)) ==
        sx::DropReason::kReplay);
  // A copy with a re-randomised payload is the same packet to the replay cache.
  Bytes altered = packet;
  altered[sx::kHeaderSize + 5] ^= 0xFF;
  CHECK(DropOf(sx::ProcessPacket(nodes[0].keys.secret_key, altered, &guard)) ==
        sx::DropReason::kReplay);
  // A packet that fails its MAC is not recorded (an attacker cannot fill the cache with junk).
  Bytes bad = packet;
  bad[40] ^= 1;
  const std::size_t before = guard.seen.size();
  CHECK(DropOf(sx::ProcessPacket(nodes[0].keys.secret_key, bad, &guard)) ==
        sx::DropReason::kBadMac);
  CHECK(guard.seen.size() == before);
  // At the destination, a packet whose payload was corrupted still uses up its tag, so the
  // intact original cannot be delivered after it (no oracle on which copy was tampered).
  SetGuard last_guard;
  Bytes at_last = packet;
  for (int i = 0; i < 2; ++i) {
    at_last = std::get<sx::Forward>(
                  sx::ProcessPacket(nodes[static_cast<std::size_t>(i)].keys.secret_key, at_last))
                  .packet;
  }
  Bytes corrupted = at_last;
  corrupted.back() ^= 1;
  CHECK(DropOf(sx::ProcessPacket(nodes[2].keys.secret_key, corrupted, &last_guard)) ==
        sx::DropReason::kPayloadCorrupt);
  CHECK(DropOf(sx::ProcessPacket(nodes[2].keys.secret_key, at_last, &last_guard)) ==
        sx::DropReason::kReplay);
}

TEST_CASE("per-hop delays are bounded", "[sphinx]") {
  const auto nodes = MakeNodes(3);
  auto path = PathOver(nodes, 3);
  path[0].delay_ms = sx::kMaxDelayMs;
  CHECK(sx::CreateForwardPacket(path, kMailbox, Text("x")).ok());
  path[1].delay_ms = sx::kMaxDelayMs + 1;
  auto r = sx::CreateForwardPacket(path, kMailbox, Text("x"));
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(r.status().message(), Catch::Contains("delay of hop 1"));
  // A relay slot asking for more than the maximum is dropped.
  std::array<std::uint8_t, sx::kSlotSize> slot{};
  slot[0] = 0x01;
  const std::uint32_t too_long = sx::kMaxDelayMs + 1;
  slot[4] = static_cast<std::uint8_t>(too_long >> 24);
  slot[5] = static_cast<std::uint8_t>(too_long >> 16);
  slot[6] = static_cast<std::uint8_t>(too_long >> 8);
  slot[7] = static_cast<std::uint8_t>(too_long);
  CHECK(DropOf(sx::ProcessPacket(nodes[0].keys.secret_key,
                                 PacketWithRawSlot(nodes[0].keys.public_key, slot))) ==
        sx::DropReason::kMalformedCommand);
}
