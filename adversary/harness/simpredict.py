"""sotto-sim's prediction for the scenario a run played.

`sotto-sim run SCENARIO --set repetitions=R --messages FILE` with the run's own --set
overrides: the mean of `entropy_bits` over every measured message of all R repetitions (R = 20
by default, so the prediction's own interval is small next to the testnet's), with a 95%
Student-t interval over the repetitions' means. When the simulator has `netattack`, also
`sotto-sim netattack trace SCENARIO --repetitions R`: the same global passive observer's
best-guess success (1/k when the true sender is among the k most likely) with its interval.
The simulator's passive observer is the one of sim/README.md ("The model");
attacks/passive.py does the same on the capture."""
import csv
import json
import math
import os
import subprocess

from . import stats
from .errors import HarnessError

T975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306,
        9: 2.262, 10: 2.228, 15: 2.131, 19: 2.093, 20: 2.086, 29: 2.045, 30: 2.042}


REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def show(cmd):
    """A command as one would type it from the repository's root."""
    out = []
    for c in cmd:
        if os.path.isabs(c) and c.startswith(REPO + os.sep):
            c = os.path.relpath(c, REPO)
        out.append(c)
    return " ".join(out)


def t975(df):
    if df in T975:
        return T975[df]
    if df > 30:
        return 1.96 + 2.4 / df
    return T975[max(k for k in T975 if k < df)]


def predict(sim_binary, scenario_path, overrides, out_dir, repetitions=20):
    os.makedirs(out_dir, exist_ok=True)
    msgs = os.path.join(out_dir, "messages.jsonl")
    cmd = [sim_binary, "run", scenario_path, "--set", f"repetitions={repetitions}"]
    for k, v in overrides:
        cmd += ["--set", f"{k}={v}"]
    cmd += ["--messages", msgs, "--out", os.path.join(out_dir, "runs.csv")]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
    with open(os.path.join(out_dir, "summary.txt"), "w") as f:
        f.write(r.stdout + r.stderr)
    if r.returncode != 0:
        raise HarnessError(f"sotto-sim run failed: {(r.stderr.strip().splitlines() or ['?'])[-1]}")
    per_rep = {}
    allv = []
    with open(msgs) as f:
        for line in f:
            m = json.loads(line)
            if m.get("entropy_bits") is None:
                continue
            per_rep.setdefault(m.get("repetition", 0), []).append(m["entropy_bits"])
            allv.append(m["entropy_bits"])
    if not allv:
        raise HarnessError("sotto-sim measured no message entropy for this scenario")
    means = [stats.mean(v) for v in per_rep.values()]
    mu = stats.mean(means)
    if len(means) > 1:
        sd = math.sqrt(sum((x - mu) ** 2 for x in means) / (len(means) - 1))
        half = t975(len(means) - 1) * sd / math.sqrt(len(means))
    else:
        half = float("nan")
    pred = {"entropy_mean": mu, "entropy_ci": [mu - half, mu + half],
            "entropy_ci_method": f"Student-t 95% over {len(means)} repetitions",
            "messages": len(allv), "repetitions": len(means),
            "command": show(cmd)}
    na = os.path.join(out_dir, "netattack-trace.csv")
    cmd2 = [sim_binary, "netattack", "trace", scenario_path, "--repetitions", str(repetitions),
            "--out", na]
    for k, v in overrides:
        cmd2 += ["--set", f"{k}={v}"]
    r2 = subprocess.run(cmd2, capture_output=True, text=True, timeout=1800)
    if r2.returncode == 0 and os.path.exists(na):
        with open(na) as f:
            row = next(csv.DictReader(f))
        mu_s, half_s = float(row["success_mean"]), float(row["success_ci95"] or "nan")
        pred.update({"success": mu_s, "success_ci": [mu_s - half_s, mu_s + half_s],
                     "success_command": show(cmd2)})
    with open(os.path.join(out_dir, "prediction.json"), "w") as f:
        json.dump(pred, f, indent=1, sort_keys=True)
    return pred
