#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine, builds kjq and renders the bundled example:
# the Kubernetes objects to stdout and the job-queue tree to build/example/job-queues.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release --target kjq
out=build/example/job-queues
mkdir -p "$out"
build/release/tools/kjq/kjq render -f examples/values.yaml --job-queues-dir "$out" "$@"
echo "kjq: wrote $(find "$out" -name manifest.json | wc -l) queue manifest(s) under $out" >&2
