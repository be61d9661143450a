// TraceObserver and the adversary's verdicts (net_trace.h).
#include "net_trace.h"

#include <algorithm>
#include <cmath>

namespace sotto::sim {

TraceObserver::TraceObserver(const Scenario& scenario)
    : s_(scenario),
      policy_(scenario.MixPolicy()),
      table_(scenario.clients),
      builder_(scenario.clients, scenario.entropy_epsilon) {}

TraceObserver::~TraceObserver() = default;

void TraceObserver::OnStart(const Layout& layout) {
  layout_ = layout;
  nodes_.resize(layout.nodes.size());
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    NodeState& n = nodes_[i];
    n.honest_mixing = layout.nodes[i].mixing && !layout.nodes[i].corrupt;
    n.continuous = policy_.kind == mixnode::PolicyKind::kContinuous;
    if (n.honest_mixing && n.continuous) {
      n.mixture = std::make_unique<ContinuousMixture>(s_.clients, s_.entropy_epsilon);
    }
  }
}

DistTable::Handle TraceObserver::BeliefOf(std::uint64_t packet) const {
  const auto it = belief_.find(packet);
  return it == belief_.end() ? DistTable::kNone : it->second;
}

void TraceObserver::SetBelief(std::uint64_t packet, DistTable::Handle h) {
  auto [it, inserted] = belief_.try_emplace(packet, DistTable::kNone);
  if (!inserted && it->second == h) return;
  table_.Ref(h);
  table_.Unref(it->second);
  it->second = h;
}

// The round of an honest batch node begins (its first departure): every packet of it gets the
// mixture of the pool — the carry from earlier rounds plus what arrived since — and the pool
// keeps, by the policy's rule, min(pool, max(min_keep, ⌊keep_fraction · pool⌋)) packets (none for
// threshold and timed mixes), which carry that mixture into the next round.
void TraceObserver::StartRound(NodeState& n) {
  const std::uint64_t pooled = n.carry_count + n.arrivals.size();
  DistTable::Handle m = n.carry;
  if (!n.arrivals.empty()) {
    if (n.carry_count > 0) table_.AddTo(builder_, n.carry, static_cast<double>(n.carry_count));
    std::sort(n.arrivals.begin(), n.arrivals.end());
    for (std::size_t i = 0; i < n.arrivals.size();) {
      std::size_t j = i;
      while (j < n.arrivals.size() && n.arrivals[j] == n.arrivals[i]) ++j;
      table_.AddTo(builder_, n.arrivals[i], static_cast<double>(j - i));
      i = j;
    }
    n.arrivals.clear();
    m = table_.Store(builder_.Finish());
  }
  std::uint64_t kept = 0;
  if (policy_.kind == mixnode::PolicyKind::kPool) {
    const auto fraction =
        static_cast<std::uint64_t>(std::floor(policy_.keep_fraction * static_cast<double>(pooled)));
    kept = std::min<std::uint64_t>(pooled, std::max<std::uint64_t>(policy_.min_keep, fraction));
  }
  const DistTable::Handle carry = kept > 0 ? m : DistTable::kNone;
  table_.Ref(carry);
  table_.Unref(n.carry);
  n.carry = carry;
  n.carry_count = kept;
  table_.Ref(m);
  table_.Unref(n.round);
  n.round = m;
}

