// STREAM on the GPU: copy, scale, add, triad (McCalpin's four kernels), read and write, each a
// grid-stride loop over 16-byte vectors (float4 / double2: LDG.E.128 and STG.E.128), in one
// kernel template specialised per operation.
//
// What keeps HBM busy (Little's law: an H100's 3.35 TB/s times about 600 ns of latency is about
// 2 MB in flight, 15 KB per SM): a full wave of blocks (the occupancy API's blocks per SM times
// the SMs, never more, so that no block waits for a second wave), and in the main loop
// kUnroll = 4 independent 16-byte loads per input array per thread issued before the first is
// used, 64 bytes per array and thread, 64 to 128 KB per SM at the occupancy these kernels reach.
// The remainder of the vectors runs one per thread and iteration, and the last n % (16 / size)
// elements one per thread.
//
// Targets (issue 12): copy and triad at least 93 % of cudaMemcpy device to device on H100 and
// H200 (about 2.9 to 3.0 TB/s on an H100, 4.3 TB/s on an H200, counted as STREAM counts). Not yet
// measured on a GPU: results/gpu/ will say.
#include "kernels/memory/stream_kernels.hpp"

#include <cstdint>

namespace aicbench::kernels {

namespace {

constexpr int kThreads = 256;
constexpr int kUnroll = 4;

// ==== 16-byte vectors and their arithmetic

template <typename T> struct Vec16;
template <> struct Vec16<float> { using type = float4; static constexpr int kLanes = 4; };
template <> struct Vec16<double> { using type = double2; static constexpr int kLanes = 2; };

__device__ __forceinline__ float4 splat(float v, float4*) { return make_float4(v, v, v, v); }
__device__ __forceinline__ double2 splat(double v, double2*) { return make_double2(v, v); }
__device__ __forceinline__ float4 operator+(float4 x, float4 y) { return make_float4(x.x + y.x, x.y + y.y, x.z + y.z, x.w + y.w); }
__device__ __forceinline__ double2 operator+(double2 x, double2 y) { return make_double2(x.x + y.x, x.y + y.y); }
__device__ __forceinline__ float4 operator*(float q, float4 x) { return make_float4(q * x.x, q * x.y, q * x.z, q * x.w); }
__device__ __forceinline__ double2 operator*(double q, double2 x) { return make_double2(q * x.x, q * x.y); }
__device__ __forceinline__ float lane_sum(float4 x) { return (x.x + x.y) + (x.z + x.w); }
__device__ __forceinline__ double lane_sum(double2 x) { return x.x + x.y; }

// ==== One step: U vectors per array and thread, `stride` vectors apart (coalesced per u)

// Loads every input of the U vectors first, then computes and stores: U loads per input array
// are in flight before the first result is needed. `part` (read) adds at most U * 4 elements in T
// before it goes to the fp64 accumulator, so fp32 sums of the small integers stay exact.
template <int U, StreamOp OP, typename T>
__device__ __forceinline__ void stream_step(T* __restrict__ a, T* __restrict__ b, T* __restrict__ c, size_t i,
                                            size_t stride, double& acc) {
  using V = typename Vec16<T>::type;
  V* av = reinterpret_cast<V*>(a);
  V* bv = reinterpret_cast<V*>(b);
  V* cv = reinterpret_cast<V*>(c);
  const T q = T(kStreamScalar);
  V x[U], y[U];
  if constexpr (OP == StreamOp::copy) {
#pragma unroll
    for (int u = 0; u < U; ++u) x[u] = av[i + u * stride];
#pragma unroll
    for (int u = 0; u < U; ++u) cv[i + u * stride] = x[u];
  } else if constexpr (OP == StreamOp::scale) {
#pragma unroll
    for (int u = 0; u < U; ++u) x[u] = cv[i + u * stride];
#pragma unroll
    for (int u = 0; u < U; ++u) bv[i + u * stride] = q * x[u];
  } else if constexpr (OP == StreamOp::add) {
#pragma unroll
    for (int u = 0; u < U; ++u) { x[u] = av[i + u * stride]; y[u] = bv[i + u * stride]; }
#pragma unroll
    for (int u = 0; u < U; ++u) cv[i + u * stride] = x[u] + y[u];
  } else if constexpr (OP == StreamOp::triad) {
#pragma unroll
    for (int u = 0; u < U; ++u) { x[u] = bv[i + u * stride]; y[u] = cv[i + u * stride]; }
#pragma unroll
    for (int u = 0; u < U; ++u) av[i + u * stride] = x[u] + q * y[u];
  } else if constexpr (OP == StreamOp::read) {
#pragma unroll
    for (int u = 0; u < U; ++u) x[u] = av[i + u * stride];
    T part = 0;
#pragma unroll
    for (int u = 0; u < U; ++u) part += lane_sum(x[u]);
    acc += double(part);
  } else {  // write
    const V v = splat(q, static_cast<V*>(nullptr));
#pragma unroll
    for (int u = 0; u < U; ++u) av[i + u * stride] = v;
  }
  (void)y;
}

// The same on one element: the last n % lanes elements.
template <StreamOp OP, typename T>
__device__ __forceinline__ void stream_element(T* a, T* b, T* c, size_t i, double& acc) {
  const T q = T(kStreamScalar);
  if constexpr (OP == StreamOp::copy) c[i] = a[i];
  else if constexpr (OP == StreamOp::scale) b[i] = q * c[i];
  else if constexpr (OP == StreamOp::add) c[i] = a[i] + b[i];
  else if constexpr (OP == StreamOp::triad) a[i] = b[i] + q * c[i];
  else if constexpr (OP == StreamOp::read) acc += double(a[i]);
  else a[i] = q;
}

// ==== The kernel

template <StreamOp OP, typename T>
__global__ void __launch_bounds__(kThreads) stream_kernel(T* __restrict__ a, T* __restrict__ b, T* __restrict__ c,
                                                         size_t n, double* __restrict__ sum) {
  constexpr int kLanes = Vec16<T>::kLanes;
  const size_t vectors = n / kLanes;
  const size_t stride = size_t(gridDim.x) * blockDim.x;
  const size_t thread = size_t(blockIdx.x) * blockDim.x + threadIdx.x;
  double acc = 0;
  size_t i = thread;
  // Main loop: kUnroll vectors per array and thread in flight.
  for (; i + (kUnroll - 1) * stride < vectors; i += kUnroll * stride) stream_step<kUnroll, OP>(a, b, c, i, stride, acc);
  // The vectors left over: one per thread.
  for (; i < vectors; i += stride) stream_step<1, OP>(a, b, c, i, stride, acc);
  // The elements after the last whole vector.
  if (thread < n - vectors * kLanes) stream_element<OP>(a, b, c, vectors * kLanes + thread, acc);

  if constexpr (OP == StreamOp::read) {
    // Block sum in fp64 (exact for integers below 2^53), one atomic per block.
    __shared__ double warp_sums[kThreads / 32];
#pragma unroll
    for (int offset = 16; offset > 0; offset /= 2) acc += __shfl_down_sync(0xffffffffu, acc, offset);
    if (threadIdx.x % 32 == 0) warp_sums[threadIdx.x / 32] = acc;
    __syncthreads();
    if (threadIdx.x == 0) {
      double block = 0;
      for (int w = 0; w < kThreads / 32; ++w) block += warp_sums[w];
      atomicAdd(sum, block);
    }
  }
}

// ==== Initialisation and the check

template <typename T>
__global__ void stream_init_kernel(T* a, T* b, T* c, size_t n) {
  for (size_t i = size_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += size_t(gridDim.x) * blockDim.x) {
    if (a) a[i] = T(stream_a0(i));
    if (b) b[i] = T(stream_b0(i));
    if (c) c[i] = T(stream_c0(i));
  }
}

template <typename T>
__global__ void stream_fill_kernel(T* x, size_t n, T value) {
  for (size_t i = size_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += size_t(gridDim.x) * blockDim.x) x[i] = value;
}

template <typename T>
__global__ void stream_check_kernel(StreamOp op, const T* out, size_t n, unsigned long long* mismatches,
                                    unsigned long long* first_mismatch) {
  unsigned long long wrong = 0, first = ~0ull;
  for (size_t i = size_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += size_t(gridDim.x) * blockDim.x) {
    if (!(out[i] == T(stream_expected(op, i)))) {  // NaN (the poison) is never equal
      if (!wrong) first = i;
      ++wrong;
    }
  }
  if (wrong) {
    atomicAdd(mismatches, wrong);
    atomicMin(first_mismatch, first);
  }
}

// A full wave of blocks of `kernel` on the current device: blocks per SM (occupancy API) times
// the SMs, and no more blocks than the work needs.
template <typename Kernel>
cudaError_t full_wave(Kernel kernel, size_t work_items, int* grid) {
  int device = 0, sms = 0, per_sm = 0;
  if (cudaError_t err = cudaGetDevice(&device); err != cudaSuccess) return err;
  if (cudaError_t err = cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device); err != cudaSuccess) return err;
  if (cudaError_t err = cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, kernel, kThreads, 0); err != cudaSuccess) return err;
  const size_t needed = work_items / kThreads + 1;
  const size_t wave = size_t(sms) * size_t(per_sm > 0 ? per_sm : 1);
  *grid = static_cast<int>(needed < wave ? needed : wave);
  return cudaSuccess;
}

