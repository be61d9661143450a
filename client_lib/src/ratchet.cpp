// The Double Ratchet (papers/e2ee-spec.md §4–§6). Decrypt works on local copies of everything it
// would change and commits only after the message authenticated, so a failure changes nothing.
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

constexpr std::string_view kLabelPrefix = "sotto-ratchet-v1/";
constexpr std::array<std::uint8_t, 4> kStateMagic = {'S', 'R', 'S', 1};
constexpr std::size_t kStateFixedSize = 4 + 1 + kAssociatedDataSize + 32 * 5 + 4 * 3 + 4;
constexpr std::size_t kSkippedEntrySize = 32 + 4 + 32;
constexpr std::size_t kChecksumSize = 32;
constexpr std::uint8_t kHasDhr = 1, kHasCks = 2, kHasCkr = 4;

// out = BLAKE2b(key, "sotto-ratchet-v1/" ‖ label ‖ input, |out|).
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

// KDF_RK: (root key, chain key) from the root key and a DH output.
std::pair<Key32, Key32> KdfRk(const Key32& rk, const Key32& dh_out) {
  Secret<64> out;
  Kdf(rk.Bytes(), "root", dh_out.Bytes(), out.MutableBytes());
  return {Key32(out.Bytes().first<32>()), Key32(out.Bytes().last<32>())};
}

// KDF_CK: advances `ck` in place and returns the message key.
Key32 KdfCk(Key32& ck) {
  Key32 mk, next;
  Kdf(ck.Bytes(), "message", {}, mk.MutableBytes());
  Kdf(ck.Bytes(), "chain", {}, next.MutableBytes());
  ck = std::move(next);
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

Bytes EncodeHeader(const Header& h) {
  Bytes out;
  out.reserve(kRatchetHeaderSize);
  Append(out, h.dh.bytes);
  PutU32(out, h.pn);
  PutU32(out, h.n);
  return out;
}

Status AuthFailure() {
  return Status::CryptoError(
      "message could not be authenticated: tampered, a replay, or not for this session");
}

// A message key kept for a message that has not arrived yet.
struct SkippedKey {
  PublicKey dh;  // the sender's ratchet public key of that chain
  std::uint32_t n = 0;
  Key32 mk;
};

}  // namespace

struct RatchetSession::State {
  AssociatedData ad{};
  Key32 rk;
  KeyPair dhs;
  std::optional<PublicKey> dhr;
  std::optional<Key32> cks;
  std::optional<Key32> ckr;
  std::uint32_t ns = 0, nr = 0, pn = 0;
  std::vector<SkippedKey> skipped;  // insertion order, oldest first; at most kMaxSkip

  void AddSkipped(std::vector<SkippedKey>&& fresh) {
    for (auto& k : fresh) skipped.push_back(std::move(k));
    if (skipped.size() > kMaxSkip) {
      skipped.erase(skipped.begin(),
                    skipped.begin() + static_cast<std::ptrdiff_t>(skipped.size() - kMaxSkip));
    }
  }
};

namespace {

// Derives the message keys [from, until) of a chain into `out`, advancing `ck`.
void SkipKeys(Key32& ck, const PublicKey& dh, std::uint32_t from, std::uint32_t until,
              std::vector<SkippedKey>& out) {
  for (std::uint32_t i = from; i < until; ++i) out.push_back(SkippedKey{dh, i, KdfCk(ck)});
}

Result<Bytes> Open(const Key32& mk, ByteSpan aad, ByteSpan ciphertext) {
  AeadKeys k = DeriveAead(mk);
  Bytes plain(ciphertext.size() - kAeadTagSize);
  unsigned long long plain_len = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(plain.data(), &plain_len, nullptr,
                                                 ciphertext.data(), ciphertext.size(), aad.data(),
                                                 aad.size(), k.nonce.data(), k.key.data()) != 0) {
    return AuthFailure();
  }
  return plain;
}

bool SameKey(const PublicKey& a, const PublicKey& b) {
  return sodium_memcmp(a.bytes.data(), b.bytes.data(), kX25519KeySize) == 0;
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
  auto [rk, cks] = KdfRk(agreed.shared_key, dh_out);
  s->rk = std::move(rk);
  s->cks = std::move(cks);
  s->dhr = their_prekey;
  return RatchetSession(std::move(s), rng);
}

