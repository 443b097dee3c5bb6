#!/usr/bin/env python3
"""The reference chart's `helm template` output grown to N Kubernetes queues, for the
post-render benchmark: case 01 of tests/fixtures/post-render-cases with its two queues (alpha,
beta) replaced by q0001..qN, each with alpha's manifest (its name put in), in the manifests
ConfigMap and as one subPath mount per queue in the web and Beat Deployments, as the chart
renders them. Usage: make_chart_output.py N > chart-output.yaml"""
import pathlib
import sys

CASE = (pathlib.Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "post-render-cases" /
        "01-two-kubernetes-queues" / "chart-output.yaml")


def main():
    n = int(sys.argv[1])
    queues = [f"q{i:04d}" for i in range(1, n + 1)]
    lines = CASE.read_text().split("\n")
    out = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if line == "  alpha: |":
            # alpha's manifest runs up to beta's key; beta's up to the next document.
            end = lines.index("  beta: |", i)
            manifest = lines[i + 1:end]
            i = lines.index("---", end)
            for q in queues:
                out.append(f"  {q}: |")
                out.extend(m.replace('"alpha"', f'"{q}"') for m in manifest)
            continue
        if line.strip() == '- name: "nautobot-k8s-jobs-manifests"' and "alpha/manifest.json" in lines[i + 1]:
            indent = line[:line.index("-")]
            for q in queues:
                out += [f'{indent}- name: "nautobot-k8s-jobs-manifests"',
                        f'{indent}  mountPath: "/etc/nautobot/job-queues/{q}/manifest.json"',
                        f'{indent}  subPath: "{q}"', f"{indent}  readOnly: true"]
            i += 8  # alpha's and beta's mounts
            continue
        out.append(line)
        i += 1
    sys.stdout.write("\n".join(out))


main()
