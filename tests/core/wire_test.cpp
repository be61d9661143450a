// Wire messages: round trips, and strict rejection of anything malformed.
#include "sotto/core/wire.h"

#include <catch2/catch.hpp>

#include "sotto/core/random.h"

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

TEST_CASE("a padded MAIL reply and a zero-padded ACK round-trip; sizes are fixed", "[wire]") {
  auto rng = sotto::DeterministicRng::FromByte(7);
  const auto full_message = [&](std::uint64_t id) {
    w::MailEntry e{id,
                   1700000000000000 + static_cast<std::int64_t>(id),
                   false,
                   {},
                   Bytes(w::kMailPaddingPayloadSize)};
    rng.Fill(e.payload);
    return e;
  };
  const auto padding = [&] {
    w::MailEntry e{w::kPaddingMailId, 0, false, {}, Bytes(w::kMailPaddingPayloadSize)};
    rng.Fill(e.payload);
    return e;
  };
  constexpr std::size_t kN = 8;
  for (std::size_t real : {0u, 1u, 3u, 8u}) {
    w::MailMsg mail;
    for (std::size_t i = 0; i < kN; ++i)
      mail.items.push_back(i < real ? full_message(i + 1) : padding());
    const Bytes encoded = w::Encode(mail);
    CHECK(encoded.size() == w::PaddedMailMessageSize(kN));
    auto decoded = w::Decode(encoded);
    REQUIRE(decoded.ok());
    const auto& m = std::get<w::MailMsg>(decoded.value());
    REQUIRE(m.items.size() == kN);
    std::size_t real_seen = 0;
    for (std::size_t i = 0; i < kN; ++i) {
      CHECK(m.items[i].id == mail.items[i].id);
      CHECK(m.items[i].payload == mail.items[i].payload);
      CHECK(w::IsPadding(m.items[i]) == (i >= real));
      if (!w::IsPadding(m.items[i])) ++real_seen;
    }
    CHECK(real_seen == real);
  }
  CHECK(w::PaddedMailMessageSize(8) == 16651);
  CHECK(w::PaddedMailMessageSize(w::kMaxFetchItems) <= w::kMaxMailMessageSize);

  w::AckMsg ack;
  ack.mailbox.fill(4);
  ack.ids = {7, 9, 0, 0, 0, 0, 0, 0};
  CHECK(w::Encode(ack).size() == w::AckMessageSize(8));
  CHECK(std::get<w::AckMsg>(RoundTrip(ack)).ids == ack.ids);
  ack.ids.assign(w::kMaxFetchItems, 0);  // all padding, as many as a FETCH may ask for
  CHECK(std::get<w::AckMsg>(RoundTrip(ack)).ids == ack.ids);
  ack.ids.clear();  // an empty ACK is valid too
  CHECK(std::get<w::AckMsg>(RoundTrip(ack)).ids.empty());
  CHECK(std::get<w::AckedMsg>(RoundTrip(w::AckedMsg{0})).count == 0);
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
  // An ACK of zero ids with one byte too many or too few, and one over the item limit.
  Bytes zero_ack = w::Encode(w::AckMsg{{}, std::vector<std::uint64_t>(8, 0)});
  zero_ack.push_back(0);
  CHECK_FALSE(w::Decode(zero_ack).ok());
  zero_ack.pop_back();  // back to the right size, then one byte short
  zero_ack.pop_back();
  CHECK_FALSE(w::Decode(zero_ack).ok());
  CHECK_FALSE(
      w::Decode(w::Encode(w::AckMsg{{}, std::vector<std::uint64_t>(w::kMaxFetchItems + 1, 0)}))
          .ok());
  CHECK_FALSE(w::Decode(Bytes(34, w::kAck)).ok());           // no room for the count
  CHECK_FALSE(w::Decode(Bytes{w::kMail, 0, 1, 0, 0}).ok());  // truncated item
  CHECK_FALSE(w::Decode(Bytes{w::kError, 9}).ok());          // unknown error code
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
