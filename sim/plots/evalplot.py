"""Shared helpers for the evaluation plots (papers/evaluation.md): reading the per-run CSV files
that `sotto-sim sweep` and `sotto-sim attack` write, grouping runs into sweep points, means with
95% Student-t confidence intervals, scenario files, and one consistent figure style.

Every plotting script in sim/plots/ reads CSV and writes FIGURE.png and FIGURE.svg; nothing here
runs the simulator. Only the standard library, numpy and matplotlib (Debian python3-matplotlib).
"""

import argparse
import csv
import math
import os
import sys

import matplotlib

matplotlib.use("Agg")  # no display: files only
import matplotlib.pyplot as plt  # noqa: E402

# Two-sided 95% Student-t quantiles t_{0.975, df} for df = 1..30; beyond, the normal 1.96 is
# within 2% (df = 30: 2.042). Kept here so the plots need no scipy.
_T975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179,
         2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064,
         2.060, 2.056, 2.052, 2.048, 2.045, 2.042]


def t975(df):
    if df < 1:
        return float("nan")
    if df <= len(_T975):
        return _T975[df - 1]
    if df <= 60:
        return 2.000 + (2.042 - 2.000) * (60 - df) / 30.0
    if df <= 120:
        return 1.980 + (2.000 - 1.980) * (120 - df) / 60.0
    return 1.960


def mean_ci(values):
    """Mean and half-width of the 95% confidence interval (0 for a single value)."""
    xs = [v for v in values if v is not None and math.isfinite(v)]
    n = len(xs)
    if n == 0:
        return float("nan"), float("nan"), 0
    m = sum(xs) / n
    if n < 2:
        return m, 0.0, n
    var = sum((x - m) ** 2 for x in xs) / (n - 1)
    return m, t975(n - 1) * math.sqrt(var / n), n


def read_rows(path):
    """The rows of a CSV file as dicts of strings; a clear error if it is missing or empty."""
    if not os.path.exists(path):
        sys.exit(f"{os.path.basename(sys.argv[0])}: error: {path} does not exist "
                 "(run scripts/evaluate.sh, which writes it)")
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        sys.exit(f"{os.path.basename(sys.argv[0])}: error: {path} has no data rows")
    return rows


def need_columns(rows, path, *columns):
    missing = [c for c in columns if c not in rows[0]]
    if missing:
        sys.exit(f"{os.path.basename(sys.argv[0])}: error: {path} lacks column(s) "
                 f"{', '.join(missing)}; it has: {', '.join(rows[0].keys())}")


def num(text):
    try:
        return float(text)
    except (TypeError, ValueError):
        return float("nan")


def group(rows, keys):
    """{tuple of float key values: [rows]} in ascending key order."""
    out = {}
    for r in rows:
        out.setdefault(tuple(num(r[k]) for k in keys), []).append(r)
    return dict(sorted(out.items()))


def read_scenario(path):
    """The key = value pairs of a sotto-sim scenario file (comments and blanks skipped)."""
    values = {}
    with open(path) as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if "=" in line:
                k, v = line.split("=", 1)
                values[k.strip()] = v.strip()
    return values


def parse_args(description, inputs):
    """Command line: one --NAME CSV per entry of `inputs`, --scenario where asked, --out BASE."""
    p = argparse.ArgumentParser(description=description)
    for name, help_text in inputs:
        p.add_argument(f"--{name}", required=True, help=help_text)
    p.add_argument("--out", required=True,
                   help="output path without extension: writes OUT.png and OUT.svg")
    return p.parse_args()


def style():
    plt.rcParams.update({
        "figure.dpi": 110,
        "savefig.dpi": 110,
        "font.size": 10,
        "axes.grid": True,
        "grid.alpha": 0.3,
        "legend.fontsize": 8.5,
        "legend.framealpha": 0.9,
        "svg.fonttype": "none",  # text stays text: smaller SVGs
        "svg.hashsalt": "sotto-evaluation",  # stable ids: reruns give identical SVGs
        "lines.markersize": 4.5,
    })


def save(fig, out_base):
    os.makedirs(os.path.dirname(out_base) or ".", exist_ok=True)
    fig.tight_layout()
    # No timestamps in the files, so a rerun with the same data gives the same bytes.
    fig.savefig(out_base + ".png", metadata={"Software": None}, bbox_inches="tight")
    fig.savefig(out_base + ".svg", metadata={"Date": None, "Creator": None}, bbox_inches="tight")
    plt.close(fig)
    print(f"wrote {out_base}.png and {out_base}.svg")


COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf",
          "#7f7f7f"]
MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*"]
