#pragma once
// Hopper (sm_90a) building blocks as inline PTX: mbarriers, TMA tile loads, named barriers, wgmma
// and its shared-memory matrix descriptors, setmaxnreg. Shared by the Hopper GEMM
// (gemm/gemm_wgmma_sm90.cu) and fused attention (attention/attention_wgmma_sm90.cu); the kernels
// call these only from code compiled for sm_90a (see AICBENCH_SM90A_DEVICE below), so other
// targets never assemble the instructions.
//
// References: PTX ISA, sections "mbarrier", "cp.async.bulk.tensor", "Asynchronous Warpgroup Level
// Matrix Multiply-Accumulate" (matrix descriptor format, register fragments), "setmaxnreg".
#include <cstdint>

#include <cuda.h>  // CUtensorMap (a 64-byte aligned opaque struct); no libcuda symbols are used

// True in the device pass that compiles for sm_90a (wgmma and setmaxnreg exist only there; they
// are not on sm_90 without "a", nor on sm_100a).
#if defined(__CUDA_ARCH__) && (__CUDA_ARCH__ == 900) && defined(__CUDA_ARCH_FEAT_SM90_ALL)
#define AICBENCH_SM90A_DEVICE 1
#else
#define AICBENCH_SM90A_DEVICE 0
#endif

namespace aicbench::kernels::sm90 {

__device__ __forceinline__ uint32_t smem_u32(const void* p) {
  return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}

// ---- mbarrier ----------------------------------------------------------------------------------
// A barrier completes a phase when its pending arrival count reaches zero and its pending
// transaction bytes (expect_tx minus bytes delivered by TMA) reach zero; phases alternate parity
// 0, 1, 0, ... starting at 0. try_wait.parity(P) succeeds once the phase with parity P has
// completed, which for a fresh barrier (in phase 0) means P == 1 succeeds at once.

__device__ __forceinline__ void mbar_init(uint64_t* bar, uint32_t arrivals) {
  asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;" ::"r"(smem_u32(bar)), "r"(arrivals)
               : "memory");
}

// Makes the initialised barriers visible to the async proxy (TMA) and to the other threads.
__device__ __forceinline__ void mbar_init_fence() {
  asm volatile("fence.mbarrier_init.release.cluster;" ::: "memory");
}

__device__ __forceinline__ void mbar_arrive(uint64_t* bar) {
  asm volatile("mbarrier.arrive.shared::cta.b64 _, [%0];" ::"r"(smem_u32(bar)) : "memory");
}

// One arrival plus `bytes` of transactions that TMA copies will deliver to this phase.
__device__ __forceinline__ void mbar_arrive_expect_tx(uint64_t* bar, uint32_t bytes) {
  asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;" ::"r"(smem_u32(bar)),
               "r"(bytes)
               : "memory");
}

// A wait that never ends is a bug (a wrong transaction byte count, a phase off by one), and on a
// shared GPU a hang costs far more than an error: after kMbarTimeoutNs of waiting the thread
// traps, the launch fails with an error the harness reports, and the GPU is free again. The
// clock is read only every 1024 unsuccessful tries, so a normal wait pays nothing for it.
constexpr uint64_t kMbarTimeoutNs = 10'000'000'000ULL;  // 10 s: far beyond any stage's latency

__device__ __forceinline__ uint64_t global_timer_ns() {
  uint64_t t;
  asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
  return t;
}

// Waits (with the default .acquire.cta semantics) until the phase with parity `parity` of `bar`
// has completed, or gives up after kMbarTimeoutNs and returns false: for the waits of a thread
// with wgmma in flight around them, which must not trap there. A trap there makes ptxas (CUDA 13.0)
// serialise every wgmma of the function and spill (C7512, "insufficient register resources"; the
// attention kernel's consumers at D = 128 with 128-key tiles); the caller traps later, where no
// wgmma is pending.
__device__ __forceinline__ bool mbar_wait_bounded(uint64_t* bar, uint32_t parity) {
  const uint32_t addr = smem_u32(bar);
  uint32_t done = 0;
  uint32_t tries = 0;
  uint64_t first_check = 0;
  do {
    asm volatile(
        "{\n"
        "  .reg .pred p;\n"
        "  mbarrier.try_wait.parity.shared::cta.b64 p, [%1], %2;\n"
        "  selp.u32 %0, 1, 0, p;\n"
        "}\n"
        : "=r"(done)
        : "r"(addr), "r"(parity)
        : "memory");
    if (!done && (++tries & 1023u) == 0) {
      const uint64_t now = global_timer_ns();
      if (first_check == 0) {
        first_check = now;
      } else if (now - first_check > kMbarTimeoutNs) {
        return false;
      }
    }
  } while (!done);
  return true;
}

