"""The CI checks of the corrupt-node attacks (called by ci.py: `ci.py check NAME DIR` and
`ci.py attacks-fixture NAME`), on the harness's one fixture run (testnet-ci with provider-1
withholding 5% of its clients' acks, every node a recording node: mix-1, mix-3 and the
providers are the corrupt ones each attack takes).

Every check states its statistic, α, sample size and power, and runs its positive control
first: the same statistic on the live run's own data with the leak put back (recorded data,
changed the way the leak would change it) must detect it — a check that could not fail does
not pass. The `*-fixture` checks run the statistic on numbers recorded from the code before the fixes
(data/attacks-today.json: extracted numbers, no captures) and must detect the leak there.

The live checks failed on the code before issue 9's fixes (data/attacks-today.json holds its
numbers) and pass since: idorder_live and ids_live — random per-link ids, dummies handled like
real packets (network-spec §4.2–4.4); ackwithhold_live — byte-identical resends for real and
cover alike, a given-up message sealed again (client-spec §4); mailbox_live — encrypted ratchet
headers (e2ee-spec §4)."""
import json
import math
import os
import random

from harness import stats
from harness.attacks import idorder, mailbox

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURE = os.path.join(HERE, "data", "attacks-today.json")


def say(msg):
    print(msg, flush=True)


def fail(msg):
    say(f"FAIL: {msg}")
    return 1


def result(rd, name):
    return rd.read_json(f"results/{name}.json")


def recordings(rd):
    from harness import truth as truthmod
    return truthmod.load_recordings(rd.p("recordings"), rd.read_jsonl)


# --- leak 1: per-packet linking through the honest mix ---------------------------------------
def linking_test(hits, n, chance, alpha=0.001):
    """One-sided binomial test of 'success = chance' against 'more': the success rate must not
    exceed chance + z_(1-α)·sqrt(chance(1-chance)/n). Returns (ok, margin)."""
    z = stats.normal_ppf(1 - alpha)
    margin = z * math.sqrt(chance * (1 - chance) / n) if n else float("inf")
    return hits / n <= chance + margin if n else False, margin


def check_idorder_live(rd, info):
    """Corrupt mix-1 and mix-3 (with the capture) around an honest mix-2: for each real packet
    mix-2 forwarded, the adversary names its mix-2 input (the id mapping when the ids follow
    mix-2's counter, else a uniformly drawn input of the inferred round). Statistic: the number
    of right guesses; H0: success = chance = mean 1/(size of the packet's true mix-2 round).
    One-sided binomial test at α = 0.001: fail if success > chance + z·sqrt(c(1−c)/n). n ≈ 4000
    packets on the fixture (margin ≈ 0.02): a leak that lifts success by 0.05 over chance
    ≈ 0.23 is detected with power > 0.99. Positive control: the same test on the run's own
    guesses with the leak put back — each guess replaced by the true input for one packet in
    three (what ids that reveal the order for a third of the packets would give) — must
    reject. Also printed: the per-message sender success of the whole attack (corrupt mix-1 +
    mix-3 + observer), against the passive observer's on the same run.
    Failed before the fix (ids = mix-2's store counter); passes with random per-link ids."""
    res = result(rd, "idorder")
    row = next(r for r in res["rows"] if "per-packet" in r["measure"])
    n, hits, chance = row["n"], row["successes"], row["chance"]
    guesses = res["observation"]["guesses"]
    recs = recordings(rd)
    m1, h, m3 = res["observation"].get("cascade", ["mix-1", "mix-2", "mix-3"])
    tru = idorder.mix_truth(recs, m1, h, m3)
    rng = random.Random(1)
    put_back = 0
    scored = 0
    for lid, _t, guess, _k, _mode in guesses:
        if lid not in tru:
            continue
        scored += 1
        right = guess == tru[lid][0]
        if not right and rng.random() < 1 / 3:
            right = True
        put_back += right
    ok_ctl, margin = linking_test(put_back, scored, chance)
    say(f"positive control (true input for a third of the packets): {put_back}/{scored} = "
        f"{put_back / max(1, scored):.3f} vs chance {chance:.3f} + margin {margin:.3f}")
    if ok_ctl:
        return fail("positive control: the test does not detect a partial id leak")
    say("positive control ok: rejected")
    ok, margin = linking_test(hits, n, chance)
    msg = next(r for r in res["rows"] if r["measure"] == "sender of each real message")
    passive = next((r for r in result(rd, "passive")["rows"]
                    if r["measure"] == "sender of each real message"), {})
    say(f"live: {hits}/{n} = {hits / max(1, n):.3f} of mix-2's inputs named, chance "
        f"{chance:.3f} + margin {margin:.3f} (id mode: {res['observation']['id_mode']}, "
        f"{res['observation']['id_share_explained']:.3f} of the ids explained by a counter)")
    say(f"per message: sender named {msg['success']:.3f} (entropy {msg['entropy_mean']:.3f} "
        f"bits) over {msg['n']} messages; the passive observer alone: "
        f"{passive.get('success', float('nan')):.3f} ({passive.get('entropy_mean', float('nan')):.3f} bits)")
    if n < 500:
        return fail(f"only {n} packets could be scored")
    if not ok:
        return fail("the corrupt first and last mixes link the honest mix's outputs to its "
                    "inputs better than chance (leak 1)")
    return 0


