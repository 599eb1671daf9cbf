#!/usr/bin/env bash
# Static checks on the CUDA kernels, for machines without a GPU (CI):
#  1. every .cu file under kernels/ and collectives/ compiles for each target architecture (sm_80,
#     sm_90a, sm_100a);
#  2. ptxas reports no register spills, except for kernels listed in kernels/spills-allowed.txt;
#  3. ptxas prints no advisory (C75xx, "Potential Performance Loss", e.g. C7518 "wgmma.mma_async
#     instructions are serialized"), except those listed in kernels/advisories-allowed.txt;
#  4. the PTX holds the instructions each kernel was written to use (table below), so a change
#     that silently falls back to slower code fails here rather than on a GPU weeks later, and
#     lacks those it must not use (the collectives' peer data through the non-coherent cache; the
#     multimem path on an architecture without it);
#  5. the SASS (cuobjdump -sass) of each kernel: no local memory (LDL/STL) anywhere; for the
#     Hopper kernels, per K-tile of the mainloop, four GMMA of the expected shape, one
#     WARPGROUP.ARRIVE and one WARPGROUP.DEPBAR (wait), no memory fence (MEMBAR) or L1
#     invalidate (CCTL) in the mainloop or the producer's loop, the setmaxnreg values, multicast
#     TMA in kernel2; for the Ampere kernel, the HMMA/LDSM/LDGSTS counts of its mainloop and a
#     ceiling on its register moves; for the STREAM kernels (kernels/memory), 16-byte loads
#     (LDG.E.128) and stores (STG.E.128), at least four per array in flight in one loop. The
#     mainloop is found by its backward branch (scripts/sass-mainloop.awk).
# Usage: scripts/check-kernels.sh [BUILD_DIR]               (BUILD_DIR only for the log location)
#        scripts/check-kernels.sh --self-test [BUILD_DIR]   (the checks must fail on the planted
#                                                           defects of tests/kernel_defects/)
# cuobjdump comes from PyPI (nvidia-cuda-cuobjdump, installed by scripts/install-deps.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
self_test=0
if [ "${1:-}" = --self-test ]; then self_test=1; shift; fi
log_dir=${1:-build}/check-kernels
mkdir -p "$log_dir"
nvcc=$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)
archs=(80 90a 100a)
allowed_spills=kernels/spills-allowed.txt
allowed_advisories=kernels/advisories-allowed.txt
failures=0

ok() { echo "ok   $*"; }
fail() {
  echo "FAIL $*"
  failures=$((failures + 1))
}

# file : architecture : extended regex that must match its PTX
ptx_expectations=(
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
  "kernels/burnin/burnin_check.cu:80:ld\.global\.nc\.v4\.u32"
  "kernels/attention/attention_mma_sm80.cu:80:mma\.sync\.aligned\.m16n8k16\.row\.col\.f32\.bf16\.bf16\.f32"
  "kernels/attention/attention_mma_sm80.cu:80:mma\.sync\.aligned\.m16n8k16\.row\.col\.f32\.f16\.f16\.f32"
  "kernels/attention/attention_mma_sm80.cu:80:ldmatrix\.sync\.aligned\.m8n8\.x4\.shared\.b16"
  "kernels/attention/attention_mma_sm80.cu:80:ldmatrix\.sync\.aligned\.m8n8\.x4\.trans\.shared\.b16"
  "kernels/attention/attention_mma_sm80.cu:80:cp\.async\.cg\.shared\.global"
  "kernels/attention/attention_mma_sm80.cu:80:ex2\.approx"
  # The Hopper attention kernel: wgmma in both input types (Q K^T from shared memory, P V with P
  # from registers), 4-D TMA loads, the register split, mbarrier waits, the ping-pong's bar.arrive.
  "kernels/attention/attention_wgmma_sm90.cu:90a:wgmma\.mma_async\.sync\.aligned\.m64n[0-9]+k16\.f32\.bf16\.bf16"
  "kernels/attention/attention_wgmma_sm90.cu:90a:wgmma\.mma_async\.sync\.aligned\.m64n[0-9]+k16\.f32\.f16\.f16"
  "kernels/attention/attention_wgmma_sm90.cu:90a:cp\.async\.bulk\.tensor\.4d"
  "kernels/attention/attention_wgmma_sm90.cu:90a:setmaxnreg\.dec"
  "kernels/attention/attention_wgmma_sm90.cu:90a:setmaxnreg\.inc"
  "kernels/attention/attention_wgmma_sm90.cu:90a:mbarrier\.try_wait"
  "kernels/attention/attention_wgmma_sm90.cu:90a:bar\.arrive"
  "kernels/attention/attention_decode_sm80.cu:80:mma\.sync\.aligned\.m16n8k16\.row\.col\.f32\.bf16\.bf16\.f32"
  "kernels/attention/attention_decode_sm80.cu:80:ldmatrix\.sync\.aligned\.m8n8\.x4\.trans\.shared\.b16"
  "kernels/attention/attention_decode_sm80.cu:80:cp\.async\.cg\.shared\.global"
  "kernels/memory/stream_kernels.cu:80:ld\.global(\.nc)?\.v2\.f64"
  "kernels/memory/stream_kernels.cu:80:ld\.global(\.nc)?\.v4\.f32"
  "kernels/memory/stream_kernels.cu:80:st\.global\.v2\.f64"
  "kernels/memory/stream_kernels.cu:80:st\.global\.v4\.f32"
  "kernels/memory/pointer_chase.cu:80:ld\.global\.cg\.u32"
  # The hand-written all-reduce (docs/collectives.md): flags published with a release store and
  # awaited with acquire loads, both at system scope (peers are other processes and GPUs).
  "collectives/cuda/ipc_allreduce.cu:80:st\.release\.sys\.global\.u32"
  "collectives/cuda/ipc_allreduce.cu:80:ld\.acquire\.sys\.global\.u32"
  "collectives/cuda/ipc_allreduce.cu:100a:st\.release\.sys\.global\.u32"
  "collectives/cuda/ipc_allreduce.cu:100a:ld\.acquire\.sys\.global\.u32"
  # NVLink SHARP: the switch's reduction and broadcast, and the multicast barrier (a release
  # reduction on the multicast address, acquire loads on the unicast one, a proxy fence between).
  "collectives/cuda/multimem_allreduce.cu:90a:multimem\.ld_reduce\.relaxed\.sys\.global\.add\.v4\.f32"
  "collectives/cuda/multimem_allreduce.cu:90a:multimem\.ld_reduce\.relaxed\.sys\.global\.add\.acc::f32\.v4\.bf16x2"
  "collectives/cuda/multimem_allreduce.cu:90a:multimem\.st\.relaxed\.sys\.global\.v4\.f32"
  "collectives/cuda/multimem_allreduce.cu:90a:multimem\.red\.release\.sys\.global\.add\.u32"
  "collectives/cuda/multimem_allreduce.cu:90a:ld\.acquire\.sys\.global\.u32"
  "collectives/cuda/multimem_allreduce.cu:90a:fence\.proxy\.alias"
  "collectives/cuda/multimem_allreduce.cu:100a:multimem\.ld_reduce\.relaxed\.sys\.global\.add"
  "collectives/cuda/multimem_allreduce.cu:100a:multimem\.red\.release\.sys\.global\.add\.u32"
)

