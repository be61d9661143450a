// The background client's work: see client_engine.h.
#include "client_engine.h"

#include <sodium.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>

#include "sotto/client_lib/contact_code.h"
#include "sotto/client_lib/ipc.h"
#include "sotto/core/mailbox.h"

namespace sotto::client {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

constexpr auto kProviderTimeout = 2000ms;
constexpr auto kDirectoryTimeout = 2000ms;
constexpr std::uint16_t kFetchBatch = 8;

std::int64_t NowUnix() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

json Fail(std::string_view kind, std::string message) {
  return json{{"ok", false}, {"kind", kind}, {"error", std::move(message)}};
}

json FailFrom(const Status& s) {
  switch (s.code()) {
    case Status::Code::kInvalidArgument:
      return Fail("invalid", s.message());
    case Status::Code::kNotFound:
      return Fail("not_found", s.message());
    case Status::Code::kUnavailable:
      return Fail("unavailable", s.message());
    default:
      return Fail("internal", s.message());
  }
}

std::string KeyHex(const PublicKey& k) { return ToHex(k.bytes); }

std::string IdHex(const MessageId& id) { return ToHex(id); }

const char* StatusName(DeliveryStatus s) {
  switch (s) {
    case DeliveryStatus::kQueued:
      return "queued";
    case DeliveryStatus::kSent:
      return "sent";
    case DeliveryStatus::kDelivered:
      return "delivered";
    case DeliveryStatus::kReceived:
      return "received";
  }
  return "unknown";
}

// A string field of a request, or nullopt.
std::optional<std::string> StringField(const json& request, const char* name) {
  auto it = request.find(name);
  if (it == request.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

}  // namespace

Result<std::unique_ptr<ClientEngine>> ClientEngine::Create(std::unique_ptr<ClientStore> store,
                                                           LoopKey loop_key,
                                                           zmq::context_t& context) {
  auto profile = store->LoadProfile();
  if (!profile.ok()) {
    return Status::NotFound("no identity in this home (run `sotto init`): " +
                            profile.status().message());
  }
  std::unique_ptr<ClientEngine> engine(
      new ClientEngine(std::move(store), std::move(profile.value()), std::move(loop_key), context));
  for (const auto& peer : engine->store_->SessionPeers()) {
    auto blob = engine->store_->LoadSessions(peer);
    if (!blob.ok()) {
      spdlog::warn("a session file could not be read ({}); its conversation restarts",
                   blob.status().message());
      continue;
    }
    auto sessions = PeerSessions::Deserialize(blob.value());
    sodium_memzero(blob.value().data(), blob.value().size());
    if (!sessions.ok()) {
      spdlog::warn("a session file is damaged ({}); its conversation restarts",
                   sessions.status().message());
      continue;
    }
    engine->sessions_.emplace(KeyHex(peer), std::move(sessions.value()));
  }
  return engine;
}

ClientEngine::ClientEngine(std::unique_ptr<ClientStore> store, Profile profile, LoopKey loop_key,
                           zmq::context_t& context)
    : store_(std::move(store)),
      profile_(std::move(profile)),
      identity_{
          KeyPair{DerivePublicKey(profile_.identity_secret), profile_.identity_secret.Clone()}},
      prekey_{KeyPair{DerivePublicKey(profile_.prekey_secret), profile_.prekey_secret.Clone()}},
      link_keys_(transport::CurveKeyPair::FromSecret(profile_.link_secret.Clone())),
      mailbox_(MailboxForLinkKey(link_keys_.public_key)),
      loop_key_(std::move(loop_key)),
      context_(context) {
  authority_.address = profile_.directory_address;
  authority_.link_key = profile_.directory_link_key;
  authority_.verify_key.bytes = profile_.directory_verify_key;
  authority_.clock.genesis_unix = profile_.genesis_unix;
  authority_.clock.length_s = profile_.epoch_length_s;
}

ClientEngine::~ClientEngine() = default;

bool ClientEngine::HasConsensus() const {
  return consensus_ && consensus_->valid_until > NowUnix();
}

const directory::NetworkParams* ClientEngine::Params() const {
  return consensus_ ? &consensus_->params : nullptr;
}

void ClientEngine::NoteError(const std::string& what) {
  if (what != last_error_) spdlog::warn("{}", what);
  last_error_ = what;
}

Status ClientEngine::RefreshConsensus() {
  const auto now = NowUnix();
  const auto epoch = authority_.clock.EpochAt(now);
  // Within an epoch the authority republishes when nodes change (a restarted provider may have a
  // new address): look again every 30 s, and at once while my provider does not answer.
  if (consensus_ && consensus_->epoch == epoch && HasConsensus() && connected_ &&
      std::chrono::steady_clock::now() - last_consensus_fetch_ < 30s) {
    return Status::Ok();
  }
  last_consensus_fetch_ = std::chrono::steady_clock::now();
  // Every fetch from a fresh throw-away key: the directory must not learn my link key (which
  // names my mailbox) or link my fetches together.
  directory_.reset();
  directory_keys_ = std::make_unique<transport::CurveKeyPair>(transport::CurveKeyPair::Generate());
  directory_ = std::make_unique<directory::DirectoryClient>(context_, *directory_keys_, authority_);
  auto fetched = directory_->FetchConsensus(epoch, now, kDirectoryTimeout);
  directory_.reset();
  if (!fetched.ok()) {
    NoteError("no consensus for epoch " + std::to_string(epoch) + ": " +
              fetched.status().message());
    return HasConsensus() ? Status::Ok() : fetched.status();
  }
  if (!consensus_ || !(*consensus_ == fetched.value())) {
    spdlog::info("consensus for epoch {} verified ({} nodes, {} cascades)", fetched.value().epoch,
                 fetched.value().nodes.size(), fetched.value().cascades.size());
  }
  consensus_ = std::move(fetched.value());
  const auto* provider = consensus_->FindNode(profile_.provider);
  if (provider == nullptr) {
    NoteError("my provider " + profile_.provider_name +
              " is not in the consensus; messages wait in the queue until it returns");
    link_.reset();
    return Status::Ok();
  }
  if (!link_ || link_address_ != provider->address) {
    link_ = std::make_unique<ProviderLink>(context_, link_keys_, *provider);
    link_address_ = provider->address;
    provider_retry_at_ = {};  // a new address: try it at once
  }
  return Status::Ok();
}

Result<Bytes> ClientEngine::BuildPacket(const sphinx::NodeId& provider,
                                        const sphinx::MailboxId& mailbox, ByteSpan message) {
  if (!HasConsensus()) return Status::Unavailable("no valid consensus");
  if (consensus_->cascades.empty()) return Status::Unavailable("the consensus has no cascade");
  const auto cascade =
      static_cast<std::size_t>(UniformBelow(SystemRng(), consensus_->cascades.size()));
  auto path = BuildPath(*consensus_, profile_.provider, cascade, provider);
  if (!path.ok()) return path.status();
  return sphinx::CreateForwardPacket(path.value(), mailbox, message);
}

Status ClientEngine::SendPacket(const Bytes& packet) {
  if (!link_) return Status::Unavailable("not connected to my provider");
  auto s = link_->SendPacket(packet, kProviderTimeout);
  if (!s.ok()) {
    ++counters_.send_failures;
    ProviderFailed("my provider did not take a packet: " + s.message());
    return s;
  }
  ProviderAnswered();
  return Status::Ok();
}

bool ClientEngine::ProviderBackingOff() const {
  return std::chrono::steady_clock::now() < provider_retry_at_;
}

void ClientEngine::ProviderFailed(const std::string& what) {
  connected_ = false;
  NoteError(what);
  // Back off (1 s doubling to 30 s) so that an unreachable provider does not stall the daemon
  // (each attempt waits for the timeout); queued messages simply wait.
  provider_backoff_ = std::clamp(provider_backoff_ * 2, std::chrono::milliseconds(1000),
                                 std::chrono::milliseconds(30000));
  provider_retry_at_ = std::chrono::steady_clock::now() + provider_backoff_;
  // A fresh connection for the next attempt (a late reply must not confuse the next request).
  if (const auto* p = consensus_ ? consensus_->FindNode(profile_.provider) : nullptr) {
    link_ = std::make_unique<ProviderLink>(context_, link_keys_, *p);
  }
}

void ClientEngine::ProviderAnswered() {
  if (!connected_ && !last_error_.empty()) spdlog::info("my provider answers again");
  connected_ = true;
  provider_backoff_ = std::chrono::milliseconds(0);
  provider_retry_at_ = {};
}

void ClientEngine::SendOne(PacketKind kind) {
  if (!HasConsensus() || !link_ || ProviderBackingOff()) return;
  if (kind == PacketKind::kPayload) {
    if (auto next = store_->NextOutgoing()) {
      auto packet = BuildPacket(next->provider, next->mailbox, next->sphinx_message);
      if (packet.ok()) {
        if (SendPacket(packet.value()).ok()) {
          ++counters_.real;
          (void)store_->RemoveOutgoing(next->seq);
          (void)store_->SetStatus(next->id, DeliveryStatus::kSent);  // receipts have no entry
        } else {
          (void)store_->CountAttempt(next->seq);
        }
        return;
      }
      // The recipient's provider is not usable in this consensus: the message waits, and this
      // slot carries a drop cover packet as usual.
      NoteError("a queued message cannot be routed now (" + packet.status().message() +
                "); it stays in the queue");
      (void)store_->RequeueAtTail(next->seq);
    }
    kind = PacketKind::kDrop;
  }
  if (kind == PacketKind::kLoop) {
    const auto message = MakeLoopMessage(loop_key_);
    auto packet = BuildPacket(profile_.provider, mailbox_, message);
    if (packet.ok() && SendPacket(packet.value()).ok()) ++counters_.loop;
    return;
  }
  // Drop cover: delivered to the dummy mailbox of a random provider, which discards it.
  auto providers = consensus_->Providers();
  if (providers.empty()) return;
  const auto* target = providers[UniformBelow(SystemRng(), providers.size())];
  Bytes message(kSphinxMessageSize);
  SystemRng().Fill(message);
  auto packet = BuildPacket(target->id(), kDummyMailbox, message);
  if (packet.ok() && SendPacket(packet.value()).ok()) ++counters_.drop;
}

PeerSessions& ClientEngine::SessionsFor(const PublicKey& peer) {
  auto it = sessions_.find(KeyHex(peer));
  if (it == sessions_.end()) it = sessions_.emplace(KeyHex(peer), PeerSessions(peer)).first;
  return it->second;
}

Status ClientEngine::SaveSessions(const PublicKey& peer) {
  auto blob = SessionsFor(peer).Serialize();
  auto s = store_->SaveSessions(peer, blob);
  sodium_memzero(blob.data(), blob.size());
  return s;
}

std::string ClientEngine::NameOf(const PublicKey& peer) {
  if (auto c = store_->FindContactByIdentity(peer)) return c->name;
  return "?" + Fingerprint(peer);
}

Status ClientEngine::QueueForPeer(const PublicKey& peer, const ContactCode& code,
                                  const MessageBody& body, std::optional<HistoryEntry> history) {
  auto encoded = EncodeBody(body);
  if (!encoded.ok()) return encoded.status();
  auto sealed = SessionsFor(peer).Seal(identity_, code, encoded.value());
  sodium_memzero(encoded.value().data(), encoded.value().size());
  if (!sealed.ok()) return sealed.status();
  // The session advances on disk before the message is queued: a crash in between loses this
  // message (the command reports the error) but never reuses a message key.
  if (auto s = SaveSessions(peer); !s.ok()) return s;
  OutboxEntry out;
  out.id = body.id;
  out.peer = peer;
  out.provider = code.provider;
  out.mailbox = code.mailbox;
  out.sphinx_message = std::move(sealed.value());
  out.queued_unix = NowUnix();
  if (history) return store_->AddHistory(std::move(*history), std::move(out)).status();
  return store_->Enqueue(std::move(out)).status();
}

ClientEngine::MailOutcome ClientEngine::ProcessMail(
    const Bytes& payload, std::map<std::string, std::vector<MessageId>>& receipts) {
  if (IsLoopMessage(loop_key_, payload)) {
    ++counters_.loops_returned;
    counters_.last_loop_return_unix = NowUnix();
    return MailOutcome::kDone;
  }
  std::optional<PublicKey> from;
  Result<Bytes> body = Status::NotFound("no session");
  for (auto& [hex, sessions] : sessions_) {
    body = sessions.TryOpen(payload);
    if (body.ok()) {
      from = sessions.peer();
      break;
    }
  }
  if (!from) {
    auto header = X3dhHeader::Open(payload, prekey_);
    if (header.ok()) {
      const auto peer = header.value().initiator_identity;
      auto it = sessions_.find(KeyHex(peer));
      if (it != sessions_.end()) {
        body = it->second.OpenNewSession(identity_, prekey_, header.value(), payload);
      } else {  // a new partner is only remembered once their message opened
        PeerSessions fresh(peer);
        body = fresh.OpenNewSession(identity_, prekey_, header.value(), payload);
        if (body.ok()) sessions_.emplace(KeyHex(peer), std::move(fresh));
      }
      if (body.ok()) from = peer;
    }
  }
  if (!from) {
    ++counters_.undecryptable;
    spdlog::info("dropped a message no session could open");
    return MailOutcome::kDone;
  }
  auto decoded = DecodeBody(body.value());
  sodium_memzero(body.value().data(), body.value().size());
  if (!decoded.ok()) {
    ++counters_.undecryptable;
    spdlog::info("dropped a message with a malformed body");
    (void)SaveSessions(*from);
    return MailOutcome::kDone;
  }
  auto& msg = decoded.value();
  if (msg.type == BodyType::kReceipt) {
    for (const auto& id : msg.receipts) {
      (void)store_->SetStatus(id, DeliveryStatus::kDelivered, *from);  // only what went to them
    }
  } else if (store_->HasMessage(msg.id)) {
    ++counters_.duplicates;
  } else {
    HistoryEntry entry;
    entry.id = msg.id;
    entry.peer = *from;
    entry.direction = Direction::kIncoming;
    entry.status = DeliveryStatus::kReceived;
    entry.text = std::move(msg.text);
    entry.sent_unix = msg.sent_unix;
    entry.stored_unix = NowUnix();
    if (msg.expires_after_s > 0) entry.expires_unix = entry.stored_unix + msg.expires_after_s;
    // History first, then the session: a crash in between re-fetches the message, which the
    // old session opens again and HasMessage then recognises.
    if (auto s = store_->AddHistory(std::move(entry), std::nullopt); !s.ok()) {
      // Not stored: the message stays at the provider (not acknowledged), and the session goes
      // back to its saved state so that it opens the message again next time.
      NoteError("could not store a received message (it stays at the provider): " +
                s.status().message());
      ReloadSessions(*from);
      return MailOutcome::kRetry;
    }
    ++counters_.received;
    receipts[KeyHex(*from)].push_back(msg.id);
  }
  if (auto s = SaveSessions(*from); !s.ok()) NoteError("could not save a session: " + s.message());
  return MailOutcome::kDone;
}

void ClientEngine::ReloadSessions(const PublicKey& peer) {
  sessions_.erase(KeyHex(peer));
  auto blob = store_->LoadSessions(peer);
  if (!blob.ok()) return;
  auto sessions = PeerSessions::Deserialize(blob.value());
  sodium_memzero(blob.value().data(), blob.value().size());
  if (sessions.ok()) sessions_.emplace(KeyHex(peer), std::move(sessions.value()));
}

void ClientEngine::FetchOnce() {
  if (!link_) return;
  if (ProviderBackingOff()) return;
  auto items = link_->Fetch(mailbox_, kFetchBatch, kProviderTimeout);
  if (!items.ok()) {
    ProviderFailed("fetch from my provider failed: " + items.status().message());
    return;
  }
  ProviderAnswered();
  ++counters_.fetches;
  counters_.last_fetch_unix = NowUnix();
  std::map<std::string, std::vector<MessageId>> receipts;
  std::vector<std::uint64_t> ids;
  for (const auto& item : items.value()) {
    if (item.id == 0) continue;  // padding: every MAIL reply has the same size
    if (ProcessMail(item.payload, receipts) == MailOutcome::kRetry) break;
    ids.push_back(item.id);
  }
  for (auto& [hex, list] : receipts) {
    PublicKey key;
    auto raw = FixedFromHex<32>(hex);
    if (!raw.ok()) continue;
    key.bytes = raw.value();
    auto contact = store_->FindContactByIdentity(key);
    if (!contact) continue;  // no address to answer to until they are added as a contact
    for (std::size_t i = 0; i < list.size(); i += kMaxReceiptIds) {
      MessageBody receipt;
      receipt.type = BodyType::kReceipt;
      SystemRng().Fill(receipt.id);
      receipt.sent_unix = NowUnix();
      receipt.receipts.assign(
          list.begin() + static_cast<std::ptrdiff_t>(i),
          list.begin() + static_cast<std::ptrdiff_t>(std::min(list.size(), i + kMaxReceiptIds)));
      if (auto s = QueueForPeer(key, contact->code, receipt, std::nullopt); !s.ok()) {
        NoteError("could not queue a delivery receipt: " + s.message());
      }
    }
  }
  // Every fetch is followed by an ACK of the same size, mail or not (id 0 = padding), so the
  // link shows the same exchange whether mail came or not (client-spec §3).
  ids.resize(kFetchBatch, 0);
  if (auto s = link_->Ack(mailbox_, ids, kProviderTimeout); !s.ok()) {
    NoteError("acknowledging mail failed (it will be fetched again): " + s.message());
  }
}

void ClientEngine::Purge() {
  if (auto n = store_->PurgeExpired(NowUnix()); n > 0) {
    spdlog::info("deleted {} expired message(s)", n);
  }
}

// ---- control requests ------------------------------------------------------------------------

json ClientEngine::Handle(const json& request, bool& stop) {
  const auto cmd = StringField(request, "cmd");
  if (!cmd) return Fail("invalid", "a request needs a \"cmd\" string");
  try {
    if (*cmd == "ping") return json{{"ok", true}, {"pid", ::getpid()}};
    if (*cmd == "status") return Status_();
    if (*cmd == "contact_code") return ContactCodeReply();
    if (*cmd == "contact_add") return ContactAdd(request);
    if (*cmd == "contact_list") return ContactList();
    if (*cmd == "contact_remove") return ContactRemove(request);
    if (*cmd == "send") return Send(request);
    if (*cmd == "inbox") return Inbox(request);
    if (*cmd == "history") return History(request);
    if (*cmd == "shutdown") {
      stop = true;
      return json{{"ok", true}};
    }
  } catch (const json::exception& e) {
    return Fail("invalid", std::string("malformed request: ") + e.what());
  } catch (const std::exception& e) {
    spdlog::error("request failed unexpectedly: {}", e.what());
    return Fail("internal", std::string("the request failed unexpectedly: ") + e.what());
  }
  return Fail("invalid", "unknown request '" + *cmd + "'");
}

json ClientEngine::Status_() {
  const auto* params = Params();
  json rates = nullptr;
  if (params != nullptr) {
    rates = json{{"send_per_min", params->send_rate_per_min},
                 {"loop_per_min", params->cover_loop_per_min},
                 {"drop_per_min", params->cover_drop_per_min},
                 {"fetch_interval_ms", params->fetch_interval_ms}};
  }
  const auto& c = counters_;
  return json{
      {"ok", true},
      {"provider", profile_.provider_name},
      {"provider_id", ToHex(profile_.provider)},
      {"epoch", consensus_ ? json(consensus_->epoch) : json(nullptr)},
      {"consensus", !consensus_ ? "missing" : (HasConsensus() ? "ok" : "stale")},
      {"queue", store_->OutgoingCount()},
      {"rates", rates},
      {"connected", connected_},
      {"last_fetch_unix", c.last_fetch_unix > 0 ? json(c.last_fetch_unix) : json(nullptr)},
      {"last_error", last_error_.empty() ? json(nullptr) : json(last_error_)},
      {"packets",
       {{"real", c.real},
        {"drop", c.drop},
        {"loop", c.loop},
        {"total", c.real + c.drop + c.loop},
        {"failed", c.send_failures},
        {"bytes_each", sphinx::kPacketSize}}},
      {"loops",
       {{"sent", c.loop},
        {"returned", c.loops_returned},
        {"last_return_unix",
         c.last_loop_return_unix > 0 ? json(c.last_loop_return_unix) : json(nullptr)}}},
      {"fetches", c.fetches},
      {"received", c.received},
      {"dropped_undecryptable", c.undecryptable},
      {"contacts", store_->ListContacts().size()},
      {"unread", store_->Unread().size()},
      {"fingerprint", Fingerprint(identity_.keys.public_key)},
  };
}

json ClientEngine::ContactCodeReply() {
  ContactCode code;
  code.identity_key = identity_.keys.public_key;
  code.prekey = prekey_.keys.public_key;
  code.provider = profile_.provider;
  code.mailbox = mailbox_;
  return json{{"ok", true},
              {"code", EncodeContactCode(code, ContactCodeStyle::kGrouped)},
              {"compact", EncodeContactCode(code, ContactCodeStyle::kCompact)},
              {"fingerprint", Fingerprint(code.identity_key)}};
}

json ClientEngine::ContactAdd(const json& request) {
  const auto name = StringField(request, "name");
  const auto text = StringField(request, "code");
  if (!name || !text) return Fail("invalid", "contact_add needs \"name\" and \"code\"");
  auto code = DecodeContactCode(*text);
  if (!code.ok()) return Fail("invalid", code.status().message());
  if (code.value().identity_key == identity_.keys.public_key) {
    return Fail("invalid", "this is your own contact code");
  }
  Contact contact{*name, code.value(), NowUnix()};
  if (auto s = store_->AddContact(contact); !s.ok()) return FailFrom(s);
  return json{
      {"ok", true}, {"name", *name}, {"fingerprint", Fingerprint(code.value().identity_key)}};
}

json ClientEngine::ContactList() {
  json list = json::array();
  for (const auto& c : store_->ListContacts()) {
    const auto* node = consensus_ ? consensus_->FindNode(c.code.provider) : nullptr;
    list.push_back(
        {{"name", c.name},
         {"fingerprint", Fingerprint(c.code.identity_key)},
         {"provider", node != nullptr ? node->name : ToHex(c.code.provider).substr(0, 16)},
         {"added_unix", c.added_unix}});
  }
  return json{{"ok", true}, {"contacts", list}};
}

json ClientEngine::ContactRemove(const json& request) {
  const auto name = StringField(request, "name");
  if (!name) return Fail("invalid", "contact_remove needs \"name\"");
  if (auto s = store_->RemoveContact(*name); !s.ok()) return FailFrom(s);
  return json{{"ok", true}, {"name", *name}};
}

json ClientEngine::Send(const json& request) {
  const auto to = StringField(request, "to");
  const auto text = StringField(request, "text");
  if (!to || !text) return Fail("invalid", "send needs \"to\" and \"text\"");
  std::uint32_t expires_after_s = 0;
  if (auto it = request.find("expires_after_s"); it != request.end() && !it->is_null()) {
    if (!it->is_number_unsigned() || it->get<std::uint64_t>() > 366ull * 24 * 3600) {
      return Fail("invalid", "expires_after_s must be 0 to 31622400 seconds");
    }
    expires_after_s = it->get<std::uint32_t>();
  }
  auto contact = store_->FindContact(*to);
  if (!contact.ok()) return FailFrom(contact.status());
  MessageBody body;
  body.type = BodyType::kText;
  SystemRng().Fill(body.id);
  body.sent_unix = NowUnix();
  body.expires_after_s = expires_after_s;
  body.text = *text;
  HistoryEntry entry;
  entry.id = body.id;
  entry.peer = contact.value().code.identity_key;
  entry.direction = Direction::kOutgoing;
  entry.status = DeliveryStatus::kQueued;
  entry.text = *text;
  entry.sent_unix = body.sent_unix;
  entry.stored_unix = body.sent_unix;
  entry.read = true;
  if (expires_after_s > 0) entry.expires_unix = body.sent_unix + expires_after_s;
  if (auto s = QueueForPeer(entry.peer, contact.value().code, body, std::move(entry)); !s.ok()) {
    return FailFrom(s);
  }
  return json{{"ok", true}, {"id", IdHex(body.id)}, {"queue", store_->OutgoingCount()}};
}

json ClientEngine::Inbox(const json& request) {
  const bool peek = request.value("peek", false);
  std::optional<PublicKey> only;
  if (const auto from = StringField(request, "from")) {
    auto contact = store_->FindContact(*from);
    if (!contact.ok()) return FailFrom(contact.status());
    only = contact.value().code.identity_key;
  }
  json list = json::array();
  std::vector<MessageId> shown;
  for (const auto& e : store_->Unread()) {
    if (only && !(e.peer == *only)) continue;
    list.push_back({{"id", IdHex(e.id)},
                    {"from", NameOf(e.peer)},
                    {"fingerprint", Fingerprint(e.peer)},
                    {"text", e.text},
                    {"sent_unix", e.sent_unix},
                    {"received_unix", e.stored_unix},
                    {"expires_unix", e.expires_unix > 0 ? json(e.expires_unix) : json(nullptr)}});
    shown.push_back(e.id);
  }
  if (!peek && !shown.empty()) {
    if (auto s = store_->MarkRead(shown); !s.ok()) return FailFrom(s);
  }
  return json{{"ok", true}, {"messages", list}};
}

json ClientEngine::History(const json& request) {
  const auto name = StringField(request, "name");
  if (!name) return Fail("invalid", "history needs \"name\"");
  std::size_t limit = 50;
  if (auto it = request.find("limit"); it != request.end() && it->is_number_unsigned()) {
    limit = std::clamp<std::size_t>(it->get<std::size_t>(), 1, 100000);
  }
  auto contact = store_->FindContact(*name);
  if (!contact.ok()) return FailFrom(contact.status());
  auto entries = store_->History(contact.value().code.identity_key, limit);
  json list = json::array();
  for (const auto& e : entries) {
    list.push_back({{"id", IdHex(e.id)},
                    {"direction", e.direction == Direction::kOutgoing ? "out" : "in"},
                    {"status", StatusName(e.status)},
                    {"text", e.text},
                    {"sent_unix", e.sent_unix},
                    {"stored_unix", e.stored_unix},
                    {"expires_unix", e.expires_unix > 0 ? json(e.expires_unix) : json(nullptr)}});
  }
  return json{{"ok", true}, {"name", *name}, {"messages", list}};
}

}  // namespace sotto::client
