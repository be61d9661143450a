"""The command line: usage errors exit 2 with one line, other errors 1, and the results table
keeps the paper's prose and replaces only its table."""
import json
import os
import subprocess
import sys
import tempfile
import unittest

import _path
from harness import table

TOOL = os.path.join(_path.ROOT, "adversary", "sotto-adversary")


def run(*args):
    r = subprocess.run([sys.executable, TOOL, *args], capture_output=True, text=True,
                       timeout=60)
    return r.returncode, r.stdout, r.stderr


class CliTest(unittest.TestCase):
    def test_help_and_usage_errors(self):
        rc, out, _ = run("--help")
        self.assertEqual(rc, 0)
        self.assertIn("sotto-adversary run SCENARIO.ini --out DIR", out)
        rc, _, err = run("run", "x.ini")
        self.assertEqual(rc, 2)
        self.assertRegex(err, r"^sotto-adversary: error: .*--out.*"
                              r"\(see sotto-adversary run --help\)\n$")
        rc, _, err = run("frobnicate")
        self.assertEqual(rc, 2)
        self.assertEqual(err.count("\n"), 1)
        rc, _, err = run("run", "x.ini", "--out", "/tmp/x", "--set", "novalue")
        self.assertEqual(rc, 2)
        self.assertIn("is not KEY=VALUE", err)

    def test_other_errors(self):
        with tempfile.TemporaryDirectory() as d:
            rc, _, err = run("score", d)
            self.assertEqual(rc, 1)
            self.assertIn("is not a run folder", err)
            rc, _, err = run("run", os.path.join(d, "missing.ini"), "--out", d, "--bin",
                             os.path.join(d, "nobuild"))
            self.assertEqual(rc, 1)
            self.assertIn("is not built", err)

    def test_attacks_are_listed(self):
        rc, out, _ = run("attacks")
        self.assertEqual(rc, 0)
        self.assertIn("passive", out)
        self.assertIn("leak6", out)


class TableTest(unittest.TestCase):
    def test_update_replaces_only_the_table(self):
        with tempfile.TemporaryDirectory() as d:
            run_dir = os.path.join(d, "run")
            os.makedirs(os.path.join(run_dir, "results"))
            with open(os.path.join(run_dir, "run.json"), "w") as f:
                json.dump({"label": "cfg", "commit": "abc", "started_unix": 5}, f)
            row = {"adversary": "global passive observer", "measure": "sender", "n": 10,
                   "success": 0.5, "success_ci": [0.2, 0.8], "chance": 0.125,
                   "entropy_mean": 1.5, "entropy_ci": [1.4, 1.6], "sim_entropy": 1.45,
                   "configuration": "cfg", "commit": "abc", "command": "sotto-adversary run x",
                   "mode": "netns", "_samples": [1, 2]}
            with open(os.path.join(run_dir, "results", "rows.jsonl"), "w") as f:
                f.write(json.dumps(row) + "\n")
            paper = os.path.join(d, "paper.md")
            with open(paper, "w") as f:
                f.write(f"# Title\nprose\n{table.BEGIN}\nold\n{table.END}\nmore prose\n")
            rows = os.path.join(d, "rows.jsonl")
            for _ in range(2):  # twice: the same run's rows replace themselves
                table.update([run_dir], rows, paper, lambda m: None)
            with open(paper) as f:
                text = f.read()
            self.assertTrue(text.startswith("# Title\nprose\n"))
            self.assertTrue(text.endswith("more prose\n"))
            self.assertNotIn("old", text)
            self.assertIn("| global passive observer | sender | cfg | 10 | 0.500 [0.200, 0.800] "
                          "| 0.125 | 1.500 [1.400, 1.600] | 1.450 bits | `abc` | "
                          "`sotto-adversary run x` |", text)
            with open(rows) as f:
                saved = [json.loads(x) for x in f]
            self.assertEqual(len(saved), 1)
            self.assertNotIn("_samples", saved[0])


if __name__ == "__main__":
    unittest.main()
