#!/usr/bin/env bash
# Two people start from nothing and talk through a real testnet with the real `sotto` client:
# Alice (provider-1, no passphrase) and Bob (provider-2, passphrase) exchange contact codes and
# messages both ways — emoji and a string in three scripts — see them with `inbox --json`, get
# delivery receipts, and keep their history across a daemon restart. Meanwhile the loopback
# interface is captured (as root): no plaintext and no identity key may appear in any byte sent,
# all Sphinx packets on Alice's link have one size, every fetch there (`sotto init`'s included)
# got an 8-item MAIL and an ACK, and afterwards no plaintext or identity key
# may be found in any node's RocksDB files or logs, nor plaintext in the clients' own files.
set -uo pipefail
BIN="${1:?usage: client_chat_test.sh BUILD_DIR}"
source "$(dirname "$0")/client_common.sh"

start_net --set send-rate-per-min=240 --set fetch-interval-ms=500
P1_PORT="$(sed 's/.*://' "$NET/provider-1/data/endpoint")"

CAPTURE=0
if [ "$(id -u)" -eq 0 ]; then
  "$PY" "$ROOT/tests/integration/wire_capture.py" record --out "$T/wire.pcap" --seconds 300 &
  CAP_PID=$!
  for _ in $(seq 1 50); do [ -e "$T/wire.pcap.ready" ] && break; sleep 0.1; done
  [ -e "$T/wire.pcap.ready" ] && CAPTURE=1 || echo "capture did not start; wire checks skipped"
else
  echo "not root: the loopback capture is skipped (RocksDB and log checks still run)"
fi

new_user alice provider-1 --no-passphrase
printf 'correct horse battery staple\n' > "$T/bob.pass"
UP_OPTS[bob]="--passphrase-file $T/bob.pass"
new_user bob provider-2 --passphrase-file "$T/bob.pass"
ok "alice and bob initialised and up"
introduce alice bob
s alice contact list --json | json '[c["name"] for c in d["contacts"]]' | grep -q bob || die "alice's contacts"
ok "contact codes exchanged"

M1='Hello Bob 👋🏽 — this crossed a cascade 🌍'
M2='Привет · مرحبا · 你好'
M3='Hi Alice! Ελληνικά too 🎉'
s alice send bob "$M1" >/dev/null || die "alice send 1"
printf '%s\n' "$M2" | s alice send bob >/dev/null || die "alice send 2 (stdin)"
bob_has() { s bob inbox --peek --json | json "len([m for m in d['messages'] if m['from']=='alice'])" | grep -qx "$1"; }
wait_until 60 "bob receives 2 messages" bob_has 2
s bob inbox --json > "$T/bob-inbox.json" || die "bob inbox"
json '[m["text"] for m in d["messages"]]' < "$T/bob-inbox.json" > "$T/bob-texts"
grep -qF "$M1" "$T/bob-texts" || die "M1 not in bob's inbox: $(cat "$T/bob-texts")"
grep -qF "$M2" "$T/bob-texts" || die "M2 not in bob's inbox: $(cat "$T/bob-texts")"
ok "bob's inbox --json has both messages, emoji and three scripts intact"
[ "$(s bob inbox --json | json 'len(d["messages"])')" = 0 ] || die "inbox shows messages twice"
ok "inbox marks messages read"

s bob send alice "$M3" >/dev/null || die "bob send"
alice_has() { s alice inbox --peek --json | json "[m['text'] for m in d['messages'] if m['from']=='bob']" | grep -qF "$M3"; }
wait_until 60 "alice receives bob's reply" alice_has
ok "bob's reply reached alice"
delivered() { s alice history bob --json | json "sum(1 for m in d['messages'] if m['direction']=='out' and m['status']=='delivered')" | grep -qx 2; }
wait_until 60 "alice sees both messages delivered (receipts)" delivered
ok "delivery receipts arrived"

# (a delivery status may still change while Bob is down: compare ids, directions and texts)
messages() { s bob history alice --json | json '[(m["id"], m["direction"], m["text"]) for m in d["messages"]]'; }
before="$(messages)"
s bob down >/dev/null || die "bob down"
expect 3 "not running" s bob status
s bob up --passphrase-file "$T/bob.pass" >/dev/null || die "bob up again"
after="$(messages)"
[ "$before" = "$after" ] || die "history changed across a restart: $before → $after"
[ "$(s bob history alice --json | json 'len(d["messages"])')" = 3 ] || die "bob's history should hold 3 messages"
ok "bob's history survives a daemon restart"
s alice send bob "after the restart ✓" >/dev/null
wait_until 60 "bob receives after his restart" bash -c "'$SOTTO' --home '$T/home-bob' inbox --peek --json | grep -q 'after the restart'"
ok "the conversation continues after the restart"