# --- leak 1: what the ids tell a next hop -----------------------------------------------------
def rho_test(rhos, bound=0.05, alpha=0.001):
    """Mean Spearman ρ within rounds: fail if |mean| > bound or if it differs from 0 at α
    (normal approximation over rounds). Returns (ok, mean, se)."""
    if len(rhos) < 2:
        return False, float("nan"), float("nan")
    mu = stats.mean(rhos)
    sd = math.sqrt(sum((r - mu) ** 2 for r in rhos) / (len(rhos) - 1))
    se = sd / math.sqrt(len(rhos))
    z = abs(mu) / se if se > 0 else (0.0 if mu == 0 else float("inf"))
    return abs(mu) <= bound and z <= stats.normal_ppf(1 - alpha / 2), mu, se


def dummy_test(real_ids, dummy_ids, alpha=0.001):
    """Real vs dummy ids: two-sided Mann–Whitney at α and the share of id 0 among dummies vs
    among real packets (Fisher-free: a difference of more than 0.5 fails). Returns (ok, auc,
    p, zero shares)."""
    a, _ = stats.auc(real_ids, dummy_ids)
    p = stats.mann_whitney_p(real_ids, dummy_ids)
    zr = sum(1 for x in real_ids if x == 0) / max(1, len(real_ids))
    zd = sum(1 for x in dummy_ids if x == 0) / max(1, len(dummy_ids))
    return (p >= alpha and abs(zr - zd) <= 0.5), a, p, (zr, zd)


def id_samples(rd):
    recs = recordings(rd)
    cons = json.load(open(rd.p("net/consensus.json")))
    by_id = {n["identity"]: n["name"] for n in cons.get("nodes", [])}
    cascade = [by_id[i] for i in (cons.get("cascades") or [[]])[0]]
    providers = sorted(n["name"] for n in cons["nodes"] if n["role"] == "provider")
    chain = [(p, cascade[0]) for p in providers] + list(zip(cascade, cascade[1:])) + \
        [(cascade[-1], p) for p in providers]
    rhos, real, dummy = [], [], []
    for a, b in chain:
        r, x, y = idorder.link_id_stats(recs[a], b)
        rhos += r
        real += x
        dummy += y
    return rhos, real, dummy, recs, chain


