// Directory documents: signed round trips, and rejection of forged, unsigned, modified, stale,
// malformed and inconsistent documents, each with a message that names the problem.
#include "sotto/core/directory.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>

#include "directory_json.h"
#include "sotto/core/bytes.h"

using nlohmann::json;
using sotto::SigningKey;
using sotto::Status;
using namespace sotto::directory;

namespace {

constexpr std::int64_t kValidAfter = 1'700'000'000;
constexpr std::int64_t kValidUntil = kValidAfter + 3600;
constexpr std::int64_t kNow = kValidAfter + 60;
constexpr std::uint64_t kEpoch = 7;

sotto::ByteSpan AsBytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

SigningKey KeyFromByte(std::uint8_t b) {
  std::array<std::uint8_t, 32> seed{};
  seed.fill(b);
  return SigningKey::FromSeed(seed);
}

NodeDescriptor MakeNode(const SigningKey& key, std::string name, NodeRole role, std::uint32_t layer,
                        int port) {
  NodeDescriptor d;
  d.name = std::move(name);
  d.identity = key.verify_key();
  d.link_key.fill(static_cast<std::uint8_t>(port & 0xff));
  d.address = "tcp://127.0.0.1:" + std::to_string(port);
  d.role = role;
  d.layer = layer;
  for (std::uint64_t e : {kEpoch, kEpoch + 1}) {
    sotto::PublicKey k;
    k.bytes.fill(static_cast<std::uint8_t>(e + static_cast<std::uint64_t>(port)));
    d.routing_keys.push_back({e, k});
  }
  return d;
}

// Two cascades of two mixes and two providers (valid for any SOTTO_SPHINX_MAX_HOPS ≥ 3).
struct Network {
  SigningKey authority = KeyFromByte(0xA0);
  std::vector<SigningKey> node_keys;
  Consensus consensus;

  Network() {
    for (std::uint8_t i = 0; i < 6; ++i)
      node_keys.push_back(KeyFromByte(static_cast<std::uint8_t>(i + 1)));
    Consensus& c = consensus;
    c.epoch = kEpoch;
    c.valid_after = kValidAfter;
    c.valid_until = kValidUntil;
    c.nodes = {MakeNode(node_keys[0], "mix-a1", NodeRole::kMix, 1, 4001),
               MakeNode(node_keys[1], "mix-a2", NodeRole::kMix, 2, 4002),
               MakeNode(node_keys[2], "mix-b1", NodeRole::kMix, 1, 4003),
               MakeNode(node_keys[3], "mix-b2", NodeRole::kMix, 2, 4004),
               MakeNode(node_keys[4], "provider-1", NodeRole::kProvider, 0, 4005),
               MakeNode(node_keys[5], "provider-2", NodeRole::kProvider, 0, 4006)};
    c.cascades = {{c.nodes[0].id(), c.nodes[1].id()}, {c.nodes[2].id(), c.nodes[3].id()}};
    c.params.mixing_policy = "pool";
    c.params.pool_keep_percent = 30;
  }
};

// A SignedDocument around arbitrary body text: how a hostile or buggy signer would make one.
std::string SignBody(std::string_view body, const SigningKey& key, std::string_view label) {
  return internal::EncodeSignedDocument(body, key.Sign(label, AsBytes(body)));
}

// The consensus as JSON, for tests that break one field and sign the result properly.
json ConsensusJson(const Consensus& c) { return internal::ConsensusToJson(c); }

Status VerifyConsensusBody(const json& body, const Network& net) {
  auto r = VerifyConsensus(SignBody(body.dump(), net.authority, kConsensusLabel),
                           net.authority.verify_key(), kNow);
  return r.status();
}

Status VerifyConsensusStruct(const Consensus& c, const Network& net) {
  return VerifyConsensusBody(ConsensusJson(c), net);
}

// The body and signature of a SignedDocument.
std::pair<std::string, std::string> Split(const std::string& document) {
  const json doc = json::parse(document);
  return {doc.at("body").get<std::string>(), doc.at("signature").get<std::string>()};
}

std::string Envelope(const std::string& body, const std::string& signature) {
  return json{{"body", body}, {"signature", signature}}.dump();
}

#define CHECK_REJECTED(status, code_, text)           \
  do {                                                \
    const Status st_ = (status);                      \
    INFO("status: " << st_.ToString());               \
    CHECK_FALSE(st_.ok());                            \
    CHECK(st_.code() == (code_));                     \
    CHECK_THAT(st_.message(), Catch::Contains(text)); \
  } while (0)

}  // namespace

