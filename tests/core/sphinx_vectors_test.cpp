// Checks the implementation against the known-answer vectors in tests/vectors/sphinx.json:
// packet creation from the recorded inputs, every per-hop intermediate, the packet after each
// hop, the SURB round trip and the negative cases.
#include <catch2/catch.hpp>
#include <deque>
#include <fstream>
#include <nlohmann/json.hpp>

#include "sotto/core/sphinx.h"
#include "sphinx_process.h"

namespace sx = sotto::sphinx;
using nlohmann::json;
using sotto::Bytes;
using sotto::ToHex;

namespace {

json LoadVectors() {
  std::ifstream in(std::string(SOTTO_VECTORS_DIR) + "/sphinx.json");
  REQUIRE(in.good());
  return json::parse(in);
}

Bytes Hex(const json& j) { return sotto::FromHex(j.get<std::string>()).value(); }

template <std::size_t N>
std::array<std::uint8_t, N> Fixed(const json& j) {
  return sotto::FixedFromHex<N>(j.get<std::string>()).value();
}

// Replays recorded random draws, in order; fails the test if the implementation asks for
// different amounts than the spec says.
class ReplayRng final : public sotto::Rng {
 public:
  explicit ReplayRng(std::deque<Bytes> draws) : draws_(std::move(draws)) {}
  void Fill(std::span<std::uint8_t> out) override {
    REQUIRE_FALSE(draws_.empty());
    REQUIRE(draws_.front().size() == out.size());
    std::copy(draws_.front().begin(), draws_.front().end(), out.begin());
    draws_.pop_front();
  }
  bool Exhausted() const { return draws_.empty(); }

 private:
  std::deque<Bytes> draws_;
};

struct Hop {
  sx::PathHop path;
  sotto::SecretKey secret;
};

std::vector<Hop> Hops(const json& c) {
  std::vector<Hop> hops;
  for (const auto& h : c["hops"]) {
    sotto::SecretKey secret(std::span<const std::uint8_t, 32>(Fixed<32>(h["secret_key"])));
    sx::PathHop p{Fixed<32>(h["node_id"]), sotto::PublicKey{Fixed<32>(h["public_key"])},
                  h["delay_ms"].get<std::uint32_t>()};
    CHECK(sotto::DerivePublicKey(secret) == p.routing_key);
    hops.push_back({p, std::move(secret)});
  }
  return hops;
}

std::vector<sx::PathHop> PathOf(const std::vector<Hop>& hops) {
  std::vector<sx::PathHop> path;
  for (const auto& h : hops) path.push_back(h.path);
  return path;
}

// Processes the packet at each hop and compares every intermediate with the vector's steps.
sx::ProcessResult CheckSteps(const std::vector<Hop>& hops, const json& steps, Bytes packet) {
  REQUIRE(steps.size() == hops.size());
  sx::ProcessResult last = sx::Drop{sx::DropReason::kBadLength};
  for (std::size_t i = 0; i < hops.size(); ++i) {
    INFO("hop " << i);
    const auto& step = steps[i];
    sx::internal::HopTrace trace;
    last = sx::internal::ProcessPacketTraced(hops[i].secret, packet, nullptr, &trace);
    CHECK(ToHex(trace.shared_secret) == step["shared_secret"]);
    CHECK(ToHex(trace.header_key) == step["header_key"]);
    CHECK(ToHex(trace.mac_key) == step["mac_key"]);
    CHECK(ToHex(trace.payload_key) == step["payload_key"]);
    CHECK(ToHex(trace.blinding) == step["blinding"]);
    CHECK(ToHex(trace.replay_tag) == step["replay_tag"]);
    const std::string kind = step["result"];
    if (kind == "forward") {
      REQUIRE(std::holds_alternative<sx::Forward>(last));
      const auto& f = std::get<sx::Forward>(last);
      CHECK(ToHex(f.next_hop) == step["next_hop"]);
      CHECK(f.delay_ms == step["delay_ms"].get<std::uint32_t>());
      CHECK(ToHex(f.replay_tag) == step["replay_tag"]);
      REQUIRE(ToHex(f.packet) == step["packet_out"]);
      packet = f.packet;
    } else if (kind == "deliver") {
      REQUIRE(std::holds_alternative<sx::Deliver>(last));
      CHECK(ToHex(std::get<sx::Deliver>(last).mailbox) == step["mailbox"]);
      CHECK(ToHex(std::get<sx::Deliver>(last).message) == step["message"]);
    } else {
      REQUIRE(kind == "surb_deliver");
      REQUIRE(std::holds_alternative<sx::SurbDeliver>(last));
      CHECK(ToHex(std::get<sx::SurbDeliver>(last).mailbox) == step["mailbox"]);
      CHECK(ToHex(std::get<sx::SurbDeliver>(last).surb_id) == step["surb_id"]);
      CHECK(ToHex(std::get<sx::SurbDeliver>(last).payload) == step["payload"]);
    }
  }
  return last;
}

}  // namespace

