// The recipient's provider cannot tell real mail from loop cover (papers/e2ee-spec.md §7, "What
// the recipient's provider sees"; issue 9, leak 4).
//
// Real items — first messages of many sessions (each with a fresh hidden session header), later
// messages both ways, receipts and texts carrying receipts, across many ratchet steps — and loop
// cover messages are made with fixed seeds. A distinguisher that knows the envelope layout then
// tries to separate them: per-position bit frequencies over all 2030 bytes, the on-curve test
// on 32-byte windows where a key could sit, counter-like values at every offset, and blocks
// repeated across items. It selects its features and their weights on one half of the items
// and scores the other half; its AUC must be at chance. The same distinguisher, on the same
// items with the version-1 leaks written back (the cleartext ratchet header; the raw, repeated
// session header), must detect them: the positive controls.
#include <sodium.h>

#include <algorithm>
#include <array>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "sotto/client_lib/elligator.h"
#include "sotto/client_lib/envelope.h"
#include "sotto/client_lib/peer_sessions.h"
#include "sotto/client_lib/x3dh.h"
#include "sotto/core/random.h"

namespace sotto::client {
namespace {

constexpr std::size_t kItems = 400;  // real items, and as many loop messages

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

std::uint32_t Be32(ByteSpan b, std::size_t at) {
  return (std::uint32_t{b[at]} << 24) | (std::uint32_t{b[at + 1]} << 16) |
         (std::uint32_t{b[at + 2]} << 8) | std::uint32_t{b[at + 3]};
}

// What the sending session looked like when it sealed an item, read from the §8 / §6 stored
// forms, so that the positive controls can write the version-1 cleartext back.
struct SendInfo {
  PublicKey ratchet_key;     // DHs public: the v1 header's first field
  std::uint32_t pn = 0;      // PN
  std::uint32_t n = 0;       // N of this message
  bool unconfirmed = false;  // the slot carries a session header
  PublicKey ephemeral;       // EK_A of the session
};

struct RecordView {
  PublicKey ephemeral;
  bool has_prekey = false;
  Bytes state;
};

std::vector<RecordView> Records(const Bytes& blob) {
  std::vector<RecordView> out;
  const std::size_t count = blob[44], retired = blob[45];
  std::size_t at = 46 + 32 * retired;
  for (std::size_t i = 0; i < count; ++i) {
    RecordView r;
    const std::uint8_t flags = blob[at];
    std::copy_n(blob.begin() + static_cast<std::ptrdiff_t>(at + 1), 32, r.ephemeral.bytes.begin());
    const std::size_t size = Be32(blob, at + 1 + 32 + 16);
    at += 1 + 32 + 16 + 4;
    r.has_prekey = (flags & 4) != 0;
    if (r.has_prekey) at += 32;
    r.state.assign(blob.begin() + static_cast<std::ptrdiff_t>(at),
                   blob.begin() + static_cast<std::ptrdiff_t>(at + size));
    at += size;
    out.push_back(std::move(r));
  }
  return out;
}

// The record whose Ns went up: the one that sealed the item.
SendInfo InfoOf(const Bytes& before, const Bytes& after) {
  const auto old_records = Records(before);
  for (const RecordView& r : Records(after)) {
    std::uint32_t old_ns = 0;
    bool existed = false;
    for (const RecordView& o : old_records) {
      if (o.ephemeral == r.ephemeral) {
        old_ns = Be32(o.state, 325);
        existed = true;
      }
    }
    const std::uint32_t ns = Be32(r.state, 325);
    if (existed && ns == old_ns) continue;
    SendInfo info;
    crypto_scalarmult_base(info.ratchet_key.bytes.data(), r.state.data() + 101);
    info.pn = Be32(r.state, 333);
    info.n = ns - 1;
    info.unconfirmed = r.has_prekey;
    info.ephemeral = r.ephemeral;
    return info;
  }
  FAIL("no session sealed the item");
  return {};
}

struct Corpus {
  std::vector<Bytes> real;
  std::vector<SendInfo> info;
  std::vector<Bytes> loops;
};

Bytes TextBody(Rng& rng, const std::string& text, std::vector<MessageId> receipts = {}) {
  MessageBody b;
  b.text = text;
  rng.Fill(b.id);
  b.sent_unix = 1'700'000'000;
  b.receipts = std::move(receipts);
  return EncodeBody(b).value();
}

Bytes ReceiptBody(Rng& rng, std::vector<MessageId> ids) {
  MessageBody b;
  b.type = BodyType::kReceipt;
  rng.Fill(b.id);
  b.sent_unix = 1'700'000'000;
  b.receipts = std::move(ids);
  return EncodeBody(b).value();
}

// Bob talks with many partners. Each partner writes 3 to 7 first messages before Bob's answer
// arrives (all carry session headers), Bob reads them in shuffled order and answers with a
// receipt and a text; then a few more rounds both ways (ratchet steps, texts with receipts).
Corpus MakeCorpus() {
  DeterministicRng rng = DeterministicRng::FromByte(0xC1);
  Corpus c;
  Person bob = MakePerson(rng);
  auto seal = [&](PeerSessions& s, const Person& from, const Person& to, const Bytes& body) {
    const Bytes before = s.Serialize();
    auto item = s.Seal(from.id, to.code, body);
    REQUIRE(item.ok());
    REQUIRE(item->size() == kSphinxMessageSize);
    if (c.real.size() < kItems) {
      c.real.push_back(*item);
      c.info.push_back(InfoOf(before, s.Serialize()));
    }
    return *item;
  };
  auto open = [&](PeerSessions& s, const Person& me, const Bytes& item) {
    auto body = s.TryOpen(item);
    if (body.status().code() == Status::Code::kNotFound) {
      auto h = X3dhHeader::Open(item, me.prekey);
      REQUIRE(h.ok());
      body = s.OpenNewSession(me.id, me.prekey, *h, item);
    }
    REQUIRE(body.ok());
  };
  MessageId some_id{};
  for (int partner = 0; c.real.size() < kItems; ++partner) {
    Person alice = MakePerson(rng);
    PeerSessions at_alice(bob.id.keys.public_key, rng), at_bob(alice.id.keys.public_key, rng);
    std::vector<Bytes> firsts;
    for (int i = 0; i < 3 + partner % 5; ++i) {
      firsts.push_back(seal(at_alice, alice, bob, TextBody(rng, "hello " + std::to_string(i))));
    }
    Shuffle(firsts, rng);
    for (const Bytes& f : firsts) open(at_bob, bob, f);
    rng.Fill(some_id);
    open(at_alice, alice, seal(at_bob, bob, alice, ReceiptBody(rng, {some_id, some_id})));
    open(at_alice, alice, seal(at_bob, bob, alice, TextBody(rng, "hi there")));
    for (int round = 0; round < 2; ++round) {
      const Bytes a = seal(at_alice, alice, bob, TextBody(rng, "more", {some_id}));
      const Bytes a2 = seal(at_alice, alice, bob, TextBody(rng, "and more"));
      open(at_bob, bob, a2);
      open(at_bob, bob, a);
      open(at_alice, alice, seal(at_bob, bob, alice, TextBody(rng, "answer", {some_id, some_id})));
    }
  }
  LoopKey loop_key;
  rng.Fill(loop_key.MutableBytes());
  for (std::size_t i = 0; i < kItems; ++i) c.loops.push_back(MakeLoopMessage(loop_key, rng));
  return c;
}

// ---- the distinguisher

// Binary features of every item: 16240 bits; on-curve at 32-byte windows at offsets 0..256 in
// steps of 4 (where a raw key sits in either version's layout, and around); "a big-endian 32-bit
// value below 2^16" at every offset (counters); "some 16-byte block at an 8-aligned offset
// equals the block at the same offset of another item" (repeated substrings).
constexpr std::size_t kBitFeatures = kSphinxMessageSize * 8;
constexpr std::size_t kCurveWindows = 65;
constexpr std::size_t kCounterOffsets = kSphinxMessageSize - 3;
constexpr std::size_t kFeatures = kBitFeatures + kCurveWindows + kCounterOffsets + 1;

std::vector<std::vector<std::uint8_t>> Features(const std::vector<const Bytes*>& items) {
  // Repeated blocks, over the whole pool (the provider sees every item).
  std::unordered_map<std::uint64_t, std::uint32_t> seen;
  auto block_key = [](const Bytes& item, std::size_t at) {
    std::array<std::uint8_t, 18> block{};  // offset (2) ‖ the 16 bytes there
    block[0] = static_cast<std::uint8_t>(at >> 8);
    block[1] = static_cast<std::uint8_t>(at);
    std::copy_n(item.begin() + static_cast<std::ptrdiff_t>(at), 16, block.begin() + 2);
    std::uint64_t k = 0;
    crypto_generichash(reinterpret_cast<unsigned char*>(&k), sizeof k, block.data(), block.size(),
                       nullptr, 0);
    return k;
  };
  for (const Bytes* item : items) {
    for (std::size_t at = 0; at + 16 <= item->size(); at += 8) ++seen[block_key(*item, at)];
  }
  std::vector<std::vector<std::uint8_t>> out;
  out.reserve(items.size());
  for (const Bytes* item : items) {
    std::vector<std::uint8_t> f(kFeatures, 0);
    std::size_t j = 0;
    for (std::size_t bit = 0; bit < kBitFeatures; ++bit) {
      f[j++] = static_cast<std::uint8_t>(((*item)[bit / 8] >> (bit % 8)) & 1);
    }
    for (std::size_t w = 0; w < kCurveWindows; ++w) {
      f[j++] = IsOnCurve(ByteSpan(*item).subspan(4 * w).first<32>()) ? 1 : 0;
    }
    for (std::size_t at = 0; at < kCounterOffsets; ++at) f[j++] = Be32(*item, at) < 65536 ? 1 : 0;
    std::uint8_t repeated = 0;
    for (std::size_t at = 0; at + 16 <= item->size(); at += 8) {
      if (seen[block_key(*item, at)] > 1) repeated = 1;
    }
    f[j++] = repeated;
    out.push_back(std::move(f));
  }
  return out;
}

struct Evaluation {
  double auc = 0;
  std::size_t n_real = 0, n_loop = 0;
};

// Trains on the even-indexed items of each class (after a fixed shuffle), tests on the rest:
// keeps the K features whose two-proportion z statistic on the training half is largest, and
// scores an item by the naive-Bayes log-likelihood ratio of those features.
Evaluation Distinguish(const std::vector<Bytes>& real, const std::vector<Bytes>& loops) {
  constexpr std::size_t kSelected = 50;
  std::vector<const Bytes*> pool;
  for (const Bytes& b : real) pool.push_back(&b);
  for (const Bytes& b : loops) pool.push_back(&b);
  const auto features = Features(pool);
  std::vector<std::size_t> real_idx(real.size()), loop_idx(loops.size());
  std::iota(real_idx.begin(), real_idx.end(), 0);
  std::iota(loop_idx.begin(), loop_idx.end(), real.size());
  DeterministicRng split = DeterministicRng::FromByte(0xC2);
  Shuffle(real_idx, split);
  Shuffle(loop_idx, split);
  std::vector<std::size_t> train_real, test_real, train_loop, test_loop;
  for (std::size_t i = 0; i < real_idx.size(); ++i)
    (i % 2 ? test_real : train_real).push_back(real_idx[i]);
  for (std::size_t i = 0; i < loop_idx.size(); ++i)
    (i % 2 ? test_loop : train_loop).push_back(loop_idx[i]);

  struct Weight {
    double z = 0, w1 = 0, w0 = 0;
    std::size_t j = 0;
  };
  std::vector<Weight> weights(kFeatures);
  const double nr = static_cast<double>(train_real.size()),
               nl = static_cast<double>(train_loop.size());
  for (std::size_t j = 0; j < kFeatures; ++j) {
    double kr = 0, kl = 0;
    for (std::size_t i : train_real) kr += features[i][j];
    for (std::size_t i : train_loop) kl += features[i][j];
    const double pooled = (kr + kl) / (nr + nl);
    const double se = std::sqrt(pooled * (1 - pooled) * (1 / nr + 1 / nl));
    const double z = se > 0 ? (kr / nr - kl / nl) / se : 0;
    const double pr = (kr + 0.5) / (nr + 1), pl = (kl + 0.5) / (nl + 1);
    weights[j] = Weight{std::abs(z), std::log(pr / pl), std::log((1 - pr) / (1 - pl)), j};
  }
  std::partial_sort(weights.begin(), weights.begin() + kSelected, weights.end(),
                    [](const Weight& a, const Weight& b) { return a.z > b.z; });
  weights.resize(kSelected);
  auto score = [&](std::size_t i) {
    double s = 0;
    for (const Weight& w : weights) s += features[i][w.j] ? w.w1 : w.w0;
    return s;
  };
  std::vector<double> sr, sl;
  for (std::size_t i : test_real) sr.push_back(score(i));
  for (std::size_t i : test_loop) sl.push_back(score(i));
  double wins = 0;
  for (double a : sr) {
    for (double b : sl) wins += a > b ? 1.0 : (a == b ? 0.5 : 0.0);
  }
  return Evaluation{wins / (static_cast<double>(sr.size()) * static_cast<double>(sl.size())),
                    sr.size(), sl.size()};
}

// Standard deviation of the AUC (Mann–Whitney U / n1 n2) when both classes have the same
// distribution (continuous scores; ties only make it smaller).
double NullSd(const Evaluation& e) {
  const double n1 = static_cast<double>(e.n_real), n2 = static_cast<double>(e.n_loop);
  return std::sqrt((n1 + n2 + 1) / (12 * n1 * n2));
}

// Two-sided α = 0.001: |AUC − 0.5| < 3.29 sd. With 200 + 200 test items sd = 0.029, so the band
// is 0.5 ± 0.095.
constexpr double kZ = 3.29;

const Corpus& TheCorpus() {
  static const Corpus corpus = MakeCorpus();
  return corpus;
}

TEST_CASE("mailbox: no 16 bytes repeat across items, first messages included", "[classifier]") {
  const Corpus& c = TheCorpus();
  REQUIRE(c.real.size() == kItems);
  std::size_t first = 0;
  for (const auto& i : c.info) first += i.unconfirmed ? 1 : 0;
  // The corpus really has the kinds of items the leaks were about.
  CHECK(first > kItems / 3);
  CHECK(first < kItems * 2 / 3);
  std::unordered_map<std::uint64_t, int> blocks;
  std::size_t total = 0;
  for (const auto* set : {&c.real, &c.loops}) {
    for (const Bytes& item : *set) {
      for (std::size_t at = 0; at + 16 <= item.size(); at += 8) {
        std::uint64_t k = 0;
        crypto_generichash(reinterpret_cast<unsigned char*>(&k), sizeof k, item.data() + at, 16,
                           nullptr, 0);
        ++blocks[k];
        ++total;
      }
    }
  }
  CHECK(blocks.size() == total);  // every 8-aligned 16-byte block, at any offset, is unique
}

TEST_CASE("mailbox: a layout-aware classifier cannot tell real items from loop cover",
          "[classifier]") {
  const Corpus& c = TheCorpus();
  const Evaluation e = Distinguish(c.real, c.loops);
  const double sd = NullSd(e);
  INFO("v2 items: AUC " << e.auc << " (chance 0.5, sd under the null " << sd << ", n = " << e.n_real
                        << " + " << e.n_loop << ")");
  CHECK(std::abs(e.auc - 0.5) < kZ * sd);
}

TEST_CASE("mailbox: positive control: a cleartext ratchet header is detected", "[classifier]") {
  // Version 1's ratchet header (ratchet key ‖ PN ‖ N) written back where version 1 had it, at
  // offset 80, into the same real items. Expected AUC ≈ 1 (the counters' high bytes are zero):
  // power against the null band is essentially 1.
  const Corpus& c = TheCorpus();
  std::vector<Bytes> leaky = c.real;
  for (std::size_t i = 0; i < leaky.size(); ++i) {
    const SendInfo& s = c.info[i];
    std::copy(s.ratchet_key.bytes.begin(), s.ratchet_key.bytes.end(), leaky[i].begin() + 80);
    for (int b = 0; b < 4; ++b) {
      leaky[i][112 + static_cast<std::size_t>(b)] = static_cast<std::uint8_t>(s.pn >> (24 - 8 * b));
      leaky[i][116 + static_cast<std::size_t>(b)] = static_cast<std::uint8_t>(s.n >> (24 - 8 * b));
    }
  }
  const Evaluation e = Distinguish(leaky, c.loops);
  INFO("cleartext header written back: AUC " << e.auc);
  CHECK(e.auc > 0.95);
}

TEST_CASE("mailbox: positive control: a raw, repeated session header is detected", "[classifier]") {
  // Version 1's session header written back into the first messages only (about 38% of the real
  // items): EK_A as a raw X25519 key at offset 0, then 48 bytes that repeat in every first
  // message of the session (v1 sealed IK_A once per session). Later messages are untouched.
  // Expected AUC about 0.5 + 0.38/2 = 0.69, i.e. 6.5 null sds above chance: power about 1.
  const Corpus& c = TheCorpus();
  std::vector<Bytes> leaky = c.real;
  std::vector<std::pair<PublicKey, Bytes>> sealed;  // per session: its repeated 48 bytes
  for (std::size_t i = 0; i < leaky.size(); ++i) {
    const SendInfo& s = c.info[i];
    if (!s.unconfirmed) continue;
    auto it = std::find_if(sealed.begin(), sealed.end(),
                           [&](const auto& p) { return p.first == s.ephemeral; });
    if (it == sealed.end()) {
      sealed.emplace_back(s.ephemeral, Bytes(leaky[i].begin() + 32, leaky[i].begin() + 80));
      it = sealed.end() - 1;
    }
    std::copy(s.ephemeral.bytes.begin(), s.ephemeral.bytes.end(), leaky[i].begin());
    std::copy(it->second.begin(), it->second.end(), leaky[i].begin() + 32);
  }
  const Evaluation e = Distinguish(leaky, c.loops);
  INFO("raw session header written back: AUC " << e.auc << ", detection threshold "
                                               << 0.5 + kZ * NullSd(e));
  CHECK(e.auc > 0.5 + kZ * NullSd(e));
}

}  // namespace
}  // namespace sotto::client