// mbar_wait_bounded, trapping on a timeout (a lost TMA or a missing arrival is an error, not a
// hang). Also used where arrivals come from other CTAs of the cluster (kernel2's empty barriers):
// the waiting thread then reads nothing those CTAs wrote, so no cluster-scope acquire is needed
// (an .acquire.cluster wait costs an L1 invalidate, CCTL.IVALL, after every success).
__device__ __forceinline__ void mbar_wait(uint64_t* bar, uint32_t parity) {
  if (!mbar_wait_bounded(bar, parity)) __trap();
}

// ---- clusters ----------------------------------------------------------------------------------
// A thread block cluster's CTAs run at once on SMs of one GPC and can reach each other's shared
// memory: a shared::cta address of this CTA names the same offset in CTA `rank` once mapped with
// mapa. Ranks run 0 .. cluster size - 1.

__device__ __forceinline__ uint32_t cluster_ctarank() {
  uint32_t rank;
  asm volatile("mov.u32 %0, %%cluster_ctarank;" : "=r"(rank));
  return rank;
}

__device__ __forceinline__ uint32_t cluster_nctarank() {  // CTAs in this cluster
  uint32_t n;
  asm volatile("mov.u32 %0, %%cluster_nctarank;" : "=r"(n));
  return n;
}

// Every thread of every CTA in the cluster arrives, then waits for all the others: the arrive
// releases and the wait acquires at cluster scope (the defaults), so what one CTA did to its own
// or a peer's shared memory before the barrier is visible to all of them after it. Not
// ".aligned": the threads of a warp may reach it from different branches.
__device__ __forceinline__ void cluster_sync() {
  asm volatile("barrier.cluster.arrive;\nbarrier.cluster.wait;" ::: "memory");
}

// One arrival on the barrier at the same shared-memory offset as `bar`, in cluster CTA `rank`
// (which may be this CTA). The plain form, as CUTLASS's cluster barrier arrives: its default
// semantics are .release.cta, which orders nothing beyond this CTA. It is for arrivals that
// publish no data, only "I am done with something": the caller must itself make sure that what
// it is done with is finished before it arrives (kernel2: the consumer's wgmma reads of a stage,
// finished when wgmma.wait_group returns). `.release.cluster` would do more, at a price: ptxas
// has no cluster-wide fence on sm_90 and emits MEMBAR.ALL.GPU (after MEMBAR.ALL.CTA) before
// every such arrival.
__device__ __forceinline__ void mbar_arrive_cluster(uint64_t* bar, uint32_t rank) {
  asm volatile(
      "{\n"
      "  .reg .b32 remote;\n"
      "  mapa.shared::cluster.u32 remote, %0, %1;\n"
      "  mbarrier.arrive.shared::cluster.b64 _, [remote];\n"
      "}\n" ::"r"(smem_u32(bar)),
      "r"(rank)
      : "memory");
}

// ---- TMA ---------------------------------------------------------------------------------------

__device__ __forceinline__ void tma_prefetch_descriptor(const CUtensorMap* map) {
  asm volatile("prefetch.tensormap [%0];" ::"l"(reinterpret_cast<uint64_t>(map)) : "memory");
}

// Copies the box at element coordinates (c0 innermost, c1) of `map` into shared memory at `dst`
// (laid out and swizzled as the map says) and reports its bytes to `bar`. Out-of-bounds
// elements are written as zeros and still count towards the bytes.
__device__ __forceinline__ void tma_load_2d(void* dst, const CUtensorMap* map, uint64_t* bar,
                                            int c0, int c1) {
  asm volatile(
      "cp.async.bulk.tensor.2d.shared::cluster.global.mbarrier::complete_tx::bytes"
      " [%0], [%1, {%2, %3}], [%4];" ::"r"(smem_u32(dst)),
      "l"(reinterpret_cast<uint64_t>(map)), "r"(c0), "r"(c1), "r"(smem_u32(bar))
      : "memory");
}

