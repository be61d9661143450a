// The sotto-mixnode event loop: one thread, one ROUTER socket for everything that arrives (other
// nodes' packets and acks; at providers also clients' packets, fetches and acks), one DEALER per
// next hop, a mixing policy, and the RocksDB store.
//
// Packet path (mix_packets.cpp): exact-size frame → Sphinx processing with the epoch keys (a
// ReplayGuard backed by the store drops replays right after the MAC check) → Forward: tag and
// packet stored atomically, handed to the policy, acknowledged to the sender; Deliver/SurbDeliver
// (providers): stored in the mailbox; Drop: counted, logged at debug level, acknowledged (so the
// sender stops resending), nothing else sent back.
// Release path (mix_release.cpp): the policy's batch plus dummy packets up to min_batch, shuffled
// together, sent to the next hops; a packet leaves the store only when the next hop acknowledges
// it, and is resent until then, so neither a crash nor a restart loses an accepted packet (the
// next hop's replay cache drops the duplicates). Dummies are pooled, sent, acknowledged, resent
// and expired exactly like accepted packets, and every pooled packet has its own random link id
// (network-spec §4.2), so nothing a neighbour sees separates them or reveals arrival order.
// Housekeeping (mix_housekeeping.cpp): epochs, routing-key rotation, descriptors, consensus,
// metrics file, mail expiry.
// Tap (mix_tap.cpp): only when a program installs one (sotto-corrupt-node; never sotto-mixnode),
// the node reports what it sees and lets the tap decide acknowledgements and the fate of
// packets (sotto/mixnode/tap.h). Every call into the tap is behind `if (tap_)`.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "metrics.h"
#include "node_config.h"
#include "node_keys.h"
#include "sotto/core/directory_client.h"
#include "sotto/core/transport.h"
#include "sotto/core/wire.h"
#include "sotto/mixnode/policy.h"
#include "sotto/mixnode/store.h"
#include "sotto/mixnode/tap.h"

namespace sotto::mixnode {

class MixNode final : private NodeTapHost {
 public:
  // Loads keys, opens the store, binds the socket. Does not talk to the network yet. `tap` is
  // null for an honest node.
  static Result<std::unique_ptr<MixNode>> Create(NodeConfig config,
                                                 std::unique_ptr<NodeTap> tap = nullptr);
  ~MixNode();

  // Serves until `stop` becomes true; returns a Status only for fatal errors.
  Status Run(const std::atomic<bool>& stop);
  const std::string& bound_endpoint() const { return bound_endpoint_; }

 private:
  MixNode(NodeConfig config, NodeKeys keys, std::unique_ptr<NodeStore> store,
          std::unique_ptr<NodeTap> tap);

  // What became of one arrived PACKET: only a tap reads it (verdict names: tap.h).
  struct PacketOutcome {
    std::string_view verdict;  // forward | deliver | dummy_sink | replay | drop | refused
    std::string_view reason;   // for drop and refused
    std::optional<std::uint64_t> pool;
    std::optional<sphinx::NodeId> next;
    std::optional<sphinx::MailboxId> mailbox;
    std::optional<std::uint64_t> item;
    TapAccept accept = TapAccept::kNormal;
  };

  // mix_packets.cpp
  void OnRouterMessage();
  void HandlePacket(const zmq::message_t& routing_id, const wire::PacketMsg& msg,
                    const transport::LinkPublicKey& peer, bool from_node);
  void HandleFetch(const zmq::message_t& routing_id, const transport::LinkPublicKey& peer,
                   const wire::FetchMsg& msg);
  void HandleMailAck(const zmq::message_t& routing_id, const transport::LinkPublicKey& peer,
                     const wire::AckMsg& msg);
  void Reply(const zmq::message_t& routing_id, const wire::Message& msg);
  // A client may only read its own mailbox; refuses (and replies) otherwise.
  bool OwnsMailbox(const zmq::message_t& routing_id, const transport::LinkPublicKey& peer,
                   const sphinx::MailboxId& mailbox);

  // mix_release.cpp
  void ReleaseDue(std::int64_t now_us);
  void ResendUnacked(std::int64_t now_us);
  // Gives up, all together, the packets of every epoch whose keys are gone (epoch + 2 <= now).
  void ExpireOldEpochs();
  void OnPeerMessage(const sphinx::NodeId& peer, zmq::socket_t& socket);
  zmq::socket_t* PeerSocket(const sphinx::NodeId& id);
  // Closes the link to `hop` (the next PeerSocket opens a fresh one); every packet in flight on
  // it is resent at the next opportunity, since what was queued on the socket is gone.
  void ReplacePeer(const sphinx::NodeId& hop, std::string_view reason);
  // A fresh link id for a packet to `next`: uniformly random, non-zero, unused on that link.
  std::uint64_t NewLinkId(const sphinx::NodeId& next);
  void AddToPool(PooledPacket p);
  void RemoveFromPool(std::uint64_t id);
  // A dummy: a real Sphinx packet over the rest of this mix's cascade to the dummy mailbox.
  std::optional<PooledPacket> MakeDummy();
  // Makes a dummy and pools it (stored like an accepted packet); its pool id.
  std::optional<std::uint64_t> PoolDummy(std::int64_t now_us);
  bool SendPooled(const PooledPacket& p, bool resend);

