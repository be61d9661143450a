#!/usr/bin/env bash
# The real sotto-sim command line: a tiny sweep (same bytes with 1 and 2 threads), a tiny attack
# of each kind, their CSV headers and row counts; and every bad input is exit 2 (command line) or
# 1 (files, runs) with exactly one line "sotto-sim: error: ..." naming the key — never a crash.
# usage: sim_cli_test.sh BUILD_DIR
set -uo pipefail
BUILD="${1:?usage: sim_cli_test.sh BUILD_DIR}"
SIM="$BUILD/sim/sotto-sim"
[ -x "$SIM" ] || { echo "FAIL: $SIM is not built"; exit 1; }
T="$(mktemp -d /tmp/sotto-sim-cli-XXXXXX)"; trap 'rm -rf "$T"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# ok CMD...: exit 0 within the time limit.
ok() {
  if timeout 60 "$@" >"$T/out" 2>"$T/err"; then echo "ok: $*"; else fail "$* → rc=$? $(cat "$T/err")"; fi
}
# expect EXIT_CODE PATTERN CMD...: that exit code, one line on stderr, starting with
# "sotto-sim: error: " and containing PATTERN.
expect() {
  local want="$1" pattern="$2"; shift 2
  timeout 60 "$@" >"$T/out" 2>"$T/err"; local rc=$?
  local lines; lines=$(wc -l <"$T/err")
  if [ "$rc" -ne "$want" ] || [ "$lines" -ne 1 ] || ! grep -q '^sotto-sim: error: ' "$T/err" ||
     ! grep -qF -- "$pattern" "$T/err"; then
    fail "$* → rc=$rc (want $want), $lines stderr lines: $(cat "$T/err")"
  else
    echo "ok ($rc): $* → $(cat "$T/err")"
  fi
}
# lines FILE N: FILE has N lines.
lines() { local n; n=$(wc -l <"$1"); [ "$n" -eq "$2" ] || fail "$1 has $n lines, want $2"; }
# header FILE TEXT: the first line of FILE is TEXT.
header() { local h; h=$(head -1 "$1"); [ "$h" = "$2" ] || fail "$1 header is '$h', want '$2'"; }

printf 'clients = 10\ncorrupt_mix_fraction = 0.25\n' >"$T/old.ini"
cat >"$T/tiny.ini" <<'EOF'
# one small threshold mix: about 250 messages per run
clients = 50
layers = 1
batch_size = 5
timeout_ms = 200
duration_s = 6
burn_in_s = 1
drain_s = 5
real_rate_per_s = 1
EOF
RUN_COLUMNS="point,repetition,run_seed,messages_sent,messages_delivered,real_packets_sent,real_packets_delivered,payload_cover_packets,loop_packets,drop_packets,node_dummies,packets_total,overhead,entropy_packets,entropy_mean,entropy_std,entropy_min,entropy_p05,entropy_p25,entropy_p50,entropy_p75,entropy_p95,entropy_max,effective_set_mean,normalized_degree_mean,latency_messages,latency_mean_ms,latency_p50_ms,latency_p95_ms,latency_p99_ms,latency_max_ms,queue_mean,queue_max,events,scheduled_events,simulated_s,corrupt_mixes,corrupt_mix_list"
SUMMARY_COLUMNS="point,runs"
for m in entropy_mean effective_set_mean normalized_degree_mean latency_mean_ms latency_p50_ms \
         latency_p95_ms latency_p99_ms overhead queue_mean queue_max corrupt_mixes; do
  SUMMARY_COLUMNS="$SUMMARY_COLUMNS,${m}_mean,${m}_ci95"
done

# --- run and sweep ------------------------------------------------------------------------------
ok "$SIM" run "$T/tiny.ini" --out "$T/run.csv" --set repetitions=2
header "$T/run.csv" "$RUN_COLUMNS"; lines "$T/run.csv" 3

ok "$SIM" sweep "$T/tiny.ini" --vary batch_size=2,5 --vary layers=1,2 --repetitions 3 --jobs 1 \
   --out "$T/s1.csv" --messages "$T/m1.jsonl"
grep -q "entropy (bits)" "$T/out" || fail "sweep printed no summary table: $(cat "$T/out")"
[ ! -s "$T/err" ] || fail "sweep wrote to stderr without a TTY or --progress: $(cat "$T/err")"
header "$T/s1.csv" "batch_size,layers,$RUN_COLUMNS"; lines "$T/s1.csv" 13
header "$T/s1.summary.csv" "batch_size,layers,$SUMMARY_COLUMNS"; lines "$T/s1.summary.csv" 5
head -1 "$T/m1.jsonl" | grep -q '^{"point":0,"repetition":0,' || fail "bad message lines"
ok "$SIM" sweep "$T/tiny.ini" --vary batch_size=2,5 --vary layers=1,2 --repetitions 3 --jobs 2 \
   --out "$T/s2.csv" --summary "$T/sum2.csv" --messages "$T/m2.jsonl" --progress
