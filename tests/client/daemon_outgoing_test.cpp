// The engine's outgoing queue (client_lib/src/outgoing_queue.h, client-spec §4, leak 3 of
// issue 9), with a real store and real ratchet sessions: a message the wire gave up on is
// sealed again — new bytes — and the recipient still sees one message; a message that may
// have left before a restart is sealed again too; receipts wait for their time or ride in the
// next text.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <memory>
#include <set>

#include "outgoing_queue.h"
#include "receipt_policy.h"
#include "session_book.h"
#include "sotto/client_lib/client_store.h"
#include "sotto/client_lib/peer_sessions.h"
#include "sotto/client_lib/state_key.h"
#include "sotto/core/random.h"

namespace sotto::client {
namespace {

namespace fs = std::filesystem;

class TempHome {
 public:
  TempHome() {
    std::string tmpl = "/tmp/sotto-outgoing-test-XXXXXX";
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    root_ = tmpl;
    REQUIRE(CreateStateKey(home(), std::nullopt).ok());
  }
  TempHome(const TempHome&) = delete;
  TempHome& operator=(const TempHome&) = delete;
  ~TempHome() {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
  fs::path home() const { return root_ / "home"; }
  std::unique_ptr<ClientStore> Open() const {
    auto key = OpenStateKey(home(), std::nullopt);
    REQUIRE(key.ok());
    auto store = ClientStore::Open(home(), std::move(key).value());
    REQUIRE(store.ok());
    return std::move(store).value();
  }

 private:
  fs::path root_;
};

struct Person {
  IdentityKeys id;
  PreKey prekey;
  ContactCode code;
};

Person MakePerson(Rng& rng) {
  Person p{IdentityKeys::Generate(rng), PreKey::Generate(rng), {}};
  p.code.identity_key = p.id.keys.public_key;
  p.code.prekey = p.prekey.keys.public_key;
  rng.Fill(p.code.provider);
  rng.Fill(p.code.mailbox);
  return p;
}

// Alice's side: her store (Bob is a contact), her sessions and her queue, as the engine has them.
struct Sender {
  std::unique_ptr<ClientStore> store;
  std::unique_ptr<SessionBook> sessions;
  std::unique_ptr<OutgoingQueue> queue;
  Sender(const TempHome& t, const Person& me) : store(t.Open()) {
    sessions = std::make_unique<SessionBook>(*store, me.id, me.prekey);
    sessions->Load();
    queue = std::make_unique<OutgoingQueue>(*store, [this](const OutboxEntry& e) -> Result<Bytes> {
      auto contact = store->FindContactByIdentity(e.peer);
      if (!contact) return Status::NotFound("the recipient is not a contact");
      return sessions->Seal(contact->code, e.body);
    });
    queue->Load();
  }
};

// Bob's side: what his client makes of a message.
struct Receiver {
  const Person& me;
  PeerSessions sessions;
  explicit Receiver(const Person& bob, const Person& alice)
      : me(bob), sessions(alice.id.keys.public_key) {}
  MessageBody Open(const Bytes& message) {
    auto body = sessions.TryOpen(message);
    if (!body.ok()) {
      auto header = X3dhHeader::Open(message, me.prekey);
      REQUIRE(header.ok());
      body = sessions.OpenNewSession(me.id, me.prekey, header.value(), message);
    }
    REQUIRE(body.ok());
    auto decoded = DecodeBody(body.value());
    REQUIRE(decoded.ok());
    return decoded.value();
  }
};

const auto kAll = [](const sphinx::NodeId&) { return true; };

HistoryEntry Entry(const Person& to, const MessageBody& body) {
  HistoryEntry e;
  e.id = body.id;
  e.peer = to.id.keys.public_key;
  e.direction = Direction::kOutgoing;
  e.status = DeliveryStatus::kQueued;
  e.text = body.text;
  e.sent_unix = body.sent_unix;
  e.stored_unix = body.sent_unix;
  return e;
}

MessageBody Text(const std::string& text, Rng& rng) {
  MessageBody b;
  b.type = BodyType::kText;
  rng.Fill(b.id);
  b.sent_unix = 1'700'000'000;
  b.text = text;
  return b;
}

TEST_CASE("outgoing: a message given up on is sealed again (new bytes); acked, it is done",
          "[client][outgoing]") {
  auto rng = DeterministicRng::FromByte(11);
  const Person alice = MakePerson(rng), bob = MakePerson(rng);
  TempHome t;
  Sender a(t, alice);
  REQUIRE(a.store->AddContact({"bob", bob.code, 1}).ok());
  Receiver b(bob, alice);
  const auto body = Text("hello bob", rng);
  std::int64_t now = 1'700'000'000'000;
  REQUIRE(a.queue->AddText(Entry(bob, body), bob.code, body, now).ok());
  CHECK(a.queue->size() == 1);

  auto first = a.queue->Offer(2, now, kAll);
  REQUIRE(first.size() == 1);
  CHECK(first[0].message.size() == kSphinxMessageSize);
  CHECK(first[0].provider == bob.code.provider);
  CHECK(first[0].mailbox == bob.code.mailbox);
  CHECK(a.queue->Offer(2, now, kAll).empty());  // held by the wire
  CHECK(b.Open(first[0].message).text == "hello bob");

  // The wire gave up (no ack after every attempt): after a back-off, fresh ciphertext.
  a.queue->GaveUp(first[0].outbox_seq, now);
  CHECK(a.queue->Offer(2, now + 999, kAll).empty());
  auto second = a.queue->Offer(2, now + 1000, kAll);
  REQUIRE(second.size() == 1);
  CHECK(second[0].outbox_seq == first[0].outbox_seq);
  CHECK(second[0].message != first[0].message);
  CHECK(a.queue->reseals() == 1);
  const auto again = b.Open(second[0].message);
  CHECK(again.id == body.id);  // the same message: the recipient drops it as a duplicate
  CHECK(again.text == "hello bob");

  // Acknowledged: removed; the history id comes back to be marked sent.
  CHECK(a.queue->Acked(second[0].outbox_seq) == std::optional<MessageId>(body.id));
  CHECK(a.queue->size() == 0);
  CHECK(a.store->OutgoingCount() == 0);
  CHECK_FALSE(a.queue->Acked(second[0].outbox_seq));  // a late second ack: nothing
}

TEST_CASE("outgoing: returned unsent, it goes again as it is; after a restart, sealed again",
          "[client][outgoing]") {
  auto rng = DeterministicRng::FromByte(12);
  const Person alice = MakePerson(rng), bob = MakePerson(rng);
  TempHome t;
  Bytes sent;
  std::uint64_t seq = 0;
  {
    Sender a(t, alice);
    REQUIRE(a.store->AddContact({"bob", bob.code, 1}).ok());
    const auto body = Text("one", rng);
    REQUIRE(a.queue->AddText(Entry(bob, body), bob.code, body, 0).ok());
    auto p = a.queue->Offer(1, 0, kAll);
    REQUIRE(p.size() == 1);
    a.queue->Returned(p[0].outbox_seq, 0);  // never left (no connection)
    auto q = a.queue->Offer(1, 1000, kAll);
    REQUIRE(q.size() == 1);
    CHECK(q[0].message == p[0].message);  // unused bytes: no need for new ones
    CHECK(a.queue->reseals() == 0);
    // Not routable now: not offered.
    a.queue->Returned(q[0].outbox_seq, 1000);
    CHECK(a.queue->Offer(1, 5000, [](const sphinx::NodeId&) { return false; }).empty());
    auto r = a.queue->Offer(1, 5000, kAll);
    REQUIRE(r.size() == 1);
    sent = r[0].message;  // handed to the wire: it may have left when the daemon stops
    seq = r[0].outbox_seq;
  }
  Sender a(t, alice);  // the daemon again
  CHECK(a.queue->size() == 1);
  auto p = a.queue->Offer(1, 6000, kAll);
  REQUIRE(p.size() == 1);
  CHECK(p[0].outbox_seq == seq);
  CHECK(p[0].message != sent);
  Receiver b(bob, alice);
  CHECK(b.Open(sent).text == "one");
  CHECK(b.Open(p[0].message).text == "one");
}

TEST_CASE("outgoing: receipts wait for their time, join, ride in the next text, or go when off",
          "[client][outgoing][receipts]") {
  auto rng = DeterministicRng::FromByte(13);
  const Person alice = MakePerson(rng), bob = MakePerson(rng);
  TempHome t;
  Sender a(t, alice);
  REQUIRE(a.store->AddContact({"bob", bob.code, 1}).ok());
  Receiver b(bob, alice);
  auto policy_rng = DeterministicRng::FromByte(14);
  ReceiptPolicy policy(Settings{ReceiptMode::kOn, 10}, policy_rng);
  const std::int64_t now = 1'700'000'000'000;
  MessageId m1{}, m2{}, m3{};
  rng.Fill(m1);
  rng.Fill(m2);
  rng.Fill(m3);

  REQUIRE(a.queue->AddReceipt(bob.code, m1, policy, now).ok());
  REQUIRE(a.queue->AddReceipt(bob.code, m2, policy, now + 10).ok());  // joins the first
  CHECK(a.queue->receipts_waiting() == 1);
  const auto due = a.queue->NextDue();
  CHECK(due >= now + 5000);
  CHECK(a.queue->Offer(2, due - 1, kAll).empty());
  auto r = a.queue->Offer(2, due, kAll);
  REQUIRE(r.size() == 1);
  const auto receipt = b.Open(r[0].message);
  CHECK(receipt.type == BodyType::kReceipt);
  CHECK(receipt.receipts == std::vector<MessageId>{m1, m2});
  CHECK(a.queue->Acked(r[0].outbox_seq) == std::nullopt);  // a receipt has no history entry
  CHECK(a.queue->receipts_waiting() == 0);

  // A receipt still waiting rides in the next text to the same person.
  REQUIRE(a.queue->AddReceipt(bob.code, m3, policy, now).ok());
  const auto body = Text("reply", rng);
  REQUIRE(a.queue->AddText(Entry(bob, body), bob.code, body, now + 100).ok());
  CHECK(a.queue->receipts_waiting() == 0);
  CHECK(a.queue->receipts_in_texts() == 1);
  auto p = a.queue->Offer(2, now + 100, kAll);
  REQUIRE(p.size() == 1);
  const auto text = b.Open(p[0].message);
  CHECK(text.text == "reply");
  CHECK(text.receipts == std::vector<MessageId>{m3});

  // Receipts off: what is waiting is deleted.
  REQUIRE(a.queue->AddReceipt(bob.code, m1, policy, now).ok());
  CHECK(a.queue->DropReceipts() == 1);
  CHECK(a.queue->receipts_waiting() == 0);
}

TEST_CASE("outgoing: a message to someone no longer a contact is dropped", "[client][outgoing]") {
  auto rng = DeterministicRng::FromByte(15);
  const Person alice = MakePerson(rng), bob = MakePerson(rng);
  TempHome t;
  Sender a(t, alice);
  REQUIRE(a.store->AddContact({"bob", bob.code, 1}).ok());
  const auto body = Text("bye", rng);
  REQUIRE(a.queue->AddText(Entry(bob, body), bob.code, body, 0).ok());
  auto p = a.queue->Offer(1, 0, kAll);
  REQUIRE(p.size() == 1);
  a.queue->GaveUp(p[0].outbox_seq, 0);
  REQUIRE(a.store->RemoveContact("bob").ok());
  CHECK(a.queue->Offer(1, 10'000'000, kAll).empty());
  CHECK(a.queue->size() == 0);
}

}  // namespace
}  // namespace sotto::client
