// The sessions held with one partner, the rule for choosing one to send on, and their stored form
// (client_lib/peer_sessions.h, papers/e2ee-spec.md §8).
#include "sotto/client_lib/peer_sessions.h"

#include <sodium.h>

#include <algorithm>
#include <array>
#include <string>
#include <utility>

#include "sotto/core/check.h"
#include "sotto/core/secret.h"

namespace sotto::client {
namespace {

constexpr std::array<std::uint8_t, 3> kMagic = {'S', 'P', 'S'};
constexpr std::uint8_t kVersion = 2;
// Ephemeral keys (EK_A) of evicted responder sessions, remembered so that a replayed first
// message cannot bring an evicted session back to life.
constexpr std::size_t kMaxRetired = 64;
constexpr std::size_t kChecksumSize = 32;
// magic ‖ peer IK ‖ clock ‖ session count ‖ retired count
constexpr std::size_t kFixedSize = 4 + kX25519KeySize + 8 + 1 + 1;
// flags ‖ EK_A ‖ created ‖ last used ‖ ratchet state length (SPK_B follows if flagged)
constexpr std::size_t kRecordFixedSize = 1 + kX25519KeySize + 8 + 8 + 4;
constexpr std::uint8_t kInitiatedByMe = 1, kConfirmed = 2, kHasPrekey = 4;

struct Record {
  RatchetSession session;
  bool initiated_by_me = false;
  PublicKey ephemeral;              // EK_A of the session's X3DH
  std::optional<PublicKey> prekey;  // SPK_B, while an initiator session is unconfirmed: every
                                    // message then gets a fresh session header sealed to it
  bool confirmed = false;           // a message from the partner decrypted in it
  std::uint64_t created = 0;
  std::uint64_t last_used = 0;
};

bool SameKey(const PublicKey& a, const PublicKey& b) {
  return sodium_memcmp(a.bytes.data(), b.bytes.data(), kX25519KeySize) == 0;
}

bool Less(const PublicKey& a, const PublicKey& b) {
  return std::lexicographical_compare(a.bytes.begin(), a.bytes.end(), b.bytes.begin(),
                                      b.bytes.end());
}

template <class Span>
void Append(Bytes& out, const Span& s) {
  out.insert(out.end(), s.begin(), s.end());
}
void PutBe(Bytes& out, std::uint64_t v, std::size_t width) {
  for (std::size_t i = width; i-- > 0;) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

// Reads a blob front to back; every read is bounds-checked and a short read sets `failed`.
class Reader {
 public:
  explicit Reader(ByteSpan in) : in_(in) {}
  bool failed() const { return failed_; }
  bool done() const { return off_ == in_.size(); }
  ByteSpan Take(std::size_t n) {
    if (failed_ || in_.size() - off_ < n) {
      failed_ = true;
      return {};
    }
    ByteSpan r = in_.subspan(off_, n);
    off_ += n;
    return r;
  }
  std::uint64_t Be(std::size_t width) {
    std::uint64_t v = 0;
    for (std::uint8_t b : Take(width)) v = (v << 8) | b;
    return v;
  }
  PublicKey Key() {
    PublicKey k;
    const ByteSpan b = Take(kX25519KeySize);
    if (!failed_) std::copy(b.begin(), b.end(), k.bytes.begin());
    return k;
  }

 private:
  ByteSpan in_;
  std::size_t off_ = 0;
  bool failed_ = false;
};

Status Corrupt(const std::string& what) {
  return Status::Corruption("stored sessions are corrupt (" + what + ")");
}

}  // namespace

struct PeerSessions::State {
  PublicKey peer;
  Rng* rng;
  std::uint64_t clock = 0;         // logical time: advanced by every session created or used
  std::vector<Record> records;     // at most kMaxSessionsPerPeer
  std::vector<PublicKey> retired;  // oldest first, at most kMaxRetired

  std::uint64_t Tick() { return ++clock; }

  void Retire(const PublicKey& ephemeral) {
    retired.push_back(ephemeral);
    if (retired.size() > kMaxRetired) retired.erase(retired.begin());
  }
  bool IsRetired(const PublicKey& ephemeral) const {
    return std::any_of(retired.begin(), retired.end(),
                       [&](const PublicKey& k) { return SameKey(k, ephemeral); });
  }

