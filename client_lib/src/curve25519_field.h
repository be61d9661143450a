// Arithmetic in the field of Curve25519, GF(p) with p = 2^255 - 19, for the Elligator 2 maps and
// the hidden-key ladder of elligator.cpp (papers/e2ee-spec.md §3a). Internal to client_lib.
//
// An element is five 51-bit limbs (value = sum v[i] * 2^(51 i)), products are taken in 128-bit
// integers. Every function here runs in time independent of the values it is given: no branch
// and no memory index depends on them; conditional moves and swaps use masks. Inputs and
// outputs are "loosely reduced" (each limb below 2^52); ToBytes gives the canonical encoding.
// Plain values, no secrets are retained: callers wipe what they must (Fe is trivially copyable).
#pragma once

#include <array>
#include <cstdint>
#include <span>

namespace sotto::client::field {

struct Fe {
  std::uint64_t v[5];
};

inline constexpr std::uint64_t kMask51 = (std::uint64_t{1} << 51) - 1;

inline Fe Zero() { return Fe{{0, 0, 0, 0, 0}}; }
inline Fe One() { return Fe{{1, 0, 0, 0, 0}}; }
inline Fe Small(std::uint64_t x) { return Fe{{x, 0, 0, 0, 0}}; }  // x < 2^51

namespace internal {
inline std::uint64_t Load64(const std::uint8_t* p) {
  std::uint64_t x = 0;
  for (int i = 7; i >= 0; --i) x = (x << 8) | p[i];
  return x;
}
inline void Store64(std::uint8_t* p, std::uint64_t x) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<std::uint8_t>(x >> (8 * i));
}
// One carry pass: every limb below 2^51 except limb 0, which may exceed it by 19 * carry.
inline void Carry(Fe& f) {
  for (int i = 0; i < 4; ++i) {
    f.v[i + 1] += f.v[i] >> 51;
    f.v[i] &= kMask51;
  }
  f.v[0] += 19 * (f.v[4] >> 51);
  f.v[4] &= kMask51;
}
}  // namespace internal

// The 255 low bits of a 32-byte little-endian string (bit 255 is ignored). Values from p to
// 2^255 - 1 are accepted and act as their residue.
inline Fe FromBytes(std::span<const std::uint8_t, 32> in) {
  using internal::Load64;
  return Fe{{Load64(in.data()) & kMask51, (Load64(in.data() + 6) >> 3) & kMask51,
             (Load64(in.data() + 12) >> 6) & kMask51, (Load64(in.data() + 19) >> 1) & kMask51,
             (Load64(in.data() + 24) >> 12) & kMask51}};
}

// The canonical encoding, in [0, p), little-endian; bit 255 is 0.
inline std::array<std::uint8_t, 32> ToBytes(Fe f) {
  internal::Carry(f);
  internal::Carry(f);  // now every limb < 2^51: the value is below 2^255 < 2p
  // q = 1 iff f >= p, i.e. iff f + 19 >= 2^255.
  std::uint64_t q = (f.v[0] + 19) >> 51;
  for (int i = 1; i < 5; ++i) q = (f.v[i] + q) >> 51;
  f.v[0] += 19 * q;  // f - q p = f + 19 q - q 2^255: drop the carry out of bit 255 below
  for (int i = 0; i < 4; ++i) {
    f.v[i + 1] += f.v[i] >> 51;
    f.v[i] &= kMask51;
  }
  f.v[4] &= kMask51;
  std::array<std::uint8_t, 32> out{};
  internal::Store64(out.data(), f.v[0] | (f.v[1] << 51));
  internal::Store64(out.data() + 8, (f.v[1] >> 13) | (f.v[2] << 38));
  internal::Store64(out.data() + 16, (f.v[2] >> 26) | (f.v[3] << 25));
  internal::Store64(out.data() + 24, (f.v[3] >> 39) | (f.v[4] << 12));
  return out;
}