def check_ids_live(rd, info):
    """What a corrupt next hop sees in the link ids, on every link between nodes. Statistics:
    (1) within each round of the sending node with >= 3 real packets, Spearman's ρ between the
    order of the ids and the true arrival order of the same packets at the sender; the mean ρ
    over rounds must be within ±0.05 of 0 and not differ from 0 at α = 0.001 (normal
    approximation over rounds). n ≈ 3600 rounds on the fixture: the standard error is ≈ 0.01,
    so a mean ρ of 0.05 is detected with power > 0.99. (2) the ids of the sender's own dummies
    against its real packets: two-sided Mann–Whitney at α = 0.001, and the share of id 0 must
    not differ by more than 0.5. The fixture has few dummies (rounds are mostly full, ≈ 20):
    (2) detects dummies that stand apart (today: all 0, power ≈ 1) but not a slight shift.
    Positive control: the same statistics with the leak put back — every id replaced by the
    sender's pool id (its arrival counter) and every dummy's by 0 — must fail both.
    Failed before the fix; passes with random per-link ids."""
    rhos, real, dummy, recs, chain = id_samples(rd)
    leaky = {n: [dict(e) for e in evs] for n, evs in recs.items()}
    for evs in leaky.values():
        for e in evs:
            if e.get("ev") == "out":
                e["link_id"] = "%016x" % (0 if e.get("dummy") else int(e.get("pool") or 0))
    lr, lreal, ldummy = [], [], []
    for a, b in chain:
        r, x, y = idorder.link_id_stats(leaky[a], b)
        lr += r
        lreal += x
        ldummy += y
    ok1, mu1, se1 = rho_test(lr)
    ok2, a2, p2, z2 = dummy_test(lreal, ldummy) if ldummy else (True, None, None, None)
    say(f"positive control (ids = arrival counter, dummies 0): mean ρ {mu1:.3f} ± {se1:.3f}; "
        f"dummy ids AUC {a2}, p {p2}")
    if ok1 or (ldummy and ok2):
        return fail("positive control: the statistics do not detect ids that follow arrival "
                    "order or dummies with id 0")
    say("positive control ok: both rejected")
    ok1, mu, se = rho_test(rhos)
    say(f"live: mean ρ {mu:.4f} ± {se:.4f} over {len(rhos)} rounds")
    bad = []
    if not ok1:
        bad.append("link ids follow the arrival order")
    if dummy:
        ok2, a, p, (zr, zd) = dummy_test(real, dummy)
        say(f"live: {len(dummy)} dummies, {len(real)} real packets: AUC {a:.3f}, Mann–Whitney "
            f"p {p:.2e}, id 0 for {zd:.2f} of the dummies and {zr:.4f} of the real packets")
        if not ok2:
            bad.append("dummies' ids differ from real packets'")
    else:
        say("live: no dummies were sent (nothing to compare)")
    if len(rhos) < 500:
        bad.append(f"only {len(rhos)} rounds")
    return fail("; ".join(bad) + " (leak 1)") if bad else 0


# --- leak 3 -------------------------------------------------------------------------------
def permutation_p(pos, neg, reps=4000, seed=1):
    """Two-sided permutation p-value of |AUC − 0.5| (labels shuffled `reps` times, seeded):
    valid for any sample size, unlike the normal approximation with a handful of positives."""
    a, _ = stats.auc(pos, neg)
    if a != a:
        return 1.0
    obs = abs(a - 0.5)
    allv = pos + neg
    m = len(pos)
    rng = random.Random(seed)
    hits = 0
    for _ in range(reps):
        rng.shuffle(allv)
        b, _ = stats.auc(allv[:m], allv[m:])
        hits += abs(b - 0.5) >= obs - 1e-12
    return (hits + 1) / (reps + 1)


