#!/usr/bin/env bash
# Prints a values file with N Kubernetes job queues (default 1,000), each with its own labels,
# env var, resources and overrides, for timing `kjq render` as a whole process.
# Usage: bench/render/make_values.sh [N] > values.yaml
set -euo pipefail
n=${1:-1000}
echo "kubernetesJobs:"
echo "  extraEnvVars: [{name: LOG_LEVEL, value: INFO}]"
echo "workers:"
for ((i = 0; i < n; i++)); do
  printf '  queue-%05d:\n    enabled: true\n    type: kubernetes\n    ttlSecondsAfterFinished: 300\n' "$i"
  printf '    labels: {tier: gold}\n    extraEnvVars: [{name: QUEUE_INDEX, value: "%d"}]\n' "$i"
  printf '    resources: {requests: {cpu: 250m}}\n    overrides: {spec: {nodeSelector: {pool: jobs}}}\n'
done
