// Fill and check kernels of the GPU collectives (collective_check.hpp).
#include "collectives/cuda/collective_check.hpp"

#include <algorithm>
#include <cstdint>

#include <cuda_bf16.h>

namespace aicbench::collectives {

namespace {

constexpr int kThreads = 256;
constexpr int64_t kMaxBlocks = 4096;  // grid-stride beyond that

template <typename T>
__device__ T from_int(int v);
template <>
__device__ float from_int<float>(int v) { return static_cast<float>(v); }
template <>
__device__ __nv_bfloat16 from_int<__nv_bfloat16>(int v) { return __int2bfloat16_rn(v); }

__device__ float to_float(float v) { return v; }
__device__ float to_float(__nv_bfloat16 v) { return __bfloat162float(v); }

// ---- kernels --------------------------------------------------------------------------------------

template <typename T>
__global__ void fill_send_kernel(T* send, int64_t elements, int rank, int period, int salt) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < elements;
       i += int64_t(gridDim.x) * blockDim.x) {
    send[i] = from_int<T>(input_value(rank, i, period, salt));
  }
}

template <typename T>
__global__ void check_output_kernel(const T* recv, int64_t elements, CollectiveOp op, int rank, int ranks,
                                    int64_t count, int salt, CheckCounters* counters) {
  unsigned long long wrong = 0, nonfinite = 0, first = ~0ull;
  float max_rel = 0;
  for (int64_t j = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; j < elements;
       j += int64_t(gridDim.x) * blockDim.x) {
    const float want = static_cast<float>(expected_value(op, rank, ranks, count, j, salt));
    const float got = to_float(recv[j]);
    if (got == want) continue;
    ++wrong;
    first = min(first, static_cast<unsigned long long>(j));
    if (isfinite(got)) {
      max_rel = fmaxf(max_rel, fabsf(got - want) / fmaxf(fabsf(want), 1.0f));
    } else {
      ++nonfinite;
    }
  }
  if (wrong) {
    atomicAdd(&counters->wrong, wrong);
    atomicAdd(&counters->nonfinite, nonfinite);
    atomicMin(&counters->first_wrong, first);
    // Non-negative floats order as their bits do.
    atomicMax(&counters->max_rel_err_bits, __float_as_uint(max_rel));
  }
}

__global__ void reset_counters_kernel(CheckCounters* counters) {
  counters->wrong = 0;
  counters->nonfinite = 0;
  counters->first_wrong = ~0ull;
  counters->max_rel_err_bits = 0;
}

__global__ void delay_kernel(unsigned long long nanoseconds) {
  unsigned long long start, now;
  asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(start));
  do {
    __nanosleep(1000);
    asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(now));
  } while (now - start < nanoseconds);
}

unsigned grid_for(int64_t elements) {
  return static_cast<unsigned>(std::clamp<int64_t>((elements + kThreads - 1) / kThreads, 1, kMaxBlocks));
}

}  // namespace

// ---- launchers --------------------------------------------------------------------------------------

cudaError_t fill_send(void* send, ElemType type, int64_t elements, int rank, int ranks, int salt,
                      cudaStream_t stream) {
  if (elements <= 0) return cudaSuccess;
  if (salt < 0) return cudaErrorInvalidValue;
  const int period = contributor_period(ranks);
  if (type == ElemType::fp32) {
    fill_send_kernel<<<grid_for(elements), kThreads, 0, stream>>>(static_cast<float*>(send), elements, rank, period, salt);
  } else {
    fill_send_kernel<<<grid_for(elements), kThreads, 0, stream>>>(static_cast<__nv_bfloat16*>(send), elements, rank, period, salt);
  }
  return cudaGetLastError();
}

cudaError_t check_output(const void* recv, ElemType type, CollectiveOp op, int rank, int ranks, int64_t count,
                         int salt, CheckCounters* counters, cudaStream_t stream) {
  const int64_t elements = recv_elements(op, ranks, count);
  if (elements <= 0) return cudaSuccess;
  if (salt < 0) return cudaErrorInvalidValue;
  if (type == ElemType::fp32) {
    check_output_kernel<<<grid_for(elements), kThreads, 0, stream>>>(static_cast<const float*>(recv), elements, op,
                                                                   rank, ranks, count, salt, counters);
  } else {
    check_output_kernel<<<grid_for(elements), kThreads, 0, stream>>>(static_cast<const __nv_bfloat16*>(recv),
                                                                   elements, op, rank, ranks, count, salt, counters);
  }
  return cudaGetLastError();
}

cudaError_t reset_counters(CheckCounters* counters, cudaStream_t stream) {
  reset_counters_kernel<<<1, 1, 0, stream>>>(counters);
  return cudaGetLastError();
}

cudaError_t device_delay(unsigned long long nanoseconds, cudaStream_t stream) {
  delay_kernel<<<1, 1, 0, stream>>>(nanoseconds);
  return cudaGetLastError();
}

}  // namespace aicbench::collectives
