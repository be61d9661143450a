// Elligator 2 for Curve25519: X25519 public keys that look like uniformly random strings
// (papers/e2ee-spec.md §3a; Bernstein, Hamburg, Krasnova, Lange, CCS 2013).
//
// The first-message slot of an envelope (x3dh.h) starts with the representative of a fresh
// "hidden" key, so that a provider cannot tell it from random bytes: a raw X25519 public key
// has bit 255 clear and is always on the curve (a random string is on the curve only half the
// time). A hidden key pair's public point is [clamp(s)]B plus a point of order dividing 8 chosen
// by the secret's three low bits (which X25519 ignores), so it can be any curve point, not only
// one of the prime-order subgroup; its representative takes either of the point's two preimages
// at random, and its two unused top bits are random. The result is uniform over all 2^256
// strings (up to a negligible distance), and X25519 with the hidden point gives the same shared
// secret as with the ordinary public key, because clamped scalars are multiples of 8.
//
// libsodium 1.0.18 has the forward map only (inside crypto_core_ed25519_from_uniform) and no
// inverse, so the field arithmetic, the maps and the ladder are implemented here, in constant
// time (client_lib/src/curve25519_field.h). All functions are pure and thread-safe, except that
// GenerateHiddenKeyPair draws from the Rng given.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "sotto/core/keys.h"
#include "sotto/core/random.h"

namespace sotto::client {

inline constexpr std::size_t kRepresentativeSize = 32;
using Representative = std::array<std::uint8_t, kRepresentativeSize>;

// Map (spec §3a): any 32 bytes to the u-coordinate of a curve point. Bits 254 and 255 of the
// input are ignored (they carry random filler).
PublicKey ElligatorMap(std::span<const std::uint8_t, kRepresentativeSize> representative);

// Inverse (spec §3a): the non-negative representative of `u` on the branch `branch` (0 or 1),
// with bits 254 and 255 zero; nullopt if u has none (about half of all curve points).
std::optional<Representative> ElligatorInverse(const PublicKey& u, int branch);

// The point a hidden key pair puts on the curve: u([clamp(s)]B + [s mod 8]T8), T8 of order 8.
// X25519(s, P) is unchanged by the extra component; DH(x, HiddenPublicKey(s)) = DH(s, X) for
// every key pair (x, X).
PublicKey HiddenPublicKey(const SecretKey& secret);

struct HiddenKeyPair {
  SecretKey secret;               // use with X25519 as any secret key
  PublicKey hidden_public;        // = ElligatorMap(representative) = HiddenPublicKey(secret)
  Representative representative;  // what goes on the wire
};

// Draws 33 bytes (secret ‖ tweak) per attempt until the hidden point has a representative
// (expected 2 attempts); the tweak's bit 0 picks the branch, bits 6 and 7 become bits 254
// and 255 of the representative.
HiddenKeyPair GenerateHiddenKeyPair(Rng& rng = SystemRng());

// Analysis helpers, used by tests and by the mailbox classifier.
// 1 if u^3 + A u^2 + u is a square (u read as 255 bits, bit 255 ignored): u is on the curve,
// not on its twist. True for every X25519 public key, for about half of all random strings.
bool IsOnCurve(std::span<const std::uint8_t, 32> u);
// The Edwards y-coordinate (u - 1)/(u + 1) of the birationally equivalent Ed25519 point, to
// compare with libsodium's Edwards functions (sign bit clear).
std::array<std::uint8_t, 32> EdwardsY(const PublicKey& u);

}  // namespace sotto::client
