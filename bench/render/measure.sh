#!/usr/bin/env bash
# The render figures of docs/performance.md in one command: for each kjq binary, the
# instructions of `kjq render` of N queues (callgrind; independent of the machine's load) with
# -o yaml, -o json and --job-queues-dir, then hyperfine -N (wall, user, system) beside
# `kjq --version`, and the peak RSS (/usr/bin/time). With two binaries it first checks that they
# render byte-identical output (check_identical.sh). Prints the load average before and after.
# Usage: [N=1000] [RUNS=40] bench/render/measure.sh KJQ [OTHER_KJQ]
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
n=${N:-1000}
runs=${RUNS:-40}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
values=$work/q$n.yaml
"$HERE/make_values.sh" "$n" > "$values"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
if [ $# -ge 2 ]; then "$HERE/check_identical.sh" "$1" "$2" "$values"; fi
printf '| binary | %s |\n|---|---:|---:|---:|\n' "-o yaml | -o json | -o yaml --job-queues-dir"
for kjq in "$@"; do
  row="| \`$kjq\` |"
  for mode in yaml json dir; do
    args=(render -f "$values" -o yaml)
    [ $mode = json ] && args=(render -f "$values" -o json)
    [ $mode = dir ] && args+=(--job-queues-dir "$work/tree")
    rm -rf "$work/tree"
    ir=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null "$kjq" "${args[@]}" 2>&1 > /dev/null |
      sed -n 's/.*Collected : \([0-9]*\).*/\1/p')
    row+=" $(awk -v i="$ir" 'BEGIN { printf "%.0f M", i / 1e6 }') |"
  done
  echo "$row"
done
cmds=()
for kjq in "$@"; do cmds+=("$kjq render -f $values -o yaml"); done
cmds+=("$1 --version")
hyperfine -N --warmup 3 --runs "$runs" "${cmds[@]}"
for kjq in "$@"; do
  /usr/bin/time -f "$kjq: peak RSS %M KiB, %R minor faults" "$kjq" render -f "$values" -o yaml > /dev/null
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
