// Elligator 2 maps, the hidden-key ladder and hidden key pairs (client_lib/elligator.h,
// papers/e2ee-spec.md §3a). Constant time: every step below runs the same operations whatever
// the values; the only data-dependent control flow is GenerateHiddenKeyPair's retry loop, which
// depends on public points of discarded candidates.
#include "sotto/client_lib/elligator.h"

#include <sodium.h>

#include <algorithm>

#include "curve25519_field.h"
#include "sotto/core/secret.h"

namespace sotto::client {
namespace {

using field::Fe;

constexpr std::uint64_t kA = 486662;
constexpr std::uint64_t kA24 = 121665;  // (A - 2) / 4, RFC 7748

// u-coordinate of Q = B + T8, a generator of the whole curve group (spec §3a, U_Q).
constexpr std::array<std::uint8_t, 32> kUQ = {
    0xbb, 0x72, 0x31, 0x21, 0x70, 0xe8, 0x15, 0x6f, 0x7a, 0x83, 0x63, 0x13, 0xf8, 0x5b, 0xee, 0x9b,
    0x1f, 0xdc, 0xe9, 0x26, 0xba, 0x98, 0x04, 0xa2, 0x9e, 0x8d, 0x13, 0x7e, 0xc6, 0x7f, 0x25, 0x33};

// ℓ = 2^252 + 27742317777372353535851937790883648493, little-endian.
constexpr std::array<std::uint8_t, 32> kL = {
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10};

PublicKey ToKey(const Fe& f) { return PublicKey{field::ToBytes(f)}; }

// g(u) = u^3 + A u^2 + u = u ((u + A) u + 1).
Fe CurveRhs(const Fe& u) {
  return field::Mul(u, field::Add(field::Mul(field::Add(u, field::Small(kA)), u), field::One()));
}

// RFC 7748 §5 Montgomery ladder on the 256-bit little-endian scalar k (not clamped).
Fe Ladder(std::span<const std::uint8_t, 32> k, const Fe& u) {
  Fe x2 = field::One(), z2 = field::Zero(), x3 = u, z3 = field::One();
  std::uint64_t swap = 0;
  for (int t = 255; t >= 0; --t) {
    const std::uint64_t bit = (k[static_cast<std::size_t>(t / 8)] >> (t % 8)) & 1;
    swap ^= bit;
    field::CSwap(x2, x3, swap);
    field::CSwap(z2, z3, swap);
    swap = bit;
    const Fe a = field::Add(x2, z2);
    const Fe aa = field::Sq(a);
    const Fe b = field::Sub(x2, z2);
    const Fe bb = field::Sq(b);
    const Fe e = field::Sub(aa, bb);
    const Fe c = field::Add(x3, z3);
    const Fe d = field::Sub(x3, z3);
    const Fe da = field::Mul(d, a);
    const Fe cb = field::Mul(c, b);
    x3 = field::Sq(field::Add(da, cb));
    z3 = field::Mul(u, field::Sq(field::Sub(da, cb)));
    x2 = field::Mul(aa, bb);
    z2 = field::Mul(e, field::Add(aa, field::MulSmall(e, kA24)));
  }
  field::CSwap(x2, x3, swap);
  field::CSwap(z2, z3, swap);
  const Fe out = field::Mul(x2, field::Invert(z2));
  // The intermediate multiples depend on the secret scalar; the result is the public key.
  for (Fe* f : {&x2, &z2, &x3, &z3}) sodium_memzero(f, sizeof *f);
  return out;
}

// x = clamp(s) + ℓ (5 (s mod 8) mod 8), so that x = clamp(s) (mod ℓ) and x = s (mod 8).
Secret<32> HiddenScalar(std::span<const std::uint8_t, 32> s) {
  Secret<32> x;
  const std::uint32_t c = (5u * (s[0] & 7u)) & 7u;
  std::uint32_t carry = 0;
  for (std::size_t i = 0; i < 32; ++i) {
    std::uint32_t k = s[i];
    if (i == 0) k &= 0xf8;
    if (i == 31) k = (k & 0x7f) | 0x40;
    const std::uint32_t sum = k + kL[i] * c + carry;
    x.data()[i] = static_cast<std::uint8_t>(sum);
    carry = sum >> 8;
  }
  // clamp(s) < 2^255 and 7 ℓ < 2^255: the sum fits in 256 bits, the final carry is 0.
  return x;
}

}  // namespace

PublicKey ElligatorMap(std::span<const std::uint8_t, kRepresentativeSize> representative) {
  std::array<std::uint8_t, 32> masked{};
  std::copy(representative.begin(), representative.end(), masked.begin());
  masked[31] &= 0x3f;  // bits 254 and 255 are filler
  const Fe r = field::FromBytes(masked);
  // w = -A / (1 + 2 r^2)
  const Fe denominator = field::Add(field::One(), field::Add(field::Sq(r), field::Sq(r)));
  const Fe w = field::Neg(field::Mul(field::Small(kA), field::Invert(denominator)));
  // u = w if g(w) is a square, else -w - A.
  Fe u = w;
  const Fe other = field::Sub(field::Neg(w), field::Small(kA));
  field::CMov(u, other, 1 - field::IsSquare(CurveRhs(w)));
  return ToKey(u);
}

std::optional<Representative> ElligatorInverse(const PublicKey& u_key, int branch) {
  const Fe u = field::FromBytes(u_key.bytes);
  const Fe u_plus_a = field::Add(u, field::Small(kA));
  // -2 u (u + A) must be a non-zero square; u = 0 and u = -A have none.
  const Fe t = field::Neg(field::Mul(field::Add(u, u), u_plus_a));
  std::uint64_t square = 0;
  const Fe s = field::Sqrt(t, square);
  const std::uint64_t none = (1 - square) | field::IsZero(u) | field::IsZero(u_plus_a);
  // r = s / (2 (u + A)) on branch 0, s / (2 u) on branch 1; then the non-negative root.
  Fe d = field::Add(u_plus_a, u_plus_a);
  field::CMov(d, field::Add(u, u), static_cast<std::uint64_t>(branch & 1));
  Fe r = field::Mul(s, field::Invert(d));
  field::CMov(r, field::Neg(r), field::IsNegative(r));
  Representative out = field::ToBytes(r);
  if (none != 0) {
    sodium_memzero(out.data(), out.size());
    return std::nullopt;
  }
  return out;
}

PublicKey HiddenPublicKey(const SecretKey& secret) {
  const Secret<32> x = HiddenScalar(secret.Bytes());
  return ToKey(Ladder(x.Bytes(), field::FromBytes(kUQ)));
}

HiddenKeyPair GenerateHiddenKeyPair(Rng& rng) {
  for (;;) {
    Secret<33> draw;  // secret key ‖ tweak
    rng.Fill(draw.MutableBytes());
    SecretKey secret(draw.Bytes().first<32>());
    const std::uint8_t tweak = draw.data()[32];
    const PublicKey u = HiddenPublicKey(secret);
    auto r = ElligatorInverse(u, tweak & 1);
    if (!r) continue;  // about half of all points have no representative
    (*r)[31] = static_cast<std::uint8_t>((*r)[31] | (tweak & 0xc0));
    return HiddenKeyPair{std::move(secret), u, *r};
  }
}

bool IsOnCurve(std::span<const std::uint8_t, 32> u) {
  return field::IsSquare(CurveRhs(field::FromBytes(u))) == 1;
}

std::array<std::uint8_t, 32> EdwardsY(const PublicKey& u_key) {
  const Fe u = field::FromBytes(u_key.bytes);
  return field::ToBytes(
      field::Mul(field::Sub(u, field::One()), field::Invert(field::Add(u, field::One()))));
}

}  // namespace sotto::client
