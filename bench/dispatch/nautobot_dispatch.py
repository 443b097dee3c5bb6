#!/usr/bin/python3
"""Nautobot's own dispatch path, for bench/dispatch and the end-to-end tests: for every job, read
the queue's manifest, set metadata.name and containers[0].command, build a NEW kubernetes
Configuration and ApiClient (host, CA, token read from the file), log "Creating job pod <name> in
namespace <ns>" and call BatchV1Api.create_namespaced_job — exactly what nautobot.extras.utils /
JobResult.enqueue_job do for a Kubernetes job queue. Sequential, as Nautobot dispatches one job per
request, and without a retry: a create that fails fails the job (the error, HTML-escaped as
Django's escape() does before Nautobot shows it, on stderr; exit status 1). Prints one JSON line
like dispatch_bench.

--pk gives the JobResult ids (repeatable; the tests insert those JobResults first); without it,
-n made-up ids are used.

Run with Debian's interpreter and python3-kubernetes: /usr/bin/python3 nautobot_dispatch.py ...
"""
import argparse
import copy
import html
import json
import os
import statistics
import sys
import time

import kubernetes.client


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--server", required=True)
    p.add_argument("--ca", required=True)
    p.add_argument("--token-file", required=True)
    p.add_argument("--queues", required=True)
    p.add_argument("--queue", default="default")
    p.add_argument("--namespace", default="default")
    p.add_argument("--prefix", default="nautobot-job")
    p.add_argument("--config", default="/opt/nautobot/nautobot_config.py")
    p.add_argument("--data", default="{}", help="the job's kwargs as JSON (--data of runjob_with_job_result)")
    p.add_argument("--pk", action="append", default=[], help="a JobResult id (repeatable); default: made-up ids")
    p.add_argument("-n", type=int, default=None, help="jobs to create (default: one per --pk, else 1000)")
    a = p.parse_args()
    if a.pk and a.n is not None and a.n != len(a.pk):
        p.error("-n %d but %d --pk given" % (a.n, len(a.pk)))
    pks = a.pk or ["%08d-0000-4000-8000-%012d" % (i, i) for i in range(1000 if a.n is None else a.n)]
    kwargs = json.loads(a.data)
    latencies = []
    start = time.perf_counter()
    for pk in pks:
        path = os.path.join(a.queues, a.queue, "manifest.json")
        with open(path, encoding="utf-8") as f:
            manifest = json.load(f)
        manifest = copy.deepcopy(manifest)
        name = f"{a.prefix}-{pk}"
        manifest.setdefault("metadata", {})["name"] = name
        manifest["spec"]["template"]["spec"]["containers"][0]["command"] = [
            "nautobot-server", "runjob_with_job_result", pk,
            f"--config={a.config}", "--data", json.dumps(kwargs, ensure_ascii=False)]
        configuration = kubernetes.client.Configuration()
        configuration.host = a.server
        configuration.ssl_ca_cert = a.ca
        with open(a.token_file, "r", encoding="utf-8") as token_file:
            token = token_file.read().strip()
        configuration.api_key_prefix["authorization"] = "Bearer"
        configuration.api_key["authorization"] = token
        with kubernetes.client.ApiClient(configuration) as api_client:
            api_instance = kubernetes.client.BatchV1Api(api_client)
            print(f"Creating job pod {name} in namespace {a.namespace}", file=sys.stderr, flush=True)
            t0 = time.perf_counter()
            try:
                api_instance.create_namespaced_job(body=manifest, namespace=a.namespace)
            except Exception as e:  # noqa: BLE001 - Nautobot records any failure on the JobResult
                print(f"Error creating job pod {name}: {html.escape(str(e))}", file=sys.stderr, flush=True)
                return 1
            latencies.append((time.perf_counter() - t0) * 1000)
    seconds = time.perf_counter() - start
    latencies.sort()
    pct = lambda q: latencies[int(q * (len(latencies) - 1))]
    print(json.dumps({"impl": "python-kubernetes (Nautobot)", "n": len(pks), "threads": 1, "seconds": round(seconds, 3),
                      "jobs_per_second": round(len(pks) / seconds, 1), "p50_ms": round(pct(0.5), 3),
                      "p99_ms": round(pct(0.99), 3), "mean_ms": round(statistics.mean(latencies), 3)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
