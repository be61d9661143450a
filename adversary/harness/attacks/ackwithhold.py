"""Leak 3 of issue 9: a sender's provider that withholds acks learns which packets were real.

Run with a provider that withholds a fraction of its clients' acks
(`--node-flags "provider-1=--withhold-acks P --withhold-from clients"`). The adversary: that
provider's recording (every client packet, which acks it withheld, every later packet and
resend of the same client, times) together with every provider's stored mail (the
recipient's provider colluding: `mail_stored` payloads). On today's client a packet whose ack
does not come is not resent as such: a cover packet is forgotten, a real message stays queued
and leaves again in a later payload slot in a NEW Sphinx packet around the SAME end-to-end
ciphertext — so the recipient's provider stores the same 2030 bytes twice.

For each withheld client packet (verdict forward), two features, from what the adversary holds:
- `dup`: the number of mailbox items (at any provider) that have a byte-identical twin and were
  stored within the window in which the withheld packet itself reached its mailbox (it went on
  through the cascade: only its ack was withheld): from when the provider sent it on, for
  (layers + 1) × 2 batch timeouts + 2 s (its longest path through the rounds);
- `retried`: whether the same client sent a byte-identical packet again (the provider records
  it as a `replay`) within RETRY_WINDOW_S — what a client that resends every unacknowledged
  packet unchanged (real and cover alike) does.
Score = 2·[dup > 0] + retried; scored against ground truth (real: delivered to someone else's
mailbox; cover: a loop or a drop) as the AUC with DeLong's 95% interval, and the Mann–Whitney
test; chance AUC 0.5.

And, over ALL recordings (every provider, whatever misbehaved): no two items stored in any
mailbox may carry identical payload bytes — the count of duplicate groups (0 is the only pass).
That row is scored on every run with recordings; the classifier only where a provider withheld
acks."""
import bisect
from collections import defaultdict

from .. import stats, truth as truthmod
from .base import Attack, register

RETRY_WINDOW_S = 60.0


def withheld_client_packets(recs):
    """The `in` records of every client packet whose ack this node withheld. Each `in` is
    followed by its own `ack_out` (same peer and link id; a client's link ids start again on
    every connection, so the pair is found in the order of the recording, not by id)."""
    pending, out = {}, []
    for e in recs:
        ev = e.get("ev")
        if ev == "in" and str(e.get("from", "")).startswith("client:"):
            pending[(e["from"], e.get("link_id"))] = e
        elif ev == "ack_out" and str(e.get("to", "")).startswith("client:"):
            r = pending.pop((e["to"], e.get("link_id")), None)
            if r is not None and e.get("action") == "withheld" and r.get("verdict") == "forward":
                out.append(r)
    return out


def duplicate_groups(recordings):
    """Groups of byte-identical stored items over the given recordings: [[(node, mailbox, item,
    t)], ...] sorted by their first copy's time."""
    by = defaultdict(list)
    for node, evs in recordings.items():
        for e in evs:
            if e.get("ev") == "mail_stored" and e.get("payload"):
                by[e["payload"]].append((node, e["mailbox"], e["item"], e["t"]))
    groups = [sorted(v, key=lambda x: x[3]) for v in by.values() if len(v) > 1]
    return sorted(groups, key=lambda g: g[0][3]), sum(len(v) for v in by.values())


