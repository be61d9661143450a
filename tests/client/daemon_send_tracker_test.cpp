// The packets the client waits to see acknowledged (client_lib/src/send_tracker.h, leak 3 of
// issue 9): resent byte for byte, then given up — the same way for real and cover packets.
#include <catch2/catch.hpp>
#include <chrono>
#include <vector>

#include "send_tracker.h"

namespace sotto::client {
namespace {

using namespace std::chrono_literals;
using TimePoint = SendTracker::TimePoint;

SendTracker::Packet MakePacket(std::uint64_t seq, PacketKind kind, std::uint64_t epoch = 7) {
  SendTracker::Packet p;
  p.seq = seq;
  p.frame = Bytes(2481, static_cast<std::uint8_t>(seq));
  p.kind = kind;
  p.outbox_seq = kind == PacketKind::kReal ? 100 + seq : 0;
  p.epoch = epoch;
  return p;
}

// What happens to one packet that is never acknowledged, as (time offset, event) pairs.
std::vector<std::pair<std::chrono::milliseconds, std::string>> Life(PacketKind kind) {
  SendTracker t({});
  const TimePoint t0{};
  std::vector<std::pair<std::chrono::milliseconds, std::string>> out;
  REQUIRE_FALSE(t.Add(MakePacket(5, kind), t0));
  for (auto at = 0ms; at <= 10000ms; at += 100ms) {
    for (const auto& o : t.Expire(t0 + at, 7)) {
      out.emplace_back(at, o.kind == kind ? "given up" : "given up as another kind");
      if (kind == PacketKind::kReal) CHECK(o.outbox_seq == 105);
    }
    if (auto r = t.TakeResend(t0 + at)) {
      CHECK(r->seq == 5);
      CHECK(*r->frame == Bytes(2481, 5));  // the same bytes again
      out.emplace_back(at, "resent");
    }
  }
  CHECK(t.size() == 0);
  return out;
}

TEST_CASE(
    "send tracker: a packet without ack is resent twice, the same bytes, then given up; "
    "real and cover alike",
    "[client][send]") {
  const auto real = Life(PacketKind::kReal);
  const std::vector<std::pair<std::chrono::milliseconds, std::string>> want = {
      {2000ms, "resent"}, {4000ms, "resent"}, {6000ms, "given up"}};
  CHECK(real == want);
  CHECK(Life(PacketKind::kLoop) == want);
  CHECK(Life(PacketKind::kDrop) == want);
}

TEST_CASE("send tracker: acks", "[client][send]") {
  SendTracker t({});
  const TimePoint t0{};
  (void)t.Add(MakePacket(1, PacketKind::kReal), t0);
  (void)t.Add(MakePacket(2, PacketKind::kDrop), t0);
  CHECK_FALSE(t.Ack(3));  // unknown
  auto a = t.Ack(1);
  REQUIRE(a);
  CHECK(a->kind == PacketKind::kReal);
  CHECK(a->outbox_seq == 101);
  CHECK_FALSE(t.Ack(1));  // a second ack (of a resend) is nothing new
  CHECK(t.size() == 1);
  // An ack after a resend still counts; no more resends.
  REQUIRE(t.TakeResend(t0 + 2s));
  REQUIRE(t.Ack(2));
  CHECK_FALSE(t.TakeResend(t0 + 10s));
  CHECK(t.Expire(t0 + 10s, 7).empty());
}

TEST_CASE("send tracker: a packet of a past epoch is given up instead of resent",
          "[client][send]") {
  SendTracker t({});
  const TimePoint t0{};
  (void)t.Add(MakePacket(1, PacketKind::kLoop, 7), t0);
  (void)t.Add(MakePacket(2, PacketKind::kReal, 7), t0);
  CHECK(t.Expire(t0 + 1s, 8).empty());  // its ack may still come
  const auto gone = t.Expire(t0 + 2s, 8);
  CHECK(gone.size() == 2);
  CHECK_FALSE(t.TakeResend(t0 + 2s));
}

TEST_CASE("send tracker: bounded; the oldest is given up to make room; late acks",
          "[client][send]") {
  SendTracker::Limits limits;
  limits.max_pending = 4;
  SendTracker t(limits);
  const TimePoint t0{};
  for (std::uint64_t i = 1; i <= 4; ++i) {
    CHECK_FALSE(t.Add(MakePacket(i, i % 2 ? PacketKind::kReal : PacketKind::kDrop), t0));
  }
  auto evicted = t.Add(MakePacket(5, PacketKind::kLoop), t0);
  REQUIRE(evicted);
  CHECK(evicted->kind == PacketKind::kReal);
  CHECK(evicted->outbox_seq == 101);
  CHECK(t.size() == 4);
  // The given-up real packet's ack comes late: reported, once.
  CHECK_FALSE(t.Ack(1));
  CHECK(t.LateAck(1) == std::optional<std::uint64_t>(101));
  CHECK_FALSE(t.LateAck(1));
  // A resend that could not leave is not counted: it stays due, with its attempts.
  auto r = t.TakeResend(t0 + 2s);
  REQUIRE(r);
  const auto seq = r->seq;
  t.ResendNotSent(seq, t0 + 2s);
  auto again = t.TakeResend(t0 + 2s);
  REQUIRE(again);
  CHECK(again->seq == seq);
}

}  // namespace
}  // namespace sotto::client
