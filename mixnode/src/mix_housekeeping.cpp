// Housekeeping, once per loop turn and rate-limited inside: epochs and routing-key rotation,
// descriptor posting, consensus fetching, the metrics file, mailbox expiry.
#include <spdlog/spdlog.h>

#include <limits>

#include "mix_node.h"
#include "sotto/core/mailbox.h"

namespace sotto::mixnode {
namespace {

constexpr std::int64_t kSecond = 1'000'000;
constexpr std::chrono::milliseconds kDirectoryTimeout{500};

PolicyConfig PolicyFromParams(const directory::NetworkParams& p) {
  PolicyConfig c;
  auto kind = ParsePolicyKind(p.mixing_policy);
  c.kind = kind.ok() ? kind.value() : PolicyKind::kThresholdTimeout;
  c.threshold = p.batch_size;
  c.timeout_us = static_cast<TimeUs>(p.batch_timeout_ms) * 1000;
  c.period_us = c.timeout_us;
  c.keep_fraction = p.pool_keep_percent / 100.0;
  c.mean_delay_us = static_cast<TimeUs>(p.mean_delay_ms) * 1000;
  c.min_batch = p.min_batch;
  return c;
}

}  // namespace

const directory::NodeDescriptor* MixNode::FindNode(const sphinx::NodeId& id) const {
  if (const auto* c = CurrentConsensus()) {
    if (const auto* n = c->FindNode(id)) return n;
  }
  for (auto it = consensus_.rbegin(); it != consensus_.rend(); ++it) {
    if (const auto* n = it->second.FindNode(id)) return n;
  }
  return nullptr;
}

const directory::Consensus* MixNode::CurrentConsensus() const {
  auto it = consensus_.find(current_epoch_);
  if (it != consensus_.end()) return &it->second;
  // Keep serving with the newest older document until the current one arrives.
  return consensus_.empty() ? nullptr : &consensus_.rbegin()->second;
}

directory::NodeDescriptor MixNode::OwnDescriptor() const {
  directory::NodeDescriptor d;
  d.name = config_.name;
  d.identity = keys_.identity().verify_key();
  d.link_key = keys_.link().public_key;
  d.address = config_.advertise.empty() ? bound_endpoint_ : config_.advertise;
  d.role = config_.role;
  d.layer = config_.layer;
  d.routing_keys = keys_.PublicRoutingKeys();
  return d;
}

bool MixNode::PostDescriptor() {
  const directory::NodeDescriptor d = OwnDescriptor();
  Status s =
      directory_->PostDescriptor(directory::SignDescriptor(d, keys_.identity()), kDirectoryTimeout);
  if (s.ok()) {
    descriptor_dirty_ = false;
    spdlog::info("descriptor posted (routing keys for epochs {}..{})", d.routing_keys.front().epoch,
                 d.routing_keys.back().epoch);
    return true;
  }
  spdlog::warn("posting descriptor: {}", s.message());
  return s.code() != Status::Code::kUnavailable;
}

void MixNode::RotateKeys(std::uint64_t current) {
  const auto before = keys_.RoutingEpochs();
  if (Status s = keys_.EnsureRoutingKeys(current, current + 1); !s.ok()) {
    spdlog::error("routing keys: {}", s.message());
    return;
  }
  for (auto e : keys_.RoutingEpochs()) (void)store_->AddReplayEpoch(e);
  // The previous epoch's key stays for a grace period, then goes together with its replay cache.
  const auto& clock = config_.authority.clock;
  const std::int64_t grace = std::min<std::int64_t>(60, clock.length_s / 2);
  const std::int64_t now_unix = NowUs() / kSecond;
  const std::uint64_t keep_from =
      (current > 0 && now_unix < clock.StartOf(current) + grace) ? current - 1 : current;
  keys_.ForgetRoutingKeysBefore(keep_from);
  (void)store_->DropReplayEpochsBefore(keep_from);
  if (keys_.RoutingEpochs() != before) descriptor_dirty_ = true;
}

void MixNode::AdoptConsensus(directory::Consensus consensus) {
  if (!policy_) {
    policy_config_ = PolicyFromParams(consensus.params);
    if (Status s = policy_config_.Validate(); !s.ok()) {
      spdlog::error("consensus mixing parameters rejected: {}", s.message());
      return;
    }
    policy_ = MakePolicy(policy_config_, SystemRng());
    for (const auto& [id, p] : pool_)
      policy_->Add(id, p.arrival_us, static_cast<TimeUs>(p.delay_ms) * 1000);
    spdlog::info("mixing policy {}", policy_config_.Describe());
  }
  // Is this node in the document with its key for the epoch? If not, post again.
  const auto* me = consensus.FindNode(keys_.identity().verify_key().bytes);
  if (me == nullptr || !me->RoutingKeyFor(consensus.epoch)) descriptor_dirty_ = true;
  spdlog::info("consensus for epoch {}: {} nodes, {} cascades", consensus.epoch,
               consensus.nodes.size(), consensus.cascades.size());
  const std::uint64_t epoch = consensus.epoch;
  consensus_.insert_or_assign(epoch, std::move(consensus));
  while (!consensus_.empty() && consensus_.begin()->first + 1 < current_epoch_) {
    consensus_.erase(consensus_.begin());
  }
  // Every node of every retained document may talk to us (and counts as a node, not a client).
  node_keys_.clear();
  for (const auto& [e, c] : consensus_) {
    for (const auto& n : c.nodes) node_keys_.insert(n.link_key);
  }
  if (config_.role == directory::NodeRole::kMix) access_->Replace(node_keys_);
  // Keep every link whose next hop kept its address and link key: closing a socket discards
  // what is queued on it. A link that changed is replaced, and what was in flight on it is
  // resent (real packets and dummies alike).
  std::vector<sphinx::NodeId> changed;
  for (const auto& [id, link] : peers_) {
    const auto* n = FindNode(id);
    if (n == nullptr || n->address != link.address || n->link_key != link.link_key)
      changed.push_back(id);
  }
  for (const auto& id : changed) ReplacePeer(id, "consensus");
}

void MixNode::PurgeDummySink(bool all) {
  if (all) {
    auto items = store_->FetchMail(kDummyMailbox, std::numeric_limits<std::size_t>::max());
    if (!items.ok()) {
      spdlog::warn("dummy mailbox: {}", items.status().message());
      return;
    }
    dummy_items_.clear();
    for (const auto& item : items.value()) dummy_items_.push_back(item.id);
  }
  if (dummy_items_.empty()) return;
  if (Status s = store_->AckMail(kDummyMailbox, dummy_items_); !s.ok()) {
    spdlog::warn("dummy mailbox: {}", s.message());
    return;
  }
  dummy_items_.clear();
}

bool MixNode::RefreshConsensus(std::int64_t now_unix) {
  for (std::uint64_t e : {current_epoch_, current_epoch_ + 1}) {
    auto c = directory_->FetchConsensus(e, now_unix, kDirectoryTimeout);
    if (c.status().code() == Status::Code::kUnavailable) {
      spdlog::warn("directory: {}", c.status().message());
      return false;  // unreachable: back off instead of blocking the loop again next turn
    }
    if (c.ok()) {
      auto known = consensus_.find(e);
      if (known == consensus_.end() || !(known->second == c.value()))
        AdoptConsensus(std::move(c.value()));
    } else if (e == current_epoch_ && c.status().code() != Status::Code::kNotFound) {
      spdlog::warn("consensus for epoch {} rejected, keeping the last good one: {}", e,
                   c.status().message());
    }
  }
  return true;
}

void MixNode::Housekeeping(std::int64_t now_us) {
  const std::int64_t now_unix = now_us / kSecond;
  const std::uint64_t epoch = config_.authority.clock.EpochAt(now_unix);
  if (epoch != current_epoch_ || keys_.RoutingEpochs().empty() ||
      now_us - last_rotate_us_ > kSecond) {
    current_epoch_ = epoch;
    last_rotate_us_ = now_us;
    RotateKeys(epoch);
  }
  // Directory requests block the loop for up to kDirectoryTimeout each, so while the authority
  // is unreachable they back off exponentially (1 s … 30 s).
  if (now_us >= directory_retry_at_us_) {
    bool reachable = true;
    if (descriptor_dirty_ && now_us - last_post_us_ > 2 * kSecond) {
      last_post_us_ = now_us;
      reachable = PostDescriptor();
    }
    const bool missing = !consensus_.count(current_epoch_) || !consensus_.count(current_epoch_ + 1);
    if (reachable && now_us - last_fetch_us_ > (missing || fetch_soon_ ? 1 : 5) * kSecond) {
      last_fetch_us_ = now_us;
      fetch_soon_ = false;
      reachable = RefreshConsensus(now_unix);
    }
    if (reachable) {
      directory_backoff_us_ = kSecond;
    } else {
      directory_retry_at_us_ = now_us + directory_backoff_us_;
      directory_backoff_us_ = std::min<std::int64_t>(2 * directory_backoff_us_, 30 * kSecond);
    }
  }
  if (now_us - last_metrics_us_ > kSecond) {
    last_metrics_us_ = now_us;
    metrics_.Set("pool_size", static_cast<double>(pool_.size()));
    metrics_.Set("inflight", static_cast<double>(inflight_.size()));
    metrics_.Set("epoch", static_cast<double>(current_epoch_));
    const auto* c = CurrentConsensus();
    metrics_.Set("consensus_nodes", c ? static_cast<double>(c->nodes.size()) : 0.0);
    metrics_.Set("zap_rejected", static_cast<double>(access_->rejected()));
    if (Status s = metrics_.WriteFile(config_.metrics_file); !s.ok()) {
      spdlog::warn("metrics file: {}", s.message());
    }
  }
  if (config_.role == directory::NodeRole::kProvider && now_us - last_sink_purge_us_ > kSecond) {
    last_sink_purge_us_ = now_us;
    PurgeDummySink(/*all=*/false);
  }
  if (config_.role == directory::NodeRole::kProvider && now_us - last_expiry_us_ > 60 * kSecond) {
    last_expiry_us_ = now_us;
    const auto* c = CurrentConsensus();
    if (c != nullptr) {
      auto n = store_->ExpireMail(now_us -
                                  static_cast<std::int64_t>(c->params.mail_retention_s) * kSecond);
      if (n.ok() && n.value() > 0) metrics_.Add("mail_expired", n.value());
    }
  }
}

}  // namespace sotto::mixnode
