// ClientEngine: the background client's state and work, without the event loop (daemon.cpp
// drives it). It owns the store and the in-memory ratchet sessions, keeps a verified consensus,
// and does the four kinds of timed work of papers/client-spec.md §3:
//   payload stream  (Poisson, send_rate_per_min): the oldest queued message, else a drop cover
//   loop stream     (Poisson, cover_loop_per_min): a loop cover packet back to my own mailbox
//   drop stream     (Poisson, cover_drop_per_min): a drop cover packet
//   fetches         (every fetch_interval_ms): fetch, decrypt, store, receipt, acknowledge
// and answers the control requests of ipc.h. Not thread-safe: one thread runs it.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <zmq.hpp>

#include "sotto/client_lib/client_store.h"
#include "sotto/client_lib/envelope.h"
#include "sotto/client_lib/peer_sessions.h"
#include "sotto/client_lib/provider_link.h"
#include "sotto/core/directory_client.h"
#include "sotto/core/transport.h"

namespace sotto::client {

enum class PacketKind { kPayload, kLoop, kDrop };

struct EngineCounters {
  std::uint64_t real = 0, drop = 0, loop = 0;  // packets my provider accepted, by kind
  std::uint64_t send_failures = 0;             // packets my provider did not take
  std::uint64_t loops_returned = 0;
  std::int64_t last_loop_return_unix = 0;
  std::uint64_t fetches = 0;
  std::int64_t last_fetch_unix = 0;
  std::uint64_t received = 0, undecryptable = 0, duplicates = 0;
};

class ClientEngine {
 public:
  // Loads the profile and the sessions. `loop_key` recognises my own loop packets.
  static Result<std::unique_ptr<ClientEngine>> Create(std::unique_ptr<ClientStore> store,
                                                      LoopKey loop_key, zmq::context_t& context);
  ~ClientEngine();

  // Fetches the consensus for the current epoch if we have none for it. OK if we hold a usable
  // one afterwards (possibly the previous one, still valid).
  Status RefreshConsensus();
  bool HasConsensus() const;
  const directory::NetworkParams* Params() const;  // nullptr without consensus

  // One packet of the given stream. Without a consensus or provider nothing is sent.
  void SendOne(PacketKind kind);
  // One fetch of my mailbox, processing and acknowledging what came.
  void FetchOnce();
  // Deletes expired history entries.
  void Purge();

  // One control request (ipc.h); `stop` is set by a shutdown request.
  nlohmann::json Handle(const nlohmann::json& request, bool& stop);

  const EngineCounters& counters() const { return counters_; }

 private:
  ClientEngine(std::unique_ptr<ClientStore> store, Profile profile, LoopKey loop_key,
               zmq::context_t& context);
  Status SendPacket(const Bytes& packet);
  Result<Bytes> BuildPacket(const sphinx::NodeId& provider, const sphinx::MailboxId& mailbox,
                            ByteSpan message);
  enum class MailOutcome { kDone, kRetry };  // kRetry: not stored, do not acknowledge
  MailOutcome ProcessMail(const Bytes& payload,
                          std::map<std::string, std::vector<MessageId>>& receipts);
  void ReloadSessions(const PublicKey& peer);
  Status SaveSessions(const PublicKey& peer);
  Status QueueForPeer(const PublicKey& peer, const ContactCode& code, const MessageBody& body,
                      std::optional<HistoryEntry> history);
  PeerSessions& SessionsFor(const PublicKey& peer);
  std::string NameOf(const PublicKey& peer);
  void NoteError(const std::string& what);
  bool ProviderBackingOff() const;
  void ProviderFailed(const std::string& what);
  void ProviderAnswered();

  nlohmann::json Status_();
  nlohmann::json ContactCodeReply();
  nlohmann::json ContactAdd(const nlohmann::json& request);
  nlohmann::json ContactList();
  nlohmann::json ContactRemove(const nlohmann::json& request);
  nlohmann::json Send(const nlohmann::json& request);
  nlohmann::json Inbox(const nlohmann::json& request);
  nlohmann::json History(const nlohmann::json& request);

  std::unique_ptr<ClientStore> store_;
  Profile profile_;
  IdentityKeys identity_;
  PreKey prekey_;
  transport::CurveKeyPair link_keys_;
  sphinx::MailboxId mailbox_{};
  LoopKey loop_key_;
  zmq::context_t& context_;
  directory::AuthorityInfo authority_;
  std::optional<directory::Consensus> consensus_;
  std::unique_ptr<transport::CurveKeyPair> directory_keys_;  // throw-away, one per fetch
  std::unique_ptr<directory::DirectoryClient> directory_;
  std::unique_ptr<ProviderLink> link_;
  std::string link_address_;
  std::map<std::string, PeerSessions> sessions_;  // by hex of the peer's identity key
  EngineCounters counters_;
  bool connected_ = false;
  std::chrono::steady_clock::time_point last_consensus_fetch_{};
  std::chrono::steady_clock::time_point provider_retry_at_{};
  std::chrono::milliseconds provider_backoff_{0};
  std::string last_error_;
};

}  // namespace sotto::client
