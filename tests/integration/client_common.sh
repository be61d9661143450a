# Shared by the client integration tests: a private testnet and helpers to drive real `sotto`
# clients against it. Source it after setting BIN (the build folder).
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export SOTTO_BIN="$BIN"
SOTTO="$BIN/cli/sotto"
PY=/usr/bin/python3
umask 077  # like a careful user: passphrase files and homes private
T="$(mktemp -d /tmp/sotto-client-test-XXXXXX)"
NET="$T/net"
fails=0

CAP_PID=""
BG_PIDS=()  # other background helpers a test started (killed at the end)
cleanup() {
  local rc=$?
  for h in "$T"/home-*; do  # stop the daemons, then look for sanitizer or crash reports
    [ -d "$h" ] && "$SOTTO" --home "$h" down >/dev/null 2>&1
    if grep -qE "AddressSanitizer|LeakSanitizer|runtime error:|terminate called" "$h/sotto.log" 2>/dev/null; then
      echo "FAIL: a daemon reported a memory error or crash ($h/sotto.log):" >&2
      grep -E -A12 "AddressSanitizer|LeakSanitizer|runtime error:|terminate called" "$h/sotto.log" | head -40 >&2
      rc=1
    fi
  done
  [ -n "$CAP_PID" ] && kill -TERM "$CAP_PID" 2>/dev/null && wait "$CAP_PID" 2>/dev/null
  for p in "${BG_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  "$ROOT/scripts/testnet.sh" stop --state "$NET" >/dev/null 2>&1 || true
  for h in "$T"/home-*; do  # a daemon that would not stop
    [ -f "$h/daemon.pid" ] && kill -9 "$(cat "$h/daemon.pid")" 2>/dev/null
  done
  rm -rf "$T"
  exit $rc
}
trap cleanup EXIT

die() { echo "FAIL: $*" >&2; for l in "$T"/home-*/sotto.log; do [ -f "$l" ] && { echo "--- $l" >&2; grep -v "^$" "$l" | tail -n 15 >&2; }; done; exit 1; }
ok() { echo "ok [${SECONDS}s]: $*"; }

# start_net [testnet.sh options]
start_net() { "$ROOT/scripts/testnet.sh" start --state "$NET" "$@" >"$T/testnet.log" 2>&1 || { cat "$T/testnet.log"; die "testnet start"; }; }

# s USER ARGS... : run sotto as USER (its own home)
s() { local u="$1"; shift; "$SOTTO" --home "$T/home-$u" "$@"; }

# json EXPR : evaluate a Python expression on the JSON read from stdin (as d)
json() { "$PY" -c 'import json,sys; d=json.load(sys.stdin); r=eval(sys.argv[1]); print(r if not isinstance(r,(dict,list)) else json.dumps(r, ensure_ascii=False))' "$1"; }

# wait_until SECONDS DESCRIPTION COMMAND... : poll until COMMAND succeeds
wait_until() {
  local secs="$1" what="$2"; shift 2
  local end=$(( $(date +%s) + secs ))
  while [ "$(date +%s)" -lt "$end" ]; do "$@" >/dev/null 2>&1 && return 0; sleep 0.5; done
  die "timed out after ${secs}s waiting for: $what"
}

# expect EXIT_CODE PATTERN CMD... : CMD exits with EXIT_CODE and prints PATTERN (stdout+stderr)
expect() {
  local want="$1" pattern="$2"; shift 2
  local out; out="$("$@" 2>&1)"; local rc=$?
  if [ "$rc" -ne "$want" ] || ! grep -q -- "$pattern" <<<"$out"; then
    echo "FAIL: $* → rc=$rc (want $want), output: $out"; fails=$((fails + 1))
  else
    echo "ok: $* → $rc: $(head -n1 <<<"$out")"
  fi
}

# new_user NAME PROVIDER [init options] : init + up. Receipts leave after a short random delay
# (RECEIPT_DELAY_S, 2 s on average) so that tests see them; the client's default is 900 s.
new_user() {
  local u="$1" p="$2"; shift 2
  s "$u" init --config "$NET/client.ini" --provider "$p" --receipt-delay-s "${RECEIPT_DELAY_S:-2}" "$@" >"$T/init-$u.log" 2>&1 || { cat "$T/init-$u.log"; die "init $u"; }
  s "$u" up ${UP_OPTS[$u]:-} >"$T/up-$u.log" 2>&1 || { cat "$T/up-$u.log"; die "up $u"; }
}
declare -A UP_OPTS

# introduce A B : A and B exchange contact codes (out of band: through this script)
introduce() {
  local ca cb
  ca="$(s "$1" contact code --json | json 'd["code"]')"; cb="$(s "$2" contact code --json | json 'd["code"]')"
  s "$1" contact add "$2" "$cb" >/dev/null || die "$1 adds $2"
  s "$2" contact add "$1" "$ca" >/dev/null || die "$2 adds $1"
}

# identity_hex USER : the raw identity key inside USER's contact code (base32 after "sotto1")
identity_hex() {
  s "$1" contact code --json | json 'd["compact"]' | "$PY" -c '
import base64,sys
c=sys.stdin.read().strip()[6:].upper(); c += "=" * (-len(c) % 8)
print(base64.b32decode(c)[1:33].hex())'
}
