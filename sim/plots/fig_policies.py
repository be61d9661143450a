#!/usr/bin/python3
"""Figure 6 of papers/evaluation.md: the four mixing policies inside Sotto's default cascade —
sender entropy against mean end-to-end latency as each policy's parameter varies (threshold n,
timed period, pool period with half the pool kept, continuous mean delay).

Inputs: one per-run CSV per policy from `sotto-sim sweep sim/scenarios/eval-policies.ini
--vary policy=P --vary PARAM=...` (columns: policy, PARAM, then the result columns), and the
scenario (for the latency floor: the client queue's M/M/1 sojourn 1/(λ_P − λ_R) plus the
constant link latencies, what a message would take through mixes that did not delay at all).
Points are means over repetitions with 95% Student-t confidence intervals.
"""

import argparse

import matplotlib.pyplot as plt

import evalplot as ep

UNITS = {"batch_size": ("n", ""), "period_ms": ("", " ms"), "mean_delay_ms": ("", " ms")}


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", nargs="+", required=True, help="per-run CSVs, one per policy")
    p.add_argument("--scenario", required=True, help="sim/scenarios/eval-policies.ini")
    p.add_argument("--out", required=True, help="writes OUT.png and OUT.svg")
    args = p.parse_args()
    sc = ep.read_scenario(args.scenario)

    ep.style()
    fig, ax = plt.subplots(figsize=(7.2, 4.8))
    for i, path in enumerate(args.runs):
        rows = ep.read_rows(path)
        ep.need_columns(rows, path, "policy", "entropy_mean", "latency_mean_ms")
        param = list(rows[0].keys())[1]
        policy = rows[0]["policy"]
        color, marker = ep.COLORS[i % len(ep.COLORS)], ep.MARKERS[i % len(ep.MARKERS)]
        xs, ys, xe, ye, names = [], [], [], [], []
        for (value,), rs in ep.group(rows, [param]).items():
            lat = ep.mean_ci(ep.num(r["latency_mean_ms"]) / 1000 for r in rs)
            ent = ep.mean_ci(ep.num(r["entropy_mean"]) for r in rs)
            xs.append(lat[0])
            xe.append(lat[1])
            ys.append(ent[0])
            ye.append(ent[1])
            prefix, unit = UNITS.get(param, (param + "=", ""))
            names.append(f"{prefix}{'=' if prefix else ''}{value:g}{unit}")
        what = {"threshold-timeout": "threshold-timeout (t = 1 s), n varies",
                "timed": "timed, period varies",
                "pool": f"pool keeping {ep.num(sc.get('pool_keep_fraction', 'nan')):g}, "
                        "period varies",
                "continuous": "continuous-time, mean delay varies"}.get(policy, policy)
        ax.errorbar(xs, ys, xerr=xe, yerr=ye, color=color, marker=marker, lw=1.3, capsize=2,
                    label=what)
        for x, y, name in zip(xs, ys, names):
            ax.annotate(name, (x, y), textcoords="offset points", xytext=(4, -9), fontsize=6.5,
                        color=color)
    floor = 1 / (float(sc["payload_rate_per_s"]) - float(sc["real_rate_per_s"])) + \
        (int(sc["layers"]) + 2) * float(sc["link_latency_ms"]) / 1000
    ax.axvline(floor, color="gray", ls=":", lw=1.0,
               label=f"no mixing delay: client queue + links ≈ {floor:.2f} s")
    ax.set_xlabel("mean end-to-end latency (s)")
    ax.set_ylabel("sender entropy H (bits)")
    ax.set_title("Mixing policies in Sotto's default cascade (1000 users, default cover)",
                 fontsize=10)
    ax.legend(loc="lower right", fontsize=8)
    ep.save(fig, args.out)


if __name__ == "__main__":
    main()
