#!/usr/bin/env bash
# What a passive observer of the client's link sees must not depend on what the client does
# (client-spec §9, leak 6 of issue 9). Two clients on provider-1: "busy" receives a message
# every 2 s (and answers every fifth one; receipts on, with a short delay so that they flow
# during the test), "idle" does nothing. The loopback interface is captured (root; exit 77 =
# skip otherwise), each client's TCP connection to provider-1 is told apart by its source port
# (read with `ss`), and link_timing.py compares busy against idle with a two-sample
# Kolmogorov-Smirnov test at alpha = 0.01 on
#   (a) the times between consecutive PACKETs the client sends, and
#   (b) the gap from each MAIL reply to the client's next ACK.
# (The busy client also reads its inbox and sends bursts; see the workload below.)
# The sample size of each is the smallest with power >= 0.9 against the effect recorded on the
# code before the fix (tests/integration/fixtures/link_timing_before.json, see its README); the
# same test on that fixture must reject (positive control).
#
#   client_link_timing_test.sh BUILD_DIR                      the test
#   client_link_timing_test.sh BUILD_DIR --record OUT SECONDS record a fixture (no test)
set -uo pipefail
BIN="${1:?usage: client_link_timing_test.sh BUILD_DIR [--record OUT.json SECONDS]}"
RECORD=""; RECORD_SECS=0
if [ "${2:-}" = "--record" ]; then RECORD="$(realpath -m "${3:?--record OUT SECONDS}")"; RECORD_SECS="${4:?}"; fi
if [ "$(id -u)" -ne 0 ]; then echo "skip: capturing the loopback interface needs root"; exit 77; fi
source "$(dirname "$0")/client_common.sh"
LT="$ROOT/tests/integration/link_timing.py"
FIXTURE="$ROOT/tests/integration/fixtures/link_timing_before.json"
ALPHA=0.01; POWER=0.9; FETCH_MS=500; SEND=240; LOOP=30; DROP=60

if [ -z "$RECORD" ]; then
  # The sample sizes, from the fixture (printed), and the capture time they need.
  "$PY" "$LT" power "$FIXTURE" --alpha $ALPHA --power $POWER | tee "$T/power.txt" || die "power"
  n_pkt="$(sed -n 's/^packet_gaps_s: n for power >= [0-9.]*: \([0-9]*\);.*/\1/p' "$T/power.txt")"
  n_ack="$(sed -n 's/^mail_ack_gaps_s: n for power >= [0-9.]*: \([0-9]*\);.*/\1/p' "$T/power.txt")"
  [ -n "$n_pkt" ] && [ -n "$n_ack" ] || die "the fixture gives no sample size with power $POWER"
  SECS="$("$PY" -c "import math,sys; a,b=int(sys.argv[1]),int(sys.argv[2]); print(math.ceil(max(a/(($SEND+$LOOP+$DROP)/60), b*$FETCH_MS/1000)*1.3)+5)" "$n_pkt" "$n_ack")"
  echo "capture of ${SECS}s for $n_pkt packet gaps and $n_ack MAIL->ACK gaps per client"
else
  SECS="$RECORD_SECS"
fi

start_net --set send-rate-per-min=$SEND --set cover-loop-per-min=$LOOP \
          --set cover-drop-per-min=$DROP --set fetch-interval-ms=$FETCH_MS
P1="$(sed 's/.*://' "$NET/provider-1/data/endpoint")"
# The capture starts before the daemons do: frames can only be told apart from a stream's start.
"$PY" "$ROOT/tests/integration/wire_capture.py" record --out "$T/link.pcap" --ports "$P1" \
    --seconds $((SECS + 90)) > "$T/capture.log" 2>&1 &
CAP_PID=$!
for _ in $(seq 1 50); do [ -e "$T/link.pcap.ready" ] && break; sleep 0.1; done
[ -e "$T/link.pcap.ready" ] || die "the capture did not start: $(cat "$T/capture.log")"
# Which TCP source ports each daemon uses towards provider-1 (sampled: a reconnect opens a new one).
( end=$(( $(date +%s) + SECS + 80 ))
  while [ "$(date +%s)" -lt "$end" ] && [ ! -e "$T/workload.done" ]; do
    ss -Htnp state established "( dport = :$P1 )" 2>/dev/null; sleep 0.5
  done
) > "$T/ss.log" &
SS_PID=$!
BG_PIDS+=("$SS_PID")
RECEIPT_DELAY_S=3  # receipts flow during the test (new_user passes it to `sotto init`)
new_user busy provider-1 --no-passphrase
new_user idle provider-1 --no-passphrase
new_user sender provider-2 --no-passphrase
introduce sender busy
fetched() { [ "$(s "$1" status --json | json 'd["fetches"]')" -gt 2 ]; }
wait_until 30 "busy fetches" fetched busy
wait_until 30 "idle fetches" fetched idle

