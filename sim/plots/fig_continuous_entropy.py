#!/usr/bin/python3
"""Figure 1 of papers/evaluation.md: sender entropy of one continuous-time mix against the
arrival rate λ, one line per mean delay 1/μ, with Danezis's closed form log2(e·λ/μ) (PET 2004)
dashed. Input: the per-run CSV of

    sotto-sim sweep sim/scenarios/eval-continuous.ini --vary mean_delay_ms=... \
        --vary real_rate_per_s=...

(λ = clients · real_rate_per_s, clients read from the scenario file). Points are the means over
repetitions of each run's mean entropy, with 95% Student-t confidence intervals.
"""

import math

import matplotlib.pyplot as plt

import evalplot as ep


def main():
    args = ep.parse_args(__doc__.splitlines()[0], [
        ("runs", "per-run CSV of the sweep"),
        ("scenario", "the scenario file the sweep ran (for clients)"),
    ])
    rows = ep.read_rows(args.runs)
    ep.need_columns(rows, args.runs, "mean_delay_ms", "real_rate_per_s", "entropy_mean")
    clients = float(ep.read_scenario(args.scenario)["clients"])

    ep.style()
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    delays = sorted({ep.num(r["mean_delay_ms"]) for r in rows})
    for i, delay_ms in enumerate(delays):
        color, marker = ep.COLORS[i % len(ep.COLORS)], ep.MARKERS[i % len(ep.MARKERS)]
        pts = ep.group([r for r in rows if ep.num(r["mean_delay_ms"]) == delay_ms],
                       ["real_rate_per_s"])
        lam, mean, ci = [], [], []
        for (rate,), rs in pts.items():
            m, h, _ = ep.mean_ci(ep.num(r["entropy_mean"]) for r in rs)
            lam.append(rate * clients)
            mean.append(m)
            ci.append(h)
        ax.errorbar(lam, mean, yerr=ci, color=color, marker=marker, capsize=2.5, lw=1.2,
                    alpha=0.85, label=f"simulated, 1/μ = {delay_ms / 1000:g} s")
        # Closed form where Danezis states it holds (λ/μ ≥ 5: dashed), its continuation dotted.
        lo, hi = min(lam), max(lam)
        xs = [lo * (hi / lo) ** (k / 200) for k in range(201)]
        load = [x * delay_ms / 1000 for x in xs]
        valid = [(x, math.log2(math.e * q)) for x, q in zip(xs, load) if q >= 5]
        below = [(x, math.log2(math.e * q)) for x, q in zip(xs, load) if 1 / math.e < q <= 5]
        if below:
            ax.plot(*zip(*below), ":", color="black", lw=0.9, zorder=5,
                    label="log2(e·λ/μ) for λ/μ < 5" if i == 0 else None)
        if valid:
            ax.plot(*zip(*valid), "--", color="black", lw=0.9, zorder=5,
                    label="log2(e·λ/μ), Danezis 2004" if i == 0 else None)
    ax.set_xscale("log")
    ax.set_xlabel("arrival rate λ at the mix (packets/s, log scale)")
    ax.set_ylabel("sender entropy H (bits)")
    ax.set_title("One continuous-time mix: entropy grows with traffic and delay", fontsize=10)
    ax.set_ylim(bottom=0)
    ax.legend(loc="upper left")
    ep.save(fig, args.out)


if __name__ == "__main__":
    main()
