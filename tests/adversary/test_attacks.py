"""The corrupt-node attacks on synthetic inputs with known answers: the id attack's counter
mapping and id statistics, the ack-withholding classifier's pairing and duplicate groups, the
mailbox classifier (on-curve test against real X25519 public keys, features on synthetic
items), the SDA profiles, and matching a corrupt node's records to its frames by order."""
import random
import unittest

import _path  # noqa: F401
from harness import stats
from harness.attacks import ackwithhold, idorder, mailbox, sda, views

P = 2 ** 255 - 19
A24 = 121665


def x25519_base(k):
    """RFC 7748 X25519(k, 9): a real public key (Montgomery ladder), for the on-curve test."""
    k = bytearray(k)
    k[0] &= 248
    k[31] &= 127
    k[31] |= 64
    n = int.from_bytes(k, "little")
    x1, x2, z2, x3, z3, swap = 9, 1, 0, 9, 1, 0
    for t in range(254, -1, -1):
        bit = (n >> t) & 1
        swap ^= bit
        if swap:
            x2, x3, z2, z3 = x3, x2, z3, z2
        swap = bit
        a, b = (x2 + z2) % P, (x2 - z2) % P
        aa, bb = a * a % P, b * b % P
        e = (aa - bb) % P
        c, d = (x3 + z3) % P, (x3 - z3) % P
        da, cb = d * a % P, c * b % P
        x3, z3 = (da + cb) ** 2 % P, x1 * (da - cb) ** 2 % P
        x2, z2 = aa * bb % P, e * (aa + A24 * e) % P
    if swap:
        x2, z2 = x3, z3
    return (x2 * pow(z2, P - 2, P) % P).to_bytes(32, "little")


class CounterMapTest(unittest.TestCase):
    def test_ids_that_count_arrivals_are_mapped_and_random_ids_are_not(self):
        rng = random.Random(1)
        seq = sorted(rng.uniform(0, 100e6) for _ in range(2000))   # arrivals at the honest node
        # the next hop sees id k+1 (+3: the counter did not start at 1) some ms later, shuffled
        # within rounds of 4
        arrivals = []
        for r in range(0, 2000, 4):
            out = list(range(r, min(r + 4, 2000)))
            rng.shuffle(out)
            t_rel = seq[out[-1]] if False else max(seq[k] for k in out) + 1000
            arrivals += [(k + 1 + 3, t_rel + 10 * j) for j, k in enumerate(out)]
        arrivals.sort(key=lambda a: a[1])
        pos, share, offs = idorder.counter_map(arrivals, seq, 30e6)
        self.assertEqual(offs, [3] * len(offs))
        self.assertGreater(share, 0.99)
        self.assertTrue(all(p == x - 4 for p, (x, _t) in zip(pos, arrivals)))
        rand = [(rng.getrandbits(64) | 1, t) for _x, t in arrivals]
        _pos, share, _ = idorder.counter_map(rand, seq, 30e6)
        self.assertLess(share, idorder.ID_MODE_SHARE)

    def test_spearman(self):
        self.assertAlmostEqual(idorder.spearman([1, 2, 3, 4], [10, 20, 30, 40]), 1.0)
        self.assertAlmostEqual(idorder.spearman([4, 3, 2, 1], [10, 20, 30, 40]), -1.0)

    def test_id_statistics_of_counters_and_of_random_ids(self):
        rng = random.Random(2)

        def recording(ids):
            evs, pool = [], 0
            for r in range(300):
                members = []
                for j in range(4):
                    pool += 1
                    evs.append({"ev": "in", "t": r * 1000 + j, "pool": pool, "from": "x"})
                    members.append(pool)
                evs.append({"ev": "release", "t": r * 1000 + 5})
                rng.shuffle(members)
                for p in members:
                    evs.append({"ev": "out", "to": "y", "pool": p, "dummy": False,
                                "link_id": "%016x" % ids(p)})
                evs.append({"ev": "out", "to": "y", "pool": None, "dummy": True,
                            "link_id": "%016x" % ids(0)})
            return evs

        rhos, real, dummy = idorder.link_id_stats(recording(lambda p: p), "y")
        self.assertAlmostEqual(stats.mean(rhos), 1.0)
        self.assertEqual(set(dummy), {0})
        rhos, real, dummy = idorder.link_id_stats(recording(lambda p: rng.getrandbits(64)), "y")
        self.assertLess(abs(stats.mean(rhos)), 0.15)
        a, _ = stats.auc(real, dummy)
        self.assertLess(abs(a - 0.5), 0.1)


