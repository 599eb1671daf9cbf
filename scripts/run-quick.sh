#!/usr/bin/env bash
# The main job from a fresh clone: install dependencies, build, run the quick suite (on the GPU
# when there is one, else on the CPU backend, which says so), and render its report.
# Results go to results/local/ (kept out of git); the report beside the result file.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release

out=results/local
mkdir -p "$out"
before=$(ls "$out"/*.json 2>/dev/null | wc -l)
status=0
build/release/harness/aicbench run --suite quick --out "$out" "$@" || status=$?
result=$(ls -t "$out"/aicbench-quick-*.json 2>/dev/null | head -1)
if [ -z "$result" ] || [ "$(ls "$out"/*.json | wc -l)" -eq "$before" ]; then
  echo "run-quick: no result file was written" >&2
  exit "${status:-1}"
fi
build/release/harness/aicbench report "$result" --md "${result%.json}.md" --html "${result%.json}.html"
echo "run-quick: open ${result%.json}.html in a browser for the charts"
exit "$status"
