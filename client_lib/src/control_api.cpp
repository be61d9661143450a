// ControlApi (control_api.h): the control requests.
#include "control_api.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>

#include "sotto/client_lib/contact_code.h"
#include "sotto/client_lib/ipc.h"
#include "sotto/core/clock.h"

namespace sotto::client {
namespace {

using nlohmann::json;

// A week: longer would make a receipt worthless, and a day already hides its timing well.
constexpr std::uint64_t kMaxReceiptDelayS = 7 * 24 * 3600;

// Printable ASCII only (for echoing a bad value in an error), at most 40 characters.
std::string Printable(std::string_view text) {
  std::string out;
  for (char c : text.substr(0, 40)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  return out;
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

json ControlApi::Handle(const json& request, bool& stop) {
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
    if (*cmd == "receipts") return Receipts(request);
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

json ControlApi::Status_() {
  const auto consensus = e_.consensus();
  json rates = nullptr;
  if (consensus) {
    const auto& p = consensus->params;
    rates = json{{"send_per_min", p.send_rate_per_min},
                 {"loop_per_min", p.cover_loop_per_min},
                 {"drop_per_min", p.cover_drop_per_min},
                 {"fetch_interval_ms", p.fetch_interval_ms}};
  }
  const auto& w = e_.wire();
  const auto& m = e_.mail();
  const auto& q = e_.outgoing();
  const auto& settings = e_.settings();
  const std::uint64_t real = w.sent_real, loop = w.sent_loop, drop = w.sent_drop;
  const std::uint64_t resent_real = w.resent_real, resent_cover = w.resent_cover;
  const std::uint64_t gave_up_real = w.gave_up_real, gave_up_cover = w.gave_up_cover;
  const std::int64_t last_mail = w.last_mail_unix;
  const auto error = e_.last_error();
  const bool valid = consensus && consensus->valid_until > NowUnix();
  return json{
      {"ok", true},
      {"provider", e_.profile().provider_name},
      {"provider_id", ToHex(e_.profile().provider)},
      {"epoch", consensus ? json(consensus->epoch) : json(nullptr)},
      {"consensus", !consensus ? "missing" : (valid ? "ok" : "stale")},
      {"queue", q.size() - q.receipts_waiting()},
      {"rates", rates},
      {"connected", w.connected.load()},
      {"last_fetch_unix", last_mail > 0 ? json(last_mail) : json(nullptr)},
      {"last_error", error.empty() ? json(nullptr) : json(error)},
      {"packets",
       {{"real", real},
        {"drop", drop},
        {"loop", loop},
        {"total", real + drop + loop + resent_real + resent_cover},
        {"resent", {{"real", resent_real}, {"cover", resent_cover}}},
        {"given_up", {{"real", gave_up_real}, {"cover", gave_up_cover}}},
        {"failed", gave_up_real + gave_up_cover},
        {"unsent_slots", w.unsent.load()},
        {"pending_acks", w.pending_acks.load()},
        {"pending_acks_max", SendTracker::Limits{}.max_pending},
        {"late_acks", w.late_acks.load()},
        {"bytes_each", sphinx::kPacketSize}}},
      {"loops",
       {{"sent", loop},
        {"returned", m.loops_returned},
        {"last_return_unix",
         m.last_loop_return_unix > 0 ? json(m.last_loop_return_unix) : json(nullptr)}}},
      {"fetches", w.fetches.load()},
      {"acks_sent", w.acks_sent.load()},
      {"received", m.received},
      {"duplicates", m.duplicates},
      {"dropped_undecryptable", m.undecryptable},
      {"reseals", q.reseals()},
      {"receipts",
       {{"mode", settings.receipts == ReceiptMode::kOn ? "on" : "off"},
        {"delay_s", settings.receipt_delay_s},
        {"waiting", q.receipts_waiting()},
        {"in_texts", q.receipts_in_texts()},
        {"received", m.receipts}}},
      {"contacts", e_.store().ListContacts().size()},
      {"unread", e_.store().Unread().size()},
      {"fingerprint", Fingerprint(e_.identity().keys.public_key)},
  };
}

json ControlApi::ContactCodeReply() {
  ContactCode code;
  code.identity_key = e_.identity().keys.public_key;
  code.prekey = e_.prekey().keys.public_key;
  code.provider = e_.profile().provider;
  code.mailbox = e_.mailbox();
  return json{{"ok", true},
              {"code", EncodeContactCode(code, ContactCodeStyle::kGrouped)},
              {"compact", EncodeContactCode(code, ContactCodeStyle::kCompact)},
              {"fingerprint", Fingerprint(code.identity_key)}};
}

json ControlApi::ContactAdd(const json& request) {
  const auto name = StringField(request, "name");
  const auto text = StringField(request, "code");
  if (!name || !text) return Fail("invalid", "contact_add needs \"name\" and \"code\"");
  auto code = DecodeContactCode(*text);
  if (!code.ok()) return Fail("invalid", code.status().message());
  if (code.value().identity_key == e_.identity().keys.public_key) {
    return Fail("invalid", "this is your own contact code");
  }
  Contact contact{*name, code.value(), NowUnix()};
  if (auto s = e_.store().AddContact(contact); !s.ok()) return FailFrom(s);
  return json{
      {"ok", true}, {"name", *name}, {"fingerprint", Fingerprint(code.value().identity_key)}};
}

json ControlApi::ContactList() {
  const auto consensus = e_.consensus();
  json list = json::array();
  for (const auto& c : e_.store().ListContacts()) {
    const auto* node = consensus ? consensus->FindNode(c.code.provider) : nullptr;
    list.push_back(
        {{"name", c.name},
         {"fingerprint", Fingerprint(c.code.identity_key)},
         {"provider", node != nullptr ? node->name : ToHex(c.code.provider).substr(0, 16)},
         {"added_unix", c.added_unix}});
  }
  return json{{"ok", true}, {"contacts", list}};
}

json ControlApi::ContactRemove(const json& request) {
  const auto name = StringField(request, "name");
  if (!name) return Fail("invalid", "contact_remove needs \"name\"");
  if (auto s = e_.store().RemoveContact(*name); !s.ok()) return FailFrom(s);
  return json{{"ok", true}, {"name", *name}};
}

json ControlApi::Send(const json& request) {
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
  auto contact = e_.store().FindContact(*to);
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
  if (auto s = e_.QueueText(std::move(entry), contact.value().code, body); !s.ok()) {
    return FailFrom(s);
  }
  const auto& q = e_.outgoing();
  return json{{"ok", true}, {"id", IdHex(body.id)}, {"queue", q.size() - q.receipts_waiting()}};
}

json ControlApi::Inbox(const json& request) {
  const bool peek = request.value("peek", false);
  std::optional<PublicKey> only;
  if (const auto from = StringField(request, "from")) {
    auto contact = e_.store().FindContact(*from);
    if (!contact.ok()) return FailFrom(contact.status());
    only = contact.value().code.identity_key;
  }
  json list = json::array();
  std::vector<MessageId> shown;
  for (const auto& e : e_.store().Unread()) {
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
    if (auto s = e_.store().MarkRead(shown); !s.ok()) return FailFrom(s);
  }
  return json{{"ok", true}, {"messages", list}};
}

json ControlApi::History(const json& request) {
  const auto name = StringField(request, "name");
  if (!name) return Fail("invalid", "history needs \"name\"");
  std::size_t limit = 50;
  if (auto it = request.find("limit"); it != request.end() && it->is_number_unsigned()) {
    limit = std::clamp<std::size_t>(it->get<std::size_t>(), 1, 100000);
  }
  auto contact = e_.store().FindContact(*name);
  if (!contact.ok()) return FailFrom(contact.status());
  auto entries = e_.store().History(contact.value().code.identity_key, limit);
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

json ControlApi::Receipts(const json& request) {
  Settings s = e_.settings();
  bool changed = false;
  if (const auto mode = StringField(request, "mode")) {
    if (*mode == "on") {
      s.receipts = ReceiptMode::kOn;
    } else if (*mode == "off") {
      s.receipts = ReceiptMode::kOff;
    } else {
      return Fail("invalid", "receipts can be \"on\" or \"off\", not '" + Printable(*mode) + "'");
    }
    changed = true;
  }
  if (auto it = request.find("delay_s"); it != request.end() && !it->is_null()) {
    if (!it->is_number_unsigned() || it->get<std::uint64_t>() < 1 ||
        it->get<std::uint64_t>() > kMaxReceiptDelayS) {
      return Fail("invalid", "the receipt delay must be 1 to " + std::to_string(kMaxReceiptDelayS) +
                                 " seconds");
    }
    s.receipt_delay_s = it->get<std::uint32_t>();
    changed = true;
  }
  if (changed) {
    if (auto st = e_.SetSettings(s); !st.ok()) return FailFrom(st);
  }
  const auto& now = e_.settings();
  return json{{"ok", true},
              {"mode", now.receipts == ReceiptMode::kOn ? "on" : "off"},
              {"delay_s", now.receipt_delay_s},
              {"waiting", e_.outgoing().receipts_waiting()}};
}

std::string ControlApi::NameOf(const PublicKey& peer) {
  if (auto c = e_.store().FindContactByIdentity(peer)) return c->name;
  return "?" + Fingerprint(peer);
}

}  // namespace sotto::client
