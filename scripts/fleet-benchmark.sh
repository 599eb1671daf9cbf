#!/usr/bin/env bash
# Times `aicbench fleet` on generated fleets and scores what it finds against what was planted:
# the numbers docs/fleet.md quotes. A benchmark, not a test: it writes about 1 GB under $TMPDIR.
#
#   scripts/fleet-benchmark.sh [BUILD_DIR]      (default build/reports; needs its tests built:
#                                                cmake --preset reports && cmake --build build/reports)
#
# Fleets, each from a real result file of `aicbench run --backend cpu` (tests/data/):
#   accept 1,250 nodes x 8 GPUs, the acceptance suite's 4 CPU benchmarks x 1 repetition
#          (result-cpu-acceptance.json), ~8 KB a GPU
#   light  1,250 nodes x 8 GPUs, 6 benchmarks x 1 repetition  (result-cpu-smoke.json), ~16 KB a GPU
#   heavy  1,250 nodes x 8 GPUs, 6 benchmarks x 3 repetitions (result-cpu-smoke-repetitions.json,
#          with their aggregates), ~70 KB a GPU
#   1250   1,250 nodes x 1 GPU, the heavy file: 1,250 files, as many as the issue's node files
# Planted on each: 5 slow, 3 each of failing, erroring, hot, throttled, missing GPU (not on 1-GPU
# nodes), missing benchmark, odd driver. One core (taskset -c 0), the files read once beforehand
# so the page cache holds them.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build/reports}
aicbench=$build/reports/aicbench
generator=$build/tests/fleet_generator
for tool in "$aicbench" "$generator"; do
  [[ -x $tool ]] || { echo "fleet-benchmark: $tool is not built (cmake --build $build)" >&2; exit 2; }
done
work=$(mktemp -d "${TMPDIR:-/tmp}/aicbench-fleet-benchmark.XXXXXX")
trap 'rm -rf "$work"' EXIT
pin=()
command -v taskset >/dev/null && pin=(taskset -c 0)

plants=slow=5,failing=3,erroring=3,hot=3,throttled=3,missing_gpu=3,missing_benchmark=3,odd_driver=3

score() {  # fleet, report name, what ("timed" or a label)
  python3 - "$1" "$2" "$3" "$work" <<'EOF'
import csv, json, os, sys
fleet, name, what, work = sys.argv[1:5]
expected = {"slow": "slow", "failing": "failing", "erroring": "failing", "hot": "hot", "throttled": "throttled",
            "missing_gpu": "missing", "missing_benchmark": "missing", "odd_driver": "odd provenance"}
planted = list(csv.DictReader(open(f"{work}/{fleet}-planted.csv")))
report = json.load(open(f"{work}/{name}-fleet.json"))
named = {o["node"]: set(o["reasons"]) for o in report["outliers"]}
found = sum(1 for p in planted if expected[p["kind"]] in named.get(p["node"], ()))
others = sorted(set(named) - {p["node"] for p in planted})
clean = report["fleet"]["nodes"] - len(planted)
detection = (f"planted found {found}/{len(planted)}, others named {len(others)} of {clean} clean nodes "
             f"({', '.join(sorted({r for n in others for r in named[n]})) or '-'})")
if what == "timed":
    user, system, wall, rss = open(f"{work}/{name}-time").read().splitlines()[-1].split()
    size = sum(os.path.getsize(os.path.join(work, name, f)) for f in os.listdir(os.path.join(work, name)))
    print(f"{name:6} {report['fleet']['files']:6} files {size / 1e6:4.0f} MB  {float(user):5.2f} s user "
          f"{float(system):4.2f} s sys {float(wall):6.2f} s wall {int(rss) / 1024:4.0f} MB max RSS  {detection}")
else:
    print(f"{'':6} {what:>50}  {detection}")
EOF
}

run() {  # name template gpus-per-node plants [other k values to score]
  local name=$1 template=$2 gpus=$3 plant=$4 ks=${5:-}
  "$generator" --template "$root/tests/data/$template" --out "$work/$name" --nodes 1250 --gpus-per-node "$gpus" \
    --seed 7 --plant "$plant" --planted "$work/$name-planted.csv" >/dev/null
  cat "$work/$name"/*.json >/dev/null
  local status=0
  /usr/bin/time -f "%U %S %e %M" -o "$work/$name-time" "${pin[@]}" "$aicbench" fleet "$work/$name" \
    --json "$work/$name-fleet.json" >/dev/null || status=$?
  [[ $status -le 1 ]] || { echo "fleet-benchmark: aicbench fleet exited $status on $name" >&2; exit 1; }
  score "$name" "$name" timed
  for k in $ks; do
    "$aicbench" fleet "$work/$name" --k-sigma "$k" --json "$work/$name-k$k-fleet.json" >/dev/null || true
    score "$name" "$name-k$k" "--k-sigma $k"
  done
  rm -rf "${work:?}/$name"
}

echo "aicbench fleet on generated fleets ($(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)):"
run accept result-cpu-acceptance.json 8 "$plants"
run light result-cpu-smoke.json 8 "$plants" "3 4 5"
run heavy result-cpu-smoke-repetitions.json 8 "$plants" "3 4 5"
run 1250 result-cpu-smoke-repetitions.json 1 "${plants/missing_gpu=3,/}"
