#!/usr/bin/env bash
# Checks that two kjq binaries render byte-identical output: every values file under
# tests/fixtures and the given extra files, with -o yaml, -o json, --nautobot-wiring and
# --job-queues-dir (trees compared with diff -r, through the ..data link; the names of the
# timestamped directories differ by design), stdout, stderr and exit code alike.
# Usage: bench/render/check_identical.sh OLD_KJQ NEW_KJQ [EXTRA_VALUES...]
set -euo pipefail
cd "$(dirname "$0")/../.."
old=$1 new=$2
shift 2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0 runs=0
run() {  # run LABEL KJQ OUTDIR ARGS...
  local kjq=$2 out=$3
  shift 3
  mkdir -p "$out"
  set +e
  "$kjq" "$@" > "$out/stdout" 2> "$out/stderr"
  echo $? > "$out/rc"
  set -e
}
files=()
while IFS= read -r f; do files+=("$f"); done < <(find tests/fixtures examples -name '*.yaml' | sort)
files+=("$@")
for values in "${files[@]}"; do
  for mode in yaml json wiring tree; do
    args=(render -f "$values")
    case $mode in
      yaml) args+=(-o yaml --managed-by Helm) ;;
      json) args+=(-o json -n jobs) ;;
      wiring) args+=(--nautobot-wiring -o yaml --set nautobot.jobsManifestsRestartOnChange=true) ;;
      tree) args+=(-o none --job-queues-dir "$work/TREE") ;;
    esac
    for side in old new; do
      kjq=$old
      [[ $side == new ]] && kjq=$new
      rm -rf "$work/TREE"
      run "$values" "$kjq" "$work/$side" "${args[@]//TREE/$side-tree}"
    done
    runs=$((runs + 1))
    if ! diff -r -q "$work/old" "$work/new" > /dev/null ||
      { [[ $mode == tree ]] && [[ -e $work/old-tree || -e $work/new-tree ]] &&
        ! diff -r -q -x '..2*' "$work/old-tree" "$work/new-tree" > /dev/null 2>&1; }; then
      echo "DIFFERENT: $mode $values"
      fail=1
    fi
    rm -rf "$work/old" "$work/new" "$work/old-tree" "$work/new-tree"
  done
done
echo "$runs comparisons, $([[ $fail == 0 ]] && echo 'all identical' || echo 'some differ')"
exit $fail
