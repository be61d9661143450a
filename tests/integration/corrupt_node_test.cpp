// sotto-corrupt-node, the recording node of the adversary harness (adversary/README.md), in a
// real testnet: with no misbehaviour it is an honest node whose recording is complete and
// consistent across hops; each misbehaviour flag does what it says, seen from the honest
// neighbours (their metrics) and from the recordings; bad flags get one-line errors.
#include <sys/wait.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <deque>
#include <map>
#include <set>
#include <thread>

#include "sotto/core/mailbox.h"
#include "testnet.h"

using namespace std::chrono_literals;
using nlohmann::json;
using sotto::testing::Clients;
using sotto::testing::Events;
using sotto::testing::Settled;
using sotto::testing::Testnet;
using sotto::testing::TestnetOptions;
using sotto::testing::WaitForEvents;

namespace {

// Whether every link id the node sent on was acknowledged.
bool AllAcknowledged(const std::vector<json>& recording) {
  std::set<std::string> sent, acked;
  for (const auto& e : recording) {
    if (e.at("ev") == "out") sent.insert(e.at("link_id").get<std::string>());
    if (e.at("ev") == "ack_in") acked.insert(e.at("link_id").get<std::string>());
  }
  return std::includes(acked.begin(), acked.end(), sent.begin(), sent.end());
}

bool IsIn(const json& e, const std::string& verdict) {
  return e.at("ev") == "in" && e.at("verdict") == verdict;
}

std::string ClientName(const sotto::transport::CurveKeyPair& key) {
  return "client:" + sotto::ToHex(sotto::MailboxForLinkKey(key.public_key)).substr(0, 16);
}

void SendAll(Clients& c, int count, const std::string& prefix) {
  for (int i = 0; i < count; ++i) {
    REQUIRE(c.alice_link->SendPacket(c.Packet(prefix + std::to_string(i)), 5000ms).ok());
  }
}

// Runs a command, returns its exit status and its output (stdout and stderr).
std::pair<int, std::string> Run(const std::string& command) {
  FILE* p = popen((command + " 2>&1").c_str(), "r");
  REQUIRE(p != nullptr);
  std::string out;
  char buf[512];
  while (fgets(buf, sizeof buf, p)) out += buf;
  const int status = pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

const std::vector<std::string> kHops = {"provider-1", "mix-1", "mix-2", "mix-3", "provider-2"};

}  // namespace

TEST_CASE("a recording node is an honest node whose recordings chain across the hops",
          "[integration][adversary]") {
  TestnetOptions options;
  for (const auto& n : kHops) options.corrupt[n] = {"--seed", "7"};
  Testnet net(options);
  Clients c(net.WaitForConsensus());
  constexpr int kCount = 6;
  SendAll(c, kCount, "chained ");
  REQUIRE(c.Receive(kCount).size() == kCount);

  // Every node: a start event naming it, then for every processed packet an immediate ack.
  std::map<std::string, std::vector<json>> rec;
  for (const auto& n : kHops) {
    // Wait (bounded) until every packet this node sent on is acknowledged in its recording.
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    do {
      rec[n] = Settled(net, n);
    } while (!AllAcknowledged(rec[n]) && std::chrono::steady_clock::now() < deadline);
    INFO(n);
    REQUIRE(!rec[n].empty());
    const json& start = rec[n].front();
    CHECK(start.at("ev") == "start");
    CHECK(start.at("node") == n);
    CHECK(start.at("role") == (n.rfind("provider", 0) == 0 ? "provider" : "mix"));
    CHECK(start.at("identity").get<std::string>().size() == 64);
    CHECK(start.at("seed") == "7");
    std::multiset<std::pair<std::string, std::string>> processed, acked;
    for (const auto& e : rec[n]) {
      CHECK(e.at("t").is_number_integer());
      if (e.at("ev") == "in") {
        CHECK(e.at("link_id").get<std::string>().size() == 16);
        processed.insert({e.at("from").get<std::string>(), e.at("link_id").get<std::string>()});
      }
      if (e.at("ev") == "ack_out") {
        CHECK(e.at("action") == "sent");
        acked.insert({e.at("to").get<std::string>(), e.at("link_id").get<std::string>()});
      }
    }
    CHECK(processed == acked);
    // Each released batch went out whole: one first send per packet of the batch.
    std::size_t released = 0, first_sends = 0;
    for (const auto& e : Events(rec[n], "release"))
      released += e.at("real").get<std::size_t>() + e.at("dummies").get<std::size_t>();
    for (const auto& e : Events(rec[n], "out")) first_sends += e.at("resend") ? 0 : 1;
    CHECK(first_sends == released);
  }

  // Follow each message from Alice's provider to Bob's mailbox, hop by hop, by link id.
  const auto find = [](const std::vector<json>& events, auto pred) -> const json* {
    for (const auto& e : events) {
      if (pred(e)) return &e;
    }
    return nullptr;
  };
  std::set<std::uint64_t> delivered_items;
  const std::string alice = ClientName(c.alice);
  for (const auto& first : rec["provider-1"]) {
    if (!IsIn(first, "forward") || first.at("from") != alice) continue;
    const json* in = &first;
    for (std::size_t hop = 0; hop + 1 < kHops.size(); ++hop) {
      const std::string& here = kHops[hop];
      const std::string& next = kHops[hop + 1];
      INFO(here << " pool " << in->dump());
      REQUIRE(in->at("verdict") == "forward");
      CHECK(in->at("next") == next);
      const json* out = find(rec[here], [&](const json& e) {
        return e.at("ev") == "out" && e.at("pool") == in->at("pool") && !e.at("resend");
      });
      REQUIRE(out != nullptr);
      CHECK(out->at("to") == next);
      CHECK(out->at("dummy") == false);
      CHECK(find(rec[here], [&](const json& e) {
              return e.at("ev") == "ack_in" && e.at("link_id") == out->at("link_id") &&
                     e.at("from") == next;
            }) != nullptr);
      in = find(rec[next], [&](const json& e) {
        return e.at("ev") == "in" && e.at("from") == here && e.at("link_id") == out->at("link_id");
      });
      REQUIRE(in != nullptr);
    }
    REQUIRE(in->at("verdict") == "deliver");
    CHECK(in->at("mailbox") == sotto::ToHex(c.bob_mailbox));
    delivered_items.insert(in->at("item").get<std::uint64_t>());
  }
  CHECK(delivered_items.size() == kCount);

  // What provider-2 holds, and what Bob fetched and acknowledged.
  std::set<std::uint64_t> stored, fetched, acknowledged;
  for (const auto& e : Events(rec["provider-2"], "mail_stored")) {
    CHECK(e.at("mailbox") == sotto::ToHex(c.bob_mailbox));
    CHECK(e.at("payload").get<std::string>().rfind(
              sotto::ToHex(sotto::ByteSpan(reinterpret_cast<const std::uint8_t*>("chained "), 8)),
              0) == 0);
    stored.insert(e.at("item").get<std::uint64_t>());
  }
  for (const auto& e : Events(rec["provider-2"], "fetch")) {
    for (const auto& id : e.at("items")) fetched.insert(id.get<std::uint64_t>());
  }
  for (const auto& e : Events(rec["provider-2"], "mail_ack")) {
    for (const auto& id : e.at("ids")) acknowledged.insert(id.get<std::uint64_t>());
  }
  CHECK(stored == delivered_items);
  CHECK(fetched == delivered_items);
  CHECK(acknowledged == delivered_items);

  // A clean stop ends the recording.
  net.Stop("mix-2");
  CHECK(net.Recording("mix-2").back().at("ev") == "stop");
}

TEST_CASE("corrupt node --withhold-acks: the previous hop resends, and the resends stay unacknowledged",
          "[integration][adversary]") {
  TestnetOptions options;
  options.corrupt["mix-1"] = {};
  options.corrupt["mix-2"] = {"--withhold-acks", "1"};
  Testnet net(options);
  Clients c(net.WaitForConsensus());
  constexpr int kCount = 3;
  SendAll(c, kCount, "withheld ");
  // Withholding acks does not stop forwarding: the messages arrive.
  CHECK(c.Receive(kCount).size() == kCount);
  REQUIRE(net.WaitForMetric("mix-1", "sotto_packets_resent_total", 2 * kCount, 20s));
  CHECK(net.Metric("mix-1", "sotto_packets_acknowledged_total") == 0);

  const auto mix2 =
      WaitForEvents(net, "mix-2", kCount, [](const json& e) { return IsIn(e, "replay"); });
  std::set<std::string> forwarded, replayed;
  for (const auto& e : Events(mix2, "in")) {
    if (e.at("verdict") == "forward") forwarded.insert(e.at("link_id"));
    if (e.at("verdict") == "replay") replayed.insert(e.at("link_id"));
  }
  CHECK(forwarded.size() >= kCount);
  CHECK(!replayed.empty());
  for (const auto& id : replayed) CHECK(forwarded.count(id) == 1);  // resends of what it had
  for (const auto& e : Events(mix2, "ack_out")) CHECK(e.at("action") == "withheld");
  // mix-1 resent on the same link ids.
  std::set<std::string> resent;
  for (const auto& e : Events(Settled(net, "mix-1"), "out")) {
    if (e.at("resend")) resent.insert(e.at("link_id"));
  }
  for (const auto& id : replayed) CHECK(resent.count(id) == 1);
}

TEST_CASE("corrupt node --withhold-from: a provider withholds its clients' acks only, or its nodes' only",
          "[integration][adversary]") {
  // Bob's provider: its packets come from mix-3 (deliveries), none from clients. Withholding
  // from clients only leaves mix-3's acknowledged; from nodes only, mix-3 resends.
  for (const std::string from : {"clients", "nodes"}) {
    TestnetOptions options;
    options.corrupt["provider-2"] = {"--withhold-acks", "1", "--withhold-from", from};
    Testnet net(options);
    Clients c(net.WaitForConsensus());
    SendAll(c, 2, "withhold-from ");
    CHECK(c.Receive(2).size() == 2);
    const auto rec = Settled(net, "provider-2");
    REQUIRE(!Events(rec, "ack_out").empty());
    for (const auto& e : Events(rec, "ack_out")) {
      CHECK(e.at("action") == (from == "clients" ? "sent" : "withheld"));
    }
    if (from == "nodes") {
      CHECK(net.WaitForMetric("mix-3", "sotto_packets_resent_total", 2, 20s));
    }
  }
}

TEST_CASE("corrupt node --withhold-acks-window: acks are withheld in the window only",
          "[integration][adversary]") {
  Testnet net;
  Clients c(net.WaitForConsensus());
  // The window starts when mix-2 does: restart it as a recording node just before sending.
  net.Stop("mix-2");
  net.SetCorrupt("mix-2", std::vector<std::string>{"--withhold-acks-window", "0:8"});
  net.Start("mix-2");
  SendAll(c, 2, "window ");
  CHECK(c.Receive(2).size() == 2);
  // Resends during the window are withheld; the first one after it is acknowledged, and mix-1's
  // pool drains.
  REQUIRE(net.WaitForMetric("mix-1", "sotto_packets_acknowledged_total", 2, 30s));
  CHECK(net.Metric("mix-1", "sotto_packets_resent_total") >= 2);
  const auto mix2 = Settled(net, "mix-2");
  std::map<std::string, std::vector<std::string>> actions;  // link id → ack actions, in order
  for (const auto& e : Events(mix2, "ack_out")) {
    if (e.at("to") == "mix-1") actions[e.at("link_id")].push_back(e.at("action"));
  }
  int withheld_then_sent = 0;
  for (const auto& [id, a] : actions) {
    if (a.size() >= 2 && a.front() == "withheld" && a.back() == "sent") ++withheld_then_sent;
  }
  CHECK(withheld_then_sent >= 2);
}

TEST_CASE("corrupt node --flip-bit in the header: the next hop drops the packet as bad_mac",
          "[integration][adversary]") {
  TestnetOptions options;
  options.corrupt["mix-2"] = {"--flip-bit", "1", "--flip-bit-in", "header"};
  Testnet net(options);
  Clients c(net.WaitForConsensus());
  SendAll(c, 2, "flipped ");
  CHECK(net.WaitForMetric("mix-3", "sotto_packets_dropped_total{reason=\"bad_mac\"}", 2, 20s));
  CHECK(c.Receive(2, 4s).empty());
  int flipped = 0;
  for (const auto& e : Events(Settled(net, "mix-2"), "out")) flipped += e.at("action") == "flipped";
  CHECK(flipped >= 2);
}

TEST_CASE("corrupt node --flip-bit in the payload: the final hop drops the packet as payload_corrupt",
          "[integration][adversary]") {
  TestnetOptions options;
  options.corrupt["mix-2"] = {"--flip-bit", "1"};
  Testnet net(options);
  Clients c(net.WaitForConsensus());
  SendAll(c, 2, "tagged ");
  CHECK(net.WaitForMetric("provider-2", "sotto_packets_dropped_total{reason=\"payload_corrupt\"}",
                          2, 20s));
  CHECK(net.Metric("mix-3", "sotto_packets_dropped_total") == 0);  // the header MAC still holds
  CHECK(c.Receive(2, 4s).empty());
}

TEST_CASE("corrupt node --drop: packets are acknowledged, then never sent on", "[integration][adversary]") {
  TestnetOptions options;
  options.corrupt["mix-2"] = {"--drop", "1"};
  Testnet net(options);
  Clients c(net.WaitForConsensus());
  constexpr int kCount = 3;
  SendAll(c, kCount, "dropped ");
  REQUIRE(net.WaitForMetric("mix-1", "sotto_packets_acknowledged_total", kCount, 20s));
  CHECK(c.Receive(kCount, 4s).empty());
  CHECK(net.Metric("mix-1", "sotto_packets_resent_total") == 0);
  int dropped = 0;
  for (const auto& e : Events(Settled(net, "mix-2"), "in")) {
    if (e.at("action") == "dropped") {
      ++dropped;
      CHECK(e.at("pool").is_null());
    }
  }
  CHECK(dropped >= kCount);
}

TEST_CASE("corrupt node --replay: every packet sent on is sent again, and the next hop drops the copy",
          "[integration][adversary]") {
  TestnetOptions options;
  options.corrupt["mix-2"] = {"--replay", "1", "--replay-after-ms", "300"};
  Testnet net(options);
  Clients c(net.WaitForConsensus());
  SendAll(c, 2, "twice ");
  auto got = c.Receive(2);
  CHECK(got.size() == 2);
  CHECK(net.WaitForMetric("mix-3", "sotto_replays_total", 2, 20s));
  CHECK(c.Receive(1, 2s).empty());  // each message arrived once
  int replayed = 0;
  for (const auto& e : Events(Settled(net, "mix-2"), "out"))
    replayed += e.at("action") == "replayed";
  CHECK(replayed >= 2);
}

TEST_CASE("corrupt node --delay-acks-ms: every ack is sent, late", "[integration][adversary]") {
  TestnetOptions options;
  options.corrupt["mix-2"] = {"--delay-acks-ms", "300"};
  Testnet net(options);
  Clients c(net.WaitForConsensus());
  SendAll(c, 2, "late ");
  CHECK(c.Receive(2).size() == 2);
  REQUIRE(net.WaitForMetric("mix-1", "sotto_packets_acknowledged_total", 2, 20s));
  const auto mix2 = Settled(net, "mix-2");
  // (peer, link id) → arrival times not yet matched by an ack, oldest first.
  std::map<std::pair<std::string, std::string>, std::deque<std::int64_t>> arrived;
  int delayed = 0;
  for (const auto& e : mix2) {
    if (e.at("ev") == "in") {
      arrived[{e.at("from").get<std::string>(), e.at("link_id").get<std::string>()}].push_back(
          e.at("t"));
    }
    if (e.at("ev") != "ack_out") continue;
    CHECK(e.at("action") == "delayed");
    auto& waiting = arrived[{e.at("to").get<std::string>(), e.at("link_id").get<std::string>()}];
    REQUIRE(!waiting.empty());
    CHECK(e.at("t").get<std::int64_t>() - waiting.front() >= 300'000);  // never early
    waiting.pop_front();
    ++delayed;
  }
  CHECK(delayed >= 2);
}

TEST_CASE("corrupt node --hold-except-client: a provider holds everyone's packets but the target's",
          "[integration][adversary]") {
  Testnet net;
  Clients c(net.WaitForConsensus());
  const std::string alice = ClientName(c.alice);
  net.Stop("provider-1");
  net.SetCorrupt("provider-1", std::vector<std::string>{"--hold-except-client", alice.substr(7, 8),
                                                        "--hold-release-s", "4"});
  net.Start("provider-1");
  // Carol, another client of provider-1, writes to Bob too.
  auto carol = sotto::transport::CurveKeyPair::Generate();
  sotto::client::ProviderLink carol_link(c.ctx, carol, *c.pa);
  const auto deadline = std::chrono::steady_clock::now() + 15s;
  while (!carol_link.SendPacket(c.Packet("from carol"), 2000ms).ok() &&
         std::chrono::steady_clock::now() < deadline) {
  }
  REQUIRE(c.alice_link->SendPacket(c.Packet("from alice"), 5000ms).ok());
  CHECK(c.Receive(2).size() == 2);

  const auto rec = Settled(net, "provider-1");
  std::optional<std::uint64_t> carol_pool, alice_pool;
  for (const auto& e : Events(rec, "in")) {
    if (e.at("verdict") != "forward") continue;
    if (e.at("from") == ClientName(carol)) {
      CHECK(e.at("action") == "held");
      carol_pool = e.at("pool").get<std::uint64_t>();
    }
    if (e.at("from") == alice) {
      CHECK(e.at("action").is_null());
      alice_pool = e.at("pool").get<std::uint64_t>();
    }
  }
  REQUIRE(carol_pool);
  REQUIRE(alice_pool);
  // Carol's packet leaves only after a hold release that names it.
  bool released = false, sent_after_release = false;
  for (const auto& e : rec) {
    if (e.at("ev") == "hold_release") {
      for (const auto& p : e.at("pool")) released = released || p == *carol_pool;
    }
    if (e.at("ev") == "out" && e.at("pool") == *carol_pool) {
      CHECK(released);
      sent_after_release = released;
    }
  }
  CHECK(sent_after_release);
}

TEST_CASE("sotto-corrupt-node: --help lists its flags; bad flags get a one-line error",
          "[adversary]") {
  const std::string bin = std::string(SOTTO_BIN_DIR) + "/adversary/sotto-corrupt-node";
  auto [help_status, help] = Run(bin + " --help");
  CHECK(help_status == 0);
  for (const char* flag : {"--record", "--seed", "--withhold-acks ", "--withhold-acks-window",
                           "--delay-acks-ms", "--drop", "--flip-bit ", "--flip-bit-in", "--replay ",
                           "--replay-after-ms", "--hold-except-client", "--hold-release-s",
                           "--withhold-from", "--state-dir", "--resend-after-ms"}) {
    CHECK_THAT(help, Catch::Contains(flag));
  }
  // A complete `run` configuration, so that only the flag under test is wrong.
  const std::string base = bin + " run --state-dir /nonexistent/sotto-corrupt-test --name mix-9 " +
                           "--directory tcp://127.0.0.1:9 --directory-link-key " +
                           std::string(64, 'a') + " --directory-verify-key " + std::string(64, 'b');
  const std::vector<std::pair<std::string, std::vector<std::string>>> cases = {
      {"", {"--record", "required"}},
      {"--record /tmp/x.jsonl --drop 2", {"--drop", "'2'", "from 0 to 1"}},
      {"--record /tmp/x.jsonl --withhold-acks x", {"--withhold-acks", "from 0 to 1"}},
      {"--record /tmp/x.jsonl --withhold-acks-window 5",
       {"--withhold-acks-window", "START_S:LEN_S"}},
      {"--record /tmp/x.jsonl --delay-acks-ms -3", {"--delay-acks-ms", "milliseconds"}},
      {"--record /tmp/x.jsonl --flip-bit-in middle", {"--flip-bit-in", "'payload' or 'header'"}},
      {"--record /tmp/x.jsonl --hold-except-client xyz", {"--hold-except-client", "hex"}},
      {"--record /tmp/x.jsonl --hold-release-s 0", {"--hold-release-s", "above 0"}},
      {"--record /tmp/x.jsonl --withhold-from mixes", {"--withhold-from", "'clients'"}},
      {"--record /tmp/x.jsonl --seed -1", {"--seed", "integer"}},
      {"--record /nonexistent/dir/x.jsonl", {"--record", "cannot open"}},
      {"--record /tmp/x.jsonl --bogus 1", {"--bogus"}},
  };
  for (const auto& [flags, expected] : cases) {
    auto [status, out] = Run(base + " " + flags);
    INFO(flags << "\n" << out);
    CHECK(status == 1);
    CHECK(std::count(out.begin(), out.end(), '\n') == 1);
    CHECK_THAT(out, Catch::StartsWith("sotto-corrupt-node: "));
    for (const auto& e : expected) CHECK_THAT(out, Catch::Contains(e));
  }
}
