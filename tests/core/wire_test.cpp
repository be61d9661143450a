// Wire messages: round trips, and strict rejection of anything malformed.
#include <catch2/catch.hpp>

#include "sotto/core/random.h"
#include "sotto/core/wire.h"

namespace w = sotto::wire;
using sotto::Bytes;

namespace {
w::Message RoundTrip(const w::Message& m) {
  auto decoded = w::Decode(w::Encode(m));
  REQUIRE(decoded.ok());
  return decoded.value();
}
}  // namespace

TEST_CASE("every wire message round-trips", "[wire]") {
  w::PacketMsg packet{42, Bytes(sotto::sphinx::kPacketSize, 0xAB)};
  auto p = std::get<w::PacketMsg>(RoundTrip(packet));
  CHECK(p.seq == 42);
  CHECK(p.packet == packet.packet);
  CHECK(std::get<w::PacketAckMsg>(RoundTrip(w::PacketAckMsg{7})).seq == 7);
  w::FetchMsg fetch;
  fetch.mailbox.fill(3);
  fetch.max_items = 10;
  auto f = std::get<w::FetchMsg>(RoundTrip(fetch));
  CHECK(f.mailbox == fetch.mailbox);
  CHECK(f.max_items == 10);
  w::AckMsg ack{fetch.mailbox, {1, 2, 0xFFFFFFFFFFull}};
  CHECK(std::get<w::AckMsg>(RoundTrip(ack)).ids == ack.ids);
  w::MailMsg mail;
  mail.items.push_back({5, 1234567, false, {}, Bytes{'h', 'i'}});
  w::MailEntry reply{6, -1, true, {}, Bytes(sotto::sphinx::kPayloadSize, 9)};
  reply.surb_id.fill(0xEE);
  mail.items.push_back(reply);
  auto m = std::get<w::MailMsg>(RoundTrip(mail));
  REQUIRE(m.items.size() == 2);
  CHECK(m.items[1].is_reply);
  CHECK(m.items[1].surb_id == reply.surb_id);
  CHECK(m.items[1].received_us == -1);
  CHECK(m.items[0].payload == Bytes{'h', 'i'});
  CHECK(std::get<w::GetConsensusMsg>(RoundTrip(w::GetConsensusMsg{99})).epoch == 99);
  CHECK(std::get<w::ConsensusMsg>(RoundTrip(w::ConsensusMsg{"{\"x\":1}"})).document == "{\"x\":1}");
  CHECK(std::holds_alternative<w::PostedMsg>(RoundTrip(w::PostedMsg{})));
  auto e = std::get<w::ErrorMsg>(RoundTrip(w::ErrorMsg{w::ErrorCode::kForbidden, "not yours"}));
  CHECK(e.code == w::ErrorCode::kForbidden);
  CHECK(e.message == "not yours");
}

TEST_CASE("malformed wire messages are rejected, never crash", "[wire][security]") {
  CHECK_FALSE(w::Decode({}).ok());
  Bytes packet = w::Encode(w::PacketMsg{1, Bytes(sotto::sphinx::kPacketSize)});
  Bytes shorter(packet.begin(), packet.end() - 1);
  CHECK_FALSE(w::Decode(shorter).ok());
  Bytes longer = packet;
  longer.push_back(0);
  CHECK_FALSE(w::Decode(longer).ok());
  CHECK_FALSE(w::Decode(Bytes{0x55}).ok());  // unknown type
  CHECK_FALSE(w::Decode(Bytes{w::kPacketAck, 1, 2}).ok());
  Bytes fetch_zero(35, 0);
  fetch_zero[0] = w::kFetch;
  CHECK_FALSE(w::Decode(fetch_zero).ok());  // max_items = 0
  Bytes ack(1 + 32 + 2, 0);
  ack[0] = w::kAck;
  ack[34] = 3;  // claims 3 ids, has none
  CHECK_FALSE(w::Decode(ack).ok());
  CHECK_FALSE(w::Decode(Bytes{w::kMail, 0, 1, 0, 0}).ok());  // truncated item
  CHECK_FALSE(w::Decode(Bytes{w::kError, 9}).ok());           // unknown error code
  // Fuzz: random bytes of random lengths with every type byte.
  auto rng = sotto::DeterministicRng::FromByte(5);
  for (int i = 0; i < 3000; ++i) {
    std::uint8_t len_byte[2];
    rng.Fill(len_byte);
    Bytes junk(static_cast<std::size_t>(len_byte[0]) * 12 + 1);
    rng.Fill(junk);
    junk[0] = static_cast<std::uint8_t>(i % 0x80);
    (void)w::Decode(junk);  // must simply not crash (ASan/UBSan run checks the rest)
  }
}
