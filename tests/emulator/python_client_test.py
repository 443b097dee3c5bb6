#!/usr/bin/python3
"""python3-kubernetes (Debian) against kube-emulator over HTTPS, the way Nautobot calls it."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

try:
    import kubernetes
    from kubernetes import client, watch
    from kubernetes.client.rest import ApiException
except ImportError:  # python3-kubernetes is not installed: skip (CTest SKIP_RETURN_CODE 77)
    print("python3-kubernetes is not installed (apt-get install python3-kubernetes); skipping")
    sys.exit(77)

EMULATOR = sys.argv.pop(1) if len(sys.argv) > 1 else os.environ.get("EMULATOR", "")
NS = "default"


def run(*args):
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


class EmulatorProcess:
    def __init__(self):
        self.work = tempfile.mkdtemp(prefix="kube-emulator-py.")
        w = self.work
        run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=test-ca",
            "-keyout", f"{w}/ca.key", "-out", f"{w}/ca.crt")
        run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
            "-keyout", f"{w}/tls.key", "-out", f"{w}/tls.csr")
        with open(f"{w}/san.ext", "w") as f:
            f.write("subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n")
        run("openssl", "x509", "-req", "-in", f"{w}/tls.csr", "-CA", f"{w}/ca.crt", "-CAkey", f"{w}/ca.key",
            "-CAcreateserial", "-days", "2", "-extfile", f"{w}/san.ext", "-out", f"{w}/tls.crt")
        with open(f"{w}/tokens.csv", "w") as f:
            f.write('kjq-token,system:serviceaccount:default:kjq,1\nnobody-token,nobody,2\n'
                    'admin-token,admin,3,"system:masters"\n')
        with open(f"{w}/token", "w") as f:
            f.write("kjq-token\n")
        with open(f"{w}/rbac.yaml", "w") as f:
            f.write("""
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: kjq, namespace: default}
rules:
- apiGroups: [batch]
  resources: [jobs]
  verbs: [create, get, list, watch, delete]
- apiGroups: [""]
  resources: [pods, pods/log, events]
  verbs: [get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: kjq, namespace: default}