bool aligned16(const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; }

template <StreamOp OP, typename T>
cudaError_t launch(T* a, T* b, T* c, size_t n, double* sum, cudaStream_t stream) {
  int grid = 0;
  if (cudaError_t err = full_wave(stream_kernel<OP, T>, n / Vec16<T>::kLanes, &grid); err != cudaSuccess) return err;
  stream_kernel<OP, T><<<grid, kThreads, 0, stream>>>(a, b, c, n, sum);
  return cudaGetLastError();
}

}  // namespace

template <typename T>
cudaError_t stream_cuda(StreamOp op, T* a, T* b, T* c, size_t n, double* sum, cudaStream_t stream) {
  if (!aligned16(a) || !aligned16(b) || !aligned16(c)) return cudaErrorInvalidValue;
  if (n == 0) return cudaSuccess;
  switch (op) {
    case StreamOp::copy: return launch<StreamOp::copy>(a, b, c, n, sum, stream);
    case StreamOp::scale: return launch<StreamOp::scale>(a, b, c, n, sum, stream);
    case StreamOp::add: return launch<StreamOp::add>(a, b, c, n, sum, stream);
    case StreamOp::triad: return launch<StreamOp::triad>(a, b, c, n, sum, stream);
    case StreamOp::read: return launch<StreamOp::read>(a, b, c, n, sum, stream);
    case StreamOp::write: return launch<StreamOp::write>(a, b, c, n, sum, stream);
  }
  return cudaErrorInvalidValue;
}

