"""`sotto-adversary table`: the results table of papers/anonymity-measured.md.

Rows are collected in adversary/results.jsonl (one JSON object per line, committed, so the
table can be rebuilt and extended run by run): `table DIR...` adds the rows of each run folder
(results/rows.jsonl), replacing earlier rows of the same run, then rewrites the part of the
paper between the markers `<!-- results:begin -->` and `<!-- results:end -->` (the rest of the
paper is prose and stays as written). Every row carries the exact command that made it and the
commit it ran on."""
import json
import os

from .errors import HarnessError
from .rundir import open_existing

BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"
# The commit column is the commit the network ran on (daemons and harness); a row rescored
# later with newer attack code says so ("scored with").


def _fmt(x, digits=3):
    return "—" if x is None or x != x else f"{x:.{digits}f}"


def _ci(r, key, digits=3):
    ci = r.get(key)
    return f" [{_fmt(ci[0], digits)}, {_fmt(ci[1], digits)}]" if ci else ""


def run_id(info):
    return f"{info.get('label')}@{info.get('commit')}@{int(info.get('started_unix', 0))}"


def load_rows(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def render(rows):
    lines = [
        "| adversary | measure | configuration | n | success [95% CI] | chance | "
        "mean entropy, bits [95% CI] | sotto-sim predicts | commit | command |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        if r.get("auc") is not None:
            success = f"AUC {_fmt(r['auc'])}{_ci(r, 'auc_ci')}"
            chance = "AUC 0.5"
        else:
            success = f"{_fmt(r.get('success'))}{_ci(r, 'success_ci')}"
            chance = _fmt(r.get("chance"))
        ent = (f"{_fmt(r.get('entropy_mean'))}{_ci(r, 'entropy_ci')}"
               if r.get("entropy_mean") is not None else "—")
        sim = "—"
        if r.get("sim_entropy") is not None:
            sim = f"{_fmt(r['sim_entropy'])} bits"
            if r.get("sim_success") is not None:
                sim += f"; success {_fmt(r['sim_success'])}"
        conf = r.get("configuration", "?")
        if r.get("mode") != "netns":
            conf += " (loopback)"
        commit = f"`{r.get('commit', '?')}`"
        if r.get("scored_with") and r.get("scored_with") != r.get("commit"):
            commit += f" (scored with `{r['scored_with']}`)"
        lines.append(f"| {r.get('adversary', '?')} | {r.get('measure', '?')} | {conf} | "
                     f"{r.get('n', '—')} | {success} | {chance} | {ent} | {sim} | "
                     f"{commit} | `{r.get('command', '?')}` |")
    return "\n".join(lines)


def update(dirs, rows_path, paper_path, log):
    rows = load_rows(rows_path)
    for d in dirs:
        rd = open_existing(d)
        info = rd.read_json("run")
        if not rd.exists("rows"):
            raise HarnessError(f"{d} has no results (score it first: sotto-adversary score {d})")
        rid = run_id(info)
        new = []
        for r in rd.read_jsonl("rows"):
            r = {k: v for k, v in r.items() if not k.startswith("_")}
            r["run_id"] = rid
            new.append(r)
        rows = [r for r in rows if r.get("run_id") != rid] + new
        log(f"table: {len(new)} rows from {d} ({rid})")
    rows.sort(key=lambda r: (r.get("configuration", ""), r.get("adversary", ""),
                             r.get("measure", ""), r.get("run_id", "")))
    os.makedirs(os.path.dirname(os.path.abspath(rows_path)), exist_ok=True)
    with open(rows_path, "w") as f:
        for r in rows:
            f.write(json.dumps(r, sort_keys=True) + "\n")
    try:
        with open(paper_path, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        raise HarnessError(f"cannot read {paper_path}: {e.strerror}")
    if BEGIN not in text or END not in text:
        raise HarnessError(f"{paper_path} has no {BEGIN} ... {END} markers for the table")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    with open(paper_path, "w", encoding="utf-8") as f:
        f.write(head + BEGIN + "\n" + render(rows) + "\n" + END + tail)
    log(f"table: {len(rows)} rows in {paper_path}")