PID_BUSY="$(cat "$T/home-busy/daemon.pid")"; PID_IDLE="$(cat "$T/home-idle/daemon.pid")"
# The workload: a message to busy every 2 s; busy reads its inbox each time, answers every fifth
# message and, every tenth, sends a burst of 20 messages (a long text pasted as several). Only
# what the link carries from now on is compared.
now() { "$PY" -c 'import time; print(time.time())'; }
user_send() { now >> "$T/busy-sends"; s busy send sender "$1" >/dev/null || die "busy send: $1"; }
: > "$T/busy-sends"
START="$(now)"
end=$(( $(date +%s) + SECS )); i=0
while [ "$(date +%s)" -lt "$end" ]; do
  i=$((i + 1))
  s sender send busy "message $i from sender" >/dev/null || die "send $i"
  s busy inbox --json >/dev/null || die "busy inbox"
  if [ $((i % 5)) -eq 0 ]; then user_send "answer $i"; fi
  if [ $((i % 10)) -eq 0 ]; then for j in $(seq 1 20); do user_send "burst $i.$j"; done; fi
  sleep 2
done
touch "$T/workload.done"; wait "$SS_PID"
kill -TERM "$CAP_PID"; wait "$CAP_PID"; CAP_PID=""
ok "captured ${SECS}s of the link to provider-1 ($i messages to busy)"

ports_of() { awk -v pid="pid=$1," '$0 ~ pid { split($3, a, ":"); print a[length(a)] }' "$T/ss.log" | sort -un | paste -sd, -; }
PB="$(ports_of "$PID_BUSY")"; PI="$(ports_of "$PID_IDLE")"
[ -n "$PB" ] && [ -n "$PI" ] || die "could not tell the clients' connections apart (ss: $(head -3 "$T/ss.log"))"
echo "busy's ports: $PB; idle's ports: $PI"
NOTE="recorded by tests/integration/client_link_timing_test.sh --record at commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?'), ${SECS}s, $i messages to busy"
"$PY" "$LT" extract "$T/link.pcap" --provider-port "$P1" --client "busy=$PB" --client "idle=$PI" \
    --after "$START" --user-sends "busy=$T/busy-sends" --out "$T/live.json" --note "$NOTE" || die "extract"
if [ -n "$RECORD" ]; then
  cp "$T/live.json" "$RECORD" && ok "fixture written to $RECORD"
  exit 0
fi
[ -n "${LINK_TIMING_KEEP:-}" ] && cp "$T/live.json" "$LINK_TIMING_KEEP"  # for a closer look

# Leak 7: every fetch on provider-1's client port — the daemons' and the `sotto init`
# registrations of busy and idle, both inside the capture — got an 8-item MAIL and an ACK.
"$PY" "$LT" fetches "$T/link.pcap" --provider-port "$P1" || die "a fetch of another size, or without ACK"
ok "every fetch, the registrations included, asked for 8 items and was acknowledged"
# Positive control: a fetch of another size (sotto-probe asks for 16 items) is seen.
"$PY" "$ROOT/tests/integration/wire_capture.py" record --out "$T/probe.pcap" --ports "$P1" \
    --seconds 60 > "$T/capture2.log" 2>&1 &
CAP_PID=$!
for _ in $(seq 1 50); do [ -e "$T/probe.pcap.ready" ] && break; sleep 0.1; done
"$BIN/cli/sotto-probe" roundtrip --config "$NET/client.ini" --from-provider provider-2 \
    --to-provider provider-1 --count 1 --timeout-s 30 > "$T/probe.log" 2>&1 || die "sotto-probe: $(tail -3 "$T/probe.log")"
kill -TERM "$CAP_PID"; wait "$CAP_PID"; CAP_PID=""
if "$PY" "$LT" fetches "$T/probe.pcap" --provider-port "$P1" > "$T/probe-check.txt"; then
  cat "$T/probe-check.txt"; die "the check did not see a 16-item fetch"
fi
grep FAIL "$T/probe-check.txt" | head -2
ok "positive control: a fetch of 16 items is seen"
"$PY" "$LT" ks "$T/live.json" --a busy --b idle --alpha $ALPHA --power $POWER --control "$FIXTURE"
rc=$?
[ $rc -eq 3 ] && die "the capture holds too few values for the power claimed (see above)"
[ $rc -eq 0 ] || die "busy and idle links differ (or the positive control did not reject)"
ok "busy and idle links are indistinguishable (KS, alpha $ALPHA, power >= $POWER); the fixture of the leak is rejected"
echo "client link timing test: all passed"
