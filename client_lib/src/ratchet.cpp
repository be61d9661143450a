// The Double Ratchet with header encryption (papers/e2ee-spec.md §4–§6). Decrypt works on local
// copies of everything it would change and commits only after the body authenticated, so a
// failure changes nothing.
#include "sotto/client_lib/ratchet.h"

#include <sodium.h>

#include <algorithm>
#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sotto/core/check.h"
#include "sotto/core/secret.h"

namespace sotto::client {
namespace {

using Key32 = Secret<32>;
using HeaderNonce = std::array<std::uint8_t, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES>;

constexpr std::string_view kLabelPrefix = "sotto-ratchet-v2/";
constexpr std::string_view kHeaderNonceLabel = "sotto-ratchet-v2/header-nonce";
constexpr std::array<std::uint8_t, 3> kStateMagic = {'S', 'R', 'S'};
constexpr std::uint8_t kStateVersion = 2;
// magic ‖ flags ‖ AD ‖ RK, DHs, CKs, CKr, HKs, HKr, NHKs, NHKr ‖ Ns, Nr, PN, count
constexpr std::size_t kStateFixedSize = 4 + 1 + kAssociatedDataSize + 32 * 8 + 4 * 4;  // 341
constexpr std::size_t kSkippedEntrySize = 32 + 4 + 32;
constexpr std::size_t kChecksumSize = 32;
constexpr std::uint8_t kHasSending = 1, kHasReceiving = 2;
static_assert(kStateFixedSize + kChecksumSize == 373);

// out = BLAKE2b(key, "sotto-ratchet-v2/" ‖ label ‖ input, |out|).
void Kdf(ByteSpan key, std::string_view label, ByteSpan input, std::span<std::uint8_t> out) {
  crypto_generichash_state st;
  crypto_generichash_init(&st, key.data(), key.size(), out.size());
  crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(kLabelPrefix.data()),
                            kLabelPrefix.size());
  crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(label.data()),
                            label.size());
  crypto_generichash_update(&st, input.data(), input.size());
  crypto_generichash_final(&st, out.data(), out.size());
  sodium_memzero(&st, sizeof st);
}

Key32 Kdf32(const Key32& key, std::string_view label) {
  Key32 out;
  Kdf(key.Bytes(), label, {}, out.MutableBytes());
  return out;
}

// KDF_RK: (root key, chain key, next header key) from the root key and a DH output.
struct RootStep {
  Key32 rk;
  Key32 ck;
  Key32 nhk;
};
RootStep KdfRk(const Key32& rk, const Key32& dh_out) {
  Secret<64> out;
  Kdf(rk.Bytes(), "root", dh_out.Bytes(), out.MutableBytes());
  RootStep step{Key32(out.Bytes().first<32>()), Key32(out.Bytes().last<32>()), Key32()};
  Kdf(rk.Bytes(), "root-header-key", dh_out.Bytes(), step.nhk.MutableBytes());
  return step;
}

// KDF_CK: advances `ck` in place and returns the message key.
Key32 KdfCk(Key32& ck) {
  Key32 mk = Kdf32(ck, "message");
  ck = Kdf32(ck, "chain");
  return mk;
}

struct AeadKeys {
  Key32 key;
  Secret<crypto_aead_xchacha20poly1305_ietf_NPUBBYTES> nonce;
};
AeadKeys DeriveAead(const Key32& mk) {
  AeadKeys k;
  Kdf(mk.Bytes(), "aead-key", {}, k.key.MutableBytes());
  Kdf(mk.Bytes(), "aead-nonce", {}, k.nonce.MutableBytes());
  return k;
}

// HN(body) = BLAKE2b-192("sotto-ratchet-v2/header-nonce" ‖ body): distinct for every message
// under one header key, because every body is encrypted under its own message key.
HeaderNonce HeaderNonceOf(ByteSpan body) {
  HeaderNonce n{};
  crypto_generichash_state st;
  crypto_generichash_init(&st, nullptr, 0, n.size());
  crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(kHeaderNonceLabel.data()),
                            kHeaderNonceLabel.size());
  crypto_generichash_update(&st, body.data(), body.size());
  crypto_generichash_final(&st, n.data(), n.size());
  return n;
}

