"""The global passive observer's attack: probability propagation over the capture, as
sotto-sim computes sender entropy (sim/README.md, "The model").

Every client packet (a PACKET frame from a client's address to a provider) starts as a point
mass on that client. Each node's rounds are inferred from the capture alone:

- a node's outputs (PACKET frames towards its next hop: provider → mix-1, mix-k → mix-k+1,
  last mix → providers) come in bursts — a threshold-timeout round is released in one loop
  and its frames are written back to back: a frame that starts less than `burst_gap_us`
  (1 ms) after the burst's latest frame ended belongs to the same burst (TCP may hold part of
  a burst back for milliseconds; the link is then busy with the burst, not idle). A longer
  pause starts a new round only if something could have caused one: an input arrived since
  the burst began, or the pause is longer than `idle_us` (50 ms); otherwise the node was
  merely descheduled half-way through sending its round (a loaded machine does that);
- the round's inputs are the earliest inputs not yet used that arrived (last byte) before the
  burst's first byte, at most as many as the burst has packets: the policy releases its whole
  pool, the event loop pools packets in arrival order, and a burst larger than the inputs
  available can only be padding (mixes pad to min_batch with dummies; providers never pad).
  A burst of more frames than the padding size had exactly that many inputs: if they had not
  all arrived when it began, a second round was released right behind the first, and the
  inputs that arrived while the burst was on the wire are its inputs too;
  Inputs beyond the burst's size were not processed in time for that round and wait for the
  next; an input still unused `straggle_us` (20 ms) before the previous burst began was never
  released (a packet the node refused or dropped) and is set aside, so that one lost input
  cannot shift every later round;
- every output of the round gets the uniform mixture of the round's inputs' distributions
  (dummies cannot be told apart, so they carry the round's mixture, as in the simulator).

A message's distribution is that of the frame that carried it from the last mix into the
recipient's provider; ground truth only says which frame that is. Bursts with no input at all
(a resend after a missing ack, or a capture artefact) get the node's previous round's
distribution and are counted as anomalies. With the recordings, `score` also checks each
inferred round against the true one and reports the share that matched exactly."""
import bisect
from collections import Counter

from .. import scoring, stats
from .base import Attack, register

BURST_GAP_US = 1000
IDLE_US = 50000
STRAGGLE_US = 20000


def infer_rounds(ins, outs, gap_us=BURST_GAP_US, straggle_us=STRAGGLE_US, pad_to=0,
                 idle_us=IDLE_US):
    """ins: [(t_last, key)]; outs: [(t_first, t_last, key)] (any order); pad_to: the size the
    node pads a round to with dummies (the consensus' min_batch for mixes, 0 for providers).
    Returns ([(input keys, output keys, start time)] per inferred round, input-less bursts,
    inputs never released)."""
    ins = sorted(ins)
    in_times = [t for t, _ in ins]
    bursts = []
    for t0, t1, k in sorted(outs):
        if bursts:
            start, _keys, end = bursts[-1]
            # A new round needs a cause: an input that arrived since the burst began (a
            # threshold reached, or a straggler's round), or a pause long enough for a timeout.
            caused = bisect.bisect_left(in_times, t0) > bisect.bisect_right(in_times, start)
            if t0 - end < gap_us or (not caused and t0 - end < idle_us):
                bursts[-1][1].append(k)
                bursts[-1][2] = max(end, t1)
                continue
        bursts.append([t0, [k], t1])
    rounds, used, anomalies, dropped = [], 0, 0, 0
    prev_start = None
    for start, keys, end in bursts:
        # An input still unused that arrived well before the previous burst can never be
        # released (refused or dropped by the node): it is no one's input.
        while (used < len(ins) and prev_start is not None
               and ins[used][0] < prev_start - straggle_us):
            used += 1
            dropped += 1
        k = len(keys)
        # A round of r real packets leaves as max(r, pad_to) frames: more frames than the
        # padding means exactly that many inputs. If fewer had arrived when the burst began,
        # a second round was triggered while the first was being sent (the bursts touch):
        # its inputs arrived before the burst ended.
        want = k if k > pad_to else None
        avail = used
        while avail < len(ins) and ins[avail][0] < start:
            avail += 1
        if want is not None and avail - used < want:
            while avail < len(ins) and ins[avail][0] < end and avail - used < want:
                avail += 1
        take = min(avail - used, k)
        rounds.append(([k_ for _, k_ in ins[used:used + take]], keys, start))
        anomalies += take == 0
        used += take
        prev_start = start
    return rounds, anomalies, dropped


