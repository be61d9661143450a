#!/usr/bin/python3
"""Figure 3 of papers/evaluation.md: the statistical disclosure attack on a threshold mix —
Alice's rounds until the observer names all m of her friends, against the batch size b, one
colour per m, with Danezis's estimate (SEC 2003) for l = 2 (dashed) and l = 3 (dotted).

Input: the CSV of `sotto-sim attack sda --vary friends=... --vary batch_size=...` (one row per
point: the mean over the attack's repetitions with its 95% confidence half-width). The estimate
is recomputed here from its formula (sim/README.md, "Attacks") and checked against the CSV's
danezis_l2 / danezis_l3 columns, so the plot does not just redraw the simulator's own numbers.
"""

import math

import matplotlib.pyplot as plt

import evalplot as ep


def danezis_rounds(n_recipients, b, m, l):
    """t > [m·l·(sqrt(σ²_noise) + sqrt(σ²_noise + σ²_Alice))]², σ²_noise = (b−1)(N−1)/N²,
    σ²_Alice = (m−1)/m²."""
    noise = (b - 1) * (n_recipients - 1) / n_recipients ** 2
    alice = (m - 1) / m ** 2
    return (m * l * (math.sqrt(noise) + math.sqrt(noise + alice))) ** 2


def main():
    args = ep.parse_args(__doc__.splitlines()[0], [("runs", "CSV of sotto-sim attack sda")])
    rows = ep.read_rows(args.runs)
    ep.need_columns(rows, args.runs, "recipients", "batch_size", "friends", "alice_rounds_mean",
                    "alice_rounds_ci95", "success_rate", "danezis_l2", "danezis_l3")
    for r in rows:  # the simulator's estimate must be the formula's
        n, b, m = (ep.num(r[k]) for k in ("recipients", "batch_size", "friends"))
        for l, col in ((2, "danezis_l2"), (3, "danezis_l3")):
            mine, theirs = danezis_rounds(n, b, m, l), ep.num(r[col])
            if abs(mine - theirs) > 1e-6 * mine:
                raise SystemExit(f"fig_sda_rounds.py: {col} = {theirs} but the formula gives "
                                 f"{mine} for N={n:g}, b={b:g}, m={m:g}")

    ep.style()
    fig, ax = plt.subplots(figsize=(6.4, 4.6))
    for i, ((n, m), rs) in enumerate(ep.group(rows, ["recipients", "friends"]).items()):
        color, marker = ep.COLORS[i % len(ep.COLORS)], ep.MARKERS[i % len(ep.MARKERS)]
        rs = sorted(rs, key=lambda r: ep.num(r["batch_size"]))
        bs = [ep.num(r["batch_size"]) for r in rs]
        ax.errorbar(bs, [ep.num(r["alice_rounds_mean"]) for r in rs],
                    yerr=[ep.num(r["alice_rounds_ci95"]) for r in rs], color=color,
                    marker=marker, lw=1.4, capsize=2.5,
                    label=f"simulated, N = {n:g}, m = {m:g}")
        fine = [bs[0] * (bs[-1] / bs[0]) ** (k / 100) for k in range(101)]
        ax.plot(fine, [danezis_rounds(n, b, m, 2) for b in fine], "--", color=color, lw=1.0)
        ax.plot(fine, [danezis_rounds(n, b, m, 3) for b in fine], ":", color=color, lw=1.2)
        failed = [r for r in rs if ep.num(r["success_rate"]) < 1]
        for r in failed:
            ax.annotate(f"{ep.num(r['success_rate']):.0%} found", (ep.num(r["batch_size"]),
                        ep.num(r["alice_rounds_mean"])), fontsize=7, color=color)
    ax.plot([], [], "k--", lw=1.0, label="Danezis 2003 estimate, l = 2")
    ax.plot([], [], "k:", lw=1.2, label="Danezis 2003 estimate, l = 3")
    ax.set_xscale("log", base=2)
    all_b = sorted({ep.num(r["batch_size"]) for r in rows})
    ax.set_xticks(all_b, [f"{b:g}" for b in all_b])
    ax.set_yscale("log")
    ax.set_xlabel("batch size b of the threshold mix (log scale)")
    ax.set_ylabel("Alice's rounds until her m friends are named (log scale)")
    ax.set_title("Statistical disclosure attack: rounds vs batch size", fontsize=10)
    ax.legend(loc="upper left")
    ep.save(fig, args.out)


if __name__ == "__main__":
    main()
