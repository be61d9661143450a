#!/usr/bin/python3
"""Figure 2 of papers/evaluation.md: Sotto's default cascade (3 threshold-and-timeout mixes
behind 2 mixing providers, the real client's cover streams) as the batch size n and the cover
level k vary: (a) sender entropy against mean end-to-end latency, (b) entropy against bandwidth
overhead, (c) latency against overhead with the client queue's M/M/1 sojourn time.

Input: the per-run CSV of the sweeps over sim/scenarios/eval-cascade.ini (columns
payload_rate_per_s, loop_rate_per_s, drop_rate_per_s, batch_size, then the result columns);
real_rate_per_s is read from the scenario. Points are means over repetitions, 95% CIs.
"""

import math

import matplotlib.pyplot as plt

import evalplot as ep


def main():
    args = ep.parse_args(__doc__.splitlines()[0], [
        ("runs", "per-run CSV of the cascade sweeps"),
        ("scenario", "the scenario file the sweeps ran (for real_rate_per_s)"),
    ])
    rows = ep.read_rows(args.runs)
    ep.need_columns(rows, args.runs, "payload_rate_per_s", "batch_size", "entropy_mean",
                    "latency_mean_ms", "overhead")
    real_rate = float(ep.read_scenario(args.scenario)["real_rate_per_s"])

    # point (k, n) -> mean/CI of entropy, latency (s) and overhead
    stats = {}
    for key, rs in ep.group(rows, ["payload_rate_per_s", "batch_size"]).items():
        stats[key] = {
            "H": ep.mean_ci(ep.num(r["entropy_mean"]) for r in rs),
            "L": ep.mean_ci(ep.num(r["latency_mean_ms"]) / 1000 for r in rs),
            "O": ep.mean_ci(ep.num(r["overhead"]) for r in rs),
        }
    covers = sorted({k for k, _ in stats})
    batches = sorted({n for _, n in stats})

    ep.style()
    fig, (ax_a, ax_b, ax_c) = plt.subplots(1, 3, figsize=(14.5, 4.6))

    # (a) one line per cover level, the batch sizes along it
    cmap = plt.get_cmap("viridis")
    for i, k in enumerate(covers):
        color = "black" if k == 0 else cmap(0.1 + 0.8 * (i - 1) / max(1, len(covers) - 2))
        pts = [stats[(k, n)] for n in batches if (k, n) in stats]
        label = "k = 0 (no cover)" if k == 0 else f"k = {k:g}"
        ax_a.errorbar([p["L"][0] for p in pts], [p["H"][0] for p in pts],
                      xerr=[p["L"][1] for p in pts], yerr=[p["H"][1] for p in pts],
                      color=color, marker="o", lw=1.2, capsize=2, label=label)
        if k == 0:  # name the batch sizes once, along the no-cover line; merge close points
            groups = []  # [x, y, [names]]
            for n, p in zip(batches, pts):
                x, y = p["L"][0], p["H"][0]
                if groups and abs(math.log10(x / groups[-1][0])) < 0.08 and \
                        abs(y - groups[-1][1]) < 0.4:
                    groups[-1][2].append(f"{n:g}")
                else:
                    groups.append([x, y, [f"{n:g}"]])
            for x, y, ns in groups:
                ax_a.annotate("n=" + ", ".join(ns), (x, y), textcoords="offset points",
                              xytext=(4, -10), fontsize=7)
    ax_a.set_xscale("log")
    ax_a.set_xlabel("mean end-to-end latency (s, log scale)")
    ax_a.set_ylabel("sender entropy H (bits)")
    ax_a.set_title("(a) entropy vs latency; points: n = 4 … 256", fontsize=10)
    ax_a.set_ylim(top=ax_a.get_ylim()[1] + 1.2)
    ax_a.legend(loc="upper left", ncol=3, fontsize=8, title="cover level k: payload k/s, loop k/2 per s, "
                "drop k/s", title_fontsize=8)

    # (b) one line per batch size, the cover levels along it; log2 n dotted
    for j, n in enumerate(batches):
        color = ep.COLORS[j % len(ep.COLORS)]
        pts = [stats[(k, n)] for k in covers if (k, n) in stats]
        ax_b.errorbar([p["O"][0] for p in pts], [p["H"][0] for p in pts],
                      yerr=[p["H"][1] for p in pts], color=color,
                      marker=ep.MARKERS[j % len(ep.MARKERS)], lw=1.2, capsize=2,
                      label=f"n = {n:g}")
        ax_b.axhline(math.log2(n), color=color, ls=":", lw=0.8)
    ax_b.set_xscale("log")
    ax_b.set_xlabel("overhead: all packets / real packets (log scale)")
    ax_b.set_ylabel("sender entropy H (bits)")
    ax_b.set_title("(b) entropy vs overhead; dotted: log2 n", fontsize=10)
    ax_b.set_ylim(bottom=0)
    ax_b.legend(loc="lower right", ncol=4, title="batch size n", title_fontsize=8)

    # (c) latency against overhead, one line per batch size, with the client queue's sojourn
    # time 1/(λ_P − λ_R): Poisson writes served by the Poisson payload stream (M/M/1).
    for j, n in enumerate(batches):
        pts = [stats[(k, n)] for k in covers if (k, n) in stats and k > 0]
        ax_c.errorbar([p["O"][0] for p in pts], [p["L"][0] for p in pts],
                      yerr=[p["L"][1] for p in pts], color=ep.COLORS[j % len(ep.COLORS)],
                      marker=ep.MARKERS[j % len(ep.MARKERS)], lw=1.0, capsize=2,
                      label=f"n = {n:g}")
    ks = [k for k in covers if k > real_rate]
    if ks:
        xs = [stats[(k, batches[0])]["O"][0] for k in ks]
        ax_c.plot(xs, [1 / (k - real_rate) for k in ks], "k--", lw=1.0, zorder=5,
                  label="client queue only: 1/(λ_P − λ_R)")
    ax_c.set_xscale("log")
    ax_c.set_yscale("log")
    ax_c.set_xlabel("overhead: all packets / real packets (log scale)")
    ax_c.set_ylabel("mean end-to-end latency (s, log scale)")
    ax_c.set_title("(c) latency vs overhead (with cover)", fontsize=10)
    ax_c.legend(loc="upper right", ncol=2, fontsize=8)
    ep.save(fig, args.out)


if __name__ == "__main__":
    main()
