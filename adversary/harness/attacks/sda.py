"""Statistical disclosure over the whole workload (Danezis's SDA, as sotto-sim's `netattack sda`
runs it over the simulated network).

The global passive observer's beliefs (passive.propagate: every packet's distribution over
senders as it leaves the last mix) plus what is seen where each packet ends:
- `mailbox` view (the corrupt recipient providers, here every provider): which client's mailbox
  each delivery went into (the provider's `in` with verdict deliver; a mailbox is named after
  its client's link key, and the provider knows which address that client connects from);
  packets into the dummy mailbox are recognised and left out, loops are not (they are mail);
- `provider` view (the capture alone): which provider each packet went to.

Each sender s gets a profile over recipients r from the soft counts of every delivery so far
(the expected number of s's packets that reached r, Σ belief(s)); a message's posterior is its
belief times (count(s, r) + 1/R) / (total(s) + 1), with what was learnt before it arrived — as
sotto-sim scores it. Each user's estimated partners are the recipients (other than itself: its
loops) with the largest excess count(s, r) − total(s)·column(r)/all at the end of the run.

Scored: (a) each user's partners — success when its top-k estimated partners are exactly its
k true ones (the users it exchanged workload messages with), against chance 1/C(N−1, k)
(Wilson 95% over users); and the share of true partners found in the top k; (b) the sender of
each real message, per view (best guess vs 1/N, mean entropy), beside sotto-sim's netattack sda
for the same scenario (mailbox view)."""
import math
from collections import defaultdict

from .. import scoring, simattack, stats
from .base import Attack, register
from .passive import propagate
from .views import client_hosts, host_of_peer_fn, own_frames


class Profiles:
    def __init__(self, senders, recipients):
        self.R = recipients
        self.c = [defaultdict(float) for _ in range(senders)]
        self.tot = [0.0] * senders
        self.col = defaultdict(float)
        self.all = 0.0

    def likelihood(self, s, r):
        return (self.c[s].get(r, 0.0) + 1.0 / self.R) / (self.tot[s] + 1.0)

    def add(self, belief, r):
        for s, p in enumerate(belief):
            if p > 0:
                self.c[s][r] += p
                self.tot[s] += p
        self.col[r] += sum(belief)
        self.all += sum(belief)

    def excess(self, s):
        return {r: c - self.tot[s] * self.col[r] / max(self.all, 1e-300)
                for r, c in self.c[s].items() if r != s}


