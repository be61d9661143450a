#!/usr/bin/env bash
# A complete Sotto network on this machine: a directory authority, three mixes in a cascade and
# two providers, each a separate process, with generated keys and configs in a state folder.
#
#   scripts/testnet.sh start [--state DIR] [--epoch-length-s N] [--netns] [--set KEY=VALUE]...
#   scripts/testnet.sh probe [--state DIR]     push messages Alice → Bob through it (sotto-probe)
#   scripts/testnet.sh status [--state DIR]
#   scripts/testnet.sh stop [--state DIR]      stops every process it started (and namespaces)
#
# --netns runs every node in its own network namespace with its own address (10.77.0.0/24 on a
# bridge this script creates and removes; needs root and iproute2), so the multi-host shape is
# exercised on one machine. --set adds a line to the authority's configuration, e.g.
# --set send-rate-per-min=600 for faster clients (see `sotto-directory run --help`).
# Binaries come from $SOTTO_BIN (default: build/ next to this script).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BIN="${SOTTO_BIN:-$ROOT/build}"
STATE="$ROOT/.testnet"
EPOCH=60
NETNS=0
EXTRA=()
MIXES=(mix-1 mix-2 mix-3)
PROVIDERS=(provider-1 provider-2)
BRIDGE=sottobr0

die() { echo "testnet: $*" >&2; exit 1; }
say() { echo "testnet: $*"; }

cmd="${1:-}"; shift || true
while [ $# -gt 0 ]; do
  case "$1" in
    --state) STATE="$(realpath -m "$2")"; shift 2 ;;
    --epoch-length-s) EPOCH="$2"; shift 2 ;;
    --netns) NETNS=1; shift ;;
    --set) [[ "${2:-}" == *=* ]] || die "--set needs KEY=VALUE"; EXTRA+=("${2%%=*} = ${2#*=}"); shift 2 ;;
    -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option '$1' (see --help)" ;;
  esac
done

all_nodes() { echo directory "${MIXES[@]}" "${PROVIDERS[@]}"; }
pid_of() { cat "$STATE/$1/pid" 2>/dev/null || true; }
alive() { local p; p="$(pid_of "$1")"; [ -n "$p" ] && kill -0 "$p" 2>/dev/null; }

netns_setup() {
  [ "$(id -u)" -eq 0 ] || die "--netns needs root"
  command -v ip >/dev/null || die "--netns needs iproute2 (apt-get install iproute2)"
  ip link add "$BRIDGE" type bridge 2>/dev/null || true
  ip addr add 10.77.0.1/24 dev "$BRIDGE" 2>/dev/null || true
  ip link set "$BRIDGE" up
  local i=2
  for n in $(all_nodes); do
    local ns="sotto-$n" veth="sv-$i"
    ip netns add "$ns" 2>/dev/null || true
    ip link add "$veth" type veth peer name eth0 netns "$ns" 2>/dev/null || true
    ip link set "$veth" master "$BRIDGE" up
    ip -n "$ns" addr add "10.77.0.$i/24" dev eth0 2>/dev/null || true
    ip -n "$ns" link set eth0 up
    ip -n "$ns" link set lo up
    echo "10.77.0.$i" > "$STATE/$n/address"
    i=$((i + 1))
  done
  echo 1 > "$STATE/netns"
}

netns_teardown() {
  [ -f "$STATE/netns" ] || return 0
  for n in $(all_nodes); do ip netns del "sotto-$n" 2>/dev/null || true; done
  ip link del "$BRIDGE" 2>/dev/null || true
  rm -f "$STATE/netns"
}

# launch NAME CMD... : start a daemon in the background (inside its namespace with --netns)
launch() {
  local name="$1"; shift
  local prefix=()
  [ "$NETNS" -eq 1 ] && prefix=(ip netns exec "sotto-$name")
  "${prefix[@]}" "$@" >"$STATE/$name/log" 2>&1 &
  echo $! > "$STATE/$name/pid"
}

wait_for_file() {  # FILE SECONDS
  for _ in $(seq 1 $(( $2 * 10 ))); do [ -s "$1" ] && return 0; sleep 0.1; done
  return 1
}

