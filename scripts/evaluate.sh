#!/usr/bin/env bash
# Regenerates every figure of papers/evaluation.md: runs the sotto-sim sweeps and attacks into
# papers/figures/data/*.csv, then the plotting scripts of sim/plots/ into papers/figures/*.png and
# *.svg. Prints each command before it runs it, and the time each step took. Fixed seeds
# (stated in papers/evaluation.md), so a rerun gives the same CSV files byte for byte.
#
#   scripts/evaluate.sh [--jobs N]   (3-5 minutes on 2 cores; ./run.sh evaluate builds first)
#
# Environment: SOTTO_SIM (default: build/sim/sotto-sim), PYTHON (default: /usr/bin/python3, which
# has Debian's python3-matplotlib).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
SIM="${SOTTO_SIM:-build/sim/sotto-sim}"
PYTHON="${PYTHON:-/usr/bin/python3}"
JOBS="$(nproc 2>/dev/null || echo 2)"
die() { echo "evaluate.sh: $1" >&2; exit "${2:-1}"; }
while [ $# -gt 0 ]; do
  case "$1" in
    --jobs|-j)
      [[ "${2:-}" =~ ^[1-9][0-9]*$ ]] || die "--jobs needs a whole number of threads, e.g. --jobs 2" 2
      JOBS="$2"; shift 2 ;;
    -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option '$1' (see --help)" 2 ;;
  esac
done
[ -x "$SIM" ] || die "no simulator at $SIM: build it (./run.sh evaluate, or cmake --build build --target sotto-sim) or set SOTTO_SIM"
"$PYTHON" -c 'import matplotlib' 2>/dev/null \
  || die "$PYTHON cannot import matplotlib: install python3-matplotlib (./run.sh deps) or set PYTHON"

DATA=papers/figures/data
FIGS=papers/figures
PLOTS=sim/plots
mkdir -p "$DATA"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

START=$SECONDS
run() {  # prints the command, runs it, prints how long it took
  printf '\n$ %s\n' "$*"
  local t0=$SECONDS
  "$@"
  printf '  (%d s)\n' $((SECONDS - t0))
}
# concat OUT IN...: the CSV files one after another, with the first file's header only.
concat() {
  local out="$1"; shift
  printf '\n$ concat %s <- %s\n' "$out" "$*"
  { head -n 1 "$1"; for f in "$@"; do tail -n +2 "$f"; done; } >"$out"
}
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "Figure 1: one continuous-time mix, entropy vs arrival rate and mean delay"
# Seed 1 and 5 repetitions: in the scenario file. λ = 100,000 clients · real_rate_per_s
# = 0.5 … 200 packets/s; 1/μ = 0.1, 0.5, 2, 5 s.
run "$SIM" sweep sim/scenarios/eval-continuous.ini --jobs "$JOBS" \
  --vary mean_delay_ms=100,500,2000,5000 \
  --vary real_rate_per_s=0.000005,0.00001,0.00002,0.00005,0.0001,0.0002,0.0005,0.001,0.002 \
  --out "$DATA/continuous.csv"
run "$PYTHON" "$PLOTS/fig_continuous_entropy.py" --runs "$DATA/continuous.csv" \
  --scenario sim/scenarios/eval-continuous.ini --out "$FIGS/fig1-continuous-entropy"

step "Figure 2: Sotto's default cascade, batch size n and cover level k"
# Seed 2 and 3 repetitions: in the scenario file. Cover level k: payload k/s, loop k/2 per s,
# drop k/s (k = 1: the client's defaults). The single-valued --vary put each level's rates into
# the CSV's first columns; every level reuses the seeds of the same batch sizes (common random
# numbers).
parts=()
for k in 0 0.1 0.25 0.5 1 2 4; do
  half="$(awk -v k="$k" 'BEGIN { printf "%g", k / 2 }')"
  run "$SIM" sweep sim/scenarios/eval-cascade.ini --jobs "$JOBS" \
    --vary payload_rate_per_s="$k" --vary loop_rate_per_s="$half" --vary drop_rate_per_s="$k" \
    --vary batch_size=4,8,16,32,64,128,256 --out "$TMP/cascade-k$k.csv"
  parts+=("$TMP/cascade-k$k.csv")
