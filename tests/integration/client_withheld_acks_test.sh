#!/usr/bin/env bash
# A provider that withholds acks (issue 9, leak 3): Alice queues N messages to Bob and her
# provider is frozen (SIGSTOP) for STOP_S seconds, long enough that her client resends, gives
# up on packets, drops the connection and makes it again. Then:
#   - her own counters show resends AND give-ups of cover and of real packets alike (the same
#     rule for both: a packet without ack is resent byte for byte, then given up);
#   - Bob, who was down meanwhile, has every message exactly once in his history;
#   - no two items in Bob's mailbox at his provider (read from its RocksDB after stopping it,
#     before Bob fetched anything) carry the same bytes: a message given up on was sealed again
#     (fresh ciphertext), never sent again around the same bytes.
set -uo pipefail
BIN="${1:?usage: client_withheld_acks_test.sh BUILD_DIR}"
source "$(dirname "$0")/client_common.sh"
DUMP="$BIN/tests/sotto-test-mailbox-dump"
[ -x "$DUMP" ] || die "$DUMP is not built (cmake --build $BIN --target sotto-test-mailbox-dump)"

# Cover and payload streams at 4/s each, so that both kinds are in flight when the provider
# stops; the freeze outlasts a packet's 3 sends (6 s) and the client's 10 s silence limit.
N=20; STOP_S=14
start_net --set send-rate-per-min=240 --set cover-loop-per-min=120 --set cover-drop-per-min=120 \
          --set fetch-interval-ms=500
new_user alice provider-1 --no-passphrase
new_user bob provider-2 --no-passphrase
introduce alice bob
st() { s alice status --json | json "$1"; }
started() { [ "$(st 'd["packets"]["total"]')" -gt 5 ] && [ "$(st 'd["connected"]')" = True ]; }
wait_until 30 "alice's traffic flows" started
mailbox_hex() {
  s "$1" contact code --json | json 'd["compact"]' | "$PY" -c '
import base64,sys
c=sys.stdin.read().strip()[6:].upper(); c += "=" * (-len(c) % 8)
print(base64.b32decode(c)[97:129].hex())'
}
MB_BOB="$(mailbox_hex bob)"; [ ${#MB_BOB} -eq 64 ] || die "bob's mailbox id"
s bob down >/dev/null || die "bob down"  # his mail stays at provider-2, unacknowledged

P1="$(cat "$NET/provider-1/pid")"
for i in $(seq 1 "$N"); do s alice send bob "withheld $i" >/dev/null || die "send $i"; done
kill -STOP "$P1"
ok "provider-1 frozen with $N messages queued at alice"
sleep "$STOP_S"
kill -CONT "$P1"
ok "provider-1 resumed after ${STOP_S}s"
drained() { [ "$(st 'd["queue"]')" -eq 0 ] && [ "$(st 'd["packets"]["pending_acks"]')" -lt 20 ]; }
wait_until 120 "alice's queue drains" drained
status="$(s alice status --json)"
p() { json "$1" <<<"$status"; }
echo "alice: sent $(p 'd["packets"]["real"]') real, $(p 'd["packets"]["loop"]') loop, $(p 'd["packets"]["drop"]') drop; resent $(p 'd["packets"]["resent"]'); given up $(p 'd["packets"]["given_up"]'); sealed again $(p 'd["reseals"]'); late acks $(p 'd["packets"]["late_acks"]')"
[ "$(p 'd["packets"]["resent"]["real"]')" -gt 0 ] || die "no real packet was resent"
[ "$(p 'd["packets"]["resent"]["cover"]')" -gt 0 ] || die "no cover packet was resent"
[ "$(p 'd["packets"]["given_up"]["cover"]')" -gt 0 ] || die "no cover packet was given up"
[ "$(p 'd["packets"]["given_up"]["real"]')" -gt 0 ] || die "no real packet was given up (freeze too short?)"
ok "real and cover packets were both resent and both given up"

# Let the mixes deliver what they hold, then read Bob's mailbox at provider-2 before he fetches.
delivered() { grep -hE '^sotto_messages_delivered_total' -r "$NET/provider-2" 2>/dev/null | awk '{s+=$2} END {exit !(s >= n)}' n="$N"; }
wait_until 60 "provider-2 stores the messages" delivered
sleep 3
P2="$(cat "$NET/provider-2/pid")"
kill -TERM "$P2"; for _ in $(seq 1 50); do kill -0 "$P2" 2>/dev/null || break; sleep 0.1; done
kill -0 "$P2" 2>/dev/null && die "provider-2 did not stop"
"$DUMP" "$NET/provider-2/data/store" "$MB_BOB" > "$T/mailbox.txt" || die "cannot read provider-2's store"
read -r _ items _ distinct < <(head -1 "$T/mailbox.txt")
echo "bob's mailbox at provider-2: $items items, $distinct distinct"
[ "$items" -ge "$N" ] || die "only $items items reached bob's mailbox ($N messages sent)"
[ "$items" -eq "$distinct" ] || die "$((items - distinct)) mailbox items are byte-identical copies"
ok "no two items in bob's mailbox carry the same bytes ($items items for $N messages)"
# Positive control: the same check on a copy of the store with one item stored twice (what the
# client before issue 9 did when it sent a message again) must see the copy.
cp -a "$NET/provider-2/data/store" "$T/store-copy"
"$DUMP" "$T/store-copy" "$MB_BOB" --add-copy-of-first > "$T/mailbox-control.txt" || die "control dump"
read -r _ c_items _ c_distinct < <(head -1 "$T/mailbox-control.txt")
[ "$c_items" -eq $((items + 1)) ] && [ "$c_distinct" -eq "$distinct" ] \
  || die "the check did not see an item stored twice ($c_items items, $c_distinct distinct)"
ok "positive control: an item stored twice is seen ($c_items items, $c_distinct distinct)"

"$BIN/mixnode/sotto-mixnode" run --config "$NET/provider-2/node.ini" >>"$NET/provider-2/log" 2>&1 &
echo $! > "$NET/provider-2/pid"
s bob up >/dev/null || die "bob up"
texts() { s bob history alice --limit 1000 --json | json '[m["text"] for m in d["messages"] if m["direction"]=="in"]'; }
all_in() { [ "$(texts | json 'len(d)')" -ge "$N" ]; }
wait_until 90 "bob receives all $N messages" all_in
sleep 3  # any duplicate still in the mailbox would arrive now
texts > "$T/texts.json"
"$PY" - "$T/texts.json" "$N" <<'PYEOF' || die "bob's history does not hold every message exactly once"
import collections, json, sys
texts = json.load(open(sys.argv[1])); n = int(sys.argv[2])
c = collections.Counter(texts)
want = {f"withheld {i}" for i in range(1, n + 1)}
print(f"bob's history: {len(texts)} incoming, {len(c)} distinct")
sys.exit(0 if set(c) == want and all(v == 1 for v in c.values()) else 1)
PYEOF
echo "bob dropped $(s bob status --json | json 'd["duplicates"]') duplicate(s) by message id"
ok "every message arrived exactly once"
[ "$fails" -eq 0 ] || die "$fails check(s) failed"
echo "client withheld-acks test: all passed"
