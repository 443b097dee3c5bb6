#!/usr/bin/env bash
# Measures kube-emulator: Job create throughput over keep-alive loopback connections with the
# emulator pinned to one core, and its RSS once 10,000 Jobs and their Pods (and Events) exist.
# Usage: bench/emulator_load.sh [BUILD_DIR]   (default build/h-emu-rel, a Release build)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build/h-emu-rel}
JOBS=${JOBS:-10000}
CONNECTIONS=${CONNECTIONS:-4}
if [ ! -x "$BUILD/tools/kube-emulator/kube-emulator" ] || [ ! -x "$BUILD/tools/kube-emulator/emulator_load" ]; then
  cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DKJQ_BUILD_TESTS=OFF -DKJQ_BUILD_BENCH=OFF \
    -DKJQ_BUILD_EMULATOR_LOAD=ON >/dev/null
  cmake --build "$BUILD" --target kube-emulator emulator_load -j2
fi
start_emulator() { # extra flags...
  OUT=$(mktemp)
  taskset -c 0 "$BUILD/tools/kube-emulator/kube-emulator" --listen 127.0.0.1:0 --admin-listen 127.0.0.1:0 "$@" \
    >"$OUT" 2>/dev/null &
  PID=$!
  for _ in $(seq 1 100); do [ "$(wc -l <"$OUT")" -ge 2 ] && break; sleep 0.05; done
  URL=$(sed -n 1p "$OUT")
  ADMIN=$(sed -n 2p "$OUT" | cut -d' ' -f2)
  rm -f "$OUT"
}
stop_emulator() { kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; PID=""; }
PID=""
trap 'stop_emulator' EXIT
echo "kube-emulator pinned to CPU 0 (taskset -c 0); load generator on CPU 1"

echo "== API only (--no-controller): $JOBS creates"
start_emulator --no-controller
taskset -c 1 "$BUILD/tools/kube-emulator/emulator_load" --url "$URL" --admin "$ADMIN" --settle 0 --jobs "$JOBS" \
  --connections "$CONNECTIONS"
stop_emulator

echo "== full simulation (pods, statuses, events on the same core): $JOBS creates, then settle"
start_emulator
taskset -c 1 "$BUILD/tools/kube-emulator/emulator_load" --url "$URL" --admin "$ADMIN" --jobs "$JOBS" \
  --connections "$CONNECTIONS"
stop_emulator
