#!/usr/bin/env bash
# Wrong command lines and configs get a one-line error naming the problem and a non-zero exit,
# never a crash, and never create anything they should not.
set -uo pipefail
BIN="${1:?usage: cli_errors_test.sh BUILD_DIR}"
MIX="$BIN/mixnode/sotto-mixnode"; DIR="$BIN/directory/sotto-directory"; PROBE="$BIN/cli/sotto-probe"
T="$(mktemp -d /tmp/sotto-cli-test-XXXXXX)"; trap 'rm -rf "$T"' EXIT
fails=0
# expect EXIT_CODE PATTERN CMD...
expect() {
  local want="$1" pattern="$2"; shift 2
  local out; out="$("$@" 2>&1)"; local rc=$?
  if [ "$rc" -ne "$want" ] || ! grep -q -- "$pattern" <<<"$out"; then
    echo "FAIL: $* → rc=$rc (want $want), output: $out"; fails=$((fails + 1))
  else
    echo "ok: $*"
  fi
}
zero=$(printf '%064d' 0)
expect 1 "unrecognised option '--bogus'" "$MIX" --bogus
expect 1 "unknown command 'frobnicate'" "$MIX" frobnicate --state-dir "$T/x"
expect 1 "cannot read config file" "$MIX" run --config "$T/missing.ini"
expect 1 "state-dir is required" "$MIX" run --name a
expect 1 "use 1 to 32 characters" "$MIX" init --state-dir "$T/m" --name "Bad Name" --layer 1
[ ! -e "$T/m" ] || { echo "FAIL: init with a bad name created $T/m"; fails=$((fails + 1)); }
expect 1 "layer is required" "$MIX" init --state-dir "$T/m" --name mix-1
expect 1 "directory-link-key" "$MIX" run --state-dir "$T/m" --name a --directory tcp://127.0.0.1:1 --directory-link-key zz --directory-verify-key "$zero"
expect 1 "run 'sotto-mixnode init' first" "$MIX" run --state-dir "$T/empty" --name a --directory tcp://127.0.0.1:1 --directory-link-key "$zero" --directory-verify-key "$zero"
expect 1 "no metrics" "$MIX" status --state-dir "$T/nothing"
expect 0 "created keys" "$MIX" init --state-dir "$T/m2" --name mix-1 --layer 1
expect 1 "refusing to overwrite" "$MIX" init --state-dir "$T/m2" --name mix-1 --layer 1
printf 'state-dir = %s\nname = mix-1\nthis is not ini\n' "$T/m2" > "$T/bad.ini"
expect 1 "see sotto-mixnode --help" "$MIX" run --config "$T/bad.ini"
expect 1 "expected NAME:IDENTITY-KEY-HEX" "$DIR" run --state-dir "$T/d" --node nokey
expect 1 "pool_keep_percent" "$DIR" run --state-dir "$T/d0" --node "a:$zero" --pool-keep-percent 100
expect 1 "no --node given" "$DIR" run --state-dir "$T/d"
expect 2 "usage: sotto-probe" "$PROBE"
expect 1 "64 hex digits" "$PROBE" roundtrip --directory tcp://127.0.0.1:1 --directory-link-key 12 --directory-verify-key 34
expect 1 "count must be 1 to 50" "$PROBE" roundtrip --count 0
for b in "$MIX" "$DIR" "$PROBE"; do expect 0 "usage:" "$b" --help; done
echo "$fails failed"
[ "$fails" -eq 0 ]
