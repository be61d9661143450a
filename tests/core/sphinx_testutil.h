// Test fixtures for Sphinx: a set of nodes with keys, paths over them, and a walker that
// carries a packet hop by hop.
#pragma once

#include <string>
#include <vector>

#include <sodium.h>

#include "sotto/core/random.h"
#include "sotto/core/sphinx.h"
#include "sphinx_kdf.h"

namespace sotto::sphinx::testing {

struct TestNode {
  NodeId id{};
  KeyPair keys;
};

inline std::vector<TestNode> MakeNodes(std::size_t n, std::uint8_t seed = 42) {
  auto rng = DeterministicRng::FromByte(seed);
  std::vector<TestNode> nodes;
  for (std::size_t i = 0; i < n; ++i) {
    TestNode node{{}, KeyPair::Generate(rng)};
    rng.Fill(node.id);
    nodes.push_back(std::move(node));
  }
  return nodes;
}

inline std::vector<PathHop> PathOver(const std::vector<TestNode>& nodes, std::size_t hops) {
  std::vector<PathHop> path;
  for (std::size_t i = 0; i < hops; ++i) {
    path.push_back({nodes[i].id, nodes[i].keys.public_key, static_cast<std::uint32_t>(10 * i)});
  }
  return path;
}

inline ByteSpan Text(const std::string& s) {
  return ByteSpan(reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
}

inline const TestNode& NodeById(const std::vector<TestNode>& nodes, const NodeId& id) {
  for (const auto& n : nodes) {
    if (n.id == id) return n;
  }
  SOTTO_CHECK(false && "unknown node id");
  return nodes.front();
}

// Longest run of zero bytes in a buffer.
inline std::size_t LongestZeroRun(ByteSpan bytes) {
  std::size_t best = 0, run = 0;
  for (auto b : bytes) {
    run = (b == 0) ? run + 1 : 0;
    best = std::max(best, run);
  }
  return best;
}

// Builds a one-hop packet for `node` whose routing slot is `slot` verbatim, with a valid MAC:
// the only way to reach the command decoder with bytes the public API never produces. Shared
// by the tests and the vector generator.
inline Bytes PacketWithRawSlot(const PublicKey& node_key,
                               const std::array<std::uint8_t, kSlotSize>& slot) {
  namespace in = internal;
  in::Key32 x;
  x.MutableBytes()[0] = 9;
  std::array<std::uint8_t, 32> alpha{}, shared{};
  crypto_scalarmult_base(alpha.data(), x.data());
  SOTTO_CHECK(in::X25519(shared, x.Bytes(), node_key.bytes));
  auto keys = in::DeriveHopKeys(shared);
  Bytes beta(kRoutingInfoSize, 0x5A);
  std::copy(slot.begin(), slot.end(), beta.begin());
  in::StreamXor(keys.header_key, beta);
  auto mac = in::HeaderMac(keys.mac_key, beta);
  Bytes packet(kPacketSize, 0);
  auto out = std::copy(alpha.begin(), alpha.end(), packet.begin());
  out = std::copy(beta.begin(), beta.end(), out);
  std::copy(mac.begin(), mac.end(), out);
  return packet;
}

}  // namespace sotto::sphinx::testing
