// sotto-probe: a small test sender for a running network, until the `sotto` client lands.
// `sotto-probe roundtrip` fetches and verifies the consensus, makes two throw-away clients
// (Alice and Bob), sends Sphinx packets from Alice through her provider and a cascade into
// Bob's mailbox at his provider, waits until Bob has fetched them, and checks that a third
// client (Eve) is refused Bob's mailbox.
#include <boost/program_options.hpp>
#include <chrono>
#include <fstream>
#include <iostream>
#include <thread>

#include "sotto/client_lib/provider_link.h"
#include "sotto/core/clock.h"
#include "sotto/core/directory_client.h"
#include "sotto/core/mailbox.h"
#include "sotto/core/options.h"
#include "sotto/core/sodium.h"
#include "sotto/core/wire.h"

namespace po = boost::program_options;
using namespace std::chrono_literals;
using sotto::NowUnix;
using sotto::directory::Consensus;

namespace {

int Fail(const std::string& m) {
  std::cerr << "sotto-probe: " << m << "\n";
  return 1;
}

const sotto::directory::NodeDescriptor* Provider(const Consensus& c, const std::string& name,
                                                 bool last) {
  auto providers = c.Providers();
  if (providers.empty()) return nullptr;
  if (name.empty()) return last ? providers.back() : providers.front();
  for (const auto* p : providers) {
    if (p->name == name) return p;
  }
  return nullptr;
}

}  // namespace