def check_ackwithhold_live(rd, info):
    """A sender's provider that withholds acks (provider-1, 5% of its clients' packets in the
    fixture), with the recipients' providers. Statistics: (1) over ALL recordings, the number
    of mailbox items that have a byte-identical twin: must be 0 (exact; n ≈ 900 items); (2) the
    classifier of attacks/ackwithhold.py on every withheld client packet: AUC of real vs
    cover, two-sided permutation test of |AUC − 0.5| at α = 0.01 (4000 seeded shuffles). The
    fixture withholds ≈ 75-110 packets of which only ≈ 1-5 are real (real packets are ≈ 5% of
    the traffic), so (2) has little power here (a perfect classifier is rejected only with ≥ 2
    real packets, an AUC of 0.9 with power ≈ 0.5 at 4); the campaign's withhold-acks runs
    (≈ 35 real packets withheld per run) are where it has power. (1) is the sharp test: with
    ≈ 4 real packets withheld, today's client duplicates at least one item with probability
    ≈ 0.98. Positive control: (1) with one item's payload copied into another must fail; (2)
    a perfect classifier on this run's withheld packets must be rejected (reported as no power
    when it is not). Failed before the fix (a real message was
    resent around the same ciphertext, cover never); passes with identical resends for both."""
    from harness.attacks.ackwithhold import duplicate_groups
    recs = recordings(rd)
    groups, items = duplicate_groups(recs)
    broken = {n: [dict(e) for e in evs] for n, evs in recs.items()}
    stored = [e for evs in broken.values() for e in evs if e.get("ev") == "mail_stored"]
    if len(stored) >= 2:
        stored[1]["payload"] = stored[0]["payload"]
    g2, _ = duplicate_groups(broken)
    if len(g2) <= len(groups):
        return fail("positive control: a copied payload was not noticed")
    say(f"positive control ok: a copied payload makes {len(g2)} duplicate groups")
    res = result(rd, "ackwithhold")
    auc_row = next((r for r in res["rows"] if "withheld" in r["measure"]), None)
    bad = []
    say(f"live: {items} mailbox items, {sum(len(g) for g in groups)} in {len(groups)} groups "
        "of identical bytes")
    if groups:
        bad.append(f"{len(groups)} groups of identical mailbox items")
    if auc_row is None:
        return fail("no withheld client packets (did provider-1 run with --withhold-acks?)")
    samples = res["details"][[r["measure"] for r in res["rows"]].index(auc_row["measure"])][
        "_samples"]
    pos = [s for s, lab, *_ in samples if lab]
    neg = [s for s, lab, *_ in samples if not lab]
    cp = permutation_p([1.0] * len(pos), [0.0] * len(neg))
    if not (len(pos) and len(neg)) or cp >= 0.01:
        say(f"(positive control of the classifier test: with {len(pos)} real and {len(neg)} "
            f"cover withheld packets even a perfect classifier is not rejected (p = {cp:.3f}): "
            "this run has no power there; the identical-items test above stands alone)")
    else:
        say(f"positive control ok: a perfect classifier is rejected (permutation p = {cp:.4f})")
    a, (lo, hi) = stats.auc(pos, neg)
    p = permutation_p(pos, neg) if pos and neg else 1.0
    say(f"live: {len(pos)} real and {len(neg)} cover packets withheld; AUC {a:.3f} [{lo:.3f}, "
        f"{hi:.3f}], permutation p {p:.4f}; retried identically: real {auc_row['retried_real']}"
        f", cover {auc_row['retried_cover']}")
    if len(pos) and len(neg) and p < 0.01:
        bad.append("the provider tells real from cover among the withheld packets")
    return fail("; ".join(bad) + " (leak 3)") if bad else 0


# --- leak 4 -------------------------------------------------------------------------------
def classifier_auc(items, payload, lab):
    """The mailbox attack's classifier (train on even positions, test on odd): AUC, CI, p."""
    keys = sorted(items)
    train, test = keys[0::2], keys[1::2]
    feats, info = mailbox.select(train, payload, lab)
    sc = {k: mailbox.nb_score(k, payload, feats) for k in test}
    pos = [sc[k] for k in test if lab[k]]
    neg = [sc[k] for k in test if not lab[k]]
    a, ci = stats.auc(pos, neg)
    return a, ci, stats.mann_whitney_p(pos, neg), len(pos), len(neg), info