grep -q "runs" "$T/err" || fail "--progress showed no progress bar"
cmp -s "$T/s1.csv" "$T/s2.csv" || fail "per-run CSV differs between --jobs 1 and --jobs 2"
cmp -s "$T/s1.summary.csv" "$T/sum2.csv" || fail "summary CSV differs between --jobs 1 and 2"
cmp -s "$T/m1.jsonl" "$T/m2.jsonl" || fail "messages differ between --jobs 1 and --jobs 2"
# Point 0 of a sweep is what `run` runs.
ok "$SIM" sweep "$T/tiny.ini" --vary batch_size=5 --repetitions 2 --out "$T/s3.csv"
[ "$(tail -n +2 "$T/run.csv")" = "$(tail -n +2 "$T/s3.csv" | cut -d, -f2-)" ] ||
  fail "sweep point 0 differs from run"

# --- workload: the messages run creates, for the adversary harness ---------------------------------
SCEN="$(cd "$(dirname "$0")/../.." && pwd)/sim/scenarios"
ok "$SIM" workload "$SCEN/testnet-ci.ini" --out "$T/w.jsonl"
head -1 "$T/w.jsonl" | grep -q '^{"scenario":{"workload_format":1,' || fail "workload header: $(head -c 200 "$T/w.jsonl")"
tail -n +2 "$T/w.jsonl" | grep -vqE '^\{"id":[0-9]+,"created_us":[0-9]+,"sender":[0-9]+,"recipient":[0-9]+,"packets":[0-9]+\}$' &&
  fail "workload has a line that is not a message object"
ok "$SIM" run "$SCEN/testnet-ci.ini" --messages "$T/run-m.jsonl"
# The measured ones (created in [20 s, 180 s) for testnet-ci.ini) are exactly run's messages.
tail -n +2 "$T/w.jsonl" | sed -E 's/^\{"id":([0-9]+),"created_us":([0-9]+),"sender":([0-9]+),"recipient":([0-9]+),.*/\1 \2 \3 \4/' |
  awk '$2 >= 20000000 && $2 < 180000000' | sort >"$T/w.keys"
sed -E 's/.*"id":([0-9]+),"sender":([0-9]+),"recipient":([0-9]+),"packets":[0-9]+,"created_us":([0-9]+),.*/\1 \4 \2 \3/' \
  "$T/run-m.jsonl" | sort >"$T/r.keys"
[ -s "$T/r.keys" ] && cmp -s "$T/w.keys" "$T/r.keys" || fail "workload's measured messages differ from run --messages"
"$SIM" workload "$SCEN/testnet-ci.ini" >"$T/w2.jsonl" 2>/dev/null
cmp -s "$T/w.jsonl" "$T/w2.jsonl" || fail "workload to stdout differs from --out"
expect 2 "--repetition 3 is not one of the scenario's repetitions" "$SIM" workload "$SCEN/testnet-ci.ini" --repetition 3
expect 2 "workload needs a scenario file" "$SIM" workload
expect 1 "corrupt_mix_fraction was removed" "$SIM" workload "$T/old.ini"

# --- attacks over the network ------------------------------------------------------------------
NET_COLUMNS="point,attack,runs,scored_per_run,success_mean,success_ci95,chance,entropy_mean,entropy_ci95,ci_over,others_success_mean,others_success_ci95,others_entropy_mean,others_entropy_ci95,sda_identified_rate,sda_target_sends_mean,sda_target_sends_ci95,sda_target_messages_mean,window_s,held_loops_mean,attacker_packets_mean,latency_mean_ms,overhead,corrupt_mixes_mean"
ok "$SIM" netattack trace "$SCEN/testnet-ci.ini" --vary corrupt_mix_probability=0,1 --repetitions 3 \
   --jobs 1 --out "$T/na1.csv" --messages "$T/na1.jsonl"
header "$T/na1.csv" "corrupt_mix_probability,$NET_COLUMNS"; lines "$T/na1.csv" 3
grep -q "best guess right" "$T/out" || fail "netattack printed no summary: $(cat "$T/out")"
head -1 "$T/na1.jsonl" | grep -q '^{"point":0,"repetition":0,"message":' || fail "bad netattack message lines"
ok "$SIM" netattack trace "$SCEN/testnet-ci.ini" --vary corrupt_mix_probability=0,1 --repetitions 3 \
   --jobs 2 --out "$T/na2.csv" --messages "$T/na2.jsonl"
