// The network, end to end, with real processes, real sockets and real RocksDB: delivery across
// the cascade, mailbox access control, replay protection across restarts, no loss on kill -9,
// dummies, hostile peers and frames, a forged directory, and epoch rotation under traffic.
#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "sotto/client_lib/provider_link.h"
#include "sotto/core/mailbox.h"
#include "sotto/core/wire.h"
#include "testnet.h"

using namespace std::chrono_literals;
namespace sx = sotto::sphinx;
using sotto::Bytes;
using sotto::client::ProviderLink;
using sotto::testing::Testnet;

using sotto::testing::Clients;

TEST_CASE("a packet crosses the cascade into the right mailbox, which only its owner may read",
          "[integration]") {
  Testnet net;
  Clients c(net.WaitForConsensus());
  REQUIRE(c.alice_link->SendPacket(c.Packet("hello through three mixes 👋"), 5000ms).ok());
  auto got = c.Receive(1);
  REQUIRE(got.size() == 1);
  CHECK(got[0] == "hello through three mixes 👋");
  // Another client (even with a valid CURVE key) is refused Bob's mailbox.
  auto eve = sotto::transport::CurveKeyPair::Generate();
  ProviderLink eve_link(c.ctx, eve, *c.pb);
  auto stolen = eve_link.Fetch(c.bob_mailbox, 8, 5000ms);
  REQUIRE_FALSE(stolen.ok());
  CHECK_THAT(stolen.status().message(), Catch::Contains("does not belong"));
  // Nothing is left in Alice's mailbox either.
  ProviderLink alice_at_b(c.ctx, c.alice, *c.pb);
  auto alice_mail = alice_at_b.Fetch(sotto::MailboxForLinkKey(c.alice.public_key), 8, 5000ms);
  REQUIRE(alice_mail.ok());
  CHECK(alice_mail->size() == 8);  // all padding
  CHECK(std::all_of(alice_mail->begin(), alice_mail->end(), sotto::wire::IsPadding));
}

