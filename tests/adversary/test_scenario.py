"""Scenario files → testnet plans: what is reproduced, and a one-line refusal naming file,
line and key for everything else. Needs sotto-sim (SOTTO_SIM, default build/sim/sotto-sim)
for the key table; skipped without it."""
import os
import tempfile
import unittest

import _path
from harness import scenario
from harness.errors import HarnessError

SIM = os.environ.get("SOTTO_SIM", os.path.join(_path.ROOT, "build", "sim", "sotto-sim"))

BASE = """# like sim/scenarios/testnet.ini
seed = 3
duration_s = 900
burn_in_s = 60
clients = 8
providers = 2
layers = 3
policy = threshold-timeout
batch_size = 4
timeout_ms = 500
min_batch = 4
provider_policy = same
real_rate_per_s = 0.05
payload_rate_per_s = 1
loop_rate_per_s = 0.5
drop_rate_per_s = 1
social_graph = friends
friends = 1
"""


@unittest.skipUnless(os.access(SIM, os.X_OK), f"sotto-sim not built at {SIM}")
class ScenarioTest(unittest.TestCase):
    def load(self, text, extra=""):
        self.tmp = tempfile.NamedTemporaryFile("w", suffix=".ini", delete=False)
        self.tmp.write(text + extra)
        self.tmp.close()
        self.addCleanup(os.unlink, self.tmp.name)
        return scenario.load(self.tmp.name, SIM)

    def refused(self, extra, pattern):
        """Sets the keys of `extra` (replacing BASE's lines) and expects a refusal."""
        text = BASE
        for line in extra.splitlines():
            key = line.split("=")[0].strip()
            lines = [x for x in text.splitlines() if x.split("=")[0].strip() != key]
            text = "\n".join(lines) + "\n" + line + "\n"
        with self.assertRaises(HarnessError) as cm:
            scenario.translate(self.load(text))
        msg = str(cm.exception)
        self.assertRegex(msg, pattern)
        self.assertNotIn("\n", msg)
        return msg

    def test_translation(self):
        plan = scenario.translate(self.load(BASE))
        self.assertEqual(plan.authority, {
            "mixing-policy": "threshold-timeout", "cascade-length": "3", "batch-size": "4",
            "batch-timeout-ms": "500", "min-batch": "4", "send-rate-per-min": "60",
            "cover-loop-per-min": "30", "cover-drop-per-min": "60",
            "fetch-interval-ms": "2000"})
        self.assertEqual((plan.clients, plan.providers, plan.layers), (8, 2, 3))
        self.assertEqual([plan.provider_of(i) for i in range(4)],
                         ["provider-1", "provider-2", "provider-1", "provider-2"])
        self.assertEqual((plan.duration_s, plan.burn_in_s, plan.seed), (900, 60, 3))
        self.assertEqual(plan.mixes(), ["mix-1", "mix-2", "mix-3"])

    def test_other_policies(self):
        s = self.load(BASE.replace("threshold-timeout", "pool"), "pool_keep_fraction = 0.25\n"
                      "period_ms = 750\n")
        a = scenario.translate(s).authority
        self.assertEqual((a["mixing-policy"], a["pool-keep-percent"], a["batch-timeout-ms"]),
                         ("pool", "25", "750"))
        s = self.load(BASE.replace("threshold-timeout", "continuous"), "mean_delay_ms = 200\n")
        self.assertEqual(scenario.translate(s).authority["mean-delay-ms"], "200")

    def test_authority_overrides(self):
        plan = scenario.translate(self.load(BASE), [("fetch-interval-ms", "1000")])
        self.assertEqual(plan.authority["fetch-interval-ms"], "1000")
        with self.assertRaisesRegex(HarnessError, "only fetch-interval-ms"):
            scenario.translate(self.load(BASE), [("batch-size", "9")])

    def test_refusals(self):
        m = self.refused("topology = stratified\n", r":\d+: topology = stratified cannot be "
                         r"reproduced on the testnet: the testnet runs one cascade")
        self.assertIn(self.tmp.name, m)
        self.refused("layers = 4\n", "layers = 4 .*at most 3 mixes")
        self.refused("mixes_per_layer = 2\n", "one mix per layer")
        self.refused("payload_rate_per_s = 0\n", "always send a payload stream")
        self.refused("loop_rate_per_s = 0.51\n", r"30.6/min is not whole")
        self.refused("message_packets = 2\n", "one packet")
        self.refused("arrivals = periodic\n", "Poisson")
        self.refused("provider_policy = pass-through\n", "mix with the mixes' policy")
        self.refused("corrupt_layers = 2\n", "attack modules")
        self.refused("timeout_ms = 0.5\n", "whole milliseconds")
        self.refused("link_latency_ms = 10\n", "adds no link latency")
        self.refused("clients = 100\n", "at most 64")
        self.refused("pool_min_keep = 3\npolicy = pool\n", "pool has no minimum")
        with self.assertRaisesRegex(HarnessError, "set twice"):
            self.load(BASE, "seed = 4\n")

    def test_unknown_key_and_bad_lines(self):
        with self.assertRaisesRegex(HarnessError, r":2: unknown key 'bach_size'"):
            self.load("seed = 1\nbach_size = 4\n")
        with self.assertRaisesRegex(HarnessError, r":1: section header"):
            self.load("[net]\n")
        with self.assertRaisesRegex(HarnessError, r":1: 'oops' is not a 'key = value' line"):
            self.load("oops\n")

    def test_sim_only_keys_are_noted(self):
        plan = scenario.translate(self.load(BASE, "repetitions = 5\nlink_latency_ms = 1\n"))
        self.assertTrue(any("repetitions" in n for n in plan.notes))
        self.assertTrue(any("link_latency_ms" in n for n in plan.notes))


if __name__ == "__main__":
    unittest.main()
