"""The passive observer's round inference and probability propagation, on synthetic link
events whose correct beliefs are worked out by hand."""
import unittest

import _path  # noqa: F401
from harness import stats
from harness.attacks import ObserverView
from harness.attacks.passive import infer_rounds, propagate


def ev(t, src, dst, kind="PACKET"):
    return {"t": t, "t0": t, "src": src, "dst": dst, "size": 2481, "kind": kind, "conn": 0}


def view(events, clients=("c0", "c1", "c2", "c3"), cascade=("mix-1",)):
    roles = {c: "client" for c in clients}
    roles.update({"provider-1": "provider", "provider-2": "provider"})
    roles.update({m: "mix" for m in cascade})
    events = sorted(events, key=lambda e: e["t"])
    return ObserverView(events, {}, roles, list(clients), list(cascade), {}), events


class InferRoundsTest(unittest.TestCase):
    def test_threshold_rounds_take_the_earliest_inputs(self):
        ins = [(t, f"i{t}") for t in (10, 20, 30, 40, 50, 60)]
        outs = [(100 + k, 100 + k, f"a{k}") for k in range(4)] + [
            (600000 + k, 600000 + k, f"b{k}") for k in range(4)]  # the next: a timeout round
        rounds, anomalies, _ = infer_rounds(ins, outs)
        self.assertEqual(anomalies, 0)
        self.assertEqual([r[0] for r in rounds], [["i10", "i20", "i30", "i40"], ["i50", "i60"]])
        self.assertEqual([len(r[1]) for r in rounds], [4, 4])  # the second padded with dummies

    def test_inputs_after_a_burst_start_wait_for_the_next(self):
        ins = [(10, "x"), (105, "late")]
        outs = [(100, 100, "o1"), (101, 101, "o2"), (5000, 5000, "o3")]
        rounds, _, _ = infer_rounds(ins, outs)
        self.assertEqual([r[0] for r in rounds], [["x"], ["late"]])

    def test_burst_gap_splits_rounds(self):
        outs = [(0, 0, "a"), (999, 999, "b"), (2000, 2000, "c")]  # gaps 999, then 1001
        rounds, anomalies, _ = infer_rounds([(-1, "i"), (1500, "j")], outs)
        self.assertEqual([r[1] for r in rounds], [["a", "b"], ["c"]])
        self.assertEqual(anomalies, 0)

    def test_a_frame_held_back_by_tcp_stays_in_its_burst(self):
        # b starts with a, ends 6 ms later (TCP held it back); c starts as b ends: one burst.
        outs = [(0, 0, "a"), (0, 6000, "b"), (6000, 6000, "c"), (20000, 20000, "d")]
        rounds, _, _ = infer_rounds([(-3, "i"), (-2, "j"), (-1, "k"), (10000, "l")], outs)
        self.assertEqual([r[1] for r in rounds], [["a", "b", "c"], ["d"]])
        self.assertEqual([r[0] for r in rounds], [["i", "j", "k"], ["l"]])

    def test_touching_rounds_take_the_inputs_that_arrived_during_the_burst(self):
        # Two rounds of 4 leave back to back (one burst of 8 > min_batch 4): the second
        # round's inputs arrived while the first was on the wire.
        ins = [(t, f"i{t}") for t in (1, 2, 3, 4, 150, 160, 170, 180)]
        outs = [(100 + k, 200 + 100 * k, f"o{k}") for k in range(8)]
        rounds, _, _ = infer_rounds(ins, outs, pad_to=4)
        self.assertEqual([len(r[0]) for r in rounds], [8])
        rounds, _, _ = infer_rounds(ins, outs, pad_to=8)  # 8 frames could be padding
        self.assertEqual([len(r[0]) for r in rounds], [4])

    def test_a_pause_without_cause_is_the_same_round(self):
        # The node was descheduled 3 ms half-way through its round: no input arrived in the
        # pause, so nothing could have started a new round.
        outs = [(0, 0, "a"), (3000, 3000, "b"), (3001, 3001, "c"), (3002, 3002, "d")]
        rounds, _, _ = infer_rounds([(-9, "i"), (-8, "j"), (-7, "k"), (-6, "l")], outs)
        self.assertEqual([len(r[1]) for r in rounds], [4])
        # With an input in the pause, the second part is a round of its own.
        rounds, _, _ = infer_rounds([(-9, "i"), (1500, "j")], outs)
        self.assertEqual([r[0] for r in rounds], [["i"], ["j"]])

    def test_an_input_never_released_does_not_shift_later_rounds(self):
        # "x" was refused by the node: it never leaves. Rounds after it stay right.
        ins = [(0, "x"), (100_000, "a"), (100_001, "b"), (300_000, "c"), (300_001, "d")]
        outs = [(150_000, 150_000, "o1"), (150_001, 150_001, "o2"),
                (350_000, 350_000, "o3"), (350_001, 350_001, "o4")]
        rounds, _, dropped = infer_rounds(ins, outs)
        self.assertEqual([r[0] for r in rounds], [["x", "a"], ["c", "d"]])
        self.assertEqual(dropped, 1)

    def test_inputless_burst_is_an_anomaly(self):
        rounds, anomalies, _ = infer_rounds([(0, "i")], [(10, 10, "a"),
                                                          (90000, 90000, "resend")])
        self.assertEqual(anomalies, 1)
        self.assertEqual(rounds[1][0], [])