TEST_CASE("a provider pads every MAIL reply to the items asked for; zero ids in an ACK are ignored",
          "[integration][security]") {
  namespace w = sotto::wire;
  Testnet net;
  Clients c(net.WaitForConsensus());
  // Bob's own raw link, so that the test sees the exact bytes the provider sent.
  auto sock = sotto::transport::ConnectClient(c.ctx, c.bob, c.pb->link_key, c.pb->address,
                                              static_cast<std::int64_t>(w::kMaxMailMessageSize));
  REQUIRE(sock.ok());
  const auto request = [&](const w::Message& m) {
    auto reply = sotto::transport::RequestReply(*sock, w::Encode(m), 5000ms, "provider-2");
    INFO(reply.status().ToString());
    REQUIRE(reply.ok());
    return reply.value();
  };
  constexpr std::uint16_t kN = 8;
  // Returns the encoded size of the reply to FETCH{N = 8}, and the ids of its real items.
  const auto fetch = [&](std::vector<std::uint64_t>& real_ids) {
    const Bytes raw = request(w::FetchMsg{c.bob_mailbox, kN});
    auto decoded = w::Decode(raw);
    REQUIRE(decoded.ok());
    const auto* mail = std::get_if<w::MailMsg>(&decoded.value());
    REQUIRE(mail != nullptr);
    REQUIRE(mail->items.size() == kN);
    real_ids.clear();
    for (std::size_t i = 0; i < mail->items.size(); ++i) {
      const auto& item = mail->items[i];
      if (!w::IsPadding(item)) {
        CHECK(real_ids.size() == i);                               // real items come first
        CHECK(item.payload.size() == w::kMailPaddingPayloadSize);  // full-size test messages
        real_ids.push_back(item.id);
        continue;
      }
      CHECK(item.received_us == 0);
      CHECK_FALSE(item.is_reply);
      CHECK(std::all_of(item.surb_id.begin(), item.surb_id.end(), [](auto b) { return b == 0; }));
      CHECK(item.payload.size() == w::kMailPaddingPayloadSize);
      CHECK(item.payload != Bytes(w::kMailPaddingPayloadSize, 0));  // random, not zeros
    }
    return raw.size();
  };
  // Full-size messages (sphinx::kMaxMessageSize bytes), as every `sotto` client sends.
  const auto full_size = [](int i) {
    std::string text = "message " + std::to_string(i) + " ";
    text.resize(sx::kMaxMessageSize, '.');
    return text;
  };
  const auto deliver = [&](int from, int to) {
    for (int i = from; i < to; ++i) {
      REQUIRE(c.alice_link->SendPacket(c.Packet(full_size(i)), 5000ms).ok());
    }
    REQUIRE(net.WaitForMetric("provider-2", "sotto_messages_delivered_total", to, 30s));
  };
  std::vector<std::uint64_t> ids;
  const std::size_t empty_size = fetch(ids);
  CHECK(ids.empty());
  CHECK(empty_size == w::PaddedMailMessageSize(kN));
  CHECK(empty_size == 16651);

  deliver(0, 1);
  CHECK(fetch(ids) == empty_size);
  CHECK(ids.size() == 1);

  deliver(1, 3);
  CHECK(fetch(ids) == empty_size);
  REQUIRE(ids.size() == 3);
  CHECK(ids[0] >= 1);
  CHECK(ids[0] < ids[1]);
  CHECK(ids[1] < ids[2]);

  // An ACK of padding ids only is valid, acknowledged with count 0, and deletes nothing.
  auto acked = w::Decode(request(w::AckMsg{c.bob_mailbox, std::vector<std::uint64_t>(kN, 0)}));
  REQUIRE(acked.ok());
  REQUIRE(std::holds_alternative<w::AckedMsg>(acked.value()));
  CHECK(std::get<w::AckedMsg>(acked.value()).count == 0);
  const auto before = ids;
  CHECK(fetch(ids) == empty_size);
  CHECK(ids == before);

  // Echoing every id of the reply (real ones and zeros) removes exactly the real ones.
  std::vector<std::uint64_t> echo = ids;
  echo.resize(kN, w::kPaddingMailId);
  acked = w::Decode(request(w::AckMsg{c.bob_mailbox, echo}));
  REQUIRE(acked.ok());
  REQUIRE(std::holds_alternative<w::AckedMsg>(acked.value()));
  CHECK(std::get<w::AckedMsg>(acked.value()).count == 3);
  CHECK(fetch(ids) == empty_size);
  CHECK(ids.empty());

  // The ownership check is unchanged: another key's FETCH and ACK get ERROR forbidden.
  auto eve = sotto::transport::CurveKeyPair::Generate();
  auto eve_sock = sotto::transport::ConnectClient(
      c.ctx, eve, c.pb->link_key, c.pb->address, static_cast<std::int64_t>(w::kMaxMailMessageSize));
  REQUIRE(eve_sock.ok());
  for (const w::Message& m :
       {w::Message(w::FetchMsg{c.bob_mailbox, kN}),
        w::Message(w::AckMsg{c.bob_mailbox, std::vector<std::uint64_t>(kN, 0)})}) {
    auto reply = sotto::transport::RequestReply(*eve_sock, w::Encode(m), 5000ms, "provider-2");
    REQUIRE(reply.ok());
    auto decoded = w::Decode(reply.value());
    REQUIRE(decoded.ok());
    const auto* error = std::get_if<w::ErrorMsg>(&decoded.value());
    REQUIRE(error != nullptr);
    CHECK(error->code == w::ErrorCode::kForbidden);
  }
}

