// Lioness: round trip, and the wide-block property Sphinx needs against tagging attacks.
#include "sotto/core/lioness.h"

#include <bit>
#include <catch2/catch.hpp>
#include <vector>

#include "sotto/core/random.h"

using sotto::LionessKey;

namespace {

LionessKey KeyFrom(std::uint8_t seed) {
  auto rng = sotto::DeterministicRng::FromByte(seed);
  LionessKey key;
  rng.Fill(key.MutableBytes());
  return key;
}

std::size_t BitsDiffering(const std::vector<std::uint8_t>& a, const std::vector<std::uint8_t>& b) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    n += static_cast<std::size_t>(std::popcount(static_cast<unsigned>(a[i] ^ b[i])));
  return n;
}

}  // namespace

TEST_CASE("Lioness decrypt inverts encrypt for every block size", "[core][lioness]") {
  const auto key = KeyFrom(1);
  for (std::size_t size : {33u, 64u, 100u, 2048u, 4096u}) {
    std::vector<std::uint8_t> block(size);
    auto rng = sotto::DeterministicRng::FromByte(static_cast<std::uint8_t>(size));
    rng.Fill(block);
    const auto original = block;
    sotto::LionessEncrypt(key, block);
    CHECK(block != original);
    sotto::LionessDecrypt(key, block);
    CHECK(block == original);
  }
}

TEST_CASE("one flipped ciphertext bit garbles the whole plaintext", "[core][lioness]") {
  const auto key = KeyFrom(2);
  std::vector<std::uint8_t> plain(2048, 0);
  auto cipher = plain;
  sotto::LionessEncrypt(key, cipher);
  // Flip a bit in the left (32-byte) part, in the middle and at the very end.
  for (std::size_t byte : {0u, 31u, 32u, 1000u, 2047u}) {
    auto tampered = cipher;
    tampered[byte] ^= 0x01;
    sotto::LionessDecrypt(key, tampered);
    const std::size_t bits = BitsDiffering(tampered, plain);
    // A random 2048-byte block differs from a fixed one in 8192 ± ~45 bits; a 1-bit error in a
    // stream cipher would give exactly 1.
    CHECK(bits > 7800);
    CHECK(bits < 8600);
    // The first 16 bytes (where Sphinx puts its zero block) are garbled too.
    CHECK(std::vector<std::uint8_t>(tampered.begin(), tampered.begin() + 16) !=
          std::vector<std::uint8_t>(16, 0));
  }
}

TEST_CASE("Lioness under a different key decrypts to garbage", "[core][lioness]") {
  std::vector<std::uint8_t> plain(512, 0x61);
  auto block = plain;
  sotto::LionessEncrypt(KeyFrom(3), block);
  sotto::LionessDecrypt(KeyFrom(4), block);
  CHECK(BitsDiffering(block, plain) > 1800);
}