RatchetSession RatchetSession::Respond(const AgreedSecret& agreed, const PreKey& my_prekey,
                                       Rng& rng) {
  auto s = std::make_unique<State>();
  s->ad = agreed.associated_data;
  s->dhs = KeyPair{my_prekey.keys.public_key, my_prekey.keys.secret_key.Clone()};
  s->rk = agreed.shared_key.Clone();
  return RatchetSession(std::move(s), rng);
}

Result<Bytes> RatchetSession::Encrypt(ByteSpan plaintext) {
  SOTTO_CHECK(s_ != nullptr);
  if (!s_->cks) {
    return Status::InvalidArgument(
        "cannot send yet: the responder can send only after decrypting the initiator's first "
        "message");
  }
  if (s_->ns == UINT32_MAX) {
    return Status::InvalidArgument(
        "sending chain exhausted (2^32-1 messages); start a new session");
  }
  Key32 mk = KdfCk(*s_->cks);
  Bytes out = EncodeHeader(Header{s_->dhs.public_key, s_->pn, s_->ns});
  ++s_->ns;
  Bytes aad(s_->ad.begin(), s_->ad.end());
  Append(aad, out);
  AeadKeys k = DeriveAead(mk);
  out.resize(kRatchetHeaderSize + plaintext.size() + kAeadTagSize);
  unsigned long long ct_len = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(out.data() + kRatchetHeaderSize, &ct_len,
                                             plaintext.data(), plaintext.size(), aad.data(),
                                             aad.size(), nullptr, k.nonce.data(), k.key.data());
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
  const Header h{ReadKey(message), GetU32(message.subspan(32, 4)), GetU32(message.subspan(36, 4))};
  Bytes aad(s.ad.begin(), s.ad.end());
  Append(aad, message.first(kRatchetHeaderSize));
  const ByteSpan body = message.subspan(kRatchetHeaderSize);

  // 1. A key kept for a message that arrived out of order.
  for (auto it = s.skipped.begin(); it != s.skipped.end(); ++it) {
    if (it->n == h.n && SameKey(it->dh, h.dh)) {
      auto plain = Open(it->mk, aad, body);
      if (plain.ok()) s.skipped.erase(it);  // each key decrypts once
      return plain;
    }
  }

  // 2. The current receiving chain.
  if (s.dhr && SameKey(*s.dhr, h.dh)) {
    if (!s.ckr) return AuthFailure();  // the initiator's view of the pre-key: never a sender key
    if (h.n < s.nr) {
      return Status::InvalidArgument(
          "message already decrypted (replay or duplicate): its key was deleted after use");
    }
    if (h.n - s.nr > kMaxSkip) {
      return Status::InvalidArgument("message skips " + std::to_string(h.n - s.nr) +
                                     " earlier messages, more than the limit of " +
                                     std::to_string(kMaxSkip) + "; it was dropped");
    }
    Key32 ck = s.ckr->Clone();
    std::vector<SkippedKey> fresh;
    SkipKeys(ck, h.dh, s.nr, h.n, fresh);
    Key32 mk = KdfCk(ck);
    auto plain = Open(mk, aad, body);
    if (!plain.ok()) return plain;
    s.ckr = std::move(ck);
    s.nr = h.n + 1;
    s.AddSkipped(std::move(fresh));
    return plain;
  }

  // 3. A new ratchet public key from the peer: a DH ratchet step. Of the previous receiving
  // chain's unread messages (PN − Nr of them) at most kMaxSkip keys are kept; the message itself
  // is not refused for that, or a session whose peer lost more than kMaxSkip messages in one
  // chain could never move on (spec §4).
  if (h.n > kMaxSkip) {
    return Status::InvalidArgument("message skips " + std::to_string(h.n) +
                                   " earlier messages, more than the limit of " +
                                   std::to_string(kMaxSkip) + "; it was dropped");
  }
  const std::uint32_t old_skip =
      (s.ckr && h.pn > s.nr) ? std::min<std::uint32_t>(h.pn - s.nr, kMaxSkip) : 0;
  std::vector<SkippedKey> fresh;
  if (s.ckr && s.dhr) {
    Key32 old_ck = s.ckr->Clone();
    SkipKeys(old_ck, *s.dhr, s.nr, s.nr + old_skip, fresh);
  }
  Key32 dh_out;
  if (crypto_scalarmult(dh_out.data(), s.dhs.secret_key.data(), h.dh.bytes.data()) != 0) {
    return AuthFailure();  // a low-order ratchet key is never honest
  }
  auto [rk_mid, ckr] = KdfRk(s.rk, dh_out);
  SkipKeys(ckr, h.dh, 0, h.n, fresh);
  Key32 mk = KdfCk(ckr);
  auto plain = Open(mk, aad, body);
  if (!plain.ok()) return plain;

  // Authenticated: our next sending chain, with a fresh ratchet key pair.
  KeyPair dhs = KeyPair::Generate(*rng_);
  Key32 dh_send;
  if (crypto_scalarmult(dh_send.data(), dhs.secret_key.data(), h.dh.bytes.data()) != 0) {
    return AuthFailure();
  }
  auto [rk_new, cks] = KdfRk(rk_mid, dh_send);
  s.pn = s.ns;
  s.ns = 0;
  s.nr = h.n + 1;
  s.dhr = h.dh;
  s.ckr = std::move(ckr);
  s.cks = std::move(cks);
  s.rk = std::move(rk_new);
  s.dhs = std::move(dhs);
  s.AddSkipped(std::move(fresh));
  return plain;
}