// ---- Round trips ---------------------------------------------------------------------------

TEST_CASE("a signed descriptor verifies and round-trips", "[core][directory]") {
  const SigningKey key = KeyFromByte(1);
  const NodeDescriptor d = MakeNode(key, "mix-1", NodeRole::kMix, 1, 5000);
  const std::string doc = SignDescriptor(d, key);
  auto back = VerifyDescriptor(doc);
  REQUIRE(back.ok());
  CHECK(*back == d);
  CHECK(back->RoutingKeyFor(kEpoch) == d.routing_keys[0].key);
  CHECK(back->RoutingKeyFor(kEpoch + 1) == d.routing_keys[1].key);
  CHECK_FALSE(back->RoutingKeyFor(kEpoch + 2).has_value());

  // The wire form: exactly {"body","signature"}; the body is canonical JSON with hex and names.
  const json outer = json::parse(doc);
  CHECK(outer.size() == 2);
  const std::string body = outer.at("body").get<std::string>();
  CHECK(body == json::parse(body).dump());
  CHECK_THAT(body,
             Catch::Contains("\"identity\":\"" + sotto::ToHex(key.verify_key().bytes) + "\""));
  CHECK_THAT(body, Catch::Contains("\"role\":\"mix\""));
  CHECK(outer.at("signature").get<std::string>().size() == 128);
}

TEST_CASE("a signed consensus verifies and round-trips", "[core][directory]") {
  const Network net;
  const std::string doc = SignConsensus(net.consensus, net.authority);
  auto back = VerifyConsensus(doc, net.authority.verify_key(), kNow);
  REQUIRE(back.ok());
  CHECK(*back == net.consensus);
  CHECK(back->FindNode(net.consensus.nodes[3].id()) == &back->nodes[3]);
  CHECK(back->FindNode(sotto::sphinx::NodeId{}) == nullptr);
  const auto providers = back->Providers();
  REQUIRE(providers.size() == 2);
  CHECK(providers[0]->name == "provider-1");
  // Signing is deterministic: the same consensus gives the same document.
  CHECK(SignConsensus(net.consensus, net.authority) == doc);
  // Whitespace around the envelope does not matter; the body bytes are what is signed.
  CHECK(VerifyConsensus("\n " + doc + " \n", net.authority.verify_key(), kNow).ok());
}

TEST_CASE("node roles have names", "[core][directory]") {
  CHECK(NodeRoleName(NodeRole::kMix) == "mix");
  CHECK(NodeRoleName(NodeRole::kProvider) == "provider");
  CHECK(ParseNodeRole("provider").value() == NodeRole::kProvider);
  CHECK_THAT(ParseNodeRole("Mix").status().message(), Catch::Contains("expected \"mix\""));
}

// ---- Signatures ----------------------------------------------------------------------------

TEST_CASE("a consensus signed by another key is rejected", "[core][directory]") {
  const Network net;
  const SigningKey forger = KeyFromByte(0xEE);
  const std::string forged = SignConsensus(net.consensus, forger);
  CHECK(VerifyConsensus(forged, forger.verify_key(), kNow).ok());  // genuine for its own key
  CHECK_REJECTED(VerifyConsensus(forged, net.authority.verify_key(), kNow).status(),
                 Status::Code::kCryptoError, "signature does not verify against the authority key");
}

