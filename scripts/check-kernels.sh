#!/usr/bin/env bash
# Static checks on the CUDA kernels, for machines without a GPU (CI):
#  1. every .cu file under kernels/ compiles for each target architecture (sm_80, sm_90a, sm_100a);
#  2. ptxas reports no register spills, except for kernels listed in kernels/spills-allowed.txt;
#  3. the PTX holds the instructions each kernel was written to use (table below), so a change
#     that silently falls back to slower code fails here rather than on a GPU weeks later.
# Usage: scripts/check-kernels.sh [BUILD_DIR]   (BUILD_DIR only for the log location)
set -euo pipefail
cd "$(dirname "$0")/.."
log_dir=${1:-build}/check-kernels
mkdir -p "$log_dir"
nvcc=$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)
archs=(80 90a 100a)

# file : architecture : extended regex that must match its PTX
expectations=(
  "kernels/gemm/gemm_simt.cu:80:fma\.rn\.f32"
  "kernels/gemm/gemm_simt.cu:80:ld\.shared\.v4\.f32"
  "kernels/gemm/gemm_simt.cu:80:ld\.global(\.nc)?\.v4\.f32"
  "kernels/gemm/gemm_mma_sm80.cu:80:mma\.sync\.aligned\.m16n8k16"
  "kernels/gemm/gemm_mma_sm80.cu:80:ldmatrix"
  "kernels/gemm/gemm_mma_sm80.cu:80:cp\.async"
  "kernels/gemm/gemm_mma_sm80.cu:80:mma\.sync\.aligned\.m16n8k8.*tf32"
  "kernels/gemm/gemm_wgmma_sm90.cu:90a:wgmma\.mma_async"
  "kernels/gemm/gemm_wgmma_sm90.cu:90a:cp\.async\.bulk\.tensor"
  "kernels/gemm/gemm_wgmma_sm90.cu:90a:mbarrier"
  "kernels/gemm/gemm_wgmma_sm90.cu:90a:setmaxnreg"
  "kernels/gemm/gemm_wgmma_sm90.cu:90a:wgmma\.mma_async.*\.e4m3\.e4m3"
  "kernels/gemm/gemm_wgmma_sm90.cu:90a:cp\.async\.bulk\.tensor.*\.multicast::cluster"
  "kernels/gemm/gemm_wgmma_sm90.cu:90a:mapa\.shared::cluster"
  "kernels/gemm/gemm_wgmma_sm90.cu:90a:barrier\.cluster\.wait"
)

allowed_spills=kernels/spills-allowed.txt
failures=0

for cu in $(find kernels -name '*.cu' | sort); do
  for arch in "${archs[@]}"; do
    name=$(basename "$cu" .cu)_sm_$arch
    if ! "$nvcc" -std=c++17 -O3 --expt-relaxed-constexpr -I. -arch=sm_$arch -cubin \
         -Xptxas -v -o "$log_dir/$name.cubin" "$cu" >"$log_dir/$name.ptxas.log" 2>&1; then
      echo "FAIL compile: $cu for sm_$arch (log: $log_dir/$name.ptxas.log)"
      cat "$log_dir/$name.ptxas.log"
      failures=$((failures + 1))
      continue
    fi
    # ptxas prints the entry function, then its resource lines, then the spill counts.
    spills=$(awk '
      /Compiling entry function/ { fn = $0; sub(/.*function ./, "", fn); sub(/. for .*/, "", fn) }
      /bytes spill stores/ {
        n = split($0, parts, ",")
        for (i = 1; i <= n; i++) if (parts[i] ~ /spill (stores|loads)/ && parts[i] + 0 > 0) print fn
      }
    ' "$log_dir/$name.ptxas.log" | sort -u)
    for fn in $spills; do
      if [ -f "$allowed_spills" ] && grep -qx "$fn" "$allowed_spills"; then continue; fi
      echo "FAIL spills: $fn in $cu for sm_$arch spills registers (allow it in $allowed_spills if intended)"
      failures=$((failures + 1))
    done
    regs=$(grep -o 'Used [0-9]* registers' "$log_dir/$name.ptxas.log" | tr '\n' ' ')
    echo "ok   $cu sm_$arch: ${regs:-no kernels}"
  done
done

declare -A ptx_built  # one PTX compile per (file, architecture), however many patterns
for e in "${expectations[@]}"; do
  IFS=: read -r cu arch pattern <<<"$e"
  ptx="$log_dir/$(basename "$cu" .cu)_compute_$arch.ptx"
  if [ -z "${ptx_built[$ptx]:-}" ]; then
    "$nvcc" -std=c++17 -O3 --expt-relaxed-constexpr -I. -arch=compute_$arch -ptx -o "$ptx" "$cu"
    ptx_built[$ptx]=1
  fi
  if grep -Eq "$pattern" "$ptx"; then
    echo "ok   $cu compute_$arch PTX has /$pattern/"
  else
    echo "FAIL $cu compute_$arch PTX lacks /$pattern/"
    failures=$((failures + 1))
  fi
done

if ((failures)); then
  echo "check-kernels: $failures failure(s)"
  exit 1
fi
echo "check-kernels: all kernels compile for ${archs[*]}, no unexpected spills, expected instructions present"
