#!/usr/bin/env bash
# npm packages the tests use (Kubernetes schema validation), installed from the lock file into
# tests/schema/node_modules. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/../tests/schema"
if [[ -f package.json ]]; then
  if [[ ! -d node_modules/kubernetes-models ]]; then
    npm ci --no-audit --no-fund --loglevel=error
  fi
fi