TEST_CASE("unsigned and signature-stripped documents are rejected", "[core][directory]") {
  const Network net;
  const auto [body, signature] = Split(SignConsensus(net.consensus, net.authority));
  const auto verify = [&](const std::string& doc) {
    return VerifyConsensus(doc, net.authority.verify_key(), kNow).status();
  };

  CHECK_REJECTED(verify(json{{"body", body}}.dump()), Status::Code::kCorruption,
                 "consensus field 'signature': missing");
  CHECK_REJECTED(verify(body), Status::Code::kCorruption, "unknown field");  // the bare body
  CHECK_REJECTED(verify(Envelope(body, "")), Status::Code::kCorruption,
                 "field 'signature': expected 128 lowercase hex digits");
  CHECK_REJECTED(verify(Envelope(body, std::string(128, '0'))), Status::Code::kCryptoError,
                 "signature does not verify");
  CHECK_REJECTED(verify(json{{"body", body}, {"signature", nullptr}}.dump()),
                 Status::Code::kCorruption, "field 'signature': expected 128 lowercase hex");
  CHECK_REJECTED(verify(json{{"body", body}, {"signature", signature}, {"extra", 1}}.dump()),
                 Status::Code::kCorruption, "field 'extra': unknown field");
}

TEST_CASE("a document changed after signing is rejected", "[core][directory]") {
  const Network net;
  const auto [body, signature] = Split(SignConsensus(net.consensus, net.authority));

  SECTION("one byte of the consensus body") {
    const auto at = body.find("\"epoch\":7");
    REQUIRE(at != std::string::npos);
    std::string changed = body;
    changed[at + 8] = '8';  // a valid consensus for another epoch — but not the signed one
    CHECK_REJECTED(
        VerifyConsensus(Envelope(changed, signature), net.authority.verify_key(), kNow).status(),
        Status::Code::kCryptoError, "signature does not verify");
  }
  SECTION("every single byte of the body") {
    for (std::size_t i = 0; i < body.size(); ++i) {
      std::string changed = body;
      changed[i] = static_cast<char>(changed[i] ^ 0x01);
      CHECK_FALSE(
          VerifyConsensus(Envelope(changed, signature), net.authority.verify_key(), kNow).ok());
    }
  }
  SECTION("one hex digit of the signature") {
    std::string changed = signature;
    changed[10] = changed[10] == '0' ? '1' : '0';
    CHECK_REJECTED(
        VerifyConsensus(Envelope(body, changed), net.authority.verify_key(), kNow).status(),
        Status::Code::kCryptoError, "signature does not verify");
  }
  SECTION("a descriptor's address") {
    const SigningKey key = KeyFromByte(9);
    const auto [dbody, dsig] =
        Split(SignDescriptor(MakeNode(key, "mix-9", NodeRole::kMix, 1, 4009), key));
    std::string changed = dbody;
    const auto at = changed.find("127.0.0.1");
    REQUIRE(at != std::string::npos);
    changed[at + 8] = '2';  // 127.0.0.2: redirect traffic to the attacker
    CHECK_REJECTED(VerifyDescriptor(Envelope(changed, dsig)).status(), Status::Code::kCryptoError,
                   "descriptor signature does not verify");
  }
}

TEST_CASE("a descriptor must be signed by the identity it names", "[core][directory]") {
  const SigningKey node = KeyFromByte(1);
  const SigningKey impostor = KeyFromByte(2);
  const std::string body =
      internal::DescriptorToJson(MakeNode(node, "mix-1", NodeRole::kMix, 1, 5000)).dump();
  CHECK(VerifyDescriptor(SignBody(body, node, kDescriptorLabel)).ok());
  CHECK_REJECTED(VerifyDescriptor(SignBody(body, impostor, kDescriptorLabel)).status(),
                 Status::Code::kCryptoError, "does not verify against the identity key");
}

TEST_CASE("labels separate descriptors from consensus documents", "[core][directory]") {
  const Network net;
  const std::string body = ConsensusJson(net.consensus).dump();
  // The same body, signed by the authority, verifies only under the consensus label.
  CHECK(VerifyConsensus(SignBody(body, net.authority, kConsensusLabel), net.authority.verify_key(),
                        kNow)
            .ok());
  CHECK_REJECTED(VerifyConsensus(SignBody(body, net.authority, kDescriptorLabel),
                                 net.authority.verify_key(), kNow)
                     .status(),
                 Status::Code::kCryptoError, "signature does not verify");

  // A node's descriptor signature is not a consensus signature by that node's key...
  const SigningKey& key = net.node_keys[0];
  const std::string descriptor = SignDescriptor(net.consensus.nodes[0], key);
  CHECK_FALSE(VerifyConsensus(descriptor, key.verify_key(), kNow).ok());
  // ...and a consensus is not a descriptor.
  CHECK_FALSE(VerifyDescriptor(SignConsensus(net.consensus, net.authority)).ok());
}