int main(int argc, char** argv) {
  sotto::InitSodiumOrDie();
  std::string command, link_hex, verify_hex, from, to, message;
  int count = 3, timeout_s = 60;
  sotto::directory::AuthorityInfo authority;
  po::options_description opts("Options");
  opts.add_options()("help,h", "show this help")("config", po::value<std::string>(),
                                                 "INI file with any of these options")(
      "directory", po::value(&authority.address), "the directory authority's endpoint")(
      "directory-link-key", po::value(&link_hex), "the authority's CURVE key (hex)")(
      "directory-verify-key", po::value(&verify_hex), "the authority's signing key (hex)")(
      "epoch-length-s", po::value(&authority.clock.length_s)->default_value(3600), "epoch length")(
      "genesis-unix", po::value(&authority.clock.genesis_unix)->default_value(0), "epoch 0 start")(
      "from-provider", po::value(&from), "Alice's provider (default: the first)")(
      "to-provider", po::value(&to), "Bob's provider (default: the last)")(
      "message", po::value(&message)->default_value("Hello Bob, this crossed a real cascade 🌍"),
      "the text to send")("count", po::value(&count)->default_value(3), "how many messages (1-50)")(
      "timeout-s", po::value(&timeout_s)->default_value(60), "give up after this long");
  po::options_description hidden;
  hidden.add_options()("command", po::value(&command)->default_value(""), "");
  po::positional_options_description pos;
  pos.add("command", 1);
  po::options_description all;
  all.add(opts).add(hidden);
  po::variables_map vm;
  // The testnet's client.ini also carries settings sotto-probe does not use: allow them.
  if (auto s = sotto::ParseOptions(argc, argv, all, pos, opts, "sotto-probe", vm, true); !s.ok()) {
    return Fail(s.message());
  }
  if (vm.count("help") || command.empty()) {
    std::cout << "usage: sotto-probe roundtrip --config FILE | --directory ... [options]\n\n"
                 "Sends messages from a throw-away client Alice to a throw-away client Bob\n"
                 "through a running Sotto network and checks they arrive.\n\n"
              << opts;
    return command.empty() && !vm.count("help") ? 2 : 0;
  }
  if (command != "roundtrip") return Fail("unknown command '" + command + "' (try 'roundtrip')");
  if (count < 1 || count > 50) return Fail("--count must be 1 to 50");
  auto link = sotto::FixedFromHex<32>(link_hex);
  auto verify = sotto::FixedFromHex<32>(verify_hex);
  if (!link.ok() || !verify.ok())
    return Fail("--directory-link-key and --directory-verify-key need 64 hex digits");
  authority.link_key = link.value();
  authority.verify_key.bytes = verify.value();

  zmq::context_t ctx;
  auto alice = sotto::transport::CurveKeyPair::Generate();
  auto bob = sotto::transport::CurveKeyPair::Generate();
  auto eve = sotto::transport::CurveKeyPair::Generate();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);

  std::optional<Consensus> consensus;
  sotto::directory::DirectoryClient dir(ctx, alice, authority);
  while (!consensus && std::chrono::steady_clock::now() < deadline) {
    auto c = dir.FetchConsensus(authority.clock.EpochAt(NowUnix()), NowUnix(), 2000ms);
    if (c.ok()) {
      consensus = std::move(c.value());
    } else {
      std::cout << "waiting for the consensus: " << c.status().message() << "\n";
      std::this_thread::sleep_for(1s);
    }
  }
  if (!consensus) return Fail("no verified consensus before the timeout");
  std::cout << "consensus for epoch " << consensus->epoch
            << " verified: " << consensus->nodes.size() << " nodes, " << consensus->cascades.size()
            << " cascade(s)\n";
  const auto* pa = Provider(*consensus, from, false);
  const auto* pb = Provider(*consensus, to, true);
  if (pa == nullptr || pb == nullptr) return Fail("provider not found in the consensus");
  std::string route = pa->name;
  for (const auto& id : consensus->cascades[0]) route += " → " + consensus->FindNode(id)->name;
  route += " → " + pb->name;

  const sotto::sphinx::MailboxId bob_mailbox = sotto::MailboxForLinkKey(bob.public_key);
  sotto::client::ProviderLink alice_link(ctx, alice, *pa);
  auto path = sotto::client::BuildPath(*consensus, pa->id(), 0, pb->id());
  if (!path.ok()) return Fail(path.status().message());
  for (int i = 0; i < count; ++i) {
    const std::string text = message + " #" + std::to_string(i + 1);
    auto packet = sotto::sphinx::CreateForwardPacket(
        path.value(), bob_mailbox,
        sotto::ByteSpan(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
    if (!packet.ok()) return Fail(packet.status().message());
    auto s = alice_link.SendPacket(packet.value(), 5000ms);
    while (!s.ok() && s.code() == sotto::Status::Code::kUnavailable &&
           std::chrono::steady_clock::now() < deadline) {
      std::cout << "retrying: " << s.message() << "\n";
      std::this_thread::sleep_for(500ms);
      s = alice_link.SendPacket(packet.value(), 5000ms);
    }
    if (!s.ok()) return Fail(s.message());
  }
  std::cout << "Alice sent " << count << " packets of " << sotto::sphinx::kPacketSize
            << " bytes via " << route << "\n";

  sotto::client::ProviderLink bob_link(ctx, bob, *pb);
  int received = 0;
  while (received < count && std::chrono::steady_clock::now() < deadline) {
    auto items = bob_link.Fetch(bob_mailbox, 16, 5000ms);
    if (!items.ok()) return Fail("Bob's fetch: " + items.status().message());
    std::vector<std::uint64_t> ids;
    for (const auto& item : items.value()) {
      if (sotto::wire::IsPadding(item)) continue;  // the provider pads every reply
      std::cout << "Bob received: \"" << std::string(item.payload.begin(), item.payload.end())
                << "\"\n";
      ids.push_back(item.id);
      ++received;
    }
    if (!ids.empty()) {
      if (auto s = bob_link.Ack(bob_mailbox, ids, 5000ms); !s.ok()) return Fail(s.message());
    } else {
      std::this_thread::sleep_for(200ms);
    }
  }
  if (received < count) {
    return Fail("only " + std::to_string(received) + " of " + std::to_string(count) +
                " messages arrived before the timeout");
  }
  sotto::client::ProviderLink eve_link(ctx, eve, *pb);
  auto stolen = eve_link.Fetch(bob_mailbox, 16, 5000ms);
  if (stolen.ok()) return Fail("the provider let Eve fetch Bob's mailbox");
  std::cout << "Eve tried to fetch Bob's mailbox: " << stolen.status().message() << "\n";
  std::cout << "roundtrip OK\n";
  return 0;
}
