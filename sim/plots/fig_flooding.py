#!/usr/bin/python3
"""Figure 4 of papers/evaluation.md: the n−1 (flooding) attack of Serjantov, Dingledine and
Syverson (IH 2002) on one mix of each policy: (a) success within k rounds of the target in the
mix, with 1 − keep^k for the pool mix; (b) success against the rate of the mix's own loop cover
(Loopix's defence: a blocked loop gives the attack away). Chance (a blind guess among the packets
the target left with) is drawn dotted.

Inputs: CSVs of `sotto-sim attack flood` (one row per point, each over `trials` attacks):
--policies varies the policy (and the pool's keep_fraction); --defence the policy and
mix_loop_rate_per_s. Success rates are proportions of trials; the error bars are 95% Wilson
score intervals computed here.
"""

import math

import matplotlib.pyplot as plt

import evalplot as ep

KS = (1, 3, 10)  # the CSV's success_within_K columns


def wilson(p, n):
    """95% Wilson score interval of a proportion p over n trials, as (lower, upper) errors."""
    if n <= 0:
        return 0.0, 0.0
    z = 1.96
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, p - (centre - half)), max(0.0, centre + half - p)


def label(row):
    policy = row["policy"]
    if policy == "pool":
        return f"pool, keep {ep.num(row['keep_fraction']):g}"
    if policy == "threshold-timeout":
        return f"threshold-timeout, n = {ep.num(row['threshold']):g}"
    return policy


def colour_of(name, seen):
    """The same colour and marker for the same policy in both panels."""
    if name not in seen:
        seen[name] = len(seen)
    i = seen[name]
    return ep.COLORS[i % len(ep.COLORS)], ep.MARKERS[i % len(ep.MARKERS)]


def main():
    args = ep.parse_args(__doc__.splitlines()[0], [
        ("policies", "CSV of attack flood over the policies"),
        ("defence", "CSV of attack flood over policy × mix_loop_rate_per_s"),
    ])
    pol = ep.read_rows(args.policies)
    dfn = ep.read_rows(args.defence)
    cols = ["policy", "keep_fraction", "max_rounds", "trials", "success_rate", "chance"]
    ep.need_columns(pol, args.policies, *cols, *(f"success_within_{k}" for k in KS))
    ep.need_columns(dfn, args.defence, *cols, "mix_loop_rate_per_s", "detection_rate")

    ep.style()
    fig, (ax_a, ax_b) = plt.subplots(1, 2, figsize=(12.5, 4.6))

    # (a) success within k rounds of the target inside the mix; the last point (all rounds up to
    # max_rounds) stands apart, unconnected
    seen = {}
    for r in pol:
        color, marker = colour_of(label(r), seen)
        trials = int(ep.num(r["trials"]))
        ps = [ep.num(r[f"success_within_{k}"]) for k in KS]
        errs = list(zip(*(wilson(p, trials) for p in ps)))
        ax_a.errorbar(KS, ps, yerr=errs, color=color, marker=marker, lw=1.3, capsize=2.5,
                      label=label(r))
        total = ep.num(r["success_rate"])
        ax_a.errorbar([ep.num(r["max_rounds"])], [total],
                      yerr=[[e] for e in wilson(total, trials)], color=color, marker=marker,
                      capsize=2.5, ls="none")
        if r["policy"] == "pool":
            keep = ep.num(r["keep_fraction"])
            fine = [1 + 19 * j / 100 for j in range(101)]
            ax_a.plot(fine, [1 - keep ** k for k in fine], "--", color=color, lw=0.9)
        ax_a.axhline(ep.num(r["chance"]), color=color, ls=":", lw=0.9)
    ax_a.plot([], [], "k--", lw=0.9, label="pool: 1 − keep^k")
    ax_a.plot([], [], "k:", lw=0.9, label="chance (blind guess)")
    ax_a.set_xscale("log")
    max_rounds = int(ep.num(pol[0]["max_rounds"]))
    ax_a.set_xticks(list(KS) + [max_rounds], [f"{k}" for k in KS] + [f"{max_rounds} (all)"])
    ax_a.set_ylim(-0.02, 1.05)
    ax_a.set_xlabel("rounds k the target spends in the mix (log scale)")
    ax_a.set_ylabel(f"attack success within k rounds ({trials} trials per point)")
    ax_a.set_title("(a) n−1 attack, no defence: every policy falls", fontsize=10)
    ax_a.legend(loc="center right", fontsize=8)

    # (b) success against the mix's loop cover rate
    groups = {}
    for r in dfn:
        groups.setdefault(label(r), []).append(r)
    for name, rs in groups.items():
        color, marker = colour_of(name, seen)
        rs = sorted(rs, key=lambda r: ep.num(r["mix_loop_rate_per_s"]))
        xs = [ep.num(r["mix_loop_rate_per_s"]) for r in rs]
        ps = [ep.num(r["success_rate"]) for r in rs]
        errs = list(zip(*(wilson(p, int(ep.num(r["trials"]))) for p, r in zip(ps, rs))))
        ax_b.errorbar(xs, ps, yerr=errs, color=color, marker=marker, lw=1.3, capsize=2.5,
                      label=name)
        ax_b.axhline(ep.num(rs[0]["chance"]), color=color, ls=":", lw=0.9)
    ax_b.set_xscale("symlog", linthresh=0.05, linscale=0.5)
    rates = sorted({ep.num(r["mix_loop_rate_per_s"]) for r in dfn})
    ax_b.set_xticks(rates, [f"{x:g}" for x in rates])
    ax_b.set_xlim(-0.005, rates[-1] * 1.3)
    ax_b.set_ylim(-0.02, 1.05)
    ax_b.set_xlabel("the mix's own loop cover (packets/s; symmetric log scale, 0 = none)")
    ax_b.set_ylabel("attack success (undetected, target named)")
    ax_b.set_title("(b) Loopix's defence: the mix's loops reveal the blocking", fontsize=10)
    ax_b.legend(loc="lower left", fontsize=8)
    ep.save(fig, args.out)


if __name__ == "__main__":
    main()