// ---- Validity in time and build parameters -------------------------------------------------

TEST_CASE("stale and not-yet-valid consensus documents are rejected", "[core][directory]") {
  const Network net;
  const std::string doc = SignConsensus(net.consensus, net.authority);
  const auto& key = net.authority.verify_key();
  CHECK(VerifyConsensus(doc, key, kValidAfter).ok());  // both ends inclusive
  CHECK(VerifyConsensus(doc, key, kValidUntil).ok());

  const Status stale = VerifyConsensus(doc, key, kValidUntil + 1).status();
  CHECK_REJECTED(stale, Status::Code::kInvalidArgument, "consensus for epoch 7 is stale");
  CHECK_THAT(stale.message(), Catch::Contains(std::to_string(kValidUntil)));
  CHECK_THAT(stale.message(), Catch::Contains(std::to_string(kValidUntil + 1)));
  CHECK_THAT(stale.message(), Catch::Contains("2023-11-14 23:13:20 UTC"));  // valid_until

  const Status early = VerifyConsensus(doc, key, kValidAfter - 1).status();
  CHECK_REJECTED(early, Status::Code::kInvalidArgument, "is not valid yet");
  CHECK_THAT(early.message(), Catch::Contains(std::to_string(kValidAfter)));
  CHECK_THAT(early.message(), Catch::Contains(std::to_string(kValidAfter - 1)));
}

TEST_CASE("a consensus for other Sphinx parameters is rejected", "[core][directory]") {
  const Network net;
  Consensus c = net.consensus;
  c.sphinx_max_hops = static_cast<std::uint32_t>(sotto::sphinx::kMaxHops) + 1;
  CHECK_REJECTED(VerifyConsensusStruct(c, net), Status::Code::kInvalidArgument,
                 "field 'sphinx_max_hops'");
  c = net.consensus;
  c.packet_size = static_cast<std::uint32_t>(sotto::sphinx::kPacketSize) - 1;
  CHECK_REJECTED(VerifyConsensusStruct(c, net), Status::Code::kInvalidArgument,
                 "field 'packet_size'");
}

// ---- Malformed documents -------------------------------------------------------------------

TEST_CASE("malformed and oversized documents are rejected with a reason", "[core][directory]") {
  const Network net;
  const auto verify = [&](std::string_view doc) {
    return VerifyConsensus(doc, net.authority.verify_key(), kNow).status();
  };
  const std::string good = SignConsensus(net.consensus, net.authority);

  CHECK_REJECTED(verify(""), Status::Code::kCorruption, "consensus document is not valid JSON");
  CHECK_REJECTED(verify(good.substr(0, good.size() / 2)), Status::Code::kCorruption,
                 "not valid JSON");
  CHECK_REJECTED(verify(good + "}"), Status::Code::kCorruption, "not valid JSON");
  CHECK_REJECTED(verify("[1,2]"), Status::Code::kCorruption, "expected an object, got an array");
  CHECK_REJECTED(verify("\"x\""), Status::Code::kCorruption, "expected an object");
  CHECK_REJECTED(verify(std::string("{\"body\":\"\xff\"}")), Status::Code::kCorruption,
                 "not valid JSON");  // not UTF-8
  CHECK_REJECTED(verify(good + std::string(kMaxDocumentSize, ' ')), Status::Code::kCorruption,
                 "at most 1048576 are accepted");
  CHECK_REJECTED(
      verify(std::string(kMaxDocumentSize / 2, '[') + std::string(kMaxDocumentSize / 2, ']')),
      Status::Code::kCorruption, "nested deeper than");

  // A body that is not JSON, signed properly.
  CHECK_REJECTED(verify(SignBody("{\"epoch\":", net.authority, kConsensusLabel)),
                 Status::Code::kCorruption, "consensus body is not valid JSON");
  // Duplicate keys, which a lenient parser would silently resolve one way or the other.
  CHECK_REJECTED(verify("{\"body\":\"a\",\"body\":\"b\",\"signature\":\"00\"}"),
                 Status::Code::kCorruption, "key \"body\" appears twice");
  std::string dup = ConsensusJson(net.consensus).dump();
  dup.insert(1, "\"epoch\":8,");
  CHECK_REJECTED(verify(SignBody(dup, net.authority, kConsensusLabel)), Status::Code::kCorruption,
                 "key \"epoch\" appears twice");
  // Not canonical: the same content, pretty-printed.
  CHECK_REJECTED(
      verify(SignBody(ConsensusJson(net.consensus).dump(2), net.authority, kConsensusLabel)),
      Status::Code::kCorruption, "not in canonical form");
}