subjects: [{kind: ServiceAccount, name: kjq, namespace: default}]
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: kjq}
""")
        self.proc = subprocess.Popen(
            [EMULATOR, "--listen", "127.0.0.1:0", "--tls-cert", f"{w}/tls.crt", "--tls-key", f"{w}/tls.key",
             "--token-file", f"{w}/tokens.csv", "--rbac", f"{w}/rbac.yaml", "--time-scale", "0.1",
             "--backoff-seconds", "1", "--bookmark-interval", "0.3", "--watch-history", "50"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.url = self.proc.stdout.readline().strip()
        if not self.url.startswith("https://"):
            raise RuntimeError("emulator did not start: " + self.proc.stderr.read())

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.proc.stdout.close()
        self.proc.stderr.close()
        shutil.rmtree(self.work, ignore_errors=True)


def api_client(emu, token_path=None, token=None):
    # As nautobot/extras/utils.py run_kubernetes_job_and_return_job_result does.
    configuration = kubernetes.client.Configuration()
    configuration.host = emu.url
    configuration.ssl_ca_cert = f"{emu.work}/ca.crt"
    if token is None:
        with open(token_path or f"{emu.work}/token", "r") as token_file:
            token = token_file.read().strip()
    configuration.api_key_prefix["authorization"] = "Bearer"
    configuration.api_key["authorization"] = token
    return kubernetes.client.ApiClient(configuration)


def job_manifest(name, annotations=None, **spec):
    body = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name},
        "spec": {
            "ttlSecondsAfterFinished": 600,
            "template": {
                "metadata": {"annotations": annotations or {}},
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [{"name": "main", "image": "ghcr.io/nautobot/nautobot:2.3",
                                    "command": ["nautobot-server", "runjob_with_job_result", "x"]}],
                },
            },
        },
    }
    body["spec"].update(spec)
    return body


def wait_until(fn, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError("timed out")


class PythonClientTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.emu = EmulatorProcess()
        cls.client = api_client(cls.emu)
        cls.batch = client.BatchV1Api(cls.client)
        cls.core = client.CoreV1Api(cls.client)

    @classmethod
    def tearDownClass(cls):
        cls.client.close()
        cls.emu.stop()

    def job_condition(self, name):
        job = self.batch.read_namespaced_job(name, NS)
        for c in job.status.conditions or []:
            if c.type in ("Complete", "Failed") and c.status == "True":
                return c
        return None

    def test_create_watch_read_pods_logs_events_delete(self):
        manifest = job_manifest("nautobot-job-1", {"kube-emulator/log": "job ran\nall good"})
        created = self.batch.create_namespaced_job(body=manifest, namespace=NS)
        self.assertEqual(created.metadata.name, "nautobot-job-1")
        self.assertTrue(created.metadata.uid)
        self.assertEqual(created.spec.backoff_limit, 6)
        with self.assertRaises(ApiException) as ctx:
            self.batch.create_namespaced_job(body=manifest, namespace=NS)
        self.assertEqual(ctx.exception.status, 409)
        self.assertEqual(json.loads(ctx.exception.body)["reason"], "AlreadyExists")

        seen = []
        w = watch.Watch()
        for event in w.stream(self.batch.list_namespaced_job, namespace=NS, timeout_seconds=5):
            job = event["object"]
            if job.metadata.name != "nautobot-job-1":
                continue
            seen.append(event["type"])
            if job.status and job.status.succeeded == 1:
                w.stop()
        self.assertEqual(seen[0], "ADDED")
        self.assertIn("MODIFIED", seen)

        job = self.batch.read_namespaced_job("nautobot-job-1", NS)
        self.assertEqual(job.status.succeeded, 1)
        self.assertIsNotNone(job.status.completion_time)
        self.assertEqual(self.job_condition("nautobot-job-1").type, "Complete")

        pods = self.core.list_namespaced_pod(NS, label_selector="job-name=nautobot-job-1").items
        self.assertEqual(len(pods), 1)
        pod = pods[0]
        self.assertEqual(pod.status.phase, "Succeeded")
        self.assertEqual(pod.metadata.owner_references[0].kind, "Job")
        self.assertEqual(pod.metadata.labels["batch.kubernetes.io/job-name"], "nautobot-job-1")
        term = pod.status.container_statuses[0].state.terminated
        self.assertEqual((term.exit_code, term.reason), (0, "Completed"))

        log = self.core.read_namespaced_pod_log(pod.metadata.name, NS, container="main")
        self.assertEqual(log, "job ran\nall good\n")
        self.assertEqual(self.core.read_namespaced_pod_log(pod.metadata.name, NS, tail_lines=1), "all good\n")

        events = self.core.list_namespaced_event(NS, field_selector=f"involvedObject.name={pod.metadata.name}").items
        reasons = [e.reason for e in events]
        for r in ("Scheduled", "Pulling", "Pulled", "Created", "Started"):
            self.assertIn(r, reasons)

        status = self.batch.delete_namespaced_job("nautobot-job-1", NS, propagation_policy="Background")
        self.assertEqual(status.status, "Success")
        with self.assertRaises(ApiException) as ctx:
            self.batch.read_namespaced_job("nautobot-job-1", NS)
        self.assertEqual(ctx.exception.status, 404)
        self.assertEqual(self.core.list_namespaced_pod(NS, label_selector="job-name=nautobot-job-1").items, [])

    def test_failure_outcomes(self):
        self.batch.create_namespaced_job(NS, job_manifest("fails", {"kube-emulator/outcome": "fail",
                                                                   "kube-emulator/exit-code": "3"}, backoffLimit=1))
        self.batch.create_namespaced_job(NS, job_manifest("oom", {"kube-emulator/outcome": "oom"}, backoffLimit=0))
        self.batch.create_namespaced_job(NS, job_manifest("deadline", {"kube-emulator/outcome": "hang"},
                                                          activeDeadlineSeconds=3))
        self.batch.create_namespaced_job(NS, job_manifest("pull", {"kube-emulator/outcome": "image-pull-error"}))
        self.batch.create_namespaced_job(NS, job_manifest("pending", {"kube-emulator/outcome": "unschedulable"}))

        c = wait_until(lambda: self.job_condition("fails"))
        self.assertEqual((c.type, c.reason), ("Failed", "BackoffLimitExceeded"))
        self.assertEqual(self.batch.read_namespaced_job("fails", NS).status.failed, 2)
        pods = self.core.list_namespaced_pod(NS, label_selector="job-name=fails").items
        self.assertEqual(len(pods), 2)
        self.assertEqual({p.status.container_statuses[0].state.terminated.exit_code for p in pods}, {3})
        self.assertEqual({p.status.container_statuses[0].state.terminated.reason for p in pods}, {"Error"})

        c = wait_until(lambda: self.job_condition("oom"))
        self.assertEqual((c.type, c.reason), ("Failed", "BackoffLimitExceeded"))
        pod = self.core.list_namespaced_pod(NS, label_selector="job-name=oom").items[0]
        term = pod.status.container_statuses[0].state.terminated
        self.assertEqual((term.exit_code, term.reason), (137, "OOMKilled"))

        c = wait_until(lambda: self.job_condition("deadline"))
        self.assertEqual((c.type, c.reason), ("Failed", "DeadlineExceeded"))

        def waiting_reason():
            pods = self.core.list_namespaced_pod(NS, label_selector="job-name=pull").items
            w = pods and pods[0].status.container_statuses[0].state.waiting
            return w and w.reason == "ImagePullBackOff" and w.reason
        wait_until(waiting_reason)
        pod = self.core.list_namespaced_pod(NS, label_selector="job-name=pull").items[0]
        reasons = [e.reason for e in self.core.list_namespaced_event(
            NS, field_selector=f"involvedObject.name={pod.metadata.name}").items]
        self.assertIn("BackOff", reasons)
        self.assertIn("Failed", reasons)

        pod = self.core.list_namespaced_pod(NS, label_selector="job-name=pending").items[0]
        self.assertEqual(pod.status.phase, "Pending")
        self.assertEqual(pod.status.conditions[0].reason, "Unschedulable")
        with self.assertRaises(ApiException) as ctx:
            self.core.read_namespaced_pod_log(pod.metadata.name, NS)
        self.assertEqual(ctx.exception.status, 400)

    def test_ttl_deletes_job_and_pods(self):
        self.batch.create_namespaced_job(NS, job_manifest("short-lived", ttlSecondsAfterFinished=2))

        def gone():
            try:
                self.batch.read_namespaced_job("short-lived", NS)
                return False
            except ApiException as e:
                return e.status == 404
        wait_until(gone)
        self.assertEqual(self.core.list_namespaced_pod(NS, label_selector="job-name=short-lived").items, [])

    def test_forbidden_and_unauthorized(self):
        with api_client(self.emu, token="nobody-token") as c:
            with self.assertRaises(ApiException) as ctx:
                client.BatchV1Api(c).create_namespaced_job(NS, job_manifest("nope"))
            self.assertEqual(ctx.exception.status, 403)
            body = json.loads(ctx.exception.body)
            self.assertEqual(body["reason"], "Forbidden")
            self.assertEqual(body["message"], 'jobs.batch is forbidden: User "nobody" cannot create resource "jobs" '
                                              'in API group "batch" in the namespace "default"')
        with api_client(self.emu, token="bad-token") as c:
            with self.assertRaises(ApiException) as ctx:
                client.BatchV1Api(c).list_namespaced_job(NS)
            self.assertEqual(ctx.exception.status, 401)
        with self.assertRaises(ApiException) as ctx:
            self.core.delete_namespaced_pod("whatever", NS)
        self.assertEqual(ctx.exception.status, 403)

    def test_invalid_job(self):
        bad = job_manifest("bad")
        bad["spec"]["template"]["spec"]["containers"][0].pop("image")
        with self.assertRaises(ApiException) as ctx:
            self.batch.create_namespaced_job(NS, bad)
        self.assertEqual(ctx.exception.status, 422)
        body = json.loads(ctx.exception.body)
        self.assertEqual(body["details"]["causes"][0]["field"], "spec.template.spec.containers[0].image")

    def suspended_condition(self, name):
        job = self.batch.read_namespaced_job(name, NS)
        return next((c for c in job.status.conditions or [] if c.type == "Suspended"), None)

    def test_patch_resumes_a_suspended_job(self):
        created = self.batch.create_namespaced_job(NS, job_manifest("held", suspend=True))
        c = wait_until(lambda: self.suspended_condition("held"))
        self.assertEqual((c.status, c.reason, c.message), ("True", "JobSuspended", "Job suspended"))
        time.sleep(0.3)  # 3 s of simulated time
        self.assertIsNone(self.batch.read_namespaced_job("held", NS).status.start_time)
        self.assertEqual(self.core.list_namespaced_pod(NS, label_selector="job-name=held").items, [])
        # The Role Nautobot's service account has does not grant patch.
        with self.assertRaises(ApiException) as ctx:
            self.batch.patch_namespaced_job("held", NS, {"spec": {"suspend": False}})
        self.assertEqual(ctx.exception.status, 403)
        self.assertEqual(json.loads(ctx.exception.body)["message"],
                         'jobs.batch "held" is forbidden: User "system:serviceaccount:default:kjq" cannot patch '
                         'resource "jobs" in API group "batch" in the namespace "default"')
        with api_client(self.emu, token="admin-token") as c:
            admin = client.BatchV1Api(c)
            # A stale resourceVersion in the patch is a precondition that fails.
            with self.assertRaises(ApiException) as ctx:
                admin.patch_namespaced_job("held", NS, {"metadata": {"resourceVersion": created.metadata.resource_version},
                                                        "spec": {"suspend": False}})
            self.assertEqual(ctx.exception.status, 409)
            self.assertEqual(json.loads(ctx.exception.body)["reason"], "Conflict")
            # A list body is a JSON patch; a failing test applies nothing.
            with self.assertRaises(ApiException) as ctx:
                admin.patch_namespaced_job("held", NS, [{"op": "test", "path": "/spec/suspend", "value": False},
                                                        {"op": "replace", "path": "/spec/suspend", "value": False}])
            self.assertEqual(ctx.exception.status, 422)
            # A dict body (strategic merge patch) resumes it.
            patched = admin.patch_namespaced_job("held", NS, {"spec": {"suspend": False}})
            self.assertFalse(patched.spec.suspend)
            self.assertEqual(patched.metadata.generation, 2)

        def resumed():
            c = self.suspended_condition("held")
            return c if c.status == "False" else None
        c = wait_until(resumed)
        self.assertEqual((c.reason, c.message), ("JobResumed", "Job resumed"))
        self.assertEqual(wait_until(lambda: self.job_condition("held")).type, "Complete")
        job = self.batch.read_namespaced_job("held", NS)
        self.assertIsNotNone(job.status.start_time)
        self.assertEqual(job.status.succeeded, 1)
        self.assertEqual(len(self.core.list_namespaced_pod(NS, label_selector="job-name=held").items), 1)

    def test_watch_bookmarks_and_410(self):
        seen = set()
        w = watch.Watch()
        for event in w.stream(self.batch.list_namespaced_job, namespace=NS, timeout_seconds=2,
                              allow_watch_bookmarks=True, label_selector="none=here"):
            seen.add(event["type"])
            if "BOOKMARK" in seen:
                w.stop()
        self.assertIn("BOOKMARK", seen)
        # Churn past the (50-event) history, then resume from resourceVersion 1.
        for i in range(30):
            self.batch.create_namespaced_job(NS, job_manifest(f"churn-{i}", {"kube-emulator/outcome": "hang"}))
        with self.assertRaises(ApiException) as ctx:
            for _ in watch.Watch().stream(self.batch.list_namespaced_job, namespace=NS, resource_version="1",
                                          timeout_seconds=2):
                pass
        self.assertEqual(ctx.exception.status, 410)


if __name__ == "__main__":
    unittest.main(verbosity=2)
