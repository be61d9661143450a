"""sotto-sim's own attacks over the simulated network (`sotto-sim netattack KIND`), for the
same scenario and overrides a run played: the prediction beside an attack's measurement.
Used by attacks/sda.py and attacks/nminus1.py; skipped (None) when scoring runs without the
simulator (`score --no-sim`) or when sotto-sim refuses the scenario."""
import csv
import os
import subprocess


def netattack(run, kind, params=(), repetitions=20, sets=()):
    """{column: value} of sotto-sim netattack KIND's CSV row (success_mean, success_ci95,
    entropy_mean, ..., command), or None."""
    if not getattr(run, "sim_enabled", False):
        return None
    sim = os.path.join(run.bin_dir, "sim", "sotto-sim")
    out_dir = run.rd.p("sim")
    os.makedirs(out_dir, exist_ok=True)
    tag = "".join(f"-{k}={v}" for k, v in list(sets) + list(params)).replace(",", "+")
    csv_path = os.path.join(out_dir, f"netattack-{kind}{tag}.csv")
    cmd = [sim, "netattack", kind, run.rd.p("scenario"), "--repetitions", str(repetitions),
           "--out", csv_path]
    for k, v in list(run.info.get("overrides", [])) + list(sets):
        cmd += ["--set", f"{k}={v}"]
    for k, v in params:
        cmd += ["--param", f"{k}={v}"]
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if r.returncode != 0 or not os.path.exists(csv_path):
        return {"error": (r.stderr.strip().splitlines() or ["?"])[-1],
                "command": " ".join(cmd)}
    with open(csv_path) as f:
        rows = list(csv.DictReader(f))
    if not rows:
        return None
    row = {}
    for k, v in rows[0].items():
        try:
            row[k] = float(v) if v not in ("", None) else None
        except ValueError:
            row[k] = v
    row["command"] = " ".join(os.path.relpath(c) if os.path.exists(c) else c for c in cmd)
    return row
