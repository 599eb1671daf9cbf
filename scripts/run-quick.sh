#!/usr/bin/env bash
# The main job from a fresh clone: install dependencies, build, run the quick suite (on the GPU
# when there is one, else on the CPU backend, which says so), and render its report.
# Results go to results/local/ (kept out of git), the report beside the result file.
# Extra arguments are passed to `aicbench run`, e.g. --backend cpu.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release

out=results/local
mkdir -p "$out"
marker=$(mktemp "$out/.run-started.XXXXXX")
trap 'rm -f "$marker"' EXIT
status=0
build/release/harness/aicbench run --suite quick --out "$out" "$@" || status=$?
result=$(find "$out" -maxdepth 1 -name 'aicbench-quick-*.json' -newer "$marker" | sort | tail -n 1)
if [ -z "$result" ]; then
  echo "run-quick: no result file was written" >&2
  exit $((status ? status : 1))
fi
build/release/harness/aicbench report "$result" --md "${result%.json}.md" --html "${result%.json}.html"
echo "run-quick: summary in ${result%.json}.md; open ${result%.json}.html in a browser for the charts"
exit "$status"
