#!/usr/bin/env bash
# Installs the Debian packages kjq builds and tests with. Idempotent: a no-op when all are present.
set -euo pipefail
packages=(
  build-essential cmake ninja-build pkg-config git mold
  libyaml-cpp-dev nlohmann-json3-dev libcurl4-openssl-dev libcli11-dev libspdlog-dev libfmt-dev
  libsqlite3-dev libpq-dev libpqxx-dev libcpp-httplib-dev libssl-dev prometheus-cpp-dev libboost-dev
  libgtest-dev libgmock-dev libbenchmark-dev libhowardhinnant-date-dev
  clang-14 libclang-rt-14-dev clang-format clang-tidy-14
  openssl python3-kubernetes postgresql nghttp2-server nodejs npm
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# The base image may ship node/npm outside Debian's packaging; accept those.
if command -v node >/dev/null && command -v npm >/dev/null; then
  filtered=(); for p in "${missing[@]}"; do [[ $p == nodejs || $p == npm ]] || filtered+=("$p"); done
  missing=("${filtered[@]+"${filtered[@]}"}")
fi
if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  SUDO=""; [[ $(id -u) -eq 0 ]] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "install-deps: all Debian packages present"
fi