void TraceObserver::OnPacket(const PacketEvent& e) {
  switch (e.type) {
    case PacketEvent::Type::kSend:
      // A client's packet: a point mass on the client; the n-1 attacker's own: nothing.
      SetBelief(e.packet, e.from_client && e.kind != PacketKind::kAttacker
                              ? table_.PointMass(e.from)
                              : DistTable::kNone);
      break;
    case PacketEvent::Type::kArrive: {
      NodeState& n = nodes_[e.to];
      if (layout_.nodes[e.to].provider && !e.from_client) break;  // a delivery, not mixed
      n.arrival_since = true;
      if (!n.honest_mixing) break;
      const DistTable::Handle h = BeliefOf(e.packet);
      if (n.continuous) {
        n.mixture->Arrive(table_, h);
        table_.Unref(n.snapshot);
        n.snapshot = DistTable::kNone;
      } else {
        n.arrivals.push_back(h);  // the packet's own belief holds the reference meanwhile
      }
      break;
    }
    case PacketEvent::Type::kHop: {
      NodeState& n = nodes_[e.from];
      if (!n.honest_mixing) {
        // A corrupt node or a pass-through provider: the output is the input (known); a packet
        // that never arrived is the node's own dummy, and the adversary knows it.
        if (!belief_.contains(e.packet)) SetBelief(e.packet, DistTable::kNone);
        break;
      }
      if (n.continuous) {
        if (n.snapshot == DistTable::kNone) {
          n.snapshot = table_.Store(n.mixture->Snapshot());
          table_.Ref(n.snapshot);
        }
        SetBelief(e.packet, n.snapshot);
        n.mixture->Depart();
        break;
      }
      if (n.arrival_since || n.last_departure != e.time) StartRound(n);
      n.arrival_since = false;
      n.last_departure = e.time;
      SetBelief(e.packet, n.round);  // released packets and the round's dummies alike
      break;
    }
    case PacketEvent::Type::kDeliver: {
      const auto it = belief_.find(e.packet);
      const DistTable::Handle h = it == belief_.end() ? DistTable::kNone : it->second;
      if (on_deliver) on_deliver(e, h);
      if (it != belief_.end()) {
        table_.Unref(it->second);
        belief_.erase(it);
      }
      break;
    }
  }
  if (on_event) on_event(e);
}

namespace {

Verdict Uniform(std::uint32_t candidates) {
  const double n = std::max(1.0, static_cast<double>(candidates));
  return {std::log2(n), 1.0 / n, 1.0 / n};
}

}  // namespace

Verdict Judge(const DistTable& table, DistTable::Handle h, std::uint32_t truth,
              std::uint32_t clients, std::optional<std::uint32_t> exclude) {
  const std::uint32_t candidates = clients - (exclude ? 1 : 0);
  const double chance = 1.0 / std::max(1u, candidates);
  if (h == DistTable::kNone) return Uniform(candidates);
  if (table.IsPointMass(h)) {
    const std::uint32_t s = table.PointMassSender(h);
    if (exclude && *exclude == s) return Uniform(candidates);
    return {0.0, s == truth ? 1.0 : 0.0, chance};
  }
  const SenderDistribution& d = table.Get(h);
  double total = d.tail_mass, best = 0;
  for (const auto& [s, p] : d.entries) {
    if (exclude && *exclude == s) continue;
    total += p;
    best = std::max(best, p);
  }
  if (!(total > 0)) return Uniform(candidates);
  Verdict v;
  v.chance = chance;
  bool truth_in_entries = false;
  std::uint32_t ties = 0;
  bool truth_tied = false;
  for (const auto& [s, p] : d.entries) {
    if (exclude && *exclude == s) continue;
    const double q = p / total;
    v.entropy_bits -= q * std::log2(q);
    if (s == truth) truth_in_entries = true;
    if (p >= best * (1 - 1e-12)) {
      ++ties;
      if (s == truth) truth_tied = true;
    }
  }
  const double tail = d.tail_mass / total;
  const double atoms = std::max<std::uint32_t>(d.tail_senders, 1);
  if (tail > 0) v.entropy_bits += tail * std::log2(atoms / tail);
  if (ties == 0 || d.tail_mass / atoms > best) {
    // The tail's atoms are the most likely: a guess among them.
    v.success = truth_in_entries ? 0.0 : 1.0 / atoms;
  } else {
    v.success = truth_tied ? 1.0 / ties : 0.0;
  }
  return v;
}

Verdict JudgeWeights(const std::vector<std::pair<std::uint32_t, double>>& weights,
                     std::uint32_t truth, std::uint32_t clients,
                     std::optional<std::uint32_t> exclude) {
  const std::uint32_t candidates = clients - (exclude ? 1 : 0);
  double total = 0, best = 0;
  for (const auto& [s, w] : weights) {
    if ((exclude && *exclude == s) || !(w > 0)) continue;
    total += w;
    best = std::max(best, w);
  }
  if (!(total > 0)) return Uniform(candidates);
  Verdict v;
  v.chance = 1.0 / std::max(1u, candidates);
  std::uint32_t ties = 0;
  bool truth_tied = false;
  for (const auto& [s, w] : weights) {
    if ((exclude && *exclude == s) || !(w > 0)) continue;
    const double q = w / total;
    v.entropy_bits -= q * std::log2(q);
    if (w >= best * (1 - 1e-12)) {
      ++ties;
      if (s == truth) truth_tied = true;
    }
  }
  v.success = truth_tied ? 1.0 / ties : 0.0;
  return v;
}

}  // namespace sotto::sim
