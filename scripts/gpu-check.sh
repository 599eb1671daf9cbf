#!/usr/bin/env bash
# The GPU check: one prepared call on a lent GPU machine (H100/H200 class; CUDA 13, CMake and ninja,
# no apt, no network), made to stop itself within 8 minutes of wall time so that a 15-minute device
# budget (machine start included) keeps room for one rerun. In this order, each step inside one
# global deadline:
#
#   device      nvidia-smi: the GPU, its compute capability (sm_90a on Hopper), the result file name
#   configure   cmake for that one architecture, dependencies from .kit/ (scripts/make-gpu-kit.sh)
#   build       only the aicbench binary and the GPU test binaries, ninja -j$(nproc)
#   gpu-tests   ctest -L gpu -LE mpi: correctness first (each kernel against float64 references)
#   collectives ctest gpu_collectives_np{1,2,4}: NCCL and the hand-written all-reduce under mpirun,
#               several processes sharing the GPU (CUDA IPC within one device), wrong elements counted
#   sanitizer   compute-sanitizer memcheck over the smoke suite (small, odd GEMMs and attention)
#   quick       the quick suite on the CUDA backend: every precision at 4096^3 and 8192^3 beside
#               cuBLAS/cuBLASLt, both Hopper kernels, the sm80 and SIMT paths
#   report      summary.md, the result file(s) renamed for results/gpu/, logs packed
#   profile     (--profile only) scripts/gpu-profile.sh with whatever time is left, if 60 s are
#
# Each step has a budget (the plan: `--dry-run` prints it) and must end by the time the plan's
# budgets up to and including it have passed, or by the global deadline, whichever is first (the
# report's 10 s are kept back from the deadline for every step before it): time a step leaves
# unused goes to the steps after it, a step that overruns is stopped (timeout) and costs only
# itself, and a step that would get less than the least it needs is skipped and said so.
#
#   scripts/gpu-check.sh [--profile] [--budget SECONDS] [--skip STEP,...] OUT_DIR
#   scripts/gpu-check.sh --dry-run [--budget SECONDS] [--skip STEP,...]     (or AICBENCH_GPU_CHECK_DRY_RUN=1)
#
# --budget: the global deadline in seconds (default 480, or AICBENCH_GPU_CHECK_SECONDS); a rerun on
# the still-warm machine passes less (its build is kept, so the build step takes seconds).
# --skip: steps to leave out (configure, build, gpu-tests, collectives, sanitizer, quick).
#
# OUT_DIR receives at most 8 files, as the device tool brings back: gpu-check.log, summary.md, the
# result file(s) <gpu>-<date>-quick[-N].json to commit under results/gpu/, logs.tar.gz (every
# step's own log) and, with --profile, profile.tar.gz. README, "Running on a GPU machine", has the
# exact device call. Exit status: 0 when every step that ran passed, 1 when one failed, 3 without a
# GPU, 2 on bad arguments.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2

usage() { sed -n '/^#   scripts/s/^#   //p' "$0"; }

budget=${AICBENCH_GPU_CHECK_SECONDS:-480}
dry_run=${AICBENCH_GPU_CHECK_DRY_RUN:-0}
[ "$dry_run" = 0 ] || dry_run=1
profile=0
skip=","
out=""
while (($#)); do
  case "$1" in
    --dry-run) dry_run=1 ;;
    --profile) profile=1 ;;
    --budget) budget=${2:-}; shift ;;
    --budget=*) budget=${1#*=} ;;
    --skip) skip+="${2:-},"; shift ;;
    --skip=*) skip+="${1#*=}," ;;
    -h|--help) usage; exit 0 ;;
    -*) echo "gpu-check: unknown option $1" >&2; usage >&2; exit 2 ;;
    *) [ -z "$out" ] || { echo "gpu-check: one OUT_DIR only" >&2; exit 2; }; out=$1 ;;
  esac
  shift
done
[[ "$budget" =~ ^[0-9]+$ ]] || { echo "gpu-check: --budget takes whole seconds, not '$budget'" >&2; exit 2; }

