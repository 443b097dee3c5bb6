#!/usr/bin/env bash
# The post-render figures of docs/performance.md in one command: `kjq post-render` of the
# reference chart's output grown to N Kubernetes queues (make_chart_output.py), printing the
# stream to /dev/null: wall, user and system time (hyperfine, through a shell for the stdin
# redirection, beside `kjq --version` as the floor of a process start), the peak RSS
# (/usr/bin/time), and the same for --kustomize-patches. Prints the input size and the load
# average before and after.
# Usage: [N=1000] [RUNS=20] bench/post-render/measure.sh KJQ
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
kjq=$1
n=${N:-1000}
runs=${RUNS:-20}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
input=$work/chart-output-q$n.yaml
"$HERE/make_chart_output.py" "$n" > "$input"
echo "input: $n queues, $(wc -c < "$input") bytes, $(grep -c '^kind:' "$input") objects"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
"$kjq" post-render < "$input" > "$work/out.yaml"  # fails (set -e) if the stream is refused
echo "output: $(wc -c < "$work/out.yaml") bytes"
hyperfine --warmup 2 --runs "$runs" \
  "$kjq post-render < $input > /dev/null" \
  "$kjq post-render --kustomize-patches < $input > /dev/null" \
  "$kjq --version > /dev/null"
for mode in "" --kustomize-patches; do
  /usr/bin/time -f "post-render $mode: peak RSS %M KiB, %e s wall, %U s user, %S s system" \
    "$kjq" post-render $mode < "$input" > /dev/null
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