inline Fe Add(const Fe& a, const Fe& b) {
  Fe r;
  for (int i = 0; i < 5; ++i) r.v[i] = a.v[i] + b.v[i];
  internal::Carry(r);
  return r;
}

// a - b, computed as a + 4p - b so that no limb underflows (limbs of b below 2^53).
inline Fe Sub(const Fe& a, const Fe& b) {
  constexpr std::uint64_t k4p0 = (kMask51 - 18) * 4;  // 4 (2^51 - 19)
  constexpr std::uint64_t k4pi = kMask51 * 4;         // 4 (2^51 - 1)
  Fe r;
  r.v[0] = a.v[0] + k4p0 - b.v[0];
  for (int i = 1; i < 5; ++i) r.v[i] = a.v[i] + k4pi - b.v[i];
  internal::Carry(r);
  return r;
}

inline Fe Neg(const Fe& a) { return Sub(Zero(), a); }

inline Fe Mul(const Fe& a, const Fe& b) {
  __extension__ using U128 = unsigned __int128;
  const std::uint64_t* x = a.v;
  const std::uint64_t* y = b.v;
  const std::uint64_t y1_19 = 19 * y[1], y2_19 = 19 * y[2], y3_19 = 19 * y[3], y4_19 = 19 * y[4];
  U128 r0 = U128{x[0]} * y[0] + U128{x[1]} * y4_19 + U128{x[2]} * y3_19 + U128{x[3]} * y2_19 +
            U128{x[4]} * y1_19;
  U128 r1 = U128{x[0]} * y[1] + U128{x[1]} * y[0] + U128{x[2]} * y4_19 + U128{x[3]} * y3_19 +
            U128{x[4]} * y2_19;
  U128 r2 = U128{x[0]} * y[2] + U128{x[1]} * y[1] + U128{x[2]} * y[0] + U128{x[3]} * y4_19 +
            U128{x[4]} * y3_19;
  U128 r3 = U128{x[0]} * y[3] + U128{x[1]} * y[2] + U128{x[2]} * y[1] + U128{x[3]} * y[0] +
            U128{x[4]} * y4_19;
  U128 r4 = U128{x[0]} * y[4] + U128{x[1]} * y[3] + U128{x[2]} * y[2] + U128{x[3]} * y[1] +
            U128{x[4]} * y[0];
  r1 += r0 >> 51;
  r2 += r1 >> 51;
  r3 += r2 >> 51;
  r4 += r3 >> 51;
  const U128 top = r4 >> 51;
  Fe r;
  r.v[0] = static_cast<std::uint64_t>(r0) & kMask51;
  r.v[1] = static_cast<std::uint64_t>(r1) & kMask51;
  r.v[2] = static_cast<std::uint64_t>(r2) & kMask51;
  r.v[3] = static_cast<std::uint64_t>(r3) & kMask51;
  r.v[4] = static_cast<std::uint64_t>(r4) & kMask51;
  const U128 low = U128{r.v[0]} + top * 19;  // top < 2^66 / 2^51: fits easily
  r.v[0] = static_cast<std::uint64_t>(low) & kMask51;
  r.v[1] += static_cast<std::uint64_t>(low >> 51);
  internal::Carry(r);
  return r;
}

inline Fe Sq(const Fe& a) { return Mul(a, a); }

// a^(2^n).
inline Fe SqN(Fe a, int n) {
  for (int i = 0; i < n; ++i) a = Sq(a);
  return a;
}

// a * k for a small constant k < 2^20.
inline Fe MulSmall(const Fe& a, std::uint64_t k) { return Mul(a, Small(k)); }

// Returns mask-selected values: b must be 0 or 1.
inline void CMov(Fe& f, const Fe& g, std::uint64_t b) {
  const std::uint64_t mask = 0 - b;
  for (int i = 0; i < 5; ++i) f.v[i] ^= mask & (f.v[i] ^ g.v[i]);
}
inline void CSwap(Fe& f, Fe& g, std::uint64_t b) {
  const std::uint64_t mask = 0 - b;
  for (int i = 0; i < 5; ++i) {
    const std::uint64_t t = mask & (f.v[i] ^ g.v[i]);
    f.v[i] ^= t;
    g.v[i] ^= t;
  }
}