@register
class Sda(Attack):
    name = "sda"
    summary = ("statistical disclosure over the workload: the observer's beliefs plus where "
               "each packet ends (mailbox: corrupt recipient providers; or provider)")
    needs = {"capture", "recordings", "truth"}

    def corrupt(self, info, view):
        return sorted(view.providers)

    def observe(self, view):
        n = len(view.clients)
        belief, _diag, _shares, _rounds = propagate(view)
        last = view.cascade[-1]
        cindex = {c: i for i, c in enumerate(view.clients)}
        label_to_host = client_hosts(view)
        ev_of, matching = own_frames(view.recordings, view.events,
                                     host_of_peer_fn(label_to_host))
        mailbox_of_frame, looks_real = {}, {}
        for p, evs in view.recordings.items():
            stored = {(e["mailbox"], e["item"]): e.get("payload") for e in evs
                      if e.get("ev") == "mail_stored"}
            for e in evs:
                if e.get("ev") == "in" and e.get("from") == last and id(e) in ev_of:
                    v = e.get("verdict")
                    if v == "deliver":
                        h = label_to_host.get(str(e.get("mailbox"))[:16])
                        mailbox_of_frame[ev_of[id(e)]] = cindex.get(h, -1)
                        looks_real[ev_of[id(e)]] = counters_in_clear(
                            stored.get((e.get("mailbox"), e.get("item"))))
                    elif v == "dummy_sink":
                        mailbox_of_frame[ev_of[id(e)]] = None
        finals = sorted((e["t"], i) for i, e in enumerate(view.events)
                        if e["kind"] == "PACKET" and e["src"] == last and i in belief)
        prov_index = {p: j for j, p in enumerate(view.providers)}
        mb = Profiles(n, n)
        rm = Profiles(n, n)
        pv = Profiles(n, len(view.providers))
        post_mb, post_rm, post_pv = {}, {}, {}
        for _t, i in finals:
            b = list(belief[i])
            # provider view: everything that reaches a provider
            r = prov_index[view.events[i]["dst"]]
            post_pv[str(i)] = normalise([p * pv.likelihood(s, r) for s, p in enumerate(b)])
            pv.add(b, r)
            r = mailbox_of_frame.get(i, -1)
            if r is None or r < 0:
                continue            # the dummy mailbox (or an unknown one): no recipient
            post_mb[str(i)] = normalise([p * mb.likelihood(s, r) for s, p in enumerate(b)])
            mb.add(b, r)
            if looks_real.get(i):
                post_rm[str(i)] = normalise([p * rm.likelihood(s, r) for s, p in enumerate(b)])
                rm.add(b, r)

        def ranking(prof):
            out = {}
            for s in range(n):
                ex = prof.excess(s)
                out[view.clients[s]] = [[view.clients[r], round(x, 3)] for r, x in
                                        sorted(ex.items(), key=lambda kv: (-kv[1], kv[0]))]
            return out

        return {"posterior_mailbox": post_mb, "posterior_real_mail": post_rm,
                "posterior_provider": post_pv, "partner_ranking": ranking(mb),
                "partner_ranking_real_mail": ranking(rm), "deliveries_seen": len(post_mb),
                "deliveries_told_real": len(post_rm), "labels": label_to_host}

    def score(self, obs, truth, run):
        n = len(truth.clients)
        names = [c["name"] for c in truth.clients]
        partners = defaultdict(set)
        for m in truth.messages:
            partners[m["sender"]].add(m["recipient"])
            partners[m["recipient"]].add(m["sender"])
        adv = "SDA: passive observer + recipients' providers (mailboxes)"
        adv_rm = adv[:-1] + ", real mail told from loops by the header counters in clear)"
        rows = []
        for who, key in ((adv, "partner_ranking"), (adv_rm, "partner_ranking_real_mail")):
            hits = found = total_k = users = 0
            chance = []
            for u in range(n):
                true = {names[v] for v in partners.get(u, ())}
                if not true:
                    continue
                users += 1
                k = len(true)
                top = {r for r, _ in obs[key].get(names[u], [])[:k]}
                hits += top == true
                found += len(top & true)
                total_k += k
                chance.append(1 / math.comb(n - 1, k))
            lo, hi = stats.wilson(hits, users)
            rows.append({"adversary": who, "measure": "each user's partners (top-k exactly right)",
                         "n": users, "successes": hits,
                         "success": hits / users if users else None,
                         "success_ci": [lo, hi], "success_ci_method": "Wilson 95% over users",
                         "chance": stats.mean(chance), "partners_found_share":
                             found / total_k if total_k else None,
                         "chance_partner_found_share": stats.mean(
                             [len(partners[u]) / (n - 1) for u in partners]),
                         "chance_note": "1/C(N-1, k): a random k-set of the others"})
        sim = simattack.netattack(run, "sda")
        if sim and "sda_identified_rate" in sim:
            rows[0].update({"sim_success": sim["sda_identified_rate"], "sim_command":
                            sim["command"], "sim_note": "sotto-sim: share of runs in which the "
                            "target's friends were named (and stayed named) by the end"})
        for view, key, who in (("mailbox", "posterior_mailbox", adv),
                               ("real", "posterior_real_mail", adv_rm),
                               ("provider", "posterior_provider",
                                "SDA: passive observer (recipient provider only)")):
            pairs = [(m["sender"], obs[key][str(m["final_event"])]) for m in truth.measured()
                     if str(m.get("final_event")) in obs[key]]
            s = scoring.sender_scores(pairs, n)
            s.update({"adversary": who, "measure": "sender of each real message (SDA posterior)"})
            if view == "real" and not pairs:
                # No stored item reads as a message with a clear ratchet header (since the
                # header encryption of issue 9): this view has nothing to score.
                s.update({"success": None, "success_ci": None, "entropy_mean": None,
                          "entropy_ci": None, "note": "no stored item has a header counter "
                          "in clear: the provider cannot tell real mail from loops"})
            if view == "mailbox" and sim and "success_mean" in sim:
                s.update({"sim_success": sim["success_mean"],
                          "sim_success_ci95": sim.get("success_ci95"),
                          "sim_entropy": sim.get("entropy_mean"),
                          "sim_command": sim["command"]})
            elif view == "mailbox" and sim:
                s["sim_error"] = sim.get("error")
            rows.append(s)
        return rows


def counters_in_clear(payload_hex):
    """Whether a stored item reads as a message with today's clear ratchet header
    (papers/e2ee-spec.md §7: slot 80 ‖ DH key 32 ‖ PN BE32 ‖ N BE32): PN and N below 2^16 — a
    loop's random bytes pass with probability 2^-32. What an adversary who read the spec
    checks; with encrypted headers it tells nothing."""
    if not payload_hex or len(payload_hex) < 2 * 120:
        return False
    b = bytes.fromhex(payload_hex[2 * 112:2 * 120])
    return b[0] == 0 and b[1] == 0 and b[4] == 0 and b[5] == 0


def normalise(v):
    t = sum(v)
    return [x / t for x in v] if t > 0 else v