// As tma_load_2d, but the box lands at offset `dst` of every CTA in the cluster whose rank bit is
// set in `cta_mask`, and each of them sees the bytes arrive on its barrier at offset `bar`. One L2
// read feeds several SMs.
__device__ __forceinline__ void tma_load_2d_multicast(void* dst, const CUtensorMap* map,
                                                      uint64_t* bar, int c0, int c1,
                                                      uint16_t cta_mask) {
  asm volatile(
      "cp.async.bulk.tensor.2d.shared::cluster.global.mbarrier::complete_tx::bytes"
      ".multicast::cluster [%0], [%1, {%2, %3}], [%4], %5;" ::"r"(smem_u32(dst)),
      "l"(reinterpret_cast<uint64_t>(map)), "r"(c0), "r"(c1), "r"(smem_u32(bar)), "h"(cta_mask)
      : "memory");
}

// As tma_load_2d for a 4-dimensional map: the box at element coordinates (c0 innermost, c1, c2,
// c3). Each dimension is bounds-checked on its own (zero fill past any of them), so a box that
// runs past the end of one sequence (c2) never reads the next batch's rows (c3).
__device__ __forceinline__ void tma_load_4d(void* dst, const CUtensorMap* map, uint64_t* bar,
                                            int c0, int c1, int c2, int c3) {
  asm volatile(
      "cp.async.bulk.tensor.4d.shared::cluster.global.mbarrier::complete_tx::bytes"
      " [%0], [%1, {%2, %3, %4, %5}], [%6];" ::"r"(smem_u32(dst)),
      "l"(reinterpret_cast<uint64_t>(map)), "r"(c0), "r"(c1), "r"(c2), "r"(c3),
      "r"(smem_u32(bar))
      : "memory");
}

// ---- named barriers ----------------------------------------------------------------------------
// Hardware barriers 1..15 (0 is __syncthreads'), for a subset of the block: `threads` (a multiple
// of 32) arrivals complete a phase. sync arrives and waits; arrive only counts this warp in and
// goes on (the producer side of a hand-over between warpgroups).

__device__ __forceinline__ void named_barrier_sync(uint32_t id, uint32_t threads) {
  asm volatile("bar.sync %0, %1;" ::"r"(id), "r"(threads) : "memory");
}
__device__ __forceinline__ void named_barrier_arrive(uint32_t id, uint32_t threads) {
  asm volatile("bar.arrive %0, %1;" ::"r"(id), "r"(threads) : "memory");
}

// ---- register budget ---------------------------------------------------------------------------

template <uint32_t kRegs>
__device__ __forceinline__ void setmaxnreg_dec() {
  asm volatile("setmaxnreg.dec.sync.aligned.u32 %0;" ::"n"(kRegs));
}
template <uint32_t kRegs>
__device__ __forceinline__ void setmaxnreg_inc() {
  asm volatile("setmaxnreg.inc.sync.aligned.u32 %0;" ::"n"(kRegs));
}

// ---- wgmma -------------------------------------------------------------------------------------
// Operands come from shared memory through matrix descriptors (make_sw128_kmajor_desc in
// sm90_smem_layout.hpp, with the layouts they describe).

__device__ __forceinline__ void wgmma_fence() {
  asm volatile("wgmma.fence.sync.aligned;" ::: "memory");
}
__device__ __forceinline__ void wgmma_commit_group() {
  asm volatile("wgmma.commit_group.sync.aligned;" ::: "memory");
}
template <int kPending>
__device__ __forceinline__ void wgmma_wait_group() {
  asm volatile("wgmma.wait_group.sync.aligned %0;" ::"n"(kPending) : "memory");
}

// Keeps the compiler from moving accumulator registers across an asynchronous wgmma (the
// registers belong to the tensor cores until wgmma.wait_group returns).
__device__ __forceinline__ void fence_accumulators(float (&d)[128]) {
#pragma unroll
  for (int i = 0; i < 128; ++i) asm volatile("" : "+f"(d[i])::"memory");
}
// The same for any accumulator or register-operand array (attention's S, O and P fragments).
template <int N>
__device__ __forceinline__ void fence_registers(float (&d)[N]) {
#pragma unroll
  for (int i = 0; i < N; ++i) asm volatile("" : "+f"(d[i])::"memory");
}
template <int N>
__device__ __forceinline__ void fence_registers(uint32_t (&r)[N]) {
#pragma unroll
  for (int i = 0; i < N; ++i) asm volatile("" : "+r"(r[i])::"memory");
}

