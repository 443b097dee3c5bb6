#!/usr/bin/env bash
# Fails when clang-tidy 14 finds anything (the checks of .clang-tidy, every finding an error) in a
# C++ file of src/ or tools/, naming each finding. scripts/test.sh starts it in the background,
# niced, while the debug tests run, and waits for it at the end.
#
# What is checked: the translation units of a clang-14 unity configuration of the repository
# (build/tidy, configured here, never built: only the generated sources are made). A unity
# file holds a batch of .cpp files, so nlohmann::json, fmt, Boost.Beast and friends are parsed and
# matched once per batch instead of once per file: the same code the presets compile, for about a
# third of the cost of checking every .cpp alone (22 files instead of 119; clang-tidy 14 runs its
# matchers over system headers too, which is most of its time). Every .cpp of src/ and tools/ is in
# some batch, or in the database on its own when it is excluded from unity builds; every header is
# reported through --header-filter. The unity files include .cpp files by design, so
# bugprone-suspicious-include is off for them, and a plain grep checks the rule for real sources.
# tests/ is not checked: its GoogleTest batches would double the cost.
#
# Cost (2 cores): about 290 s of CPU (~150 s wall alone); the analyzer checks would multiply it.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${KJQ_TIDY_BUILD_DIR:-build/tidy}
if git grep -nE '^\s*#\s*include\s*[<"][^>"]*\.cpp[>"]' -- src tools >&2; then
  echo "check-tidy: a source file includes a .cpp file" >&2
  exit 1
fi
cmake -S . -B "$build" -G Ninja -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_BUILD_TYPE=Debug \
  -DCMAKE_UNITY_BUILD=ON -DCMAKE_UNITY_BUILD_BATCH_SIZE=0 -DKJQ_BUILD_TESTS=OFF -DKJQ_BUILD_BENCH=OFF -DKJQ_WERROR=OFF >/dev/null
cmake --build "$build" --target kjq_values_embedded kjq_dashboard_embedded >/dev/null
root=$(pwd)
report=$(mktemp)
trap 'rm -f "$report"' EXIT
if ! run-clang-tidy-14 -p "$build" -j "${KJQ_TIDY_JOBS:-2}" -quiet -checks=-bugprone-suspicious-include \
  -header-filter="^$root/(src|tools)/" "^$root/($build/)?(src|tools)/" >"$report" 2>&1; then
  echo "check-tidy: clang-tidy findings (fix them; see .clang-tidy):" >&2
  sed 's/\x1b\[[0-9;]*m//g' "$report" | grep -E '(error|warning):' | sort -u >&2 || cat "$report" >&2
  exit 1
fi
echo "check-tidy: no findings in src/ and tools/"
