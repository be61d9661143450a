#!/usr/bin/env bash
# Cover traffic: the number of packets a client sends in a window must not depend on how many
# real messages it sends (a real message takes the place of a cover packet), and every packet has
# the same size. Two windows of about W seconds each: one idle, one in which N messages are
# queued at its start. Each window's length is measured (the N `sotto send` calls lengthen the
# busy one, by seconds on a loaded machine), and its count must match the consensus rate λ times
# that length within 4 standard deviations of a Poisson count; the two counts, scaled to one
# length, must agree within 4 standard deviations of their difference — while N is chosen well
# above that tolerance, so a client that sent real messages on top of its cover traffic would
# fail.
set -uo pipefail
BIN="${1:?usage: client_cover_test.sh BUILD_DIR}"
source "$(dirname "$0")/client_common.sh"

SEND=480; LOOP=30; DROP=30; W=20; N=120
start_net --set send-rate-per-min=$SEND --set cover-loop-per-min=$LOOP --set cover-drop-per-min=$DROP \
          --set fetch-interval-ms=1000
new_user alice provider-1 --no-passphrase
new_user bob provider-2 --no-passphrase
introduce alice bob
total() { s alice status --json | json 'd["packets"]["total"]'; }
started() { [ "$(total)" -gt 0 ]; }
wait_until 30 "alice's cover traffic starts" started

# A count and the time it was read (the `status` call between them takes milliseconds).
now() { date +%s.%N; }
sleep 2
ta0="$(now)"; a0="$(total)"; sleep "$W"; ta1="$(now)"; a1="$(total)"
for i in $(seq 1 "$N"); do echo "message $i"; done > "$T/msgs"
tb0="$(now)"; b0="$(total)"
while read -r line; do s alice send bob "$line" >/dev/null || die "send"; done < "$T/msgs"
queued_at_start="$(s alice status --json | json 'd["queue"]')"
sleep "$W"; tb1="$(now)"; b1="$(total)"
status="$(s alice status --json)"
idle=$((a1 - a0)); busy=$((b1 - b0))
real="$(json 'd["packets"]["real"]' <<<"$status")"
echo "idle window: $idle packets; busy window: $busy packets ($real real in total; $N queued, $queued_at_start of them still waiting when the last send returned)"
"$PY" - "$idle" "$busy" "$SEND" "$LOOP" "$DROP" "$N" "$ta0" "$ta1" "$tb0" "$tb1" <<'PYEOF' || die "packet counts depend on real traffic"
import math, sys
idle, busy, send, loop, drop, n = map(int, sys.argv[1:7])
ta0, ta1, tb0, tb1 = map(float, sys.argv[7:])
rate = (send + loop + drop) / 60
wi, wb = ta1 - ta0, tb1 - tb0
li, lb = rate * wi, rate * wb
# The busy count scaled to the idle window's length: Var = λ·wi + λ·wb·(wi/wb)^2.
scaled = busy * wi / wb
diff_tol = 4 * math.sqrt(li + lb * (wi / wb) ** 2)
print(f"idle window {wi:.1f} s: expected {li:.0f} ± {4 * math.sqrt(li):.0f}; "
      f"busy window {wb:.1f} s: expected {lb:.0f} ± {4 * math.sqrt(lb):.0f}; "
      f"busy scaled to the idle window {scaled:.0f}, difference tolerance {diff_tol:.0f}; "
      f"real messages {n}")
assert n * wi / wb > diff_tol, "the test is too weak: N must exceed the tolerance"
ok = (abs(idle - li) <= 4 * math.sqrt(li) and abs(busy - lb) <= 4 * math.sqrt(lb)
      and abs(scaled - idle) <= diff_tol)
sys.exit(0 if ok else 1)
PYEOF
ok "the packet count does not depend on real messages"
# A packet the provider did not take in time (a loaded machine) is retried later; more than a few
# would mean the counts above measured attempts rather than packets sent.
failed="$(json 'd["packets"]["failed"]' <<<"$status")"; sent="$(json 'd["packets"]["total"]' <<<"$status")"
if [ "$failed" -gt 0 ]; then
  echo "note: $failed of $((sent + failed)) packets were not taken at the first attempt:"
  grep -i "provider" "$T/home-alice/sotto.log" | tail -n 3
fi
[ $((failed * 20)) -le "$sent" ] || die "$failed packets were not taken by the provider (more than 5%)"
[ "$(json 'd["packets"]["bytes_each"]' <<<"$status")" -gt 2000 ] || die "bytes_each"
loops_back() { [ "$(s alice status --json | json 'd["loops"]["returned"]')" -gt 0 ]; }
wait_until 30 "alice's loop cover returns" loops_back
ok "loop cover packets come back to alice"
all_in() { [ "$(s bob status --json | json 'd["received"]')" -ge "$N" ]; }
wait_until 90 "bob receives all $N messages" all_in
ok "all $N real messages arrived"

# All packets one size: every Sphinx packet the provider took is stored whole in its RocksDB
# until forwarded, and the client's counter reports one size; the wire check is in the chat test.
[ "$fails" -eq 0 ] || die "$fails check(s) failed"
echo "client cover-traffic test: all passed"
