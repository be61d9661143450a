// Generates the Sphinx known-answer vectors, tests/vectors/sphinx.json.
//
//   cmake --build build --target sotto-gen-sphinx-vectors
//   build/tests/sotto-gen-sphinx-vectors > tests/vectors/sphinx.json
//
// Deterministic: every input (node keys, ephemeral secrets, padding, SURB ids and keys) comes
// from DeterministicRng seeded with the case's seed byte, and every input is written out
// explicitly so that another implementation can reproduce the packets from the JSON alone
// (papers/sphinx-spec.md §10). Run it again only when the wire format changes on purpose.
#include <cstring>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "../core/sphinx_testutil.h"
#include "sotto/core/sodium.h"
#include "sotto/core/sphinx.h"
#include "sphinx_process.h"

namespace sx = sotto::sphinx;
using nlohmann::json;
using sotto::Bytes;
using sotto::ByteSpan;
using sotto::ToHex;

namespace {

// Hands out bytes from an inner Rng and remembers them, so the vectors can list every input.
class RecordingRng final : public sotto::Rng {
 public:
  explicit RecordingRng(sotto::Rng& inner) : inner_(inner) {}
  void Fill(std::span<std::uint8_t> out) override {
    inner_.Fill(out);
    draws.emplace_back(out.begin(), out.end());
  }
  std::vector<Bytes> draws;

 private:
  sotto::Rng& inner_;
};

struct TestNode {
  sx::NodeId id{};
  sotto::KeyPair keys;
};

std::vector<TestNode> MakeNodes(sotto::Rng& rng, std::size_t n) {
  std::vector<TestNode> nodes;
  for (std::size_t i = 0; i < n; ++i) {
    TestNode node{{}, sotto::KeyPair::Generate(rng)};
    rng.Fill(node.id);
    nodes.push_back(std::move(node));
  }
  return nodes;
}

json HopsJson(const std::vector<TestNode>& nodes, const std::vector<sx::PathHop>& path) {
  json hops = json::array();
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    hops.push_back({{"node_id", ToHex(nodes[i].id)},
                    {"secret_key", ToHex(nodes[i].keys.secret_key.Bytes())},
                    {"public_key", ToHex(nodes[i].keys.public_key.bytes)},
                    {"delay_ms", path[i].delay_ms}});
  }
  return hops;
}

std::vector<sx::PathHop> PathOf(const std::vector<TestNode>& nodes) {
  std::vector<sx::PathHop> path;
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    // Non-zero delays on relaying hops exercise the delay field.
    const auto delay = static_cast<std::uint32_t>(i + 1 < nodes.size() ? 100 * (i + 1) : 0);
    path.push_back({nodes[i].id, nodes[i].keys.public_key, delay});
  }
  return path;
}

// Processes `packet` at each node in turn, recording every intermediate. Returns the steps and
// leaves the last result in `last`.
json Steps(const std::vector<TestNode>& nodes, Bytes packet, sx::ProcessResult& last) {
  json steps = json::array();
  for (const auto& node : nodes) {
    sx::internal::HopTrace trace;
    last = sx::internal::ProcessPacketTraced(node.keys.secret_key, packet, nullptr, &trace);
    json step = {{"shared_secret", ToHex(trace.shared_secret)},
                 {"header_key", ToHex(trace.header_key)},
                 {"mac_key", ToHex(trace.mac_key)},
                 {"payload_key", ToHex(trace.payload_key)},
                 {"blinding", ToHex(trace.blinding)},
                 {"replay_tag", ToHex(trace.replay_tag)}};
    if (auto* f = std::get_if<sx::Forward>(&last)) {
      step["result"] = "forward";
      step["next_hop"] = ToHex(f->next_hop);
      step["delay_ms"] = f->delay_ms;
      step["packet_out"] = ToHex(f->packet);
      packet = f->packet;
    } else if (auto* d = std::get_if<sx::Deliver>(&last)) {
      step["result"] = "deliver";
      step["mailbox"] = ToHex(d->mailbox);
      step["message"] = ToHex(d->message);
    } else if (auto* s = std::get_if<sx::SurbDeliver>(&last)) {
      step["result"] = "surb_deliver";
      step["mailbox"] = ToHex(s->mailbox);
      step["surb_id"] = ToHex(s->surb_id);
      step["payload"] = ToHex(s->payload);
    } else {
      std::cerr << "generator bug: a vector packet was dropped\n";
      std::exit(1);
    }
    steps.push_back(step);
  }
  return steps;
}

