"""Scores of an adversary's sender distributions against ground truth.

For each real message the adversary holds a distribution over the N clients. Reported:
- best-guess success: the adversary names the most likely sender (ties broken by a seeded
  RNG — a real guess, so each message is a success or a failure), rate with a 95% Wilson
  interval;
- mean sender entropy in bits, with a 95% percentile-bootstrap interval over messages
  (2000 resamples, seed 1);
- the mean probability the adversary gives the true sender;
- chance: the best-guess success of an adversary who knows nothing (1/N, or 1/(N−1) when the
  recipient is known to be excluded), and log2 of the same number of candidates.
"""
import math
import random

from . import stats


def best_guess(dist, rng):
    top = max(dist)
    ties = [i for i, p in enumerate(dist) if p >= top - 1e-12]
    return ties[0] if len(ties) == 1 else rng.choice(ties)


def measured_pairs(truth, beliefs):
    """(true sender, belief) for every measured real message with a belief (keyed by its final
    event), and how many had none."""
    pairs, missing = [], 0
    for m in truth.measured():
        d = beliefs.get(str(m.get("final_event")))
        if d is None:
            missing += 1
            continue
        pairs.append((m["sender"], d))
    return pairs, missing


def sender_scores(pairs, candidates, seed=1, clusters=None):
    """pairs: [(true sender index, distribution list)]; candidates: the number of possible
    senders an uninformed adversary guesses among. `clusters` (one label per pair, e.g. the
    recipient) marks guesses that are not independent — an attack that guesses per user is
    right or wrong for all of that user's messages at once — and the success interval is then
    a percentile bootstrap over clusters instead of Wilson's."""
    rng = random.Random(seed)
    n = len(pairs)
    hit = [best_guess(d, rng) == s for s, d in pairs]
    hits = sum(hit)
    ents = [stats.entropy_bits(d) for _, d in pairs]
    ptrue = [d[s] for s, d in pairs]
    if clusters is None:
        lo, hi = stats.wilson(hits, n)
        method = "Wilson 95%"
    else:
        groups = {}
        for c, h in zip(clusters, hit):
            groups.setdefault(c, []).append(h)
        gl = list(groups.values())
        lo, hi = stats.bootstrap_ci(gl, stat=lambda gs: sum(map(sum, gs)) / max(1, sum(map(
            len, gs)))) if gl else (0.0, 1.0)
        method = f"percentile bootstrap 95% over {len(gl)} clusters (guesses within one are " \
            "not independent)"
    elo, ehi = stats.bootstrap_ci(ents) if n else (float("nan"), float("nan"))
    return {
        "n": n, "successes": hits,
        "success": hits / n if n else float("nan"), "success_ci": [lo, hi],
        "success_ci_method": method,
        "entropy_mean": stats.mean(ents), "entropy_ci": [elo, ehi],
        "entropy_ci_method": "percentile bootstrap 95% over messages (2000 resamples)",
        "p_true_mean": stats.mean(ptrue),
        "chance": 1 / candidates, "chance_entropy": math.log2(candidates),
    }


def ideal_scores(pairs, shares, seed=1):
    """An ideal mix of the same traffic: the observer's belief for every message is each
    client's share of all client packets (what a perfect global mix leaves)."""
    total = sum(shares)
    dist = [x / total for x in shares] if total else []
    if not dist:
        return {}
    s = sender_scores([(snd, dist) for snd, _ in pairs], len(dist), seed)
    return {"ideal_success": s["success"], "ideal_entropy": stats.entropy_bits(dist)}