TEST_CASE("Sphinx known-answer vectors", "[sphinx][vectors]") {
  const json v = LoadVectors();
  if (v["parameters"]["max_hops"].get<std::size_t>() != sx::kMaxHops) {
    WARN("vectors are for r = " << v["parameters"]["max_hops"]
                                << "; this build has r = " << sx::kMaxHops << ": skipped");
    return;
  }
  CHECK(v["parameters"]["packet_size"].get<std::size_t>() == sx::kPacketSize);
  CHECK(v["parameters"]["header_size"].get<std::size_t>() == sx::kHeaderSize);
  CHECK(v["parameters"]["surb_size"].get<std::size_t>() == sx::kSurbSize);

  SECTION("forward packets for 1, 3 and r hops") {
    REQUIRE(v["forward"].size() == 3);
    for (const auto& c : v["forward"]) {
      INFO(c["name"].get<std::string>());
      const auto hops = Hops(c);
      ReplayRng rng({Hex(c["ephemeral_secret"]), Hex(c["padding"])});
      auto packet =
          sx::CreateForwardPacket(PathOf(hops), Fixed<32>(c["mailbox"]), Hex(c["message"]), rng);
      REQUIRE(packet.ok());
      CHECK(rng.Exhausted());
      REQUIRE(ToHex(packet.value()) == c["packet"]);
      auto last = CheckSteps(hops, c["steps"], packet.value());
      CHECK(std::holds_alternative<sx::Deliver>(last));
    }
  }

  SECTION("SURB round trip") {
    REQUIRE(v["surb"].size() == 1);
    const auto& c = v["surb"][0];
    const auto hops = Hops(c);
    ReplayRng rng({Hex(c["surb_id"]), Hex(c["surb_payload_key"]), Hex(c["ephemeral_secret"]),
                   Hex(c["padding"])});
    auto made = sx::CreateSurb(PathOf(hops), Fixed<32>(c["mailbox"]), rng);
    REQUIRE(made.ok());
    CHECK(rng.Exhausted());
    CHECK(ToHex(made->surb.Serialize()) == c["surb"]);
    REQUIRE(made->keys.hop_payload_keys.size() == c["hop_payload_keys"].size());
    for (std::size_t i = 0; i < made->keys.hop_payload_keys.size(); ++i) {
      CHECK(ToHex(made->keys.hop_payload_keys[i].Bytes()) == c["hop_payload_keys"][i]);
    }
    auto reply = sx::CreateReplyPacket(std::move(made->surb), Hex(c["reply_message"]));
    REQUIRE(reply.ok());
    REQUIRE(ToHex(reply.value()) == c["reply_packet"]);
    auto last = CheckSteps(hops, c["steps"], reply.value());
    REQUIRE(std::holds_alternative<sx::SurbDeliver>(last));
    auto opened = sx::OpenReply(made->keys, std::get<sx::SurbDeliver>(last).payload);
    REQUIRE(opened.ok());
    CHECK(ToHex(opened.value()) == c["opened_message"]);
  }

  SECTION("negative cases are dropped for the stated reason") {
    REQUIRE(v["negative"].size() >= 3);
    for (const auto& c : v["negative"]) {
      INFO(c["name"].get<std::string>());
      sotto::SecretKey key(std::span<const std::uint8_t, 32>(Fixed<32>(c["secret_key"])));
      auto r = sx::ProcessPacket(key, Hex(c["packet"]));
      REQUIRE(std::holds_alternative<sx::Drop>(r));
      CHECK(sx::DropReasonName(std::get<sx::Drop>(r).reason) == c["reason"].get<std::string>());
    }
  }
}
