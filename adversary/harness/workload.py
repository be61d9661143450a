"""The workload: who writes to whom, and when.

Format (what `sotto-sim workload SCENARIO --out FILE` writes; JSON Lines): a first line
`{"scenario": {...}}` (every key, and what the simulator drew: `friend_lists`,
`client_provider`, `measured`), then one object per message:
`{"id": N, "created_us": T, "sender": I, "recipient": J, "packets": 1}` with clients numbered
0..clients-1 and T in microseconds from the start of the run (simulated time 0 = when the
harness starts playing, after its warm-up).

`--workload FILE` plays a given file instead (same format, same checks).
"""
import json
import subprocess

from .errors import HarnessError


class Workload:
    def __init__(self, header, messages, path=None):
        self.header = header          # the first line's object
        self.messages = messages      # sorted by created_us
        self.path = path

    def pairs(self):
        """Unordered client pairs that must know each other: the friends graph if the header
        has one, else every pair that exchanges a message."""
        pairs = set()
        friends = self.header["scenario"].get("friend_lists", self.header.get("friends"))
        if isinstance(friends, list):
            for u, fl in enumerate(friends):
                for v in fl:
                    if u != v:
                        pairs.add((min(u, v), max(u, v)))
        for m in self.messages:
            a, b = m["sender"], m["recipient"]
            pairs.add((min(a, b), max(a, b)))
        return sorted(pairs)

    def write(self, path):
        with open(path, "w", encoding="utf-8") as f:
            f.write(json.dumps(self.header, sort_keys=True) + "\n")
            for m in self.messages:
                f.write(json.dumps(m, sort_keys=True) + "\n")


def load(path, clients=None):
    """A workload file, checked line by line (errors name the line)."""
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except OSError as e:
        raise HarnessError(f"cannot read workload {path}: {e.strerror}")
    if not lines:
        raise HarnessError(f"{path}: empty workload (want a first line {{\"scenario\": ...}})")
    try:
        header = json.loads(lines[0])
    except ValueError as e:
        raise HarnessError(f"{path}:1: not JSON: {e}")
    if not isinstance(header, dict) or not isinstance(header.get("scenario"), dict):
        raise HarnessError(f"{path}:1: the first line must be {{\"scenario\": {{...}}}}")
    messages, ids = [], set()
    for n, line in enumerate(lines[1:], 2):
        if not line.strip():
            continue
        try:
            m = json.loads(line)
        except ValueError as e:
            raise HarnessError(f"{path}:{n}: not JSON: {e}")
        for k in ("id", "created_us", "sender", "recipient", "packets"):
            if not isinstance(m.get(k), int) or isinstance(m.get(k), bool) or m[k] < 0:
                raise HarnessError(f"{path}:{n}: '{k}' must be a whole number >= 0")
        if m["sender"] == m["recipient"]:
            raise HarnessError(f"{path}:{n}: message {m['id']} is sent to its own sender")
        if clients is not None and max(m["sender"], m["recipient"]) >= clients:
            raise HarnessError(f"{path}:{n}: client {max(m['sender'], m['recipient'])} does "
                               f"not exist (the scenario has {clients} clients)")
        if m["packets"] != 1:
            raise HarnessError(f"{path}:{n}: message {m['id']} has {m['packets']} packets; a "
                               "sotto text is one packet")
        if m["id"] in ids:
            raise HarnessError(f"{path}:{n}: message id {m['id']} appears twice")
        ids.add(m["id"])
        messages.append(m)
    messages.sort(key=lambda m: (m["created_us"], m["id"]))
    return Workload(header, messages, path)


def sim_has_workload(sim_binary):
    try:
        r = subprocess.run([sim_binary, "workload", "--help"], capture_output=True, text=True,
                           timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return r.returncode == 0


def from_sim(sim_binary, scenario_path, overrides, out_path):
    """Runs `sotto-sim workload` and loads its output."""
    cmd = [sim_binary, "workload", scenario_path, "--out", out_path]
    for k, v in overrides:
        cmd += ["--set", f"{k}={v}"]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if r.returncode != 0:
        msg = (r.stderr.strip().splitlines() or ["(no message)"])[-1]
        raise HarnessError(f"sotto-sim workload failed: {msg}")
    return load(out_path)


def make(sim_binary, scenario, overrides, out_path, workload_file=None):
    """The run's workload: a given file, else sotto-sim's draw for the scenario."""
    if workload_file:
        w = load(workload_file, scenario.count("clients"))
        w.write(out_path)
        return w
    if not sim_has_workload(sim_binary):
        raise HarnessError(f"{sim_binary} has no 'workload' command (rebuild sotto-sim from this "
                           "checkout, or give a workload file with --workload)")
    w = from_sim(sim_binary, scenario.path, overrides, out_path)
    load(out_path, scenario.count("clients"))  # the same checks as any workload
    return w