start() {
  for n in $(all_nodes); do alive "$n" && die "already running (pid $(pid_of "$n") for $n); run '$0 stop' first"; done
  for b in sotto-directory sotto-mixnode sotto-probe; do
    [ -x "$BIN/$(case $b in sotto-directory) echo directory;; sotto-mixnode) echo mixnode;; *) echo cli;; esac)/$b" ] \
      || die "$b not built in $BIN (run ./run.sh demo or cmake --build build)"
  done
  rm -rf "$STATE"; mkdir -p "$STATE"; chmod 700 "$STATE"
  for n in $(all_nodes); do mkdir -p "$STATE/$n"; chmod 700 "$STATE/$n"; done
  [ "$NETNS" -eq 1 ] && netns_setup
  addr() { if [ "$NETNS" -eq 1 ]; then cat "$STATE/$1/address"; else echo 127.0.0.1; fi; }

  say "creating keys in $STATE"
  local init; init="$("$BIN/directory/sotto-directory" init --state-dir "$STATE/directory/data")"
  local dlink dverify
  dlink="$(sed -n 's/^directory-link-key = //p' <<<"$init")"
  dverify="$(sed -n 's/^directory-verify-key = //p' <<<"$init")"
  local genesis; genesis=$(( $(date +%s) / EPOCH * EPOCH ))
  local node_lines=""
  local layer=1
  for n in "${MIXES[@]}" "${PROVIDERS[@]}"; do
    local role=mix l=0
    case "$n" in provider-*) role=provider ;; *) l=$layer; layer=$((layer + 1)) ;; esac
    local out; out="$("$BIN/mixnode/sotto-mixnode" init --state-dir "$STATE/$n/data" --name "$n" --role "$role" --layer "$l")"
    node_lines+="$(grep '^node = ' <<<"$out")"$'\n'
    cat > "$STATE/$n/node.ini" <<INI
state-dir = $STATE/$n/data
name = $n
role = $role
layer = $l
listen = tcp://$(addr "$n"):$([ "$NETNS" -eq 1 ] && echo 7001 || echo '*')
INI
  done
  cat > "$STATE/directory/directory.ini" <<INI
state-dir = $STATE/directory/data
listen = tcp://$(addr directory):$([ "$NETNS" -eq 1 ] && echo 7000 || echo '*')
epoch-length-s = $EPOCH
genesis-unix = $genesis
batch-size = 4
batch-timeout-ms = 500
min-batch = 4
$(printf '%s\n' "${EXTRA[@]}")
$node_lines
INI
  say "starting the directory authority"
  launch directory "$BIN/directory/sotto-directory" run --config "$STATE/directory/directory.ini"
  wait_for_file "$STATE/directory/data/endpoint" 10 || die "the directory did not start (see $STATE/directory/log)"
  local dendpoint; dendpoint="$(cat "$STATE/directory/data/endpoint")"
  local client="$STATE/client.ini"
  cat > "$client" <<INI
directory = $dendpoint
directory-link-key = $dlink
directory-verify-key = $dverify
epoch-length-s = $EPOCH
genesis-unix = $genesis
INI
  for n in "${MIXES[@]}" "${PROVIDERS[@]}"; do
    cat "$client" >> "$STATE/$n/node.ini"
    say "starting $n"
    launch "$n" "$BIN/mixnode/sotto-mixnode" run --config "$STATE/$n/node.ini"
  done
  for n in "${MIXES[@]}" "${PROVIDERS[@]}"; do
    wait_for_file "$STATE/$n/data/endpoint" 10 || die "$n did not start (see $STATE/$n/log)"
  done
  say "waiting for the first consensus"
  for _ in $(seq 1 150); do
    ls "$STATE/directory/data/consensus/"*.json >/dev/null 2>&1 && break
    sleep 0.1
  done
  ls "$STATE/directory/data/consensus/"*.json >/dev/null 2>&1 || die "no consensus was published (see $STATE/*/log)"
  echo
  say "running: directory at $dendpoint, ${MIXES[*]} (one cascade), ${PROVIDERS[*]}"
  say "state, keys, logs and metrics: $STATE/<node>/{data,log}"
  say "client settings: $client"
  say "send messages through it:  $0 probe${STATE:+ --state $STATE}"
  say "stop it (all processes):   $0 stop${STATE:+ --state $STATE}"
}

stop() {
  local any=0
  for n in $(all_nodes); do
    if alive "$n"; then kill -TERM "$(pid_of "$n")" 2>/dev/null || true; any=1; fi
  done
  for _ in $(seq 1 50); do
    local left=0
    for n in $(all_nodes); do alive "$n" && left=1; done
    [ $left -eq 0 ] && break
    sleep 0.1
  done
  for n in $(all_nodes); do alive "$n" && kill -KILL "$(pid_of "$n")" 2>/dev/null || true; rm -f "$STATE/$n/pid"; done
  netns_teardown
  [ $any -eq 1 ] && say "stopped" || say "nothing was running"
}

status() {
  for n in $(all_nodes); do
    if alive "$n"; then
      printf '%-12s running (pid %s) %s\n' "$n" "$(pid_of "$n")" "$(cat "$STATE/$n/data/endpoint" 2>/dev/null)"
    else
      printf '%-12s stopped\n' "$n"
    fi
  done
}

probe() {
  [ -f "$STATE/client.ini" ] || die "no testnet in $STATE (run '$0 start')"
  "$BIN/cli/sotto-probe" roundtrip --config "$STATE/client.ini" --timeout-s 60
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  probe) probe ;;
  *) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; [ -z "$cmd" ] || die "unknown command '$cmd'" ;;
esac
