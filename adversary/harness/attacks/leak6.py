"""Leak 6 of issue 9: work after a fetch shows in the timing (the positive control).

On the link between a client and its provider the observer sees, every fetch interval,
FETCH → MAIL (always the same size) → ACK → ACKED. A client with nothing to process answers
the MAIL with its ACK at once; with a real message in the MAIL (a text or a delivery receipt:
trial decryption, history and session writes with fsync, a receipt queued) the ACK leaves
milliseconds later. Three steps, each using only the capture:

1. **gap classifier**: the score of each fetch is its MAIL→ACK gap (the ACK's first byte minus
   the MAIL's last byte, same client). Without labels, the observer calls "real mail" the
   slowest mode of the histogram of log10 gaps (slowest_mode_threshold); with a single mode
   nothing is called real mail.
   Scored: AUC of the gap for real mail (>= 1 text or receipt item) vs none, with DeLong's 95%
   interval, and the Mann–Whitney p-value for "the gaps do not depend on the mail".
2. **partner inference**: a text into B makes B's client send a receipt, which lands in A's
   mailbox a few seconds later, so A's "real mail" events follow B's. For each user U and each
   other user V: the number of U's events followed by one of V's within W seconds, minus the
   number expected if V's events were independent of U's (|U's events| · (1 − e^(−rate_V · W)));
   U's partner is the V with the largest excess. W = 2 fetch intervals + (mixes + 2) batch
   timeouts + 3 mean payload intervals, from the consensus' public parameters.
   Scored against the user each user exchanged most workload messages with.
3. **sender inference**: for each of R's fetches, the sender distribution gives weight
   1 + excess(R, V) to every V with an event within W after it (the receipt reaching V), and a
   tenth of that to the others; R itself is excluded. Scored on every fetch that brought a
   text, against the text's true sender; chance 1/(N − 1). The interval is a bootstrap over
   recipients: the guesses for one recipient share its partner estimate.
"""
import bisect
import math

from .. import scoring, stats
from .base import Attack, register


def slowest_mode_threshold(logs, bin_width=0.1, min_share=0.02):
    """The valley below the slowest mode of a histogram of log10 gaps, without labels.

    Empty fetches make the main mode (an immediate ACK, ~0.1 ms) and, on today's client, a
    second one a few ms up (the ACK waiting behind other work of the client's single event
    loop); real mail is the slowest mode (trial decryption and fsyncs, tens of ms). The
    histogram (bins of 0.1 in log10 µs, smoothed 1-2-1) is searched for local maxima holding at
    least `min_share` of the fetches; the threshold is the lowest point between the slowest
    peak and the next one down, when the tallest peak is not itself the slowest. One peak only — the gaps do not depend on the mail — gives no
    threshold (inf): no fetch is called real mail."""
    if not logs:
        return float("inf")
    lo = math.floor(min(logs) / bin_width)
    nb = int(math.floor(max(logs) / bin_width)) - lo + 1
    h = [0] * nb
    for x in logs:
        h[int(math.floor(x / bin_width)) - lo] += 1
    sm = [(h[max(0, i - 1)] + 2 * h[i] + h[min(nb - 1, i + 1)]) / 4 for i in range(nb)]
    n = len(logs)
    peaks = [i for i in range(nb)
             if sm[i] >= (sm[i - 1] if i else -1) and sm[i] > (sm[i + 1] if i + 1 < nb else -1)
             and sum(h[max(0, i - 1):i + 2]) >= min_share * n]
    if not peaks:
        return float("inf")
    main = max(peaks, key=lambda i: sm[i])
    slow = max(peaks)
    if slow <= main:
        return float("inf")
    below = max(i for i in peaks if i < slow)  # the next mode down (the tallest, or another)
    valley = min(range(below, slow + 1), key=lambda i: (sm[i], -i))
    return (lo + valley + 1) * bin_width  # the upper edge of the valley's bin


def fetch_gaps(view):
    """[{client, mail_event, t, gap_us}] for every MAIL followed by an ACK of the same client."""
    per = {c: [] for c in view.clients}
    for i, e in enumerate(view.events):
        k = e["kind"]
        if k.startswith("MAIL") and e["dst"] in per:
            per[e["dst"]].append(("mail", e["t"], i))
        elif k.startswith("ACK") and k != "ACKED" and e["src"] in per:
            per[e["src"]].append(("ack", e["t0"], i))
    out = []
    for c, evs in per.items():
        evs.sort(key=lambda x: x[1])
        pending = None
        for kind, t, i in evs:
            if kind == "mail":
                pending = (t, i)
            elif pending is not None:
                out.append({"client": c, "mail_event": pending[1], "t": pending[0],
                            "gap_us": t - pending[0]})
                pending = None
    out.sort(key=lambda r: r["t"])
    return out


def window_us(params, layers):
    fetch = params.get("fetch_interval_ms", 2000)
    timeout = params.get("batch_timeout_ms", 1000)
    send = max(1, params.get("send_rate_per_min", 60))
    return int(1000 * (2 * fetch + (layers + 2) * timeout + 3 * 60000 / send))