TEST_CASE("batches are padded with dummies, which are dropped and counted at the end",
          "[integration]") {
  Testnet net;
  Clients c(net.WaitForConsensus());
  REQUIRE(c.alice_link->SendPacket(c.Packet("one lonely message"), 5000ms).ok());
  REQUIRE(c.Receive(1).size() == 1);
  // mix-1 released a batch of 1 real packet padded to min_batch = 4: 3 dummies, which travel the
  // rest of the cascade and are counted by a provider.
  CHECK(net.WaitForMetric("mix-1", "sotto_dummies_sent_total", 3));
  const auto dummies_at = [&] {
    return net.Metric("provider-1", "sotto_dummies_received_total") +
           net.Metric("provider-2", "sotto_dummies_received_total");
  };
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (dummies_at() < 3 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(100ms);
  CHECK(dummies_at() >= 3);
  // No dummy ever lands in a real mailbox.
  CHECK(c.Receive(1, 2s).empty());
}

TEST_CASE("a replayed packet is dropped, also after the node restarts", "[integration][security]") {
  Testnet net;
  Clients c(net.WaitForConsensus());
  const Bytes packet = c.Packet("only once");
  REQUIRE(c.alice_link->SendPacket(packet, 5000ms).ok());
  REQUIRE(c.Receive(1).size() == 1);
  REQUIRE(c.alice_link->SendPacket(packet, 5000ms).ok());  // acknowledged, but dropped
  CHECK(net.WaitForMetric("provider-1", "sotto_replays_total", 1));
  net.Stop("provider-1");
  net.Start("provider-1");
  REQUIRE(net.WaitForMetric("provider-1", "sotto_epoch", 0, 10s));
  ProviderLink again(c.ctx, c.alice, *c.pa);
  const auto deadline = std::chrono::steady_clock::now() + 15s;
  while (!again.SendPacket(packet, 2000ms).ok() && std::chrono::steady_clock::now() < deadline) {
  }
  CHECK(net.WaitForMetric("provider-1", "sotto_replays_total", 1));
  CHECK(c.Receive(1, 3s).empty());
}

TEST_CASE("kill -9 of a mix with packets in its pool loses none of them", "[integration]") {
  sotto::testing::TestnetOptions options;
  options.batch_size = 100;         // nothing leaves mix-2 until the timeout...
  options.batch_timeout_ms = 6000;  // ...which the kill comes before
  options.min_batch = 0;
  Testnet net(options);
  Clients c(net.WaitForConsensus());
  constexpr int kCount = 8;
  for (int i = 0; i < kCount; ++i) {
    REQUIRE(c.alice_link->SendPacket(c.Packet("survivor " + std::to_string(i)), 5000ms).ok());
  }
  // Wait until mix-2 has them pooled (received and acknowledged), then kill it hard.
  REQUIRE(net.WaitForMetric("mix-2", "sotto_packets_received_total", kCount, 30s));
  REQUIRE(net.WaitForMetric("mix-2", "sotto_pool_size", kCount, 5s));
  net.Kill9("mix-2");
  CHECK(c.Receive(kCount, 2s).empty());
  net.Start("mix-2");
  auto got = c.Receive(kCount, 40s);
  CHECK(got.size() == static_cast<std::size_t>(kCount));
}

TEST_CASE("hostile peers: unknown keys, malformed frames and a forged directory get nowhere",
          "[integration][security]") {
  Testnet net;
  auto consensus = net.WaitForConsensus();
  Clients c(consensus);
  // A stranger's key cannot even connect to a mix (only consensus nodes may).
  const auto* mix1 = consensus.FindNode(consensus.cascades[0][0]);
  auto stranger = sotto::transport::CurveKeyPair::Generate();
  auto sock = sotto::transport::ConnectClient(c.ctx, stranger, mix1->link_key, mix1->address, 4096);
  REQUIRE(sock.ok());
  CHECK(net.WaitForMetric("mix-1", "sotto_zap_rejected", 1, 10s));
  CHECK_FALSE(sock->send(zmq::str_buffer("x"), zmq::send_flags::dontwait).has_value());
  sock->close();
  // Malformed frames to a provider (clients may connect there) are dropped and counted.
  auto client =
      sotto::transport::ConnectClient(c.ctx, c.alice, c.pa->link_key, c.pa->address, 4096);
  REQUIRE(client.ok());
  for (const Bytes& junk : {Bytes{0x01, 0x02}, Bytes(100, 0xFF), Bytes{0x7F}, Bytes(2481, 0x01)}) {
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (!client->send(zmq::buffer(junk), zmq::send_flags::dontwait) &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(20ms);
    }
  }
  // A multipart message is drained whole: none of its frames is taken for a routing id.
  {
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (!client->send(zmq::str_buffer("junk-1"),
                         zmq::send_flags::sndmore | zmq::send_flags::dontwait) &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(20ms);
    }
    client->send(zmq::str_buffer("junk-2"), zmq::send_flags::sndmore);
    client->send(zmq::buffer(Bytes(sotto::wire::kPacketMessageSize, 0x01)), zmq::send_flags::none);
  }
  CHECK(net.WaitForMetric("provider-1", "sotto_frames_dropped_total", 4, 10s));
  CHECK(net.WaitForMetric("provider-1", "sotto_packets_dropped_total", 1, 10s));
  client->close();
  // The provider is still alive and serving.
  REQUIRE(c.alice_link->SendPacket(c.Packet("still works"), 5000ms).ok());
  CHECK(c.Receive(1).size() == 1);
  CHECK(net.Running("provider-1"));
  // A client that trusts another authority key rejects the real (for it: forged) consensus.
  auto wrong = net.authority();
  wrong.verify_key.bytes[0] ^= 1;
  auto keys = sotto::transport::CurveKeyPair::Generate();
  sotto::directory::DirectoryClient dir(c.ctx, keys, wrong);
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  auto forged = dir.FetchConsensus(0, now, 5000ms);
  REQUIRE_FALSE(forged.ok());
  CHECK_THAT(forged.status().message(), Catch::Contains("signature"));
}

TEST_CASE("epoch rotation during traffic loses no packet", "[integration][slow]") {
  sotto::testing::TestnetOptions options;
  options.epoch_length_s = 10;
  Testnet net(options);
  Clients c(net.WaitForConsensus());
  const std::uint64_t first_epoch = c.consensus.epoch;
  int sent = 0;
  // Send for ~16 s, i.e. across at least one epoch boundary, refreshing the consensus as a
  // client would when the epoch changes.
  const auto end = std::chrono::steady_clock::now() + 16s;
  std::uint64_t epoch = first_epoch;
  while (std::chrono::steady_clock::now() < end) {
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    if (net.authority().clock.EpochAt(now) != epoch) {
      c.consensus = net.WaitForConsensus();
      epoch = c.consensus.epoch;
      for (const auto* p : c.consensus.Providers()) {
        if (p->name == "provider-1") c.pa = p;
        if (p->name == "provider-2") c.pb = p;
      }
    }
    REQUIRE(c.alice_link->SendPacket(c.Packet("tick " + std::to_string(sent)), 5000ms).ok());
    ++sent;
    std::this_thread::sleep_for(400ms);
  }
  CHECK(epoch > first_epoch);
  auto got = c.Receive(static_cast<std::size_t>(sent), 40s);
  CHECK(got.size() == static_cast<std::size_t>(sent));
}

TEST_CASE("no key ever appears in a node's log or metrics", "[integration][security]") {
  Testnet net;
  Clients c(net.WaitForConsensus());
  REQUIRE(c.alice_link->SendPacket(c.Packet("quiet please"), 5000ms).ok());
  REQUIRE(c.Receive(1).size() == 1);
  // Every key file of every node (identity, link, routing keys) — as the hex it is stored in.
  std::vector<std::string> secrets;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(net.dir())) {
    if (entry.path().extension() != ".key") continue;
    std::ifstream in(entry.path());
    std::string hex;
    in >> hex;
    REQUIRE(hex.size() == 64);
    secrets.push_back(hex);
  }
  REQUIRE(secrets.size() >= 5 * 3);
  std::string everything;
  for (const char* n : {"directory", "mix-1", "mix-2", "mix-3", "provider-1", "provider-2"}) {
    everything += net.Log(n);
  }
  for (const char* n : {"mix-1", "mix-2", "mix-3", "provider-1", "provider-2"}) {
    std::ifstream in(net.dir() / n / "metrics.prom");
    everything += std::string(std::istreambuf_iterator<char>(in), {});
  }
  for (const auto& s : secrets) {
    CHECK(everything.find(s) == std::string::npos);
    CHECK(everything.find(s.substr(0, 16)) == std::string::npos);
  }
  CHECK(everything.find("quiet please") == std::string::npos);
}

TEST_CASE("mail waiting at a provider survives the provider's restart", "[integration]") {
  Testnet net;
  Clients c(net.WaitForConsensus());
  REQUIRE(c.alice_link->SendPacket(c.Packet("wait for me"), 5000ms).ok());
  REQUIRE(net.WaitForMetric("provider-2", "sotto_messages_delivered_total", 1, 30s));
  net.Stop("provider-2");
  net.Start("provider-2");
  auto got = c.Receive(1, 30s);
  REQUIRE(got.size() == 1);
  CHECK(got[0] == "wait for me");
}