# file : architecture : extended regex that must NOT match its PTX
ptx_absences=(
  # Peer memory changes while a kernel runs: never read through the read-only (.nc) path.
  "collectives/cuda/ipc_allreduce.cu:80:ld\.global\.nc"
  "collectives/cuda/ipc_allreduce.cu:90a:ld\.global\.nc"
  "collectives/cuda/multimem_allreduce.cu:90a:ld\.global\.nc"
  # sm_80 has no multimem: the kernel body is guarded off there.
  "collectives/cuda/multimem_allreduce.cu:80:multimem\."
  # wgmma, TMA and setmaxnreg exist on sm_90a only: elsewhere the attention kernel body is empty.
  "kernels/attention/attention_wgmma_sm90.cu:80:wgmma\."
  "kernels/attention/attention_wgmma_sm90.cu:80:cp\.async\.bulk\.tensor"
  "kernels/attention/attention_wgmma_sm90.cu:80:setmaxnreg"
  "kernels/attention/attention_wgmma_sm90.cu:100a:wgmma\."
  "kernels/attention/attention_wgmma_sm90.cu:100a:cp\.async\.bulk\.tensor"
  "kernels/attention/attention_wgmma_sm90.cu:100a:setmaxnreg"
)

# Hopper kernels: each K-tile is 128 bytes of K, four wgmma steps (k16 for 16-bit inputs, k32 for
# e4m3) of m64n256 per consumer warpgroup (gemm_wgmma_sm90.cu: kRowBytes, kBlockN, kWgRows).
hopper_gmma_per_ktile=4
hopper_producer_regs=40   # kProducerRegs: USETMAXREG.DEALLOC 0x28
hopper_consumer_regs=232  # kConsumerRegs: USETMAXREG.TRY_ALLOC 0xe8
# Ampere kernel: per K-slab of its mainloop (gemm_mma_sm80.cu), 64 mma.sync, 16 ldmatrix.x4 and
# 8 16-byte cp.async per thread.
sm80_hmma_per_kslab=64
sm80_ldsm_per_kslab=16
sm80_ldgsts_per_kslab=8
# Register moves (MOV, IMAD.MOV, UMOV) in the sm80 mainloop: 16 of the 169-instruction loop (bf16,
# fp16) and 17 of 312 (tf32), CUDA 13.0; what is left picks the fallback source pointer of the
# predicated-off cp.asyncs. Before B's ldmatrix matrices were ordered as HMMA's register pairs
# (issue 9) they were 139 of 294 and 137 of 420. The ceiling sits just above today's count, so
# that a change which makes ptxas shuffle operands again fails here.
sm80_max_moves=20
# STREAM kernels (stream_kernels.cu): kUnroll = 4 16-byte loads per input array and 4 stores per
# output array and thread in flight in the main loop (the compiler may unroll further: at least).
stream_unroll=4

# Ampere-class attention kernels (kernels/attention/, sm80_attention_layout.hpp), per key tile of
# the mainloop, by head dimension: HMMA/LDSM/LDGSTS counts, block barriers, and a ceiling on the
# loop's instructions (sm_80/90a/100a, CUDA 13.0: prefill 392/391/350 at D = 64, 638/642/524 at
# 128, 418/420/390 at 256; decode 306/297/287, 478/469/395, 866/910/628), so that mask or
# softmax code creeping into every tile (the mask was once if-converted into it: 869 at D = 128)
# fails here. Prefill: 128 queries x 64 keys (16 at D = 256) per tile, 8 warps, one __syncthreads;
# decode: a warp's 16 keys, its own pipeline, no block barrier.
attn_prefill_ops=([64]="64 32 4 1 420" [128]="128 64 8 1 680" [256]="64 48 4 1 460")
attn_decode_ops=([64]="16 8 8 0 340" [128]="32 16 16 0 520" [256]="64 48 32 0 960")