def check_mailbox_live(rd, info):
    """The recipient's provider (each provider, its own mailboxes) tells real mail from loop
    cover from the stored bytes: the supervised classifier of attacks/mailbox.py, trained on
    half the items, scored on the other half. Statistic: AUC (real vs loop) on the held-out
    half; fail if the DeLong 95% interval is not inside [0.35, 0.65] or the two-sided
    Mann–Whitney test rejects at α = 0.01. n ≈ 450 held-out items, ≈ 60 real (the fixture
    plays real_rate_per_s = 0.05): the AUC's standard error is ≈ 0.04, so an AUC of 0.7 is
    detected with power > 0.99. Positive control: the same classifier on the run's items with
    the leak put back (today's clear ratchet counters: bytes 112..119 of every real item
    replaced by PN and N as big-endian numbers below 16) must reach AUC > 0.9.
    Failed before the fix (ratchet headers in clear); passes with header encryption."""
    from harness.attacks.mailbox import MailboxClassifier  # noqa: F401 (registered)
    res = result(rd, "mailbox")
    row = res["rows"][0]
    recs = recordings(rd)
    payload = {}
    for node, evs in recs.items():
        for e in evs:
            if e.get("ev") == "mail_stored" and e.get("payload"):
                payload[(node, e["mailbox"], e["item"])] = bytes.fromhex(e["payload"])
    samples = res["details"][0]["_samples"]
    # labels of the live run (truth): rebuilt as the attack does
    from harness import truth as truthmod
    t = rd.read_json("truth")
    label = {c["mailbox"][:16]: c["index"] for c in t["clients"]}
    owner = {c["mailbox"]: c["index"] for c in t["clients"]}
    chains, _ = truthmod.trace_packets(recs, label)
    lab = {}
    for c in chains:
        if c.verdict == "deliver" and c.mailbox in owner:
            k = (c.hops[-1][1] if c.hops else c.provider, c.mailbox, c.item)
            if k in payload:
                lab[k] = int(c.sender != owner[c.mailbox])
    rng = random.Random(1)
    leaky = {}
    for k, p in payload.items():
        if k in lab and lab[k]:
            b = bytearray(p)
            b[112:120] = rng.randrange(16).to_bytes(4, "big") + rng.randrange(16).to_bytes(4, "big")
            leaky[k] = bytes(b)
        else:
            leaky[k] = p
    a, ci, p, npos, nneg, sel = classifier_auc(list(lab), leaky, lab)
    say(f"positive control (clear counters put back): AUC {a:.3f} [{ci[0]:.3f}, {ci[1]:.3f}] "
        f"on {npos} real / {nneg} loop held-out items; features {sel.get('candidates_passing')}")
    if not a > 0.9:
        return fail("positive control: the classifier does not find clear counters")
    say("positive control ok")
    pos = [s for s, lab_ in samples if lab_]
    neg = [s for s, lab_ in samples if not lab_]
    a, (lo, hi) = stats.auc(pos, neg)
    p = stats.mann_whitney_p(pos, neg)
    say(f"live: AUC {a:.3f} [{lo:.3f}, {hi:.3f}] on {len(pos)} real / {len(neg)} loop held-out "
        f"items, Mann–Whitney p {p:.2e}; features {row.get('features_selected')}")
    if len(pos) < 20 or len(neg) < 20:
        return fail("too few held-out items to have power")
    if lo < 0.35 or hi > 0.65 or p < 0.01:
        return fail("the recipient's provider tells real mail from loop cover (leak 4)")
    return 0