def propagate(view, gap_us=BURST_GAP_US, given_rounds=None):
    """{event index: distribution} for every PACKET frame, per-node diagnostics, each client's
    packet count, and the rounds used. `given_rounds` ({node: [(input indices, output
    indices)]}) replaces the inference — e.g. the true rounds from the recordings, for an
    observer who knew every round exactly (a diagnostic, not an attack)."""
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
            outs[src].append((e["t0"], e["t"], i))
            if prev.get(dst):
                ins[dst].append((e["t"], i))
    diag = {}
    uniform = tuple([1.0 / n] * n)
    used = {}
    for x in nodes:
        if given_rounds is None:
            pad = int(view.params.get("min_batch", 0)) if x in mixes else 0
            rounds, anomalies, dropped = infer_rounds(ins[x], outs[x], gap_us, pad_to=pad)
        else:
            rounds = [([k for k in r[0] if k is not None], [k for k in r[1] if k is not None],
                       None) for r in given_rounds.get(x, [])]
            anomalies, dropped = sum(1 for r in rounds if not r[0]), None
        used[x] = [[r[0], r[1]] for r in rounds]
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
                   "inputless_bursts": anomalies, "inputs_never_released": dropped,
                   "round_shapes": dict(sizes.most_common(12))}
    return belief, diag, shares, used


def round_accuracy(inferred, true):
    """Per node: the share of output frames whose inferred round had exactly the true round's
    inputs."""
    out = {}
    for node, rounds in true.items():
        truth_of = {}
        for ins, outs in rounds:
            key = frozenset(i for i in ins if i is not None)
            for o in outs:
                truth_of[o] = key
        got = {}
        for ins, outs in inferred.get(node, []):
            key = frozenset(ins)
            for o in outs:
                got[o] = key
        common = [o for o in truth_of if o is not None and o in got]
        if common:
            out[node] = sum(got[o] == truth_of[o] for o in common) / len(common)
    return out