cmp -s "$T/na1.csv" "$T/na2.csv" || fail "netattack CSV differs between --jobs 1 and 2"
cmp -s "$T/na1.jsonl" "$T/na2.jsonl" || fail "netattack messages differ between --jobs 1 and 2"
for kind in timing sda flood; do
  ok "$SIM" netattack "$kind" "$SCEN/testnet-ci.ini" --repetitions 2 --param exclude_recipient=true \
     --out "$T/na-$kind.csv"
  lines "$T/na-$kind.csv" 2
done
ok "$SIM" netattack --help
expect 2 "netattack needs an attack and a scenario" "$SIM" netattack
expect 2 "unknown network attack 'dos'" "$SIM" netattack dos "$SCEN/testnet-ci.ini"
expect 2 "netattack needs a scenario file" "$SIM" netattack trace
expect 2 "--param: target = 99 is not a client" "$SIM" netattack sda "$SCEN/testnet-ci.ini" --param target=99
expect 2 "unknown network attack field 'bogus'" "$SIM" netattack trace "$SCEN/testnet-ci.ini" --param bogus=1
expect 2 "threshold-timeout" "$SIM" netattack flood "$SCEN/testnet-ci.ini" --set policy=pool
expect 1 "the timing attack learnt from only" "$SIM" netattack timing "$SCEN/testnet-ci.ini" \
  --set burn_in_s=0.5

# --- attacks ------------------------------------------------------------------------------------
ok "$SIM" attack sda --set recipients=200 --set friends=3 --vary batch_size=2,8 --repetitions 4 \
   --out "$T/sda.csv"
header "$T/sda.csv" "point,recipients,batch_size,friends,alice_participation,repetitions,max_alice_rounds,seed,success_rate,alice_rounds_mean,alice_rounds_ci95,alice_rounds_n,total_rounds_mean,total_rounds_ci95,danezis_l2,ratio_l2,danezis_l3,ratio_l3,chance,friend_weight,nonfriend_weight"
lines "$T/sda.csv" 3
grep -q "Danezis's estimate" "$T/out" || fail "sda printed no summary"
ok "$SIM" attack flood --vary policy=threshold-timeout,timed,pool,continuous --repetitions 30 \
   --out "$T/flood.csv"
header "$T/flood.csv" "point,policy,threshold,timeout_us,period_us,keep_fraction,min_keep,mean_delay_us,min_batch,honest_rate_per_s,warmup_s,flood_per_round,max_rounds,mix_loop_rate_per_s,trials,seed,success_rate,success_within_1,success_within_3,success_within_10,detection_rate,attacker_packets_mean,attacker_packets_ci95,attack_s_mean,attack_s_ci95,target_rounds_mean,target_rounds_ci95,honest_flushed_mean,chance"
lines "$T/flood.csv" 5
ok "$SIM" attack timing --set messages=1000 --vary load=1,10 --repetitions 2 --jobs 2 \
   --out "$T/timing.csv"
header "$T/timing.csv" "point,senders,load,mean_delay_s,hops,messages,burn_in_delays,window_delays,repetitions,seed,top1_mean,top1_ci95,top5_mean,top5_ci95,predicted_top1,chance_top1_window,chance_top5_window,chance_input_window,chance_top1_all,chance_top5_all,mean_candidates"
lines "$T/timing.csv" 3
ok "$SIM" attack timing --set messages=1000 --vary load=1,10 --repetitions 2 --jobs 1 \
   --out "$T/timing1.csv"
cmp -s "$T/timing.csv" "$T/timing1.csv" || fail "timing CSV differs between --jobs 1 and 2"

# --- help ---------------------------------------------------------------------------------------
for args in "--help" "run --help" "sweep --help" "attack --help" "keys"; do
  # shellcheck disable=SC2086
  ok "$SIM" $args
done
for kind in sda flood timing; do
  ok "$SIM" attack "$kind" --help
  grep -q "seed" "$T/out" || fail "attack $kind --help lists no fields"
done

