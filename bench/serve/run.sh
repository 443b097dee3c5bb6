#!/usr/bin/env bash
# bench/serve: N jobs submitted through kjq serve's API against kube-emulator over HTTPS on
# loopback, with the SQLite store (or STORE=postgresql://...). Reports submissions per second,
# submit-to-create p50/p99, event-to-record lag p50/p99 and serve's peak RSS while N jobs are live.
# Usage: bench/serve/run.sh BUILD_DIR [N] [THREADS]    (BUILD_DIR: a release build with benches)
set -euo pipefail
BUILD=${1:?build dir}; N=${2:-10000}; THREADS=${3:-16}
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/kjq-serve-bench.XXXXXX")
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; rm -rf "$WORK"; }
trap cleanup EXIT
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=bench-ca -keyout "$WORK/ca.key" -out "$WORK/ca.crt" >/dev/null 2>&1
openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout "$WORK/tls.key" -out "$WORK/tls.csr" >/dev/null 2>&1
printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' > "$WORK/san.ext"
openssl x509 -req -in "$WORK/tls.csr" -CA "$WORK/ca.crt" -CAkey "$WORK/ca.key" -CAcreateserial -days 2 \
  -extfile "$WORK/san.ext" -out "$WORK/tls.crt" >/dev/null 2>&1
echo 'bench-token,system:serviceaccount:default:nautobot,1,"system:masters"' > "$WORK/tokens.csv"
echo bench-token > "$WORK/token"
echo bench-api-token > "$WORK/api.token"
mkdir -p "$WORK/queues/default"
# The reference chart's default manifest (acceptance case 02). Pods pull for 1 s and run for
# RUN_SECONDS (default 120) so that all N jobs are live at once when the RSS is read.
python3 - "$HERE/../../tests/fixtures/chart-cases/02-single-worker-defaults/expected-text/example.json" \
  "$WORK/queues/default/manifest.json" "${RUN_SECONDS:-120}" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
a = m["spec"]["template"].setdefault("metadata", {}).setdefault("annotations", {})
a["kube-emulator/run-seconds"] = sys.argv[3]
a["kube-emulator/pull-seconds"] = "1"
json.dump(m, open(sys.argv[2], "w"))
PY
"${EMULATOR:-$BUILD/tools/kube-emulator/kube-emulator}" --listen 127.0.0.1:0 --admin-listen 127.0.0.1:0 \
  --tls-cert "$WORK/tls.crt" --tls-key "$WORK/tls.key" --token-file "$WORK/tokens.csv" --threads 32 \
  --watch-history 100000 >"$WORK/emu.out" 2>"$WORK/emu.err" &
PIDS+=($!)
for _ in $(seq 100); do [ "$(wc -l < "$WORK/emu.out")" -ge 2 ] && break; sleep 0.05; done
URL=$(sed -n 1p "$WORK/emu.out"); ADMIN=$(sed -n 2p "$WORK/emu.out" | cut -d' ' -f2)
NAUTOBOT_KUBERNETES_DEFAULT_SERVICE_ADDRESS=$URL NAUTOBOT_KUBERNETES_SSL_CA_CERT_PATH=$WORK/ca.crt \
NAUTOBOT_KUBERNETES_TOKEN_PATH=$WORK/token NAUTOBOT_KUBERNETES_JOB_POD_NAMESPACE=default \
NAUTOBOT_JOB_QUEUE_PATH=$WORK/queues \
  "$BUILD/tools/kjq/kjq" serve --listen 127.0.0.1:0 --store "${STORE:-sqlite:$WORK/serve.db}" \
  --api-token-file "$WORK/api.token" --qps 2000 --burst 2000 ${SERVE_ARGS:-} 2>"$WORK/serve.err" &
SERVE=$!; PIDS+=($SERVE)
for _ in $(seq 200); do grep -q "listening on" "$WORK/serve.err" && break; sleep 0.05; done
API=$(grep -o 'listening on http://[0-9.:]*' "$WORK/serve.err" | cut -d' ' -f3)
[ -n "${PERF_OUT:-}" ] && { perf record -F 300 --call-graph dwarf,16384 -p "$SERVE" -o "$PERF_OUT" >/dev/null 2>&1 & PIDS+=($!); }
# EVENT_STREAMS=S: S clients on GET /api/v1/events for EVENT_SECONDS (30) while the load runs.
if [ -n "${EVENT_STREAMS:-}" ]; then
  "$BUILD/bench/events_fanout" --url "$API" --token bench-api-token --streams "$EVENT_STREAMS" \
    --seconds "${EVENT_SECONDS:-30}" >"$WORK/events.out" & EVENTS=$!
  sleep 0.5
fi
"$BUILD/bench/serve_load" --url "$API" --token bench-api-token --admin "$ADMIN" --pid "$SERVE" -n "$N" --threads "$THREADS" --wait "${WAIT:-1}"
[ -n "${EVENT_STREAMS:-}" ] && { wait "$EVENTS" || true; echo "events: $(cat "$WORK/events.out")"; }
# CPU seconds each process used (utime + stime), to see who the 2 cores went to.
cpu() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.1f", ($14 + $15) / hz}' "/proc/$1/stat"; }
echo "cpu_seconds: serve $(cpu "$SERVE") kube-emulator $(cpu "${PIDS[0]}")"
