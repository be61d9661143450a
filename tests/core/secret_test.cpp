// Secret types: move-only, wiped, constant-time comparison, never printed; randomness sources.
#include "sotto/core/secret.h"

#include <fmt/format.h>

#include <catch2/catch.hpp>
#include <sstream>
#include <type_traits>

#include "sotto/core/keys.h"
#include "sotto/core/random.h"

using sotto::LockedSecret;
using sotto::Secret;

static_assert(!std::is_copy_constructible_v<Secret<32>>);
static_assert(!std::is_copy_assignable_v<Secret<32>>);
static_assert(std::is_nothrow_move_constructible_v<Secret<32>>);
static_assert(!std::is_copy_constructible_v<LockedSecret<32>>);
static_assert(!std::is_copy_assignable_v<LockedSecret<32>>);

namespace {
template <class T>
concept HasEquality = requires(const T& a, const T& b) {
  a == b;
};
}  // namespace
static_assert(!HasEquality<Secret<32>>, "secrets must only be compared with CtEqual");
static_assert(!HasEquality<LockedSecret<32>>, "secrets must only be compared with CtEqual");

TEST_CASE("moving a Secret wipes the source", "[core][secret]") {
  Secret<32> a;
  a.MutableBytes()[0] = 0xAA;
  a.MutableBytes()[31] = 0x55;
  Secret<32> b(std::move(a));
  CHECK(b.data()[0] == 0xAA);
  CHECK(b.data()[31] == 0x55);
  for (auto byte : a.Bytes()) CHECK(byte == 0);  // NOLINT(bugprone-use-after-move): the point
}

TEST_CASE("Wipe zeroes the bytes", "[core][secret]") {
  Secret<16> s;
  for (auto& byte : s.MutableBytes()) byte = 0xFF;
  s.Wipe();
  for (auto byte : s.Bytes()) CHECK(byte == 0);
}

TEST_CASE("secrets compare in constant time and clone explicitly", "[core][secret]") {
  Secret<32> a;
  a.MutableBytes()[5] = 7;
  Secret<32> b = a.Clone();
  CHECK(a.CtEqual(b));
  b.MutableBytes()[31] ^= 1;
  CHECK_FALSE(a.CtEqual(b));

  LockedSecret<32> la(a.Bytes());
  LockedSecret<32> lb = la.Clone();
  CHECK(la.CtEqual(lb));
  lb.MutableBytes()[0] ^= 1;
  CHECK_FALSE(la.CtEqual(lb));
}

TEST_CASE("secrets never print their bytes", "[core][secret]") {
  Secret<4> s;
  for (auto& byte : s.MutableBytes()) byte = 0xAB;
  std::ostringstream os;
  os << s;
  CHECK(os.str() == "<redacted>");
  CHECK(fmt::format("{}", s) == "<redacted>");
  LockedSecret<4> l(s.Bytes());
  std::ostringstream os2;
  os2 << l;
  CHECK(os2.str() == "<redacted>");
  CHECK(fmt::format("key={}", l) == "key=<redacted>");
}

TEST_CASE("DeterministicRng is reproducible and continues across calls", "[core][random]") {
  auto a = sotto::DeterministicRng::FromByte(9);
  auto b = sotto::DeterministicRng::FromByte(9);
  std::array<std::uint8_t, 100> whole{};
  b.Fill(whole);
  std::array<std::uint8_t, 100> parts{};
  a.Fill(std::span(parts).first(10));
  a.Fill(std::span(parts).subspan(10, 57));
  a.Fill(std::span(parts).subspan(67));
  CHECK(parts == whole);
  auto c = sotto::DeterministicRng::FromByte(10);
  std::array<std::uint8_t, 100> other{};
  c.Fill(other);
  CHECK(other != whole);
}

TEST_CASE("system randomness differs between calls", "[core][random]") {
  std::array<std::uint8_t, 32> x{}, y{};
  sotto::SystemRng().Fill(x);
  sotto::SystemRng().Fill(y);
  CHECK(x != y);
}

TEST_CASE("a key pair's public key matches its secret key", "[core][keys]") {
  auto kp = sotto::KeyPair::Generate();
  CHECK(sotto::DerivePublicKey(kp.secret_key) == kp.public_key);
  auto other = sotto::KeyPair::Generate();
  CHECK_FALSE(other.public_key == kp.public_key);
}
