"""Leak 1 of issue 9: corrupt mix-1 and mix-3 around an honest mix-2 (the id/order attack).

The adversary holds the recordings of the first and the last mix of the cascade (exactly what
those nodes see: previous and next hop, per-link ids, times, which packets they made
themselves) and the global passive observer's capture. It follows every packet:

1. client → provider: the capture (who sent each packet, a point mass);
2. the honest providers: rounds inferred from the capture (passive.infer_rounds), every output
   the mixture of its round's inputs;
3. mix-1 (corrupt): exact — each output is the input with the same pool id (the node's own
   `in` and `out` records, matched to their frames in the capture by time and order on each
   link, as the node itself knows them); its own dummies carry no sender;
4. mix-2 (honest): **the id attack**. mix-3 sees the link id mix-2 put on each packet. On
   today's code that id is mix-2's store counter, which counts arrivals, and 0 for a dummy; and
   mix-1 knows the order in which it sent to mix-2. So the packet mix-3 receives with id X is
   the (X − d)-th packet mix-1 sent to mix-2, for a constant d. The adversary looks for that d
   (|d| ≤ 256) under which mix-1's (X − d)-th send precedes mix-3's arrival by less than
   `MAX_DELAY_S` for the most ids, and uses the mapping if it explains at least
   `ID_MODE_SHARE` of them (on random ids it explains none); id 0 marks a dummy. Otherwise (or
   for an id the mapping does not explain) mix-2's rounds are inferred from the capture
   (passive.infer_rounds, padding to min_batch) and each output is the mixture of its round;
5. mix-3 (corrupt): exact, like mix-1.

A delivered message's belief is that of the frame from mix-3 to the recipient's provider,
normalised (the mass missing is the share of dummies: a real message is not one).

Scores: (a) per real message, the sender (best guess against chance 1/N, mean entropy);
(b) per real packet through mix-2, the adversary's guess of its mix-2 input (the id mapping, or
a uniformly drawn input of its inferred round) against chance = the mean of 1/(size of its
true mix-2 round); (c) what a next hop sees in the ids, on every link between two nodes: the
mean Spearman rank correlation, within each round of the sending node, between the order of the
ids and the true arrival order of the same packets at the sender (0 when ids are independent of
arrival; 1 on today's code), and the AUC of the id value for real packets against the sender's
own dummies (0.5 when ids say nothing; 1 on today's code, where dummies carry 0)."""
import random
from collections import defaultdict

from .. import scoring, simattack, stats
from .base import Attack, register
from .passive import infer_rounds
from .views import own_frames

MAX_DELAY_S = 30.0
ID_MODE_SHARE = 0.9
MAX_OFFSET = 256
TIE_SHARE = 0.005
# A node records `out` once the frame is handed over, which can be a little after the next
# node has it (as truth.MATCH_BEFORE_US): delays down to this count as consistent.
SLACK_US = 5000


def first_sends(recs, to):
    """A node's `out` records to `to` that are a packet's first send (no resend, no replayed
    copy), in time order."""
    return sorted((e for e in recs if e.get("ev") == "out" and e.get("to") == to
                   and not e.get("resend") and e.get("action") != "replayed"),
                  key=lambda e: e["t"])


