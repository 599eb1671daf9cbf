#pragma once
// Device-side pieces shared by the hand-written all-reduce kernels (ipc_allreduce.cu,
// multimem_allreduce.cu): system-scope acquire/release flags, a bounded wait, and 16-byte packs.
//
// Why system scope: a flag tells a peer process that this block's data is in memory the peer
// reads over NVLink (or, with several processes on one GPU, through another context's mapping).
// Only .sys scope orders this GPU's writes for observers outside it; .gpu scope would order them
// for this GPU's own threads alone. The writer publishes with a release store after a block
// barrier (so the release covers every thread's writes), the reader waits with acquire loads and
// then a block barrier (so every thread's later reads see them). docs/collectives.md has the
// protocol.
#include <cstdint>

#include <cuda_bf16.h>

namespace aicbench::collectives::device {

// A barrier that waits this long (wall clock) traps instead of hanging the job: a peer that died or
// never launched its kernel. The trap loses this process's CUDA context; the harness then names
// the benchmark.
inline constexpr unsigned long long kBarrierTimeoutNs = 30ull * 1000 * 1000 * 1000;

__device__ __forceinline__ uint32_t ld_acquire_sys(const uint32_t* p) {
  uint32_t v;
  asm volatile("ld.acquire.sys.global.u32 %0, [%1];" : "=r"(v) : "l"(p) : "memory");
  return v;
}

__device__ __forceinline__ void st_release_sys(uint32_t* p, uint32_t v) {
  asm volatile("st.release.sys.global.u32 [%0], %1;" ::"l"(p), "r"(v) : "memory");
}

__device__ __forceinline__ unsigned long long global_timer_ns() {
  unsigned long long t;
  asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
  return t;
}

// Flags and counters only grow (per-call epochs); "reached" survives their 32-bit wrap.
__device__ __forceinline__ bool reached(uint32_t value, uint32_t target) {
  return static_cast<int32_t>(value - target) >= 0;
}

// Spins until *flag reaches `target` (acquire, system scope); traps after kBarrierTimeoutNs.
__device__ __forceinline__ void wait_reached(const uint32_t* flag, uint32_t target) {
  if (reached(ld_acquire_sys(flag), target)) return;
  const unsigned long long start = global_timer_ns();
  while (!reached(ld_acquire_sys(flag), target)) {
    if (global_timer_ns() - start > kBarrierTimeoutNs) __trap();
  }
}

// ---- 16-byte packs of elements -----------------------------------------------------------------------

__device__ __forceinline__ float to_float(float v) { return v; }
__device__ __forceinline__ float to_float(__nv_bfloat16 v) { return __bfloat162float(v); }
template <typename T>
__device__ __forceinline__ T from_float(float v);
template <>
__device__ __forceinline__ float from_float<float>(float v) { return v; }
template <>
__device__ __forceinline__ __nv_bfloat16 from_float<__nv_bfloat16>(float v) { return __float2bfloat16_rn(v); }

template <typename T>
struct Pack {
  static constexpr int kElems = 16 / sizeof(T);
  uint4 raw;
  __device__ __forceinline__ T get(int i) const { return reinterpret_cast<const T*>(&raw)[i]; }
  __device__ __forceinline__ void set(int i, T v) { reinterpret_cast<T*>(&raw)[i] = v; }
};

// The packs of this block in [lo, hi): for (e = first_pack<T>(lo); e < hi; e += pack_stride<T>()),
// each starting at element e and full when e + kElems <= hi. Every rank runs the same grid, and a
// block's packs are the same offsets from `lo` in every part, so block b of each rank touches the
// same elements: the flags can be per block, and no block waits for more than the peers' same
// block. (Plain loops, not a callback: a callback the compiler declines to inline costs a stack
// frame, which scripts/check-kernels.sh rejects.)
template <typename T>
__device__ __forceinline__ int64_t first_pack(int64_t lo) {
  return lo + (int64_t(blockIdx.x) * blockDim.x + threadIdx.x) * Pack<T>::kElems;
}
template <typename T>
__device__ __forceinline__ int64_t pack_stride() {
  return int64_t(gridDim.x) * blockDim.x * Pack<T>::kElems;
}

// Copies the elements [e, min(e + kElems, hi)) from src to dst: one 16-byte access when full.
template <typename T>
__device__ __forceinline__ void copy_pack(T* dst, const T* src, int64_t e, int64_t hi) {
  if (e + Pack<T>::kElems <= hi) {
    *reinterpret_cast<uint4*>(dst + e) = *reinterpret_cast<const uint4*>(src + e);
  } else {
    for (int64_t i = e; i < hi; ++i) dst[i] = src[i];
  }
}

}  // namespace aicbench::collectives::device
