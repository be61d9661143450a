"""The global passive observer's attack: probability propagation over the capture, as
sotto-sim computes sender entropy (sim/README.md, "The model").

Every client packet (a PACKET frame from a client's address to a provider) starts as a point
mass on that client. Each node's rounds are inferred from the capture alone:

- a node's outputs (PACKET frames towards its next hop: provider → mix-1, mix-k → mix-k+1,
  last mix → providers) come in bursts — a threshold-timeout round is released in one loop,
  its frames leave within about a millisecond, and rounds are further apart than
  `burst_gap_us` (3 ms) far more often than not;
- the round's inputs are the earliest inputs not yet used that arrived (last byte) before the
  burst's first byte, at most as many as the burst has packets: the policy releases its whole
  pool, the event loop pools packets in arrival order, and a burst larger than the inputs
  available can only be padding (mixes pad to min_batch with dummies; providers never pad).
  Inputs beyond the burst's size arrived too late for that round and wait for the next;
- every output of the round gets the uniform mixture of the round's inputs' distributions
  (dummies cannot be told apart, so they carry the round's mixture, as in the simulator).

A message's distribution is that of the frame that carried it from the last mix into the
recipient's provider; ground truth only says which frame that is. Bursts with no input at all
(a resend after a missing ack, or a capture artefact) get the node's previous round's
distribution and are counted as anomalies. With the recordings, `score` also checks each
inferred round against the true one and reports the share that matched exactly."""
from collections import Counter

from .. import scoring, stats
from .base import Attack, register

BURST_GAP_US = 3000


def infer_rounds(ins, outs, gap_us=BURST_GAP_US):
    """ins: [(t_last, key)], outs: [(t_first, key)] (any order). Returns [(input keys, output
    keys, start time)] per inferred round, and the number of input-less bursts."""
    ins = sorted(ins)
    outs = sorted(outs)
    bursts = []
    for t, k in outs:
        if bursts and t - bursts[-1][2] < gap_us:
            bursts[-1][1].append(k)
            bursts[-1][2] = t
        else:
            bursts.append([t, [k], t])
    rounds, used, anomalies = [], 0, 0
    for start, keys, _last in bursts:
        avail = used
        while avail < len(ins) and ins[avail][0] < start:
            avail += 1
        take = min(avail - used, len(keys))
        rounds.append(([k for _, k in ins[used:used + take]], keys, start))
        anomalies += take == 0
        used += take
    return rounds, anomalies


def propagate(view, gap_us=BURST_GAP_US):
    """{event index: distribution} for every PACKET frame, and per-node diagnostics."""
    n = len(view.clients)
    cindex = {c: i for i, c in enumerate(view.clients)}
    providers, mixes = view.providers, list(view.cascade)
    nodes = providers + mixes
    nxt = {p: {mixes[0]} if mixes else set(providers) for p in providers}
    prev = {p: None for p in providers}
    for i, m in enumerate(mixes):
        nxt[m] = {mixes[i + 1]} if i + 1 < len(mixes) else set(providers)
        prev[m] = set(providers) if i == 0 else {mixes[i - 1]}
    belief = {}
    ins = {x: [] for x in nodes}
    outs = {x: [] for x in nodes}
    shares = [0] * n
    for i, e in enumerate(view.events):
        if e["kind"] != "PACKET":
            continue
        src, dst = e["src"], e["dst"]
        if src in cindex and dst in prev and prev[dst] is None:
            d = [0.0] * n
            d[cindex[src]] = 1.0
            belief[i] = tuple(d)
            shares[cindex[src]] += 1
            ins[dst].append((e["t"], i))
        elif src in nxt and dst in nxt[src]:
            outs[src].append((e["t0"], i))
            if prev.get(dst):
                ins[dst].append((e["t"], i))
    diag = {}
    uniform = tuple([1.0 / n] * n)
    for x in nodes:
        rounds, anomalies = infer_rounds(ins[x], outs[x], gap_us)
        last = uniform
        sizes = Counter()
        for in_keys, out_keys, _ in rounds:
            if in_keys:
                ds = [belief.get(k, uniform) for k in in_keys]
                last = tuple(sum(col) / len(ds) for col in zip(*ds))
            for k in out_keys:
                belief[k] = last
            sizes[f"{len(in_keys)}->{len(out_keys)}"] += 1
        diag[x] = {"inputs": len(ins[x]), "outputs": len(outs[x]), "rounds": len(rounds),
                   "inputless_bursts": anomalies,
                   "round_shapes": dict(sizes.most_common(12))}
    return belief, diag, shares


@register
class PassiveObserver(Attack):
    name = "passive"
    summary = ("global passive observer: probability propagation over the inferred rounds "
               "of every node (sotto-sim's model, on the real capture)")
    needs = {"capture", "truth"}

    def observe(self, view):
        belief, diag, shares = propagate(view)
        last = view.cascade[-1] if view.cascade else None
        final = {str(k): list(d) for k, d in belief.items()
                 if view.events[k]["src"] == last}
        return {"beliefs": final, "nodes": diag, "client_packet_shares": shares,
                "burst_gap_us": BURST_GAP_US}

    def score(self, obs, truth, run):
        pairs, missing = [], 0
        for m in truth.measured():
            d = obs["beliefs"].get(str(m.get("final_event")))
            if d is None:
                missing += 1
                continue
            pairs.append((m["sender"], d))
        n = len(truth.clients)
        s = scoring.sender_scores(pairs, n)
        s.update(scoring.ideal_scores(pairs, obs["client_packet_shares"]))
        s.update({"adversary": "global passive observer",
                  "measure": "sender of each real message",
                  "unscored_messages": missing,
                  "chance_note": f"1/{n}: any client could have sent it"})
        acc = truth.round_accuracy(obs) if hasattr(truth, "round_accuracy") else None
        if acc:
            s["round_inference"] = acc
        sim = run.sim_prediction()
        if sim:
            s["sim_entropy"] = sim["entropy_mean"]
            s["sim_entropy_ci"] = sim.get("entropy_ci")
            s["sim_command"] = sim["command"]
            if s["n"]:
                ok, ci = stats.tost_within([stats.entropy_bits(d) for _, d in pairs],
                                           sim["entropy_mean"], 0.10)
                s["within_10pct_of_sim"] = ok
                s["tost_90ci"] = list(ci)
        return [s]
