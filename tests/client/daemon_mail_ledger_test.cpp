// Mailbox item ids between fetch, storage and ACK (client_lib/src/mail_ledger.h, client-spec
// §3.2): every item processed once, acknowledged only once stored, every ACK 8 ids.
#include <catch2/catch.hpp>
#include <chrono>
#include <vector>

#include "mail_ledger.h"

namespace sotto::client {
namespace {

using namespace std::chrono_literals;
using Ids = std::vector<std::uint64_t>;
using Positions = std::vector<std::size_t>;

TEST_CASE("mail ledger: items are processed once and acknowledged only once stored",
          "[client][mail]") {
  MailLedger l;
  const MailLedger::TimePoint t0{};
  CHECK(l.OnMail({0, 0, 0, 0, 0, 0, 0, 0}, t0).empty());  // padding only
  CHECK(l.NextAck(8) == Ids(8, 0));                       // an ACK of 8 zeros
  CHECK(l.OnMail({11, 12, 13, 0, 0, 0, 0, 0}, t0) == Positions{0, 1, 2});
  // Fetched again before they are stored: skipped, no second processing.
  CHECK(l.OnMail({11, 12, 13, 14, 0, 0, 0, 0}, t0) == Positions{3});
  CHECK(l.NextAck(8) == Ids(8, 0));  // nothing stored yet: nothing acknowledged
  l.Stored(12);
  l.Stored(11);
  l.Retry(13);  // could not be stored: it will come again
  CHECK(l.NextAck(8) == Ids{12, 11, 0, 0, 0, 0, 0, 0});
  CHECK(l.OnMail({13, 14, 0, 0, 0, 0, 0, 0}, t0) == Positions{0});  // 13 again, 14 still busy
  l.Stored(13);
  l.Stored(14);
  l.Stored(99);  // never handed out: ignored
  CHECK(l.NextAck(1) == Ids{13});
  CHECK(l.NextAck(8) == Ids{14, 0, 0, 0, 0, 0, 0, 0});
  // Our ACK of 11 was lost: the provider sends 11 again; it is acknowledged, not processed.
  CHECK(l.OnMail({11, 0, 0, 0, 0, 0, 0, 0}, t0).empty());
  CHECK(l.NextAck(8) == Ids{11, 0, 0, 0, 0, 0, 0, 0});
}

TEST_CASE("mail ledger: an ACK that did not leave; processing that never reports back",
          "[client][mail]") {
  MailLedger l(4, std::chrono::seconds(60));
  const MailLedger::TimePoint t0{};
  CHECK(l.OnMail({1, 2, 3}, t0).size() == 3);
  l.Stored(1);
  l.Stored(2);
  auto ids = l.NextAck(8);
  l.AckNotSent(ids);
  CHECK(l.NextAck(8) == Ids{1, 2, 0, 0, 0, 0, 0, 0});
  l.Expire(t0 + 30s);
  CHECK(l.OnMail({3}, t0 + 30s).empty());
  l.Expire(t0 + 61s);  // 3 never came back from the engine: it is processed again
  CHECK(l.OnMail({3}, t0 + 61s) == Positions{0});
  // At most 4 acknowledged ids are remembered.
  for (std::uint64_t id = 10; id < 20; ++id) {
    CHECK(l.OnMail({id}, t0).size() == 1);
    l.Stored(id);
    (void)l.NextAck(8);
  }
  CHECK(l.OnMail({10}, t0).size() == 1);  // forgotten: treated as new (the engine dedupes)
  CHECK(l.OnMail({19}, t0).empty());      // remembered
}

}  // namespace
}  // namespace sotto::client
