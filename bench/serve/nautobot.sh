#!/usr/bin/env bash
# bench/serve, Nautobot's Jobs: N Jobs created the way Nautobot creates them (the chart's manifest
# as `kjq render` writes it, name nautobot-job-<JobResult uuid>, one POST each) against
# kube-emulator over HTTPS on loopback, followed by one `kjq serve` (SQLite store) that writes the
# failed ones into a throwaway PostgreSQL holding Nautobot's two tables (tests/support/
# nautobot_schema.sql). Every FAIL_EVERY-th Job's pod fails (exit 1 or OOM) and its JobResult is
# PENDING; the others' JobResults are SUCCESS, as their pods would leave them.
#   MODE=follow (default): pods pull for 1 s and run RUN_SECONDS (60), so all N are live at once:
#     serve's peak RSS, event-to-record p50/p99, end-to-write-back p50/p99.
#   MODE=admit: the queue has admission: kjq and maxConcurrency CAP (50): the Jobs are created
#     suspended and serve resumes them; pods run RUN_SECONDS (1). Adds the un-suspend latency (a
#     Job's end to the next Job's resume), seen from a watch on the emulator.
# Usage: bench/serve/nautobot.sh BUILD_DIR [N]   (BUILD_DIR: a Release build of kjq, kube-emulator
#        and serve_nautobot_load); MODE, CAP, RUN_SECONDS, FAIL_EVERY, CONNECTIONS in the environment.
set -euo pipefail
BUILD=${1:?build dir}; N=${2:-5000}
MODE=${MODE:-follow}; CAP=${CAP:-50}; FAIL_EVERY=${FAIL_EVERY:-5}; CONNECTIONS=${CONNECTIONS:-4}
if [ "$MODE" = admit ]; then RUN_SECONDS=${RUN_SECONDS:-1}; else RUN_SECONDS=${RUN_SECONDS:-60}; fi
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/kjq-serve-nb-bench.XXXXXX")
PIDS=()
# shellcheck source=../lib/throwaway_postgres.sh
. "$ROOT/bench/lib/throwaway_postgres.sh"
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  stop_throwaway_postgres "$WORK"
  rm -rf "$WORK"
}
trap cleanup EXIT

# Nautobot's database: a throwaway cluster on a free port, the two tables, N JobResults.
start_throwaway_postgres "$WORK" "$ROOT" fsync=off
# As Nautobot's JobResult.enqueue_job leaves them (tests/support/nautobot_schema.cpp), in creation order.
"${PSQL[@]}" -d nautobot -c "INSERT INTO extras_jobresult (id, name, date_created, date_done, status, result,
  user_id, _custom_field_data, scheduled_job_id, job_model_id, task_args, meta, task_kwargs, task_name, traceback,
  worker, celery_kwargs, date_started, debug_log_count, error_log_count, info_log_count, success_log_count,
  warning_log_count)
  SELECT gen_random_uuid(), 'Example Job', now() - interval '5 minutes' + g * interval '1 microsecond',
    CASE WHEN g % $FAIL_EVERY = 0 THEN NULL ELSE now() END,
    CASE WHEN g % $FAIL_EVERY = 0 THEN 'PENDING' ELSE 'SUCCESS' END, NULL, NULL, '{}', NULL, NULL, '[]', NULL, '{}',
    'example_jobs.ExampleJob', NULL, NULL, '{\"queue\": \"bench\", \"nautobot_job_console_log\": false}', NULL,
    NULL, NULL, NULL, NULL, NULL
  FROM generate_series(1, $N) g"
"${PSQL[@]}" -d nautobot -At -F ' ' -c "SELECT id, CASE status WHEN 'PENDING' THEN 'fail' ELSE 'ok' END
  FROM extras_jobresult ORDER BY date_created" > "$WORK/ids"

openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=bench-ca -keyout "$WORK/ca.key" -out "$WORK/ca.crt" >/dev/null 2>&1
openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout "$WORK/tls.key" -out "$WORK/tls.csr" >/dev/null 2>&1
printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' > "$WORK/san.ext"
openssl x509 -req -in "$WORK/tls.csr" -CA "$WORK/ca.crt" -CAkey "$WORK/ca.key" -CAcreateserial -days 2 \
  -extfile "$WORK/san.ext" -out "$WORK/tls.crt" >/dev/null 2>&1
echo 'bench-token,system:serviceaccount:default:nautobot,1,"system:masters"' > "$WORK/tokens.csv"
echo bench-token > "$WORK/token"
echo bench-api-token > "$WORK/api.token"

