// Test fixtures for Sphinx: a set of nodes with keys, paths over them, and a walker that
// carries a packet hop by hop.
#pragma once

#include <sodium.h>

#include <string>
#include <vector>

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
  auto mac = in::HeaderMac(keys.mac_key, alpha, beta);
  Bytes packet(kPacketSize, 0);
  auto out = std::copy(alpha.begin(), alpha.end(), packet.begin());
  out = std::copy(beta.begin(), beta.end(), out);
  std::copy(mac.begin(), mac.end(), out);
  return packet;
}

// 1/u mod p (p = 2^255 - 19) for a 32-byte little-endian u-coordinate. On Curve25519's
// Montgomery form, u ↦ 1/u adds the 2-torsion point (0, 0); since X25519 clamps scalars to
// multiples of 8, X25519(k, 1/u) = X25519(k, u): the "same" alpha with different bytes.
// Slow, simple field arithmetic for tests only.
inline std::array<std::uint8_t, 32> InvertModP(const std::array<std::uint8_t, 32>& u_bytes) {
  using Fe = std::array<std::uint32_t, 8>;  // little-endian 32-bit limbs
  constexpr Fe kP = {0xffffffed, 0xffffffff, 0xffffffff, 0xffffffff,
                     0xffffffff, 0xffffffff, 0xffffffff, 0x7fffffff};
  const auto geq_p = [&](const Fe& a) {
    for (std::size_t i = 8; i-- > 0;) {
      if (a[i] != kP[i]) return a[i] > kP[i];
    }
    return true;
  };
  const auto sub_p = [&](Fe& a) {
    std::int64_t borrow = 0;
    for (std::size_t i = 0; i < 8; ++i) {
      std::int64_t cur = std::int64_t{a[i]} - kP[i] - borrow;
      borrow = cur < 0 ? 1 : 0;
      a[i] = static_cast<std::uint32_t>(cur + (borrow << 32));
    }
  };
  const auto mul = [&](const Fe& a, const Fe& b) {
    std::array<std::uint32_t, 16> t{};
    for (std::size_t i = 0; i < 8; ++i) {
      std::uint64_t carry = 0;
      for (std::size_t j = 0; j < 8; ++j) {
        const std::uint64_t cur = t[i + j] + std::uint64_t{a[i]} * b[j] + carry;
        t[i + j] = static_cast<std::uint32_t>(cur);
        carry = cur >> 32;
      }
      t[i + 8] = static_cast<std::uint32_t>(carry);
    }
    Fe out{};  // t = lo + hi·2^256 ≡ lo + 38·hi (mod p)
    std::uint64_t carry = 0;
    for (std::size_t i = 0; i < 8; ++i) {
      const std::uint64_t cur = std::uint64_t{t[i]} + std::uint64_t{t[i + 8]} * 38 + carry;
      out[i] = static_cast<std::uint32_t>(cur);
      carry = cur >> 32;
    }
    while (carry != 0) {
      std::uint64_t add = carry * 38;
      carry = 0;
      for (std::size_t i = 0; i < 8 && add != 0; ++i) {
        const std::uint64_t cur = std::uint64_t{out[i]} + add;
        out[i] = static_cast<std::uint32_t>(cur);
        add = cur >> 32;
        if (i == 7) carry = add;
      }
    }
    while (geq_p(out)) sub_p(out);
    return out;
  };
  Fe u{};
  for (std::size_t i = 0; i < 32; ++i) u[i / 4] |= std::uint32_t{u_bytes[i]} << (8 * (i % 4));
  while (geq_p(u)) sub_p(u);
  // u^(p-2), p - 2 = 2^255 - 21: bits 254..5 are 1, bits 4..0 are 01011.
  Fe result = {1, 0, 0, 0, 0, 0, 0, 0};
  for (int bit = 254; bit >= 0; --bit) {
    result = mul(result, result);
    const bool set = bit >= 5 || ((0b01011 >> bit) & 1);
    if (set) result = mul(result, u);
  }
  std::array<std::uint8_t, 32> out{};
  for (std::size_t i = 0; i < 32; ++i)
    out[i] = static_cast<std::uint8_t>(result[i / 4] >> (8 * (i % 4)));
  return out;
}

}  // namespace sotto::sphinx::testing
