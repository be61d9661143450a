#!/usr/bin/env bash
# The adversary campaign (./run.sh adversary): every configuration below, 15 minutes of
# traffic each, for several seeds; each run scored, and every row added to
# adversary/results.jsonl and the table of papers/anonymity-measured.md.
#
#   adversary/campaign.sh [--out DIR] [--seeds "1 2 3"] [--only LABEL[,LABEL]] [--bin BUILD]
#                         [--suffix TEXT]   (appended to every label: e.g. the branches built)
#                         [--netns-prefix NAME --subnet A.B.C]   (as sotto-adversary run)
#
# Runs one after another (each needs the bridge sadvbr0); as root (namespaces and the
# capture). About 17 minutes per run; the default campaign is 5 configurations × 3 seeds.
# A run folder is kept per run under DIR (default /tmp/sotto-adversary-campaign); its capture
# is deleted once scored (the observer's link events stay in DIR/RUN/observer/).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
OUT=/tmp/sotto-adversary-campaign
SEEDS="1 2 3"
ONLY=""
BIN="$ROOT/build"
SUFFIX=""
NET=()
while [ $# -gt 0 ]; do
  case "$1" in
    --out) OUT="$2"; shift 2 ;;
    --seeds) SEEDS="$2"; shift 2 ;;
    --only) ONLY="$2"; shift 2 ;;
    --bin) BIN="$2"; shift 2 ;;
    --suffix) SUFFIX="$2"; shift 2 ;;
    --netns-prefix|--subnet) NET+=("$1" "$2"); shift 2 ;;
    -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "campaign: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" -eq 0 ] || { echo "campaign: needs root (network namespaces and the capture)" >&2; exit 1; }

# LABEL | SCENARIO | extra sotto-adversary options
CONFIGS=(
  "testnet|sim/scenarios/testnet.ini|"
  "testnet-batch8|sim/scenarios/testnet.ini|--set batch_size=8"
  "leak6-pairs|adversary/scenarios/leak6-pairs.ini|"
  # leak 3: provider-1 withholds 5% of its clients' acks (more real messages, so that ~35 real
  # packets per run are withheld); every attack is scored on it too
  "withhold-acks|sim/scenarios/testnet.ini|--set real_rate_per_s=0.1 --node-flags 'provider-1=--withhold-acks 0.05 --withhold-from clients --seed 1'"
  # n-1: an attacker client floods provider-1 at 20 packets/s while both providers hold every
  # other client's packets but c0's (the target) until their 10-s release
  "n-1|sim/scenarios/testnet.ini|--flood provider-1:20 --hold-except c0"
)
mkdir -p "$OUT"
dirs=()
for c in "${CONFIGS[@]}"; do
  IFS='|' read -r label scenario extra <<<"$c"
  [ -n "$ONLY" ] && [[ ",$ONLY," != *",$label,"* ]] && continue
  eval "extra_args=($extra)"   # the options as written above, quotes respected
  for seed in $SEEDS; do
    dir="$OUT/$label-seed$seed"
    echo "== $label, seed $seed -> $dir"
    # shellcheck disable=SC2086
    "$ROOT/adversary/sotto-adversary" run "$ROOT/$scenario" --out "$dir" --force --bin "$BIN" \
      --label "$label$SUFFIX" --set "seed=$seed" ${NET[@]+"${NET[@]}"} \
      ${extra_args[@]+"${extra_args[@]}"}
    rm -f "$dir/links.pcap"
    dirs+=("$dir")
  done
done
[ ${#dirs[@]} -gt 0 ] || { echo "campaign: no configuration matches --only $ONLY" >&2; exit 2; }
"$ROOT/adversary/sotto-adversary" table "${dirs[@]}"