@register
class Leak6(Attack):
    name = "leak6"
    summary = ("leak 6: the MAIL->ACK gap tells real mail from none; with the receipts' timing "
               "it names partners and senders (positive control on today's code)")
    needs = {"capture", "truth"}

    def observe(self, view):
        gaps = fetch_gaps(view)
        logs = [math.log10(max(1, g["gap_us"])) for g in gaps]
        cut = slowest_mode_threshold(logs)
        tau = 10 ** cut if cut != float("inf") else float("inf")
        clients = view.clients
        n = len(clients)
        real = {c: [] for c in clients}
        for g in gaps:
            if g["gap_us"] > tau:
                real[g["client"]].append(g["t"])
        w = window_us(view.params, len(view.cascade))
        span = (gaps[-1]["t"] - gaps[0]["t"]) if len(gaps) > 1 else 1
        rate = {c: len(real[c]) / span for c in clients}
        excess = {}
        for u in clients:
            for v in clients:
                if u == v:
                    continue
                tv = real[v]
                cnt = 0
                for t in real[u]:
                    j = bisect.bisect_right(tv, t)
                    cnt += j < len(tv) and tv[j] <= t + w
                expected = len(real[u]) * (1 - math.exp(-rate[v] * w))
                excess[(u, v)] = cnt - expected
        partner = {u: max((v for v in clients if v != u), key=lambda v: (excess[(u, v)], v))
                   for u in clients}
        beliefs = {}
        for g in gaps:
            r = g["client"]
            d = [0.0] * n
            for i, v in enumerate(clients):
                if v == r:
                    continue
                tv = real[v]
                j = bisect.bisect_right(tv, g["t"])
                near = j < len(tv) and tv[j] <= g["t"] + w
                d[i] = (1 + max(0.0, excess[(r, v)])) * (1.0 if near else 0.1)
            s = sum(d)
            beliefs[str(g["mail_event"])] = [x / s for x in d]
        return {"fetches": gaps, "threshold_us": tau if tau != float("inf") else None,
                "window_us": w,
                "real_events": {c: len(v) for c, v in real.items()},
                "partner": partner,
                "excess": {f"{u}>{v}": round(x, 3) for (u, v), x in excess.items()},
                "beliefs": beliefs}

    def score(self, obs, truth, run):
        n = len(truth.clients)
        name = {c["index"]: c["name"] for c in truth.clients}
        idx = {c["name"]: c["index"] for c in truth.clients}
        # Each truth fetch ↔ the MAIL frame that answered it: per client, in order, the first
        # MAIL whose last byte is after the provider recorded the fetch.
        mails = {}
        for g in obs["fetches"]:
            mails.setdefault(g["client"], []).append(g)
        labelled, texts = [], []
        unmatched = 0
        for c in mails:
            fs = sorted((f for f in truth.fetches if name[f["client"]] == c), key=lambda f: f["t"])
            gs = mails[c]
            j = 0
            for f in fs:
                while j < len(gs) and gs[j]["t"] < f["t"] - 5000:
                    j += 1
                if j >= len(gs) or gs[j]["t"] > f["t"] + 1_000_000:
                    unmatched += 1
                    continue
                g = gs[j]
                j += 1
                kinds = [it["kind"] for it in f["items"]]
                is_real = any(k in ("text", "receipt") for k in kinds)
                labelled.append({"gap_us": g["gap_us"], "real": is_real, "client": c,
                                 "t": g["t"], "kinds": kinds})
                for it in f["items"]:
                    if it["kind"] == "text" and it.get("first_fetch"):
                        texts.append((it["origin"], obs["beliefs"][str(g["mail_event"])], c))
        pos = [x["gap_us"] for x in labelled if x["real"]]
        neg = [x["gap_us"] for x in labelled if not x["real"]]
        a, (alo, ahi) = stats.auc(pos, neg)
        p = stats.mann_whitney_p(pos, neg)
        med = lambda v: sorted(v)[len(v) // 2] if v else float("nan")  # noqa: E731
        rows = [{
            "adversary": "global passive observer (leak 6)",
            "measure": "real mail vs none, from the MAIL->ACK gap",
            "n": len(labelled), "n_real": len(pos), "n_none": len(neg),
            "auc": a, "auc_ci": [alo, ahi], "auc_ci_method": "DeLong 95%",
            "mann_whitney_p": p, "chance": 0.5,
            "gap_median_real_us": med(pos), "gap_median_none_us": med(neg),
            "threshold_us": obs["threshold_us"], "unmatched_fetches": unmatched,
            "chance_note": "AUC 0.5: the gap says nothing about the mail",
            "_samples": [[x["gap_us"], int(x["real"])] for x in labelled],
        }]
        # Partner inference: the truth is the user each user exchanged most messages with.
        talk = {}
        for m in truth.messages:
            for u, v in ((m["sender"], m["recipient"]), (m["recipient"], m["sender"])):
                talk.setdefault(u, {}).setdefault(v, 0)
                talk[u][v] += 1
        hits = top = 0
        for u in range(n):
            if u not in talk:
                continue
            top += 1
            best = max(talk[u].values())
            guess = idx[obs["partner"][name[u]]]
            hits += talk[u].get(guess, 0) == best
        lo, hi = stats.wilson(hits, top)
        rows.append({"adversary": "global passive observer (leak 6)",
                     "measure": "each user's main partner (gap events + receipt timing)",
                     "n": top, "successes": hits, "success": hits / top if top else float("nan"),
                     "success_ci": [lo, hi], "success_ci_method": "Wilson 95%",
                     "chance": 1 / (n - 1), "window_us": obs["window_us"]})
        # Guesses lean on one partner estimate per recipient: clustered by recipient.
        s = scoring.sender_scores([t[:2] for t in texts], n - 1,
                                  clusters=[t[2] for t in texts])
        s.update({"adversary": "global passive observer (leak 6)",
                  "measure": "sender of each delivered text (gap events + receipt timing)",
                  "chance_note": f"1/{n - 1}: anyone but the recipient"})
        rows.append(s)
        return rows
