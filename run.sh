#!/usr/bin/env bash
# Sotto's one entry point: installs what is missing, builds, and runs a job.
#
#   ./run.sh demo    install dependencies, build, run the main job: a local testnet of separate
#                    processes (directory, 3 mixes, 2 providers) and real messages through it
#   ./run.sh test    install dependencies, build with -Werror, run every test, then the C++ ones
#                    again under AddressSanitizer + UndefinedBehaviorSanitizer
#   ./run.sh bench   install dependencies, build, run the benchmarks
#   ./run.sh evaluate  install dependencies, build, regenerate every figure of papers/evaluation.md
#   ./run.sh deps    only install the Debian packages
#   ./run.sh testnet start|probe|status|stop [--netns]   drive the local testnet by hand
#   ./run.sh adversary [campaign options]   (root) the adversary campaign: every configuration
#                    of adversary/campaign.sh, 15 minutes each, several seeds, scored against
#                    ground truth; updates papers/anonymity-measured.md (hours; not in `test`)
#
# Idempotent: packages already installed are not reinstalled and builds are incremental.
set -euo pipefail
cd "$(dirname "$0")"

PACKAGES=(
  build-essential cmake pkg-config
  libsodium-dev libzmq3-dev cppzmq-dev libboost-program-options-dev librocksdb-dev
  libfmt-dev libspdlog-dev nlohmann-json3-dev catch2 libqrencode-dev
  python3 python3-cryptography python3-nacl python3-matplotlib iproute2 tcpdump
)
JOBS="$(nproc 2>/dev/null || echo 2)"

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
die() { printf 'run.sh: %s\n' "$*" >&2; exit 1; }

install_deps() {
  step "Checking Debian packages"
  local missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    echo "all ${#PACKAGES[@]} packages present"
    return
  fi
  echo "installing: ${missing[*]}"
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || die "need root (or sudo) to install: ${missing[*]}"
    sudo="sudo"
  fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq -o Dpkg::Use-Pty=0 --no-install-recommends "${missing[@]}"
}

# build DIR [extra cmake args...]
build() {
  local dir="$1"; shift
  step "Building in $dir ($*)"
  # -g1: line tables only (backtraces and sanitizer reports keep file:line), a third less
  # compile time than -g.
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSOTTO_WERROR=ON \
    "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -g1 -DNDEBUG" "-DCMAKE_CXX_FLAGS_DEBUG=-g1" \
    "$@" >"$dir.configure.log" 2>&1 \
    || { cat "$dir.configure.log"; die "cmake configure failed (log above)"; }
  cmake --build "$dir" -j "$JOBS"
}

run_tests() {  # DIR [ctest options]
  local dir="$1"; shift
  step "Running the test suite ($dir)"
  (cd "$dir" && ctest --output-on-failure -j "$JOBS" --timeout 600 "$@")
}

# Under the sanitizers, every test that runs our C++ runs again — except those that only measure
# timing statistics or run Python (they gain nothing from ASan and cost minutes), and the adversary
# harness (adversary_*: a 4-minute real run whose daemons the integration tests already cover).
SANITIZER_SKIP='^(adversary_.*|client_cover|client_link_timing|testnet_script_start_probe_stop|sphinx_vectors_independent_python|e2ee_vectors_independent_python)$'


cmd="${1:-}"
case "$cmd" in
  deps)
    install_deps
    ;;
  demo)
    install_deps
    build build
    step "1/4 One Sphinx packet across three mix nodes, hop by hop (in one process)"
    ./build/core/sotto-sphinx-demo
    step "2/4 Starting a local testnet: a directory authority, 3 mixes in a cascade, 2 providers"
    trap 'scripts/testnet.sh stop --state "$PWD/.testnet" >/dev/null' EXIT
    scripts/testnet.sh start --state "$PWD/.testnet" --epoch-length-s 300 \
      --set send-rate-per-min=120 --set fetch-interval-ms=1000
    step "3/4 Alice and Bob chat through it with the real sotto client"
    scripts/chat_demo.sh --state "$PWD/.testnet"
    step "4/4 What the nodes counted (Prometheus textfiles in .testnet/<node>/data/metrics.prom)"
    sleep 1.5
    for n in provider-1 mix-1 mix-2 mix-3 provider-2; do
      printf '%-11s' "$n"
      grep -E '^sotto_(packets_received|packets_forwarded|dummies_sent|dummies_received|messages_delivered|fetches_refused)_total' \
        ".testnet/$n/data/metrics.prom" | sed 's/^sotto_//; s/_total / = /' | tr '\n' ' '
      echo
    done
    step "Stopping the testnet (every process it started)"
    ;;
  testnet)
    shift
    scripts/testnet.sh "$@"
    ;;
  test)
    install_deps
    build build
    # First the adversary fixture's real run (adversary_run), alone: its testnet must run as its
    # scenario says, and beside a compile its statistical-disclosure check was seen to fail.
    # Then the sanitizer build (Debug: -O0 with the sanitizers, the quickest to compile; assert()
    # stays on) at the lowest priority beside every other test, in the CPU they leave idle (they
    # wait on timers and sockets; none asserts on time, and the timing statistics compare two
    # clients measured side by side, or rates over measured windows). Then the C++ tests again
    # under the sanitizers.
    run_tests build -R '^adversary_run$'
    mkdir -p build-asan
    step "Building in build-asan (sanitizers), in the background: log in build-asan.log"
    setsid nice -n 19 "$0" _build build-asan -DSOTTO_SANITIZE=ON -DSOTTO_BUILD_BENCH=OFF \
      -DCMAKE_BUILD_TYPE=Debug >build-asan.log 2>&1 &
    asan_pid=$!
    trap 'kill -- "-$asan_pid" 2>/dev/null' EXIT
    run_tests build -E '^adversary_run$' -FS adversary_ci_run
    step "Waiting for the sanitizer build"
    wait "$asan_pid" || { tail -n 40 build-asan.log; die "the sanitizer build failed (build-asan.log)"; }
    trap - EXIT
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
      run_tests build-asan -E "$SANITIZER_SKIP"
    ;;
  _build)  # internal: run.sh _build DIR [cmake args] (the test job's background build)
    shift
    build "$@"
    ;;
  bench)
    install_deps
    build build
    step "Sphinx benchmark"
    ./build/bench/sotto-bench-sphinx
    step "Node pipeline benchmark (Sphinx + RocksDB replay cache and pool)"
    ./build/bench/sotto-bench-node
    step "Simulator benchmark"
    ./build/bench/sotto-bench-sim
    ;;
  evaluate) install_deps; build build; scripts/evaluate.sh ;;
  adversary)
    shift
    install_deps
    build build
    step "The adversary campaign (adversary/campaign.sh $*)"
    adversary/campaign.sh "$@"
    ;;
  *)
    sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'
    [ -z "$cmd" ] || [ "$cmd" = "-h" ] || [ "$cmd" = "--help" ] || die "unknown job '$cmd'"
    ;;
esac
