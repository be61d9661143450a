"""The n−1 (flooding) attack, as far as today's providers admit it (issue 9).

Run with `--flood PROVIDER:RATE --hold-except CLIENT` (misbehave.py): an attacker client with a
fresh key floods the target's provider with its own packets (any key may hand packets to a
provider), while the corrupt providers hold every other client's packets back (accepted,
acknowledged, kept out of the mixing policy until their next release), so the target's packets
share their rounds at the honest mixes with the attacker's.

The adversary: the holding providers' recordings, the attacker's own log, and the global
passive observer's capture. It follows every packet:
- into a corrupt provider and out of it: exact (the provider's `in` names the client, its
  `out` has the same pool id); the attacker's packets are the attacker's (sender N, one more
  than the clients);
- through the honest mixes: rounds inferred from the capture (passive.infer_rounds, padding
  to min_batch), every output the mixture of its round's inputs;
- out of the last mix: the corrupt provider that receives each packet knows whether it was one
  of the attacker's (delivered into the attacker's mailbox). The attacker's own frames are set
  aside, and every other frame's belief is renormalised over the clients (the attacker is not a
  candidate for a packet it knows is not its own).

Scored (the target's packets and messages created in the flood window, as sotto-sim's
netattack flood scores them): best-guess success on the target's real messages against chance
1/N and their mean entropy; the share of all the target's packets (real and cover) named; the
precision of the frames the adversary attributes to the target; whether each identified real
message's recipient provider (and, at a corrupt provider, mailbox) is then known; and the
cost: attacker packets per identified message. The same scores for everyone else's messages
in the window show what the hold does to the others (they wait, then leave in large rounds)."""
from .. import scoring, simattack, stats
from .base import Attack, register
from .passive import infer_rounds
from .views import client_hosts, host_of_peer_fn, own_frames


