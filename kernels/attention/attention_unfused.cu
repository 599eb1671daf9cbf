// The unfused attention path (attention_unfused.hpp): two cuBLAS batched GEMMs around a softmax
// kernel. The softmax kernel is the only hand-written part: one block of 256 threads per row of
// S; pass 1 keeps a running maximum and sum per thread (online softmax) and combines them over the
// block; pass 2 writes P = 2^(s c - m) / l in the input type, zeros past the causal limit (and a
// whole row of zeros for a query that sees no key).
#include "kernels/attention/attention_unfused.hpp"

#include <algorithm>
#include <climits>
#include <cmath>
#include <stdexcept>
#include <string>
#include <type_traits>

#include <cuda_bf16.h>
#include <cuda_fp16.h>

namespace aicbench::kernels {

namespace {

constexpr int kSoftmaxThreads = 256;

// Combines two (maximum, sum of 2^(x - maximum)) pairs.
__device__ __forceinline__ void combine(float& m, float& l, float m2, float l2) {
  const float M = fmaxf(m, m2);
  if (M == -INFINITY) return;  // both empty
  l = l * exp2f(m - M) + l2 * exp2f(m2 - M);
  m = M;
}

template <class T>
__global__ void __launch_bounds__(kSoftmaxThreads)
attention_softmax_rows(const float* __restrict__ S, T* __restrict__ P, int Sq, int Sk, int causal, float scale_log2) {
  const int row = static_cast<int>(blockIdx.x);
  const int64_t offset = (int64_t(blockIdx.y) * Sq + row) * Sk;
  const float* s = S + offset;
  T* p = P + offset;
  int end = Sk;
  if (causal) end = max(0, min(Sk, row + Sk - Sq + 1));

  // ---- pass 1: this thread's running maximum and sum, then the block's
  float m = -INFINITY, l = 0.0f;
  for (int j = static_cast<int>(threadIdx.x); j < end; j += kSoftmaxThreads) combine(m, l, s[j] * scale_log2, 1.0f);
#pragma unroll
  for (int mask = 16; mask > 0; mask /= 2) {
    combine(m, l, __shfl_xor_sync(0xffffffffu, m, mask), __shfl_xor_sync(0xffffffffu, l, mask));
  }
  __shared__ float warp_m[kSoftmaxThreads / 32], warp_l[kSoftmaxThreads / 32];
  const int warp = static_cast<int>(threadIdx.x) / 32, lane = static_cast<int>(threadIdx.x) % 32;
  if (lane == 0) {
    warp_m[warp] = m;
    warp_l[warp] = l;
  }
  __syncthreads();
  m = warp_m[0];
  l = warp_l[0];
  for (int w = 1; w < kSoftmaxThreads / 32; ++w) combine(m, l, warp_m[w], warp_l[w]);

  // ---- pass 2: P
  const float inv = l > 0.0f ? 1.0f / l : 0.0f;
  for (int j = static_cast<int>(threadIdx.x); j < Sk; j += kSoftmaxThreads) {
    const float value = j < end ? exp2f(s[j] * scale_log2 - m) * inv : 0.0f;
    if constexpr (std::is_same_v<T, __nv_bfloat16>) {
      p[j] = __float2bfloat16_rn(value);
    } else {
      p[j] = __float2half_rn(value);
    }
  }
}

size_t element_bytes(cudaDataType_t type) { return type == CUDA_R_32F ? 4 : 2; }

}  // namespace

size_t UnfusedAttention::pair_bytes(const AttentionShape& s) {
  return static_cast<size_t>(s.Sq) * static_cast<size_t>(s.Sk) * (sizeof(float) + 2);
}

UnfusedAttention::UnfusedAttention(cudaStream_t stream, const AttentionShape& shape, cudaDataType_t type,
                                   size_t workspace_bytes)
    : stream_(stream), shape_(shape), type_(type) {
  if (!shape.valid() || (type != CUDA_R_16BF && type != CUDA_R_16F)) {
    throw std::invalid_argument("unfused attention: invalid shape or type");
  }
  const int64_t pairs = shape.B * shape.H;
  chunk_pairs_ = std::min<int64_t>({pairs, static_cast<int64_t>(workspace_bytes / pair_bytes(shape)), 65535});
  if (chunk_pairs_ < 1) {
    throw std::invalid_argument("unfused attention: one (batch, head) needs " + std::to_string(pair_bytes(shape)) +
                                " bytes of workspace, more than the " + std::to_string(workspace_bytes) + " given");
  }
  if (shape.Sq > INT_MAX || shape.Sk > INT_MAX || shape.H * shape.D > INT_MAX || shape.KVH * shape.D > INT_MAX) {
    throw std::invalid_argument("unfused attention: dimensions past cuBLAS's int");
  }
  const size_t elements = static_cast<size_t>(chunk_pairs_) * shape.Sq * shape.Sk;
  cudaError_t err = cudaMalloc(&S_, elements * sizeof(float));
  if (err == cudaSuccess) err = cudaMalloc(&P_, elements * element_bytes(type));
  if (err == cudaSuccess) err = cudaMalloc(reinterpret_cast<void**>(&arrays_), 6 * pairs * sizeof(void*));
  if (err != cudaSuccess) {
    (void)cudaGetLastError();
    cudaFree(S_);
    cudaFree(P_);
    cudaFree(arrays_);
    throw std::runtime_error(std::string("unfused attention: cudaMalloc failed: ") + cudaGetErrorString(err));
  }
  if (const cublasStatus_t status = cublasCreate(&handle_); status != CUBLAS_STATUS_SUCCESS) {
    cudaFree(S_);
    cudaFree(P_);
    cudaFree(arrays_);
    throw std::runtime_error(std::string("cublasCreate failed: ") + cublasGetStatusString(status));
  }
  cublasSetStream(handle_, stream_);
  cublasSetMathMode(handle_, CUBLAS_DEFAULT_MATH);
}

UnfusedAttention::~UnfusedAttention() {
  if (handle_) cublasDestroy(handle_);
  cudaFree(S_);
  cudaFree(P_);
  cudaFree(arrays_);
}

// Pointer arrays, 6 x (B * H): Q, K, V, O of pair i = (b, h), then S and P of its slot in a chunk.
cublasStatus_t UnfusedAttention::prepare(const void* Q, const void* K, const void* V, void* O) {
  const AttentionShape& s = shape_;
  const int64_t pairs = s.B * s.H;
  const size_t eb = element_bytes(type_);
  std::vector<void*> host(6 * pairs);
  for (int64_t i = 0; i < pairs; ++i) {
    const int64_t b = i / s.H, h = i % s.H, slot = i % chunk_pairs_;
    host[0 * pairs + i] = const_cast<char*>(static_cast<const char*>(Q)) + s.q_offset(b, 0, h) * eb;
    host[1 * pairs + i] = const_cast<char*>(static_cast<const char*>(K)) + s.kv_offset(b, 0, s.kv_head(h)) * eb;
    host[2 * pairs + i] = const_cast<char*>(static_cast<const char*>(V)) + s.kv_offset(b, 0, s.kv_head(h)) * eb;
    host[3 * pairs + i] = static_cast<char*>(O) + s.q_offset(b, 0, h) * eb;
    host[4 * pairs + i] = S_ + slot * s.Sq * s.Sk;
    host[5 * pairs + i] = static_cast<char*>(P_) + slot * s.Sq * s.Sk * eb;
  }
  // On the stream the batched GEMMs read them from (a pageable source is staged before this
  // returns, so `host` may go).
  if (cudaMemcpyAsync(arrays_, host.data(), host.size() * sizeof(void*), cudaMemcpyHostToDevice, stream_) != cudaSuccess) {
    return CUBLAS_STATUS_INTERNAL_ERROR;
  }
  prepared_[0] = Q;
  prepared_[1] = K;
  prepared_[2] = V;
  prepared_[3] = O;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t UnfusedAttention::run(const void* Q, const void* K, const void* V, void* O) {
  if (Q != prepared_[0] || K != prepared_[1] || V != prepared_[2] || O != prepared_[3]) {
    if (const cublasStatus_t st = prepare(Q, K, V, O); st != CUBLAS_STATUS_SUCCESS) return st;
  }
  const AttentionShape& s = shape_;
  const int64_t pairs = s.B * s.H;
  const int Sq = static_cast<int>(s.Sq), Sk = static_cast<int>(s.Sk), D = static_cast<int>(s.D);
  const int ld_q = static_cast<int>(s.H * s.D), ld_kv = static_cast<int>(s.KVH * s.D);
  const float one = 1.0f, zero = 0.0f;
  const float scale_log2 = static_cast<float>(1.4426950408889634 * s.scale());
  void* const* q = arrays_;
  void* const* k = arrays_ + pairs;
  void* const* v = arrays_ + 2 * pairs;
  void* const* o = arrays_ + 3 * pairs;
  void* const* sp = arrays_ + 4 * pairs;
  void* const* pp = arrays_ + 5 * pairs;
  for (int64_t p0 = 0; p0 < pairs; p0 += chunk_pairs_) {
    const int count = static_cast<int>(std::min(chunk_pairs_, pairs - p0));
    // Row-major X (r x c) is column-major X^T (c x r). S^T (Sk x Sq, ld Sk) = K (as K^T: D x Sk,
    // ld KVH*D, transposed) times Q^T (D x Sq, ld H*D).
    cublasStatus_t st = cublasGemmBatchedEx(handle_, CUBLAS_OP_T, CUBLAS_OP_N, Sk, Sq, D, &one, k + p0, type_, ld_kv,
                                            q + p0, type_, ld_q, &zero, sp + p0, CUDA_R_32F, Sk, count,
                                            CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT);
    if (st != CUBLAS_STATUS_SUCCESS) return st;
    const dim3 grid(static_cast<unsigned>(Sq), static_cast<unsigned>(count));
    float* S = S_;  // the chunk's slots start at slot 0 (p0 is a multiple of chunk_pairs_)
    if (type_ == CUDA_R_16BF) {
      attention_softmax_rows<<<grid, kSoftmaxThreads, 0, stream_>>>(S, static_cast<__nv_bfloat16*>(P_), Sq, Sk,
                                                                     s.causal ? 1 : 0, scale_log2);
    } else {
      attention_softmax_rows<<<grid, kSoftmaxThreads, 0, stream_>>>(S, static_cast<__half*>(P_), Sq, Sk,
                                                                     s.causal ? 1 : 0, scale_log2);
    }
    if (cudaGetLastError() != cudaSuccess) return CUBLAS_STATUS_EXECUTION_FAILED;
    // O^T (D x Sq, ld H*D) = V^T (D x Sk, ld KVH*D) times P^T (Sk x Sq, ld Sk).
    st = cublasGemmBatchedEx(handle_, CUBLAS_OP_N, CUBLAS_OP_N, D, Sq, Sk, &one, v + p0, type_, ld_kv, pp + p0, type_,
                             Sk, &zero, o + p0, type_, ld_q, count, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT);
    if (st != CUBLAS_STATUS_SUCCESS) return st;
  }
  return CUBLAS_STATUS_SUCCESS;
}

}  // namespace aicbench::kernels