TEST_CASE("unknown, missing and mistyped fields are rejected by name", "[core][directory]") {
  const Network net;
  const json good = ConsensusJson(net.consensus);
  REQUIRE(VerifyConsensusBody(good, net).ok());
  json j;

  j = good;
  j["params"]["turbo"] = true;
  CHECK_REJECTED(VerifyConsensusBody(j, net), Status::Code::kCorruption,
                 "consensus field 'params.turbo': unknown field");
  j = good;
  j["nodes"][1]["nickname"] = "x";
  CHECK_REJECTED(VerifyConsensusBody(j, net), Status::Code::kCorruption,
                 "'nodes[1].nickname': unknown field");

  j = good;
  j.erase("valid_until");
  CHECK_REJECTED(VerifyConsensusBody(j, net), Status::Code::kCorruption,
                 "consensus field 'valid_until': missing");
  j = good;
  j["nodes"][2]["routing_keys"][0].erase("key");
  CHECK_REJECTED(VerifyConsensusBody(j, net), Status::Code::kCorruption,
                 "'nodes[2].routing_keys[0].key': missing");
  j = good;
  j["params"].erase("batch_size");
  CHECK_REJECTED(VerifyConsensusBody(j, net), Status::Code::kCorruption,
                 "'params.batch_size': missing");

  j = good;
  j["epoch"] = "7";
  CHECK_REJECTED(VerifyConsensusBody(j, net), Status::Code::kCorruption,
                 "'epoch': expected an integer in 0..18446744073709551615, got a string");
  j = good;
  j["epoch_length_s"] = 3600.5;
  CHECK_REJECTED(VerifyConsensusBody(j, net), Status::Code::kCorruption,
                 "'epoch_length_s': expected an integer in 0..4294967295, got a non-integer");
  j = good;
  j["nodes"][0]["layer"] = 4294967296ULL;
  CHECK_REJECTED(VerifyConsensusBody(j, net), Status::Code::kCorruption,
                 "'nodes[0].layer': expected an integer in 0..4294967295, got 4294967296");
  j = good;
  j["params"]["min_batch"] = -1;
  CHECK_REJECTED(VerifyConsensusBody(j, net), Status::Code::kCorruption,
                 "'params.min_batch': expected an integer in 0..4294967295, got -1");
  j = good;
  j["nodes"] = json::object();
  CHECK_REJECTED(VerifyConsensusBody(j, net), Status::Code::kCorruption,
                 "'nodes': expected an array, got an object");
  j = good;
  j["cascades"][0] = "mix-a1";
  CHECK_REJECTED(VerifyConsensusBody(j, net), Status::Code::kCorruption,
                 "'cascades[0]': expected an array, got a string");
  j = good;
  j["nodes"][0]["role"] = "relay";
  CHECK_REJECTED(VerifyConsensusBody(j, net), Status::Code::kCorruption,
                 "'nodes[0].role': unknown node role \"relay\"");
  j = good;
  j["nodes"][0]["name"] = 5;
  CHECK_REJECTED(VerifyConsensusBody(j, net), Status::Code::kCorruption,
                 "'nodes[0].name': expected a string, got an integer");
}

