// Directory authority: descriptors in, one signed consensus per epoch out.
#include "authority.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <sstream>

#include "sotto/core/bytes.h"
#include "sotto/core/clock.h"
#include "sotto/core/keyfile.h"

namespace sotto::authority {
namespace fs = std::filesystem;
namespace {

std::optional<std::string> ReadFile(const fs::path& p) {
  std::ifstream in(p);
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

Authority::~Authority() {
  router_.reset();
  zap_.reset();
}

Result<std::unique_ptr<Authority>> Authority::Create(AuthorityConfig config) {
  // Refuse a configuration that could never be published, now rather than at the first epoch.
  directory::Consensus probe;
  probe.epoch_length_s = config.clock.length_s;
  probe.params = config.params;
  probe.valid_after = 0;
  probe.valid_until = 1;
  if (Status s = directory::ValidateConsensus(probe); !s.ok()) {
    return Status::InvalidArgument("configuration: " + s.message());
  }
  auto seed = ReadKeyFile(config.state_dir / "signing.key");
  if (!seed.ok())
    return Status::NotFound(seed.status().message() + " (run 'sotto-directory init')");
  auto link = ReadKeyFile(config.state_dir / "link.key");
  if (!link.ok()) return link.status();
  std::unique_ptr<Authority> a(
      new Authority(std::move(config), SigningKey::FromSeed(seed->Bytes()),
                    transport::CurveKeyPair::FromSecret(std::move(link.value()))));
  a->zap_ =
      std::make_unique<transport::ZapHandler>(a->context_, transport::AccessPolicy::AllowAll());
  auto router = transport::BindServer(a->context_, a->link_, a->config_.listen,
                                      static_cast<std::int64_t>(wire::kMaxControlMessageSize + 1),
                                      &a->bound_endpoint_);
  if (!router.ok()) return router.status();
  a->router_ = std::move(router.value());
  if (Status s = WriteFileAtomically(a->config_.state_dir / "endpoint", a->bound_endpoint_ + "\n");
      !s.ok()) {
    return s;
  }
  for (const char* sub : {"descriptors", "consensus"}) {
    if (Status s = EnsurePrivateDirectory(a->config_.state_dir / sub); !s.ok()) return s;
  }
  a->LoadState();
  a->started_unix_ = NowUnix();
  return a;
}

void Authority::LoadState() {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(config_.state_dir / "descriptors", ec)) {
    auto text = ReadFile(e.path());
    auto d = text ? directory::VerifyDescriptor(*text)
                  : Result<directory::NodeDescriptor>(Status::IoError(""));
    if (d.ok() && config_.nodes.count(d->name) && config_.nodes.at(d->name) == d->identity) {
      descriptors_[d->name] = d.value();
    }
  }
  for (const auto& e : fs::directory_iterator(config_.state_dir / "consensus", ec)) {
    auto text = ReadFile(e.path());
    try {
      const std::uint64_t epoch = std::stoull(e.path().stem().string());
      auto c = text ? directory::VerifyConsensus(*text, signing_.verify_key(), NowUnix())
                    : Result<directory::Consensus>(Status::IoError(""));
      if (c.ok()) {
        published_[epoch] = *text;
        published_consensus_.insert_or_assign(epoch, std::move(c.value()));
      }
    } catch (...) {
    }
  }
  spdlog::info("loaded {} descriptors and {} published documents", descriptors_.size(),
               published_.size());
}

std::optional<directory::Consensus> Authority::Build(std::uint64_t epoch) const {
  directory::Consensus c;
  c.epoch = epoch;
  c.epoch_length_s = config_.clock.length_s;
  c.valid_after = config_.clock.StartOf(epoch) - config_.clock.length_s / 2;
  c.valid_until =
      config_.clock.EndOf(epoch) + std::min<std::int64_t>(60, config_.clock.length_s / 2);
  c.params = config_.params;
  std::map<std::uint32_t, std::vector<const directory::NodeDescriptor*>> layers;
  bool provider = false;
  for (const auto& [name, d] : descriptors_) {
    auto key = d.RoutingKeyFor(epoch);
    if (!key) continue;
    c.nodes.push_back(d);
    c.nodes.back().routing_keys = {{epoch, *key}};  // only what this epoch's users need
    if (d.role == directory::NodeRole::kProvider) provider = true;
    if (d.role == directory::NodeRole::kMix && d.layer >= 1 && d.layer <= config_.cascade_length) {
      layers[d.layer].push_back(&d);
    }
  }
  std::size_t cascades = SIZE_MAX;
  for (std::uint32_t l = 1; l <= config_.cascade_length; ++l)
    cascades = std::min(cascades, layers[l].size());
  if (!provider || cascades == 0 || cascades == SIZE_MAX) return std::nullopt;
  for (std::size_t i = 0; i < cascades; ++i) {
    std::vector<sphinx::NodeId> cascade;
    for (std::uint32_t l = 1; l <= config_.cascade_length; ++l)
      cascade.push_back(layers[l][i]->id());
    c.cascades.push_back(cascade);
  }
  // Mixes that are not in any cascade (uneven layers) are left out of the document.
  std::erase_if(c.nodes, [&](const directory::NodeDescriptor& d) {
    if (d.role != directory::NodeRole::kMix) return false;
    return std::none_of(c.cascades.begin(), c.cascades.end(), [&](const auto& cas) {
      return std::find(cas.begin(), cas.end(), d.id()) != cas.end();
    });
  });
  return c;
}

void Authority::MaybePublish(std::uint64_t epoch, std::int64_t now_unix) {
  // Once published, a consensus is only replaced by one listing more nodes (a late node joined);
  // nodes and clients refresh theirs periodically.
  // A published consensus is replaced when the nodes changed (a late node joined, a restarted
  // node has a new address); nodes and clients refresh theirs periodically.
  if (published_.count(epoch)) {
    auto c = Build(epoch);
    if (!c || (published_consensus_.count(epoch) && *c == published_consensus_.at(epoch))) return;
  }
  const bool everyone = std::all_of(config_.nodes.begin(), config_.nodes.end(), [&](const auto& n) {
    auto it = descriptors_.find(n.first);
    return it != descriptors_.end() && it->second.RoutingKeyFor(epoch).has_value();
  });
  // Give nodes publish_wait_s after the epoch starts — or after this authority started, so a
  // fresh network is not published with whoever happened to register first.
  const bool waited =
      now_unix >= std::max(config_.clock.StartOf(epoch), started_unix_) + config_.publish_wait_s;
  if (!everyone && !waited) return;
  auto c = Build(epoch);
  if (!c) return;
  std::string doc = directory::SignConsensus(*c, signing_);
  if (Status s = WriteFileAtomically(
          config_.state_dir / "consensus" / (std::to_string(epoch) + ".json"), doc);
      !s.ok()) {
    spdlog::error("cannot save consensus: {}", s.message());
    return;
  }
  spdlog::info("published consensus for epoch {}: {} nodes, {} cascades{}", epoch, c->nodes.size(),
               c->cascades.size(), everyone ? "" : " (some approved nodes missing)");
  published_[epoch] = std::move(doc);
  published_consensus_.insert_or_assign(epoch, std::move(*c));
  // Documents more than two epochs old are of no use to anyone.
  while (!published_.empty() && published_.begin()->first + 2 < epoch) {
    std::error_code ec;
    std::filesystem::remove(
        config_.state_dir / "consensus" / (std::to_string(published_.begin()->first) + ".json"),
        ec);
    published_consensus_.erase(published_.begin()->first);
    published_.erase(published_.begin());
  }
}

wire::Message Authority::HandlePost(const std::string& document) {
  auto d = directory::VerifyDescriptor(document);
  if (!d.ok()) return wire::ErrorMsg{wire::ErrorCode::kMalformed, d.status().message()};
  auto approved = config_.nodes.find(d->name);
  if (approved == config_.nodes.end() || !(approved->second == d->identity)) {
    spdlog::warn("descriptor from unapproved node '{}' refused", d->name);
    return wire::ErrorMsg{wire::ErrorCode::kForbidden,
                          "node '" + d->name +
                              "' with this identity key is not approved by this "
                              "authority (add it with --node NAME:KEY)"};
  }
  if (Status s =
          WriteFileAtomically(config_.state_dir / "descriptors" / (d->name + ".json"), document);
      !s.ok()) {
    return wire::ErrorMsg{wire::ErrorCode::kInternal, "authority cannot store descriptors"};
  }
  if (d->routing_keys.size() > 4) {
    return wire::ErrorMsg{wire::ErrorCode::kMalformed,
                          "a descriptor may list at most 4 routing keys (current and next epochs)"};
  }
  spdlog::info("descriptor from {} ({})", d->name, directory::NodeRoleName(d->role));
  descriptors_[d->name] = std::move(d.value());
  return wire::PostedMsg{};
}

wire::Message Authority::HandleGet(std::uint64_t epoch) {
  const std::uint64_t current = config_.clock.EpochAt(NowUnix());
  if (epoch == 0) epoch = current;
  if (epoch == current || epoch == current + 1) MaybePublish(epoch, NowUnix());
  auto it = published_.find(epoch);
  if (it == published_.end()) {
    return wire::ErrorMsg{wire::ErrorCode::kNotFound,
                          "no consensus for epoch " + std::to_string(epoch) + " yet"};
  }
  return wire::ConsensusMsg{it->second};
}

void Authority::OnMessage() {
  zmq::message_t id, payload;
  if (!router_->recv(id, zmq::recv_flags::dontwait) || !id.more()) return;
  (void)router_->recv(payload, zmq::recv_flags::dontwait);
  if (payload.more()) {  // drain the whole message so its frames cannot pose as routing ids
    zmq::message_t rest;
    while (router_->recv(rest, zmq::recv_flags::dontwait) && rest.more()) {
    }
    return;
  }
  auto msg =
      wire::Decode(ByteSpan(static_cast<const std::uint8_t*>(payload.data()), payload.size()));
  wire::Message reply = wire::ErrorMsg{wire::ErrorCode::kMalformed, "malformed request"};
  if (msg.ok()) {
    if (const auto* p = std::get_if<wire::PostDescriptorMsg>(&msg.value())) {
      reply = HandlePost(p->document);
    } else if (const auto* g = std::get_if<wire::GetConsensusMsg>(&msg.value())) {
      reply = HandleGet(g->epoch);
    }
  }
  const Bytes out = wire::Encode(reply);
  try {
    router_->send(id, zmq::send_flags::sndmore | zmq::send_flags::dontwait);
    router_->send(zmq::buffer(out), zmq::send_flags::dontwait);
  } catch (const zmq::error_t&) {
  }
}

Status Authority::Run(const std::atomic<bool>& stop) {
  spdlog::info("directory authority listening on {}; epoch length {} s, genesis {}",
               bound_endpoint_, config_.clock.length_s, config_.clock.genesis_unix);
  while (!stop.load()) {
    const std::int64_t now = NowUnix();
    const std::uint64_t epoch = config_.clock.EpochAt(now);
    MaybePublish(epoch, now);
    MaybePublish(epoch + 1, now);
    zmq::pollitem_t item{router_->handle(), 0, ZMQ_POLLIN, 0};
    try {
      if (zmq::poll(&item, 1, std::chrono::milliseconds(200)) > 0) {
        for (int i = 0; i < 64; ++i) {
          zmq::pollitem_t again{router_->handle(), 0, ZMQ_POLLIN, 0};
          if (i > 0 && zmq::poll(&again, 1, std::chrono::milliseconds(0)) == 0) break;
          OnMessage();
        }
      }
    } catch (const zmq::error_t& e) {
      if (e.num() != EINTR) return Status::Internal(std::string("ZeroMQ: ") + e.what());
    }
  }
  spdlog::info("directory authority stopped");
  return Status::Ok();
}

}  // namespace sotto::authority
