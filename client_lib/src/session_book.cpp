// SessionBook (session_book.h): ratchet sessions in memory and on disk.
#include "session_book.h"

#include <sodium.h>
#include <spdlog/spdlog.h>

namespace sotto::client {
namespace {
std::string KeyHex(const PublicKey& k) { return ToHex(k.bytes); }
}  // namespace

void SessionBook::Load() {
  for (const auto& peer : store_.SessionPeers()) {
    auto blob = store_.LoadSessions(peer);
    if (!blob.ok()) {
      spdlog::warn("a session file could not be read ({}); its conversation restarts",
                   blob.status().message());
      continue;
    }
    auto sessions = PeerSessions::Deserialize(blob.value());
    sodium_memzero(blob.value().data(), blob.value().size());
    if (!sessions.ok()) {
      if (sessions.status().code() == Status::Code::kNotFound) {  // an older format
        spdlog::info(
            "a session from an older Sotto version was set aside ({}); the next "
            "message starts a new one",
            sessions.status().message());
      } else {
        spdlog::warn("a session file is damaged ({}); its conversation restarts",
                     sessions.status().message());
      }
      continue;
    }
    sessions_.insert_or_assign(KeyHex(peer), std::move(sessions.value()));
  }
}

PeerSessions& SessionBook::For(const PublicKey& peer) {
  auto it = sessions_.find(KeyHex(peer));
  if (it == sessions_.end()) it = sessions_.emplace(KeyHex(peer), PeerSessions(peer)).first;
  return it->second;
}

Status SessionBook::Save(const PublicKey& peer) {
  auto blob = For(peer).Serialize();
  auto s = store_.SaveSessions(peer, blob);
  sodium_memzero(blob.data(), blob.size());
  return s;
}

void SessionBook::Reload(const PublicKey& peer) {
  sessions_.erase(KeyHex(peer));
  auto blob = store_.LoadSessions(peer);
  if (!blob.ok()) return;
  auto sessions = PeerSessions::Deserialize(blob.value());
  sodium_memzero(blob.value().data(), blob.value().size());
  if (sessions.ok()) sessions_.emplace(KeyHex(peer), std::move(sessions.value()));
}

Result<Bytes> SessionBook::Seal(const ContactCode& code, ByteSpan body) {
  auto sealed = For(code.identity_key).Seal(me_, code, body);
  if (!sealed.ok()) return sealed.status();
  // The session advances on disk before the ciphertext is used: a crash in between loses this
  // ciphertext but never reuses a message key.
  if (auto s = Save(code.identity_key); !s.ok()) {
    sodium_memzero(sealed.value().data(), sealed.value().size());
    Reload(code.identity_key);
    return s;
  }
  return sealed;
}

Result<SessionBook::Opened> SessionBook::Open(ByteSpan payload) {
  for (auto& [hex, sessions] : sessions_) {
    auto body = sessions.TryOpen(payload);
    if (body.ok()) return Opened{sessions.peer(), std::move(body.value())};
  }
  auto header = X3dhHeader::Open(payload, prekey_);
  if (!header.ok()) return Status::NotFound("no session opens this message");
  const auto peer = header.value().initiator_identity;
  auto it = sessions_.find(KeyHex(peer));
  if (it != sessions_.end()) {
    auto body = it->second.OpenNewSession(me_, prekey_, header.value(), payload);
    if (!body.ok()) return Status::NotFound("no session opens this message");
    return Opened{peer, std::move(body.value())};
  }
  PeerSessions fresh(peer);  // a new partner is only remembered once their message opened
  auto body = fresh.OpenNewSession(me_, prekey_, header.value(), payload);
  if (!body.ok()) return Status::NotFound("no session opens this message");
  sessions_.emplace(KeyHex(peer), std::move(fresh));
  return Opened{peer, std::move(body.value())};
}

}  // namespace sotto::client