# --- bad input ----------------------------------------------------------------------------------
printf 'clients = 10\n\n# a comment\nbach_size = 3\n' >"$T/typo.ini"
printf 'clients = 10\nreal_rate_per_s = -1\n' >"$T/negative.ini"
printf 'topology = cascades\ncascades = 4\nmixes_per_layer = 2\n' >"$T/topology.ini"
printf '[network]\nclients = 10\n' >"$T/section.ini"
expect 1 "typo.ini:4: unknown key 'bach_size'" "$SIM" sweep "$T/typo.ini" --vary clients=10,20
expect 1 "negative.ini:2: real_rate_per_s = '-1'" "$SIM" sweep "$T/negative.ini"
expect 1 "topology.ini:2: cascades = 4 is more than mixes_per_layer = 2" "$SIM" run "$T/topology.ini"
expect 1 "section.ini:1: section header" "$SIM" sweep "$T/section.ini"
expect 1 "cannot read scenario file $T/missing.ini" "$SIM" sweep "$T/missing.ini" --vary clients=3
expect 1 "cannot write $T/no/dir.csv" "$SIM" sweep "$T/tiny.ini" --out "$T/no/dir.csv"
expect 2 "unknown scenario key 'bogus'" "$SIM" sweep "$T/tiny.ini" --vary bogus=1,2
expect 2 "list of values for 'clients' is empty" "$SIM" sweep "$T/tiny.ini" --vary clients=
expect 2 "value 2 in the list for 'clients' is empty" "$SIM" sweep "$T/tiny.ini" --vary clients=5,,6
expect 2 "clients = 'abc' is not allowed" "$SIM" sweep "$T/tiny.ini" --vary clients=10,abc
expect 2 "real_rate_per_s = '-1' is not allowed" "$SIM" sweep "$T/tiny.ini" --vary real_rate_per_s=1,-1
expect 2 "'clients' is not KEY=V1,V2" "$SIM" sweep "$T/tiny.ini" --vary clients
expect 2 "'clients' is varied twice" "$SIM" sweep "$T/tiny.ini" --vary clients=10 --vary clients=20
expect 2 "repetitions cannot be varied" "$SIM" sweep "$T/tiny.ini" --vary repetitions=1,2
expect 2 "point 1 (topology=cascades, cascades=4): cascades = 4" \
  "$SIM" sweep "$T/tiny.ini" --vary topology=cascades --vary cascades=1,4
expect 2 "--set real_rate_per_s=-1" "$SIM" sweep "$T/tiny.ini" --set real_rate_per_s=-1
expect 2 "--set layers=0: layers = '0'" "$SIM" run "$T/tiny.ini" --set layers=0
expect 2 "expected KEY=VALUE" "$SIM" sweep "$T/tiny.ini" --set layers
expect 2 "--repetitions '0'" "$SIM" sweep "$T/tiny.ini" --repetitions 0
expect 2 "--repetitions '100001'" "$SIM" sweep "$T/tiny.ini" --repetitions 100001
expect 2 "--jobs 'x'" "$SIM" sweep "$T/tiny.ini" --jobs x
expect 2 "--seed '-1'" "$SIM" sweep "$T/tiny.ini" --seed -1
expect 2 "unrecognised option '--bogus'" "$SIM" sweep "$T/tiny.ini" --bogus
expect 2 "sweep needs a scenario file" "$SIM" sweep
expect 2 "at most 100000 are allowed" "$SIM" sweep "$T/tiny.ini" --repetitions 1000 \
  --vary "batch_size=$(seq -s, 1 101)"
expect 2 "no command given" "$SIM"
expect 2 "unknown command 'frobnicate'" "$SIM" frobnicate
expect 2 "attack needs a kind" "$SIM" attack
expect 2 "unknown attack 'dos'" "$SIM" attack dos
expect 2 "sda field recipients = '-5'" "$SIM" attack sda --set recipients=-5
expect 2 "unknown sda field 'bogus'" "$SIM" attack sda --set bogus=1
expect 2 "sda field batch_size = '1'" "$SIM" attack sda --vary batch_size=1,2
expect 2 "list of values for 'batch_size' is empty" "$SIM" attack sda --vary batch_size=
expect 2 "sda field friends = 2000" "$SIM" attack sda --set friends=2000
expect 2 "point 1 (recipients=100): sda field friends" \
  "$SIM" attack sda --set friends=150 --vary recipients=1000,100
expect 2 "flood field policy = 'nope'" "$SIM" attack flood --set policy=nope
expect 2 "both set trials" "$SIM" attack flood --set trials=5 --repetitions 5
expect 2 "flood field keep_fraction = '1'" "$SIM" attack flood --set keep_fraction=1
expect 2 "timing field load = '0'" "$SIM" attack timing --set load=0
expect 2 "timing field repetitions = '1001'" "$SIM" attack timing --repetitions 1001
expect 2 "repetitions cannot be varied" "$SIM" attack timing --vary repetitions=1,2
expect 2 "timing field hops = 'x'" "$SIM" attack timing --vary hops=1,x

echo "$fails failed"
[ "$fails" -eq 0 ]