# --- SDA ------------------------------------------------------------------------------------
def check_sda_vs_sim(rd, info, bin_dir):
    """Statistical disclosure (passive observer + recipients' providers, mailbox view): the
    testnet's per-message best-guess success against sotto-sim's netattack sda prediction for
    the same scenario (20 repetitions). Test: the prediction lies inside the testnet's 99%
    Wilson interval (n ≈ 70 messages: half-width ≈ 0.15 — a consistency check, not an
    equivalence). Positive control: the prediction for the same clients and workload through
    mixes with rounds of 16 (batch_size = min_batch = 16, ≈ 0.17 against ≈ 0.4) must fall
    outside it."""
    from harness import simattack
    from harness.score import RunData
    res = result(rd, "sda")
    row = next(r for r in res["rows"] if r["measure"].startswith("sender") and
               r["adversary"].endswith("(mailboxes)"))
    lo, hi = stats.wilson(row["successes"], row["n"], z=2.5758)
    run = RunData(rd, info, None, None)
    run.bin_dir, run.sim_enabled = bin_dir, True
    pred = simattack.netattack(run, "sda")
    run.info = dict(info, overrides=list(info.get("overrides", [])) +
                    [["batch_size", "16"], ["min_batch", "16"]])
    ctl = simattack.netattack(run, "sda")
    if not pred or "success_mean" not in pred or not ctl or "success_mean" not in ctl:
        return fail(f"sotto-sim netattack sda did not run ({pred}, {ctl})")
    say(f"testnet: {row['successes']}/{row['n']} = {row['success']:.3f}, 99% [{lo:.3f}, "
        f"{hi:.3f}]; sotto-sim: {pred['success_mean']:.3f}; rounds of 16: "
        f"{ctl['success_mean']:.3f}")
    if lo <= ctl["success_mean"] <= hi:
        return fail("positive control: the prediction for rounds of 16 is accepted")
    say("positive control ok: the prediction for rounds of 16 is rejected")
    if not lo <= pred["success_mean"] <= hi:
        return fail("the testnet's SDA disagrees with sotto-sim's")
    return 0


# --- fixtures recorded from the code before the fixes ---------------------------------------------------
def fixture_checks():
    """The statistics of the live checks on numbers recorded from the code before the fixes (positive
    controls that need no run): each must detect the leak there, and must not on the same
    numbers with the labels shuffled (seed 1) where that applies."""
    with open(FIXTURE) as f:
        fx = json.load(f)
    say(f"fixture: {fx['source']}")
    bad = []
    li = fx["idorder"]
    ok, margin = linking_test(li["hits"], li["n"], li["chance"])
    say(f"idorder: {li['hits']}/{li['n']} vs chance {li['chance']:.3f} + {margin:.3f}: "
        f"{'not detected' if ok else 'detected'}")
    bad += ["idorder"] if ok else []
    ok, mu, se = rho_test(fx["ids"]["rhos"])
    okd, a, p, z = dummy_test(fx["ids"]["real_ids"], fx["ids"]["dummy_ids"])
    say(f"ids: mean ρ {mu:.3f} ± {se:.3f} ({'not ' if ok else ''}detected); dummies AUC {a:.3f}"
        f", p {p:.1e}, id-0 shares {z} ({'not ' if okd else ''}detected)")
    bad += ["ids"] if ok or okd else []
    aw = fx["ackwithhold"]
    pos = [s for s, lab in aw["samples"] if lab]
    neg = [s for s, lab in aw["samples"] if not lab]
    a, (lo, hi) = stats.auc(pos, neg)
    p = permutation_p(pos, neg)
    shuffled = [lab for _, lab in aw["samples"]]
    random.Random(1).shuffle(shuffled)
    sp = permutation_p([s for (s, _), lab in zip(aw["samples"], shuffled) if lab],
                       [s for (s, _), lab in zip(aw["samples"], shuffled) if not lab])
    say(f"ackwithhold: {len(pos)} real / {len(neg)} cover withheld: AUC {a:.3f} [{lo:.3f}, "
        f"{hi:.3f}], p {p:.1e}; shuffled labels p {sp:.2f}; {aw['duplicate_groups']} groups of "
        "identical items")
    bad += ["ackwithhold"] if not (p < 0.01 and aw["duplicate_groups"] > 0) or sp < 0.01 else []
    mb = fx["mailbox"]
    pos = [s for s, lab in mb["samples"] if lab]
    neg = [s for s, lab in mb["samples"] if not lab]
    a, (lo, hi) = stats.auc(pos, neg)
    p = stats.mann_whitney_p(pos, neg)
    say(f"mailbox: {len(pos)} real / {len(neg)} loop held-out: AUC {a:.3f} [{lo:.3f}, {hi:.3f}]"
        f", p {p:.1e}")
    bad += ["mailbox"] if not (lo > 0.65 and p < 0.01) else []
    nm = fx["nminus1"]
    hits, n = nm["target_identified"], nm["target_messages"]
    lo, hi = stats.wilson(hits, n)
    say(f"nminus1 (today's exposure): {hits}/{n} of the target's messages named, 95% "
        f"[{lo:.3f}, {hi:.3f}] vs chance {nm['chance']:.3f}; {nm['target_packets_named']} of "
        "its packets; "
        f"{nm['attacker_packets_per_identified_message']:.0f} attacker packets per message")
    bad += ["nminus1"] if lo <= nm["chance"] else []
    return fail("the recorded leak is not detected by: " + ", ".join(bad)) if bad else 0


