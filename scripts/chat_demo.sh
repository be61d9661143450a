#!/usr/bin/env bash
# Alice and Bob chat through a running local testnet with the real `sotto` client, every step
# shown as the command a person would type (see README.md, "Chat by hand").
#
#   scripts/chat_demo.sh [--state DIR]     (the testnet's state folder; default .testnet)
#
# Their homes are DIR/alice and DIR/bob; both daemons are stopped at the end.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BIN="${SOTTO_BIN:-$ROOT/build}"
STATE="$ROOT/.testnet"
while [ $# -gt 0 ]; do
  case "$1" in
    --state) STATE="$(realpath -m "$2")"; shift 2 ;;
    -h|--help) sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "chat_demo: unknown option '$1'" >&2; exit 2 ;;
  esac
done
[ -f "$STATE/client.ini" ] || { echo "chat_demo: no testnet in $STATE (run scripts/testnet.sh start)" >&2; exit 1; }
[ -x "$BIN/cli/sotto" ] || { echo "chat_demo: $BIN/cli/sotto is not built" >&2; exit 1; }

sotto() { "$BIN/cli/sotto" "$@"; }
# show WHO COMMAND... : print the command as typed, then run it
show() {
  local who="$1"; shift
  local shown=() a
  for a in "$@"; do
    case "$a" in --home) continue ;; "$STATE"/alice|"$STATE"/bob) continue ;; esac
    a="${a//$STATE\//}"
    if [[ "$a" == *[[:space:]\'\"\!\$]* ]]; then shown+=("'${a//\'/\'\\\'\'}'"); else shown+=("$a"); fi
  done
  printf '\n\033[1m%s$ sotto %s\033[0m\n' "$who" "${shown[*]}"
  sotto "$@"
}
A=(--home "$STATE/alice"); B=(--home "$STATE/bob")
cleanup() { sotto "${A[@]}" down >/dev/null 2>&1 || true; sotto "${B[@]}" down >/dev/null 2>&1 || true; }
trap cleanup EXIT
rm -rf "$STATE/alice" "$STATE/bob"
printf 'a demo passphrase for Bob\n' > "$STATE/bob.pass"; chmod 600 "$STATE/bob.pass"

echo "Alice and Bob each create an identity and register with a provider from the consensus."
echo "(Alice has no passphrase; Bob's state is encrypted with one, read here from a file.)"
show alice "${A[@]}" init --config "$STATE/client.ini" --provider provider-1 --no-passphrase
show bob "${B[@]}" init --config "$STATE/client.ini" --provider provider-2 --passphrase-file "$STATE/bob.pass"
show alice "${A[@]}" up
show bob "${B[@]}" up --passphrase-file "$STATE/bob.pass"

echo
echo "They swap contact codes out of band (in person, by phone, by QR code). Alice's:"
show alice "${A[@]}" contact code
CODE_A="$(sotto "${A[@]}" contact code --json | sed -n 's/.*"code":"\([^"]*\)".*/\1/p')"
CODE_B="$(sotto "${B[@]}" contact code --json | sed -n 's/.*"code":"\([^"]*\)".*/\1/p')"
show alice "${A[@]}" contact add bob "$CODE_B"
show bob "${B[@]}" contact add alice "$CODE_A"

show alice "${A[@]}" send bob "Hi Bob 👋 — this went through three mixes, hidden among cover packets."
show alice "${A[@]}" send bob "Привет · مرحبا · 你好 🌍"
echo
echo "Bob's client fetches his mailbox at a steady rate; waiting for the mixes to let them through…"
for _ in $(seq 1 60); do
  [ "$(sotto "${B[@]}" inbox --peek --json | grep -o '"from":"alice"' | wc -l)" -ge 2 ] && break
  sleep 1
done
[ "$(sotto "${B[@]}" inbox --peek --json | grep -o '"from":"alice"' | wc -l)" -ge 2 ] \
  || { echo "chat_demo: Bob did not receive Alice's messages within 60 s (see $STATE/*/log, $STATE/bob/sotto.log)" >&2; exit 1; }
show bob "${B[@]}" inbox
show bob "${B[@]}" send alice "Hi Alice! Got both 🎉"
for _ in $(seq 1 60); do
  sotto "${A[@]}" inbox --peek --json | grep -q '"from":"bob"' && break
  sleep 1
done
sotto "${A[@]}" inbox --peek --json | grep -q '"from":"bob"' \
  || { echo "chat_demo: Alice did not receive Bob's reply within 60 s" >&2; exit 1; }
show alice "${A[@]}" inbox
for _ in $(seq 1 30); do
  [ "$(sotto "${A[@]}" history bob --json | grep -o '"status":"delivered"' | wc -l)" -ge 2 ] && break
  sleep 1
done
show alice "${A[@]}" history bob
show alice "${A[@]}" status
show alice "${A[@]}" down
show bob "${B[@]}" down
trap - EXIT
