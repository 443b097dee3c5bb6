#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine, builds kjq and renders the bundled example:
# the Kubernetes objects to stdout and the job-queue tree to build/example/job-queues.
# stdout carries the objects and nothing else (`./scripts/run-example.sh > objects.yaml`):
# everything the set-up prints (apt-get, cmake, the build) goes to stderr.
# KJQ_EXAMPLE_KJQ (the kjq to run instead of build/release's) and KJQ_EXAMPLE_OUT (the tree's
# directory) override the defaults.
set -euo pipefail
cd "$(dirname "$0")/.."
exec 3>&1 1>&2
bash scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release --target kjq
kjq=${KJQ_EXAMPLE_KJQ:-build/release/tools/kjq/kjq}
out=${KJQ_EXAMPLE_OUT:-build/example/job-queues}
mkdir -p "$out"
"$kjq" render -f examples/values.yaml --job-queues-dir "$out" "$@" >&3
echo "kjq: wrote $(find "$out" -name manifest.json | wc -l) queue manifest(s) under $out" >&2
