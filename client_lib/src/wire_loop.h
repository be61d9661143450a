// WireLoop: the client daemon's wire thread (papers/client-spec.md §3). It alone owns the
// connection to my provider and the traffic schedule, so that what the client puts on the wire,
// and when, cannot depend on what the rest of the daemon is doing:
//   - at each event of the payload, loop and drop streams it sends one packet: a due resend
//     (SendTracker) if there is one, else a fresh packet built now — for a payload slot the
//     sealed message the engine offered, if any, else a drop cover packet;
//   - every fetch_interval_ms it sends a FETCH of 8 items; each MAIL reply's new items go to the
//     engine, and a fixed delay (plus a random jitter) after the reply
//     (TrafficSchedule::DrawAckDelay) an ACK of exactly 8
//     ids leaves with whatever the engine has stored by then (MailLedger);
//   - sends never wait (AsyncProviderLink), acks are matched by their random seq as they come.
// It never waits for the engine, the store, the control socket or the provider: the engine's
// answers are picked up from the WireExchange at the next step. When the provider does not
// answer at all for kSilence, or the connection does not come up, the connection is dropped
// and made again after a back-off (1 s doubling to 30 s); nothing is sent meanwhile.
#pragma once

#include <chrono>
#include <memory>
#include <zmq.hpp>

#include "mail_ledger.h"
#include "packet_builder.h"
#include "schedule.h"
#include "send_tracker.h"
#include "sotto/client_lib/provider_link.h"
#include "sotto/core/transport.h"
#include "wire_exchange.h"

namespace sotto::client {

class WireLoop {
 public:
  using Clock = std::chrono::steady_clock;
  using TimePoint = Clock::time_point;

  static constexpr std::uint16_t kFetchItems = 8;  // every FETCH, every MAIL, every ACK
  static constexpr auto kSilence = std::chrono::seconds(10);
  static constexpr auto kConnectTimeout = std::chrono::seconds(3);

  struct Identity {
    transport::CurveKeyPair link_keys;  // names my mailbox
    sphinx::NodeId provider{};
    sphinx::MailboxId mailbox{};
    LoopKey loop_key;
  };

  WireLoop(zmq::context_t& context, Identity identity, WireExchange& exchange,
           SendTracker::Limits limits = {}, Rng& rng = SystemRng());
  // Runs until exchange.stop is set; then sends the ACKs already due for MAIL replies (what the
  // engine stored is acknowledged, at the usual time) and nothing else, for at most
  // AckDelay + AckJitter + 200 ms, and closes the connection.
  void Run();

 private:
  void Step(TimePoint now);
  void TakeConsensus(TimePoint now);
  void EnsureLink(TimePoint now);
  void DropLink(TimePoint now, const std::string& why);
  void Receive(TimePoint now);
  // Hands a frame to the socket; tracks unanswered requests and failed sends.
  bool SendFrame(const Bytes& frame, TimePoint now);
  void Answered();
  void GiveUp(const std::vector<SendTracker::Outcome>& outcomes);
  void Slot(PacketKind kind, TimePoint now);
  void Fetch(TimePoint now);
  void Ack(TimePoint now);
  void Wait(TimePoint now);
  bool ConsensusValid() const;

  zmq::context_t& context_;
  transport::CurveKeyPair link_keys_;
  sphinx::MailboxId mailbox_;
  sphinx::NodeId provider_;
  WireExchange& ex_;
  Rng& rng_;
  TrafficSchedule schedule_;
  SendTracker tracker_;
  MailLedger ledger_;
  PacketBuilder builder_;
  std::shared_ptr<const directory::Consensus> consensus_;
  std::unique_ptr<AsyncProviderLink> link_;
  TimePoint retry_at_{};
  std::chrono::milliseconds backoff_{0};
  bool answered_ = false;       // a reply came on this connection
  std::size_t unanswered_ = 0;  // requests sent since the last reply
  TimePoint first_unanswered_{};
  TimePoint unsent_since_{};  // sends have failed since then (no connection); {} if not
  std::string link_state_;    // the last state logged (say each change once)
  bool draining_ = false;     // stopping: only the ACKs already scheduled leave
};

}  // namespace sotto::client
