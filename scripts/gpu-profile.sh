#!/usr/bin/env bash
# Nsight Compute profiles of the hand-written GEMMs beside the vendor libraries, for tuning: one
# launch each of the quick suite's 8192^3 GEMMs (fp32, bf16, fp8: every hand-written kernel and
# its cuBLAS/cuBLASLt baseline), with the speed-of-light, memory and compute sections. Run after scripts/gpu-check.sh, on the
# same machine: it uses that script's build (build/gpu). A separate step because ncu replays each
# profiled kernel dozens of times and gpu-check.sh must stay inside its 8 minutes; that script's
# --profile runs this one with whatever time it has left.
#
#   scripts/gpu-profile.sh OUT_DIR     writes OUT_DIR/ncu-<impl>-<dtype>.txt and a log
#   AICBENCH_PROFILE_SECONDS=N         stop starting new profiles after N s (default 540)
#
# Best effort: where ncu cannot read the hardware counters (some container runtimes), it says so
# and exits 0, since that says nothing about the kernels.
set -uo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: scripts/gpu-profile.sh OUT_DIR}
mkdir -p "$out"
out=$(cd "$out" && pwd)
exec > >(tee "$out/gpu-profile.log") 2>&1
export PATH=/usr/local/cuda/bin:$PATH
export LD_LIBRARY_PATH="$PWD/.kit/lib/x86_64-linux-gnu:${LD_LIBRARY_PATH:-}"
aicbench=build/gpu/harness/aicbench
[ -x "$aicbench" ] || { echo "gpu-profile: $aicbench not built; run scripts/gpu-check.sh first" >&2; exit 2; }
command -v ncu >/dev/null || { echo "gpu-profile: ncu not found"; exit 0; }
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# Each hand-written kernel beside its vendor baseline, at 8192^3 (impl/dtype).
cases=(cublaslt/bf16 wgmma_sm90/bf16 wgmma_sm90_multicast/bf16 mma_sm80/bf16
       cublaslt/fp8 wgmma_sm90/fp8 wgmma_sm90_multicast/fp8
       cublas/fp32 simt/fp32)
# scripts/gpu-check.sh --profile passes what is left of its own deadline; alone, 540 s fit one
# 10-minute device call.
deadline=$(($(date +%s) + ${AICBENCH_PROFILE_SECONDS:-540}))
for case in "${cases[@]}"; do
  impl=${case%/*} dtype=${case#*/}
  left=$((deadline - $(date +%s)))
  if ((left < 20)); then echo "gpu-profile: out of time before $impl $dtype"; break; fi
  report="$out/ncu-$impl-$dtype.txt"
  echo "== $impl $dtype"
  # The first GEMM launch is validation's; profile the second (the first timed or warm-up one).
  # Clocks are left alone (--clock-control none), as the harness's methodology requires.
  # The name filter keeps the L2-flush and blocker kernels out; cuBLASLt's kernels are named
  # nvjet_* or sm90_xmma_gemm_* depending on the version.
  timeout $((left < 120 ? left : 120)) ncu --clock-control none -k 'regex:gemm|nvjet|xmma|cutlass' --launch-skip 1 \
    --launch-count 1 --section SpeedOfLight --section MemoryWorkloadAnalysis \
    --section ComputeWorkloadAnalysis --section LaunchStats --section Occupancy \
    "$aicbench" run --suite quick --backend cuda --mode hot --no-blocking-kernel \
      --filter "^gemm/$impl/$dtype/M:8192/N:8192/K:8192(/|$)" \
      --min-samples 3 --min-time 0.001 --timeout 5 --out "$scratch" >"$report" 2>&1
  rc=$?
  if grep -q -e "ERR_NVGPUCTRPERM" -e "Failed to initialize the profiler" "$report"; then
    echo "ncu cannot read the hardware counters here; no profiles (see $report)"
    exit 0
  fi
  ((rc == 0)) || echo "ncu exited $rc on $impl $dtype (see $report)"
  grep -E -e "^  [a-z_]+.*\(" -e "Duration|Compute \(SM\) Throughput|Memory Throughput|L2 Cache Throughput|DRAM Throughput|Registers Per Thread|Achieved Occupancy" \
    "$report" | head -20
done
echo "gpu-profile: reports in $out"
