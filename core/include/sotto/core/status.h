// Status and Result<T>: how fallible operations report failure without exceptions.
//
// Modelled on LevelDB's Status: success is cheap, failures carry a code a program can branch on
// and a message a human can act on ("what went wrong, and what to do"). Exceptions thrown by
// third-party libraries are caught at the adapter that calls them and turned into a Status.
// Both types are plain values; they are not thread-safe to mutate concurrently.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "sotto/core/check.h"

namespace sotto {

class [[nodiscard]] Status {
 public:
  enum class Code : std::uint8_t {
    kOk = 0,
    kInvalidArgument,  // the caller passed something unusable
    kCorruption,       // stored or received bytes failed a check
    kNotFound,
    kIoError,
    kCryptoError,  // a cryptographic operation refused its input
    kUnavailable,  // a peer or service could not be reached
    kInternal,
  };

  Status() = default;
  static Status Ok() { return {}; }
  static Status InvalidArgument(std::string msg) {
    return {Code::kInvalidArgument, std::move(msg)};
  }
  static Status Corruption(std::string msg) { return {Code::kCorruption, std::move(msg)}; }
  static Status NotFound(std::string msg) { return {Code::kNotFound, std::move(msg)}; }
  static Status IoError(std::string msg) { return {Code::kIoError, std::move(msg)}; }
  static Status CryptoError(std::string msg) { return {Code::kCryptoError, std::move(msg)}; }
  static Status Unavailable(std::string msg) { return {Code::kUnavailable, std::move(msg)}; }
  static Status Internal(std::string msg) { return {Code::kInternal, std::move(msg)}; }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  // "invalid argument: path has 7 hops; at most 5 are supported"
  std::string ToString() const;

 private:
  Status(Code code, std::string msg) : code_(code), message_(std::move(msg)) {}
  Code code_ = Code::kOk;
  std::string message_;
};

std::string_view CodeName(Status::Code code);

// Either a value or a failed Status. Accessing the value of a failed Result is a bug (checked).
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}        // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {  // NOLINT: implicit by design
    SOTTO_CHECK(!std::get<Status>(v_).ok());
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOkStatus;
    return ok() ? kOkStatus : std::get<Status>(v_);
  }
  const T& value() const& {
    SOTTO_CHECK(ok());
    return std::get<T>(v_);
  }
  T& value() & {
    SOTTO_CHECK(ok());
    return std::get<T>(v_);
  }
  T&& value() && {
    SOTTO_CHECK(ok());
    return std::get<T>(std::move(v_));
  }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace sotto
