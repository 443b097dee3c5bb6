#!/usr/bin/env bash
# Times two kjq binaries on one values file, alternating them so both see the same machine load
# (the project's machine is shared), and prints the median wall, user and system times and the
# largest peak RSS of each. Usage: N=25 bench/render/compare.sh OLD_KJQ NEW_KJQ VALUES_FILE
set -euo pipefail
n=${N:-25}
times=$(mktemp)
trap 'rm -f "$times"' EXIT
for ((i = 0; i < n; i++)); do
  for kjq in "$1" "$2"; do
    /usr/bin/time -f "$kjq %e %U %S %M" -a -o "$times" "$kjq" render -f "$3" -o yaml > /dev/null
  done
done
python3 - "$times" <<'PY'
import collections, statistics, sys
runs = collections.defaultdict(list)
for line in open(sys.argv[1]):
    kjq, wall, user, system, rss = line.split()
    runs[kjq].append((float(wall) * 1000, float(user) * 1000, float(system) * 1000, int(rss)))
for kjq, v in runs.items():
    print(f"{kjq}: wall {statistics.median(x[0] for x in v):.0f} ms, user {statistics.median(x[1] for x in v):.0f} ms, "
          f"sys {statistics.median(x[2] for x in v):.0f} ms, peak RSS {max(x[3] for x in v) / 1024:.1f} MiB ({len(v)} runs)")
PY
