// The event loop, the nodes and how packets move between them (engine.h).
#include "engine.h"

#include <algorithm>
#include <chrono>
#include <cmath>

namespace sotto::sim {
namespace {

TimeUs SecondsToUs(double s) { return static_cast<TimeUs>(std::llround(s * 1e6)); }

}  // namespace

Engine::Engine(const Scenario& scenario, const RunOptions& options, std::uint64_t run_seed)
    : s_(scenario),
      options_(options),
      run_seed_(run_seed),
      duration_us_(SecondsToUs(scenario.duration_s)),
      burn_in_us_(SecondsToUs(scenario.burn_in_s)),
      end_us_(SecondsToUs(scenario.duration_s + scenario.drain_s)),
      latency_us_(static_cast<TimeUs>(std::llround(scenario.link_latency_ms * 1000))),
      processing_us_(static_cast<TimeUs>(std::llround(scenario.processing_us))),
      no_cover_(scenario.payload_rate_per_s == 0),
      client_rng_(DeriveSeed(run_seed, 1)),
      traffic_rng_(DeriveSeed(run_seed, 2)),
      route_rng_(DeriveSeed(run_seed, 3)),
      dists_(scenario.clients) {
  if (s_.track_entropy) builder_.emplace(s_.clients, s_.entropy_epsilon);
  BuildNetwork();
  BuildClients();
}

Engine::~Engine() = default;

Results Engine::Run() {
  const auto wall_start = std::chrono::steady_clock::now();
  if (options_.on_layout) options_.on_layout(layout_);
  if (options_.observer != nullptr) options_.observer->OnStart(layout_);
  ScheduleFirstEvents();
  const TimeUs progress_step = std::max<TimeUs>(1, end_us_ / 100);
  TimeUs next_progress = progress_step;
  while (!heap_.empty()) {
    const Event e = heap_.front();
    if (e.time > end_us_) break;
    if (e.time >= duration_us_ && outstanding_measured_ == 0) break;
    std::pop_heap(heap_.begin(), heap_.end(), Later{});
    heap_.pop_back();
    now_ = e.time;
    ++r_.scheduled_events;
    Dispatch(e);
    if (now_ >= next_progress) {
      if (options_.on_progress) {
        options_.on_progress(static_cast<double>(now_) / static_cast<double>(end_us_));
      }
      next_progress = (now_ / progress_step + 1) * progress_step;
    }
  }
  const std::chrono::duration<double> wall = std::chrono::steady_clock::now() - wall_start;
  return Collect(wall.count());
}

void Engine::Push(TimeUs time, EventType type, std::uint32_t a, std::uint32_t b) {
  heap_.push_back(Event{time, (seq_++ << 8) | type, a, b});
  std::push_heap(heap_.begin(), heap_.end(), Later{});
}

void Engine::Dispatch(const Event& e) {
  switch (static_cast<EventType>(e.order & 0xff)) {
    case kRealMessage:
      OnRealMessage(e.a);
      break;
    case kPayload:
      OnPayload(e.a);
      break;
    case kLoop:
      OnCover(e.a, PacketKind::kLoop);
      break;
    case kDrop:
      OnCover(e.a, PacketKind::kDrop);
      break;
    case kArrive:
      Arrive(e.a, e.b);
      break;
    case kWake: {
      // A wake-up that an earlier one replaced is stale: skip it. A node busy with its input
      // releases when the drain ends (LoopTop), as sotto-mixnode's loop does.
      Node& n = nodes_[e.a];
      if (static_cast<std::uint32_t>(n.wake_gen) != e.b) break;
      if (n.busy) {
        n.wake_at = kNever;
        break;
      }
      Wake(e.a);
      break;
    }
    case kProcessed:
      Processed(e.a);
      break;
    case kFloodTarget:
      FloodTarget(e.b);
      break;
  }
}

void Engine::ScheduleWake(std::uint32_t node, TimeUs at) {
  Node& n = nodes_[node];
  if (n.wake_at <= at) return;  // an earlier (or this) wake-up is already due
  n.wake_at = at;
  ++n.wake_gen;
  Push(at, kWake, node, static_cast<std::uint32_t>(n.wake_gen));
}

void Engine::Wake(std::uint32_t node) {
  Node& n = nodes_[node];
  n.wake_at = kNever;
  if (const auto due = n.policy->NextWakeup(); !due || *due > now_) {  // not a round (yet)
    if (due) ScheduleWake(node, *due);
    return;
  }
  const std::vector<mixnode::PacketHandle> batch = n.policy->Release(now_);
  // sotto-mixnode's providers mix but never pad (mix_release.cpp): provider_dummies = false.
  const std::size_t dummies =
      n.provider && !s_.provider_dummies ? 0 : n.policy->DummiesFor(batch.size());
  DistTable::Handle mixed = DistTable::kNone;  // one reference held until the dummies have theirs
  if (n.propagate) PropagateOnRelease(n, batch, mixed);
  NoteQueue(n);
  for (const mixnode::PacketHandle h : batch) Depart(node, static_cast<std::uint32_t>(h));
  for (std::size_t i = 0; i < dummies; ++i) {
    const auto dest = static_cast<std::uint32_t>(traffic_rng_.Below(s_.providers));
    const std::uint32_t d = NewPacket(PacketKind::kNodeDummy, kNoClient, kNoClient, dest);
    Packet& p = packets_[d];
    if (n.provider) {
      p.hop = 0;  // through the mixes, like a client's packet
      p.route = static_cast<std::uint32_t>(route_rng_.Below(mixes_per_layer_));
    } else {
      // The rest of this mix's cascade or layers; in free-route straight to a provider.
      p.hop =
          static_cast<std::uint16_t>(s_.topology == Topology::kFreeRoute ? path_mixes_ : n.layer);
      p.route = n.index;
    }
    if (mixed != DistTable::kNone) SetDist(p, mixed);
    Depart(node, d);
  }
  dists_.Unref(mixed);
  if (const auto w = n.policy->NextWakeup()) ScheduleWake(node, *w > now_ ? *w : now_ + 1);
}

void Engine::Arrive(std::uint32_t node, std::uint32_t packet) {
  if (options_.flood.enabled && FloodIntercept(node, packet)) return;
  ++r_.events;
  if (options_.observer != nullptr) {
    const Packet& p = packets_[packet];
    const bool from_client = p.from == kNone;
    Observe(PacketEvent::Type::kArrive, from_client ? p.sender : p.from, node, p, from_client);
  }
  if (processing_us_ == 0) {
    Accept(node, packet);
    return;
  }
  Node& n = nodes_[node];
  n.inbox.push_back(packet);
  if (!n.busy) {
    n.busy = true;
    Push(now_ + processing_us_, kProcessed, node);
  }
}

void Engine::Processed(std::uint32_t node) {
  Node& n = nodes_[node];
  const std::uint32_t packet = n.inbox[n.inbox_head++];
  if (n.inbox_head == n.inbox.size()) {
    n.inbox.clear();
    n.inbox_head = 0;
  }
  Accept(node, packet);
  // sotto-mixnode drains up to 256 queued messages per turn of its loop, then releases what is
  // due (ReleaseDue at the top of the loop) and goes on.
  if (n.inbox_head < n.inbox.size() && ++n.drained < 256) {
    Push(now_ + processing_us_, kProcessed, node);
    return;
  }
  LoopTop(node);
}

void Engine::LoopTop(std::uint32_t node) {
  Node& n = nodes_[node];
  n.busy = false;
  n.drained = 0;
  if (n.policy) {
    if (const auto w = n.policy->NextWakeup(); w && *w <= now_) {
      ++n.wake_gen;  // a pending wake-up event for this round is now stale
      Wake(node);
    }
  }
  if (n.inbox_head < n.inbox.size()) {
    n.busy = true;
    Push(now_ + processing_us_, kProcessed, node);
  }
}

void Engine::Accept(std::uint32_t node, std::uint32_t packet) {
  if (packets_[packet].hop == path_mixes_ + 1) {
    Deliver(packet);
    return;
  }
  Node& n = nodes_[node];
  if (!n.policy) {  // pass-through provider
    Depart(node, packet);
    return;
  }
  if (n.propagate) PropagateOnAdd(n, packet);
  n.policy->Add(packet, now_);
  NoteQueue(n);
  if (const auto w = n.policy->NextWakeup()) ScheduleWake(node, std::max(*w, now_));
}

void Engine::Depart(std::uint32_t node, std::uint32_t packet) {
  ++r_.events;
  Packet& p = packets_[packet];
  const std::uint32_t next = NextNode(node, p);
  ++p.hop;
  Observe(PacketEvent::Type::kHop, node, next, p);
  p.from = node;
  SendTo(next, packet);
}

void Engine::SendTo(std::uint32_t next, std::uint32_t packet) {
  if (latency_us_ == 0) {
    Arrive(next, packet);
  } else {
    Push(now_ + latency_us_, kArrive, next, packet);
  }
}

std::uint32_t Engine::NextNode(std::uint32_t node, const Packet& p) {
  const std::uint32_t h = p.hop + 1u;  // position of the next node
  if (h > path_mixes_) return p.dest;
  switch (s_.topology) {
    case Topology::kCascade:
    case Topology::kCascades:
      return MixId(h, p.route);
    case Topology::kStratified:
      return MixId(h, static_cast<std::uint32_t>(route_rng_.Below(mixes_per_layer_)));
    case Topology::kFreeRoute: {
      // A uniformly random mix other than the current one.
      const bool at_mix = !nodes_[node].provider;
      auto m = static_cast<std::uint32_t>(route_rng_.Below(mix_count_ - (at_mix ? 1 : 0)));
      const std::uint32_t current = node - s_.providers;
      if (at_mix && m >= current) ++m;
      return s_.providers + m;
    }
  }
  return p.dest;
}

void Engine::NoteQueue(Node& n) {
  const std::uint64_t size = n.policy->PoolSize();
  n.pool_integral += static_cast<double>(n.pool) * static_cast<double>(now_ - n.last_change);
  n.last_change = now_;
  n.pool = size;
  n.max_pool = std::max(n.max_pool, size);
}

std::uint32_t Engine::NewPacket(PacketKind kind, std::uint32_t sender, std::uint32_t recipient,
                                std::uint32_t dest) {
  std::uint32_t index;
  if (!free_packets_.empty()) {
    index = free_packets_.back();
    free_packets_.pop_back();
  } else {
    index = static_cast<std::uint32_t>(packets_.size());
    packets_.emplace_back();
  }
  packets_[index] = Packet{next_serial_++, kNone, sender, recipient, dest, DistTable::kNone, 0,
                           kNone,          0,     kind,   false,     false};
  // Real packets are counted by SendMessagePacket, by their message's creation window (as
  // messages and deliveries are), so that delivered never exceeds sent; the rest by their own.
  if (kind != PacketKind::kReal && kind != PacketKind::kAttacker && InWindow(now_)) {
    ++r_.packets_total;
    switch (kind) {
      case PacketKind::kReal:
        break;
      case PacketKind::kPayloadCover:
        ++r_.payload_cover_packets;
        break;
      case PacketKind::kLoop:
        ++r_.loop_packets;
        break;
      case PacketKind::kDrop:
        ++r_.drop_packets;
        break;
      case PacketKind::kNodeDummy:
        ++r_.node_dummies;
        break;
      case PacketKind::kAttacker:
        break;
    }
  }
  return index;
}

void Engine::FreePacket(std::uint32_t packet) {
  dists_.Unref(packets_[packet].dist);
  packets_[packet].dist = DistTable::kNone;
  free_packets_.push_back(packet);
}

void Engine::Observe(PacketEvent::Type type, std::uint32_t from, std::uint32_t to, const Packet& p,
                     bool from_client) {
  if (options_.observer == nullptr) return;
  PacketEvent e;
  e.type = type;
  e.time = now_;
  e.from = from;
  e.to = to;
  e.packet = p.serial;
  e.kind = p.kind;
  e.sender = p.sender;
  e.recipient = p.recipient;
  e.message = p.message == kNone ? 0 : messages_[p.message].id;
  e.from_client = from_client;
  options_.observer->OnPacket(e);
}

}  // namespace sotto::sim