@register
class PassiveObserver(Attack):
    name = "passive"
    summary = ("global passive observer: probability propagation over the inferred rounds "
               "of every node (sotto-sim's model, on the real capture)")
    needs = {"capture", "truth"}

    def observe(self, view):
        belief, diag, shares, rounds = propagate(view)
        last = view.cascade[-1] if view.cascade else None
        final = {str(k): list(d) for k, d in belief.items()
                 if view.events[k]["src"] == last}
        return {"beliefs": final, "nodes": diag, "client_packet_shares": shares,
                "burst_gap_us": BURST_GAP_US, "rounds": rounds}

    def score(self, obs, truth, run):
        n = len(truth.clients)
        sim = run.sim_prediction() if run is not None else None
        note = f"1/{n}: any client could have sent it"
        # 1. Every real message of the measured window (the measure).
        pairs, missing = scoring.measured_pairs(truth, obs["beliefs"])
        s = scoring.sender_scores(pairs, n)
        s.update(scoring.ideal_scores(pairs, obs["client_packet_shares"]))
        s.update({"adversary": "global passive observer", "measure":
                  "sender of each real message", "unscored_messages": missing,
                  "chance_note": note})
        if sim:
            s.update(sim_fields(sim, [[stats.entropy_bits(d)] for _, d in pairs]))
        rows = [s]
        # 2. Every client packet of the window, real or cover: what the observer achieves on
        # average, on ~100 times the sample. Packets of one round of the last mix share a belief:
        # intervals are bootstraps over those rounds. Not sotto-sim's measure: a text waits for
        # the next payload slot, so it leaves after a longer gap than a random packet (the
        # inspection paradox) and shares its provider round with its sender less often; the
        # simulator predicts texts only, so this row carries no comparison.
        if run is not None and run.info.get("t0_us") is not None:
            pk = client_packets(obs, truth, run.info)
            if pk:
                p = scoring.sender_scores([x[:2] for x in pk], n, clusters=[x[2] for x in pk])
                groups = entropy_groups(pk)
                p["entropy_ci"] = list(stats.bootstrap_ci(groups, stat=pooled_mean))
                p["entropy_ci_method"] = (f"percentile bootstrap 95% over {len(groups)} rounds "
                                          "of the last mix")
                p.update({"adversary": "global passive observer", "measure":
                          "sender of each client packet (real and cover)", "chance_note": note})
                rows.append(p)
        # 3. Diagnostics (truth used to judge the observer, not by it): how often the rounds
        # were inferred exactly, and what an observer who knew every round would be left with.
        if truth.rounds and run is not None and run.events is not None:
            s["round_inference_exact"] = round_accuracy(obs["rounds"], truth.rounds)
            ob, _, _, _ = propagate(run.observer_view(), given_rounds=truth.rounds)
            oracle = [(m["sender"], ob[m["final_event"]]) for m in truth.measured()
                      if m.get("final_event") in ob]
            if oracle:
                o = scoring.sender_scores(oracle, n)
                s["oracle_entropy"], s["oracle_entropy_ci"] = o["entropy_mean"], o["entropy_ci"]
                s["oracle_success"] = o["success"]
        return rows


def client_packets(obs, truth, info):
    """(sender, belief, round) of every client packet created in the measured window whose
    last hop the observer scored; round = its round at the last mix (packets of one round
    share a belief)."""
    last = sorted((x for x in obs["rounds"] if x.startswith("mix-")),
                  key=lambda x: int(x.split("-")[1]))[-1:]
    round_of = {o: k for k, (_i, outs) in enumerate(obs["rounds"].get(last[0], []) if last
                                                     else []) for o in outs}
    t0 = info["t0_us"] + info["plan"]["burn_in_s"] * 1e6
    t1 = info["t0_us"] + info["plan"]["duration_s"] * 1e6
    return [(snd, obs["beliefs"][str(fe)], round_of.get(fe, -1 - i))
            for i, (snd, fe, t_in, _v) in enumerate(truth.packets)
            if t0 <= t_in < t1 and fe is not None and str(fe) in obs["beliefs"]]


def entropy_groups(pk):
    """Entropies grouped by round, for bootstraps that respect shared beliefs."""
    groups = {}
    for _snd, d, c in pk:
        groups.setdefault(c, []).append(stats.entropy_bits(d))
    return list(groups.values())


def pooled_mean(groups):
    return sum(map(sum, groups)) / sum(map(len, groups))


def sim_fields(sim, groups):
    """The prediction beside a measurement, and the equivalence test of the issue's goal:
    within ±10%, two one-sided tests at α = 0.05 (the 90% bootstrap interval of the mean, over
    `groups` of entropies that share a belief, inside the band)."""
    lo, hi = stats.bootstrap_ci(groups, stat=pooled_mean, level=0.90)
    target = sim["entropy_mean"]
    return {"sim_entropy": target, "sim_entropy_ci": sim.get("entropy_ci"),
            "sim_success": sim.get("success"), "sim_success_ci": sim.get("success_ci"),
            "sim_command": sim["command"], "tost_90ci": [lo, hi],
            "within_10pct_of_sim": target * 0.9 <= lo and hi <= target * 1.1,
            "difference_vs_sim": pooled_mean(groups) / target - 1}
