// Probability propagation at honest mixing nodes (the model of sim/README.md "Entropy"):
//   - a batch round (threshold-timeout, timed, pool): every packet that leaves — and every one
//     the pool keeps, and every dummy — gets the mixture of the distributions of all packets in
//     the pool at that round, kept ones included (the observer cannot tell which were kept);
//   - a continuous-time node: the running mixture D of continuous_mixture.h.
// Corrupt nodes and pass-through providers do none of this: packets keep their distributions.
#include <algorithm>

#include "engine.h"

namespace sotto::sim {

void Engine::SetDist(Packet& p, DistTable::Handle h) {
  if (p.dist == h) return;
  dists_.Ref(h);
  dists_.Unref(p.dist);
  p.dist = h;
}

void Engine::PropagateOnAdd(Node& n, std::uint32_t packet) {
  const DistTable::Handle h = packets_[packet].dist;
  if (n.continuous) {
    n.mixture->Arrive(dists_, h);
    dists_.Unref(n.snapshot);  // D changed
    n.snapshot = DistTable::kNone;
  } else {
    n.arrivals.push_back(h);  // the packet holds the reference until it leaves
  }
}

void Engine::PropagateOnRelease(Node& n, const std::vector<mixnode::PacketHandle>& batch,
                                DistTable::Handle& mixed) {
  if (n.continuous) {
    if (batch.empty()) return;
    if (n.snapshot == DistTable::kNone) {
      n.snapshot = dists_.Store(n.mixture->Snapshot());
      dists_.Ref(n.snapshot);
    }
    for (const mixnode::PacketHandle h : batch) {
      SetDist(packets_[h], n.snapshot);
      n.mixture->Depart();
    }
    return;
  }
  // A batch round: the pool held carry_count packets with distribution `carry` plus the arrivals.
  DistTable::Handle m = n.carry;
  if (!n.arrivals.empty()) {
    if (n.carry_count > 0) dists_.AddTo(*builder_, n.carry, static_cast<double>(n.carry_count));
    // Equal handles are frequent (a whole upstream batch shares one): add each once, weighted.
    std::sort(n.arrivals.begin(), n.arrivals.end());
    for (std::size_t i = 0; i < n.arrivals.size();) {
      std::size_t j = i;
      while (j < n.arrivals.size() && n.arrivals[j] == n.arrivals[i]) ++j;
      dists_.AddTo(*builder_, n.arrivals[i], static_cast<double>(j - i));
      i = j;
    }
    n.arrivals.clear();
    m = dists_.Store(builder_->Finish());
  }
  dists_.Ref(m);  // the caller's reference, for the dummies
  for (const mixnode::PacketHandle h : batch) SetDist(packets_[h], m);
  const std::uint64_t kept = n.policy->PoolSize();
  const DistTable::Handle carry = kept > 0 ? m : DistTable::kNone;
  dists_.Ref(carry);
  dists_.Unref(n.carry);
  n.carry = carry;
  n.carry_count = kept;
  mixed = m;
}

}  // namespace sotto::sim
