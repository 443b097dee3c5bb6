# Shared set-up for the real-client tests: a temp dir, a CA + server certificate for 127.0.0.1,
# a token file, an RBAC stream, and a running kube-emulator (HTTPS) whose URL is in $URL.
# Source it with EMULATOR=<path to kube-emulator>; everything is removed on exit.
set -euo pipefail
: "${EMULATOR:?path to kube-emulator}"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/kube-emulator-test.XXXXXX")
EMU_PID=""
cleanup() {
  if [ -n "$EMU_PID" ]; then kill "$EMU_PID" 2>/dev/null || true; wait "$EMU_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=kube-emulator-test-ca" \
  -keyout "$WORK/ca.key" -out "$WORK/ca.crt" >/dev/null 2>&1
openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
  -keyout "$WORK/tls.key" -out "$WORK/tls.csr" >/dev/null 2>&1
printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n' > "$WORK/san.ext"
openssl x509 -req -in "$WORK/tls.csr" -CA "$WORK/ca.crt" -CAkey "$WORK/ca.key" -CAcreateserial \
  -days 2 -extfile "$WORK/san.ext" -out "$WORK/tls.crt" >/dev/null 2>&1

ADMIN_TOKEN=admin-token-1
KJQ_TOKEN=kjq-token-2
NOBODY_TOKEN=nobody-token-3
cat > "$WORK/tokens.csv" <<TOKENS
$ADMIN_TOKEN,admin,1,"system:masters"
$KJQ_TOKEN,system:serviceaccount:default:kjq,2
$NOBODY_TOKEN,nobody,3
TOKENS
printf '%s\n' "$KJQ_TOKEN" > "$WORK/kjq.token"

cat > "$WORK/rbac.yaml" <<'RBAC'
apiVersion: v1
kind: ServiceAccount
metadata:
  name: kjq
  namespace: default
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: kjq
  namespace: default
rules:
  - apiGroups: ["batch"]
    resources: ["jobs"]
    verbs: ["create", "get", "list", "watch", "delete"]
  - apiGroups: [""]
    resources: ["pods", "pods/log", "events"]
    verbs: ["get", "list", "watch"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: kjq
  namespace: default
subjects:
  - kind: ServiceAccount
    name: kjq
    namespace: default
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: kjq
RBAC

"$EMULATOR" --listen 127.0.0.1:0 --tls-cert "$WORK/tls.crt" --tls-key "$WORK/tls.key" \
  --token-file "$WORK/tokens.csv" --rbac "$WORK/rbac.yaml" --time-scale 0.2 \
  --default-run-seconds 1 ${EMULATOR_ARGS:-} >"$WORK/emulator.out" 2>"$WORK/emulator.err" &
EMU_PID=$!
URL=""
for _ in $(seq 1 100); do
  URL=$(head -n1 "$WORK/emulator.out" 2>/dev/null || true)
  [ -n "$URL" ] && break
  sleep 0.05
done
[ -n "$URL" ] || { echo "kube-emulator did not start"; cat "$WORK/emulator.err"; exit 1; }

fail() { echo "FAIL: $*"; echo "--- emulator stderr"; tail -20 "$WORK/emulator.err"; exit 1; }
# Wait (bounded) until a command's output contains a string.
wait_for() {
  local want=$1; shift
  local out=""
  for _ in $(seq 1 100); do
    out=$("$@" 2>&1 || true)
    case "$out" in *"$want"*) return 0 ;; esac
    sleep 0.1
  done
  fail "timed out waiting for '$want'; last output: $out"
}
