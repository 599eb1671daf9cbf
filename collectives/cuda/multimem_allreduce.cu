// NVLink SHARP all-reduce with multimem PTX (multimem_allreduce.hpp). sm_90 and newer; the kernel
// body is compiled only there (an older target gets a kernel that traps, and the launcher refuses
// to start it).
#include "collectives/cuda/multimem_allreduce.hpp"

#include <algorithm>
#include <cstdint>

#include <cuda_bf16.h>

#include "collectives/cuda/device_sync.cuh"

namespace aicbench::collectives {

namespace {

using namespace device;

struct MultimemParams {
  char* unicast;
  char* multicast;
  const void* in;
  void* out;
  int64_t count;
  int64_t part;
  int rank, ranks;
  uint32_t epoch;
};

#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900

// ---- multimem PTX (sm_90+) ------------------------------------------------------------------------------

// Sum over every GPU of the 16 bytes at multicast address `mc`, accumulated in fp32.
__device__ __forceinline__ uint4 multimem_ld_reduce_sum(const float* mc) {
  uint4 v;
  asm volatile("multimem.ld_reduce.relaxed.sys.global.add.v4.f32 {%0, %1, %2, %3}, [%4];"
               : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w)
               : "l"(mc)
               : "memory");
  return v;
}
__device__ __forceinline__ uint4 multimem_ld_reduce_sum(const __nv_bfloat16* mc) {
  uint4 v;
  asm volatile("multimem.ld_reduce.relaxed.sys.global.add.acc::f32.v4.bf16x2 {%0, %1, %2, %3}, [%4];"
               : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w)
               : "l"(mc)
               : "memory");
  return v;
}
__device__ __forceinline__ void multimem_store(float* mc, uint4 v) {
  asm volatile("multimem.st.relaxed.sys.global.v4.f32 [%0], {%1, %2, %3, %4};" ::"l"(mc), "r"(v.x), "r"(v.y),
               "r"(v.z), "r"(v.w)
               : "memory");
}
__device__ __forceinline__ void multimem_store(__nv_bfloat16* mc, uint4 v) {
  asm volatile("multimem.st.relaxed.sys.global.v4.bf16x2 [%0], {%1, %2, %3, %4};" ::"l"(mc), "r"(v.x), "r"(v.y),
               "r"(v.z), "r"(v.w)
               : "memory");
}

// This block of every rank has arrived at barrier number `seq` (1, 2, ... over the workspace's life).
// Data and counters are reached through two virtual aliases of the same memory, the unicast and
// the multicast mapping; accesses through different aliases are ordered only by a proxy fence, so
// every thread fences its own accesses on both sides of the barrier, and the counter's thread
// between its multicast reduction and its unicast reads.
__device__ __forceinline__ void fence_alias() { asm volatile("fence.proxy.alias;" ::: "memory"); }

__device__ __forceinline__ void barrier_all_ranks(const MultimemParams& p, uint32_t seq) {
  fence_alias();
  __syncthreads();  // every thread's writes (unicast copies, multimem.st) before the release below
  if (threadIdx.x == 0) {
    uint32_t* mc_counter = reinterpret_cast<uint32_t*>(p.multicast) + blockIdx.x;
    const uint32_t* uc_counter = reinterpret_cast<const uint32_t*>(p.unicast) + blockIdx.x;
    asm volatile("multimem.red.release.sys.global.add.u32 [%0], 1;" ::"l"(mc_counter) : "memory");
    fence_alias();
    wait_reached(uc_counter, seq * static_cast<uint32_t>(p.ranks));
  }
  __syncthreads();
  fence_alias();
}

