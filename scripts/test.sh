#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine and runs the whole test suite:
#   0. every C++ file formatted as .clang-format says;
#   *. clang-tidy 14 over src/ and tools/ (scripts/check-tidy.sh, the checks of .clang-tidy, every
#      finding an error): started niced in the background when the debug tests start, so it runs
#      mostly in the CPU time they leave idle, and awaited at the end;
#   1. the debug build (g++ 12, warnings are errors) of kjq, kube-emulator and the tests that run
#      them as processes (real kjq, kube-emulator, PostgreSQL, kubectl 1.32 and 1.35,
#      python3-kubernetes, Helm, Chromium), and those tests;
#   2. the ASan+UBSan build (clang-14, warnings are errors): every in-process test of kjq's
#      libraries, run there only (compiling them twice cost more than all of them take to run);
#   3. the libFuzzer targets of that build, each for a bounded time over its corpus.
# Both builds put a whole target in one unity batch and link with mold: of the 15 minutes this took
# on 2 cores, most was compiling the same templates again in every batch and GNU ld.
# Exit status is non-zero when anything fails.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/install-test-tools.sh
bash scripts/check-format.sh
echo "== debug: configure and build (${SECONDS} s so far)"
# The benchmarks are built by the release preset, where they are run. Line tables (-g1) are all a
# failing test's backtrace needs, and they compile and link faster than full debug information.
fast=(-DCMAKE_UNITY_BUILD_BATCH_SIZE=0 -DCMAKE_EXE_LINKER_FLAGS=-fuse-ld=mold)
cmake --preset debug -DKJQ_BUILD_BENCH=OFF -DKJQ_LIBRARY_TESTS=OFF -DCMAKE_CXX_FLAGS_DEBUG=-g1 "${fast[@]}" >/dev/null
cmake --build --preset debug
echo "== debug: test, and clang-tidy in the background (${SECONDS} s so far)"
mkdir -p build
nice -n 10 bash scripts/check-tidy.sh >build/check-tidy.log 2>&1 &
tidy_pid=$!
trap 'kill "$tidy_pid" 2>/dev/null || true' EXIT
ctest --preset debug
echo "== asan: configure and build the tests and fuzz targets (${SECONDS} s so far)"
cmake --preset asan "${fast[@]}" >/dev/null
cmake --build --preset asan --target kjq_tests fuzz_values_yaml fuzz_set_expression fuzz_json_inputs \
  fuzz_watch_decoder fuzz_http_request
echo "== asan: test (${SECONDS} s so far)"
ctest --preset asan
echo "== fuzz: every target for ${KJQ_FUZZ_SECONDS:-10} s, side by side (${SECONDS} s so far)"
bash scripts/fuzz.sh "${KJQ_FUZZ_SECONDS:-10}"
echo "== clang-tidy: waiting for it (${SECONDS} s so far)"
if ! wait "$tidy_pid"; then
  cat build/check-tidy.log >&2
  exit 1
fi
trap - EXIT
cat build/check-tidy.log
echo "== done in ${SECONDS} s"
