#!/usr/bin/env bash
# kubectl 1.32 against kube-emulator over HTTPS with bearer tokens, no kubeconfig on disk.
EMULATOR=$1
source "$(dirname "$0")/emulator_env.sh"
KUBECTL=${KUBECTL:-/usr/lib/google-cloud-sdk/bin/kubectl.1.32}
export HOME="$WORK/home" KUBECONFIG="$WORK/no-kubeconfig"
mkdir -p "$HOME"
k() { # [CACHE_DIR=DIR] k TOKEN args...
  local token=$1; shift
  timeout 30 "$KUBECTL" --server "$URL" --token "$token" --certificate-authority "$WORK/ca.crt" \
    --cache-dir "${CACHE_DIR:-$WORK/cache}" "$@"
}
cat > "$WORK/job.json" <<'JOB'
{"apiVersion":"batch/v1","kind":"Job","metadata":{"name":"hello","labels":{"app":"kjq"}},
 "spec":{"backoffLimit":0,"template":{"metadata":{"annotations":{"kube-emulator/run-seconds":"1",
   "kube-emulator/log":"hello from the emulator\nsecond line"}},
   "spec":{"restartPolicy":"Never","containers":[{"name":"main","image":"busybox:1.36","command":["echo","hi"]}]}}}}
JOB

echo "== create (client-side validation through /openapi/v3)"
out=$(k "$KJQ_TOKEN" create -f "$WORK/job.json" 2>&1) || fail "create: $out"
[ "$out" = "job.batch/hello created" ] || fail "create printed: $out"

echo "== create again -> AlreadyExists"
out=$(k "$KJQ_TOKEN" create -f "$WORK/job.json" 2>&1) && fail "second create succeeded"
case "$out" in *'Error from server (AlreadyExists): error when creating'*'jobs.batch "hello" already exists'*) ;; *) fail "AlreadyExists: $out" ;; esac

echo "== get jobs -o json"
out=$(k "$KJQ_TOKEN" get jobs -o json) || fail "get jobs -o json"
echo "$out" | /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); assert [i["metadata"]["name"] for i in d["items"]]==["hello"], d' \
  || fail "get jobs -o json: $out"

echo "== discovery is aggregated: /api and /apis, no GET of /apis/batch/v1 or /api/v1 (fresh cache)"
# -v=6 logs every request URL on stderr. Legacy discovery would also GET each group-version.
out=$(CACHE_DIR="$WORK/cache-fresh" k "$KJQ_TOKEN" get jobs -v=6 2>&1 >/dev/null) || fail "get jobs -v=6: $out"
echo "$out" | grep -qE 'GET https://[^ ]*/apis\?timeout=[^ ]* 200' || fail "no GET /apis in: $out"
echo "$out" | grep -qE 'GET https://[^ ]*/api\?timeout=[^ ]* 200' || fail "no GET /api in: $out"
if echo "$out" | grep -qE 'GET https://[^ ]*/(apis/batch/v1|api/v1)[? ]'; then fail "kubectl fell back to legacy discovery: $out"; fi

echo "== get job hello (table)"
out=$(k "$KJQ_TOKEN" get job hello) || fail "get job hello"
echo "$out" | grep -q '^hello ' || fail "get job hello printed: $out"

echo "== job completes"
wait_for "1" k "$KJQ_TOKEN" get job hello -o 'jsonpath={.status.succeeded}'
out=$(k "$KJQ_TOKEN" get job hello -o 'jsonpath={.status.conditions[?(@.type=="Complete")].status}')
[ "$out" = "True" ] || fail "Complete condition: $out"

echo "== get pods -l job-name=hello"
out=$(k "$KJQ_TOKEN" get pods -l job-name=hello -o 'jsonpath={range .items[*]}{.metadata.name} {.status.phase}{"\n"}{end}') \
  || fail "get pods"
case "$out" in hello-*" Succeeded") ;; *) fail "pods: $out" ;; esac
POD=${out%% *}

echo "== logs job/hello and logs POD --tail=1"
out=$(k "$KJQ_TOKEN" logs job/hello) || fail "logs job/hello: $out"
[ "$out" = "$(printf 'hello from the emulator\nsecond line')" ] || fail "logs job/hello printed: $out"
out=$(k "$KJQ_TOKEN" logs "$POD" --tail=1) || fail "logs pod: $out"
[ "$out" = "second line" ] || fail "logs --tail=1 printed: $out"

echo "== auth can-i"
out=$(k "$KJQ_TOKEN" auth can-i create jobs) || fail "can-i create jobs: $out"
[ "$out" = "yes" ] || fail "can-i create jobs: $out"
out=$(k "$KJQ_TOKEN" auth can-i delete pods 2>&1) && fail "can-i delete pods said yes"
[ "$out" = "no" ] || fail "can-i delete pods: $out"

echo "== forbidden create"
sed 's/"hello"/"forbidden"/' "$WORK/job.json" > "$WORK/job2.json"
out=$(k "$NOBODY_TOKEN" create -f "$WORK/job2.json" 2>&1) && fail "forbidden create succeeded"
case "$out" in *'jobs.batch is forbidden: User "nobody" cannot create resource "jobs" in API group "batch" in the namespace "default"'*) ;;
  *) fail "forbidden message: $out" ;; esac

echo "== unauthorized"
out=$(k "wrong-token" get jobs 2>&1) && fail "wrong token accepted"
case "$out" in *Unauthorized*) ;; *) fail "401 message: $out" ;; esac

echo "== get jobs --watch sees a job complete"
k "$KJQ_TOKEN" get jobs --watch -o 'jsonpath={.metadata.name} {.status.succeeded}{"\n"}' >"$WORK/watch.out" 2>&1 &
WATCH_PID=$!
sed 's/"hello"/"watched"/' "$WORK/job.json" > "$WORK/job3.json"
k "$KJQ_TOKEN" create -f "$WORK/job3.json" >/dev/null || fail "create watched"
wait_for "watched 1" cat "$WORK/watch.out"
kill "$WATCH_PID" 2>/dev/null || true
wait "$WATCH_PID" 2>/dev/null || true

echo "== delete job hello"
out=$(k "$KJQ_TOKEN" delete job hello 2>&1) || fail "delete: $out"
[ "$out" = 'job.batch "hello" deleted' ] || fail "delete printed: $out"
out=$(k "$KJQ_TOKEN" get job hello 2>&1) && fail "job still there"
case "$out" in *'Error from server (NotFound): jobs.batch "hello" not found'*) ;; *) fail "NotFound: $out" ;; esac
out=$(k "$KJQ_TOKEN" get pods -l job-name=hello -o name)
[ -z "$out" ] || fail "pods left after background deletion: $out"

echo "== invalid job -> 422"
cat > "$WORK/bad.json" <<'JOB'
{"apiVersion":"batch/v1","kind":"Job","metadata":{"name":"bad"},
 "spec":{"template":{"spec":{"restartPolicy":"Always","containers":[{"name":"main"}]}}}}
JOB
out=$(k "$ADMIN_TOKEN" create -f "$WORK/bad.json" 2>&1) && fail "invalid job accepted"
# kubectl renders the Status causes as a list.
case "$out" in *'The Job "bad" is invalid:'*'* spec.template.spec.containers[0].image: Required value'*'* spec.template.spec.restartPolicy: Unsupported value: "Always": supported values: "OnFailure", "Never"'*) ;;
  *) fail "422 message: $out" ;; esac
echo "PASS"
