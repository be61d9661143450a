// sotto-bench-sphinx: what a Sphinx hop costs, against the raw primitives measured in the same
// process. Prints X25519 scalar-multiplication cost, the symmetric work of one hop, Sphinx
// per-hop processing, 3-hop packet creation, and the ratio
//     per-hop processing / (2 × X25519 + symmetric work per hop)
// whose goal is ≤ 1.15 (the two X25519 are the shared secret and the blinding of alpha).
// Each figure is the median of several timed rounds; every loop is bounded in count.
// Usage: sotto-bench-sphinx [--rounds N] [--iterations N]
#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "sotto/core/sodium.h"
#include "sotto/core/sphinx.h"
#include "sphinx_kdf.h"

namespace sx = sotto::sphinx;
namespace in = sotto::sphinx::internal;
using Clock = std::chrono::steady_clock;

namespace {

int g_rounds = 9;
int g_iterations = 2000;

// Median over rounds of the mean time per call, in microseconds.
template <class F>
double Measure(F&& f, int iterations = g_iterations) {
  std::vector<double> per_call;
  for (int r = 0; r < g_rounds; ++r) {
    const auto start = Clock::now();
    for (int i = 0; i < iterations; ++i) f();
    const std::chrono::duration<double, std::micro> elapsed = Clock::now() - start;
    per_call.push_back(elapsed.count() / iterations);
  }
  std::sort(per_call.begin(), per_call.end());
  return per_call[per_call.size() / 2];
}

volatile std::uint8_t g_sink;  // keeps results alive

int ParseCount(const char* s, std::string_view flag) {
  char* end = nullptr;
  const long v = std::strtol(s, &end, 10);
  if (end == s || *end != '\0' || v < 1 || v > 1000000) {
    fmt::print(stderr, "sotto-bench-sphinx: {} needs a whole number from 1 to 1000000\n", flag);
    std::exit(2);
  }
  return static_cast<int>(v);
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--help" || a == "-h") {
      fmt::print(
          "usage: sotto-bench-sphinx [--rounds N (default 9)] [--iterations N (default 2000)]\n");
      return 0;
    } else if (a == "--rounds" && i + 1 < argc) {
      g_rounds = ParseCount(argv[++i], a);
    } else if (a == "--iterations" && i + 1 < argc) {
      g_iterations = ParseCount(argv[++i], a);
    } else {
      fmt::print(stderr, "sotto-bench-sphinx: unknown argument '{}' (try --help)\n", a);
      return 2;
    }
  }
  sotto::InitSodiumOrDie();

  // Three nodes and a 3-hop packet.
  std::vector<sotto::KeyPair> keys;
  std::vector<sx::PathHop> path;
  for (int i = 0; i < 3; ++i) {
    keys.push_back(sotto::KeyPair::Generate());
    sx::NodeId id{};
    id[0] = static_cast<std::uint8_t>(i + 1);
    path.push_back({id, keys.back().public_key, 0});
  }
  const sx::MailboxId mailbox{};
  const sotto::Bytes message(1000, 0x42);
  auto packet = sx::CreateForwardPacket(path, mailbox, message).value();

  // 1. X25519 scalar multiplication (the node's DH with alpha).
  std::array<std::uint8_t, 32> out{};
  const auto alpha = std::span<const std::uint8_t, 32>(packet.data(), 32);
  const double x25519 = Measure([&] {
    (void)in::X25519(out, keys[0].secret_key.Bytes(), alpha);
    g_sink = out[0];
  });

  // 2. Symmetric work of one hop: key schedule, header keystream, MAC, Lioness on the payload.
  const sotto::Secret<32> shared{std::span<const std::uint8_t, 32>(out)};
  std::vector<std::uint8_t> routing((sx::kMaxHops + 1) * sx::kSlotSize, 0);
  std::vector<std::uint8_t> payload(sx::kPayloadSize, 7);
  const double symmetric = Measure([&] {
    auto k = in::DeriveHopKeys(shared.Bytes());
    auto mac =
        in::HeaderMac(k.mac_key, alpha, sotto::ByteSpan(packet.data() + 32, sx::kRoutingInfoSize));
    in::StreamXor(k.header_key, routing);
    sotto::LionessDecrypt(k.payload_key, payload);
    g_sink = static_cast<std::uint8_t>(mac[0] ^ routing[0] ^ payload[0]);
  });

  // 3. Sphinx per-hop processing, end to end through the public API.
  const double per_hop = Measure([&] {
    auto r = sx::ProcessPacket(keys[0].secret_key, packet);
    g_sink = static_cast<std::uint8_t>(r.index());
  });

  // 4. Creating a 3-hop packet.
  const double create3 = Measure(
      [&] {
        auto p = sx::CreateForwardPacket(path, mailbox, message);
        g_sink = p.value()[0];
      },
      std::max(1, g_iterations / 4));

  const double floor = 2 * x25519 + symmetric;
  const double ratio = per_hop / floor;
  fmt::print("sotto-bench-sphinx: median of {} rounds × {} iterations; packet {} bytes, r = {}\n",
             g_rounds, g_iterations, sx::kPacketSize, sx::kMaxHops);
  fmt::print("  X25519 scalar multiplication        {:9.2f} µs\n", x25519);
  fmt::print("  symmetric work per hop              {:9.2f} µs  (KDF + ChaCha20 + MAC + Lioness)\n",
             symmetric);
  fmt::print("  floor = 2 × X25519 + symmetric      {:9.2f} µs\n", floor);
  fmt::print("  Sphinx per-hop processing           {:9.2f} µs  ({:.0f} packets/s per core)\n",
             per_hop, 1e6 / per_hop);
  fmt::print("  3-hop packet creation               {:9.2f} µs  ({:.1f} × X25519)\n", create3,
             create3 / x25519);
  fmt::print("  ratio per-hop / floor               {:9.3f}    (goal ≤ 1.15: {})\n", ratio,
             ratio <= 1.15 ? "met" : "NOT met");
  return 0;
}