# Hopper attention kernel (attention_wgmma_sm90.cu), per key tile of its mainloop, by head
# dimension: Q K^T GMMA (count, shape; both operands from shared memory), P V GMMA (count, shape; A
# from registers, B transposed). Plus one WARPGROUP.ARRIVE for both products, two waits of which
# one leaves a group in flight (DEPBAR.LE gsb0, 0x1: the softmax runs under P V), and the
# ping-pong's BAR.SYNC and BAR.ARV. D = 64 and 128: 128-key tiles; D = 256: 64-key tiles
# (sm90_attention_layout.hpp).
attn_hopper_ops=([64]="4 64x128x16 8 64x64x16" [128]="8 64x128x16 8 64x128x16" [256]="16 64x64x16 4 64x256x16")
attn_hopper_producer_regs=24   # kProducerRegs: USETMAXREG.DEALLOC 0x18
attn_hopper_consumer_regs=240  # kConsumerRegs: USETMAXREG.TRY_ALLOC 0xf0

# ---- tools ---------------------------------------------------------------------------------------

# cuobjdump: on PATH, in the venv install-deps.sh makes (build/sass-tools), or in any Python
# site-packages that holds the nvidia-cuda-cuobjdump wheel (nvidia/<something>/bin/cuobjdump).
find_cuobjdump() {
  if command -v cuobjdump >/dev/null; then command -v cuobjdump; return; fi
  local py
  for py in build/sass-tools/bin/python3 python3; do
    [ -x "$py" ] || command -v "$py" >/dev/null || continue
    "$py" - <<'EOF' 2>/dev/null && return
import glob, os, site, sys
roots = list(site.getsitepackages()) + [site.getusersitepackages()]
try:
    import nvidia
    roots += [os.path.dirname(p) for p in nvidia.__path__]
except ImportError:
    pass
for root in roots:
    hits = sorted(glob.glob(os.path.join(root, "nvidia", "*", "bin", "cuobjdump")))
    if hits:
        print(hits[-1])
        sys.exit(0)
sys.exit(1)
EOF
  done
  return 1
}

# Compiles $1 for sm_$2 into $3.cubin with ptxas -v output in $3.ptxas.log.
compile_cubin() {
  local cu=$1 arch=$2 out=$3
  if ! "$nvcc" -std=c++17 -O3 --expt-relaxed-constexpr -I. -arch="sm_$arch" -cubin \
       -Xptxas -v -o "$out.cubin" "$cu" >"$out.ptxas.log" 2>&1; then
    fail "compile: $cu for sm_$arch (log: $out.ptxas.log)"
    cat "$out.ptxas.log"
    return 1
  fi
}

# Writes one file per kernel of cubin $1 into directory $2 (name: the kernel's short name).
split_sass() {
  local cubin=$1 dir=$2
  rm -rf "$dir" && mkdir -p "$dir"
  "$cuobjdump" -sass "$cubin" >"$dir.sass"
  awk -v dir="$dir" '
    /Function : / { out = dir "/" $3 ".sass"; next }
    out { print > out }
  ' "$dir.sass"
}

# A mangled kernel name shortened for messages: gemm_wgmma_sm90_kernel2<(InKind)0>,
# two_shot_kernel<float, 4>.
short_name() {
  c++filt "$1" | sed -E 's/aicbench::(kernels|collectives)::(\(anonymous namespace\)::)?//g; s/^void //; s/\(GemmParams\)$//; s/\(.*\)$//'
}

# ---- checks on ptxas output ----------------------------------------------------------------------