def calibrate(xs, sends, max_delay_us):
    """The offset d such that the (x − d)-th send (1-based) precedes the arrival of id x by
    0..max_delay_us for the most ids; xs: [(id, arrival time)] with id != 0. Returns (d, share
    explained)."""
    if not xs or not sends:
        return 0, 0.0
    ts = [e["t"] for e in sends]

    def explained(d, sample):
        ok, delay = 0, 0
        for x, t in sample:
            k = x - d - 1
            if 0 <= k < len(ts) and -SLACK_US <= t - ts[k] <= max_delay_us:
                ok += 1
                delay += t - ts[k]
        return ok, delay / max(1, ok)

    # Found on an even sample, then checked on all. A send order shifted by one (d + 1: each id
    # taken for the packet sent just before) explains as many ids with a longer delay; shifted
    # the other way it explains fewer (a packet would leave before it arrived). Hence: among the
    # offsets that explain almost as many ids as the best, the one with the shortest delays.
    step = max(1, len(xs) // 2000)
    sample = xs[::step]
    got = {d: explained(d, sample) for d in range(-MAX_OFFSET, MAX_OFFSET + 1)}
    top = max(c for c, _ in got.values())
    d = min((d for d, (c, _) in got.items() if c >= (1 - TIE_SHARE) * top),
            key=lambda d: (got[d][1], abs(d)))
    return d, explained(d, xs)[0] / len(xs)


def counter_map(arrivals, seq_times, max_delay_us, chunk=400):
    """The id attack on one link. arrivals: [(id, time the next hop processed it)] in arrival
    order; seq_times: the times at which the honest node received its inputs, in order (what
    the adversary knows: its own sends, or the capture). Returns (position in seq_times or None
    per arrival, share explained, offsets used). The offset is found per chunk of arrivals
    (`calibrate`), since an input the node refused or dropped takes no id and shifts the
    rest by one; id 0 is None (a dummy on today's code)."""
    out, offs = [None] * len(arrivals), []
    explained = 0
    sends = [{"t": t} for t in seq_times]
    # Chunks of consecutive ids (one stretch of the honest node's counter, whatever order the
    # packets left in: a held or delayed packet keeps its place).
    order = sorted((j for j, (x, _) in enumerate(arrivals) if x != 0),
                   key=lambda j: arrivals[j][0])
    for start in range(0, len(order), chunk):
        part = order[start:start + chunk]
        d, _ = calibrate([arrivals[j] for j in part], sends, max_delay_us)
        offs.append(d)
        for j in part:
            x, t = arrivals[j]
            k = x - d - 1
            if 0 <= k < len(seq_times) and -SLACK_US <= t - seq_times[k] <= max_delay_us:
                out[j] = k
                explained += 1
    nonzero = sum(1 for x, _ in arrivals if x != 0)
    return out, explained / nonzero if nonzero else 0.0, offs


def mix(vectors, n):
    """The mixture of a round's inputs (known dummies are all-zero vectors)."""
    if not vectors:
        return [1.0 / n] * n
    out = [0.0] * n
    for v in vectors:
        for i, p in enumerate(v):
            out[i] += p
    return [p / len(vectors) for p in out]


def normalised(v):
    s = sum(v)
    return [p / s for p in v] if s > 0 else None


def link_frames(events, src, dst):
    return [(e["t0"], e["t"], i) for i, e in enumerate(events)
            if e["kind"] == "PACKET" and e["src"] == src and e["dst"] == dst]


def provider_beliefs(view, n, belief):
    """Point masses on client packets and the providers' inferred rounds (capture only)."""
    cindex = {c: i for i, c in enumerate(view.clients)}
    first = view.cascade[0]
    for p in view.providers:
        ins, outs = [], []
        for i, e in enumerate(view.events):
            if e["kind"] != "PACKET":
                continue
            if e["dst"] == p and e["src"] in cindex:
                v = [0.0] * n
                v[cindex[e["src"]]] = 1.0
                belief[i] = v
                ins.append((e["t"], i))
            elif e["src"] == p and e["dst"] == first:
                outs.append((e["t0"], e["t"], i))
        rounds, _, _ = infer_rounds(ins, outs, pad_to=0)
        last = [1.0 / n] * n
        for in_keys, out_keys, _ in rounds:
            if in_keys:
                last = mix([belief[k] for k in in_keys], n)
            for k in out_keys:
                belief[k] = last


def provider_ids(view, recs_m1, ev_of, belief, n):
    """The id attack on the honest providers: mix-1 sees each provider's ids (its store counter
    in arrival order on today's code) and the capture shows the order in which client packets
    reached that provider. Where the mapping explains >= ID_MODE_SHARE of the ids, the frame
    into mix-1 gets the belief of the client packet it maps to (else the inferred round's,
    already in `belief`)."""
    out = {}
    for p in view.providers:
        # every packet from a client's address (sotto clients, and any other key's: each takes
        # an id)
        frames = sorted((e["t"], i) for i, e in enumerate(view.events)
                        if e["kind"] == "PACKET" and e["dst"] == p
                        and view.roles.get(e["src"]) == "client")
        arrivals = sorted((e for e in recs_m1 if e.get("ev") == "in" and e.get("from") == p),
                          key=lambda e: e["t"])
        pos, share, offs = counter_map([(int(e["link_id"], 16), e["t"]) for e in arrivals],
                                       [t for t, _ in frames], MAX_DELAY_S * 1e6)
        used = 0
        if share >= ID_MODE_SHARE:
            for e, k in zip(arrivals, pos):
                fi = ev_of.get(id(e))
                if k is not None and fi is not None:
                    belief[fi] = belief.get(frames[k][1], [1.0 / n] * n)
                    used += 1
        out[p] = {"share_explained": share, "linked_by_id": used, "offsets": sorted(set(offs))}
    return out


def exact_mix(recs, ev_of, belief, n, prev_nodes, next_nodes):
    """A corrupt mix: each output frame gets its input frame's belief (same pool id); its own
    dummies get the zero vector."""
    in_of_pool = {e["pool"]: e for e in recs
                  if e.get("ev") == "in" and e.get("pool") is not None
                  and e.get("from") in prev_nodes}
    missing = 0
    for e in recs:
        if e.get("ev") != "out" or e.get("to") not in next_nodes or e.get("resend") \
                or e.get("action") == "replayed":
            continue
        fo = ev_of.get(id(e))
        if fo is None:
            missing += 1
            continue
        if e.get("dummy"):
            belief[fo] = [0.0] * n
            continue
        src = in_of_pool.get(e.get("pool"))
        fi = ev_of.get(id(src)) if src is not None else None
        belief[fo] = belief.get(fi, [1.0 / n] * n) if fi is not None else [1.0 / n] * n
        missing += fi is None
    return missing


@register
class IdOrder(Attack):
    name = "idorder"
    summary = ("leak 1: corrupt first and last mix undo the honest middle mix's shuffle from "
               "the per-link ids (store counter in arrival order, 0 for dummies)")
    needs = {"capture", "recordings", "truth"}

    def applicable(self, run):
        ok, why = super().applicable(run)
        if ok and len(run.view.cascade) != 3:
            return False, "needs a cascade of 3 mixes (corrupt mix-1 and mix-3, honest mix-2)"
        return ok, why

    def corrupt(self, info, view):
        return [view.cascade[0], view.cascade[-1]]

    def observe(self, view):
        m1, h, m3 = view.cascade
        n = len(view.clients)
        recs = view.recordings
        ev_of, matching = own_frames(recs, view.events, lambda p: str(p))
        belief = {}
        provider_beliefs(view, n, belief)
        providers = set(view.providers)
        # --- the providers, from mix-1's view of their ids and the capture's arrival order --
        prov = provider_ids(view, recs[m1], ev_of, belief, n)
        miss1 = exact_mix(recs[m1], ev_of, belief, n, providers, {h})
        # --- mix-2: the id mapping, or its rounds -------------------------------------------
        sends = first_sends(recs[m1], h)
        arrivals = sorted((e for e in recs[m3] if e.get("ev") == "in" and e.get("from") == h
                           and e.get("verdict") == "forward"), key=lambda e: e["t"])
        pos, share, offs = counter_map([(int(e["link_id"], 16), e["t"]) for e in arrivals],
                                       [e["t"] for e in sends], MAX_DELAY_S * 1e6)
        id_mode = share >= ID_MODE_SHARE
        in_frames = link_frames(view.events, m1, h)
        out_frames = link_frames(view.events, h, m3)
        pad = int(view.params.get("min_batch", 0))
        rounds, _, _ = infer_rounds([(t, i) for _, t, i in in_frames], out_frames, pad_to=pad)
        round_of_out, last = {}, [1.0 / n] * n
        for in_keys, out_keys, _ in rounds:
            mixture = mix([belief.get(k, [1.0 / n] * n) for k in in_keys], n) if in_keys \
                else last
            last = mixture
            for k in out_keys:
                round_of_out[k] = (mixture, in_keys)
        send_of_frame = {ev_of[id(e)]: e for e in sends if id(e) in ev_of}
        rng = random.Random(1)
        guesses, by_id, by_round, dummies_seen = [], 0, 0, 0
        for e, k in zip(arrivals, pos):
            fo = ev_of.get(id(e))
            x = int(e["link_id"], 16)
            guess = None
            if id_mode and x == 0:
                dummies_seen += 1
                if fo is not None:
                    belief[fo] = [0.0] * n
                guesses.append([e["link_id"], e["t"], None, 0, "dummy"])
                continue
            if id_mode and k is not None:
                src = sends[k]
                fi = ev_of.get(id(src))
                if fo is not None:
                    belief[fo] = belief.get(fi, [1.0 / n] * n) if fi is not None else \
                        [1.0 / n] * n
                guesses.append([e["link_id"], e["t"], src["link_id"], 1, "id"])
                by_id += 1
                continue
            r = round_of_out.get(fo)
            if fo is not None and r is not None:
                belief[fo] = r[0]
                cands = [send_of_frame[k_] for k_ in r[1] if k_ in send_of_frame]
                if cands:
                    guess = rng.choice(cands)["link_id"]
                guesses.append([e["link_id"], e["t"], guess, len(r[1]), "round"])
            else:
                if fo is not None:
                    belief[fo] = [1.0 / n] * n
                guesses.append([e["link_id"], e["t"], None, 0, "none"])
            by_round += 1
        miss3 = exact_mix(recs[m3], ev_of, belief, n, {h}, providers)
        final = {}
        for _t0, _t, i in [f for p in view.providers for f in link_frames(view.events, m3, p)]:
            v = normalised(belief.get(i, [1.0 / n] * n))
            if v is not None:
                final[str(i)] = v
        return {"beliefs": final, "id_mode": id_mode, "offsets": sorted(set(offs)),
                "id_share_explained": share, "providers": prov,
                "linked_by_id": by_id, "linked_by_round": by_round,
                "dummies_by_id": dummies_seen, "unmatched_records": [miss1, miss3],
                "frame_matching": matching, "cascade": [m1, h, m3],
                "guesses": guesses}

    def score(self, obs, truth, run):
        n = len(truth.clients)
        m1, h, m3 = run.view.cascade
        base = {"adversary": f"corrupt {m1} + {m3} around honest {h} (+ passive observer)"}
        # (a) senders of real messages
        pairs, missing = scoring.measured_pairs(truth, obs["beliefs"])
        s = scoring.sender_scores(pairs, n)
        s.update(base)
        s.update({"measure": "sender of each real message", "unscored_messages": missing,
                  "id_mode": obs["id_mode"], "id_share_explained": obs["id_share_explained"],
                  "chance_note": f"1/{n}: any client could have sent it"})
        # sotto-sim's trace observer with the same two mixes corrupt: what the network gives
        # when the ids tell nothing (the simulator has no ids)
        sim = simattack.netattack(run, "trace", sets=[("corrupt_layers", "1,3")])
        if sim and "success_mean" in sim:
            s.update({"sim_success": sim["success_mean"], "sim_entropy": sim["entropy_mean"],
                      "sim_command": sim["command"]})
        rows = [s]
        # (b) mix-2's input of each real packet
        recs = run.recordings()
        rows.append(dict(base, **link_scores(obs["guesses"], recs, m1, h, m3)))
        # (c) what the ids tell a next hop, on every node-to-node link
        rows += id_statistics(recs, run.view)
        return rows


def mix_truth(recs, m1, h, m3):
    """Ground truth through the honest mix h: {mix-3 `in` link id: (mix-1 `out` link id, size
    of h's round)} for real packets, from h's own recording."""
    hrec = recs[h]
    in_by_pool = {e["pool"]: e for e in hrec if e.get("ev") == "in" and e.get("from") == m1
                  and e.get("pool") is not None}
    out = {}
    cur = []
    rounds = []
    for e in hrec:
        if e.get("ev") == "release":
            cur = []
            rounds.append(cur)
        elif e.get("ev") == "out" and e.get("to") == m3 and not e.get("resend") \
                and e.get("action") != "replayed":
            cur.append(e)
    for r in rounds:
        for e in r:
            if e.get("dummy"):
                continue
            src = in_by_pool.get(e.get("pool"))
            if src is not None:
                out[e["link_id"]] = (src["link_id"], len(r))
    m1_dummy = {e["link_id"] for e in recs[m1] if e.get("ev") == "out" and e.get("dummy")}
    return {k: v for k, v in out.items() if v[0] not in m1_dummy}


def link_scores(guesses, recs, m1, h, m3):
    tru = mix_truth(recs, m1, h, m3)
    hits, chance, scored, modes = 0, [], 0, defaultdict(int)
    for lid, _t, guess, _ncand, mode in guesses:
        if lid not in tru:
            continue
        src, size = tru[lid]
        scored += 1
        hits += guess == src
        chance.append(1.0 / size)
        modes[mode] += 1
    lo, hi = stats.wilson(hits, scored)
    return {"measure": f"{h}'s input of each real packet it forwarded (per-packet linking)",
            "n": scored, "successes": hits, "success": hits / scored if scored else float("nan"),
            "success_ci": [lo, hi], "success_ci_method": "Wilson 95%",
            "chance": stats.mean(chance), "chance_note": f"mean 1/(size of the true {h} round)",
            "guess_modes": dict(modes)}


def spearman(xs, ys):
    """Spearman's ρ of two equal-length sequences without ties in either."""
    k = len(xs)
    rx = {v: i for i, v in enumerate(sorted(xs))}
    ry = {v: i for i, v in enumerate(sorted(ys))}
    dd = sum((rx[a] - ry[b]) ** 2 for a, b in zip(xs, ys))
    return 1 - 6 * dd / (k * (k * k - 1))


def rounds_of(recs, to):
    """The sending node's rounds towards `to`: [[out record, ...]] per release."""
    rounds, cur = [], None
    for e in recs:
        if e.get("ev") == "release":
            cur = []
            rounds.append(cur)
        elif e.get("ev") == "out" and e.get("to") == to and cur is not None \
                and not e.get("resend") and e.get("action") != "replayed":
            cur.append(e)
    return [r for r in rounds if r]


def link_id_stats(recs_sender, nxt):
    """(ρ per round with >= 3 real packets, real ids, dummy ids) of one link."""
    in_of_pool = {e["pool"]: e for e in recs_sender if e.get("ev") == "in"
                  and e.get("pool") is not None}
    rhos, real_ids, dummy_ids = [], [], []
    for r in rounds_of(recs_sender, nxt):
        pts = []
        for e in r:
            x = int(e["link_id"], 16)
            if e.get("dummy"):
                dummy_ids.append(x)
                continue
            real_ids.append(x)
            src = in_of_pool.get(e.get("pool"))
            if src is not None:
                pts.append((x, (src["t"], src["pool"])))
        if len(pts) >= 3 and len({p[0] for p in pts}) == len(pts):
            rhos.append(spearman([p[0] for p in pts], [p[1] for p in pts]))
    return rhos, real_ids, dummy_ids


def id_statistics(recs, view):
    """Rows (c): per link between nodes, the id-order correlation and real-vs-dummy AUC."""
    rows = []
    chain = [(p, view.cascade[0]) for p in view.providers]
    chain += list(zip(view.cascade, view.cascade[1:]))
    chain += [(view.cascade[-1], p) for p in view.providers]
    all_rho, all_real, all_dummy = [], [], []
    for a, b in chain:
        if a not in recs:
            continue
        rhos, real, dummy = link_id_stats(recs[a], b)
        all_rho += rhos
        all_real += real
        all_dummy += dummy
    lo, hi = stats.bootstrap_ci(all_rho) if all_rho else (float("nan"), float("nan"))
    rows.append({"adversary": "corrupt next hop (any node-to-node link)",
                 "measure": "Spearman ρ of link-id order vs arrival order within rounds",
                 "n": len(all_rho), "success": stats.mean(all_rho), "success_ci": [lo, hi],
                 "success_ci_method": "percentile bootstrap 95% over rounds (>= 3 real packets)",
                 "chance": 0.0, "chance_note": "ρ = 0: ids independent of arrival order",
                 "per_link": {f"{a}->{b}": round(stats.mean(link_id_stats(recs[a], b)[0]), 4)
                              for a, b in chain if a in recs}})
    a_, (alo, ahi) = stats.auc(all_real, all_dummy)
    rows.append({"adversary": "corrupt next hop (any node-to-node link)",
                 "measure": "link id of real packets vs the sender's dummies (AUC)",
                 "n": len(all_real) + len(all_dummy), "n_real": len(all_real),
                 "n_dummy": len(all_dummy), "auc": a_, "auc_ci": [alo, ahi],
                 "auc_ci_method": "DeLong 95%", "chance": 0.5,
                 "dummy_ids_zero": sum(1 for x in all_dummy if x == 0),
                 "chance_note": "AUC 0.5: a dummy's id looks like a real packet's"})
    return rows
