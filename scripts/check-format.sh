#!/usr/bin/env bash
# Fails when a C++ file of the repository is not formatted as .clang-format says (clang-format 14),
# naming the files. Fix with: git ls-files '*.cpp' '*.hpp' | xargs clang-format -i
set -euo pipefail
cd "$(dirname "$0")/.."
report=$(mktemp)
trap 'rm -f "$report"' EXIT
if ! git ls-files '*.cpp' '*.hpp' | xargs -P 2 -n 40 clang-format --dry-run --Werror 2>"$report"; then
  echo "check-format: not formatted (run clang-format -i on these):" >&2
  grep -o '^[^:]*:[0-9]*:[0-9]*: error' "$report" | cut -d: -f1 | sort -u | sed 's/^/  /' >&2
  exit 1
fi
echo "check-format: every C++ file is formatted"
