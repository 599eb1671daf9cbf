#!/usr/bin/env bash
# The GPU check, for a machine with an NVIDIA GPU (H100/H200 class; CUDA 13, CMake and ninja, but
# maybe no apt packages and no network). Builds for the GPU it finds, runs the GPU tests and
# compute-sanitizer on small GEMMs, runs the GPU suites against the vendor baselines, and writes
# the result file, a report and a log to OUT_DIR. Made to finish inside a 10-minute device call
# when the kernels work; every step has its own time limit, so a hang costs that step only.
#
#   scripts/gpu-check.sh OUT_DIR
#
# Dependencies come from the system when installed, else from .kit/ (scripts/make-gpu-kit.sh,
# prepared on a development machine and carried along). Commit the result file under
# results/gpu/ (README, "Running on a GPU machine").
set -uo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: scripts/gpu-check.sh OUT_DIR}
mkdir -p "$out"
out=$(cd "$out" && pwd)
log="$out/gpu-check.log"
exec > >(tee "$log") 2>&1
start=$(date +%s)
step() { echo; echo "== $* ($(($(date +%s) - start)) s)"; }
failures=()
notes=()

step "device"
if ! nvidia-smi --query-gpu=name,driver_version,compute_cap,memory.total --format=csv,noheader; then
  echo "gpu-check: nvidia-smi found no GPU; this script is for a GPU machine" >&2
  exit 3
fi
cc=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader | head -1 | tr -d ' .')
# Hopper and Blackwell kernels need the arch-specific targets (wgmma, TMA).
case "$cc" in 90|100) arch="${cc}a" ;; *) arch="$cc" ;; esac
export PATH=/usr/local/cuda/bin:$PATH

step "configure and build for sm_$arch"
prefix=()
[ -d .kit ] && prefix=(-DCMAKE_PREFIX_PATH="$PWD/.kit")
nccl=()
if ! ls /usr/local/cuda/include/nccl.h /usr/include/nccl.h >/dev/null 2>&1; then
  nccl_root=$(python3 -c 'import nvidia.nccl, os; print(os.path.dirname(nvidia.nccl.__file__) + "/nccl")' 2>/dev/null \
    || python3 -c 'import nvidia.nccl, os; print(list(nvidia.nccl.__path__)[0])' 2>/dev/null || true)
  if [ -n "$nccl_root" ] && [ -f "$nccl_root/include/nccl.h" ]; then
    nccl=(-DNCCL_ROOT="$nccl_root")
  else
    echo "gpu-check: NCCL headers not found; building without NCCL"
    nccl=(-DAICBENCH_WITH_NCCL=OFF)
  fi
fi
# OpenBLAS (the CPU backend's baseline) is not in the kit (36 MiB); the GPU check runs CUDA suites.
openblas=()
if ! ls /usr/include/*/openblas*/cblas.h >/dev/null 2>&1 && ! ls /usr/include/openblas/cblas.h >/dev/null 2>&1; then
  echo "gpu-check: OpenBLAS not found; building without the CPU vendor baseline"
  openblas=(-DAICBENCH_WITH_OPENBLAS=OFF)
fi
build=build/gpu
# CMAKE_POLICY_VERSION_MINIMUM: lets CMake 4 read the kit's Debian package files, which declare
# policy ranges starting before 3.5.
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES="$arch" \
  -DCMAKE_POLICY_VERSION_MINIMUM=3.5 -DAICBENCH_BUILD_TESTS=ON "${prefix[@]}" "${nccl[@]}" \
  "${openblas[@]}" || exit 1
cmake --build "$build" -j "$(nproc)" || exit 1
export LD_LIBRARY_PATH="$PWD/.kit/lib/x86_64-linux-gnu:${LD_LIBRARY_PATH:-}"
aicbench="$build/harness/aicbench"
"$aicbench" info

step "GPU tests (ctest -L gpu)"
# Per-test and per-step time limits: a kernel that hangs (a barrier phase wrong in code that was
# written without a GPU) must cost a failed step, not the whole 10 minutes.
# Four at a time: their float64 CPU references, not the GPU, take most of the time.
(cd "$build" && timeout 300 ctest -L gpu --output-on-failure -j 4 --timeout 120) || failures+=("gpu tests")

