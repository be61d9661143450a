// sotto-bench-node: what a mix node spends per packet besides the Sphinx cryptography —
// the replay-cache lookup, the atomic RocksDB write of tag + packet when it is accepted, and
// the delete when the next hop acknowledges it — against sphinx::ProcessPacket measured in the
// same process. Uses a fresh RocksDB store in a temporary directory (removed at the end).
// Every loop is bounded in count. Usage: sotto-bench-node [--packets N]
#include <fmt/core.h>
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <string_view>
#include <vector>

#include "sotto/core/sodium.h"
#include "sotto/core/sphinx.h"
#include "sotto/mixnode/store.h"

namespace sx = sotto::sphinx;
using Clock = std::chrono::steady_clock;

namespace {

class StoreGuard final : public sx::ReplayGuard {
 public:
  StoreGuard(const sotto::mixnode::NodeStore& s) : store_(s) {}
  bool CheckAndRecord(const sx::ReplayTag& tag) noexcept override {
    return !store_.ReplaySeen(1, tag);
  }

 private:
  const sotto::mixnode::NodeStore& store_;
};

double UsPer(Clock::duration d, std::size_t n) {
  return std::chrono::duration<double, std::micro>(d).count() / static_cast<double>(n);
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t packets = 3000;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--help" || a == "-h") {
      fmt::print("usage: sotto-bench-node [--packets N (100..100000, default 3000)]\n");
      return 0;
    }
    if (a == "--packets" && i + 1 < argc) {
      packets = std::strtoul(argv[++i], nullptr, 10);
      if (packets < 100 || packets > 100000) {
        fmt::print(stderr, "sotto-bench-node: --packets must be 100 to 100000\n");
        return 2;
      }
      continue;
    }
    fmt::print(stderr, "sotto-bench-node: unknown argument '{}' (try --help)\n", a);
    return 2;
  }
  sotto::InitSodiumOrDie();
  char tmpl[] = "/tmp/sotto-bench-node-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) return 1;
  const std::filesystem::path dir = tmpl;
  {
    auto store = sotto::mixnode::NodeStore::Open(dir / "store");
    if (!store.ok()) {
      fmt::print(stderr, "sotto-bench-node: {}\n", store.status().ToString());
      return 1;
    }
    (void)store.value()->AddReplayEpoch(1);

    // Distinct packets for a 2-hop path (the node is hop 0): every one is fresh.
    std::vector<sotto::KeyPair> keys;
    std::vector<sx::PathHop> path;
    for (int i = 0; i < 2; ++i) {
      keys.push_back(sotto::KeyPair::Generate());
      path.push_back({sx::NodeId{static_cast<std::uint8_t>(i + 1)}, keys.back().public_key, 0});
    }
    std::vector<sotto::Bytes> input;
    for (std::size_t i = 0; i < packets; ++i) {
      input.push_back(sx::CreateForwardPacket(path, sx::MailboxId{}, sotto::Bytes(500, 7)).value());
    }

    // 1. Sphinx alone.
    auto t0 = Clock::now();
    for (const auto& p : input) (void)sx::ProcessPacket(keys[0].secret_key, p);
    const double sphinx_us = UsPer(Clock::now() - t0, packets);

    // 2. What the node does: Sphinx with the store-backed replay check, atomic accept, and the
    //    delete when the next hop acknowledges.
    StoreGuard guard(*store.value());
    std::vector<std::uint64_t> ids;
    t0 = Clock::now();
    for (const auto& p : input) {
      auto r = sx::ProcessPacket(keys[0].secret_key, p, &guard);
      auto& f = std::get<sx::Forward>(r);
      auto id = store.value()->Accept(
          1, f.replay_tag, {0, 0, 0, f.next_hop, std::move(f.packet), /*link_id=*/ids.size() + 1});
      ids.push_back(id.value());
    }
    const auto accept_time = Clock::now() - t0;
    t0 = Clock::now();
    for (auto id : ids) (void)store.value()->RemovePooled({id});
    const auto ack_time = Clock::now() - t0;
    const double node_us = UsPer(accept_time + ack_time, packets);

    // 3. A replay: dropped right after the MAC check.
    t0 = Clock::now();
    for (const auto& p : input) (void)sx::ProcessPacket(keys[0].secret_key, p, &guard);
    const double replay_us = UsPer(Clock::now() - t0, packets);

    fmt::print("sotto-bench-node: {} packets, RocksDB store in {}\n", packets, dir.string());
    fmt::print("  Sphinx per-hop processing            {:9.2f} µs\n", sphinx_us);
    fmt::print(
        "  node: Sphinx + replay check + accept + ack-delete {:9.2f} µs ({:.0f} packets/s per "
        "core)\n",
        node_us, 1e6 / node_us);
    fmt::print("    of which accept (incl. Sphinx)     {:9.2f} µs, ack-delete {:.2f} µs\n",
               UsPer(accept_time, packets), UsPer(ack_time, packets));
    fmt::print("  replayed packet (dropped after MAC)  {:9.2f} µs\n", replay_us);
    fmt::print("  ratio node / Sphinx                  {:9.3f}\n", node_us / sphinx_us);
  }
  std::filesystem::remove_all(dir);
  return 0;
}