Bytes RatchetSession::Serialize() const {
  SOTTO_CHECK(s_ != nullptr);
  const State& s = *s_;
  static const std::array<std::uint8_t, 32> kZero{};
  Bytes out;
  out.reserve(kStateFixedSize + s.skipped.size() * kSkippedEntrySize + kChecksumSize);
  Append(out, kStateMagic);
  out.push_back(static_cast<std::uint8_t>((s.dhr ? kHasDhr : 0) | (s.cks ? kHasCks : 0) |
                                          (s.ckr ? kHasCkr : 0)));
  Append(out, s.ad);
  Append(out, s.rk.Bytes());
  Append(out, s.dhs.secret_key.Bytes());
  if (s.dhr)
    Append(out, s.dhr->bytes);
  else
    Append(out, kZero);
  if (s.cks)
    Append(out, s.cks->Bytes());
  else
    Append(out, kZero);
  if (s.ckr)
    Append(out, s.ckr->Bytes());
  else
    Append(out, kZero);
  PutU32(out, s.ns);
  PutU32(out, s.nr);
  PutU32(out, s.pn);
  PutU32(out, static_cast<std::uint32_t>(s.skipped.size()));
  for (const auto& k : s.skipped) {
    Append(out, k.dh.bytes);
    PutU32(out, k.n);
    Append(out, k.mk.Bytes());
  }
  std::array<std::uint8_t, kChecksumSize> sum{};
  crypto_generichash(sum.data(), sum.size(), out.data(), out.size(), nullptr, 0);
  Append(out, sum);
  return out;
}

Result<RatchetSession> RatchetSession::Deserialize(ByteSpan blob, Rng& rng) {
  if (blob.size() < kStateFixedSize + kChecksumSize) {
    return Status::Corruption("session state truncated: " + std::to_string(blob.size()) +
                              " bytes, at least " +
                              std::to_string(kStateFixedSize + kChecksumSize) + " expected");
  }
  if (!std::equal(kStateMagic.begin(), kStateMagic.end(), blob.begin())) {
    return Status::Corruption("not a Sotto session state (or an unsupported version)");
  }
  const ByteSpan body = blob.first(blob.size() - kChecksumSize);
  std::array<std::uint8_t, kChecksumSize> sum{};
  crypto_generichash(sum.data(), sum.size(), body.data(), body.size(), nullptr, 0);
  if (sodium_memcmp(sum.data(), blob.data() + body.size(), kChecksumSize) != 0) {
    return Status::Corruption("session state is corrupt (checksum mismatch)");
  }
  const std::uint8_t flags = body[4];
  const std::uint32_t count = GetU32(body.subspan(kStateFixedSize - 4, 4));
  if ((flags & ~(kHasDhr | kHasCks | kHasCkr)) != 0 || ((flags & kHasCkr) && !(flags & kHasDhr))) {
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
  const PublicKey dhr = ReadKey(take(32));
  if (flags & kHasDhr) s->dhr = dhr;
  Key32 cks(take32()), ckr(take32());
  if (flags & kHasCks) s->cks = std::move(cks);
  if (flags & kHasCkr) s->ckr = std::move(ckr);
  s->ns = GetU32(take(4));
  s->nr = GetU32(take(4));
  s->pn = GetU32(take(4));
  take(4);  // count, read above
  s->skipped.reserve(count);
  for (std::uint32_t i = 0; i < count; ++i) {
    const PublicKey dh = ReadKey(take(32));
    const std::uint32_t n = GetU32(take(4));
    s->skipped.push_back(SkippedKey{dh, n, Key32(take32())});
  }
  return RatchetSession(std::move(s), rng);
}

}  // namespace sotto::client
