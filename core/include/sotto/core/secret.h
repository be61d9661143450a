// Types that hold secret bytes (keys, shared secrets, per-packet intermediates).
//
// Guarantees, for both types below:
//   - fixed size, known at compile time;
//   - move-only: a copy must be asked for explicitly with Clone();
//   - wiped with sodium_memzero on destruction and when moved from;
//   - compared only in constant time (CtEqual); there is no operator==;
//   - never printable: operator<< and fmt print "<redacted>".
//
// Secret<N> keeps its bytes inline (cheap; for short-lived per-packet secrets on the packet path).
// LockedSecret<N> keeps them in sodium_malloc'ed memory (guard pages, mlock'ed so it is not
// swapped out; allocation is slow): use it for long-lived keys such as a node's private key.
// Neither type is safe for concurrent mutation; concurrent const access is fine.
#pragma once

#include <sodium.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <ostream>
#include <span>

#include "sotto/core/check.h"

namespace sotto {

template <std::size_t N>
class Secret {
 public:
  static constexpr std::size_t kSize = N;

  Secret() { bytes_.fill(0); }
  explicit Secret(std::span<const std::uint8_t, N> src) {
    for (std::size_t i = 0; i < N; ++i) bytes_[i] = src[i];
  }
  Secret(const Secret&) = delete;
  Secret& operator=(const Secret&) = delete;
  Secret(Secret&& other) noexcept : bytes_(other.bytes_) { other.Wipe(); }
  Secret& operator=(Secret&& other) noexcept {
    if (this != &other) {
      bytes_ = other.bytes_;
      other.Wipe();
    }
    return *this;
  }
  ~Secret() { Wipe(); }

  Secret Clone() const { return Secret(Bytes()); }
  void Wipe() { sodium_memzero(bytes_.data(), N); }

  std::span<const std::uint8_t, N> Bytes() const {
    return std::span<const std::uint8_t, N>(bytes_);
  }
  std::span<std::uint8_t, N> MutableBytes() { return std::span<std::uint8_t, N>(bytes_); }
  const std::uint8_t* data() const { return bytes_.data(); }
  std::uint8_t* data() { return bytes_.data(); }
  static constexpr std::size_t size() { return N; }

  bool CtEqual(const Secret& other) const { return sodium_memcmp(data(), other.data(), N) == 0; }

 private:
  std::array<std::uint8_t, N> bytes_;
};

template <std::size_t N>
class LockedSecret {
 public:
  static constexpr std::size_t kSize = N;

  LockedSecret() : bytes_(Allocate()) {}
  explicit LockedSecret(std::span<const std::uint8_t, N> src) : bytes_(Allocate()) {
    for (std::size_t i = 0; i < N; ++i) bytes_.get()[i] = src[i];
  }
  LockedSecret(const LockedSecret&) = delete;
  LockedSecret& operator=(const LockedSecret&) = delete;
  // A moved-from LockedSecret holds no memory; using it is a bug (checked).
  LockedSecret(LockedSecret&&) noexcept = default;
  LockedSecret& operator=(LockedSecret&&) noexcept = default;
  ~LockedSecret() = default;  // sodium_free wipes before releasing

  LockedSecret Clone() const { return LockedSecret(Bytes()); }

  std::span<const std::uint8_t, N> Bytes() const {
    SOTTO_CHECK(bytes_ != nullptr);
    return std::span<const std::uint8_t, N>(bytes_.get(), N);
  }
  std::span<std::uint8_t, N> MutableBytes() {
    SOTTO_CHECK(bytes_ != nullptr);
    return std::span<std::uint8_t, N>(bytes_.get(), N);
  }
  const std::uint8_t* data() const { return Bytes().data(); }
  std::uint8_t* data() { return MutableBytes().data(); }
  static constexpr std::size_t size() { return N; }

  bool CtEqual(const LockedSecret& other) const {
    return sodium_memcmp(data(), other.data(), N) == 0;
  }

 private:
  struct Free {
    void operator()(std::uint8_t* p) const { sodium_free(p); }
  };
  static std::unique_ptr<std::uint8_t, Free> Allocate() {
    auto* p = static_cast<std::uint8_t*>(sodium_malloc(N));
    if (p == nullptr) throw std::bad_alloc();
    sodium_memzero(p, N);
    return std::unique_ptr<std::uint8_t, Free>(p);
  }
  std::unique_ptr<std::uint8_t, Free> bytes_;
};

template <std::size_t N>
std::ostream& operator<<(std::ostream& os, const Secret<N>&) {
  return os << "<redacted>";
}
template <std::size_t N>
std::ostream& operator<<(std::ostream& os, const LockedSecret<N>&) {
  return os << "<redacted>";
}

// Wipes a buffer when the scope ends (the C++ form of Katzenpost's `defer ExplicitBzero`).
class ScopedWipe {
 public:
  explicit ScopedWipe(std::span<std::uint8_t> buf) : buf_(buf) {}
  ScopedWipe(const ScopedWipe&) = delete;
  ScopedWipe& operator=(const ScopedWipe&) = delete;
  ~ScopedWipe() { sodium_memzero(buf_.data(), buf_.size()); }

 private:
  std::span<std::uint8_t> buf_;
};

}  // namespace sotto

// fmt (and spdlog) print secrets as "<redacted>" too.
#if __has_include(<fmt/format.h>)
#include <fmt/format.h>
template <std::size_t N>
struct fmt::formatter<sotto::Secret<N>> : fmt::formatter<fmt::string_view> {
  template <class Ctx>
  auto format(const sotto::Secret<N>&, Ctx& ctx) const {
    return fmt::formatter<fmt::string_view>::format("<redacted>", ctx);
  }
};
template <std::size_t N>
struct fmt::formatter<sotto::LockedSecret<N>> : fmt::formatter<fmt::string_view> {
  template <class Ctx>
  auto format(const sotto::LockedSecret<N>&, Ctx& ctx) const {
    return fmt::formatter<fmt::string_view>::format("<redacted>", ctx);
  }
};
#endif
