#!/usr/bin/env bash
# Holds the in-process library tests to g++ 12's warnings (-Wall -Wextra -Wpedantic -Werror), as
# a default `cmake --preset debug` build compiles them. scripts/test.sh builds and runs those tests
# in the sanitizer build only (clang), so without this a warning only g++ gives would first break
# a developer's debug build. Syntax only (-fsyntax-only: parsing, templates and warnings, no code:
# about two fifths of a real compile, ~70 s of CPU on two cores). Not part of scripts/test.sh: in
# it the suite measured 630-674 s, too close to its 12-minute budget (docs/performance.md). Run it
# after changing tests/.
#
# The translation units are those of a g++ unity configuration (build/gcc-tests, configured here,
# never built) whose files lie under its tests/ directory.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${KJQ_GCC_TESTS_BUILD_DIR:-build/gcc-tests}
cmake -S . -B "$build" -G Ninja -DCMAKE_CXX_COMPILER=g++ -DCMAKE_BUILD_TYPE=Debug -DCMAKE_UNITY_BUILD=ON \
  -DCMAKE_UNITY_BUILD_BATCH_SIZE=0 -DKJQ_BUILD_BENCH=OFF -DKJQ_E2E_TESTS=OFF -DKJQ_BUILD_EMULATOR=OFF \
  -DCMAKE_CXX_FLAGS_DEBUG=-g0 >/dev/null
root=$(pwd)
list=$(mktemp)
trap 'rm -f "$list"' EXIT
# One line per translation unit: its directory, then its command with -fsyntax-only for -o/-c.
python3 - "$build/compile_commands.json" "$root/$build/tests/" "$root/tests/" >"$list" <<'PY'
import json, shlex, sys
entries, under = json.load(open(sys.argv[1])), tuple(sys.argv[2:])
for e in entries:
    if not e["file"].startswith(under):
        continue
    args = shlex.split(e["command"])
    out = []
    skip = False
    for a in args:
        if skip:
            skip = False
            continue
        if a == "-o":
            skip = True
            continue
        if a == "-c":
            continue
        out.append(a)
    print(e["directory"] + "\t" + shlex.join(out + ["-fsyntax-only"]))
PY
if [[ ! -s $list ]]; then
  echo "check-gcc-tests: no test translation units found in $build" >&2
  exit 1
fi
failed=0
# Two at a time; each failure prints g++'s own messages.
while IFS=$'\t' read -r dir cmd; do
  printf '%s\0%s\0' "$dir" "$cmd"
done <"$list" | xargs -0 -n2 -P "${KJQ_GCC_TESTS_JOBS:-2}" sh -c 'cd "$1" && eval "$2"' sh || failed=1
if ((failed)); then
  echo "check-gcc-tests: g++ 12 warns about the library tests (see above)" >&2
  exit 1
fi
echo "check-gcc-tests: the library tests compile without a g++ 12 warning ($(wc -l <"$list") translation units)"