void PutU32(Bytes& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(v >> shift));
}
std::uint32_t GetU32(ByteSpan in) {
  return (std::uint32_t{in[0]} << 24) | (std::uint32_t{in[1]} << 16) | (std::uint32_t{in[2]} << 8) |
         std::uint32_t{in[3]};
}
template <class Span>
void Append(Bytes& out, const Span& s) {
  out.insert(out.end(), s.begin(), s.end());
}
PublicKey ReadKey(ByteSpan in) {
  PublicKey k;
  std::copy_n(in.begin(), kX25519KeySize, k.bytes.begin());
  return k;
}

struct Header {
  PublicKey dh;
  std::uint32_t pn = 0;
  std::uint32_t n = 0;
};

Status AuthFailure() {
  return Status::CryptoError(
      "message could not be authenticated: tampered, a replay, or not for this session");
}
Status NotForThisSession() {
  return Status::CryptoError(
      "message could not be authenticated: not for this session (no header key opens it), "
      "tampered, or a replay of a message whose keys are gone");
}

// A message key kept for a message that has not arrived yet.
struct SkippedKey {
  Key32 hk;  // the header key of its chain
  std::uint32_t n = 0;
  Key32 mk;
};

bool SameKey(const Key32& a, const Key32& b) { return a.CtEqual(b); }

}  // namespace

struct RatchetSession::State {
  AssociatedData ad{};
  Key32 rk;
  KeyPair dhs;
  std::optional<Key32> cks, hks;  // the sending chain (present together)
  std::optional<Key32> ckr, hkr;  // the receiving chain (present together)
  Key32 nhks, nhkr;               // header keys of the next sending / receiving chains
  std::uint32_t ns = 0, nr = 0, pn = 0;
  std::vector<SkippedKey> skipped;  // insertion order, oldest first; bounded as in AddSkipped

  // Appends, then enforces the two bounds (spec §4, "Skipped keys"): (a) at most kMaxSkip
  // entries, oldest dropped; (b) at most kMaxSkippedHeaderKeys distinct header keys, the oldest
  // entry's chain dropped entirely.
  void AddSkipped(std::vector<SkippedKey>&& fresh) {
    for (auto& k : fresh) skipped.push_back(std::move(k));
    if (skipped.size() > kMaxSkip) {
      skipped.erase(skipped.begin(),
                    skipped.begin() + static_cast<std::ptrdiff_t>(skipped.size() - kMaxSkip));
    }
    while (DistinctHeaderKeys(skipped).size() > kMaxSkippedHeaderKeys) {
      const Key32 oldest = skipped.front().hk.Clone();
      std::erase_if(skipped, [&](const SkippedKey& k) { return SameKey(k.hk, oldest); });
    }
  }

  // The distinct header keys among `keys`, in the order of first occurrence.
  static std::vector<const Key32*> DistinctHeaderKeys(const std::vector<SkippedKey>& keys) {
    std::vector<const Key32*> out;
    for (const auto& k : keys) {
      // Entries of one chain are contiguous (only the current chain gains entries), so the
      // last key found usually matches at once.
      if (!out.empty() && SameKey(*out.back(), k.hk)) continue;
      if (std::none_of(out.begin(), out.end(), [&](const Key32* h) { return SameKey(*h, k.hk); })) {
        out.push_back(&k.hk);
      }
    }
    return out;
  }
};