// m64n256 accumulators: d[i] of warpgroup thread t is element accumulator_coord(t, i) of the
// 64 x 256 tile (sm90_smem_layout.hpp).

#define AICBENCH_WGMMA_N256_D_LIST                                                             \
  "{"                                                                                          \
  "%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, "                     \
  "%16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, "           \
  "%32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, "           \
  "%48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63, "           \
  "%64, %65, %66, %67, %68, %69, %70, %71, %72, %73, %74, %75, %76, %77, %78, %79, "           \
  "%80, %81, %82, %83, %84, %85, %86, %87, %88, %89, %90, %91, %92, %93, %94, %95, "           \
  "%96, %97, %98, %99, %100, %101, %102, %103, %104, %105, %106, %107, %108, %109, %110, "     \
  "%111, %112, %113, %114, %115, %116, %117, %118, %119, %120, %121, %122, %123, %124, %125, " \
  "%126, %127"                                                                                 \
  "}"

#define AICBENCH_WGMMA_N256_D_OPERANDS(d)                                                      \
  "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]),          \
      "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]),  \
      "+f"(d[14]), "+f"(d[15]), "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]),            \
      "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), "+f"(d[24]), "+f"(d[25]),            \
      "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31]),            \
      "+f"(d[32]), "+f"(d[33]), "+f"(d[34]), "+f"(d[35]), "+f"(d[36]), "+f"(d[37]),            \
      "+f"(d[38]), "+f"(d[39]), "+f"(d[40]), "+f"(d[41]), "+f"(d[42]), "+f"(d[43]),            \
      "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47]), "+f"(d[48]), "+f"(d[49]),            \
      "+f"(d[50]), "+f"(d[51]), "+f"(d[52]), "+f"(d[53]), "+f"(d[54]), "+f"(d[55]),            \
      "+f"(d[56]), "+f"(d[57]), "+f"(d[58]), "+f"(d[59]), "+f"(d[60]), "+f"(d[61]),            \
      "+f"(d[62]), "+f"(d[63]), "+f"(d[64]), "+f"(d[65]), "+f"(d[66]), "+f"(d[67]),            \
      "+f"(d[68]), "+f"(d[69]), "+f"(d[70]), "+f"(d[71]), "+f"(d[72]), "+f"(d[73]),            \
      "+f"(d[74]), "+f"(d[75]), "+f"(d[76]), "+f"(d[77]), "+f"(d[78]), "+f"(d[79]),            \
      "+f"(d[80]), "+f"(d[81]), "+f"(d[82]), "+f"(d[83]), "+f"(d[84]), "+f"(d[85]),            \
      "+f"(d[86]), "+f"(d[87]), "+f"(d[88]), "+f"(d[89]), "+f"(d[90]), "+f"(d[91]),            \
      "+f"(d[92]), "+f"(d[93]), "+f"(d[94]), "+f"(d[95]), "+f"(d[96]), "+f"(d[97]),            \
      "+f"(d[98]), "+f"(d[99]), "+f"(d[100]), "+f"(d[101]), "+f"(d[102]), "+f"(d[103]),        \
      "+f"(d[104]), "+f"(d[105]), "+f"(d[106]), "+f"(d[107]), "+f"(d[108]), "+f"(d[109]),      \
      "+f"(d[110]), "+f"(d[111]), "+f"(d[112]), "+f"(d[113]), "+f"(d[114]), "+f"(d[115]),      \
      "+f"(d[116]), "+f"(d[117]), "+f"(d[118]), "+f"(d[119]), "+f"(d[120]), "+f"(d[121]),      \
      "+f"(d[122]), "+f"(d[123]), "+f"(d[124]), "+f"(d[125]), "+f"(d[126]), "+f"(d[127])

