// ClientEngine (client_engine.h): the engine thread's work, between the store and the wire.
#include "client_engine.h"

#include <sodium.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "sotto/core/mailbox.h"

namespace sotto::client {
namespace {

using namespace std::chrono_literals;

std::int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Result<std::unique_ptr<ClientEngine>> ClientEngine::Create(std::unique_ptr<ClientStore> store,
                                                           LoopKey loop_key,
                                                           WireExchange& exchange) {
  auto profile = store->LoadProfile();
  if (!profile.ok()) {
    return Status::NotFound("no identity in this home (run `sotto init`): " +
                            profile.status().message());
  }
  auto settings = store->LoadSettings();
  if (!settings.ok()) return settings.status();
  std::unique_ptr<ClientEngine> engine(
      new ClientEngine(std::move(store), std::move(profile.value()), settings.value(),
                       std::move(loop_key), exchange));
  engine->sessions_.Load();
  engine->outgoing_.Load();
  return engine;
}

ClientEngine::ClientEngine(std::unique_ptr<ClientStore> store, Profile profile, Settings settings,
                           LoopKey loop_key, WireExchange& exchange)
    : store_(std::move(store)),
      profile_(std::move(profile)),
      identity_{
          KeyPair{DerivePublicKey(profile_.identity_secret), profile_.identity_secret.Clone()}},
      prekey_{KeyPair{DerivePublicKey(profile_.prekey_secret), profile_.prekey_secret.Clone()}},
      loop_key_(std::move(loop_key)),
      exchange_(exchange),
      receipts_(settings, SystemRng()),
      sessions_(*store_, identity_, prekey_),
      outgoing_(*store_,
                [this](const OutboxEntry& e) -> Result<Bytes> {
                  auto contact = store_->FindContactByIdentity(e.peer);
                  if (!contact) return Status::NotFound("the recipient is not a contact");
                  return sessions_.Seal(contact->code, e.body);
                }),
      processor_(*store_, sessions_, loop_key_,
                 [this](const PublicKey& from, const MessageId& id) { OnTextStored(from, id); }) {
  const auto link_keys = transport::CurveKeyPair::FromSecret(profile_.link_secret.Clone());
  mailbox_ = MailboxForLinkKey(link_keys.public_key);
}

ClientEngine::~ClientEngine() = default;

WireLoop::Identity ClientEngine::WireIdentity() const {
  return WireLoop::Identity{transport::CurveKeyPair::FromSecret(profile_.link_secret.Clone()),
                            profile_.provider, mailbox_, loop_key_.Clone()};
}

directory::AuthorityInfo ClientEngine::Authority() const {
  directory::AuthorityInfo a;
  a.address = profile_.directory_address;
  a.link_key = profile_.directory_link_key;
  a.verify_key.bytes = profile_.directory_verify_key;
  a.clock.genesis_unix = profile_.genesis_unix;
  a.clock.length_s = profile_.epoch_length_s;
  return a;
}

void ClientEngine::NoteError(const std::string& what) {
  if (what != last_error_) spdlog::warn("{}", what);
  last_error_ = what;
}

std::string ClientEngine::last_error() const {
  const auto wire = exchange_.error();
  if (!exchange_.counters.connected.load() && !wire.empty()) return wire;
  return last_error_.empty() ? wire : last_error_;
}

void ClientEngine::OnTextStored(const PublicKey& from, const MessageId& id) {
  if (!receipts_.enabled()) return;
  auto contact = store_->FindContactByIdentity(from);
  if (!contact) return;  // no address to answer to until they are added as a contact
  if (auto s = outgoing_.AddReceipt(contact->code, id, receipts_, NowMs()); !s.ok()) {
    NoteError("could not queue a delivery receipt: " + s.message());
  }
}

Status ClientEngine::QueueText(HistoryEntry entry, const ContactCode& to, const MessageBody& body) {
  return outgoing_.AddText(std::move(entry), to, body, NowMs());
}

Status ClientEngine::SetSettings(const Settings& settings) {
  if (auto s = store_->SaveSettings(settings); !s.ok()) return s;
  receipts_.Update(settings);
  if (!receipts_.enabled()) {
    if (auto n = outgoing_.DropReceipts(); n > 0) {
      spdlog::info("receipts turned off: {} waiting receipt(s) deleted", n);
    }
  }
  return Status::Ok();
}

std::chrono::milliseconds ClientEngine::Tick() {
  const auto now_ms = NowMs();
  auto news = exchange_.Drain();
  for (auto& item : news.mail) {
    const auto outcome = processor_.Process(item.payload, now_ms / 1000);
    sodium_memzero(item.payload.data(), item.payload.size());
    exchange_.MailResult(item.id, outcome == MailProcessor::Outcome::kDone);
  }
  for (const auto& o : news.outcomes) {
    switch (o.kind) {
      case OutcomeKind::kAcked:
        if (auto id = outgoing_.Acked(o.outbox_seq)) {
          (void)store_->SetStatus(*id, DeliveryStatus::kSent);
        }
        break;
      case OutcomeKind::kGaveUp:
        outgoing_.GaveUp(o.outbox_seq, now_ms);
        break;
      case OutcomeKind::kReturned:
        outgoing_.Returned(o.outbox_seq, now_ms);
        break;
    }
  }
  if (auto e = processor_.TakeError()) NoteError(*e);
  // Sealed messages for the wire thread's payload slots.
  const auto consensus = exchange_.consensus();
  const std::size_t waiting = exchange_.offered();
  if (consensus && waiting < kOfferDepth && outgoing_.size() > outgoing_.held()) {
    const auto routable = [&](const sphinx::NodeId& p) { return Routable(*consensus, p); };
    for (auto& packet : outgoing_.Offer(kOfferDepth - waiting, now_ms, routable)) {
      exchange_.Offer(std::move(packet));
    }
  }
  if (auto e = outgoing_.TakeError()) NoteError(*e);
  const auto now = std::chrono::steady_clock::now();
  if (now >= next_purge_) {
    if (auto n = store_->PurgeExpired(now_ms / 1000); n > 0) {
      spdlog::info("deleted {} expired message(s)", n);
    }
    next_purge_ = now + 30s;
  }
  const auto due = outgoing_.NextDue();
  // At most 100 ms: the wire thread takes offered messages without ringing (so that a real slot
  // does no more work than a cover one), and the engine tops the offer up on its next tick.
  const auto until_due = due == INT64_MAX ? 100ms : std::chrono::milliseconds(due - NowMs());
  return std::clamp<std::chrono::milliseconds>(until_due, 20ms, 100ms);
}

}  // namespace sotto::client