@register
class NMinus1(Attack):
    name = "nminus1"
    summary = ("n-1: an attacker client floods the target's provider while corrupt providers "
               "hold everyone else's packets (runs with --flood and --hold-except)")
    needs = {"capture", "recordings", "truth"}

    def applicable(self, run):
        ok, why = super().applicable(run)
        if ok and not (run.info.get("flood") and run.info.get("hold")):
            return False, "not an n-1 run (no --flood and --hold-except)"
        return ok, why

    def corrupt(self, info, view):
        return list(info["hold"]["at"])

    def observe(self, view):
        n = len(view.clients)
        na = n + 1                           # senders: the clients, then the attacker
        attacker_label = view.flood["mailbox"][:16]
        attacker_mailbox = view.flood["mailbox"]
        recs = view.recordings
        label_to_host = client_hosts(view, {attacker_label: "attacker"})
        cindex = {c: i for i, c in enumerate(view.clients)}
        host = host_of_peer_fn(label_to_host)
        ev_of, matching = own_frames(recs, view.events, host)
        belief = {}
        uniform = [1.0 / na] * na

        def point(i):
            v = [0.0] * na
            v[i] = 1.0
            return v

        # client frames: point masses (the attacker's host is the attacker)
        for i, e in enumerate(view.events):
            if e["kind"] != "PACKET" or view.roles.get(e["dst"]) != "provider":
                continue
            if e["src"] in cindex:
                belief[i] = point(cindex[e["src"]])
            elif e["src"] == "attacker":
                belief[i] = point(n)
        # corrupt providers: exact
        first = view.cascade[0]
        for p, evs in recs.items():
            in_of_pool = {e["pool"]: e for e in evs if e.get("ev") == "in"
                          and e.get("pool") is not None}
            for e in evs:
                if e.get("ev") != "out" or e.get("to") != first or e.get("resend") \
                        or e.get("action") == "replayed":
                    continue
                fo = ev_of.get(id(e))
                src = in_of_pool.get(e.get("pool"))
                if fo is None or src is None:
                    continue
                label = str(src.get("from"))[7:]
                h = label_to_host.get(label)
                belief[fo] = point(n) if label == attacker_label else (
                    point(cindex[h]) if h in cindex else uniform)
        # honest providers (not corrupt): inferred rounds
        for p in view.providers:
            if p in recs:
                continue
            ins = [(e["t"], i) for i, e in enumerate(view.events) if e["kind"] == "PACKET"
                   and e["dst"] == p and i in belief]
            outs = [(e["t0"], e["t"], i) for i, e in enumerate(view.events)
                    if e["kind"] == "PACKET" and e["src"] == p and e["dst"] == first]
            self._rounds(ins, outs, 0, belief, uniform)
        # honest mixes: inferred rounds
        pad = int(view.params.get("min_batch", 0))
        mixes = list(view.cascade)
        for k, m in enumerate(mixes):
            prev = set(view.providers) if k == 0 else {mixes[k - 1]}
            nxt = {mixes[k + 1]} if k + 1 < len(mixes) else set(view.providers)
            ins = [(e["t"], i) for i, e in enumerate(view.events) if e["kind"] == "PACKET"
                   and e["dst"] == m and e["src"] in prev]
            outs = [(e["t0"], e["t"], i) for i, e in enumerate(view.events)
                    if e["kind"] == "PACKET" and e["src"] == m and e["dst"] in nxt]
            self._rounds(ins, outs, pad, belief, uniform)
        # the last hop: the attacker's own deliveries are known at the corrupt providers
        own = set()
        for p, evs in recs.items():
            for e in evs:
                if e.get("ev") == "in" and e.get("from") == mixes[-1] and \
                        e.get("mailbox") == attacker_mailbox and id(e) in ev_of:
                    own.add(ev_of[id(e)])
        final, attributed = {}, []
        for i, e in enumerate(view.events):
            if e["kind"] != "PACKET" or e["src"] != mixes[-1] or i in own:
                continue
            v = belief.get(i, uniform)[:n]
            s = sum(v)
            final[str(i)] = [x / s for x in v] if s > 0 else [1.0 / n] * n
        sent = view.flood.get("sent") or []
        return {"beliefs": final, "own_frames": len(own), "labels": label_to_host,
                "attacker_packets": len(sent),
                "attacker_window_us": [sent[0]["t"], sent[-1]["t"]] if sent else None,
                "target": view.hold["except"]}

    @staticmethod
    def _rounds(ins, outs, pad, belief, uniform):
        rounds, _, _ = infer_rounds(ins, outs, pad_to=pad)
        last = uniform
        for in_keys, out_keys, _ in rounds:
            if in_keys:
                vs = [belief.get(k, uniform) for k in in_keys]
                last = [sum(col) / len(vs) for col in zip(*vs)]
            for k in out_keys:
                belief[k] = last

    def score(self, obs, truth, run):
        n = len(truth.clients)
        targets = set(obs["target"])
        w = obs["attacker_window_us"]
        if not w:
            return []
        t_lo, t_hi = w
        base = {"adversary": "n-1: attacker client + providers holding the others "
                             f"({', '.join(run.info['hold']['at'])}) + passive observer",
                "attacker_rate_per_s": run.info["flood"]["rate_per_s"]}
        msgs = [m for m in truth.messages if "chain" in m and m.get("t_in") is not None
                and t_lo <= m["t_in"] <= t_hi]
        rows = []
        for who, sel in (("target", [m for m in msgs if m["sender"] in targets]),
                         ("everyone else", [m for m in msgs if m["sender"] not in targets])):
            pairs = [(m["sender"], obs["beliefs"][str(m["final_event"])]) for m in sel
                     if str(m.get("final_event")) in obs["beliefs"]]
            s = scoring.sender_scores(pairs, n)
            s.update(base)
            s["measure"] = f"sender of each real message of {who} in the flood window"
            if who == "target":
                sim = simattack.netattack(run, "flood", params=[
                    ("target", sorted(targets)[0]),
                    ("hold_other_providers",
                     "true" if len(run.info["hold"]["at"]) > 1 else "false")])
                if sim and "success_mean" in sim:
                    s.update({"sim_success": sim["success_mean"],
                              "sim_entropy": sim["entropy_mean"], "sim_command": sim["command"],
                              "sim_attacker_packets_per_run": sim.get("attacker_packets_mean"),
                              "sim_note": "sotto-sim's attacker times its packets to each of "
                                          "the target's (a flush, then threshold − 1 with it); "
                                          "the testnet's floods at a steady rate"})
                s["attacker_packets_per_identified_message"] = (
                    obs["attacker_packets"] / s["successes"] if s["successes"] else None)
                s["attacker_packets"] = obs["attacker_packets"]
                s["recipient_provider_known_when_identified"] = True
                s["chance_note"] = f"1/{n}; the recipient's provider (and mailbox, at a " \
                                   "corrupt provider) is seen where the frame goes"
            rows.append(s)
        # every packet of the target (real and cover), and the precision of the attribution
        pk = [(snd, fe) for snd, fe, t_in, _v in truth.packets
              if fe is not None and t_lo <= t_in <= t_hi and str(fe) in obs["beliefs"]]
        tgt = [fe for snd, fe in pk if snd in targets]
        named = sum(1 for fe in tgt if _top(obs["beliefs"][str(fe)]) in targets)
        claimed = [(snd, fe) for snd, fe in pk if _top(obs["beliefs"][str(fe)]) in targets]
        right = sum(1 for snd, _ in claimed if snd in targets)
        lo, hi = stats.wilson(named, len(tgt))
        plo, phi = stats.wilson(right, len(claimed))
        rows.append(dict(base, **{
            "measure": "each packet of the target (real and cover) in the flood window named",
            "n": len(tgt), "successes": named, "success": named / len(tgt) if tgt else None,
            "success_ci": [lo, hi], "success_ci_method": "Wilson 95%", "chance": 1 / n,
            "precision": right / len(claimed) if claimed else None,
            "precision_ci": [plo, phi], "claimed": len(claimed)}))
        return rows


def _top(v):
    return max(range(len(v)), key=lambda i: v[i])