namespace {

// Derives the message keys [from, until) of a chain into `out`, advancing `ck`.
void SkipKeys(Key32& ck, const Key32& hk, std::uint32_t from, std::uint32_t until,
              std::vector<SkippedKey>& out) {
  for (std::uint32_t i = from; i < until; ++i) out.push_back(SkippedKey{hk.Clone(), i, KdfCk(ck)});
}

// Opens the body (ciphertext ‖ tag) with the keys of `mk`; aad = AD ‖ plaintext header.
Result<Bytes> OpenBody(const Key32& mk, ByteSpan aad, ByteSpan body) {
  AeadKeys k = DeriveAead(mk);
  Bytes plain(body.size() - kAeadTagSize);
  unsigned long long plain_len = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(plain.data(), &plain_len, nullptr, body.data(),
                                                 body.size(), aad.data(), aad.size(),
                                                 k.nonce.data(), k.key.data()) != 0) {
    return AuthFailure();
  }
  return plain;
}

// The plaintext header, if `hk` opens the encrypted header.
std::optional<Header> OpenHeader(const Key32& hk, const HeaderNonce& nonce,
                                 const AssociatedData& ad, ByteSpan encrypted) {
  std::array<std::uint8_t, kRatchetHeaderSize> h{};
  unsigned long long len = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(h.data(), &len, nullptr, encrypted.data(),
                                                 encrypted.size(), ad.data(), ad.size(),
                                                 nonce.data(), hk.data()) != 0) {
    return std::nullopt;
  }
  const ByteSpan hs(h);
  return Header{ReadKey(hs), GetU32(hs.subspan(32, 4)), GetU32(hs.subspan(36, 4))};
}

Bytes EncodeHeader(const Header& h) {
  Bytes out;
  out.reserve(kRatchetHeaderSize);
  Append(out, h.dh.bytes);
  PutU32(out, h.pn);
  PutU32(out, h.n);
  return out;
}

Status TooManySkipped(std::uint32_t skipped) {
  return Status::InvalidArgument("message skips " + std::to_string(skipped) +
                                 " earlier messages, more than the limit of " +
                                 std::to_string(kMaxSkip) + "; it was dropped");
}

}  // namespace

RatchetSession::RatchetSession(std::unique_ptr<State> state, Rng& rng)
    : s_(std::move(state)), rng_(&rng) {}
RatchetSession::RatchetSession(RatchetSession&&) noexcept = default;
RatchetSession& RatchetSession::operator=(RatchetSession&&) noexcept = default;
RatchetSession::~RatchetSession() = default;

Result<RatchetSession> RatchetSession::Initiate(const AgreedSecret& agreed,
                                                const PublicKey& their_prekey, Rng& rng) {
  auto s = std::make_unique<State>();
  s->ad = agreed.associated_data;
  s->dhs = KeyPair::Generate(rng);
  Key32 dh_out;
  if (crypto_scalarmult(dh_out.data(), s->dhs.secret_key.data(), their_prekey.bytes.data()) != 0) {
    return Status::CryptoError(
        "the contact's pre-key is a low-order point; the contact code is "
        "malformed or malicious");
  }
  RootStep step = KdfRk(agreed.shared_key, dh_out);
  s->rk = std::move(step.rk);
  s->cks = std::move(step.ck);
  s->nhks = std::move(step.nhk);
  s->hks = Kdf32(agreed.shared_key, "initiator-header-key");
  s->nhkr = Kdf32(agreed.shared_key, "responder-header-key");
  return RatchetSession(std::move(s), rng);
}

RatchetSession RatchetSession::Respond(const AgreedSecret& agreed, const PreKey& my_prekey,
                                       Rng& rng) {
  auto s = std::make_unique<State>();
  s->ad = agreed.associated_data;
  s->dhs = KeyPair{my_prekey.keys.public_key, my_prekey.keys.secret_key.Clone()};
  s->rk = agreed.shared_key.Clone();
  s->nhks = Kdf32(agreed.shared_key, "responder-header-key");
  s->nhkr = Kdf32(agreed.shared_key, "initiator-header-key");
  return RatchetSession(std::move(s), rng);
}

