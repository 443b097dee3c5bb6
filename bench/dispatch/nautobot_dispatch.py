#!/usr/bin/python3
"""Nautobot's own dispatch path, for bench/dispatch: for every job, read the queue's manifest,
set metadata.name and containers[0].command, build a NEW kubernetes Configuration and ApiClient
(host, CA, token read from the file), and call BatchV1Api.create_namespaced_job — exactly what
nautobot.extras.utils / JobResult.enqueue_job do for a Kubernetes job queue. Sequential, as
Nautobot dispatches one job per request. Prints one JSON line like dispatch_bench.

Run with Debian's interpreter and python3-kubernetes: /usr/bin/python3 nautobot_dispatch.py ...
"""
import argparse
import copy
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
    p.add_argument("-n", type=int, default=1000)
    a = p.parse_args()
    latencies = []
    start = time.perf_counter()
    for i in range(a.n):
        pk = "%08d-0000-4000-8000-%012d" % (i, i)
        path = os.path.join(a.queues, a.queue, "manifest.json")
        with open(path, encoding="utf-8") as f:
            manifest = json.load(f)
        manifest = copy.deepcopy(manifest)
        manifest.setdefault("metadata", {})["name"] = f"{a.prefix}-{pk}"
        manifest["spec"]["template"]["spec"]["containers"][0]["command"] = [
            "nautobot-server", "runjob_with_job_result", pk,
            "--config=/opt/nautobot/nautobot_config.py", "--data", json.dumps({}, ensure_ascii=False)]
        configuration = kubernetes.client.Configuration()
        configuration.host = a.server
        configuration.ssl_ca_cert = a.ca
        with open(a.token_file, "r", encoding="utf-8") as token_file:
            token = token_file.read().strip()
        configuration.api_key_prefix["authorization"] = "Bearer"
        configuration.api_key["authorization"] = token
        with kubernetes.client.ApiClient(configuration) as api_client:
            api_instance = kubernetes.client.BatchV1Api(api_client)
            t0 = time.perf_counter()
            api_instance.create_namespaced_job(body=manifest, namespace=a.namespace)
            latencies.append((time.perf_counter() - t0) * 1000)
    seconds = time.perf_counter() - start
    latencies.sort()
    pct = lambda q: latencies[int(q * (len(latencies) - 1))]
    print(json.dumps({"impl": "python-kubernetes (Nautobot)", "n": a.n, "threads": 1, "seconds": round(seconds, 3),
                      "jobs_per_second": round(a.n / seconds, 1), "p50_ms": round(pct(0.5), 3),
                      "p99_ms": round(pct(0.99), 3), "mean_ms": round(statistics.mean(latencies), 3)}))


if __name__ == "__main__":
    sys.exit(main())