# The plan: step, budget (s), the least it needs to be worth starting (s). The budgets add up to
# the default global deadline, 480 s; the test gpu_check_plan checks that they fit.
# Build: measured nowhere yet (no GPU machine has built this tree); one architecture, 16 cores.
# Quick: 39 CUDA benchmarks, most a few seconds each (host preparation, validation, timing).
# Collectives: three mpirun jobs of 1, 2 and 4 processes on the one GPU; each barrier of the
# hand-written kernels then waits for the GPU to switch between the processes' contexts.
# The device step's least is well under its budget: the clock may tick a second between the
# script's start and the step's, and the step must run whatever the clock says.
plan=(
  "device      10  2"
  "configure   25  10"
  "build       120 20"
  "gpu-tests   75  30"
  "collectives 45  20"
  "sanitizer   60  20"
  "quick       135 60"
  "report      10  5"
)
profile_min=60
reserve=10  # the report's budget, kept back from every step before it, whatever the deadline
skippable=",configure,build,gpu-tests,collectives,sanitizer,quick,"
IFS=, read -r -a asked <<<"${skip#,}"
for s in "${asked[@]}"; do
  [ -z "$s" ] || [[ "$skippable" == *",$s,"* ]] || { echo "gpu-check: --skip $s: not one of${skippable//,/ }" >&2; exit 2; }
done

if ((dry_run)); then
  # The plan, as if every step used all of its time: when each must end ('by', seconds from the
  # start) and how long it may take at most ('limit').
  echo "gpu-check plan: global deadline ${budget} s; every step ends by its 'by' time (the sum of the budgets so far) or the deadline"
  printf '  %-10s %6s %6s %6s %6s\n' step budget least limit by
  total=0 t=0
  for row in "${plan[@]}"; do
    read -r name b least <<<"$row"
    if [[ "$skip" == *",$name,"* ]]; then printf '  %-11s skipped (--skip)\n' "$name"; continue; fi
    total=$((total + b))
    cap=$budget
    [ "$name" = report ] || cap=$((budget - reserve))
    by=$((total < cap ? total : cap))
    if ((by - t < least)); then
      printf '  %-11s %6d %6d skipped: would get %d s\n' "$name" "$b" "$least" "$((by - t < 0 ? 0 : by - t))"
      continue
    fi
    printf '  %-11s %6d %6d %6d %6d\n' "$name" "$b" "$least" "$((by - t))" "$by"
    t=$by
  done
  if ((profile)); then
    if ((budget - t - 5 < profile_min)); then
      printf '  %-11s %6s %6d skipped: would get %d s\n' profile rest "$profile_min" "$((budget - t - 5 < 0 ? 0 : budget - t - 5))"
    else
      printf '  %-11s %6s %6d %6d %6d\n' profile rest "$profile_min" "$((budget - t - 5))" "$((budget - 5))"
    fi
  fi
  echo "budgets: $total s; deadline: $budget s"
  exit 0
fi

[ -n "$out" ] || { usage >&2; exit 2; }
mkdir -p "$out/logs"
out=$(cd "$out" && pwd)
logs="$out/logs"
log="$out/gpu-check.log"
exec > >(tee "$log") 2>&1
start=$(date +%s)
deadline=$((start + budget))
failures=()
notes=()
planned=0   # the plan's cumulative budget up to the current step
limit=0     # the current step's time limit

# begin STEP: 0 and sets $limit when the step is to run; 1 (said and noted) when it is skipped.
begin() {
  local name=$1 row n b least now
  for row in "${plan[@]}"; do
    read -r n b least <<<"$row"
    [ "$n" = "$name" ] && break
  done
  now=$(date +%s)
  echo
  if [[ "$skip" == *",$name,"* ]]; then
    echo "== $name: skipped (--skip) (at $((now - start)) s)"; notes+=("$name: skipped (--skip)")
    return 1
  fi
  planned=$((planned + b))
  local by=$((start + planned)) cap=$deadline
  [ "$name" = report ] || cap=$((deadline - reserve))
  ((by < cap)) || by=$cap
  limit=$((by - now))
  if ((limit < least)); then
    echo "== $name: skipped, $limit s left for it, needs $least (at $((now - start)) s)"
    notes+=("$name: skipped: $((limit < 0 ? 0 : limit)) s left for it, needs at least $least")
    return 1
  fi
  echo "== $name (at most $limit s; at $((now - start)) s of $budget)"
  return 0
}
# have_binary STEP: 0 when the aicbench binary is there, else says and notes that STEP cannot run.
have_binary() {
  [ -x "$aicbench" ] && return 0
  echo "gpu-check: no aicbench binary (configure or build did not run or failed): step not run"
  failures+=("$1: not run, no build")
  return 1
}