Result<Bytes> RatchetSession::Encrypt(ByteSpan plaintext) {
  SOTTO_CHECK(s_ != nullptr);
  State& s = *s_;
  if (!s.cks) {
    return Status::InvalidArgument(
        "cannot send yet: the responder can send only after decrypting the initiator's first "
        "message");
  }
  if (s.ns == UINT32_MAX) {
    return Status::InvalidArgument(
        "sending chain exhausted (2^32-1 messages); start a new session");
  }
  Key32 mk = KdfCk(*s.cks);
  const Bytes header = EncodeHeader(Header{s.dhs.public_key, s.pn, s.ns});
  ++s.ns;
  Bytes aad(s.ad.begin(), s.ad.end());
  Append(aad, header);
  AeadKeys k = DeriveAead(mk);
  Bytes out(kEncryptedHeaderSize + plaintext.size() + kAeadTagSize);
  const auto body = std::span<std::uint8_t>(out).subspan(kEncryptedHeaderSize);
  crypto_aead_xchacha20poly1305_ietf_encrypt(body.data(), nullptr, plaintext.data(),
                                             plaintext.size(), aad.data(), aad.size(), nullptr,
                                             k.nonce.data(), k.key.data());
  const HeaderNonce nonce = HeaderNonceOf(body);
  crypto_aead_xchacha20poly1305_ietf_encrypt(out.data(), nullptr, header.data(), header.size(),
                                             s.ad.data(), s.ad.size(), nullptr, nonce.data(),
                                             s.hks->data());
  return out;
}

Result<Bytes> RatchetSession::Decrypt(ByteSpan message) {
  SOTTO_CHECK(s_ != nullptr);
  State& s = *s_;
  if (message.size() < kRatchetOverhead) {
    return Status::InvalidArgument("message too short: " + std::to_string(message.size()) +
                                   " bytes, at least " + std::to_string(kRatchetOverhead) +
                                   " expected");
  }
  const ByteSpan encrypted_header = message.first(kEncryptedHeaderSize);
  const ByteSpan body = message.subspan(kEncryptedHeaderSize);
  const HeaderNonce nonce = HeaderNonceOf(body);

  // Header trial: skipped chains' header keys (oldest first), then HKr, then NHKr; each once.
  std::vector<const Key32*> candidates = State::DistinctHeaderKeys(s.skipped);
  auto add = [&](const Key32& k) {
    if (std::none_of(candidates.begin(), candidates.end(),
                     [&](const Key32* c) { return SameKey(*c, k); })) {
      candidates.push_back(&k);
    }
  };
  if (s.hkr) add(*s.hkr);
  add(s.nhkr);
  const Key32* key = nullptr;
  std::optional<Header> h;
  for (const Key32* c : candidates) {
    h = OpenHeader(*c, nonce, s.ad, encrypted_header);
    if (h) {
      key = c;
      break;
    }
  }
  if (!h) return NotForThisSession();
  Bytes aad(s.ad.begin(), s.ad.end());
  Append(aad, EncodeHeader(*h));

  // 1. A key kept for a message that arrived out of order.
  for (auto it = s.skipped.begin(); it != s.skipped.end(); ++it) {
    if (it->n == h->n && SameKey(it->hk, *key)) {
      auto plain = OpenBody(it->mk, aad, body);
      if (plain.ok()) s.skipped.erase(it);  // each key decrypts once
      return plain;
    }
  }

  // 2. The current receiving chain.
  if (s.hkr && SameKey(*s.hkr, *key)) {
    if (h->n < s.nr) {
      return Status::InvalidArgument(
          "message already decrypted (replay or duplicate): its key was deleted after use");
    }
    if (h->n - s.nr > kMaxSkip) return TooManySkipped(h->n - s.nr);
    Key32 ck = s.ckr->Clone();
    std::vector<SkippedKey> fresh;
    SkipKeys(ck, *s.hkr, s.nr, h->n, fresh);
    Key32 mk = KdfCk(ck);
    auto plain = OpenBody(mk, aad, body);
    if (!plain.ok()) return plain;
    s.ckr = std::move(ck);
    s.nr = h->n + 1;
    s.AddSkipped(std::move(fresh));
    return plain;
  }

  // 4. An older chain's header key with no key kept for this message: a replay, or a message
  // whose key was given up.
  if (!SameKey(s.nhkr, *key)) {
    return Status::InvalidArgument(
        "message already decrypted (replay or duplicate), or too late: its key is gone");
  }

  // 3. The next receiving chain: a DH ratchet step. Of the current receiving chain's unread
  // messages (PN − Nr of them) at most kMaxSkip keys are kept; the message itself is not refused
  // for that, or a session whose peer lost more than kMaxSkip messages in one chain could never
  // move on (spec §4).
  if (h->n > kMaxSkip) return TooManySkipped(h->n);
  std::vector<SkippedKey> fresh;
  if (s.ckr) {
    const std::uint32_t old_skip =
        h->pn > s.nr ? std::min<std::uint32_t>(h->pn - s.nr, kMaxSkip) : 0;
    Key32 old_ck = s.ckr->Clone();
    SkipKeys(old_ck, *s.hkr, s.nr, s.nr + old_skip, fresh);
  }
  Key32 dh_out;
  if (crypto_scalarmult(dh_out.data(), s.dhs.secret_key.data(), h->dh.bytes.data()) != 0) {
    return AuthFailure();  // a low-order ratchet key is never honest
  }
  RootStep recv = KdfRk(s.rk, dh_out);
  SkipKeys(recv.ck, s.nhkr, 0, h->n, fresh);
  Key32 mk = KdfCk(recv.ck);
  auto plain = OpenBody(mk, aad, body);
  if (!plain.ok()) return plain;

  // Authenticated: our next sending chain, with a fresh ratchet key pair.
  KeyPair dhs = KeyPair::Generate(*rng_);
  Key32 dh_send;
  if (crypto_scalarmult(dh_send.data(), dhs.secret_key.data(), h->dh.bytes.data()) != 0) {
    return AuthFailure();
  }
  RootStep send = KdfRk(recv.rk, dh_send);
  s.pn = s.ns;
  s.ns = 0;
  s.nr = h->n + 1;
  s.hks = std::move(s.nhks);
  s.hkr = std::move(s.nhkr);
  s.nhkr = std::move(recv.nhk);
  s.ckr = std::move(recv.ck);
  s.rk = std::move(send.rk);
  s.cks = std::move(send.ck);
  s.nhks = std::move(send.nhk);
  s.dhs = std::move(dhs);
  s.AddSkipped(std::move(fresh));
  return plain;
}