step "all other tests"
(cd "$build" && timeout 120 ctest -LE gpu --output-on-failure -j 8 --timeout 60) || failures+=("cpu tests")

step "compute-sanitizer memcheck on the smoke suite (small, odd GEMMs)"
if command -v compute-sanitizer >/dev/null; then
  # Every launch completes before the next under the sanitizer, so no blocking kernel, and the
  # fewest samples: the point is to check each kernel's memory accesses on odd shapes.
  timeout 180 compute-sanitizer --tool memcheck --error-exitcode 99 --print-limit 20 \
    "$aicbench" run --suite smoke --backend cuda --mode cold --no-blocking-kernel \
      --min-samples 1 --min-time 0.0001 --timeout 0.2 --out "$out/sanitizer" \
      2>&1 | tee "$out/sanitizer.log"
  if ((PIPESTATUS[0] != 0)); then
    # Some container runtimes give the sanitizer no access to the device: that is the machine's
    # limit, not a finding about the kernels, and is reported as such.
    if grep -q "Device not supported" "$out/sanitizer.log"; then
      notes+=("compute-sanitizer cannot use the device on this machine's runtime: not run")
    else
      failures+=("compute-sanitizer")
    fi
  fi
  rm -rf "$out/sanitizer"
else
  echo "compute-sanitizer not found"; failures+=("compute-sanitizer missing")
fi

step "quick suite against the vendor baselines"
# A kernel that traps or faults loses the CUDA context for the rest of its process; aicbench then
# records every later benchmark as "not run", naming the culprit. Run those again in a new
# process, less the culprit's (up to three times, inside one time budget), so one broken kernel
# costs only its own rows.
marker=$(mktemp)
deadline=$(($(date +%s) + 300))
filter=()
for attempt in 1 2 3 4; do
  left=$((deadline - $(date +%s)))
  if ((left < 30)); then notes+=("quick suite: out of time before attempt $attempt"); break; fi
  timeout "$left" "$aicbench" run --suite quick --backend cuda --out "$out" "${filter[@]}" \
    2>&1 | tee "$out/quick-$attempt.log"
  ((PIPESTATUS[0] == 0)) || failures+=("quick suite (attempt $attempt)")
  culprit=$(sed -n 's|.*lost for this process after gemm/\([A-Za-z0-9_]*\)/.*|\1|p' \
    "$out/quick-$attempt.log" | head -1)
  [ -n "$culprit" ] || break
  notes+=("$culprit lost the CUDA context in the quick suite (see quick-$attempt.log)")
  latest=$(ls -t "$out"/aicbench-quick-*.json | head -1)
  # The names left "not run" in that file, other than the culprit's, as one anchored regex.
  rerun=$(python3 - "$latest" "$culprit" <<'PY'
import json, re, sys
doc = json.load(open(sys.argv[1]))
names = [b["name"] for b in doc["benchmarks"]
         if b.get("error_message", "").startswith("not run: ") and b["aicbench"]["impl"] != sys.argv[2]]
print("^(" + "|".join(re.escape(n) for n in dict.fromkeys(names)) + ")$" if names else "")
PY
)
  [ -n "$rerun" ] || break
  echo "gpu-check: running what $culprit left undone again, in a new process"
  filter=(--filter "$rerun")
done
mapfile -t results < <(find "$out" -maxdepth 1 -name 'aicbench-quick-*.json' -newer "$marker" | sort)
rm -f "$marker"
if ((${#results[@]})); then
  "$aicbench" report "${results[@]}" --md "$out/summary.md"
  if command -v gnuplot >/dev/null; then "$aicbench" report "${results[@]}" --html "$out/report.html"; fi
  echo; cat "$out/summary.md"
fi

step "done"
for note in "${notes[@]}"; do echo "gpu-check: note: $note"; done
if ((${#failures[@]})); then
  echo "gpu-check: FAILED: ${failures[*]}"
  exit 1
fi
echo "gpu-check: all passed; result file(s): ${results[*]}"