# Fails for every kernel with nonzero spill stores or loads in ptxas log $1, unless allowed.
check_spills() {
  local log=$1 what=$2 fn spills
  # ptxas prints the entry function, then its resource lines, then the spill counts.
  spills=$(awk '
    /Compiling entry function/ { fn = $0; sub(/.*function ./, "", fn); sub(/. for .*/, "", fn) }
    /bytes spill stores/ {
      n = split($0, parts, ",")
      for (i = 1; i <= n; i++) if (parts[i] ~ /spill (stores|loads)/ && parts[i] + 0 > 0) print fn
    }
  ' "$log" | sort -u)
  for fn in $spills; do
    if [ -f "$allowed_spills" ] && grep -qx "$fn" "$allowed_spills"; then continue; fi
    fail "spills: $(short_name "$fn") in $what spills registers: expected 0 spill bytes, found" \
      "'$(grep -A2 "entry function '$fn'" "$log" | grep -o '[0-9]* bytes spill stores, [0-9]* bytes spill loads')'" \
      "(allow it in $allowed_spills if intended)"
  done
}

# Fails for every ptxas advisory (C75xx, "Potential Performance Loss") in log $1 that
# kernels/advisories-allowed.txt does not list as "<code> <mangled kernel name>".
check_advisories() {
  local log=$1 what=$2 line code fn
  while IFS= read -r line; do
    code=$(grep -oE 'C75[0-9][0-9]' <<<"$line" | head -1 || true)
    fn=$(grep -oE "function '[^']*'" <<<"$line" | sed -E "s/function '(.*)'/\1/" | head -1 || true)
    if [ -f "$allowed_advisories" ] && grep -v '^#' "$allowed_advisories" | grep -x "${code:-?} ${fn:-?}" >/dev/null; then
      continue
    fi
    fail "advisory: ${code:-ptxas} for ${fn:+$(short_name "$fn") in }$what: expected no ptxas advisory," \
      "found: ${line#ptxas info    : } (allow '$code $fn' in $allowed_advisories if intended)"
  done < <(grep -E '\(C75[0-9][0-9]\)|Potential Performance Loss' "$log" || true)
}

# ---- checks on SASS --------------------------------------------------------------------------------

# Instructions of the mainloop of kernel SASS $1: the smallest loop holding an opcode matching $2.
mainloop() { awk -v want="$2" -f scripts/sass-mainloop.awk "$1"; }
# Count of instructions in $1 (mainloop text) whose opcode matches extended regex $2.
count_ops() { grep -cE "^($2)( |$)" <<<"$1" || true; }

# No local memory (LDL/STL: spills or stack arrays) anywhere in the kernel.
check_no_local_memory() {
  local sass=$1 what=$2 n
  n=$(grep -cE '\b(LDL|STL)(\.[A-Z0-9]+)* ' "$sass" || true)
  if ((n)); then fail "local memory: $what: expected no LDL/STL, found $n"; else ok "$what: no LDL/STL"; fi
}

# Hopper mainloop: per K-tile, $3 GMMA all of shape $4, one WARPGROUP.ARRIVE, one WARPGROUP.DEPBAR.
check_hopper_mainloop() {
  local sass=$1 what=$2 want_n=$3 shape=$4 loop gmma shapes arrive depbar
  loop=$(mainloop "$sass" '[HQ]GMMA')
  if [ "$(head -1 <<<"$loop")" = "# no loop" ]; then
    fail "mainloop: $what: expected a loop holding GMMA, found none"; return
  fi
  gmma=$(count_ops "$loop" '[HQ]GMMA[.A-Z0-9x]*')
  shapes=$(grep -oE '^[HQ]GMMA[.A-Z0-9x]*' <<<"$loop" | sort -u | paste -sd' ')
  arrive=$(count_ops "$loop" 'WARPGROUP\.ARRIVE')
  depbar=$(count_ops "$loop" 'WARPGROUP\.DEPBAR[.A-Z]*')
  if [ "$gmma" -ne "$want_n" ] || [ "$shapes" != "$shape" ]; then
    fail "GMMA per K-tile: $what: expected $want_n x $shape, found $gmma x ${shapes:-none}"
  else
    ok "$what: mainloop ($(head -1 <<<"$loop" | cut -c3-), $(($(wc -l <<<"$loop") - 1)) instructions) has $gmma x $shape"
  fi
  if [ "$depbar" -ne 1 ] || [ "$arrive" -ne 1 ]; then
    fail "wait per K-tile: $what: expected 1 WARPGROUP.ARRIVE and 1 WARPGROUP.DEPBAR in the mainloop," \
      "found $arrive and $depbar"
  else
    ok "$what: one WARPGROUP.ARRIVE and one WARPGROUP.DEPBAR per K-tile"
  fi
}

# setmaxnreg: the producer gives registers back down to $3, the consumers take up to $4.
check_setmaxnreg() {
  local sass=$1 what=$2 producer consumer
  producer=$(grep -oE 'USETMAXREG\.DEALLOC[.A-Z]* 0x[0-9a-f]+' "$sass" | awk '{print $2}' | sort -u | paste -sd' ')
  consumer=$(grep -oE 'USETMAXREG\.TRY_ALLOC[.A-Z]* UP[0-9T], 0x[0-9a-f]+' "$sass" | awk '{print $3}' | sort -u | paste -sd' ')
  if [ "$producer" != "$(printf '0x%x' "$3")" ] || [ "$consumer" != "$(printf '0x%x' "$4")" ]; then
    fail "setmaxnreg: $what: expected DEALLOC $(printf '0x%x' "$3") ($3) and TRY_ALLOC $(printf '0x%x' "$4") ($4)," \
      "found DEALLOC ${producer:-none} and TRY_ALLOC ${consumer:-none}"
  else
    ok "$what: USETMAXREG DEALLOC $3, TRY_ALLOC $4"
  fi
}

# No memory fence (MEMBAR) and no L1 invalidate (CCTL) in the Hopper mainloop (the consumers' loop,
# holding the GMMA) or in the producer's loop (holding the TMA loads, UTMALDG). The barriers there
# only hand stages back and forth; a release or acquire at cluster scope would put a GPU-wide
# MEMBAR before every release and a CCTL.IVALL after every wait (kernel2 had both: issue 9).
check_no_fences_in_loops() {
  local sass=$1 what=$2 role want loop n found=""
  for role in mainloop:'[HQ]GMMA' producer:UTMALDG; do
    want=${role#*:}
    loop=$(mainloop "$sass" "$want")
    if [ "$(head -1 <<<"$loop")" = "# no loop" ]; then
      fail "fences: $what: expected a loop holding $want (the ${role%%:*}), found none"; return
    fi
    n=$(count_ops "$loop" '(MEMBAR|CCTL)[.A-Z0-9]*')
    if ((n)); then
      found+="${found:+; }${role%%:*}: $(grep -oE '^(MEMBAR|CCTL)[.A-Z0-9]*' <<<"$loop" | sort | uniq -c | awk '{print $1 " x " $2}' | paste -sd, | sed 's/,/, /g')"
    fi
  done
  if [ -n "$found" ]; then
    fail "fences: $what: expected no MEMBAR or CCTL in the mainloop and the producer's loop, found $found"
  else
    ok "$what: no MEMBAR or CCTL in the mainloop and the producer's loop"
  fi
}

# kernel2 loads one operand with TMA multicast to the whole cluster.
check_multicast_tma() {
  local sass=$1 what=$2 n
  n=$(grep -cE 'UTMALDG[.A-Z0-9]*\.MULTICAST' "$sass" || true)
  if ((n)); then ok "$what: $n multicast TMA load(s) (UTMALDG.MULTICAST)"
  else fail "multicast TMA: $what: expected UTMALDG...MULTICAST, found none"; fi
}

# Ampere mainloop: per K-slab, HMMA/LDSM/LDGSTS counts and at most $3 register moves.
check_sm80_mainloop() {
  local sass=$1 what=$2 max_moves=$3 loop hmma ldsm ldgsts moves
  loop=$(mainloop "$sass" 'HMMA')
  if [ "$(head -1 <<<"$loop")" = "# no loop" ]; then
    fail "mainloop: $what: expected a loop holding HMMA, found none"; return
  fi
  hmma=$(count_ops "$loop" 'HMMA[.A-Z0-9]*')
  ldsm=$(count_ops "$loop" 'LDSM[.A-Z0-9]*')
  ldgsts=$(count_ops "$loop" 'LDGSTS[.A-Z0-9]*')
  moves=$(count_ops "$loop" '(MOV|IMAD\.MOV|UMOV)[.A-Z0-9]*')
  if [ "$hmma" -ne "$sm80_hmma_per_kslab" ] || [ "$ldsm" -ne "$sm80_ldsm_per_kslab" ] ||
     [ "$ldgsts" -ne "$sm80_ldgsts_per_kslab" ]; then
    fail "mainloop ops: $what: expected HMMA/LDSM/LDGSTS $sm80_hmma_per_kslab/$sm80_ldsm_per_kslab/$sm80_ldgsts_per_kslab" \
      "per K-slab, found $hmma/$ldsm/$ldgsts"
  else
    ok "$what: mainloop ($(head -1 <<<"$loop" | cut -c3-), $(($(wc -l <<<"$loop") - 1)) instructions) has HMMA/LDSM/LDGSTS $hmma/$ldsm/$ldgsts"
  fi
  if ((moves > max_moves)); then
    fail "mainloop moves: $what: expected at most $max_moves MOV/IMAD.MOV/UMOV, found $moves"
  else
    ok "$what: $moves register moves in the mainloop (ceiling $max_moves)"
  fi
}

# Attention mainloop: per key tile $3 HMMA, $4 LDSM, $5 LDGSTS, $6 BAR, at most $7 instructions.
check_attention_mainloop() {
  local sass=$1 what=$2 want_hmma=$3 want_ldsm=$4 want_ldgsts=$5 want_bar=$6 ceiling=$7 loop n hmma ldsm ldgsts bar
  loop=$(mainloop "$sass" 'HMMA')
  if [ "$(head -1 <<<"$loop")" = "# no loop" ]; then
    fail "mainloop: $what: expected a loop holding HMMA, found none"; return
  fi
  n=$(($(wc -l <<<"$loop") - 1))
  hmma=$(count_ops "$loop" 'HMMA[.A-Z0-9]*')
  ldsm=$(count_ops "$loop" 'LDSM[.A-Z0-9]*')
  ldgsts=$(count_ops "$loop" 'LDGSTS[.A-Z0-9]*')
  bar=$(count_ops "$loop" 'BAR[._A-Z0-9]*')
  if [ "$hmma/$ldsm/$ldgsts/$bar" != "$want_hmma/$want_ldsm/$want_ldgsts/$want_bar" ]; then
    fail "mainloop ops: $what: expected HMMA/LDSM/LDGSTS/BAR $want_hmma/$want_ldsm/$want_ldgsts/$want_bar per key tile," \
      "found $hmma/$ldsm/$ldgsts/$bar"
  else
    ok "$what: mainloop ($(head -1 <<<"$loop" | cut -c3-)) has HMMA/LDSM/LDGSTS/BAR $hmma/$ldsm/$ldgsts/$bar"
  fi
  if ((n > ceiling)); then
    fail "mainloop length: $what: expected at most $ceiling instructions per key tile, found $n"
  else
    ok "$what: $n instructions per key tile (ceiling $ceiling)"
  fi
}

# Hopper attention mainloop: per key tile $3 GMMA of shape $4 from shared memory (Q K^T), $5 of
# shape $6 with A from registers and B transposed (P V), one WARPGROUP.ARRIVE, two
# WARPGROUP.DEPBAR of which one waits with a group in flight, one BAR.SYNC and one BAR.ARV.
check_attention_hopper_mainloop() {
  local sass=$1 what=$2 want_qk=$3 qk_shape=$4 want_pv=$5 pv_shape=$6 loop qk pv arrive depbar overlap bsync barv
  loop=$(mainloop "$sass" 'HGMMA')
  if [ "$(head -1 <<<"$loop")" = "# no loop" ]; then
    fail "mainloop: $what: expected a loop holding HGMMA, found none"; return
  fi
  qk=$(grep -cE "^HGMMA\.$qk_shape\.F32[.A-Z0-9]* R[0-9]+, gdesc" <<<"$loop" || true)
  pv=$(grep -cE "^HGMMA\.$pv_shape\.F32[.A-Z0-9]* R[0-9]+, R[0-9]+, gdesc\[[A-Z0-9]+\]\.tnspB" <<<"$loop" || true)
  arrive=$(count_ops "$loop" 'WARPGROUP\.ARRIVE')
  depbar=$(count_ops "$loop" 'WARPGROUP\.DEPBAR[.A-Z]*')
  overlap=$(grep -cE '^WARPGROUP\.DEPBAR\.LE gsb0, 0x1' <<<"$loop" || true)
  bsync=$(count_ops "$loop" 'BAR\.SYNC[.A-Z_]*')
  barv=$(count_ops "$loop" 'BAR\.ARV')
  if [ "$qk/$pv" != "$want_qk/$want_pv" ]; then
    fail "GMMA per key tile: $what: expected $want_qk x HGMMA.$qk_shape (Q K^T, shared memory) and $want_pv x" \
      "HGMMA.$pv_shape (P V, registers x transposed shared memory), found $qk and $pv"
  else
    ok "$what: mainloop ($(head -1 <<<"$loop" | cut -c3-), $(($(wc -l <<<"$loop") - 1)) instructions) has $qk x HGMMA.$qk_shape + $pv x HGMMA.$pv_shape.tnspB"
  fi
  if [ "$arrive/$depbar/$overlap/$bsync/$barv" != "1/2/1/1/1" ]; then
    fail "overlap per key tile: $what: expected WARPGROUP.ARRIVE/DEPBAR/DEPBAR with a group in flight/BAR.SYNC/BAR.ARV" \
      "1/2/1/1/1, found $arrive/$depbar/$overlap/$bsync/$barv"
  else
    ok "$what: one WARPGROUP.ARRIVE, a wait that leaves P V in flight, and the ping-pong's BAR.SYNC/BAR.ARV per key tile"
  fi
}

# STREAM kernel $3 (0 copy, 1 scale, 2 add, 3 triad, 4 read, 5 write): some loop holds at least
# $stream_unroll 16-byte loads per array it reads and $stream_unroll 16-byte stores if it writes.
check_stream_loops() {
  local sass=$1 what=$2 op=$3 inputs=(1 1 2 2 1 0) outputs=(1 1 1 1 0 1) loads stores want_loads want_stores
  loads=$(awk -v most=1 -v want='^LDG\.E(\.[A-Z0-9_]+)*\.128' -f scripts/sass-mainloop.awk "$sass")
  stores=$(awk -v most=1 -v want='^STG\.E(\.[A-Z0-9_]+)*\.128' -f scripts/sass-mainloop.awk "$sass")
  want_loads=$((stream_unroll * inputs[op]))
  want_stores=$((stream_unroll * outputs[op]))
  if ((loads < want_loads || stores < want_stores)); then
    fail "16-byte accesses: $what: expected a loop with at least $want_loads LDG.E.128 and $want_stores STG.E.128," \
      "found at most $loads and $stores"
  else
    ok "$what: a loop with $loads LDG.E.128 and $stores STG.E.128 (at least $want_loads and $want_stores)"
  fi
}

# The SASS checks of every kernel in cubin $1 (built from $2 for sm_$3).
check_sass() {
  local cubin=$1 cu=$2 arch=$3 dir sass fn what shape d
  dir=${cubin%.cubin}.sass.d
  split_sass "$cubin" "$dir"
  for sass in "$dir"/*.sass; do
    [ -e "$sass" ] || continue
    fn=$(basename "$sass" .sass)
    what="$(short_name "$fn") sm_$arch"
    # stream_kernel<(StreamOp)N, T>(T*, ...): named from its mangled name (short_name would cut
    # the template arguments at their first parenthesis).
    if [[ $fn =~ stream_kernelILNS0_8StreamOpE([0-5])E([df]) ]]; then
      local ops=(copy scale add triad read write)
      what="stream_kernel<${ops[${BASH_REMATCH[1]}]}, $([ "${BASH_REMATCH[2]}" = d ] && echo double || echo float)> sm_$arch"
    fi
    check_no_local_memory "$sass" "$what"
    if [[ $fn =~ stream_kernelILNS0_8StreamOpE([0-5])E ]]; then
      check_stream_loops "$sass" "$what" "${BASH_REMATCH[1]}"
      continue
    fi
    case "$cu:$arch:$(short_name "$fn")" in
      *gemm_wgmma_sm90.cu:90a:*kernel[12]*)
        case $fn in
          *InKindE0E*) shape=HGMMA.64x256x16.F32.BF16 ;;
          *InKindE1E*) shape=HGMMA.64x256x16.F32 ;;  # fp16 inputs: no type suffix
          *InKindE2E*) shape=QGMMA.64x256x32.F32.E4M3.E4M3 ;;
          *) shape="(unknown InKind: add it here)" ;;
        esac
        check_hopper_mainloop "$sass" "$what" "$hopper_gmma_per_ktile" "$shape"
        check_no_fences_in_loops "$sass" "$what"
        check_setmaxnreg "$sass" "$what" "$hopper_producer_regs" "$hopper_consumer_regs"
        case $fn in *kernel2*) check_multicast_tma "$sass" "$what" ;; esac
        ;;
      *gemm_mma_sm80.cu:80:*kernel*)
        check_sm80_mainloop "$sass" "$what" "$sm80_max_moves"
        ;;
      *attention_mma_sm80.cu:*:*attention_mma_sm80_kernel1*)
        d=$(grep -oE 'PrefillConfigILi[0-9]+E' <<<"$fn" | grep -oE '[0-9]+')
        # shellcheck disable=SC2086
        check_attention_mainloop "$sass" "$what" ${attn_prefill_ops[$d]:-"? ? ? ? 0"}
        ;;
      *attention_wgmma_sm90.cu:90a:*attention_wgmma_sm90_kernel1*)
        d=$(grep -oE 'ConfigILi[0-9]+E' <<<"$fn" | grep -oE '[0-9]+')
        # shellcheck disable=SC2086
        check_attention_hopper_mainloop "$sass" "$what" ${attn_hopper_ops[$d]:-"? ? ? ?"}
        check_no_fences_in_loops "$sass" "$what"
        check_setmaxnreg "$sass" "$what" "$attn_hopper_producer_regs" "$attn_hopper_consumer_regs"
        ;;
      *attention_decode_sm80.cu:*:*attention_decode_sm80_kernel1*)
        d=$(grep -oE 'DecodeConfigILi[0-9]+E' <<<"$fn" | grep -oE '[0-9]+')
        # shellcheck disable=SC2086
        check_attention_mainloop "$sass" "$what" ${attn_decode_ops[$d]:-"? ? ? ? 0"}
        ;;
    esac
  done
}

# ---- the real kernels ------------------------------------------------------------------------------

check_kernels() {
  local cu arch out regs e pattern
  for cu in $(find kernels collectives -name '*.cu' | sort); do
    for arch in "${archs[@]}"; do
      out=$log_dir/$(basename "$cu" .cu)_sm_$arch
      compile_cubin "$cu" "$arch" "$out" || continue
      check_spills "$out.ptxas.log" "$cu for sm_$arch"
      check_advisories "$out.ptxas.log" "$cu for sm_$arch"
      regs=$(grep -o 'Used [0-9]* registers' "$out.ptxas.log" | tr '\n' ' ')
      ok "$cu sm_$arch compiles: ${regs:-no kernels}"
      check_sass "$out.cubin" "$cu" "$arch"
    done
  done

  for e in "${ptx_expectations[@]}"; do
    IFS=: read -r cu arch pattern <<<"$e"
    check_ptx "$cu" "$arch" "$pattern" present
  done
  for e in "${ptx_absences[@]}"; do
    IFS=: read -r cu arch pattern <<<"$e"
    check_ptx "$cu" "$arch" "$pattern" absent
  done
}

# Sets $ptx to the PTX of $1 for compute_$2, compiled once per (file, architecture) however many
# patterns ask (a planted copy under the log directory gets its own file).
declare -A ptx_built
ptx_of() {
  local cu=$1 arch=$2
  ptx="$log_dir/$(basename "$cu" .cu)_compute_$arch.ptx"
  [[ "$cu" == "$log_dir"/* ]] && ptx="${cu%.cu}_compute_$arch.ptx"
  if [ -z "${ptx_built[$ptx]:-}" ]; then
    "$nvcc" -std=c++17 -O3 --expt-relaxed-constexpr -I. -arch="compute_$arch" -ptx -o "$ptx" "$cu" || return 1
    ptx_built[$ptx]=1
  fi
}

# Fails unless pattern $3 is present (or, with $4 = absent, absent) in the PTX of $1 for compute_$2.
check_ptx() {
  local cu=$1 arch=$2 pattern=$3 want=$4 ptx n
  ptx_of "$cu" "$arch" || { fail "compile: $cu for compute_$arch PTX"; return; }
  n=$(grep -cE "$pattern" "$ptx" || true)
  if [ "$want" = present ]; then
    if ((n)); then ok "$cu compute_$arch PTX has /$pattern/"; else fail "$cu compute_$arch PTX lacks /$pattern/"; fi
  else
    if ((n)); then
      fail "$cu compute_$arch PTX has /$pattern/ $n times, where it must not: $(grep -m1 -E "$pattern" "$ptx" | sed 's/^[[:space:]]*//')"
    else
      ok "$cu compute_$arch PTX has no /$pattern/"
    fi
  fi
}

# ---- the self-test ---------------------------------------------------------------------------------

# Runs check $3 (a function of this script) on defect $1 built for sm_$2; the self-test passes
# only if that check fails.
expect_caught() {
  local cu=$1 arch=$2 check=$3 out before found
  out=$log_dir/self-test/$(basename "$cu" .cu)_sm_$arch
  mkdir -p "$(dirname "$out")"
  compile_cubin "$cu" "$arch" "$out" || return 0  # counted as a failure already
  before=$failures
  case $check in
    check_spills | check_advisories) found=$("$check" "$out.ptxas.log" "$cu for sm_$arch" || true) ;;
    check_no_local_memory)
      split_sass "$out.cubin" "$out.sass.d"
      found=$(for s in "$out.sass.d"/*.sass; do check_no_local_memory "$s" "$(short_name "$(basename "$s" .sass)") sm_$arch"; done)
      ;;
    check_sass) found=$(check_sass "$out.cubin" "$cu" "$arch" || true) ;;
  esac
  failures=$before
  if grep -q '^FAIL' <<<"$found"; then
    ok "self-test: $check catches $cu: $(grep -m1 '^FAIL' <<<"$found" | cut -c6- | cut -c1-200)"
  else
    fail "self-test: $check passed $cu, which has a planted defect; expected it to fail"
  fi
}

# Applies planted defect $1 (a sed script of tests/kernel_defects/) to a copy of kernel $2, whose
# path it puts in $planted (same file name, so check_sass treats it as the kernel). Fails, and
# returns 1, unless the script changed exactly $3 lines: a kernel edit that moved the lines the
# script looks for must not turn the self-test into a test of the unchanged kernel.
plant() {
  local script=$1 cu=$2 lines=$3 changed
  planted=$log_dir/self-test/$(basename "$script" .sed)/$cu
  mkdir -p "$(dirname "$planted")"
  sed -f "$script" "$cu" >"$planted"
  changed=$(diff "$cu" "$planted" | grep -c '^>' || true)
  if [ "$changed" -ne "$lines" ]; then
    fail "self-test: $script no longer applies to $cu (expected it to change $lines line(s), it changed $changed)"
    return 1
  fi
}

self_test() {
  local planted
  expect_caught tests/kernel_defects/serialized_wgmma.cu 90a check_advisories
  # The review's defect in the real kernel: one accumulator touch between commit and wait makes
  # ptxas serialize every wgmma (C7518), and the SASS then waits after each of the four GMMA.
  if plant tests/kernel_defects/touch_accumulator.sed kernels/gemm/gemm_wgmma_sm90.cu 1; then
    expect_caught "$planted" 90a check_advisories
    expect_caught "$planted" 90a check_sass
  fi
  # kernel2's stage hand-back at cluster scope, as before issue 9's fix: MEMBAR.ALL.GPU before
  # every release in the mainloop, CCTL.IVALL after every wait in the producer's loop.
  if plant tests/kernel_defects/cluster_scope_barriers.sed kernels/gemm/gemm_wgmma_sm90.cu 2; then
    expect_caught "$planted" 90a check_sass
  fi
  # The sm80 kernel's B operands in the old register order: HMMA's pairs assembled by moves.
  if plant tests/kernel_defects/b_operand_order.sed kernels/gemm/gemm_mma_sm80.cu 1; then
    expect_caught "$planted" 80 check_sass
  fi
  # The attention prefill's mask in every key tile (the defect before its unmasked loop): the
  # algorithm lives in a header, so the planted header sits beside a copy of the kernel's .cu
  # that includes it by a relative path.
  if plant tests/kernel_defects/attention_mask_every_tile.sed kernels/attention/sm80_attention_warp.hpp 1; then
    local cu_copy
    cu_copy=$(dirname "$planted")/attention_mma_sm80.cu
    sed 's|#include "kernels/attention/sm80_attention_warp.hpp"|#include "sm80_attention_warp.hpp"|' \
      kernels/attention/attention_mma_sm80.cu >"$cu_copy"
    expect_caught "$cu_copy" 80 check_sass
  fi
  # The Hopper attention kernel without its intra-warpgroup overlap: waiting for P V together with
  # Q K^T leaves the softmax nothing to hide under.
  if plant tests/kernel_defects/attention_no_overlap.sed kernels/attention/attention_wgmma_sm90.cu 1; then
    expect_caught "$planted" 90a check_sass
  fi
  # The STREAM kernels with one access per array in flight instead of four.
  if plant tests/kernel_defects/unroll_stream.sed kernels/memory/stream_kernels.cu 1; then
    expect_caught "$planted" 90a check_sass
  fi
  expect_caught tests/kernel_defects/spilling.cu 80 check_spills
  expect_caught tests/kernel_defects/spilling.cu 80 check_no_local_memory
  # The all-reduce flags weakened from release to relaxed (the defect a GPU would show only now and
  # then, as a wrong element): the PTX check must miss the release store. The flag helpers are
  # inlined into a planted copy of the kernel file, with the one word changed.
  local flags=$log_dir/self-test/planted/ipc_allreduce_relaxed.cu
  mkdir -p "$(dirname "$flags")"
  awk '/#include "collectives\/cuda\/device_sync.cuh"/ { while ((getline line < "collectives/cuda/device_sync.cuh") > 0) if (line !~ /^#pragma once/) print line; next } { print }' \
    collectives/cuda/ipc_allreduce.cu | sed 's/st\.release\.sys\.global/st.relaxed.sys.global/' >"$flags"
  local before=$failures found
  found=$(check_ptx "$flags" 80 'st\.release\.sys\.global\.u32' present || true)
  failures=$before
  if grep -q '^FAIL' <<<"$found"; then
    ok "self-test: check_ptx catches release flags weakened to relaxed: $(grep -m1 '^FAIL' <<<"$found" | cut -c6- | cut -c1-160)"
  else
    fail "self-test: check_ptx passed $flags, whose flags are relaxed; expected it to fail"
  fi
}

start=$SECONDS
cuobjdump=$(find_cuobjdump) || {
  echo "check-kernels: cuobjdump not found (PATH, build/sass-tools, Python site-packages);" \
    "run scripts/install-deps.sh (PyPI nvidia-cuda-cuobjdump)" >&2
  exit 3
}
if ((self_test)); then
  self_test
  if ((failures)); then
    echo "check-kernels --self-test: $failures planted defect(s) not caught"
    exit 1
  fi
  echo "check-kernels --self-test: every planted defect caught ($((SECONDS - start)) s)"
  exit 0
fi
check_kernels
if ((failures)); then
  echo "check-kernels: $failures failure(s)"
  exit 1
fi
echo "check-kernels: all kernels compile for ${archs[*]}; no unexpected spills or advisories; expected" \
  "PTX and SASS ($((SECONDS - start)) s)"