begin device || limit=10   # never skipped: every later step needs what it finds
if ! timeout "$limit" nvidia-smi --query-gpu=name,driver_version,compute_cap,memory.total --format=csv,noheader; then
  echo "gpu-check: nvidia-smi found no GPU; this script is for a GPU machine" >&2
  exit 3
fi
gpu_name=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1)
cc=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader | head -1 | tr -d ' .')
# Hopper and Blackwell kernels need the arch-specific targets (wgmma, TMA).
case "$cc" in 90|100) arch="${cc}a" ;; *) arch="$cc" ;; esac
# "NVIDIA H200" -> h200, "NVIDIA H100 80GB HBM3" -> h100-80gb-hbm3: the results/gpu/ file name.
gpu_slug=$(echo "$gpu_name" | tr '[:upper:]' '[:lower:]' | sed -e 's/^nvidia //' -e 's/[^a-z0-9]\+/-/g' -e 's/^-//' -e 's/-$//')
result_base="${gpu_slug:-gpu}-$(date -u +%F)-quick"
echo "gpu-check: sm_$arch; result file $result_base.json"
export PATH=/usr/local/cuda/bin:$PATH
build=build/gpu
aicbench="$build/harness/aicbench"

if begin configure; then
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
  # OpenBLAS (the CPU backend's baseline) is not in the kit (36 MiB), and this check runs CUDA
  # suites: without it the `openblas` benchmarks are recorded as skipped.
  openblas=()
  if ! ls /usr/include/*/openblas*/cblas.h >/dev/null 2>&1 && ! ls /usr/include/openblas/cblas.h >/dev/null 2>&1; then
    echo "gpu-check: OpenBLAS not found; building without the CPU vendor baseline"
    openblas=(-DAICBENCH_WITH_OPENBLAS=OFF)
  fi
  # MPI (mpirun and its compiler wrappers): without it aicbench runs one process, and the
  # collectives step checks NCCL alone (the hand-written kernels need 2+ processes).
  mpi=()
  if ! command -v mpicxx >/dev/null && ! command -v mpicc >/dev/null; then
    echo "gpu-check: MPI not found; building without it (the collectives step runs one process)"
    mpi=(-DAICBENCH_WITH_MPI=OFF)
  fi
  # cuDNN (the attention baseline) ships beside the toolkit in NVIDIA's images; where it does not,
  # the `cudnn` attention benchmarks are recorded as skipped.
  cudnn=()
  if ! ls /usr/local/cuda/include/cudnn_version.h /usr/include/cudnn_version.h \
         /usr/include/*-linux-gnu/cudnn_version.h >/dev/null 2>&1; then
    echo "gpu-check: cuDNN not found; building without the attention vendor baseline"
    cudnn=(-DAICBENCH_WITH_CUDNN=OFF)
  fi
  # CMAKE_POLICY_VERSION_MINIMUM: lets CMake 4 read the kit's Debian package files, which declare
  # policy ranges starting before 3.5.
  timeout -k 5 "$limit" cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_CUDA_ARCHITECTURES="$arch" -DCMAKE_POLICY_VERSION_MINIMUM=3.5 -DAICBENCH_BUILD_TESTS=ON \
    "${prefix[@]}" "${nccl[@]}" "${openblas[@]}" "${mpi[@]}" "${cudnn[@]}" >"$logs/configure.log" 2>&1
  rc=$?
  tail -5 "$logs/configure.log"
  if ((rc != 0)); then
    tail -30 "$logs/configure.log"; failures+=("configure (exit $rc)")
    rm -f "$aicbench"  # never benchmark a stale binary
  fi
fi

if begin build; then
  if [ -f "$build/build.ninja" ]; then
    # Only what the later steps run: not the CPU-only tests (CI runs them) nor the fuzzers. The
    # binary by its path: CMake's Ninja generator gives the name `aicbench` to the reports-only
    # binary (reports/aicbench, its OUTPUT_NAME), so `--target aicbench` would not build this one.
    timeout -k 5 "$limit" cmake --build "$build" -j "$(nproc)" \
      --target harness/aicbench test_gpu_gemm test_gpu_gemm_kernels test_gpu_gemm_wgmma test_gpu_collectives \
      test_gpu_attention test_gpu_memory >"$logs/build.log" 2>&1
    rc=$?
    tail -3 "$logs/build.log"
    if ((rc != 0)); then
      grep -E -m 20 "error|FAILED" "$logs/build.log"; failures+=("build (exit $rc)")
      rm -f "$aicbench"
    fi
  else
    echo "gpu-check: not configured"; notes+=("build: not run: not configured"); rm -f "$aicbench"
  fi
fi
export LD_LIBRARY_PATH="$PWD/.kit/lib/x86_64-linux-gnu:${LD_LIBRARY_PATH:-}"
[ -x "$aicbench" ] && "$aicbench" info

if begin gpu-tests && have_binary gpu-tests; then
  # Four at a time: their float64 CPU references, not the GPU, take most of the time. A kernel
  # that hangs (a barrier phase wrong in code written without a GPU) costs its test, not the step.
  # The collectives' mpirun tests (also labelled gpu) have their own step, run one at a time.
  (cd "$build" && timeout -k 5 "$limit" ctest -L gpu -LE mpi --output-on-failure -j 4 --timeout $((limit < 60 ? limit : 60)) \
    >"$logs/gpu-tests.log" 2>&1)
  rc=$?
  grep -E -e "tests passed|\*\*\*(Failed|Timeout|Exception)|Skipped" "$logs/gpu-tests.log" | tail -40
  ((rc == 0)) || failures+=("gpu tests (exit $rc; logs/gpu-tests.log)")
fi

if begin collectives && have_binary collectives; then
  # One at a time: the processes of each share the GPU, and a second job would slow every barrier.
  # A kernel whose flags were wrong would hang: the per-test timeout stops it and names the test.
  (cd "$build" && timeout -k 5 "$limit" ctest -R '^gpu_collectives_np' --output-on-failure \
    --timeout $((limit < 120 ? limit : 120)) >"$logs/collectives.log" 2>&1)
  rc=$?
  grep -E -e "tests passed|\*\*\*(Failed|Timeout|Exception)|Skipped|\[  (FAILED|SKIPPED) \]" "$logs/collectives.log" |
    sort -u | tail -40
  ((rc == 0)) || failures+=("gpu collectives (exit $rc; logs/collectives.log)")
fi

if begin sanitizer && have_binary sanitizer; then
  if command -v compute-sanitizer >/dev/null; then
    # Every launch completes before the next under the sanitizer, so no blocking kernel, and the
    # fewest samples: the point is to check each kernel's memory accesses on odd shapes.
    timeout -k 5 "$limit" compute-sanitizer --tool memcheck --error-exitcode 99 --print-limit 20 \
      "$aicbench" run --suite smoke --backend cuda --mode cold --no-blocking-kernel \
        --min-samples 1 --min-time 0.0001 --timeout 0.2 --out "$out/sanitizer" >"$logs/sanitizer.log" 2>&1
    rc=$?
    tail -5 "$logs/sanitizer.log"
    if ((rc != 0)); then
      # Some container runtimes (gVisor) give the sanitizer no access to the device: that is the
      # machine's limit, not a finding about the kernels, and is reported as such.
      if grep -q "Device not supported" "$logs/sanitizer.log"; then
        notes+=("sanitizer: compute-sanitizer cannot use the device on this machine's runtime: not run")
      elif ((rc == 124 || rc == 137)); then
        failures+=("compute-sanitizer (stopped after $limit s)")
      else
        grep -m 20 "=========" "$logs/sanitizer.log"; failures+=("compute-sanitizer (exit $rc)")
      fi
    fi
    rm -rf "$out/sanitizer"
  else
    echo "compute-sanitizer not found"; failures+=("compute-sanitizer missing")
  fi
fi

results=()
if begin quick && have_binary quick; then
  # A kernel that traps or faults loses the CUDA context for the rest of its process; aicbench then
  # records every later benchmark as "not run", naming the culprit. Run those again in a new
  # process, less the culprit's (up to three times, inside this step's limit), so one broken
  # kernel costs only its own rows.
  marker=$(mktemp)
  quick_end=$(($(date +%s) + limit))
  # aicbench rewrites its result file after every benchmark, so a run stopped at the limit keeps
  # what it finished; to finish all of it, each benchmark's sampling (15 s at most by default, when
  # its noise will not settle) gets a share of half the limit, between 1 and 15 s; preparation,
  # validation and warm-up take the rest.
  count=$("$aicbench" list --suite quick 2>/dev/null |
    awk '/^  [a-z]+ backend/ { cuda = ($1 == "cuda") } cuda && /^    yes/ { n++ } END { print n + 0 }')
  ((count > 0)) || count=36
  per=$((limit / 2 / count))
  ((per >= 1)) || per=1
  ((per <= 15)) || per=15
  echo "gpu-check: $count benchmarks to run here; sampling at most $per s each"
  filter=(--timeout "$per")
  for attempt in 1 2 3 4; do
    left=$((quick_end - $(date +%s)))
    if ((left < 20)); then notes+=("quick: out of time before attempt $attempt"); break; fi
    timeout -k 5 "$left" "$aicbench" run --suite quick --backend cuda --out "$out" "${filter[@]}" \
      >"$logs/quick-$attempt.log" 2>&1
    rc=$?
    grep -E -e "^gemm/|error|lost" "$logs/quick-$attempt.log" | tail -60
    if ((rc == 124 || rc == 137)); then
      failures+=("quick suite (attempt $attempt stopped at the step's limit; the result file keeps what finished)")
      break
    elif ((rc != 0)); then
      tail -5 "$logs/quick-$attempt.log"; failures+=("quick suite (attempt $attempt, exit $rc)")
    fi
    culprit=$(sed -n 's|.*lost for this process after gemm/\([A-Za-z0-9_]*\)/.*|\1|p' \
      "$logs/quick-$attempt.log" | head -1)
    [ -n "$culprit" ] || break
    notes+=("quick: $culprit lost the CUDA context (logs/quick-$attempt.log)")
    latest=$(ls -t "$out"/aicbench-quick-*.json 2>/dev/null | head -1)
    [ -n "$latest" ] || break
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
    filter=(--timeout "$per" --filter "$rerun")
  done
  mapfile -t results < <(find "$out" -maxdepth 1 -name 'aicbench-quick-*.json' -newer "$marker" | sort)
  rm -f "$marker"
fi

if begin report; then
  # The result files under the names results/gpu/ keeps: <gpu>-<date>-quick.json, then -quick-2...
  named=()
  for i in "${!results[@]}"; do
    name="$result_base$( ((i == 0)) || echo "-$((i + 1))").json"
    mv "${results[$i]}" "$out/$name" && named+=("$out/$name")
  done
  results=("${named[@]}")
  if ((${#results[@]})) && [ -x "$aicbench" ]; then
    timeout -k 2 "$limit" "$aicbench" report "${results[@]}" --md "$out/summary.md" || failures+=("report")
    echo; cat "$out/summary.md" 2>/dev/null
  else
    echo "gpu-check: no result file: no summary"
  fi
fi

if ((profile)); then
  left=$((deadline - $(date +%s) - 5))  # 5 s to pack the reports
  echo
  if ((left < profile_min)); then
    echo "== profile: skipped, $left s left, needs $profile_min"; notes+=("profile: skipped: $left s left, needs $profile_min")
  elif [ ! -x "$aicbench" ]; then
    notes+=("profile: not run: no build")
  else
    echo "== profile (at most $left s)"
    AICBENCH_PROFILE_SECONDS=$left timeout -k 5 "$left" scripts/gpu-profile.sh "$out/profile" >/dev/null 2>&1
    grep -v "^==PROF==" "$out/profile/gpu-profile.log" 2>/dev/null | tail -60
    tar -czf "$out/profile.tar.gz" -C "$out" profile && rm -rf "$out/profile"
  fi
fi

# Everything else in one file, so that OUT_DIR stays within the device tool's 8 files.
[ -f "$out/report.html" ] && mv "$out/report.html" "$logs/"
tar -czf "$out/logs.tar.gz" -C "$out" logs && rm -rf "$logs"

echo
echo "== done ($(($(date +%s) - start)) s of $budget)"
for note in "${notes[@]}"; do echo "gpu-check: note: $note"; done
if ((${#failures[@]})); then
  echo "gpu-check: FAILED: ${failures[*]}"
  exit 1
fi
echo "gpu-check: all passed; result file(s) for results/gpu/: ${results[*]##*/}"
