#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine and runs the whole test suite: the debug build, then the
# same tests under ASan+UBSan. Exit status is non-zero when anything fails.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/install-test-tools.sh
for preset in debug asan; do
  echo "== $preset: configure and build (${SECONDS} s so far)"
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset"
  echo "== $preset: test (${SECONDS} s so far)"
  ctest --preset "$preset"
done
