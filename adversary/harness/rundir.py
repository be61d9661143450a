"""The run folder: one place for everything a run produced, read back by `score` and `table`.

    RUN/run.json            what ran: command, commit, scenario, plan, mode, hosts, times
    RUN/scenario.ini        a copy of the scenario
    RUN/workload.jsonl      the workload played (first line: the scenario)
    RUN/sent.jsonl          one line per `sotto send`: workload id, client message id, times
    RUN/links.pcap          the observer's capture (netns mode only)
    RUN/tcpdump.log         tcpdump's messages and counters
    RUN/recordings/*.jsonl  the recording nodes' events (ground truth; contract in README)
    RUN/net/                the testnet: directory/ and NODE/ (node.ini, log, data/), client.ini,
                            consensus.json
    RUN/clients/cI/         each client's home (sotto.log; keys and state)
    RUN/final/cI.json       each client's inbox, history and status at the end
    RUN/observer/links.jsonl  link events the observer extracted from the capture
    RUN/observer/summary.json what the capture held (connections, frames, sizes, kinds)
    RUN/truth.json          ground truth: every message's path, every fetch's content
    RUN/results/NAME.json   each attack's result (scores with confidence intervals)
    RUN/results/rows.jsonl  the table rows of this run
    RUN/sim/                sotto-sim's prediction for the same scenario
"""
import json
import os

from .errors import HarnessError

FILES = {
    "run": "run.json", "scenario": "scenario.ini", "workload": "workload.jsonl",
    "sent": "sent.jsonl", "pcap": "links.pcap", "links": "observer/links.jsonl",
    "capture_summary": "observer/summary.json", "truth": "truth.json",
    "rows": "results/rows.jsonl", "final": "final", "recordings": "recordings",
    "results": "results", "sim": "sim",
}


class RunDir:
    def __init__(self, path):
        self.path = os.path.abspath(path)

    def p(self, key, *more):
        return os.path.join(self.path, FILES.get(key, key), *more)

    def exists(self, key):
        return os.path.exists(self.p(key))

    def read_json(self, key):
        try:
            with open(self.p(key), encoding="utf-8") as f:
                return json.load(f)
        except OSError as e:
            raise HarnessError(f"{self.p(key)}: {e.strerror} (is {self.path} a run folder made "
                               "by 'sotto-adversary run'?)")
        except ValueError as e:
            raise HarnessError(f"{self.p(key)}: not JSON ({e})")

    def write_json(self, key, data):
        path = self.p(key)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=1, sort_keys=True)
            f.write("\n")
        os.replace(tmp, path)

    def read_jsonl(self, key_or_path):
        path = self.p(key_or_path) if key_or_path in FILES else key_or_path
        out = []
        try:
            with open(path, encoding="utf-8") as f:
                for n, line in enumerate(f, 1):
                    if line.strip():
                        try:
                            out.append(json.loads(line))
                        except ValueError:
                            raise HarnessError(f"{path}:{n}: not JSON")
        except OSError as e:
            raise HarnessError(f"{path}: {e.strerror}")
        return out

    def write_jsonl(self, key, rows):
        path = self.p(key)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            for r in rows:
                f.write(json.dumps(r, sort_keys=True) + "\n")


def open_existing(path):
    rd = RunDir(path)
    if not rd.exists("run"):
        raise HarnessError(f"{path} is not a run folder (no run.json; make one with "
                           "'sotto-adversary run SCENARIO --out DIR')")
    return rd
