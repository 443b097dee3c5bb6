#!/usr/bin/env bash
# Whole-process figures for `kjq render`: YAML parsing, validation, rendering, and writing the
# <queue>/manifest.json tree, for 1, 100, 1,000 and 5,000 queues. Prints wall time (best of 5)
# and peak RSS per size. Usage: bench/render_cli.sh [path/to/kjq]   (default: build/release)
set -euo pipefail
cd "$(dirname "$0")/.."
kjq=${1:-build/release/tools/kjq/kjq}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf '%8s %12s %14s %10s\n' queues wall_ms peak_rss_MiB files
for n in 1 100 1000 5000; do
  values="$work/values-$n.yaml"
  {
    echo "kubernetesJobs:"
    echo "  extraEnvVars: [{name: LOG_LEVEL, value: INFO}]"
    echo "workers:"
    for ((i = 0; i < n; i++)); do
      printf '  queue-%05d:\n    enabled: true\n    type: kubernetes\n    ttlSecondsAfterFinished: 300\n' "$i"
      printf '    labels: {tier: gold}\n    extraEnvVars: [{name: QUEUE_INDEX, value: "%d"}]\n' "$i"
      printf '    resources: {requests: {cpu: 250m}}\n    overrides: {spec: {nodeSelector: {pool: jobs}}}\n'
    done
  } > "$values"
  best=""
  rss=""
  for run in 1 2 3 4 5; do
    rm -rf "$work/out"
    /usr/bin/time -f '%e %M' -o "$work/time" "$kjq" render -f "$values" --job-queues-dir "$work/out" -o yaml > /dev/null
    read -r secs kib < "$work/time"
    ms=$(awk -v s="$secs" 'BEGIN { printf "%d", s * 1000 }')
    if [[ -z $best || $ms -lt $best ]]; then best=$ms; fi
    rss=$(awk -v k="$kib" -v r="${rss:-0}" 'BEGIN { v = k / 1024; if (v > r) r = v; printf "%.1f", r }')
  done
  files=$(find "$work/out" -name manifest.json | wc -l)
  printf '%8d %12d %14s %10d\n' "$n" "$best" "$rss" "$files"
done