// D(64x256, f32) (+)= A(64xk, smem) * B(256xk, smem)^T, both K-major. accumulate == 0 makes
// D = A * B^T (the first step of a tile), so the accumulators need no zeroing. Operands %128,
// %129 are the descriptors, %130 the accumulate flag. imm-scale-a/b = 1 (no negation);
// imm-trans-a/b = 0 (K-major, no transpose; the 8-bit form has no transpose operands at all).
#define AICBENCH_DEFINE_WGMMA_N256(name, shape_types, tail)                                    \
  __device__ __forceinline__ void name(float (&d)[128], uint64_t desc_a, uint64_t desc_b,      \
                                       uint32_t accumulate) {                                  \
    asm volatile(                                                                              \
        "{\n"                                                                                  \
        ".reg .pred p;\n"                                                                      \
        "setp.ne.b32 p, %130, 0;\n"                                                            \
        "wgmma.mma_async.sync.aligned." shape_types " " AICBENCH_WGMMA_N256_D_LIST             \
        ", %128, %129, p, 1, 1" tail ";\n"                                                     \
        "}\n"                                                                                  \
        : AICBENCH_WGMMA_N256_D_OPERANDS(d)                                                    \
        : "l"(desc_a), "l"(desc_b), "r"(accumulate));                                          \
  }

AICBENCH_DEFINE_WGMMA_N256(wgmma_m64n256k16_bf16, "m64n256k16.f32.bf16.bf16", ", 0, 0")
AICBENCH_DEFINE_WGMMA_N256(wgmma_m64n256k16_f16, "m64n256k16.f32.f16.f16", ", 0, 0")
AICBENCH_DEFINE_WGMMA_N256(wgmma_m64n256k32_e4m3, "m64n256k32.f32.e4m3.e4m3", "")

#undef AICBENCH_DEFINE_WGMMA_N256


// ---- wgmma of any width N (32 .. 256): both operands in shared memory ("SS"), or A in
// registers ("RS") -------------------------------------------------------------------------------
// m64nN fp32 accumulators: N / 2 registers per thread, d[i] at accumulator_coord(t, i) of the
// 64 x N tile (kernels/gemm/sm90_smem_layout.hpp), for every N. The operand lists are spelled
// out: AICBENCH_WGMMA_D<n> names %0 .. %(n-1), AICBENCH_WGMMA_D<n>_OPERANDS(d) binds them to
// d[0] .. d[n-1].

#define AICBENCH_WGMMA_D16 \
  "{" \
  "%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15" \
  "}"
#define AICBENCH_WGMMA_D16_OPERANDS(d) \
  "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]), \
  "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15])

#define AICBENCH_WGMMA_D32 \
  "{" \
  "%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, " \
  "%17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31" \
  "}"
#define AICBENCH_WGMMA_D32_OPERANDS(d) \
  "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), \
  "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), \
  "+f"(d[14]), "+f"(d[15]), "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), \
  "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), \
  "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31])

#define AICBENCH_WGMMA_D64 \
  "{" \
  "%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, " \
  "%17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, " \
  "%32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, " \
  "%47, %48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, " \
  "%62, %63" \
  "}"
#define AICBENCH_WGMMA_D64_OPERANDS(d) \
  "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), \
  "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), \
  "+f"(d[14]), "+f"(d[15]), "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), \
  "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), \
  "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31]), "+f"(d[32]), "+f"(d[33]), "+f"(d[34]), \
  "+f"(d[35]), "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), "+f"(d[39]), "+f"(d[40]), "+f"(d[41]), \
  "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47]), "+f"(d[48]), \
  "+f"(d[49]), "+f"(d[50]), "+f"(d[51]), "+f"(d[52]), "+f"(d[53]), "+f"(d[54]), "+f"(d[55]), \
  "+f"(d[56]), "+f"(d[57]), "+f"(d[58]), "+f"(d[59]), "+f"(d[60]), "+f"(d[61]), "+f"(d[62]), \
  "+f"(d[63])

#define AICBENCH_WGMMA_D128 \
  "{" \
  "%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, " \
  "%17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, " \
  "%32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, " \
  "%47, %48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, " \
  "%62, %63, %64, %65, %66, %67, %68, %69, %70, %71, %72, %73, %74, %75, %76, " \
  "%77, %78, %79, %80, %81, %82, %83, %84, %85, %86, %87, %88, %89, %90, %91, " \
  "%92, %93, %94, %95, %96, %97, %98, %99, %100, %101, %102, %103, %104, %105, " \
  "%106, %107, %108, %109, %110, %111, %112, %113, %114, %115, %116, %117, %118, " \
  "%119, %120, %121, %122, %123, %124, %125, %126, %127" \
  "}"
