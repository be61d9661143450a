#!/usr/bin/env bash
# Bad input and failures, with the real `sotto` against a real testnet: each case gives its
# one-line error and exit code, and leaves contacts, queue and history as they were.
# Exit codes: 2 usage/invalid input, 3 daemon not running, 4 no such contact, 5 network.
set -uo pipefail
BIN="${1:?usage: client_errors_test.sh BUILD_DIR}"
source "$(dirname "$0")/client_common.sh"

expect 3 "not running" s nobody status
expect 2 "sotto init" s nobody up
expect 5 "directory" s nobody init --directory tcp://127.0.0.1:9 --directory-link-key "$(printf '%064d' 0)" \
    --directory-verify-key "$(printf '%064d' 0)" --no-passphrase
[ ! -e "$T/home-nobody/state.key" ] || die "a failed init left a state key behind"

start_net --set send-rate-per-min=240 --set fetch-interval-ms=500
# A forged directory: the right address, a different verify key.
sed "s/^directory-verify-key = .*/directory-verify-key = $(printf 'ab%.0s' $(seq 1 32))/" "$NET/client.ini" > "$T/forged.ini"
expect 5 "refused" s mallory init --config "$T/forged.ini" --no-passphrase
[ ! -e "$T/home-mallory/state.key" ] || die "init against a forged directory left state behind"
expect 2 "passphrase" s nopass init --config "$NET/client.ini" </dev/null
expect 2 "provider" s alice init --config "$NET/client.ini" --provider no-such-provider --no-passphrase

new_user alice provider-1 --no-passphrase
printf 'a good long passphrase\n' > "$T/bob.pass"; printf 'the wrong passphrase\n' > "$T/wrong.pass"
UP_OPTS[bob]="--passphrase-file $T/bob.pass"
new_user bob provider-2 --passphrase-file "$T/bob.pass"
introduce alice bob
expect 2 "already" s alice init --config "$NET/client.ini" --no-passphrase
expect 0 "already running" s alice up
s alice send bob "first message" >/dev/null || die "send"
wait_until 60 "bob receives the first message" bash -c "'$SOTTO' --home '$T/home-bob' inbox --peek --json | grep -q 'first message'"

snapshot() {  # USER : contacts + history + queue length, for "state left intact"
  { s "$1" contact list --json; s "$1" history "$2" --json | json '[(m["id"], m["text"], m["direction"]) for m in d["messages"]]'; } 2>&1
}
before="$(snapshot alice bob)"
CODE="$(s bob contact code --json | json 'd["code"]')"
# one character changed in the middle of the code: the checksum catches it
BAD="$("$PY" -c 'import sys; c=sys.argv[1]; i=len(c)//2; ch="a" if c[i]!="a" else "b"; print(c[:i]+ch+c[i+1:])' "$CODE")"
expect 2 "checksum" s alice contact add bob2 "$BAD"
expect 2 "sotto1" s alice contact add bob2 "hello"
expect 2 "already" s alice contact add bob "$CODE"
expect 2 "name" s alice contact add "bad name!" "$CODE"
expect 4 "no contact named 'carol'" s alice send carol "hi"
expect 4 "carol" s alice history carol
expect 4 "carol" s alice contact remove carol
expect 2 "UTF-8" bash -c "printf 'caf\\xc3\\x28' | '$SOTTO' --home '$T/home-alice' send bob"
expect 2 "at most" s alice send bob "$(head -c 3000 /dev/zero | tr '\0' x)"
expect 2 "" s alice send bob ""
expect 2 "" s alice frobnicate
expect 2 "" s alice send
expect 2 "expire" s alice send bob --expire 10y "x"
after="$(snapshot alice bob)"
[ "$before" = "$after" ] || die "state changed by rejected input:\n$before\n---\n$after"
ok "rejected input left alice's contacts and history intact"

# The daemon not running: commands say so; nothing is lost.
s alice down >/dev/null
expect 3 "sotto up" s alice send bob "while down"
expect 3 "sotto up" s alice inbox
s alice up >/dev/null || die "alice up"
[ "$before" = "$(snapshot alice bob)" ] || die "state changed across down/up"

# Bob's wrong passphrase: a clear refusal, the daemon stays down, nothing changes.
s bob down >/dev/null
expect 2 "wrong passphrase" s bob up --passphrase-file "$T/wrong.pass"
cp "$T/bob.pass" "$T/open.pass"; chmod 644 "$T/open.pass"
expect 2 "chmod 600" s bob up --passphrase-file "$T/open.pass"
expect 3 "not running" s bob status
s bob up --passphrase-file "$T/bob.pass" >/dev/null || die "bob up"

# Provider unreachable: Alice's provider stops; her message waits in the queue (nothing lost),
# her status says what is wrong; when the provider is back the message goes out.
kill -TERM "$(cat "$NET/provider-1/pid")"
sleep 2
expect 0 "" s alice send bob "sent while my provider is down"
queue_not_empty() { [ "$(s alice status --json | json 'd["queue"]')" -ge 1 ]; }
sleep 3; queue_not_empty || die "the message left the queue although the provider is down"
s alice status --json | json 'd["last_error"]' | grep -qi "provider" || die "status does not name the provider problem"
ok "with the provider down the message waits in the queue and status says why"
"$BIN/mixnode/sotto-mixnode" run --config "$NET/provider-1/node.ini" >>"$NET/provider-1/log" 2>&1 &
echo $! > "$NET/provider-1/pid"
wait_until 90 "the queued message arrives once the provider is back" bash -c "'$SOTTO' --home '$T/home-bob' inbox --peek --json | grep -q 'provider is down'"
ok "the queued message was delivered after the provider came back"

[ "$fails" -eq 0 ] || die "$fails check(s) failed"
echo "client errors test: all passed"
