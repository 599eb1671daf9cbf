#pragma once
// The unfused attention path every machine with cuBLAS has, the way attention was computed before
// fused kernels: S = Q K^T (cuBLAS batched GEMM, fp32 out), P = softmax(S / sqrt(D) [causal]) (a
// softmax kernel, P in the input type), O = P V (cuBLAS batched GEMM). It writes S and P to
// memory, Sq x Sk per (batch, head): the traffic the fused kernels exist to avoid. It is the
// fused kernels' second reference (the whole output compared, docs/validation.md) and a baseline
// in the report. S is kept in fp32 so that its rounding does not enter the softmax: with bf16 S
// the scores alone would err by up to |s| 2^-8, beyond the attention tolerance.
//
// (batch, head) pairs are processed in chunks whose S and P fit the workspace given at
// construction; each chunk is two cublasGemmBatchedEx calls (pointer arrays: grouped-query heads
// map query head h to key/value head h / (H / KVH), which no single batch stride expresses) and
// one softmax launch. Layout, mask and conventions: attention_shape.hpp.
#include <cstddef>
#include <cstdint>
#include <vector>

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include "kernels/attention/attention_shape.hpp"

namespace aicbench::kernels {

class UnfusedAttention {
 public:
  // `type`: CUDA_R_16BF or CUDA_R_16F (Q, K, V, O and P). `workspace_bytes`: the most device
  // memory S and P of one chunk may take; at least pair_bytes(shape) (else std::invalid_argument).
  // Throws std::runtime_error when cuBLAS or the allocation fails.
  UnfusedAttention(cudaStream_t stream, const AttentionShape& shape, cudaDataType_t type, size_t workspace_bytes);
  ~UnfusedAttention();
  UnfusedAttention(const UnfusedAttention&) = delete;
  UnfusedAttention& operator=(const UnfusedAttention&) = delete;

  // S and P of one (batch, head): Sq * Sk * (4 + 2) bytes.
  static size_t pair_bytes(const AttentionShape& shape);

  // Queues the whole computation on the stream. The first call with new pointers uploads the
  // GEMMs' pointer arrays (synchronously). Returns the first failing cuBLAS status, or
  // CUBLAS_STATUS_EXECUTION_FAILED when the softmax launch fails (cudaGetLastError says why).
  cublasStatus_t run(const void* Q, const void* K, const void* V, void* O);

  int64_t pairs_per_chunk() const { return chunk_pairs_; }

 private:
  cublasStatus_t prepare(const void* Q, const void* K, const void* V, void* O);

  cudaStream_t stream_;
  AttentionShape shape_;
  cudaDataType_t type_;
  cublasHandle_t handle_ = nullptr;
  int64_t chunk_pairs_ = 0;
  float* S_ = nullptr;    // chunk_pairs_ x Sq x Sk fp32
  void* P_ = nullptr;     // chunk_pairs_ x Sq x Sk, 16-bit
  void** arrays_ = nullptr;  // device: per (batch, head) pair, the pointers of Q, K, V, O, S, P
  const void* prepared_[4] = {};
};

}  // namespace aicbench::kernels