  // mix_housekeeping.cpp
  void Housekeeping(std::int64_t now_us);
  // Providers: removes the dummies stored in the dummy mailbox (all of them, on start-up).
  void PurgeDummySink(bool all);
  bool RefreshConsensus(std::int64_t now_unix);  // false: the authority is unreachable
  void AdoptConsensus(directory::Consensus consensus);
  void RotateKeys(std::uint64_t current_epoch);
  bool PostDescriptor();  // false: the authority is unreachable
  // This node's descriptor, with its current routing keys.
  directory::NodeDescriptor OwnDescriptor() const;
  // The node with this id in any retained consensus (current epoch first).
  const directory::NodeDescriptor* FindNode(const sphinx::NodeId& id) const;
  const directory::Consensus* CurrentConsensus() const;

  // mix_tap.cpp: names for the tap's events, and the glue around its decisions.
  std::string PeerName(const transport::LinkPublicKey& key) const;
  std::string NodeName(const sphinx::NodeId& id) const;
  TapAccept TapDecideAccept(const sphinx::ProcessResult& result,
                            const transport::LinkPublicKey& peer, bool from_node,
                            std::uint64_t link_id);
  // Reports the packet; true if the node is to acknowledge it now.
  bool TapReportPacket(const zmq::message_t& routing_id, std::uint64_t link_id,
                       const transport::LinkPublicKey& peer, bool from_node,
                       const PacketOutcome& outcome);
  // NodeTapHost
  void SendPacketAck(const Bytes& routing_id, std::uint64_t link_id) override;
  bool SendPacketCopy(const sphinx::NodeId& next, std::uint64_t link_id,
                      const Bytes& packet) override;
  void ReleaseHeld(const std::vector<std::uint64_t>& pool_ids) override;

  NodeConfig config_;
  std::unique_ptr<NodeTap> tap_;
  NodeKeys keys_;
  std::unique_ptr<NodeStore> store_;
  zmq::context_t context_;
  std::shared_ptr<transport::AccessPolicy> access_;
  std::unique_ptr<transport::ZapHandler> zap_;
  std::optional<zmq::socket_t> router_;
  std::string bound_endpoint_;
  std::unique_ptr<directory::DirectoryClient> directory_;

  std::map<std::uint64_t, directory::Consensus> consensus_;  // by epoch
  std::uint64_t current_epoch_ = 0;
  std::unique_ptr<MixingPolicy> policy_;
  PolicyConfig policy_config_;
  std::map<std::uint64_t, PooledPacket> pool_;  // accepted or made, not yet acknowledged
  struct InFlight {
    std::int64_t last_try_us = 0;  // 0: (re)send at the next opportunity
    bool sent = false;             // handed to a socket at least once
  };
  std::map<std::uint64_t, InFlight> inflight_;  // released by the policy: pool id → state
  // (next hop, link id) → pool id: what an acknowledgement from that next hop names.
  std::map<std::pair<sphinx::NodeId, std::uint64_t>, std::uint64_t> by_link_;
  struct PeerLink {
    zmq::socket_t socket;
    std::string address;  // where, and to which key, it connected: a consensus that changes
    transport::LinkPublicKey link_key{};  // neither keeps the link (and its queue)
  };
  std::map<sphinx::NodeId, PeerLink> peers_;
  std::optional<std::uint64_t> expiry_epoch_;  // the epoch ExpireOldEpochs last ran in
  std::vector<std::uint64_t> dummy_items_;     // providers: dummies stored, to be removed
  std::int64_t last_sink_purge_us_ = 0;
  Metrics metrics_;
  bool descriptor_dirty_ = true;
  std::int64_t last_post_us_ = 0;
  std::int64_t last_rotate_us_ = 0;
  std::int64_t directory_retry_at_us_ = 0;
  std::int64_t directory_backoff_us_ = 1'000'000;
  bool fetch_soon_ = false;
  std::set<transport::LinkPublicKey> node_keys_;        // link keys of all known nodes
  std::map<sphinx::NodeId, std::int64_t> reconnected_;  // next hop → last fresh connection
  std::int64_t last_fetch_us_ = 0;
  std::int64_t last_metrics_us_ = 0;
  std::int64_t last_expiry_us_ = 0;
};

std::int64_t NowUs();

}  // namespace sotto::mixnode
