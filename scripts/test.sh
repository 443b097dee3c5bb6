#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine and runs the whole test suite:
#   1. the debug build: every test, the end-to-end ones (real kjq, kube-emulator, PostgreSQL,
#      kubectl, python3-kubernetes) included;
#   2. the ASan+UBSan build: every in-process test again under the sanitizers;
#   3. the libFuzzer targets (clang), each for a bounded time over its corpus.
# Exit status is non-zero when anything fails.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/install-test-tools.sh
echo "== debug: configure and build (${SECONDS} s so far)"
cmake --preset debug >/dev/null
cmake --build --preset debug
echo "== debug: test (${SECONDS} s so far)"
ctest --preset debug
echo "== asan: configure and build the tests (${SECONDS} s so far)"
cmake --preset asan >/dev/null
cmake --build --preset asan --target kjq_tests
echo "== asan: test (${SECONDS} s so far)"
ctest --preset asan
echo "== fuzz: build and run each target for ${KJQ_FUZZ_SECONDS:-8} s (${SECONDS} s so far)"
bash scripts/fuzz.sh "${KJQ_FUZZ_SECONDS:-8}"
echo "== done in ${SECONDS} s"
