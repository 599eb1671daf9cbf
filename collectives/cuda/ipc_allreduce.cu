// Hand-written one-shot and two-shot all-reduce over CUDA IPC (ipc_allreduce.hpp).
//
//   one_shot_kernel  copy in -> own staging; barrier; out = sum over ranks of their staging
//   two_shot_kernel  copy in -> own staging; barrier; own part = sum over ranks of that part;
//                    barrier; out = each part read from the rank that reduced it
//
// Memory layout of one rank's workspace (ipc_layout): [flags | staging 0 | staging 1]; call k uses
// staging (k & 1). Flags: flags[block][from_rank], written by rank from_rank's block `block`.
// Barrier values: 2k for the first barrier of call k, 2k + 1 for the second; a flag only grows.
#include "collectives/cuda/ipc_allreduce.hpp"

#include <algorithm>
#include <cstdint>

#include <cuda_bf16.h>

#include "collectives/cuda/device_sync.cuh"

namespace aicbench::collectives {

namespace {

using namespace device;

struct IpcParams {
  char* workspace[kIpcMaxRanks];
  const void* in;
  void* out;
  int64_t count;
  int64_t part;         // elements per part (see IpcLayout)
  int64_t stage_bytes;
  int rank;
  uint32_t epoch;
};

__device__ __forceinline__ uint32_t* flag(char* workspace, int block, int from_rank) {
  return reinterpret_cast<uint32_t*>(workspace) + block * kIpcMaxRanks + from_rank;
}

// This block of every rank has reached barrier `value`. Thread t < N tells rank t and waits for
// rank t: a release store into rank t's flag for (this block, this rank), after the block barrier
// that orders every thread's earlier writes before it; an acquire wait on this rank's flag for
// (this block, rank t), before the block barrier that orders every thread's later reads after it.
template <int N>
__device__ __forceinline__ void barrier_all_ranks(const IpcParams& p, uint32_t value) {
  __syncthreads();
  if (threadIdx.x < N) {
    const int peer = threadIdx.x;
    st_release_sys(flag(p.workspace[peer], blockIdx.x, p.rank), value);
    wait_reached(flag(p.workspace[p.rank], blockIdx.x, peer), value);
  }
  __syncthreads();
}

template <typename T>
__device__ __forceinline__ T* staging(const IpcParams& p, int rank) {
  return reinterpret_cast<T*>(p.workspace[rank] + kIpcFlagBytes + (p.epoch & 1) * p.stage_bytes);
}

// dst[e..] = sum over ranks 0..N-1 (in that order, in fp32) of src[r][e..], for the pack at e.
template <typename T, int N>
__device__ __forceinline__ void reduce_pack(T* dst, T* const (&src)[N], int64_t e, int64_t hi) {
  constexpr int V = Pack<T>::kElems;
  if (e + V <= hi) {
    Pack<T> in[N];
#pragma unroll
    for (int r = 0; r < N; ++r) in[r].raw = *reinterpret_cast<const uint4*>(src[r] + e);
    Pack<T> sum;
#pragma unroll
    for (int i = 0; i < V; ++i) {
      float acc = to_float(in[0].get(i));
#pragma unroll
      for (int r = 1; r < N; ++r) acc += to_float(in[r].get(i));
      sum.set(i, from_float<T>(acc));
    }
    *reinterpret_cast<uint4*>(dst + e) = sum.raw;
  } else {
    for (int64_t i = e; i < hi; ++i) {
      float acc = to_float(src[0][i]);
#pragma unroll
      for (int r = 1; r < N; ++r) acc += to_float(src[r][i]);
      dst[i] = from_float<T>(acc);
    }
  }
}

// ---- kernels ------------------------------------------------------------------------------------------

template <typename T, int N>
__global__ void __launch_bounds__(kIpcThreads, 1) one_shot_kernel(const __grid_constant__ IpcParams p) {
  const T* in = static_cast<const T*>(p.in);
  T* out = static_cast<T*>(p.out);
  T* stage[N];
#pragma unroll
  for (int r = 0; r < N; ++r) stage[r] = staging<T>(p, r);
  T* own = staging<T>(p, p.rank);

  for (int64_t e = first_pack<T>(0); e < p.count; e += pack_stride<T>()) copy_pack(own, in, e, p.count);
  barrier_all_ranks<N>(p, 2 * p.epoch);
  for (int64_t e = first_pack<T>(0); e < p.count; e += pack_stride<T>()) reduce_pack<T, N>(out, stage, e, p.count);
}

template <typename T, int N>
__global__ void __launch_bounds__(kIpcThreads, 1) two_shot_kernel(const __grid_constant__ IpcParams p) {
  const T* in = static_cast<const T*>(p.in);
  T* out = static_cast<T*>(p.out);
  T* stage[N];
#pragma unroll
  for (int r = 0; r < N; ++r) stage[r] = staging<T>(p, r);
  T* own = staging<T>(p, p.rank);

  // Every part of the input into this rank's staging buffer (its owner reads it from here).
  for (int q = 0; q < N; ++q) {
    const int64_t hi = min((q + 1) * p.part, p.count);
    for (int64_t e = first_pack<T>(q * p.part); e < hi; e += pack_stride<T>()) copy_pack(own, in, e, hi);
  }
  barrier_all_ranks<N>(p, 2 * p.epoch);

  // Reduce-scatter: this rank's part, summed over every rank's staging, back into its own.
  const int64_t lo = p.rank * p.part, hi = min((p.rank + 1) * p.part, p.count);
  for (int64_t e = first_pack<T>(lo); e < hi; e += pack_stride<T>()) reduce_pack<T, N>(own, stage, e, hi);
  barrier_all_ranks<N>(p, 2 * p.epoch + 1);

  // All-gather: part q from rank q, which reduced it. (The owner's pointer is read from the
  // parameters, not from stage[q]: a loop the compiler may keep rolled must not index a local array.)
  for (int q = 0; q < N; ++q) {
    const int64_t part_hi = min((q + 1) * p.part, p.count);
    const T* owner = staging<T>(p, q);
    for (int64_t e = first_pack<T>(q * p.part); e < part_hi; e += pack_stride<T>()) copy_pack(out, owner, e, part_hi);
  }
}

// ---- launchers ----------------------------------------------------------------------------------------

int64_t round_up(int64_t x, int64_t m) { return (x + m - 1) / m * m; }

template <typename T, int N>
cudaError_t launch(IpcAlgo algo, const IpcParams& p, int max_blocks, cudaStream_t stream) {
  constexpr int V = Pack<T>::kElems;
  const int64_t packs = (p.part + V - 1) / V;  // per part: each block's share repeats in every part
  const int blocks = static_cast<int>(std::clamp<int64_t>((packs + kIpcThreads - 1) / kIpcThreads, 1, max_blocks));
  if (algo == IpcAlgo::one_shot) {
    one_shot_kernel<T, N><<<blocks, kIpcThreads, 0, stream>>>(p);
  } else {
    two_shot_kernel<T, N><<<blocks, kIpcThreads, 0, stream>>>(p);
  }
  return cudaGetLastError();
}

template <typename T>
cudaError_t launch_for_ranks(IpcAlgo algo, int ranks, const IpcParams& p, int max_blocks, cudaStream_t stream) {
  switch (ranks) {
    case 2: return launch<T, 2>(algo, p, max_blocks, stream);
    case 3: return launch<T, 3>(algo, p, max_blocks, stream);
    case 4: return launch<T, 4>(algo, p, max_blocks, stream);
    case 5: return launch<T, 5>(algo, p, max_blocks, stream);
    case 6: return launch<T, 6>(algo, p, max_blocks, stream);
    case 7: return launch<T, 7>(algo, p, max_blocks, stream);
    case 8: return launch<T, 8>(algo, p, max_blocks, stream);
    default: return cudaErrorInvalidValue;
  }
}

bool aligned16(const void* p) { return (reinterpret_cast<uintptr_t>(p) & 15) == 0; }

}  // namespace

IpcLayout ipc_layout(IpcAlgo algo, ElemType type, int ranks, int64_t count) {
  const int64_t elem = elem_bytes(type), pack = 16 / elem;
  IpcLayout l;
  if (algo == IpcAlgo::one_shot) {
    l.part = round_up(count, pack);
    l.stage_bytes = round_up(l.part * elem, 256);
  } else {
    l.part = round_up((count + ranks - 1) / ranks, pack);
    l.stage_bytes = round_up(ranks * l.part * elem, 256);
  }
  l.total_bytes = kIpcFlagBytes + 2 * l.stage_bytes;
  return l;
}

cudaError_t ipc_all_reduce(IpcAlgo algo, ElemType type, const IpcAllReduceArgs& args, cudaStream_t stream) {
  if (args.ranks < 2 || args.ranks > kIpcMaxRanks || args.rank < 0 || args.rank >= args.ranks ||
      args.epoch == 0 || args.count <= 0 || args.max_blocks < 1 || args.max_blocks > kIpcMaxBlocks ||
      !aligned16(args.in) || !aligned16(args.out)) {
    return cudaErrorInvalidValue;
  }
  const IpcLayout layout = ipc_layout(algo, type, args.ranks, args.count);
  IpcParams p{};
  for (int r = 0; r < args.ranks; ++r) {
    if (!args.workspace[r] || !aligned16(args.workspace[r])) return cudaErrorInvalidValue;
    p.workspace[r] = args.workspace[r];
  }
  p.in = args.in;
  p.out = args.out;
  p.count = args.count;
  p.part = layout.part;
  p.stage_bytes = layout.stage_bytes;
  p.rank = args.rank;
  p.epoch = args.epoch;
  return type == ElemType::fp32 ? launch_for_ranks<float>(algo, args.ranks, p, args.max_blocks, stream)
                                : launch_for_ranks<__nv_bfloat16>(algo, args.ranks, p, args.max_blocks, stream);
}

}  // namespace aicbench::collectives