class AckWithholdTest(unittest.TestCase):
    def test_each_packet_is_paired_with_its_own_ack_although_ids_repeat(self):
        recs = [
            {"ev": "in", "from": "client:aa", "link_id": "1", "verdict": "forward", "t": 1},
            {"ev": "ack_out", "to": "client:aa", "link_id": "1", "action": "withheld", "t": 2},
            # a new connection: the client's ids start again at 1
            {"ev": "in", "from": "client:aa", "link_id": "1", "verdict": "forward", "t": 3},
            {"ev": "ack_out", "to": "client:aa", "link_id": "1", "action": "sent", "t": 4},
            {"ev": "in", "from": "mix-3", "link_id": "1", "verdict": "deliver", "t": 5},
            {"ev": "ack_out", "to": "mix-3", "link_id": "1", "action": "withheld", "t": 6},
        ]
        got = ackwithhold.withheld_client_packets(recs)
        self.assertEqual([e["t"] for e in got], [1])

    def test_duplicate_groups_span_providers(self):
        recs = {"p1": [{"ev": "mail_stored", "mailbox": "m", "item": 1, "payload": "ab", "t": 1}],
                "p2": [{"ev": "mail_stored", "mailbox": "n", "item": 1, "payload": "ab", "t": 2},
                       {"ev": "mail_stored", "mailbox": "n", "item": 2, "payload": "cd", "t": 3}]}
        groups, items = ackwithhold.duplicate_groups(recs)
        self.assertEqual(items, 3)
        self.assertEqual(len(groups), 1)
        self.assertEqual([x[0] for x in groups[0]], ["p1", "p2"])


class MailboxTest(unittest.TestCase):
    def test_public_keys_are_on_the_curve_and_random_strings_half_the_time(self):
        rng = random.Random(3)
        keys = [x25519_base(rng.randbytes(32)) for _ in range(40)]
        self.assertTrue(all(mailbox.on_curve(k) for k in keys))
        rand = sum(mailbox.on_curve(rng.randbytes(32)) for _ in range(2000))
        self.assertTrue(900 < rand < 1100, rand)   # 1000 ± 4.5 sd

    def items(self, rng, leak):
        payload, lab = {}, {}
        for i in range(240):
            real = i % 4 == 0
            b = bytearray(rng.randbytes(256))   # the layout's first bytes are enough here
            if real and leak:
                b[112:120] = (0).to_bytes(4, "big") + rng.randrange(8).to_bytes(4, "big")
            k = ("p", "box%d" % (i % 3), i)
            payload[k], lab[k] = bytes(b), int(real)
        return payload, lab

    def score(self, payload, lab):
        keys = sorted(payload)
        train, test = keys[0::2], keys[1::2]
        feats, _ = mailbox.select(train, payload, lab)
        sc = {k: mailbox.nb_score(k, payload, feats) for k in test}
        a, _ = stats.auc([sc[k] for k in test if lab[k]], [sc[k] for k in test if not lab[k]])
        return a, feats

    def test_the_classifier_finds_clear_counters(self):
        a, feats = self.score(*self.items(random.Random(4), leak=True))
        self.assertGreater(a, 0.95)
        self.assertTrue(any(f[0] == "zero" and 112 <= f[1] < 120 for f in feats))

    def test_on_random_items_nothing_is_selected_and_the_auc_is_one_half(self):
        a, feats = self.score(*self.items(random.Random(5), leak=False))
        self.assertEqual(feats, [])
        self.assertEqual(a, 0.5)


class SdaTest(unittest.TestCase):
    def test_the_excess_names_the_partner(self):
        rng = random.Random(6)
        prof = sda.Profiles(4, 4)
        for _ in range(2000):
            s = rng.randrange(4)
            r = (s + 1) % 4 if rng.random() < 0.5 else rng.randrange(4)
            belief = [0.1] * 4
            belief[s] = 0.7
            prof.add(belief, r)
        for s in range(4):
            ex = prof.excess(s)
            self.assertEqual(max(ex, key=ex.get), (s + 1) % 4)

    def test_counters_in_clear(self):
        b = bytearray(2030)
        b[112:120] = bytes([0, 0, 0, 1, 0, 0, 0, 7])
        self.assertTrue(sda.counters_in_clear(bytes(b).hex()))
        b[112] = 0x80
        self.assertFalse(sda.counters_in_clear(bytes(b).hex()))


class OwnFramesTest(unittest.TestCase):
    def test_records_match_frames_by_order_even_when_recorded_late(self):
        events = [{"kind": "PACKET", "src": "m1", "dst": "m2", "t0": t, "t": t + 5}
                  for t in (100, 200, 300)]
        recs = {"m1": [{"ev": "out", "to": "m2", "t": t} for t in (150, 260, 400)]}
        got, how = views.own_frames(recs, events, str)
        self.assertEqual([got[id(r)] for r in recs["m1"]], [0, 1, 2])
        self.assertEqual(how, {"m1->m2 (out)": "order"})


if __name__ == "__main__":
    unittest.main()