TEST_CASE("bad hex, names, addresses and routing keys are rejected by name", "[core][directory]") {
  const Network net;
  const json good = ConsensusJson(net.consensus);
  json j;
  const auto with_node_field = [&](const char* field, json value) {
    json out = good;
    out["nodes"][0][field] = std::move(value);
    return out;
  };

  std::string upper = good["nodes"][0]["identity"].get<std::string>();
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  CHECK_REJECTED(VerifyConsensusBody(with_node_field("identity", upper), net),
                 Status::Code::kCorruption,
                 "'nodes[0].identity': expected 64 lowercase hex digits, got \"");
  CHECK_REJECTED(VerifyConsensusBody(with_node_field("link_key", "abcd"), net),
                 Status::Code::kCorruption,
                 "'nodes[0].link_key': expected 64 lowercase hex digits, got 4");
  j = good;
  j["cascades"][1][0] = std::string(64, 'z');
  CHECK_REJECTED(VerifyConsensusBody(j, net), Status::Code::kCorruption,
                 "'cascades[1][0]': expected 64 lowercase hex digits");

  for (const char* name :
       {"", "Mix-1", "mix_1", "mix 1", "mïx", "a-name-that-is-far-too-long-for-sotto"}) {
    INFO(name);
    CHECK_REJECTED(VerifyConsensusBody(with_node_field("name", name), net),
                   Status::Code::kCorruption,
                   "'nodes[0].name': must be 1 to 32 characters from a-z, 0-9 and '-'");
  }
  for (const char* address :
       {"udp://127.0.0.1:1", "127.0.0.1:4001", "tcp://127.0.0.1", "tcp://127.0.0.1:0",
        "tcp://127.0.0.1:65536", "tcp://:4001", "tcp://*:4001", "tcp://host name:1",
        "tcp://[::1:4001", "tcp://127.0.0.1:04001"}) {
    INFO(address);
    CHECK_REJECTED(VerifyConsensusBody(with_node_field("address", address), net),
                   Status::Code::kCorruption, "'nodes[0].address'");
  }
  CHECK_REJECTED(VerifyConsensusBody(with_node_field("address", "udp://x:1"), net),
                 Status::Code::kCorruption, "must start with \"tcp://\"");
  for (const char* address : {"tcp://[::1]:4001", "tcp://mix1.example.org:443"}) {
    INFO(address);
    CHECK(VerifyConsensusBody(with_node_field("address", address), net).ok());
  }

  j = good;
  std::swap(j["nodes"][0]["routing_keys"][0], j["nodes"][0]["routing_keys"][1]);
  CHECK_REJECTED(
      VerifyConsensusBody(j, net), Status::Code::kCorruption,
      "'nodes[0].routing_keys[1].epoch': epochs must be strictly ascending; 7 follows 8");
  j = good;
  j["nodes"][0]["routing_keys"][1]["epoch"] = kEpoch;
  CHECK_REJECTED(VerifyConsensusBody(j, net), Status::Code::kCorruption,
                 "strictly ascending; 7 follows 7");
  j = good;
  j["nodes"][0]["routing_keys"] = json::array();
  CHECK_REJECTED(VerifyConsensusBody(j, net), Status::Code::kCorruption,
                 "'nodes[0].routing_keys': must list at least one routing key");
}

TEST_CASE("descriptor documents are parsed as strictly", "[core][directory]") {
  const SigningKey key = KeyFromByte(3);
  const json good =
      internal::DescriptorToJson(MakeNode(key, "provider-3", NodeRole::kProvider, 0, 4100));
  const auto verify = [&](const json& body) {
    return VerifyDescriptor(SignBody(body.dump(), key, kDescriptorLabel)).status();
  };
  REQUIRE(verify(good).ok());
  json j = good;
  j["layer"] = 1;
  CHECK_REJECTED(verify(j), Status::Code::kCorruption,
                 "descriptor field 'layer': a provider's layer must be 0, got 1");
  j = good;
  j["role"] = "mix";
  j["layer"] = 0;
  CHECK_REJECTED(verify(j), Status::Code::kCorruption, "descriptor field 'layer': a mix's layer");
  j = good;
  j["onion"] = "x";
  CHECK_REJECTED(verify(j), Status::Code::kCorruption, "descriptor field 'onion': unknown field");
  j = good;
  j.erase("identity");
  CHECK_REJECTED(verify(j), Status::Code::kCorruption, "descriptor field 'identity': missing");
  CHECK_REJECTED(VerifyDescriptor(SignBody("[]", key, kDescriptorLabel)).status(),
                 Status::Code::kCorruption, "expected an object, got an array");
}

// ---- Consistency of a consensus ------------------------------------------------------------

