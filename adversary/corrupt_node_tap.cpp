// sotto-corrupt-node's tap: the recording and the misbehaviours.
#include "corrupt_node_tap.h"

#include <sodium.h>
#include <unistd.h>

#include <chrono>
#include <string_view>

#include "sotto/core/bytes.h"
#include "sotto/core/sphinx_constants.h"

namespace sotto::adversary {
namespace {

using mixnode::TapAccept;
using mixnode::TapAckDecision;
using mixnode::TapOutAction;

std::int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// BLAKE2b-256("sotto-corrupt-node/<label>" ‖ seed, little-endian): one independent stream per
// decision, so enabling one misbehaviour does not change the decisions of another.
std::array<std::uint8_t, 32> Derive(std::uint64_t seed, std::string_view label) {
  std::string input = "sotto-corrupt-node/" + std::string(label);
  for (int i = 0; i < 8; ++i) input.push_back(static_cast<char>((seed >> (8 * i)) & 0xff));
  std::array<std::uint8_t, 32> out{};
  crypto_generichash(out.data(), out.size(), reinterpret_cast<const std::uint8_t*>(input.data()),
                     input.size(), nullptr, 0);
  return out;
}

DeterministicRng StreamFor(std::uint64_t seed, std::string_view label) {
  const auto s = Derive(seed, label);
  return DeterministicRng(std::span<const std::uint8_t, 32>(s));
}

// True with probability p (decided by the stream; nothing is drawn when p is 0).
bool Coin(Rng& rng, double p) { return p > 0 && UniformOpenClosed(rng) <= p; }

std::string MailboxHex(const sphinx::MailboxId& m) { return ToHex(m); }

}  // namespace

CorruptNodeTap::CorruptNodeTap(CorruptNodeOptions options, std::unique_ptr<Recording> recording)
    : options_(std::move(options)),
      recording_(std::move(recording)),
      withhold_key_(Derive(options_.seed, "withhold-acks")),
      drop_rng_(StreamFor(options_.seed, "drop")),
      flip_rng_(StreamFor(options_.seed, "flip-bit")),
      replay_rng_(StreamFor(options_.seed, "replay")) {}

// ---- Events ----

void CorruptNodeTap::OnStart(const mixnode::TapNodeInfo& info) {
  start_us_ = NowUs();
  next_release_us_ = start_us_ + static_cast<std::int64_t>(options_.hold_release_s * 1e6);
  Json e = Recording::Event("start", start_us_);
  e["node"] = info.name;
  e["role"] = info.provider ? "provider" : "mix";
  e["identity"] = ToHex(info.identity);
  e["pid"] = static_cast<std::int64_t>(::getpid());
  e["seed"] = std::to_string(options_.seed);
  Json m = Json::object();
  if (options_.withhold_acks > 0) m["withhold_acks"] = options_.withhold_acks;
  if (options_.withhold_window) {
    m["withhold_acks_window"] = {options_.withhold_window->start_s,
                                 options_.withhold_window->length_s};
  }
  if (options_.withhold_from != CorruptNodeOptions::WithholdFrom::kAll) {
    m["withhold_from"] =
        options_.withhold_from == CorruptNodeOptions::WithholdFrom::kClients ? "clients" : "nodes";
  }
  if (options_.delay_acks_ms > 0) m["delay_acks_ms"] = options_.delay_acks_ms;
  if (options_.drop > 0) m["drop"] = options_.drop;
  if (options_.flip_bit > 0) {
    m["flip_bit"] = options_.flip_bit;
    m["flip_bit_in"] =
        options_.flip_in == CorruptNodeOptions::FlipIn::kHeader ? "header" : "payload";
  }
  if (options_.replay > 0) {
    m["replay"] = options_.replay;
    m["replay_after_ms"] = options_.replay_after_ms;
  }
  if (!options_.hold_except.empty()) {
    m["hold_except_client"] = options_.hold_except;
    m["hold_release_s"] = options_.hold_release_s;
  }
  e["misbehaviour"] = m;
  recording_->Write(e);
  recording_->Flush();
}

void CorruptNodeTap::OnPacketIn(const mixnode::TapPacketIn& in) {
  Json e = Recording::Event("in", NowUs());
  e["from"] = in.from;
  e["link_id"] = LinkIdHex(in.link_id);
  e["pool"] = OrNull(in.pool);
  e["verdict"] = in.verdict;
  e["next"] = in.next ? Json(*in.next) : Json(nullptr);
  e["mailbox"] = in.mailbox ? Json(MailboxHex(*in.mailbox)) : Json(nullptr);
  e["item"] = OrNull(in.item);
  e["action"] = in.action.empty() ? Json(nullptr) : Json(in.action);
  recording_->Write(e);
  if (in.action == "held" && in.pool) held_.push_back(*in.pool);
}

void CorruptNodeTap::Ack(std::string_view to, std::uint64_t link_id, std::string_view action) {
  Json e = Recording::Event("ack_out", NowUs());
  e["to"] = to;
  e["link_id"] = LinkIdHex(link_id);
  e["action"] = action;
  recording_->Write(e);
}

void CorruptNodeTap::OnAckOut(const std::string& to, std::uint64_t link_id) {
  Ack(to, link_id, "sent");
}

void CorruptNodeTap::OnRelease(std::size_t real, std::size_t dummies) {
  Json e = Recording::Event("release", NowUs());
  e["real"] = real;
  e["dummies"] = dummies;
  recording_->Write(e);
}

void CorruptNodeTap::OnPacketOut(const mixnode::TapPacketOut& out, TapOutAction action) {
  Json e = Recording::Event("out", NowUs());
  e["to"] = out.to;
  e["link_id"] = LinkIdHex(out.link_id);
  e["pool"] = OrNull(out.pool);
  e["dummy"] = out.dummy;
  e["resend"] = out.resend;
  e["action"] = action == TapOutAction::kFlipped ? Json("flipped") : Json(nullptr);
  recording_->Write(e);
}

void CorruptNodeTap::OnAckIn(const std::string& from, std::uint64_t link_id,
                             std::optional<std::uint64_t> pool) {
  Json e = Recording::Event("ack_in", NowUs());
  e["from"] = from;
  e["link_id"] = LinkIdHex(link_id);
  e["pool"] = OrNull(pool);
  recording_->Write(e);
}

void CorruptNodeTap::OnMailStored(const sphinx::MailboxId& mailbox, std::uint64_t item,
                                  const Bytes& payload) {
  Json e = Recording::Event("mail_stored", NowUs());
  e["mailbox"] = MailboxHex(mailbox);
  e["item"] = item;
  e["payload"] = ToHex(payload);
  recording_->Write(e);
}

void CorruptNodeTap::OnFetch(const sphinx::MailboxId& mailbox, std::uint16_t max,
                             const std::vector<std::uint64_t>& item_ids) {
  Json e = Recording::Event("fetch", NowUs());
  e["mailbox"] = MailboxHex(mailbox);
  e["max"] = max;
  e["items"] = item_ids;
  recording_->Write(e);
}

void CorruptNodeTap::OnMailAck(const sphinx::MailboxId& mailbox,
                               const std::vector<std::uint64_t>& ids) {
  Json e = Recording::Event("mail_ack", NowUs());
  e["mailbox"] = MailboxHex(mailbox);
  e["ids"] = ids;
  recording_->Write(e);
}

void CorruptNodeTap::OnExpired(std::uint64_t pool) {
  Json e = Recording::Event("expired", NowUs());
  e["pool"] = pool;
  recording_->Write(e);
}

void CorruptNodeTap::OnLinkReplaced(const std::string& to, std::string_view reason) {
  Json e = Recording::Event("link_replaced", NowUs());
  e["to"] = to;
  e["reason"] = reason;
  recording_->Write(e);
}

void CorruptNodeTap::OnStop() {
  recording_->Write(Recording::Event("stop", NowUs()));
  recording_->Flush();
}

// ---- Decisions ----

bool CorruptNodeTap::HoldExempt(const std::string& from) const {
  constexpr std::string_view kClient = "client:";
  if (from.rfind(kClient, 0) != 0) return true;  // only clients' packets are held
  const std::string_view hex = std::string_view(from).substr(kClient.size());
  for (const auto& prefix : options_.hold_except) {
    if (hex.rfind(prefix, 0) == 0) return true;
  }
  return false;
}

TapAccept CorruptNodeTap::DecideAccept(const std::string& from, bool from_client,
                                       std::uint64_t /*link_id*/) {
  if (!options_.hold_except.empty() && from_client && !HoldExempt(from)) return TapAccept::kHold;
  if (Coin(drop_rng_, options_.drop)) return TapAccept::kDrop;
  return TapAccept::kNormal;
}

bool CorruptNodeTap::Withheld(const std::string& from, std::uint64_t link_id, std::int64_t now_us,
                              const Bytes& routing_id) const {
  const bool client = from.rfind("client:", 0) == 0;
  if ((options_.withhold_from == CorruptNodeOptions::WithholdFrom::kClients && !client) ||
      (options_.withhold_from == CorruptNodeOptions::WithholdFrom::kNodes && client)) {
    return false;
  }
  if (const auto& w = options_.withhold_window) {
    const double since_start_s = static_cast<double>(now_us - start_us_) / 1e6;
    if (since_start_s >= w->start_s && since_start_s < w->start_s + w->length_s) return true;
  }
  if (options_.withhold_acks <= 0) return false;
  // A keyed hash of (previous hop, link id): the same answer for every resend. A client's link
  // ids start again at 1 on each new connection (sotto::client::ProviderLink), so for clients
  // the connection is part of the input: otherwise the first withheld id would be withheld on
  // every reconnection and the client would never get past it.
  std::string input = from;
  input.push_back('\0');
  for (int i = 0; i < 8; ++i) input.push_back(static_cast<char>((link_id >> (8 * i)) & 0xff));
  if (client) input.append(routing_id.begin(), routing_id.end());
  std::array<std::uint8_t, 8> h{};
  crypto_generichash(h.data(), h.size(), reinterpret_cast<const std::uint8_t*>(input.data()),
                     input.size(), withhold_key_.data(), withhold_key_.size());
  std::uint64_t u = 0;
  for (int i = 0; i < 8; ++i) u |= static_cast<std::uint64_t>(h[i]) << (8 * i);
  const double fraction = static_cast<double>(u >> 11) * 0x1.0p-53;  // in [0, 1)
  return fraction < options_.withhold_acks;
}

TapAckDecision CorruptNodeTap::DecideAck(const mixnode::TapPacketIn& in, const Bytes& routing_id) {
  const std::int64_t now = NowUs();
  if (Withheld(in.from, in.link_id, now, routing_id)) {
    Ack(in.from, in.link_id, "withheld");
    return {TapAckDecision::Kind::kNever, 0};
  }
  if (options_.delay_acks_ms > 0) {
    const std::int64_t delay = static_cast<std::int64_t>(options_.delay_acks_ms) * 1000;
    delayed_acks_.emplace(now + delay, DelayedAck{routing_id, in.from, in.link_id});
    return {TapAckDecision::Kind::kLater, delay};
  }
  return {};
}

TapOutAction CorruptNodeTap::BeforePacketOut(const mixnode::TapPacketOut& out,
                                             std::span<std::uint8_t> packet) {
  TapOutAction action = TapOutAction::kNone;
  if (Coin(flip_rng_, options_.flip_bit) && packet.size() == sphinx::kPacketSize) {
    const bool header = options_.flip_in == CorruptNodeOptions::FlipIn::kHeader;
    const std::size_t first = header ? 0 : sphinx::kHeaderSize;
    const std::size_t bits = 8 * (header ? sphinx::kHeaderSize : sphinx::kPayloadSize);
    const std::size_t bit = static_cast<std::size_t>(UniformBelow(flip_rng_, bits));
    packet[first + bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
    action = TapOutAction::kFlipped;
  }
  if (Coin(replay_rng_, options_.replay)) {
    const std::int64_t due = NowUs() + static_cast<std::int64_t>(options_.replay_after_ms) * 1000;
    copies_.emplace(due, Copy{out, Bytes(packet.begin(), packet.end())});
  }
  return action;
}

// ---- Time ----

void CorruptNodeTap::OnTick(std::int64_t now_us, mixnode::NodeTapHost& host) {
  while (!delayed_acks_.empty() && delayed_acks_.begin()->first <= now_us) {
    const DelayedAck& a = delayed_acks_.begin()->second;
    host.SendPacketAck(a.routing_id, a.link_id);
    Ack(a.to, a.link_id, "delayed");
    delayed_acks_.erase(delayed_acks_.begin());
  }
  while (!copies_.empty() && copies_.begin()->first <= now_us) {
    const Copy& c = copies_.begin()->second;
    if (host.SendPacketCopy(c.out.next, c.out.link_id, c.packet)) {
      Json e = Recording::Event("out", NowUs());
      e["to"] = c.out.to;
      e["link_id"] = LinkIdHex(c.out.link_id);
      e["pool"] = OrNull(c.out.pool);
      e["dummy"] = c.out.dummy;
      e["resend"] = c.out.resend;
      e["action"] = "replayed";
      recording_->Write(e);
    }
    copies_.erase(copies_.begin());
  }
  if (!options_.hold_except.empty() && now_us >= next_release_us_) {
    const auto interval = static_cast<std::int64_t>(options_.hold_release_s * 1e6);
    while (next_release_us_ <= now_us) next_release_us_ += interval;
    if (!held_.empty()) {
      host.ReleaseHeld(held_);
      Json e = Recording::Event("hold_release", now_us);
      e["pool"] = held_;
      recording_->Write(e);
      held_.clear();
    }
  }
  recording_->Tick(now_us);
}

std::optional<std::int64_t> CorruptNodeTap::NextWakeupUs() const {
  std::optional<std::int64_t> next;
  const auto earliest = [&](std::int64_t t) { next = next ? std::min(*next, t) : t; };
  if (!delayed_acks_.empty()) earliest(delayed_acks_.begin()->first);
  if (!copies_.empty()) earliest(copies_.begin()->first);
  if (!held_.empty()) earliest(next_release_us_);
  return next;
}

Result<std::unique_ptr<mixnode::NodeTap>> MakeCorruptNodeTap(
    const std::map<std::string, std::string>& values) {
  auto options = ParseCorruptNodeOptions(values);
  if (!options.ok()) return options.status();
  if (!options->seed_given) options->seed = UniformU64(SystemRng());
  auto recording = Recording::Open(options->record);
  if (!recording.ok()) return recording.status();
  return std::unique_ptr<mixnode::NodeTap>(
      new CorruptNodeTap(std::move(options.value()), std::move(recording.value())));
}

}  // namespace sotto::adversary