@register
class AckWithhold(Attack):
    name = "ackwithhold"
    summary = ("leak 3: a sender's provider withholding acks tells real from cover packets "
               "(with the recipient's provider: identical mailbox items); and no two mailbox "
               "items anywhere may be identical")
    needs = {"recordings", "truth"}

    @staticmethod
    def _withholding(info):
        return [n for n, f in (info.get("node_flags") or {}).items()
                if n.startswith("provider-") and any(x.startswith("--withhold-acks") for x in f)]

    def corrupt(self, info, view):
        return sorted(view.providers)

    def observe(self, view):
        w_nodes = [n for n in self._withholding({"node_flags": view.node_flags})
                   if n in view.recordings]
        groups, items = duplicate_groups(view.recordings)
        twins = sorted(x[3] for g in groups for x in g)
        window_us = ((len(view.cascade) + 1) * 2 * view.params.get("batch_timeout_ms", 1000)
                     + 2000) * 1000
        samples = []
        for node in w_nodes:
            recs = view.recordings[node]
            out_t = {e["pool"]: e["t"] for e in recs if e.get("ev") == "out"
                     and e.get("pool") is not None and not e.get("resend")}
            replays = defaultdict(list)
            for e in recs:
                if e.get("ev") == "in" and e.get("verdict") == "replay" and \
                        str(e.get("from", "")).startswith("client:"):
                    replays[e["from"]].append(e["t"])
            for e in withheld_client_packets(recs):
                t = e["t"]
                t_out = out_t.get(e.get("pool"), t)
                lo = bisect.bisect_left(twins, t_out)
                hi = bisect.bisect_right(twins, t_out + window_us)
                rs = replays.get(e["from"], [])
                j = bisect.bisect_right(rs, t)
                retried = j < len(rs) and rs[j] <= t + RETRY_WINDOW_S * 1e6
                dup = hi - lo
                samples.append({"node": node, "from": e["from"], "link_id": e["link_id"],
                                "t": t, "dup": dup, "retried": bool(retried),
                                "score": 2 * (dup > 0) + int(retried)})
        return {"withholding": w_nodes, "samples": samples, "items": items,
                "window_us": window_us,
                "duplicate_groups": [[list(x) for x in g] for g in groups[:200]],
                "n_duplicate_groups": len(groups),
                "duplicated_items": sum(len(g) for g in groups)}

    def score(self, obs, truth, run):
        recs = run.recordings()
        label = {c["mailbox"][:16]: c["index"] for c in truth.clients}
        owner = {c["mailbox"]: c["index"] for c in truth.clients}
        chains, _ = truthmod.trace_packets(recs, label)
        kind = {}
        for c in chains:
            first = c.ins[0] if c.ins else None
            if first is None:
                continue
            if c.verdict == "deliver":
                k = "loop" if owner.get(c.mailbox) == c.sender else "real"
            elif c.verdict == "dummy_sink":
                k = "drop"
            else:
                continue
            kind[(c.provider, first.get("from"), first.get("link_id"), first["t"])] = k
        pos, neg, lab = [], [], []
        ret = {"real": [0, 0], "cover": [0, 0]}
        for s in obs["samples"]:
            k = kind.get((s["node"], s["from"], s["link_id"], s["t"]))
            if k is None:
                continue
            real = k == "real"
            (pos if real else neg).append(s["score"])
            lab.append([s["score"], int(real), s["dup"], int(s["retried"])])
            r = ret["real" if real else "cover"]
            r[0] += s["retried"]
            r[1] += 1
        a, (alo, ahi) = stats.auc(pos, neg)
        p = stats.mann_whitney_p(pos, neg)
        adv = f"sender's provider withholding acks ({', '.join(obs['withholding'])}) + " \
              "recipients' providers"
        rows = [] if not obs["withholding"] else [{
            "adversary": adv, "measure": "real vs cover among the client packets whose ack "
                                         "was withheld (AUC)",
            "n": len(lab), "n_real": len(pos), "n_cover": len(neg), "auc": a,
            "auc_ci": [alo, ahi], "auc_ci_method": "DeLong 95%", "mann_whitney_p": p,
            "chance": 0.5, "retried_real": ret["real"], "retried_cover": ret["cover"],
            "chance_note": "AUC 0.5: a missing ack makes real and cover packets behave alike",
            "_samples": lab,
        }]
        n_items = obs["items"]
        dup = obs["duplicated_items"]
        rows.append({
            "adversary": "every provider (all recordings)",
            "measure": "mailbox items that have a byte-identical twin",
            "n": n_items, "successes": dup, "success": dup / n_items if n_items else None,
            "success_ci": list(stats.wilson(dup, n_items)), "success_ci_method": "Wilson 95%",
            "chance": 0.0, "duplicate_groups": obs["n_duplicate_groups"],
            "chance_note": "0: no two items anywhere carry the same bytes",
        })
        return rows