ByteSpan Text(const std::string& s) {
  return ByteSpan(reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
}

sx::MailboxId MailboxFrom(sotto::Rng& rng) {
  sx::MailboxId m{};
  rng.Fill(m);
  return m;
}

json ForwardCase(std::size_t hops, std::uint8_t seed, const std::string& message, Bytes* packet_out,
                 std::vector<TestNode>* nodes_out) {
  auto rng = sotto::DeterministicRng::FromByte(seed);
  auto nodes = MakeNodes(rng, hops);
  auto path = PathOf(nodes);
  const auto mailbox = MailboxFrom(rng);
  RecordingRng rec(rng);
  auto packet = sx::CreateForwardPacket(path, mailbox, Text(message), rec);
  if (!packet.ok() || rec.draws.size() != 2) {
    std::cerr << "generator bug: " << packet.status().ToString() << "\n";
    std::exit(1);
  }
  sx::ProcessResult last = sx::Drop{sx::DropReason::kBadLength};
  json c = {{"name", "forward-" + std::to_string(hops) + "-hop"},
            {"seed_byte", seed},
            {"hops", HopsJson(nodes, path)},
            {"mailbox", ToHex(mailbox)},
            {"message", ToHex(Text(message))},
            {"ephemeral_secret", ToHex(rec.draws[0])},
            {"padding", ToHex(rec.draws[1])},
            {"packet", ToHex(packet.value())},
            {"steps", Steps(nodes, packet.value(), last)}};
  if (packet_out) *packet_out = packet.value();
  if (nodes_out) *nodes_out = std::move(nodes);
  return c;
}

json SurbCase(std::uint8_t seed) {
  auto rng = sotto::DeterministicRng::FromByte(seed);
  auto nodes = MakeNodes(rng, 3);
  auto path = PathOf(nodes);
  const auto mailbox = MailboxFrom(rng);
  RecordingRng rec(rng);
  auto made = sx::CreateSurb(path, mailbox, rec);
  if (!made.ok() || rec.draws.size() != 4) std::exit(1);
  const std::string reply = "Reply via SURB: ça marche 👍";
  const Bytes surb_wire = made->surb.Serialize();
  auto packet = sx::CreateReplyPacket(std::move(made->surb), Text(reply));
  sx::ProcessResult last = sx::Drop{sx::DropReason::kBadLength};
  json steps = Steps(nodes, packet.value(), last);
  auto opened = sx::OpenReply(made->keys, std::get<sx::SurbDeliver>(last).payload);
  if (!opened.ok()) std::exit(1);
  json hop_keys = json::array();
  for (const auto& k : made->keys.hop_payload_keys) hop_keys.push_back(ToHex(k.Bytes()));
  return {{"name", "surb-3-hop"},
          {"seed_byte", seed},
          {"hops", HopsJson(nodes, path)},
          {"mailbox", ToHex(mailbox)},
          {"surb_id", ToHex(rec.draws[0])},
          {"surb_payload_key", ToHex(rec.draws[1])},
          {"ephemeral_secret", ToHex(rec.draws[2])},
          {"padding", ToHex(rec.draws[3])},
          {"surb", ToHex(surb_wire)},
          {"hop_payload_keys", hop_keys},
          {"reply_message", ToHex(Text(reply))},
          {"reply_packet", ToHex(packet.value())},
          {"steps", steps},
          {"opened_message", ToHex(opened.value())}};
}

json Negative(const std::string& name, const std::string& what, const sotto::SecretKey& key,
              const Bytes& packet) {
  auto result = sx::ProcessPacket(key, packet);
  const auto* drop = std::get_if<sx::Drop>(&result);
  if (drop == nullptr) {
    std::cerr << "generator bug: negative case " << name << " was not dropped\n";
    std::exit(1);
  }
  return {{"name", name},
          {"description", what},
          {"secret_key", ToHex(key.Bytes())},
          {"packet", ToHex(packet)},
          {"expected", "drop"},
          {"reason", std::string(sx::DropReasonName(drop->reason))}};
}

}  // namespace

