"""The leak-6 attack on synthetic captures: the gap classifier, partner and sender inference,
and its scoring against a synthetic truth."""
import random
import unittest

import _path  # noqa: F401
from harness.attacks import ObserverView
from harness.attacks.leak6 import Leak6, fetch_gaps, slowest_mode_threshold
from harness.truth import Truth

PARAMS = {"fetch_interval_ms": 2000, "batch_timeout_ms": 500, "send_rate_per_min": 60}


def e(t, src, dst, kind, t0=None):
    return {"t": t, "t0": t if t0 is None else t0, "src": src, "dst": dst, "kind": kind,
            "size": 0, "conn": 0}


def synthetic(rng, pairs, seconds=900, leak=True, every_s=5):
    """Clients fetch every 2 s; a text from A to B lands in B's next fetch (slow ACK if leak),
    B's receipt lands in A's fetch 2-4 s later (slow ACK too). Returns (events, truth fetch
    rows, messages)."""
    clients = sorted({c for p in pairs for c in p})
    partner = {}
    for a, b in pairs:
        partner[a], partner[b] = b, a
    mail = {c: {} for c in clients}  # client -> {fetch index: [(kind, origin, message)]}
    messages = []
    for k in range(int(seconds / every_s)):
        a = rng.choice(clients)
        b = partner[a]
        f = rng.randrange(5, int(seconds / 2) - 5)
        mail[b].setdefault(f, []).append(("text", a, len(messages)))
        mail[a].setdefault(f + rng.choice((1, 2)), []).append(("receipt", b, None))
        messages.append({"sender": int(a[1:]), "recipient": int(b[1:])})
    events, fetches = [], []
    for c in clients:
        phase = rng.randrange(0, 2_000_000)
        for f in range(int(seconds / 2)):
            t = f * 2_000_000 + phase
            items = mail[c].get(f, [])
            gap = (rng.uniform(3000, 6000) if items and leak else rng.uniform(60, 200))
            events.append(e(t + 500, "provider-1", c, "MAIL8", t0=t + 400))
            events.append(e(t + 500 + gap + 30, c, "provider-1", "ACK8", t0=t + 500 + gap))
            fetches.append({"client": int(c[1:]), "t": t, "items": [
                {"kind": k, "origin": int(o[1:]), "first_fetch": True} for k, o, _ in items]})
    events.sort(key=lambda x: x["t"])
    return clients, events, fetches, messages


def run(clients, events, fetches, messages):
    roles = {c: "client" for c in clients}
    roles["provider-1"] = "provider"
    v = ObserverView(events, {}, roles, clients, ["mix-1", "mix-2", "mix-3"], PARAMS)
    a = Leak6()
    obs = a.observe(v)
    truth = Truth({"clients": [{"index": int(c[1:]), "name": c} for c in clients],
                   "messages": messages, "fetches": fetches, "checks": {}})
    return obs, a.score(obs, truth, None)


class Leak6Test(unittest.TestCase):
    def test_threshold_below_the_slowest_mode(self):
        rng = random.Random(1)
        core = [rng.gauss(2.1, 0.12) for _ in range(3000)]
        busy = [rng.gauss(3.5, 0.12) for _ in range(400)]   # empty fetches behind other work
        mail = [rng.gauss(4.4, 0.2) for _ in range(300)]
        self.assertTrue(2.5 < slowest_mode_threshold(core + mail) < 4.0)
        self.assertTrue(3.7 <= slowest_mode_threshold(core + busy + mail) <= 4.1)
        self.assertEqual(slowest_mode_threshold(core), float("inf"))
        self.assertEqual(slowest_mode_threshold([]), float("inf"))

    def test_gaps_pair_each_mail_with_the_next_ack(self):
        ev = [e(100, "p", "c0", "MAIL8"), e(250, "c0", "p", "ACK8", t0=200),
              e(300, "p", "c0", "ACKED"), e(900, "p", "c0", "MAIL8"), e(2000, "p", "c0", "MAIL8"),
              e(2600, "c0", "p", "ACK8", t0=2500)]
        v = ObserverView(ev, {}, {"c0": "client", "p": "provider"}, ["c0"], [], {})
        self.assertEqual([(g["t"], g["gap_us"]) for g in fetch_gaps(v)], [(100, 100),
                                                                           (2000, 500)])

    def test_leak_is_found(self):
        # The measurement: 8 clients in 4 pairs, 15 minutes, ~180 texts.
        rng = random.Random(7)
        pairs = [("c0", "c1"), ("c2", "c3"), ("c4", "c5"), ("c6", "c7")]
        obs, rows = run(*synthetic(rng, pairs))
        gap, partner, sender = rows
        self.assertGreater(gap["auc"], 0.99)
        self.assertLess(gap["mann_whitney_p"], 1e-9)
        self.assertEqual(partner["success"], 1.0)
        self.assertGreater(sender["success"], 0.8)
        self.assertEqual(sender["chance"], 1 / 7)
        self.assertEqual(obs["partner"]["c0"], "c1")

    def test_no_leak_is_chance(self):
        # Gaps independent of the mail: the Mann–Whitney test must not reject at alpha =
        # 0.001 (a false alarm has probability 0.001 under H0; the seed is fixed), and the
        # sender guesses are no better than chance.
        rng = random.Random(8)
        pairs = [("c0", "c1"), ("c2", "c3"), ("c4", "c5"), ("c6", "c7")]
        _, rows = run(*synthetic(rng, pairs, leak=False))
        gap, partner, sender = rows
        self.assertGreater(gap["mann_whitney_p"], 0.001)
        self.assertLess(abs(gap["auc"] - 0.5), 0.1)
        self.assertLess(sender["success_ci"][0], 1 / 7)
        self.assertIn("clusters", sender["success_ci_method"])


if __name__ == "__main__":
    unittest.main()
