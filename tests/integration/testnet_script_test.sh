#!/usr/bin/env bash
# The operator's path: scripts/testnet.sh start → probe → status → stop, on loopback, and — when
# running as root with iproute2 — again with every node in its own network namespace. Checks
# that stop leaves no process and no namespace behind.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
export SOTTO_BIN="${1:?usage: testnet_script_test.sh BUILD_DIR}"
STATE="$(mktemp -d /tmp/sotto-script-test-XXXXXX)"
trap '"$ROOT/scripts/testnet.sh" stop --state "$STATE" >/dev/null 2>&1 || true; rm -rf "$STATE"' EXIT

run_once() {
  "$ROOT/scripts/testnet.sh" start --state "$STATE" "$@" >/dev/null
  "$ROOT/scripts/testnet.sh" probe --state "$STATE" | grep -q "roundtrip OK"
  [ "$("$ROOT/scripts/testnet.sh" status --state "$STATE" | grep -c running)" -eq 6 ]
  "$SOTTO_BIN/mixnode/sotto-mixnode" status --state-dir "$STATE/mix-2/data" | grep -q "status:   running"
  "$ROOT/scripts/testnet.sh" stop --state "$STATE" >/dev/null
  [ "$("$ROOT/scripts/testnet.sh" status --state "$STATE" | grep -c running)" -eq 0 ]
  sleep 6  # a stopped node's metrics file goes stale
  set +e
  "$SOTTO_BIN/mixnode/sotto-mixnode" status --state-dir "$STATE/mix-2/data" >/dev/null
  [ $? -eq 3 ] || { echo "status did not report a stopped node" >&2; exit 1; }
  set -e
}

run_once
echo "loopback testnet: ok"
if [ "$(id -u)" -eq 0 ] && command -v ip >/dev/null && ip netns list >/dev/null 2>&1; then
  run_once --netns
  if ip netns list | grep -q '^sotto-'; then echo "namespaces left behind" >&2; exit 1; fi
  echo "namespaced testnet: ok"
else
  echo "namespaced testnet: skipped (needs root and iproute2)"
fi