TEST_CASE("inconsistent consensus documents are rejected by name", "[core][directory]") {
  const Network net;
  Consensus c;
  const auto reset = [&] { c = net.consensus; };

  reset();
  c.nodes[3].identity = c.nodes[1].identity;
  CHECK_REJECTED(VerifyConsensusStruct(c, net), Status::Code::kCorruption,
                 "'nodes[3].identity': node id " + sotto::ToHex(c.nodes[1].identity.bytes) +
                     " is already used by nodes[1]");
  reset();
  c.nodes[5].name = "provider-1";
  CHECK_REJECTED(VerifyConsensusStruct(c, net), Status::Code::kCorruption,
                 "'nodes[5].name': name 'provider-1' is already used by nodes[4]");
  reset();
  c.cascades[1][1] = KeyFromByte(0x77).verify_key().bytes;
  CHECK_REJECTED(
      VerifyConsensusStruct(c, net), Status::Code::kCorruption,
      "'cascades[1][1]': node " + sotto::ToHex(c.cascades[1][1]) + " is not listed in 'nodes'");
  reset();
  c.cascades[0].push_back(c.nodes[4].id());
  CHECK_REJECTED(VerifyConsensusStruct(c, net), Status::Code::kCorruption,
                 "'cascades[0][2]': node 'provider-1' is a provider; cascades hold mixes only");
  reset();
  std::swap(c.cascades[0][0], c.cascades[0][1]);
  CHECK_REJECTED(VerifyConsensusStruct(c, net), Status::Code::kCorruption,
                 "'cascades[0][0]': mix 'mix-a2' is at position 1 of its cascade but its layer "
                 "is 2");
  reset();
  c.cascades.push_back({});
  CHECK_REJECTED(VerifyConsensusStruct(c, net), Status::Code::kCorruption,
                 "'cascades[2]': a cascade must list at least one mix");
  reset();
  c.cascades.push_back({c.nodes[0].id()});
  CHECK_REJECTED(VerifyConsensusStruct(c, net), Status::Code::kCorruption,
                 "'cascades[2][0]': mix 'mix-a1' is already in cascades[0]");
  reset();
  c.nodes[2].routing_keys.erase(c.nodes[2].routing_keys.begin());
  CHECK_REJECTED(VerifyConsensusStruct(c, net), Status::Code::kCorruption,
                 "'nodes[2].routing_keys': node 'mix-b1' has no routing key for epoch 7");
  reset();
  c.valid_until = c.valid_after;
  CHECK_REJECTED(VerifyConsensusStruct(c, net), Status::Code::kCorruption,
                 "'valid_until': must be after valid_after");
  reset();
  c.params.mixing_policy = "fifo";
  CHECK_REJECTED(VerifyConsensusStruct(c, net), Status::Code::kCorruption,
                 "'params.mixing_policy': must be one of threshold-timeout, timed, pool, "
                 "continuous; got \"fifo\"");
  reset();
  c.params.pool_keep_percent = 100;
  CHECK_REJECTED(VerifyConsensusStruct(c, net), Status::Code::kCorruption,
                 "'params.pool_keep_percent': must be in 0..99, got 100");
  reset();
  c.params.batch_size = 0;
  CHECK_REJECTED(VerifyConsensusStruct(c, net), Status::Code::kCorruption,
                 "'params.batch_size': must be in 1..");

  // A consensus with no cascades yet (bootstrap) is consistent.
  reset();
  c.cascades.clear();
  CHECK(VerifyConsensusStruct(c, net).ok());
}

TEST_CASE("Validate* report the same rules for locally built documents", "[core][directory]") {
  const Network net;
  CHECK(ValidateConsensus(net.consensus).ok());
  CHECK(ValidateDescriptor(net.consensus.nodes[0]).ok());

  NodeDescriptor d = net.consensus.nodes[0];
  d.name = "Bad Name";
  const Status s = ValidateDescriptor(d);
  CHECK_REJECTED(s, Status::Code::kInvalidArgument, "descriptor field 'name'");
  Consensus c = net.consensus;
  c.cascades[0].pop_back();
  c.cascades[0].insert(c.cascades[0].begin(), c.nodes[2].id());
  CHECK_REJECTED(ValidateConsensus(c), Status::Code::kInvalidArgument, "'cascades[0][1]'");
}