class PropagateTest(unittest.TestCase):
    def test_two_providers_one_mix(self):
        e = [ev(100, "c0", "provider-1"), ev(110, "c2", "provider-1"),
             ev(500, "provider-1", "mix-1"), ev(500, "provider-1", "mix-1")]
        e += [ev(200 + 10 * k, c, "provider-2") for k, c in enumerate(["c1", "c3", "c1", "c3"])]
        e += [ev(600, "provider-2", "mix-1") for _ in range(4)]
        e += [ev(10000, "mix-1", "provider-1") for _ in range(3)]
        e += [ev(10000, "mix-1", "provider-2") for _ in range(3)]
        v, events = view(e)
        belief, diag, shares, _ = propagate(v)
        finals = [belief[i] for i, x in enumerate(events) if x["src"] == "mix-1"]
        self.assertEqual(len(finals), 6)
        want = (1 / 6, 1 / 3, 1 / 6, 1 / 3)
        for d in finals:
            for a, b in zip(d, want):
                self.assertAlmostEqual(a, b)
        self.assertAlmostEqual(stats.entropy_bits(finals[0]),
                               -2 * (1 / 6) * __import__("math").log2(1 / 6)
                               - 2 * (1 / 3) * __import__("math").log2(1 / 3))
        self.assertEqual(shares, [1, 2, 1, 2])
        self.assertEqual(diag["mix-1"]["round_shapes"], {"6->6": 1})
        self.assertEqual(diag["provider-2"]["round_shapes"], {"4->4": 1})

    def test_padding_carries_the_single_input(self):
        e = [ev(100, "c1", "provider-2"), ev(200, "provider-2", "mix-1")]
        e += [ev(9000, "mix-1", "provider-1") for _ in range(4)]
        v, events = view(e)
        belief, _, _, _ = propagate(v)
        finals = [belief[i] for i, x in enumerate(events) if x["src"] == "mix-1"]
        self.assertEqual(finals, [(0.0, 1.0, 0.0, 0.0)] * 4)

    def test_deliveries_into_a_provider_are_not_its_inputs(self):
        # mix-1 -> provider-1 frames end there: they must not join provider-1's next round.
        e = [ev(1000, "c0", "provider-1"), ev(10000, "provider-1", "mix-1"),
             ev(20000, "mix-1", "provider-1"),
             ev(30000, "c2", "provider-1"), ev(40000, "provider-1", "mix-1"),
             ev(50000, "mix-1", "provider-2")]
        v, events = view(e)
        belief, diag, _, _ = propagate(v)
        self.assertEqual(diag["provider-1"]["inputs"], 2)
        last = [belief[i] for i, x in enumerate(events) if x["t"] == 50000][0]
        self.assertEqual(last, (0.0, 0.0, 1.0, 0.0))

    def test_three_mixes(self):
        e = [ev(10, "c0", "provider-1"), ev(20, "c1", "provider-2"),
             ev(100, "provider-1", "mix-1"), ev(110, "provider-2", "mix-1")]
        # mix-1 releases both together; mix-2 and mix-3 pass them on
        e += [ev(5000, "mix-1", "mix-2"), ev(5000, "mix-1", "mix-2"),
              ev(10000, "mix-2", "mix-3"), ev(10000, "mix-2", "mix-3"),
              ev(15000, "mix-3", "provider-1"), ev(15000, "mix-3", "provider-2")]
        v, events = view(e, cascade=("mix-1", "mix-2", "mix-3"))
        belief, diag, _, _ = propagate(v)
        finals = [belief[i] for i, x in enumerate(events) if x["src"] == "mix-3"]
        self.assertEqual(finals, [(0.5, 0.5, 0.0, 0.0)] * 2)
        self.assertEqual(diag["mix-2"]["round_shapes"], {"2->2": 1})


if __name__ == "__main__":
    unittest.main()