# The queue as the chart renders it (Nautobot's component label, worker-name annotation; with
# admission: kjq also spec.suspend: true and the admission label). backoffLimit 0 as Nautobot's.
{
  echo "kubernetesJobs:"
  echo "  backoffLimit: 0"
  echo "workers:"
  echo "  bench:"
  echo "    enabled: true"
  echo "    type: kubernetes"
  [ "$MODE" = admit ] && { echo "    admission: kjq"; echo "    maxConcurrency: $CAP"; }
} > "$WORK/values.yaml"
"$BUILD/tools/kjq/kjq" render -f "$WORK/values.yaml" --job-queues-dir "$WORK/queues" -o none

"$BUILD/tools/kube-emulator/kube-emulator" --listen 127.0.0.1:0 --admin-listen 127.0.0.1:0 \
  --tls-cert "$WORK/tls.crt" --tls-key "$WORK/tls.key" --token-file "$WORK/tokens.csv" --threads 32 \
  --watch-history 200000 >"$WORK/emu.out" 2>"$WORK/emu.err" &
EMU=$!; PIDS+=($EMU)
for _ in $(seq 100); do [ "$(wc -l < "$WORK/emu.out")" -ge 2 ] && break; sleep 0.05; done
URL=$(sed -n 1p "$WORK/emu.out")
NAUTOBOT_KUBERNETES_DEFAULT_SERVICE_ADDRESS=$URL NAUTOBOT_KUBERNETES_SSL_CA_CERT_PATH=$WORK/ca.crt \
NAUTOBOT_KUBERNETES_TOKEN_PATH=$WORK/token NAUTOBOT_KUBERNETES_JOB_POD_NAMESPACE=default \
NAUTOBOT_JOB_QUEUE_PATH=$WORK/queues \
  "$BUILD/tools/kjq/kjq" serve --listen 127.0.0.1:0 --store "sqlite:$WORK/serve.db" -f "$WORK/values.yaml" \
  --api-token-file "$WORK/api.token" --qps 2000 --burst 2000 \
  --nautobot-database "postgresql://kjq@127.0.0.1:$PGPORT/nautobot" ${SERVE_ARGS:-} 2>"$WORK/serve.err" &
SERVE=$!; PIDS+=($SERVE)
for _ in $(seq 200); do grep -q "listening on" "$WORK/serve.err" && break; sleep 0.05; done
API=$(grep -o 'listening on http://[0-9.:]*' "$WORK/serve.err" | cut -d' ' -f3)
[ -n "${PERF_OUT:-}" ] && { perf record -F 300 --call-graph dwarf,16384 -p "$SERVE" -o "$PERF_OUT" >/dev/null 2>&1 & PIDS+=($!); }
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
rc=0
"$BUILD/bench/serve_nautobot_load" --server "$URL" --ca "$WORK/ca.crt" --token bench-token --serve "$API" \
  --api-token bench-api-token --pid "$SERVE" --manifest "$WORK/queues/bench/manifest.json" --ids "$WORK/ids" \
  --connections "$CONNECTIONS" --admit "$([ "$MODE" = admit ] && echo 1 || echo 0)" --cap "$CAP" \
  --run-seconds "$RUN_SECONDS" --pull-seconds "${PULL_SECONDS:-1}" || rc=$?
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
# What serve left in Nautobot's database.
echo "nautobot database: $("${PSQL[@]}" -d nautobot -At -F ' ' -c "SELECT
  'jobresults_failure_by_kjq=' || count(*) FILTER (WHERE status = 'FAILURE' AND traceback LIKE 'Kubernetes Job ended%'),
  'still_pending=' || count(*) FILTER (WHERE status = 'PENDING'),
  'success=' || count(*) FILTER (WHERE status = 'SUCCESS'),
  'log_rows=' || (SELECT count(*) FROM extras_joblogentry) FROM extras_jobresult")"
# CPU seconds each process used (utime + stime), to see who the 2 cores went to.
cpu() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.1f", ($14 + $15) / hz}' "/proc/$1/stat"; }
echo "cpu_seconds: serve $(cpu "$SERVE") kube-emulator $(cpu "$EMU")"
grep -c -i "error\|warn" "$WORK/serve.err" | sed 's/^/serve log warnings+errors: /' || true
[ -n "${KEEP_LOG:-}" ] && cp "$WORK/serve.err" "$KEEP_LOG"
exit $rc
