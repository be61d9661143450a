"""Statistics and scoring on inputs with known answers."""
import math
import random
import unittest

import _path  # noqa: F401
from harness import scoring, stats


class StatsTest(unittest.TestCase):
    def test_entropy(self):
        self.assertAlmostEqual(stats.entropy_bits([0.25] * 4), 2.0)
        self.assertAlmostEqual(stats.entropy_bits([1.0, 0.0]), 0.0)
        self.assertAlmostEqual(stats.entropy_bits([0.5, 0.25, 0.25]), 1.5)

    def test_wilson_known_values(self):
        # Textbook values (Newcombe 1998, Table I): 81/263 -> 0.2553..0.3662.
        lo, hi = stats.wilson(81, 263)
        self.assertAlmostEqual(lo, 0.2553, places=3)
        self.assertAlmostEqual(hi, 0.3662, places=3)
        self.assertEqual(stats.wilson(0, 0), (0.0, 1.0))
        lo, hi = stats.wilson(0, 10)
        self.assertEqual(lo, 0.0)
        self.assertAlmostEqual(hi, 0.2775, places=3)

    def test_normal_ppf(self):
        for p, z in ((0.975, 1.959963985), (0.5, 0.0), (0.001, -3.090232306), (0.9999,
                                                                              3.719016485)):
            self.assertAlmostEqual(stats.normal_ppf(p), z, places=6)

    def test_auc(self):
        self.assertEqual(stats.auc([2, 3], [0, 1])[0], 1.0)
        self.assertEqual(stats.auc([0, 1], [2, 3])[0], 0.0)
        self.assertEqual(stats.auc([1, 1], [1, 1])[0], 0.5)
        # P(X > Y) + P(X = Y)/2 by enumeration
        x, y = [1, 2, 3, 3], [0, 2, 3]
        want = sum((a > b) + 0.5 * (a == b) for a in x for b in y) / 12
        self.assertAlmostEqual(stats.auc(x, y)[0], want)

    def test_auc_interval_covers_truth(self):
        # Two normals one sd apart: AUC = Phi(1/sqrt 2) = 0.7602. Over 200 seeded samples of
        # 100 + 100, the 95% DeLong interval should cover it about 95% of the time.
        true = 0.5 * math.erfc(-(1 / math.sqrt(2)) / math.sqrt(2))
        rng = random.Random(3)
        cover = 0
        for _ in range(200):
            a, (lo, hi) = stats.auc([rng.gauss(1, 1) for _ in range(100)],
                                    [rng.gauss(0, 1) for _ in range(100)])
            cover += lo <= true <= hi
        self.assertGreaterEqual(cover, 180)
        self.assertLessEqual(cover, 199)

    def test_mann_whitney(self):
        rng = random.Random(1)
        same = [stats.mann_whitney_p([rng.random() for _ in range(50)],
                                     [rng.random() for _ in range(50)]) for _ in range(400)]
        # Under H0 the p-value is uniform: about 5% below 0.05.
        self.assertLess(abs(sum(p < 0.05 for p in same) / 400 - 0.05), 0.03)
        self.assertLess(stats.mann_whitney_p([x + 1 for x in range(30)], list(range(30))),
                        1.0)
        self.assertLess(stats.mann_whitney_p([x + 100 for x in range(30)], list(range(30))),
                        1e-9)

    def test_ks(self):
        d, p = stats.ks_2samp([1, 2, 3, 4], [1, 2, 3, 4])
        self.assertEqual(d, 0.0)
        self.assertEqual(p, 1.0)
        rng = random.Random(2)
        d, p = stats.ks_2samp([rng.random() for _ in range(300)],
                              [rng.random() + 0.3 for _ in range(300)])
        self.assertGreater(d, 0.2)
        self.assertLess(p, 1e-6)
        # The asymptotic p-value: D = 0.1, n = m = 200 -> lambda = (10 + 0.12 + 0.011)·0.1,
        # Q(lambda) = 2·(e^(-2 lambda^2) - e^(-8 lambda^2) + ...) = 0.2562.
        d, p = stats.ks_2samp(list(range(200)), list(range(20, 220)))
        self.assertAlmostEqual(d, 0.1, places=12)
        self.assertAlmostEqual(p, 0.2562, delta=0.0005)

    def test_bootstrap_is_deterministic_and_sane(self):
        xs = [float(i % 10) for i in range(500)]
        a = stats.bootstrap_ci(xs)
        self.assertEqual(a, stats.bootstrap_ci(xs))
        self.assertLess(a[0], 4.5)
        self.assertGreater(a[1], 4.5)
        self.assertLess(a[1] - a[0], 1.0)

    def test_tost(self):
        rng = random.Random(4)
        xs = [2.0 + rng.gauss(0, 0.1) for _ in range(200)]
        self.assertTrue(stats.tost_within(xs, 2.0, 0.1)[0])
        self.assertFalse(stats.tost_within(xs, 2.5, 0.1)[0])   # 20% off: detected
        self.assertFalse(stats.tost_within(xs[:3], 2.0, 0.001)[0])


class ScoringTest(unittest.TestCase):
    def test_point_masses_are_always_found(self):
        pairs = [(i % 4, [1.0 if j == i % 4 else 0.0 for j in range(4)]) for i in range(40)]
        s = scoring.sender_scores(pairs, 4)
        self.assertEqual((s["success"], s["entropy_mean"], s["chance"]), (1.0, 0.0, 0.25))
        self.assertEqual(s["p_true_mean"], 1.0)

    def test_uniform_beliefs_give_chance(self):
        rng = random.Random(9)
        pairs = [(rng.randrange(8), [1 / 8] * 8) for _ in range(4000)]
        s = scoring.sender_scores(pairs, 8)
        self.assertAlmostEqual(s["entropy_mean"], 3.0)
        lo, hi = s["success_ci"]
        self.assertTrue(lo <= 1 / 8 <= hi, (lo, hi))

    def test_ideal(self):
        s = scoring.ideal_scores([(0, None), (1, None)], [1, 1, 2])
        self.assertAlmostEqual(s["ideal_entropy"], 1.5)
        self.assertEqual(s["ideal_success"], 0.0)  # the guess is always client 2


if __name__ == "__main__":
    unittest.main()