// 1 if a = 0 (mod p), else 0.
inline std::uint64_t IsZero(const Fe& a) {
  const auto bytes = ToBytes(a);
  std::uint32_t acc = 0;
  for (std::uint8_t x : bytes) acc |= x;
  return (acc - 1) >> 31;  // acc <= 255: only acc = 0 wraps around
}
inline std::uint64_t Equal(const Fe& a, const Fe& b) { return IsZero(Sub(a, b)); }

// 1 if the canonical a is above (p - 1)/2 ("negative" in the sense of the spec): then 2a mod p
// = 2a - p is odd; otherwise 2a < p is even.
inline std::uint64_t IsNegative(const Fe& a) { return ToBytes(Add(a, a))[0] & 1; }

// a^(2^250 - 1) and a^11, the common part of the exponentiations below.
inline void Pow250(const Fe& a, Fe& a_250_1, Fe& a11) {
  const Fe a2 = Sq(a);
  const Fe a9 = Mul(SqN(a2, 2), a);
  a11 = Mul(a9, a2);
  const Fe a_5 = Mul(Sq(a11), a9);  // 2^5 - 1
  const Fe a_10 = Mul(SqN(a_5, 5), a_5);
  const Fe a_20 = Mul(SqN(a_10, 10), a_10);
  const Fe a_40 = Mul(SqN(a_20, 20), a_20);
  const Fe a_50 = Mul(SqN(a_40, 10), a_10);
  const Fe a_100 = Mul(SqN(a_50, 50), a_50);
  const Fe a_200 = Mul(SqN(a_100, 100), a_100);
  a_250_1 = Mul(SqN(a_200, 50), a_50);
}

// 1/a = a^(p - 2) = a^(2^255 - 21); 0 for a = 0.
inline Fe Invert(const Fe& a) {
  Fe a250, a11;
  Pow250(a, a250, a11);
  return Mul(SqN(a250, 5), a11);
}

// a^((p - 5)/8) = a^(2^252 - 3).
inline Fe Pow22523(const Fe& a) {
  Fe a250, a11;
  Pow250(a, a250, a11);
  return Mul(SqN(a250, 2), a);
}

// 1 if a is a square (0 included), else 0: chi(a) = a^((p-1)/2) = (a^(2^252-3))^4 a^2 is not -1.
inline std::uint64_t IsSquare(const Fe& a) {
  const Fe chi = Mul(SqN(Pow22523(a), 2), Sq(a));
  return 1 - IsZero(Add(chi, One()));
}

// sqrt(-1) = 2^((p - 1)/4).
inline Fe SqrtMinusOne() {
  static constexpr std::array<std::uint8_t, 32> kBytes = {
      0xb0, 0xa0, 0x0e, 0x4a, 0x27, 0x1b, 0xee, 0xc4, 0x78, 0xe4, 0x2f,
      0xad, 0x06, 0x18, 0x43, 0x2f, 0xa7, 0xd7, 0xfb, 0x3d, 0x99, 0x00,
      0x4d, 0x2b, 0x0b, 0xdf, 0xc1, 0x4f, 0x80, 0x24, 0x83, 0x2b};
  return FromBytes(kBytes);
}

// A square root of a, and 1 if a is a square; (garbage, 0) otherwise. For p = 5 (mod 8):
// b = a^((p+3)/8) satisfies b^2 = a or b^2 = -a (then b sqrt(-1) is a root) when a is a square.
inline Fe Sqrt(const Fe& a, std::uint64_t& ok) {
  Fe b = Mul(Pow22523(a), a);
  const Fe b2 = Sq(b);
  const std::uint64_t direct = Equal(b2, a);
  const std::uint64_t flipped = Equal(b2, Neg(a));
  CMov(b, Mul(b, SqrtMinusOne()), flipped);
  ok = direct | flipped;
  return b;
}

}  // namespace sotto::client::field
