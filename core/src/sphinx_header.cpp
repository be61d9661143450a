// Sphinx header construction: shared secrets with blinding, the filler, and the layered routing
// information (spec §6.1–6.3).
#include "sphinx_header.h"

#include <sodium.h>

#include <algorithm>
#include <string>

#include "sphinx_routing.h"

namespace sotto::sphinx::internal {
namespace {

constexpr std::size_t kStreamSize = (kMaxHops + 1) * kSlotSize;  // |rho_i| = (r+1)·S

// rho_i: the header keystream of hop i.
Bytes HeaderStream(const Key32& header_key) {
  Bytes rho(kStreamSize, 0);
  StreamXor(header_key, rho);
  return rho;
}

void XorInto(std::uint8_t* dst, const std::uint8_t* src, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) dst[i] ^= src[i];
}

}  // namespace

namespace {
Status CheckHopCount(std::size_t hops) {
  if (hops == 0 || hops > kMaxHops) {
    return Status::InvalidArgument("a Sphinx path needs 1 to " + std::to_string(kMaxHops) +
                                   " hops, got " + std::to_string(hops));
  }
  return Status::Ok();
}
}  // namespace

Status CheckPath(std::span<const PathHop> path) {
  if (Status s = CheckHopCount(path.size()); !s.ok()) return s;
  for (std::size_t i = 0; i + 1 < path.size(); ++i) {
    if (path[i].delay_ms > kMaxDelayMs) {
      return Status::InvalidArgument("delay of hop " + std::to_string(i) + " is " +
                                     std::to_string(path[i].delay_ms) + " ms; at most " +
                                     std::to_string(kMaxDelayMs) + " ms is allowed");
    }
  }
  return Status::Ok();
}

std::vector<HopSpec> HopSpecsForPath(std::span<const PathHop> path,
                                     const RoutingCommand& final_command) {
  std::vector<HopSpec> hops;
  hops.reserve(path.size());
  for (std::size_t i = 0; i < path.size(); ++i) {
    if (i + 1 < path.size()) {
      hops.push_back({path[i].routing_key, RelayCommand{path[i + 1].id, path[i].delay_ms}});
    } else {
      hops.push_back({path[i].routing_key, final_command});
    }
  }
  return hops;
}

Result<BuiltHeader> BuildHeader(std::span<const HopSpec> hops, const Key32& ephemeral_secret,
                                ByteSpan padding) {
  if (Status s = CheckHopCount(hops.size()); !s.ok()) return s;
  const std::size_t n = hops.size();
  constexpr std::size_t r = kMaxHops;
  constexpr std::size_t S = kSlotSize;
  SOTTO_CHECK(padding.size() == PaddingSize(n));

  // §6.1 Shared secrets: alpha_0 = x·G; s_i = (x·b_0·…·b_{i-1})·Y_i; alpha_{i+1} = b_i·alpha_i.
  BuiltHeader out;
  std::vector<HopKeys> keys;
  std::vector<Key32> blindings;                         // b_0 … b_{n-1}
  std::vector<std::array<std::uint8_t, 32>> alphas(n);  // alpha_0 … alpha_{n-1}
  crypto_scalarmult_base(alphas[0].data(), ephemeral_secret.data());
  const auto unusable = [](std::size_t i) {
    return Status::InvalidArgument("routing key of hop " + std::to_string(i) +
                                   " is not a usable X25519 public key (a low-order point); "
                                   "fetch a fresh directory or choose another node");
  };
  for (std::size_t i = 0; i < n; ++i) {
    Key32 s;
    if (!X25519(s.MutableBytes(), ephemeral_secret.Bytes(), hops[i].routing_key.bytes)) {
      return unusable(i);
    }
    for (std::size_t j = 0; j < i; ++j) {
      std::array<std::uint8_t, 32> t{};
      ScopedWipe wipe_t(t);
      if (!X25519(t, blindings[j].Bytes(), s.Bytes())) return unusable(i);
      s = Key32(std::span<const std::uint8_t, 32>(t));
    }
    keys.push_back(DeriveHopKeys(s.Bytes()));
    blindings.push_back(keys.back().blinding.Clone());
    out.shared_secrets.push_back(std::move(s));
    if (i + 1 < n && !X25519(alphas[i + 1], blindings[i].Bytes(), alphas[i])) return unusable(i);
  }

  // §6.2 Filler: phi_0 = ε; phi_{i+1} = (phi_i ‖ 0^S) ⊕ rho_i[(r-i)·S .. (r+1)·S).
  Bytes filler;
  for (std::size_t i = 0; i + 1 < n; ++i) {
    Bytes rho = HeaderStream(keys[i].header_key);
    ScopedWipe wipe_rho(rho);
    filler.resize(filler.size() + S, 0);
    XorInto(filler.data(), rho.data() + (r - i) * S, (i + 1) * S);
  }

  // §6.3 Routing information, innermost first.
  //   beta_{n-1} = ((slot_{n-1} ‖ padding) ⊕ rho_{n-1}[0 .. (r-n+1)·S)) ‖ phi_{n-1}
  //   beta_i     = (slot_i(gamma_{i+1}) ‖ beta_{i+1}[0 .. (r-1)·S)) ⊕ rho_i[0 .. r·S)
  //   gamma_i    = MAC(mac_key_i, alpha_i ‖ beta_i)
  Bytes beta(kRoutingInfoSize, 0);
  std::array<std::uint8_t, kMacSize> gamma{};
  {
    EncodeSlot(hops[n - 1].command, gamma, Slot(beta.data(), S));
    std::copy(padding.begin(), padding.end(), beta.begin() + static_cast<std::ptrdiff_t>(S));
    Bytes rho = HeaderStream(keys[n - 1].header_key);
    ScopedWipe wipe_rho(rho);
    XorInto(beta.data(), rho.data(), (r - n + 1) * S);
    std::copy(filler.begin(), filler.end(),
              beta.begin() + static_cast<std::ptrdiff_t>((r - n + 1) * S));
    gamma = HeaderMac(keys[n - 1].mac_key, alphas[n - 1], beta);
  }
  for (std::size_t k = n - 1; k-- > 0;) {
    Bytes next(kRoutingInfoSize, 0);
    EncodeSlot(hops[k].command, gamma, Slot(next.data(), S));
    std::copy_n(beta.begin(), (r - 1) * S, next.begin() + static_cast<std::ptrdiff_t>(S));
    Bytes rho = HeaderStream(keys[k].header_key);
    ScopedWipe wipe_rho(rho);
    XorInto(next.data(), rho.data(), r * S);
    beta = std::move(next);
    gamma = HeaderMac(keys[k].mac_key, alphas[k], beta);
  }

  out.header.reserve(kHeaderSize);
  out.header.insert(out.header.end(), alphas[0].begin(), alphas[0].end());
  out.header.insert(out.header.end(), beta.begin(), beta.end());
  out.header.insert(out.header.end(), gamma.begin(), gamma.end());
  SOTTO_CHECK(out.header.size() == kHeaderSize);
  return out;
}

}  // namespace sotto::sphinx::internal
