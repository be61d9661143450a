// The directory authority over its real socket: approved nodes only, several cascades built
// from the layers, documents verified by clients, and republication when a node changes.
#include "authority.h"

#include <stdlib.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <thread>

#include "sotto/core/clock.h"
#include "sotto/core/directory_client.h"
#include "sotto/core/keyfile.h"

using namespace std::chrono_literals;
namespace dir = sotto::directory;
using sotto::NowUnix;

namespace {

struct Node {
  std::string name;
  dir::NodeRole role;
  std::uint32_t layer;
  sotto::SigningKey identity = sotto::SigningKey::Generate();
  sotto::transport::CurveKeyPair link = sotto::transport::CurveKeyPair::Generate();

  std::string Descriptor(std::uint64_t epoch, int port) const {
    dir::NodeDescriptor d;
    d.name = name;
    d.identity = identity.verify_key();
    d.link_key = link.public_key;
    d.address = "tcp://127.0.0.1:" + std::to_string(port);
    d.role = role;
    d.layer = layer;
    for (std::uint64_t e : {epoch, epoch + 1})
      d.routing_keys.push_back({e, sotto::KeyPair::Generate().public_key});
    return dir::SignDescriptor(d, identity);
  }
};

struct RunningAuthority {
  std::filesystem::path state;
  std::unique_ptr<sotto::authority::Authority> authority;
  std::atomic<bool> stop{false};
  std::thread thread;
  dir::AuthorityInfo info;

  explicit RunningAuthority(const std::vector<Node>& nodes) {
    char tmpl[] = "/tmp/sotto-authority-test-XXXXXX";
    REQUIRE(mkdtemp(tmpl) != nullptr);
    state = tmpl;
    auto signing = sotto::SigningKey::Generate();
    auto link = sotto::transport::CurveKeyPair::Generate();
    REQUIRE(sotto::WriteKeyFile(state / "signing.key", signing.seed()).ok());
    REQUIRE(sotto::WriteKeyFile(state / "link.key", link.secret_key).ok());
    sotto::authority::AuthorityConfig config;
    config.command = "run";
    config.state_dir = state;
    config.listen = "tcp://127.0.0.1:*";
    config.clock.length_s = 3600;
    config.publish_wait_s = 3600;  // publish only when every approved node registered
    for (const auto& n : nodes) config.nodes[n.name] = n.identity.verify_key();
    auto a = sotto::authority::Authority::Create(std::move(config));
    REQUIRE(a.ok());
    authority = std::move(a.value());
    info = {authority->bound_endpoint(), link.public_key, signing.verify_key(), {0, 3600}};
    thread = std::thread([this] { (void)authority->Run(stop); });
  }
  ~RunningAuthority() {
    stop = true;
    thread.join();
    authority.reset();
    std::filesystem::remove_all(state);
  }
};

}  // namespace

TEST_CASE("the authority builds several cascades from approved nodes' layers", "[directory]") {
  std::vector<Node> nodes;
  for (int i = 0; i < 6; ++i) {
    nodes.push_back({"mix-" + std::to_string(i + 1), dir::NodeRole::kMix,
                     static_cast<std::uint32_t>(i % 3 + 1)});
  }
  nodes.push_back({"provider-1", dir::NodeRole::kProvider, 0});
  RunningAuthority authority(nodes);
  zmq::context_t ctx;
  auto me = sotto::transport::CurveKeyPair::Generate();
  dir::DirectoryClient client(ctx, me, authority.info);
  const std::uint64_t epoch = authority.info.clock.EpochAt(NowUnix());

  // Not published while an approved node is missing.
  for (std::size_t i = 0; i + 1 < nodes.size(); ++i) {
    REQUIRE(
        client.PostDescriptor(nodes[i].Descriptor(epoch, 7000 + static_cast<int>(i)), 5000ms).ok());
  }
  auto early = client.FetchConsensus(epoch, NowUnix(), 5000ms);
  REQUIRE_FALSE(early.ok());
  CHECK(early.status().code() == sotto::Status::Code::kNotFound);

  // An unapproved node (or an approved name with another key) is refused.
  Node intruder{"mix-1", dir::NodeRole::kMix, 1};
  auto refused = client.PostDescriptor(intruder.Descriptor(epoch, 6999), 5000ms);
  REQUIRE_FALSE(refused.ok());
  CHECK_THAT(refused.message(), Catch::Contains("not approved"));

  REQUIRE(client.PostDescriptor(nodes.back().Descriptor(epoch, 7100), 5000ms).ok());
  auto c = client.FetchConsensus(epoch, NowUnix(), 5000ms);
  REQUIRE(c.ok());
  CHECK(c->nodes.size() == 7);
  REQUIRE(c->cascades.size() == 2);
  for (const auto& cascade : c->cascades) {
    REQUIRE(cascade.size() == 3);
    for (std::size_t pos = 0; pos < 3; ++pos) CHECK(c->FindNode(cascade[pos])->layer == pos + 1);
  }
  for (const auto& n : c->nodes) CHECK(n.routing_keys.size() == 1);  // only this epoch's key

  // A restarted node with a new address gets a new document.
  REQUIRE(client.PostDescriptor(nodes[0].Descriptor(epoch, 7777), 5000ms).ok());
  auto again = client.FetchConsensus(epoch, NowUnix(), 5000ms);
  REQUIRE(again.ok());
  CHECK(again->FindNode(nodes[0].identity.verify_key().bytes)->address == "tcp://127.0.0.1:7777");
}
