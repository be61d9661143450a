// Elligator 2 and hidden key pairs (client_lib/elligator.h, papers/e2ee-spec.md §3a): the forward
// map against libsodium's, the inverse, DH with hidden keys, the torsion component, and the
// uniformity of representatives with positive controls for each way they could be recognised.
#include "sotto/client_lib/elligator.h"

#include <sodium.h>

#include <algorithm>
#include <array>
#include <catch2/catch.hpp>
#include <cmath>
#include <functional>
#include <set>
#include <vector>

#include "sotto/core/random.h"

namespace sotto::client {
namespace {

using Bytes32 = std::array<std::uint8_t, 32>;

Bytes32 Random32(Rng& rng) {
  Bytes32 b{};
  rng.Fill(b);
  return b;
}

SecretKey SecretFrom(const Bytes32& b) { return SecretKey(std::span<const std::uint8_t, 32>(b)); }

// libsodium's Ed25519 point for the Montgomery u and an x sign bit, then [8] of it by three
// doublings (crypto_core_ed25519_add accepts points outside the prime-order subgroup).
std::optional<Bytes32> EdwardsTimes8(const PublicKey& u, bool sign) {
  Bytes32 p = EdwardsY(u);
  if (sign) p[31] |= 0x80;
  for (int i = 0; i < 3; ++i) {
    Bytes32 twice{};
    if (crypto_core_ed25519_add(twice.data(), p.data(), p.data()) != 0) return std::nullopt;
    p = twice;
  }
  return p;
}

// 1 if u is a point of the prime-order subgroup (libsodium's check on the Edwards form).
bool InPrimeOrderSubgroup(const PublicKey& u) {
  const Bytes32 y = EdwardsY(u);
  return crypto_core_ed25519_is_valid_point(y.data()) == 1;
}

Bytes32 Dh(const Bytes32& secret, const PublicKey& pub) {
  Bytes32 out{};
  REQUIRE(crypto_scalarmult(out.data(), secret.data(), pub.bytes.data()) == 0);
  return out;
}

PublicKey BasePublic(const Bytes32& secret) {
  PublicKey k;
  crypto_scalarmult_base(k.bytes.data(), secret.data());
  return k;
}

TEST_CASE("elligator: Map is libsodium's crypto_core_ed25519_from_uniform map", "[elligator]") {
  // from_uniform(r) = [8] (Edwards point with y = (u - 1)/(u + 1), x sign = bit 255 of r), u the
  // Elligator 2 map of r's low 255 bits. With bit 254 clear both read the same field element.
  DeterministicRng rng = DeterministicRng::FromByte(0xE1);
  std::vector<Bytes32> inputs;
  for (int i = 0; i < 1000; ++i) inputs.push_back(Random32(rng));
  inputs.push_back(Bytes32{});  // r = 0
  Bytes32 high{};
  high.fill(0xff);  // r = 2^254 - 1 (> (p-1)/2), both sign values below
  inputs.push_back(high);
  for (const Bytes32& in : inputs) {
    for (bool sign : {false, true}) {
      Bytes32 r = in;
      r[31] &= 0x3f;
      Bytes32 sodium_in = r;
      if (sign) sodium_in[31] |= 0x80;
      Bytes32 expected{};
      REQUIRE(crypto_core_ed25519_from_uniform(expected.data(), sodium_in.data()) == 0);
      const PublicKey u = ElligatorMap(r);
      CHECK(IsOnCurve(u.bytes));
      auto mine = EdwardsTimes8(u, sign);
      REQUIRE(mine.has_value());
      REQUIRE(*mine == expected);
      // The two filler bits do not change the map.
      Bytes32 filled = in;
      CHECK(ElligatorMap(filled) == u);
    }
  }
}

TEST_CASE("elligator: EdwardsY is the birational map libsodium uses", "[elligator]") {
  DeterministicRng rng = DeterministicRng::FromByte(0xE2);
  for (int i = 0; i < 200; ++i) {
    Bytes32 s = Random32(rng);
    s[0] &= 0xf8;  // clamp, so that both libsodium functions use the same scalar
    s[31] = static_cast<std::uint8_t>((s[31] & 0x7f) | 0x40);
    Bytes32 ed{};
    REQUIRE(crypto_scalarmult_ed25519_base_noclamp(ed.data(), s.data()) == 0);
    ed[31] &= 0x7f;  // the sign of x; EdwardsY gives y only
    CHECK(EdwardsY(BasePublic(s)) == ed);
  }
}

TEST_CASE("elligator: Inverse and Map undo each other, on both branches", "[elligator]") {
  DeterministicRng rng = DeterministicRng::FromByte(0xE3);
  int with_representative = 0;
  for (int i = 0; i < 2000; ++i) {
    Bytes32 r = Random32(rng);
    r[31] &= 0x3f;
    const PublicKey u = ElligatorMap(r);
    const auto r0 = ElligatorInverse(u, 0);
    const auto r1 = ElligatorInverse(u, 1);
    REQUIRE(r0.has_value());
    REQUIRE(r1.has_value());
    CHECK(*r0 != *r1);  // the two preimages of u
    CHECK(ElligatorMap(*r0) == u);
    CHECK(ElligatorMap(*r1) == u);
    CHECK(((*r0)[31] & 0xc0) == 0);
    CHECK(((*r1)[31] & 0xc0) == 0);
    // r is one of them unless it is "negative" (above (p-1)/2: 9 of the 2^254 values).
    CHECK((r == *r0 || r == *r1));
    // A random curve point has a representative about half of the time.
    const PublicKey point = BasePublic(Random32(rng));
    if (const auto rp = ElligatorInverse(point, static_cast<int>(i & 1))) {
      ++with_representative;
      CHECK(ElligatorMap(*rp) == point);
    }
  }
  // Binomial(2000, 1/2): mean 1000, sd 22.4; ±5 sd.
  CHECK(with_representative > 888);
  CHECK(with_representative < 1112);
  // u = 0 and u = -A have none.
  CHECK_FALSE(ElligatorInverse(PublicKey{}, 0).has_value());
  CHECK_FALSE(ElligatorInverse(PublicKey{}, 1).has_value());
  PublicKey minus_a{};  // p - 486662 = 2^255 - 486681
  minus_a.bytes.fill(0xff);
  minus_a.bytes[31] = 0x7f;
  const std::uint32_t low = 0xffffffffu - 486680u;  // the low 32 bits of 2^255 - 486681
  for (int i = 0; i < 4; ++i)
    minus_a.bytes[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(low >> (8 * i));
  CHECK_FALSE(ElligatorInverse(minus_a, 0).has_value());
  CHECK_FALSE(ElligatorInverse(minus_a, 1).has_value());
}

TEST_CASE("elligator: DH with a hidden key equals DH with the clean key", "[elligator]") {
  DeterministicRng rng = DeterministicRng::FromByte(0xE4);
  std::set<int> torsions;
  for (int i = 0; i < 200; ++i) {
    const HiddenKeyPair hidden = GenerateHiddenKeyPair(rng);
    Bytes32 s{};
    std::copy_n(hidden.secret.data(), 32, s.begin());
    torsions.insert(s[0] & 7);
    CHECK(ElligatorMap(hidden.representative) == hidden.hidden_public);
    CHECK(HiddenPublicKey(hidden.secret) == hidden.hidden_public);
    const Bytes32 peer = Random32(rng);
    const PublicKey peer_public = BasePublic(peer);
    const Bytes32 by_sender = Dh(s, peer_public);
    CHECK(Dh(peer, ElligatorMap(hidden.representative)) == by_sender);
    CHECK(Dh(peer, BasePublic(s)) == by_sender);
    // The hidden point differs from the clean one unless its torsion component is zero.
    CHECK((hidden.hidden_public == BasePublic(s)) == ((s[0] & 7) == 0));
  }
  CHECK(torsions.size() == 8);
}

TEST_CASE("elligator: hidden public keys cover all 8 cosets of the prime-order subgroup",
          "[elligator]") {
  DeterministicRng rng = DeterministicRng::FromByte(0xE5);
  for (int round = 0; round < 20; ++round) {
    Bytes32 s = Random32(rng);
    std::set<PublicKey, std::function<bool(const PublicKey&, const PublicKey&)>> points(
        [](const PublicKey& a, const PublicKey& b) { return a.bytes < b.bytes; });
    const Bytes32 peer = Random32(rng);
    const PublicKey peer_public = BasePublic(peer);
    for (std::uint8_t t = 0; t < 8; ++t) {
      s[0] = static_cast<std::uint8_t>((s[0] & 0xf8) | t);
      const PublicKey u = HiddenPublicKey(SecretFrom(s));
      points.insert(u);
      CHECK(IsOnCurve(u.bytes));
      // Only t = 0 gives a point of the prime-order subgroup: [clamp(s)]B itself.
      CHECK(InPrimeOrderSubgroup(u) == (t == 0));
      if (t == 0) CHECK(u == BasePublic(s));
      CHECK(Dh(peer, u) == Dh(s, peer_public));
    }
    CHECK(points.size() == 8);  // P + [t]T8 are 8 different points with 8 different u
  }
}

// ---- uniformity

struct Uniformity {
  double bit_chi2 = 0;    // sum over the 256 bit positions of z^2 (z: frequency of ones vs n/2)
  double on_curve_z = 0;  // two-sample z: "on the curve" as a raw u, against uniform strings
  double branch_z = 0;    // two-sample z: Map takes its first branch (w = u)
  double subgroup_z = 0;  // two-sample z: Map(R) lies in the prime-order subgroup
};

// One Bernoulli statistic on two samples: the two-proportion z statistic (pooled variance),
// a successes of na against b of nb.
double TwoSampleZ(std::size_t a, std::size_t na, std::size_t b, std::size_t nb) {
  const double n1 = static_cast<double>(na), n2 = static_cast<double>(nb);
  const double pa = static_cast<double>(a) / n1, pb = static_cast<double>(b) / n2;
  const double pool = (static_cast<double>(a) + static_cast<double>(b)) / (n1 + n2);
  const double se = std::sqrt(pool * (1 - pool) * (1 / n1 + 1 / n2));
  if (se == 0) return pa == pb ? 0 : 1e9;
  return (pa - pb) / se;
}

struct Counts {
  std::size_t n = 0;
  std::array<std::size_t, 256> ones{};
  std::size_t on_curve = 0, first_branch = 0, subgroup = 0;
};

Counts Count(const std::vector<Bytes32>& sample) {
  Counts c;
  c.n = sample.size();
  for (const Bytes32& r : sample) {
    for (std::size_t bit = 0; bit < 256; ++bit) c.ones[bit] += (r[bit / 8] >> (bit % 8)) & 1;
    if (IsOnCurve(r)) ++c.on_curve;
    const PublicKey u = ElligatorMap(r);
    Bytes32 masked = r;
    masked[31] &= 0x3f;
    if (ElligatorInverse(u, 1) == std::optional<Representative>(masked)) ++c.first_branch;
    if (InPrimeOrderSubgroup(u)) ++c.subgroup;
  }
  return c;
}

Uniformity Test(const std::vector<Bytes32>& sample, const Counts& reference) {
  const Counts c = Count(sample);
  const double n = static_cast<double>(sample.size());
  Uniformity u;
  for (std::size_t bit = 0; bit < 256; ++bit) {
    const double z = (static_cast<double>(c.ones[bit]) - n / 2) / std::sqrt(n / 4);
    u.bit_chi2 += z * z;
  }
  u.on_curve_z = TwoSampleZ(c.on_curve, c.n, reference.on_curve, reference.n);
  u.branch_z = TwoSampleZ(c.first_branch, c.n, reference.first_branch, reference.n);
  u.subgroup_z = TwoSampleZ(c.subgroup, c.n, reference.subgroup, reference.n);
  return u;
}

// α = 0.001 for each statistic: chi-square with 256 degrees of freedom above its 0.999 quantile
// (330.5), or |z| above 3.29.
constexpr double kChi2Critical = 330.5;
constexpr double kZCritical = 3.29;

TEST_CASE("elligator: representatives pass the uniformity tests; recognisable keys fail them",
          "[elligator]") {
  // n = 2500 per sample, against a reference sample of 4n uniform strings for the proportions
  // whose exact value under the null is not needed. Under the null each statistic exceeds its
  // critical value with probability 0.001. The positive controls differ grossly (a bit that is
  // always 0 gives z = sqrt(n) = 50, so chi2 > 2500; a proportion of 1 against 1/2 or 1/8 gives |z|
  // > 30), so each is detected with power indistinguishable from 1.
  constexpr std::size_t n = 2500;
  DeterministicRng rng = DeterministicRng::FromByte(0xE6);
  std::vector<Bytes32> uniform(n), reference(4 * n), representatives, raw_keys, zero_top,
      one_branch, clean;
  for (auto& r : uniform) r = Random32(rng);
  for (auto& r : reference) r = Random32(rng);
  const Counts ref = Count(reference);
  while (representatives.size() < n) {
    representatives.push_back(GenerateHiddenKeyPair(rng).representative);
  }
  while (raw_keys.size() < n) raw_keys.push_back(BasePublic(Random32(rng)).bytes);
  // Controls: the same construction with one safeguard left out each time.
  for (const Bytes32& r : representatives) {
    Bytes32 z = r;
    z[31] &= 0x3f;  // top bits not filled
    zero_top.push_back(z);
  }
  while (one_branch.size() < n) {  // always branch 0
    const PublicKey u = HiddenPublicKey(SecretFrom(Random32(rng)));
    if (auto r = ElligatorInverse(u, 0)) {
      Bytes32 b = *r;
      b[31] = static_cast<std::uint8_t>(b[31] | (Random32(rng)[0] & 0xc0));
      one_branch.push_back(b);
    }
  }
  while (clean.size() < n) {  // the ordinary public key: prime-order subgroup only
    Bytes32 top{};
    rng.Fill(top);
    if (auto r = ElligatorInverse(BasePublic(Random32(rng)), top[0] & 1)) {
      Bytes32 b = *r;
      b[31] = static_cast<std::uint8_t>(b[31] | (top[1] & 0xc0));
      clean.push_back(b);
    }
  }

  auto passes = [](const Uniformity& u) {
    return u.bit_chi2 < kChi2Critical && std::abs(u.on_curve_z) < kZCritical &&
           std::abs(u.branch_z) < kZCritical && std::abs(u.subgroup_z) < kZCritical;
  };
  const Uniformity random_strings = Test(uniform, ref);
  INFO("uniform strings: chi2 " << random_strings.bit_chi2 << " curve z "
                                << random_strings.on_curve_z << " branch z "
                                << random_strings.branch_z << " subgroup z "
                                << random_strings.subgroup_z);
  CHECK(passes(random_strings));  // the tests themselves are calibrated
  const Uniformity hidden = Test(representatives, ref);
  INFO("representatives: chi2 " << hidden.bit_chi2 << " curve z " << hidden.on_curve_z
                                << " branch z " << hidden.branch_z << " subgroup z "
                                << hidden.subgroup_z);
  CHECK(passes(hidden));

  const Uniformity raw = Test(raw_keys, ref);
  CHECK(raw.bit_chi2 > kChi2Critical);  // bit 255 is always 0
  CHECK(raw.on_curve_z > kZCritical);   // always on the curve
  const Uniformity top = Test(zero_top, ref);
  CHECK(top.bit_chi2 > kChi2Critical);  // bits 254 and 255 always 0
  const Uniformity branch = Test(one_branch, ref);
  CHECK(std::abs(branch.branch_z) > kZCritical);
  const Uniformity subgroup = Test(clean, ref);
  CHECK(subgroup.subgroup_z > kZCritical);  // always in the subgroup, against about 1/8
  // Each control fails only the test aimed at it: the other safeguards still hold there.
  CHECK(subgroup.bit_chi2 < kChi2Critical);
  CHECK(std::abs(branch.subgroup_z) < kZCritical);
}

}  // namespace
}  // namespace sotto::client