int main() {
  sotto::InitSodiumOrDie();
  json forward = json::array();
  Bytes packet3;
  std::vector<TestNode> nodes3;
  forward.push_back(ForwardCase(1, 0x01, "one hop", nullptr, nullptr));
  forward.push_back(ForwardCase(3, 0x03, "Hello, Bob! 👋 Привет! مرحبا", &packet3, &nodes3));
  forward.push_back(
      ForwardCase(sx::kMaxHops, 0x05, std::string(sx::kMaxMessageSize, 'M'), nullptr, nullptr));

  json negative = json::array();
  Bytes header_flip = packet3;
  header_flip[sx::kGroupElementSize + 10] ^= 0x04;
  negative.push_back(Negative("flipped-header-bit",
                              "forward-3-hop packet, bit 2 of beta byte 10 flipped; first hop",
                              nodes3[0].keys.secret_key, header_flip));
  Bytes mac_flip = packet3;
  mac_flip[sx::kHeaderSize - 1] ^= 0x80;
  negative.push_back(Negative("flipped-mac-bit", "forward-3-hop packet, last gamma bit flipped",
                              nodes3[0].keys.secret_key, mac_flip));
  // Payload flip: corrupt the packet as it leaves hop 2, so hop 3 (the destination) sees it.
  {
    Bytes p = packet3;
    for (int i = 0; i < 2; ++i) {
      p = std::get<sx::Forward>(
              sx::ProcessPacket(nodes3[static_cast<std::size_t>(i)].keys.secret_key, p))
              .packet;
    }
    p[sx::kHeaderSize + 500] ^= 0x01;
    negative.push_back(Negative("flipped-payload-bit",
                                "forward-3-hop packet as delivered to hop 3, payload byte 500 "
                                "bit 0 flipped; the destination detects it",
                                nodes3[2].keys.secret_key, p));
  }
  negative.push_back(Negative("wrong-key", "forward-3-hop packet processed with hop 2's key",
                              nodes3[1].keys.secret_key, packet3));
  {
    Bytes p = packet3;
    std::fill(p.begin(), p.begin() + 32, std::uint8_t{0});
    negative.push_back(Negative("zero-alpha", "alpha replaced by the all-zero (low-order) point",
                                nodes3[0].keys.secret_key, p));
  }
  {
    Bytes p = packet3;
    p[31] |= 0x80;
    negative.push_back(Negative("alpha-top-bit",
                                "forward-3-hop packet with the (ignored by X25519) top bit of "
                                "alpha set: non-canonical, so dropped before any DH",
                                nodes3[0].keys.secret_key, p));
    // p + 9 = 2^255 - 10: a non-canonical encoding of the base point.
    std::fill(p.begin(), p.begin() + 32, std::uint8_t{0xff});
    p[0] = 0xf6;
    p[31] = 0x7f;
    negative.push_back(Negative("alpha-non-canonical", "alpha = p + 9 (aliases the base point)",
                                nodes3[0].keys.secret_key, p));
    p = packet3;
    std::array<std::uint8_t, 32> alpha{};
    std::copy_n(p.begin(), 32, alpha.begin());
    const auto twisted = sx::testing::InvertModP(alpha);
    std::copy(twisted.begin(), twisted.end(), p.begin());
    negative.push_back(Negative("alpha-plus-2-torsion",
                                "alpha replaced by 1/alpha mod p (adds the point of order 2): the "
                                "same shared secret, caught by the MAC over alpha",
                                nodes3[0].keys.secret_key, p));
  }
  // Routing slots the public API never produces, each under a valid MAC (a 1-hop header built
  // with ephemeral secret x = 09 00…00 and beta filled with 0x5a after the slot).
  {
    struct RawSlotCase {
      const char* name;
      const char* what;
      std::uint8_t command;
      std::size_t byte;  // which extra byte to set to 1 (0 = none)
    };
    const RawSlotCase cases[] = {
        {"command-zero", "routing command 0x00", 0x00, 0},
        {"command-unknown", "routing command 0x04", 0x04, 0},
        {"reserved-byte-set", "RELAY with reserved byte 2 set", 0x01, 2},
        {"deliver-with-delay", "DELIVER with delay_ms = 1", 0x02, 7},
        {"relay-delay-too-long", "RELAY with delay_ms = 0x01000000 > 3600000", 0x01, 4},
    };
    for (const auto& c : cases) {
      std::array<std::uint8_t, sx::kSlotSize> slot{};
      slot[0] = c.command;
      if (c.byte != 0) slot[c.byte] = 1;
      negative.push_back(Negative(c.name, c.what, nodes3[0].keys.secret_key,
                                  sx::testing::PacketWithRawSlot(nodes3[0].keys.public_key, slot)));
    }
  }
  negative.push_back(Negative("short-packet", "forward-3-hop packet missing its last byte",
                              nodes3[0].keys.secret_key,
                              Bytes(packet3.begin(), packet3.end() - 1)));

  json out = {{"description",
               "Sotto Sphinx known-answer vectors. Format and algorithms: papers/sphinx-spec.md. "
               "All byte strings are lowercase hex."},
              {"generated_by", "build/tests/sotto-gen-sphinx-vectors > tests/vectors/sphinx.json"},
              {"parameters",
               {{"max_hops", sx::kMaxHops},
                {"slot_size", sx::kSlotSize},
                {"header_size", sx::kHeaderSize},
                {"payload_size", sx::kPayloadSize},
                {"packet_size", sx::kPacketSize},
                {"surb_size", sx::kSurbSize}}},
              {"forward", forward},
              {"surb", json::array({SurbCase(0x07)})},
              {"negative", negative}};
  std::cout << out.dump(1) << "\n";
  return 0;
}