Bytes RatchetSession::Serialize() const {
  SOTTO_CHECK(s_ != nullptr);
  const State& s = *s_;
  static const std::array<std::uint8_t, 32> kZero{};
  auto optional_key = [&](Bytes& out, const std::optional<Key32>& k) {
    if (k)
      Append(out, k->Bytes());
    else
      Append(out, kZero);
  };
  Bytes out;
  out.reserve(kStateFixedSize + s.skipped.size() * kSkippedEntrySize + kChecksumSize);
  Append(out, kStateMagic);
  out.push_back(kStateVersion);
  out.push_back(static_cast<std::uint8_t>((s.cks ? kHasSending : 0) | (s.ckr ? kHasReceiving : 0)));
  Append(out, s.ad);
  Append(out, s.rk.Bytes());
  Append(out, s.dhs.secret_key.Bytes());
  optional_key(out, s.cks);
  optional_key(out, s.ckr);
  optional_key(out, s.hks);
  optional_key(out, s.hkr);
  Append(out, s.nhks.Bytes());
  Append(out, s.nhkr.Bytes());
  PutU32(out, s.ns);
  PutU32(out, s.nr);
  PutU32(out, s.pn);
  PutU32(out, static_cast<std::uint32_t>(s.skipped.size()));
  for (const auto& k : s.skipped) {
    Append(out, k.hk.Bytes());
    PutU32(out, k.n);
    Append(out, k.mk.Bytes());
  }
  std::array<std::uint8_t, kChecksumSize> sum{};
  crypto_generichash(sum.data(), sum.size(), out.data(), out.size(), nullptr, 0);
  Append(out, sum);
  return out;
}