CHECKS = {"idorder_live": check_idorder_live, "ids_live": check_ids_live,
          "ackwithhold_live": check_ackwithhold_live, "mailbox_live": check_mailbox_live}


def extract(run_dir, flood_dir):
    """Writes data/attacks-today.json from a scored run of the fixture's configuration
    (withholding provider) and a scored n−1 run, both on the code before the fixes."""
    from harness.rundir import RunDir
    rd, fd = RunDir(run_dir), RunDir(flood_dir)
    info, finfo = rd.read_json("run"), fd.read_json("run")
    rng = random.Random(1)
    idr = result(rd, "idorder")
    per = next(r for r in idr["rows"] if "per-packet" in r["measure"])
    rhos, real, dummy, _recs, _chain = id_samples(rd)
    aw = result(rd, "ackwithhold")
    awi = [r["measure"] for r in aw["rows"]].index(next(r["measure"] for r in aw["rows"]
                                                       if "withheld" in r["measure"]))
    mb = result(rd, "mailbox")
    nm = result(fd, "nminus1")["rows"]
    tgt = nm[0]
    pk = next(r for r in nm if r["measure"].startswith("each packet"))
    fx = {
        "source": f"{info['command']} (commit {info['commit']}); n-1: {finfo['command']} "
                  f"(commit {finfo['commit']})",
        "idorder": {"hits": per["successes"], "n": per["n"], "chance": per["chance"]},
        "ids": {"rhos": [round(x, 3) for x in rng.sample(rhos, min(2000, len(rhos)))],
                "real_ids": rng.sample(real, min(2000, len(real))), "dummy_ids": dummy},
        "ackwithhold": {"samples": [[s, lab] for s, lab, *_ in aw["details"][awi]["_samples"]],
                        "duplicate_groups": result(rd, "ackwithhold")["observation"][
                            "n_duplicate_groups"]},
        "mailbox": {"samples": [[round(s, 3), lab] for s, lab in mb["details"][0]["_samples"]]},
        "nminus1": {"target_identified": tgt["successes"], "target_messages": tgt["n"],
                    "chance": tgt["chance"], "target_packets_named": pk["successes"],
                    "attacker_packets_per_identified_message":
                        tgt["attacker_packets_per_identified_message"]},
    }
    with open(FIXTURE, "w") as f:
        json.dump(fx, f, separators=(",", ":"))
        f.write("\n")
    say(f"wrote {FIXTURE} ({os.path.getsize(FIXTURE)} bytes)")
    return 0