#define AICBENCH_WGMMA_D128_OPERANDS(d) \
  "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), \
  "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), \
  "+f"(d[14]), "+f"(d[15]), "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), \
  "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), \
  "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31]), "+f"(d[32]), "+f"(d[33]), "+f"(d[34]), \
  "+f"(d[35]), "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), "+f"(d[39]), "+f"(d[40]), "+f"(d[41]), \
  "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47]), "+f"(d[48]), \
  "+f"(d[49]), "+f"(d[50]), "+f"(d[51]), "+f"(d[52]), "+f"(d[53]), "+f"(d[54]), "+f"(d[55]), \
  "+f"(d[56]), "+f"(d[57]), "+f"(d[58]), "+f"(d[59]), "+f"(d[60]), "+f"(d[61]), "+f"(d[62]), \
  "+f"(d[63]), "+f"(d[64]), "+f"(d[65]), "+f"(d[66]), "+f"(d[67]), "+f"(d[68]), "+f"(d[69]), \
  "+f"(d[70]), "+f"(d[71]), "+f"(d[72]), "+f"(d[73]), "+f"(d[74]), "+f"(d[75]), "+f"(d[76]), \
  "+f"(d[77]), "+f"(d[78]), "+f"(d[79]), "+f"(d[80]), "+f"(d[81]), "+f"(d[82]), "+f"(d[83]), \
  "+f"(d[84]), "+f"(d[85]), "+f"(d[86]), "+f"(d[87]), "+f"(d[88]), "+f"(d[89]), "+f"(d[90]), \
  "+f"(d[91]), "+f"(d[92]), "+f"(d[93]), "+f"(d[94]), "+f"(d[95]), "+f"(d[96]), "+f"(d[97]), \
  "+f"(d[98]), "+f"(d[99]), "+f"(d[100]), "+f"(d[101]), "+f"(d[102]), "+f"(d[103]), \
  "+f"(d[104]), "+f"(d[105]), "+f"(d[106]), "+f"(d[107]), "+f"(d[108]), "+f"(d[109]), \
  "+f"(d[110]), "+f"(d[111]), "+f"(d[112]), "+f"(d[113]), "+f"(d[114]), "+f"(d[115]), \
  "+f"(d[116]), "+f"(d[117]), "+f"(d[118]), "+f"(d[119]), "+f"(d[120]), "+f"(d[121]), \
  "+f"(d[122]), "+f"(d[123]), "+f"(d[124]), "+f"(d[125]), "+f"(d[126]), "+f"(d[127])

// SS: D(64 x N) (+)= A(64 x 16, smem, K-major) * B(N x 16, smem)^T, B K-major. `accumulate` == 0
// overwrites D (the first k-step of a product). After the accumulators come the two descriptors
// and the accumulate flag (operands a, b, f). imm-scale-a/b = 1, imm-trans-a/b = 0.
#define AICBENCH_DEFINE_WGMMA_SS(name, n_regs, shape_types, a, b, f)                           \
  __device__ __forceinline__ void name(float (&d)[n_regs], uint64_t desc_a, uint64_t desc_b,   \
                                       uint32_t accumulate) {                                  \
    asm volatile("{\n"                                                                         \
                 ".reg .pred p;\n"                                                             \
                 "setp.ne.b32 p, " f ", 0;\n"                                                  \
                 "wgmma.mma_async.sync.aligned." shape_types " " AICBENCH_WGMMA_D##n_regs        \
                 ", " a ", " b ", p, 1, 1, 0, 0;\n"                                            \
                 "}\n"                                                                         \
                 : AICBENCH_WGMMA_D##n_regs##_OPERANDS(d)                                       \
                 : "l"(desc_a), "l"(desc_b), "r"(accumulate));                                 \
  }

