#!/usr/bin/env bash
# Builds the libFuzzer targets in fuzz/ with clang (in the `asan` preset) and runs them side by side
# for a bounded time, each seeded from fuzz/corpus/<target>/ (read only: new inputs go to a
# temporary directory). A crash, leak, timeout or sanitizer report fails the run and copies the
# input to fuzz/findings/.
# Usage: scripts/fuzz.sh [SECONDS, default 10] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
shift || true
targets=("$@")
((${#targets[@]})) || targets=(values_yaml set_expression json_inputs watch_decoder http_request post_render)
cmake --preset asan >/dev/null
cmake --build --preset asan --target "${targets[@]/#/fuzz_}" >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
declare -A pids
for t in "${targets[@]}"; do
  mkdir -p "$work/$t"
  "build/asan/fuzz/fuzz_$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
    -print_final_stats=1 -artifact_prefix="$work/$t-" "$work/$t" "fuzz/corpus/$t" >"$work/$t.log" 2>&1 &
  pids[$t]=$!
done
failed=0
for t in "${targets[@]}"; do
  if wait "${pids[$t]}"; then
    runs=$(awk '/stat::number_of_executed_units/ {print $2}' "$work/$t.log")
    echo "fuzz_$t: ${runs:-?} executions in ${seconds} s, no finding ($(ls "$work/$t" | wc -l) new inputs)"
  else
    echo "fuzz_$t: FAILED; its report:"
    tail -60 "$work/$t.log"
    mkdir -p fuzz/findings
    cp "$work/$t-"* fuzz/findings/ 2>/dev/null || true
    failed=1
  fi
done
exit $failed
