// Status and Result<T>.
#include "sotto/core/status.h"

#include <catch2/catch.hpp>

#include "sotto/core/bytes.h"

using sotto::Result;
using sotto::Status;

TEST_CASE("Status carries a code and an actionable message", "[core][status]") {
  Status ok;
  CHECK(ok.ok());
  CHECK(ok.ToString() == "ok");
  Status bad = Status::InvalidArgument("path has 7 hops; at most 5 are supported");
  CHECK_FALSE(bad.ok());
  CHECK(bad.code() == Status::Code::kInvalidArgument);
  CHECK(bad.ToString() == "invalid argument: path has 7 hops; at most 5 are supported");
}

TEST_CASE("Result holds a value or a failure", "[core][status]") {
  Result<int> good = 42;
  REQUIRE(good.ok());
  CHECK(good.value() == 42);
  CHECK(good.status().ok());
  Result<int> bad = Status::NotFound("no such contact 'bob' (see 'sotto contact list')");
  CHECK_FALSE(bad.ok());
  CHECK(bad.status().code() == Status::Code::kNotFound);
}

TEST_CASE("hex round trip and rejection of bad hex", "[core][bytes]") {
  const sotto::Bytes data = {0x00, 0x01, 0xab, 0xff};
  CHECK(sotto::ToHex(data) == "0001abff");
  auto back = sotto::FromHex("0001ABff");
  REQUIRE(back.ok());
  CHECK(back.value() == data);
  CHECK_FALSE(sotto::FromHex("abc").ok());
  CHECK_FALSE(sotto::FromHex("zz").ok());
  CHECK_FALSE(sotto::FromHex("00 1").ok());
  CHECK_FALSE(sotto::FixedFromHex<3>("0001abff").ok());
  CHECK(sotto::FixedFromHex<4>("0001abff").ok());
  CHECK(sotto::FromHex("").value().empty());
  CHECK(sotto::ToHex({}).empty());
}