done
concat "$DATA/cascade.csv" "${parts[@]}"
concat "$DATA/cascade.summary.csv" "${parts[@]/%.csv/.summary.csv}"
run "$PYTHON" "$PLOTS/fig_cascade_tradeoff.py" --runs "$DATA/cascade.csv" \
  --scenario sim/scenarios/eval-cascade.ini --out "$FIGS/fig2-cascade-tradeoff"

step "Figure 3: statistical disclosure attack, rounds vs batch size (seed 3)"
run "$SIM" attack sda --seed 3 --repetitions 100 --jobs "$JOBS" --set recipients=1000 \
  --vary friends=5,10,20 --vary batch_size=2,4,8,16,32,64,128,256 --out "$DATA/sda.csv"
run "$PYTHON" "$PLOTS/fig_sda_rounds.py" --runs "$DATA/sda.csv" --out "$FIGS/fig3-sda-rounds"

step "Figure 4: the n-1 attack per policy, and the mix's loop cover as a defence (seed 4)"
# Success within 1, 3 and 10 rounds of the target in the mix, and within max_rounds = 200
# (which also bounds the flushing rounds).
FLOOD=("$SIM" attack flood --seed 4 --repetitions 1000 --jobs "$JOBS" --set max_rounds=200)
run "${FLOOD[@]}" --vary policy=threshold-timeout,timed,continuous --out "$TMP/flood-a.csv"
run "${FLOOD[@]}" --set policy=pool --vary keep_fraction=0.2,0.5,0.8,0.9 --out "$TMP/flood-b.csv"
concat "$DATA/flood-policies.csv" "$TMP/flood-a.csv" "$TMP/flood-b.csv"
run "${FLOOD[@]}" --set keep_fraction=0.5 --vary policy=threshold-timeout,timed,pool,continuous \
  --vary mix_loop_rate_per_s=0,0.05,0.1,0.2,0.5,1,2,5 --out "$DATA/flood-defence.csv"
run "$PYTHON" "$PLOTS/fig_flooding.py" --policies "$DATA/flood-policies.csv" \
  --defence "$DATA/flood-defence.csv" --out "$FIGS/fig4-flooding"

step "Figure 5: timing correlation on continuous-time mixes vs load λ/μ (seed 5)"
run "$SIM" attack timing --seed 5 --repetitions 5 --jobs "$JOBS" \
  --vary senders=100,100000 --vary hops=1,3 --vary load=0.5,1,2,5,10,20,50,100 \
  --out "$DATA/timing.csv"
run "$PYTHON" "$PLOTS/fig_timing.py" --runs "$DATA/timing.csv" --out "$FIGS/fig5-timing"

step "Figure 6: the mixing policies inside Sotto's default cascade, entropy vs latency"
# Seed 6 and 4 repetitions: in the scenario file. Every node runs the policy; its parameter varies.
POLICIES=("$SIM" sweep sim/scenarios/eval-policies.ini --jobs "$JOBS")
run "${POLICIES[@]}" --vary policy=threshold-timeout --vary batch_size=4,16,64,256,1024 \
  --out "$DATA/policy-threshold.csv"
run "${POLICIES[@]}" --vary policy=timed --vary period_ms=5,10,20,50,100,200 \
  --out "$DATA/policy-timed.csv"
run "${POLICIES[@]}" --vary policy=pool --vary period_ms=5,10,20,50,100 \
  --out "$DATA/policy-pool.csv"
run "${POLICIES[@]}" --vary policy=continuous --vary mean_delay_ms=2,5,10,20,50,100 \
  --out "$DATA/policy-continuous.csv"
run "$PYTHON" "$PLOTS/fig_policies.py" --scenario sim/scenarios/eval-policies.ini \
  --runs "$DATA"/policy-{threshold,timed,pool,continuous}.csv --out "$FIGS/fig6-policies"

printf '\nevaluate.sh: every figure regenerated in %d s: %s/*.png and *.svg, data in %s/\n' \
  $((SECONDS - START)) "$FIGS" "$DATA"
