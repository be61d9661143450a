#!/usr/bin/python3
"""Figure 5 of papers/evaluation.md: a timing-correlation attack on a cascade of continuous-time
mixes — (a) top-1 and (b) top-5 success of naming each output's sender against the load λ/μ,
for 1 and 3 hops and N = 100 or 100,000 senders, with the one-hop closed form 1/(1 + λ/μ) and
chance (a blind guess among the senders in the attacker's window) dotted.

Input: the CSV of `sotto-sim attack timing --vary senders=... --vary hops=... --vary load=...`
(one row per point: the means over the repetitions with their 95% confidence half-widths).
"""

import matplotlib.pyplot as plt

import evalplot as ep


def main():
    args = ep.parse_args(__doc__.splitlines()[0], [("runs", "CSV of sotto-sim attack timing")])
    rows = ep.read_rows(args.runs)
    ep.need_columns(rows, args.runs, "senders", "hops", "load", "top1_mean", "top1_ci95",
                    "top5_mean", "top5_ci95", "chance_top1_window", "chance_top5_window")

    ep.style()
    fig, axes = plt.subplots(1, 2, figsize=(12.5, 4.6))
    curves = ep.group(rows, ["hops", "senders"])
    for ax, top in zip(axes, ("top1", "top5")):
        for i, ((hops, senders), rs) in enumerate(curves.items()):
            color, marker = ep.COLORS[i % len(ep.COLORS)], ep.MARKERS[i % len(ep.MARKERS)]
            rs = sorted(rs, key=lambda r: ep.num(r["load"]))
            load = [ep.num(r["load"]) for r in rs]
            ax.errorbar(load, [ep.num(r[f"{top}_mean"]) for r in rs],
                        yerr=[ep.num(r[f"{top}_ci95"]) for r in rs], color=color, marker=marker,
                        lw=1.3, capsize=2.5,
                        label=f"{hops:g} hop{'s' if hops > 1 else ''}, N = {senders:,.0f}")
            ax.plot(load, [ep.num(r[f"chance_{top}_window"]) for r in rs], ":", color=color,
                    lw=1.0)
        if top == "top1":
            loads = sorted({ep.num(r["load"]) for r in rows})
            fine = [loads[0] * (loads[-1] / loads[0]) ** (j / 100) for j in range(101)]
            ax.plot(fine, [1 / (1 + q) for q in fine], "k--", lw=1.0, zorder=5,
                    label="1 hop, N ≫ λ/μ: 1/(1 + λ/μ)")
        ax.plot([], [], "k:", lw=1.0, label="chance: blind guess in the window")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("load λ/μ (arrivals per mean delay, log scale)")
        ax.set_ylabel(f"attacker's {'top-1' if top == 'top1' else 'top-5'} success "
                      "(log scale)")
        ax.legend(loc="lower left", fontsize=8)
    axes[0].set_title("(a) the true sender ranked first", fontsize=10)
    axes[1].set_title("(b) the true sender among the first five", fontsize=10)
    ep.save(fig, args.out)


if __name__ == "__main__":
    main()