// RS: D(64 x N) += A(64 x 16, registers) * B(16 x N, smem) with B MN-major (imm-trans-b = 1: stored
// as 16 rows of N contiguous values, as V's keys are), always accumulating. A is four 32-bit
// registers of two 16-bit values each, the PTX ISA's register fragment of wgmma's A
// (a_fragment_coord in kernels/attention/sm90_attention_layout.hpp). Operands after the
// accumulators: a0..a3 (a), the B descriptor (b), the accumulate flag (f, always 1).
#define AICBENCH_DEFINE_WGMMA_RS(name, n_regs, shape_types, a, b, f)                           \
  __device__ __forceinline__ void name(float (&d)[n_regs], const uint32_t (&r)[4],             \
                                       uint64_t desc_b) {                                      \
    asm volatile("{\n"                                                                         \
                 ".reg .pred p;\n"                                                             \
                 "setp.ne.b32 p, " f ", 0;\n"                                                  \
                 "wgmma.mma_async.sync.aligned." shape_types " " AICBENCH_WGMMA_D##n_regs        \
                 ", " a ", " b ", p, 1, 1, 1;\n"                                               \
                 "}\n"                                                                         \
                 : AICBENCH_WGMMA_D##n_regs##_OPERANDS(d)                                       \
                 : "r"(r[0]), "r"(r[1]), "r"(r[2]), "r"(r[3]), "l"(desc_b), "r"(1));          \
  }

AICBENCH_DEFINE_WGMMA_SS(wgmma_ss_m64n32k16_bf16, 16, "m64n32k16.f32.bf16.bf16", "%16", "%17", "%18")
AICBENCH_DEFINE_WGMMA_SS(wgmma_ss_m64n32k16_f16, 16, "m64n32k16.f32.f16.f16", "%16", "%17", "%18")
AICBENCH_DEFINE_WGMMA_SS(wgmma_ss_m64n64k16_bf16, 32, "m64n64k16.f32.bf16.bf16", "%32", "%33", "%34")
AICBENCH_DEFINE_WGMMA_SS(wgmma_ss_m64n64k16_f16, 32, "m64n64k16.f32.f16.f16", "%32", "%33", "%34")
AICBENCH_DEFINE_WGMMA_SS(wgmma_ss_m64n128k16_bf16, 64, "m64n128k16.f32.bf16.bf16", "%64", "%65", "%66")
AICBENCH_DEFINE_WGMMA_SS(wgmma_ss_m64n128k16_f16, 64, "m64n128k16.f32.f16.f16", "%64", "%65", "%66")
AICBENCH_DEFINE_WGMMA_SS(wgmma_ss_m64n256k16_bf16, 128, "m64n256k16.f32.bf16.bf16", "%128", "%129", "%130")
AICBENCH_DEFINE_WGMMA_SS(wgmma_ss_m64n256k16_f16, 128, "m64n256k16.f32.f16.f16", "%128", "%129", "%130")
AICBENCH_DEFINE_WGMMA_RS(wgmma_rs_m64n64k16_bf16, 32, "m64n64k16.f32.bf16.bf16", "{%32, %33, %34, %35}", "%36", "%37")
AICBENCH_DEFINE_WGMMA_RS(wgmma_rs_m64n64k16_f16, 32, "m64n64k16.f32.f16.f16", "{%32, %33, %34, %35}", "%36", "%37")
AICBENCH_DEFINE_WGMMA_RS(wgmma_rs_m64n128k16_bf16, 64, "m64n128k16.f32.bf16.bf16", "{%64, %65, %66, %67}", "%68", "%69")
AICBENCH_DEFINE_WGMMA_RS(wgmma_rs_m64n128k16_f16, 64, "m64n128k16.f32.f16.f16", "{%64, %65, %66, %67}", "%68", "%69")
AICBENCH_DEFINE_WGMMA_RS(wgmma_rs_m64n256k16_bf16, 128, "m64n256k16.f32.bf16.bf16", "{%128, %129, %130, %131}", "%132", "%133")
AICBENCH_DEFINE_WGMMA_RS(wgmma_rs_m64n256k16_f16, 128, "m64n256k16.f32.f16.f16", "{%128, %129, %130, %131}", "%132", "%133")

#undef AICBENCH_DEFINE_WGMMA_SS
#undef AICBENCH_DEFINE_WGMMA_RS

}  // namespace aicbench::kernels::sm90