template <typename T>
__global__ void __launch_bounds__(kMultimemThreads, 1) multimem_kernel(const __grid_constant__ MultimemParams p) {
  const T* in = static_cast<const T*>(p.in);
  T* out = static_cast<T*>(p.out);
  T* own = reinterpret_cast<T*>(p.unicast + kMultimemSignalBytes);
  T* all = reinterpret_cast<T*>(p.multicast + kMultimemSignalBytes);

  // Every part of the input into this GPU's copy: each rank's part owner reduces it from there.
  for (int q = 0; q < p.ranks; ++q) {
    const int64_t hi = min((q + 1) * p.part, p.count);
    for (int64_t e = first_pack<T>(q * p.part); e < hi; e += pack_stride<T>()) copy_pack(own, in, e, hi);
  }
  barrier_all_ranks(p, 2 * p.epoch - 1);

  // This rank's part: the switch sums it over every GPU and the sum goes back to every GPU. Whole
  // packs always: a part is padded to 16 bytes and the padding is never copied out.
  const int64_t lo = p.rank * p.part, hi = min(lo + p.part, p.count);
  for (int64_t e = first_pack<T>(lo); e < hi; e += pack_stride<T>()) {
    multimem_store(all + e, multimem_ld_reduce_sum(all + e));
  }
  barrier_all_ranks(p, 2 * p.epoch);

  for (int q = 0; q < p.ranks; ++q) {
    const int64_t part_hi = min((q + 1) * p.part, p.count);
    for (int64_t e = first_pack<T>(q * p.part); e < part_hi; e += pack_stride<T>()) copy_pack(out, own, e, part_hi);
  }
}

#else  // below sm_90: no multimem; the launcher never starts this

template <typename T>
__global__ void __launch_bounds__(kMultimemThreads, 1) multimem_kernel(const __grid_constant__ MultimemParams) {
  __trap();
}

#endif

int64_t round_up(int64_t x, int64_t m) { return (x + m - 1) / m * m; }
bool aligned16(const void* p) { return (reinterpret_cast<uintptr_t>(p) & 15) == 0; }

// The architecture (10 * major + minor) the kernel this device runs was compiled from: its PTX
// target, which decides whether the multimem body is in it (a build for sm_80 only, JIT-compiled on
// a Hopper, still runs the compute_80 body that traps).
int kernel_arch() {
  cudaFuncAttributes attr{};
  if (cudaFuncGetAttributes(&attr, multimem_kernel<float>) != cudaSuccess) {
    (void)cudaGetLastError();
    return 0;
  }
  return attr.ptxVersion ? attr.ptxVersion : attr.binaryVersion;
}

}  // namespace

MultimemLayout multimem_layout(ElemType type, int ranks, int64_t count) {
  const int64_t elem = elem_bytes(type);
  MultimemLayout l;
  l.part = round_up((count + ranks - 1) / ranks, 16 / elem);
  l.bytes = kMultimemSignalBytes + round_up(ranks * l.part * elem, 256);
  return l;
}

bool multimem_kernel_built_for_device() { return kernel_arch() >= 90; }

cudaError_t multimem_all_reduce(ElemType type, const MultimemAllReduceArgs& args, cudaStream_t stream) {
  if (args.ranks < 1 || args.rank < 0 || args.rank >= args.ranks || args.epoch == 0 || args.count <= 0 ||
      args.max_blocks < 1 || args.max_blocks > kMultimemMaxBlocks || !aligned16(args.in) ||
      !aligned16(args.out) || !aligned16(args.unicast) || !aligned16(args.multicast)) {
    return cudaErrorInvalidValue;
  }
  if (!multimem_kernel_built_for_device()) return cudaErrorNotSupported;
  const MultimemLayout layout = multimem_layout(type, args.ranks, args.count);
  const MultimemParams p{args.unicast, args.multicast, args.in, args.out, args.count,
                         layout.part, args.rank, args.ranks, args.epoch};
  const int64_t packs = layout.part * elem_bytes(type) / 16;
  const int blocks = static_cast<int>(
      std::clamp<int64_t>((packs + kMultimemThreads - 1) / kMultimemThreads, 1, args.max_blocks));
  if (type == ElemType::fp32) {
    multimem_kernel<float><<<blocks, kMultimemThreads, 0, stream>>>(p);
  } else {
    multimem_kernel<__nv_bfloat16><<<blocks, kMultimemThreads, 0, stream>>>(p);
  }
  return cudaGetLastError();
}

}  // namespace aicbench::collectives