Result<RatchetSession> RatchetSession::Deserialize(ByteSpan blob, Rng& rng) {
  if (blob.size() >= 4 && std::equal(kStateMagic.begin(), kStateMagic.end(), blob.begin()) &&
      blob[3] == 1) {
    return Status::NotFound(
        "session state was made by an older Sotto version (format 1); the conversation will "
        "start a new session");
  }
  if (blob.size() < kStateFixedSize + kChecksumSize) {
    return Status::Corruption("session state truncated: " + std::to_string(blob.size()) +
                              " bytes, at least " +
                              std::to_string(kStateFixedSize + kChecksumSize) + " expected");
  }
  if (!std::equal(kStateMagic.begin(), kStateMagic.end(), blob.begin())) {
    return Status::Corruption("not a Sotto session state");
  }
  if (blob[3] != kStateVersion) {
    return Status::Corruption("session state has unknown format version " +
                              std::to_string(blob[3]) + " (made by a newer Sotto version?)");
  }
  const ByteSpan body = blob.first(blob.size() - kChecksumSize);
  std::array<std::uint8_t, kChecksumSize> sum{};
  crypto_generichash(sum.data(), sum.size(), body.data(), body.size(), nullptr, 0);
  if (sodium_memcmp(sum.data(), blob.data() + body.size(), kChecksumSize) != 0) {
    return Status::Corruption("session state is corrupt (checksum mismatch)");
  }
  const std::uint8_t flags = body[4];
  const std::uint32_t count = GetU32(body.subspan(kStateFixedSize - 4, 4));
  if ((flags & ~(kHasSending | kHasReceiving)) != 0 ||
      ((flags & kHasReceiving) && !(flags & kHasSending))) {
    return Status::Corruption("session state has inconsistent flags");
  }
  if (count > kMaxSkip || body.size() != kStateFixedSize + count * kSkippedEntrySize) {
    return Status::Corruption("session state has the wrong length for its skipped-key count");
  }
  auto s = std::make_unique<State>();
  std::size_t off = 5;
  auto take = [&](std::size_t n) {
    ByteSpan r = body.subspan(off, n);
    off += n;
    return r;
  };
  auto take32 = [&]() { return take(32).first<32>(); };
  std::copy_n(take(kAssociatedDataSize).begin(), kAssociatedDataSize, s->ad.begin());
  s->rk = Key32(take32());
  SecretKey dhs_secret(take32());
  s->dhs = KeyPair{DerivePublicKey(dhs_secret), std::move(dhs_secret)};
  Key32 cks(take32()), ckr(take32()), hks(take32()), hkr(take32());
  if (flags & kHasSending) {
    s->cks = std::move(cks);
    s->hks = std::move(hks);
  }
  if (flags & kHasReceiving) {
    s->ckr = std::move(ckr);
    s->hkr = std::move(hkr);
  }
  s->nhks = Key32(take32());
  s->nhkr = Key32(take32());
  s->ns = GetU32(take(4));
  s->nr = GetU32(take(4));
  s->pn = GetU32(take(4));
  take(4);  // count, read above
  s->skipped.reserve(count);
  for (std::uint32_t i = 0; i < count; ++i) {
    Key32 hk(take32());
    const std::uint32_t n = GetU32(take(4));
    s->skipped.push_back(SkippedKey{std::move(hk), n, Key32(take32())});
  }
  if (State::DistinctHeaderKeys(s->skipped).size() > kMaxSkippedHeaderKeys) {
    return Status::Corruption("session state keeps skipped keys of more than " +
                              std::to_string(kMaxSkippedHeaderKeys) + " chains");
  }
  return RatchetSession(std::move(s), rng);
}

}  // namespace sotto::client