template <typename T>
cudaError_t stream_init_cuda(T* a, T* b, T* c, size_t n, cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  int grid = 0;
  if (cudaError_t err = full_wave(stream_init_kernel<T>, n, &grid); err != cudaSuccess) return err;
  stream_init_kernel<T><<<grid, kThreads, 0, stream>>>(a, b, c, n);
  return cudaGetLastError();
}

template <typename T>
cudaError_t stream_fill_cuda(T* x, size_t n, T value, cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  int grid = 0;
  if (cudaError_t err = full_wave(stream_fill_kernel<T>, n, &grid); err != cudaSuccess) return err;
  stream_fill_kernel<T><<<grid, kThreads, 0, stream>>>(x, n, value);
  return cudaGetLastError();
}

template <typename T>
cudaError_t stream_check_cuda(StreamOp op, const T* out, size_t n, unsigned long long* mismatches,
                              unsigned long long* first_mismatch, cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  int grid = 0;
  if (cudaError_t err = full_wave(stream_check_kernel<T>, n, &grid); err != cudaSuccess) return err;
  stream_check_kernel<T><<<grid, kThreads, 0, stream>>>(op, out, n, mismatches, first_mismatch);
  return cudaGetLastError();
}

#define AICBENCH_STREAM_INSTANTIATE(T)                                                                        \
  template cudaError_t stream_cuda<T>(StreamOp, T*, T*, T*, size_t, double*, cudaStream_t);                  \
  template cudaError_t stream_init_cuda<T>(T*, T*, T*, size_t, cudaStream_t);                                \
  template cudaError_t stream_fill_cuda<T>(T*, size_t, T, cudaStream_t);                                     \
  template cudaError_t stream_check_cuda<T>(StreamOp, const T*, size_t, unsigned long long*, unsigned long long*, \
                                            cudaStream_t);
AICBENCH_STREAM_INSTANTIATE(float)
AICBENCH_STREAM_INSTANTIATE(double)
#undef AICBENCH_STREAM_INSTANTIATE

}  // namespace aicbench::kernels