# `sotto chat` with its input from a pipe: a typed line goes out, an incoming one is shown.
( sleep 1; printf 'typed in chat 💬\n' ) | s alice chat bob --linger 30 > "$T/alice-chat.out" 2>&1 &
CHAT_PID=$!
wait_until 60 "bob receives the line typed in alice's chat" bash -c "'$SOTTO' --home '$T/home-bob' inbox --peek --json | grep -q 'typed in chat'"
s bob send alice "answer into the chat" >/dev/null
wait_until 30 "alice's chat shows bob's answer" grep -q "answer into the chat" "$T/alice-chat.out"
kill -0 $CHAT_PID 2>/dev/null || die "sotto chat ended early: $(cat "$T/alice-chat.out")"
pkill -TERM -P $CHAT_PID; kill -TERM $CHAT_PID 2>/dev/null; wait $CHAT_PID 2>/dev/null
ok "sotto chat sends typed lines and shows incoming messages"

IK_A="$(identity_hex alice)"; IK_B="$(identity_hex bob)"
[ ${#IK_A} -eq 64 ] && [ ${#IK_B} -eq 64 ] || die "could not read identity keys"
FORBID=(--forbid-hex "$IK_A" --forbid-hex "$IK_B" --forbid-text "$M1" --forbid-text "$M2"
        --forbid-text "$M3" --forbid-text "Hello Bob" --forbid-text "Привет" --forbid-text "after the restart" --forbid-text "typed in chat" --forbid-text "answer into the chat")

if [ "$CAPTURE" -eq 1 ]; then
  kill -TERM "$CAP_PID"; wait "$CAP_PID"
  "$PY" "$ROOT/tests/integration/wire_capture.py" check "$T/wire.pcap" "${FORBID[@]}" \
      || die "plaintext or an identity key on the wire"
  "$PY" "$ROOT/tests/integration/wire_capture.py" check "$T/wire.pcap" \
      --to-port "$P1_PORT" --equal-large-frames || die "Sphinx packets of different sizes on Alice's link"
  ok "the wire carried no plaintext and no identity key; Sphinx packets all one size"
  "$PY" "$ROOT/tests/integration/link_timing.py" fetches "$T/wire.pcap" --provider-port "$P1_PORT" \
      || die "a fetch on Alice's provider link differs from the others (sotto init's registration?)"
  ok "every fetch, sotto init's registration included, asked for 8 items and was acknowledged"
fi

# Everything the nodes keep: RocksDB files, logs, metrics. Then the clients' own files.
"$PY" - "$NET" "$T" "${FORBID[@]}" <<'PYEOF' || die "stored bytes check"
import os, sys
net, t, args = sys.argv[1], sys.argv[2], sys.argv[3:]
needles = []
for flag, val in zip(args[::2], args[1::2]):
    needles.append((flag, val, bytes.fromhex(val) if flag == "--forbid-hex" else val.encode()))
def scan(root, which):
    bad, files = 0, 0
    for d, _, names in os.walk(root):
        for n in names:
            p = os.path.join(d, n)
            if n in ("daemon.sock",): continue
            try: data = open(p, "rb").read()
            except OSError: continue
            files += 1
            for flag, val, b in needles:
                if flag in which and b in data:
                    print(f"found {val[:8]}… in {p}"); bad += 1
    return bad, files
b1, f1 = scan(net, ("--forbid-hex", "--forbid-text"))
b2, f2 = scan(t + "/home-alice", ("--forbid-hex", "--forbid-text"))
b3, f3 = scan(t + "/home-bob", ("--forbid-hex", "--forbid-text"))
print(f"scanned {f1} node files and {f2 + f3} client files")
sys.exit(1 if b1 + b2 + b3 else 0)
PYEOF
ok "no plaintext or identity key in any node's RocksDB, log or metrics; nor in the clients' own files"

[ "$fails" -eq 0 ] || die "$fails check(s) failed"
echo "client chat test: all passed"
