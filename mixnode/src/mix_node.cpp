// MixNode construction and the event loop.
#include "mix_node.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <vector>

#include "sotto/core/keyfile.h"

namespace sotto::mixnode {

std::int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

MixNode::MixNode(NodeConfig config, NodeKeys keys, std::unique_ptr<NodeStore> store,
                 std::unique_ptr<NodeTap> tap)
    : config_(std::move(config)),
      tap_(std::move(tap)),
      keys_(std::move(keys)),
      store_(std::move(store)) {}

MixNode::~MixNode() {
  peers_.clear();
  router_.reset();
  directory_.reset();
  zap_.reset();
}

Result<std::unique_ptr<MixNode>> MixNode::Create(NodeConfig config, std::unique_ptr<NodeTap> tap) {
  auto keys = NodeKeys::Load(config.state_dir);
  if (!keys.ok()) return keys.status();
  auto store = NodeStore::Open(config.state_dir / "store");
  if (!store.ok()) return store.status();
  std::unique_ptr<MixNode> node(new MixNode(std::move(config), std::move(keys.value()),
                                            std::move(store.value()), std::move(tap)));

  // Mixes accept only the nodes of the consensus (none until the first one arrives); providers
  // also serve clients, who may be anyone.
  const bool provider = node->config_.role == directory::NodeRole::kProvider;
  node->access_ =
      provider ? transport::AccessPolicy::AllowAll() : transport::AccessPolicy::AllowOnly({});
  node->zap_ = std::make_unique<transport::ZapHandler>(node->context_, node->access_);
  auto router = transport::BindServer(node->context_, node->keys_.link(), node->config_.listen,
                                      static_cast<std::int64_t>(wire::kPacketMessageSize),
                                      &node->bound_endpoint_);
  if (!router.ok()) return router.status();
  node->router_ = std::move(router.value());
  // Operators and scripts read the actual endpoint here (port * picks a free one).
  if (Status s =
          WriteFileAtomically(node->config_.state_dir / "endpoint", node->bound_endpoint_ + "\n");
      !s.ok()) {
    return s;
  }
  // Refuse a configuration whose descriptor the authority could never accept, now.
  {
    directory::NodeDescriptor d = node->OwnDescriptor();
    // Routing keys are made later, per epoch; any valid key stands in for the check.
    d.routing_keys = {{0, PublicKey{node->keys_.link().public_key}}};
    if (Status s = directory::ValidateDescriptor(d); !s.ok()) {
      return Status::InvalidArgument("configuration: " + s.message());
    }
  }
  node->directory_ = std::make_unique<directory::DirectoryClient>(
      node->context_, node->keys_.link(), node->config_.authority);

  if (node->config_.role == directory::NodeRole::kProvider) node->PurgeDummySink(/*all=*/true);
  // Resume: every packet accepted before a stop or crash goes back into the policy.
  auto pooled = node->store_->LoadPool();
  if (!pooled.ok()) return pooled.status();
  for (auto& p : pooled.value()) {
    if (p.link_id == 0) {
      // Written before per-link ids (store version 1): give it one now, and the epoch its
      // arrival fell in (its key epoch, but for the grace period around a boundary).
      p.link_id = node->NewLinkId(p.next_hop);
      p.epoch = node->config_.authority.clock.EpochAt(p.arrival_us / 1'000'000);
    }
    node->AddToPool(std::move(p));
  }
  return node;
}

Status MixNode::Run(const std::atomic<bool>& stop) {
  spdlog::info("{} {} listening on {}", directory::NodeRoleName(config_.role), config_.name,
               bound_endpoint_);
  if (!pool_.empty()) spdlog::info("resuming {} packets from the store", pool_.size());
  if (tap_) {
    tap_->OnStart({config_.name, config_.role == directory::NodeRole::kProvider,
                   keys_.identity().verify_key().bytes});
  }
  while (!stop.load()) {
    const std::int64_t now = NowUs();
    Housekeeping(now);
    if (policy_) {
      ReleaseDue(now);
      ResendUnacked(now);
    }
    if (tap_) tap_->OnTick(now, *this);

    // Wait for traffic, at most until the policy's next wake-up or the next housekeeping tick.
    std::int64_t wait_us = 100'000;
    if (policy_) {
      if (auto wake = policy_->NextWakeup())
        wait_us = std::clamp<std::int64_t>(*wake - now, 0, wait_us);
    }
    if (tap_) {
      if (auto wake = tap_->NextWakeupUs())
        wait_us = std::clamp<std::int64_t>(*wake - now, 0, wait_us);
    }
    std::vector<zmq::pollitem_t> items;
    items.push_back({router_->handle(), 0, ZMQ_POLLIN, 0});
    std::vector<std::pair<sphinx::NodeId, zmq::socket_t*>> peer_index;
    for (auto& [id, link] : peers_) {
      items.push_back({link.socket.handle(), 0, ZMQ_POLLIN, 0});
      peer_index.emplace_back(id, &link.socket);
    }
    try {
      zmq::poll(items.data(), items.size(), std::chrono::milliseconds(wait_us / 1000));
      if (items[0].revents & ZMQ_POLLIN) {
        for (int i = 0; i < 256; ++i) {  // drain, bounded, so housekeeping still runs
          zmq::pollitem_t again{router_->handle(), 0, ZMQ_POLLIN, 0};
          if (i > 0 && zmq::poll(&again, 1, std::chrono::milliseconds(0)) == 0) break;
          OnRouterMessage();
        }
      }
      for (std::size_t i = 1; i < items.size(); ++i) {
        if (items[i].revents & ZMQ_POLLIN)
          OnPeerMessage(peer_index[i - 1].first, *peer_index[i - 1].second);
      }
    } catch (const zmq::error_t& e) {
      if (e.num() == EINTR) continue;
      return Status::Internal(std::string("ZeroMQ: ") + e.what());
    }
  }
  spdlog::info("shutting down: {} packets stay in the store for the next start", pool_.size());
  (void)metrics_.WriteFile(config_.metrics_file);
  if (tap_) tap_->OnStop();
  return Status::Ok();
}

}  // namespace sotto::mixnode