  // Drops the least recently used sessions until at most kMaxSessionsPerPeer remain.
  void EnforceCap() {
    while (records.size() > kMaxSessionsPerPeer) {
      auto lru = std::min_element(records.begin(), records.end(), [](const auto& a, const auto& b) {
        return a.last_used < b.last_used;
      });
      if (!lru->initiated_by_me) Retire(lru->ephemeral);
      records.erase(lru);
    }
  }

  // The session to send on (spec §8): one started by the partner with the smaller identity key
  // if there is one, the newest such; else the newest of all. nullptr if there is none.
  Record* Choose(const PublicKey& me) {
    const bool preferred_is_mine = Less(me, peer);
    Record* best = nullptr;
    auto better = [&](const Record& r) {
      if (best == nullptr) return true;
      const bool rp = r.initiated_by_me == preferred_is_mine;
      const bool bp = best->initiated_by_me == preferred_is_mine;
      if (rp != bp) return rp;
      return r.created > best->created;
    };
    for (Record& r : records) {
      if (better(r)) best = &r;
    }
    return best;
  }
};

PeerSessions::PeerSessions(const PublicKey& peer, Rng& rng) : s_(std::make_unique<State>()) {
  s_->peer = peer;
  s_->rng = &rng;
}
PeerSessions::PeerSessions(PeerSessions&&) noexcept = default;
PeerSessions& PeerSessions::operator=(PeerSessions&&) noexcept = default;
PeerSessions::~PeerSessions() = default;

const PublicKey& PeerSessions::peer() const {
  SOTTO_CHECK(s_ != nullptr);
  return s_->peer;
}

std::size_t PeerSessions::size() const {
  SOTTO_CHECK(s_ != nullptr);
  return s_->records.size();
}

Result<Bytes> PeerSessions::Seal(const IdentityKeys& me, const ContactCode& peer_code,
                                 ByteSpan body) {
  SOTTO_CHECK(s_ != nullptr);
  State& s = *s_;
  if (!SameKey(peer_code.identity_key, s.peer)) {
    return Status::InvalidArgument(
        "the contact code given belongs to someone else than this conversation's partner");
  }
  if (body.size() != kBodySize) {
    return Status::InvalidArgument("message body is " + std::to_string(body.size()) +
                                   " bytes, not " + std::to_string(kBodySize) +
                                   " (encode it with EncodeBody)");
  }

  Record* record = s.Choose(me.keys.public_key);
  std::optional<Record> fresh;
  if (record == nullptr) {
    auto start = StartSession(me, peer_code.identity_key, peer_code.prekey, *s.rng);
    if (!start.ok()) return start.status();
    auto session = RatchetSession::Initiate(start->agreed, peer_code.prekey, *s.rng);
    if (!session.ok()) return session.status();
    fresh =
        Record{std::move(*session), true, start->header.ephemeral, peer_code.prekey, false, 0, 0};
    record = &*fresh;
  }

  auto ratchet_message = record->session.Encrypt(body);
  if (!ratchet_message.ok()) return ratchet_message.status();
  SOTTO_CHECK(ratchet_message->size() == kSphinxMessageSize - kSlotSize);

  // The slot: a fresh session header while unconfirmed (never the same bytes twice), else random.
  Bytes out(kSlotSize);
  if (record->prekey) {
    auto header = SealSessionHeader(X3dhHeader{me.keys.public_key, record->ephemeral},
                                    *record->prekey, *s.rng);
    if (!header.ok()) return header.status();
    std::copy(header->begin(), header->end(), out.begin());
  } else {
    s.rng->Fill(out);
  }
  Append(out, *ratchet_message);

  if (fresh) {
    fresh->created = s.Tick();
    s.records.push_back(std::move(*fresh));
    record = &s.records.back();
  }
  record->last_used = s.Tick();
  return out;
}

Result<Bytes> PeerSessions::TryOpen(ByteSpan sphinx_message) {
  SOTTO_CHECK(s_ != nullptr);
  State& s = *s_;
  if (sphinx_message.size() != kSphinxMessageSize) {
    return Status::InvalidArgument("message is " + std::to_string(sphinx_message.size()) +
                                   " bytes, not " + std::to_string(kSphinxMessageSize));
  }
  const ByteSpan ratchet_message = sphinx_message.subspan(kSlotSize);
  // A failed Decrypt leaves a session unchanged (ratchet.h), so trying each in turn is safe.
  // Most recently used first: that is where the next message usually is.
  std::vector<Record*> order;
  for (Record& r : s.records) order.push_back(&r);
  std::sort(order.begin(), order.end(),
            [](const Record* a, const Record* b) { return a->last_used > b->last_used; });
  for (Record* r : order) {
    auto plain = r->session.Decrypt(ratchet_message);
    if (!plain.ok()) continue;
    r->confirmed = true;
    r->prekey.reset();
    r->last_used = s.Tick();
    return plain;
  }
  return Status::NotFound("no session with this partner opens the message");
}

Result<Bytes> PeerSessions::OpenNewSession(const IdentityKeys& me, const PreKey& my_prekey,
                                           const X3dhHeader& header, ByteSpan sphinx_message) {
  SOTTO_CHECK(s_ != nullptr);
  State& s = *s_;
  if (!SameKey(header.initiator_identity, s.peer)) {
    return Status::InvalidArgument("the session header is from someone else than this partner");
  }
  if (sphinx_message.size() != kSphinxMessageSize) {
    return Status::InvalidArgument("message is " + std::to_string(sphinx_message.size()) +
                                   " bytes, not " + std::to_string(kSphinxMessageSize));
  }
  const ByteSpan ratchet_message = sphinx_message.subspan(kSlotSize);

  // A later message of a session we already accepted (it still carries the header).
  for (Record& r : s.records) {
    if (r.initiated_by_me || !SameKey(r.ephemeral, header.ephemeral)) continue;
    auto plain = r.session.Decrypt(ratchet_message);
    if (!plain.ok()) return plain.status();
    r.last_used = s.Tick();
    return plain;
  }
  if (s.IsRetired(header.ephemeral)) {
    return Status::InvalidArgument(
        "message belongs to a session that was closed (a replay, or delivered very late)");
  }

  auto agreed = AcceptSession(me, my_prekey, header);
  if (!agreed.ok()) return agreed.status();
  RatchetSession session = RatchetSession::Respond(*agreed, my_prekey, *s.rng);
  auto plain = session.Decrypt(ratchet_message);
  if (!plain.ok()) return plain.status();
  const std::uint64_t now = s.Tick();
  s.records.push_back(
      Record{std::move(session), false, header.ephemeral, std::nullopt, true, now, now});
  s.EnforceCap();
  return plain;
}

Bytes PeerSessions::Serialize() const {
  SOTTO_CHECK(s_ != nullptr);
  const State& s = *s_;
  // The ratchet states hold secret keys: size the output once so that no reallocation leaves a
  // copy behind in freed memory, and wipe the temporaries.
  std::vector<Bytes> states;
  std::size_t total = kFixedSize + s.retired.size() * kX25519KeySize + kChecksumSize;
  for (const Record& r : s.records) {
    states.push_back(r.session.Serialize());
    total += kRecordFixedSize + (r.prekey ? kX25519KeySize : 0) + states.back().size();
  }
  Bytes out;
  out.reserve(total);
  Append(out, kMagic);
  out.push_back(kVersion);
  Append(out, s.peer.bytes);
  PutBe(out, s.clock, 8);
  out.push_back(static_cast<std::uint8_t>(s.records.size()));
  out.push_back(static_cast<std::uint8_t>(s.retired.size()));
  for (const PublicKey& k : s.retired) Append(out, k.bytes);
  for (std::size_t i = 0; i < s.records.size(); ++i) {
    const Record& r = s.records[i];
    out.push_back(static_cast<std::uint8_t>((r.initiated_by_me ? kInitiatedByMe : 0) |
                                            (r.confirmed ? kConfirmed : 0) |
                                            (r.prekey ? kHasPrekey : 0)));
    Append(out, r.ephemeral.bytes);
    PutBe(out, r.created, 8);
    PutBe(out, r.last_used, 8);
    PutBe(out, states[i].size(), 4);
    if (r.prekey) Append(out, r.prekey->bytes);
    Append(out, states[i]);
    sodium_memzero(states[i].data(), states[i].size());
  }
  std::array<std::uint8_t, kChecksumSize> sum{};
  crypto_generichash(sum.data(), sum.size(), out.data(), out.size(), nullptr, 0);
  Append(out, sum);
  SOTTO_CHECK(out.size() == total);
  return out;
}

Result<PeerSessions> PeerSessions::Deserialize(ByteSpan blob, Rng& rng) {
  if (blob.size() >= 4 && std::equal(kMagic.begin(), kMagic.end(), blob.begin()) && blob[3] == 1) {
    return Status::NotFound(
        "stored sessions were made by an older Sotto version (format 1); the conversation will "
        "start a new session");
  }
  if (blob.size() < kFixedSize + kChecksumSize) {
    return Corrupt("truncated: " + std::to_string(blob.size()) + " bytes");
  }
  if (!std::equal(kMagic.begin(), kMagic.end(), blob.begin())) {
    return Status::Corruption("not a Sotto session set");
  }
  if (blob[3] != kVersion) {
    return Status::Corruption("stored sessions have unknown format version " +
                              std::to_string(blob[3]) + " (made by a newer Sotto version?)");
  }
  const ByteSpan body = blob.first(blob.size() - kChecksumSize);
  std::array<std::uint8_t, kChecksumSize> sum{};
  crypto_generichash(sum.data(), sum.size(), body.data(), body.size(), nullptr, 0);
  if (sodium_memcmp(sum.data(), blob.data() + body.size(), kChecksumSize) != 0) {
    return Corrupt("checksum mismatch");
  }

  Reader in(body);
  in.Take(kMagic.size() + 1);
  PeerSessions out(in.Key(), rng);
  State& s = *out.s_;
  s.clock = in.Be(8);
  const auto count = static_cast<std::size_t>(in.Be(1));
  const auto retired = static_cast<std::size_t>(in.Be(1));
  if (count > kMaxSessionsPerPeer || retired > kMaxRetired) return Corrupt("too many entries");
  for (std::size_t i = 0; i < retired && !in.failed(); ++i) s.retired.push_back(in.Key());
  for (std::size_t i = 0; i < count; ++i) {
    const auto flags = static_cast<std::uint8_t>(in.Be(1));
    const PublicKey ephemeral = in.Key();
    const std::uint64_t created = in.Be(8);
    const std::uint64_t last_used = in.Be(8);
    const auto state_size = static_cast<std::size_t>(in.Be(4));
    if (in.failed()) return Corrupt("truncated");
    const bool mine = (flags & kInitiatedByMe) != 0, confirmed = (flags & kConfirmed) != 0;
    const bool has_prekey = (flags & kHasPrekey) != 0;
    // A pre-key exactly while an initiator session is unconfirmed; responders are confirmed.
    if ((flags & ~(kInitiatedByMe | kConfirmed | kHasPrekey)) != 0 ||
        has_prekey != (mine && !confirmed) || (!mine && !confirmed)) {
      return Corrupt("inconsistent session flags");
    }
    if (created > last_used || last_used > s.clock) return Corrupt("inconsistent counters");
    std::optional<PublicKey> prekey;
    if (has_prekey) {
      prekey = in.Key();
      if (in.failed()) return Corrupt("truncated");
    }
    const ByteSpan state = in.Take(state_size);
    if (in.failed()) return Corrupt("truncated");
    auto session = RatchetSession::Deserialize(state, rng);
    if (!session.ok()) return Corrupt(session.status().message());
    s.records.push_back(
        Record{std::move(*session), mine, ephemeral, prekey, confirmed, created, last_used});
  }
  if (in.failed() || !in.done()) return Corrupt("wrong length");
  return out;
}

}  // namespace sotto::client
