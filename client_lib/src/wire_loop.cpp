// WireLoop (wire_loop.h): the thread that owns the provider link and the traffic schedule.
#include "wire_loop.h"

#include <sodium.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <thread>

#include "sotto/core/clock.h"
#include "sotto/core/wire.h"

namespace sotto::client {
namespace {

using namespace std::chrono_literals;

// A provider's error text goes into our log and status: printable ASCII only, bounded.
std::string Printable(std::string_view text) {
  std::string out;
  for (char c : text.substr(0, 160)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  return out;
}

}  // namespace

WireLoop::WireLoop(zmq::context_t& context, Identity identity, WireExchange& exchange,
                   SendTracker::Limits limits, Rng& rng)
    : context_(context),
      link_keys_(std::move(identity.link_keys)),
      mailbox_(identity.mailbox),
      provider_(identity.provider),
      ex_(exchange),
      rng_(rng),
      schedule_(rng),
      tracker_(limits),
      builder_(identity.provider, identity.mailbox, std::move(identity.loop_key)) {}

void WireLoop::Run() {
  while (!ex_.stop.load()) {
    try {
      Step(Clock::now());
      Wait(Clock::now());
    } catch (const std::exception& e) {
      // Out of memory or a bug: keep the thread (and the cover traffic) alive, say what happened.
      spdlog::error("unexpected error on the wire thread: {}", e.what());
      std::this_thread::sleep_for(100ms);
    }
  }
  draining_ = true;
  const auto deadline = Clock::now() + schedule_.AckDelay() + schedule_.AckJitter() + 200ms;
  while (link_ && schedule_.acks_pending() && Clock::now() < deadline) {
    try {
      Step(Clock::now());
      Wait(Clock::now());
    } catch (const std::exception& e) {
      spdlog::error("unexpected error on the wire thread: {}", e.what());
      break;
    }
  }
  link_.reset();
}

void WireLoop::TakeConsensus(TimePoint now) {
  auto latest = ex_.consensus();
  if (!latest || latest == consensus_) return;
  consensus_ = std::move(latest);
  const auto& p = consensus_->params;
  schedule_.SetRates(TrafficRates{p.send_rate_per_min, p.cover_loop_per_min, p.cover_drop_per_min,
                                  p.fetch_interval_ms},
                     now);
  const auto* provider = consensus_->FindNode(provider_);
  if (provider == nullptr) {
    if (link_) DropLink(now, "my provider is not in the consensus; messages wait in the queue");
    return;
  }
  if (link_ && link_->address() != provider->address) {
    DropLink(now, "my provider moved to " + provider->address);
    retry_at_ = now;  // a new address: try it at once
    backoff_ = 0ms;
  }
}

void WireLoop::EnsureLink(TimePoint now) {
  if (link_ || !consensus_ || now < retry_at_) return;
  const auto* provider = consensus_->FindNode(provider_);
  if (provider == nullptr) return;
  auto link = AsyncProviderLink::Connect(context_, link_keys_, *provider);
  if (!link.ok()) {
    DropLink(now, "cannot connect to my provider: " + link.status().message());
    return;
  }
  link_ = std::move(link.value());
  answered_ = false;
  unanswered_ = 0;
  unsent_since_ = {};
}

void WireLoop::DropLink(TimePoint now, const std::string& why) {
  link_.reset();
  // The MAIL replies whose ACKs were due went with the connection; their items come back in
  // the next fetch and are acknowledged then (MailLedger). Pending packets stay: they are
  // resent, the same bytes, on the next connection.
  schedule_.ForgetAcks();
  answered_ = false;
  unanswered_ = 0;
  backoff_ =
      std::clamp(backoff_ * 2, std::chrono::milliseconds(1000), std::chrono::milliseconds(30000));
  retry_at_ = now + backoff_;
  ex_.counters.connected.store(false);
  ex_.SetError(why);
  if (link_state_ != why) spdlog::warn("{} (trying again in {} s)", why, backoff_.count() / 1000);
  link_state_ = why;
}

bool WireLoop::SendFrame(const Bytes& frame, TimePoint now) {
  if (!link_->Send(frame)) {
    if (unsent_since_ == TimePoint{}) unsent_since_ = now;
    return false;
  }
  unsent_since_ = {};
  if (unanswered_++ == 0) first_unanswered_ = now;
  return true;
}

void WireLoop::Answered() {
  unanswered_ = 0;
  if (!answered_) {
    answered_ = true;
    backoff_ = 0ms;
    ex_.counters.connected.store(true);
    if (!link_state_.empty()) spdlog::info("my provider answers again");
    link_state_.clear();
  }
}

void WireLoop::GiveUp(const std::vector<SendTracker::Outcome>& outcomes) {
  for (const auto& o : outcomes) {
    if (o.kind == PacketKind::kReal) {
      ex_.counters.gave_up_real.fetch_add(1);
      ex_.PostOutcome({OutcomeKind::kGaveUp, o.outbox_seq});
    } else {
      ex_.counters.gave_up_cover.fetch_add(1);  // cover is simply forgotten
    }
  }
}

void WireLoop::Receive(TimePoint now) {
  if (!link_) return;
  std::vector<FetchedMail> fresh;
  while (auto msg = link_->Receive()) {
    Answered();
    if (const auto* ack = std::get_if<wire::PacketAckMsg>(&*msg)) {
      if (auto o = tracker_.Ack(ack->seq)) {
        ex_.counters.acked.fetch_add(1);
        if (o->kind == PacketKind::kReal) ex_.PostOutcome({OutcomeKind::kAcked, o->outbox_seq});
      } else if (auto late = tracker_.LateAck(ack->seq)) {
        ex_.counters.late_acks.fetch_add(1);
        ex_.PostOutcome({OutcomeKind::kAcked, *late});
      }
    } else if (auto* mail = std::get_if<wire::MailMsg>(&*msg)) {
      ex_.counters.mail_replies.fetch_add(1);
      ex_.counters.last_mail_unix.store(NowUnix());
      schedule_.MailArrived(now);  // the ACK's time: after the reply, whatever it held
      std::vector<std::uint64_t> ids;
      ids.reserve(mail->items.size());
      for (const auto& item : mail->items) ids.push_back(item.id);
      for (std::size_t i : ledger_.OnMail(ids, now)) {
        fresh.push_back({mail->items[i].id, std::move(mail->items[i].payload)});
      }
    } else if (const auto* e = std::get_if<wire::ErrorMsg>(&*msg)) {
      ex_.counters.provider_errors.fetch_add(1);
      ex_.SetError("my provider refused a request: " + Printable(e->message));
      spdlog::debug("provider error: {}", Printable(e->message));
    }
  }
  if (!fresh.empty()) {
    ex_.counters.mail_items.fetch_add(fresh.size());
    ex_.PostMail(std::move(fresh));
  }
}

bool WireLoop::ConsensusValid() const { return consensus_ && consensus_->valid_until > NowUnix(); }

void WireLoop::Slot(PacketKind kind, TimePoint now) {
  // Without a valid consensus nothing is built or resent: its keys may be gone at the nodes
  // (a packet they cannot open would be acknowledged and dropped).
  if (!link_ || !ConsensusValid()) {
    ex_.counters.unsent.fetch_add(1);
    return;
  }
  // A due resend takes this slot, whatever the stream and whatever the packet.
  if (auto resend = tracker_.TakeResend(now)) {
    if (!SendFrame(*resend->frame, now)) {
      tracker_.ResendNotSent(resend->seq, now);
      ex_.counters.unsent.fetch_add(1);
      return;
    }
    (resend->kind == PacketKind::kReal ? ex_.counters.resent_real : ex_.counters.resent_cover)
        .fetch_add(1);
    return;
  }
  std::optional<ReadyPacket> real;
  if (kind == PacketKind::kReal) {
    real = ex_.TakeOffered();
    if (real && !Routable(*consensus_, real->provider)) {
      ex_.PostOutcome({OutcomeKind::kReturned, real->outbox_seq});
      real.reset();
    }
    if (!real) kind = PacketKind::kDrop;  // no message waiting: a drop cover packet
  }
  auto built = builder_.Build(*consensus_, kind, real ? &*real : nullptr, rng_);
  if (!built.ok()) {
    if (real) ex_.PutBackOffered(std::move(*real));
    ex_.counters.unsent.fetch_add(1);
    ex_.SetError("cannot build a packet: " + built.status().message());
    return;
  }
  SendTracker::Packet packet;
  packet.seq = UniformU64(rng_);  // fresh and random: says nothing about order or kind
  packet.frame = wire::Encode(wire::PacketMsg{packet.seq, std::move(built.value().packet)});
  packet.kind = kind;
  packet.epoch = built.value().epoch;
  if (real) packet.outbox_seq = real->outbox_seq;
  if (!SendFrame(packet.frame, now)) {
    // Nothing left: a real message is first in line again, unchanged; cover is dropped.
    if (real) ex_.PutBackOffered(std::move(*real));
    ex_.counters.unsent.fetch_add(1);
    return;
  }
  if (real) sodium_memzero(real->message.data(), real->message.size());
  (kind == PacketKind::kReal   ? ex_.counters.sent_real
   : kind == PacketKind::kLoop ? ex_.counters.sent_loop
                               : ex_.counters.sent_drop)
      .fetch_add(1);
  if (auto evicted = tracker_.Add(std::move(packet), now)) GiveUp({*evicted});
}

void WireLoop::Fetch(TimePoint now) {
  if (!link_) return;
  if (SendFrame(wire::Encode(wire::FetchMsg{mailbox_, kFetchItems}), now)) {
    ex_.counters.fetches.fetch_add(1);
  }
}

void WireLoop::Ack(TimePoint now) {
  if (!link_) return;
  auto ids = ledger_.NextAck(kFetchItems);  // always 8 ids: the stored ones, then zeros
  if (SendFrame(wire::Encode(wire::AckMsg{mailbox_, ids}), now)) {
    ex_.counters.acks_sent.fetch_add(1);
  } else {
    ledger_.AckNotSent(ids);
  }
}

void WireLoop::Step(TimePoint now) {
  TakeConsensus(now);
  EnsureLink(now);
  Receive(now);
  for (const auto& [id, stored] : ex_.TakeMailResults()) {
    stored ? ledger_.Stored(id) : ledger_.Retry(id);
  }
  ledger_.Expire(now);
  // Once the consensus is no longer valid, every packet is of a past epoch.
  const std::uint64_t epoch = ConsensusValid() ? consensus_->epoch : ~std::uint64_t{0};
  GiveUp(tracker_.Expire(now, epoch));
  if (link_) {
    if (unsent_since_ != TimePoint{} && now - unsent_since_ > kConnectTimeout) {
      DropLink(now, "cannot reach my provider (no connection)");
    } else if (unanswered_ > 0 && now - first_unanswered_ > kSilence) {
      DropLink(now, "my provider does not answer");
    }
  }
  while (auto event = schedule_.PopDue(now)) {
    if (draining_ && *event != ScheduleEvent::kAck) continue;
    switch (*event) {
      case ScheduleEvent::kPayload:
        Slot(PacketKind::kReal, now);
        break;
      case ScheduleEvent::kLoop:
        Slot(PacketKind::kLoop, now);
        break;
      case ScheduleEvent::kDrop:
        Slot(PacketKind::kDrop, now);
        break;
      case ScheduleEvent::kFetch:
        Fetch(now);
        break;
      case ScheduleEvent::kAck:
        Ack(now);
        break;
    }
  }
  ex_.counters.pending_acks.store(tracker_.size());
}

void WireLoop::Wait(TimePoint now) {
  auto until = std::min(schedule_.NextDue(), now + 100ms);
  if (!link_) until = std::min(until, std::max(retry_at_, now));
  // zmq_poll counts in whole milliseconds: round up, so an event is never early.
  const auto wait = std::chrono::ceil<std::chrono::milliseconds>(until - now);
  if (wait <= 0ms) return;
  if (!link_) {
    std::this_thread::sleep_for(wait);
    return;
  }
  zmq::pollitem_t item{link_->socket().handle(), 0, ZMQ_POLLIN, 0};
  try {
    zmq::poll(&item, 1, wait);
  } catch (const zmq::error_t&) {
    // EINTR: go round again
  }
}

}  // namespace sotto::client
