#pragma once
// cuDNN's fused scaled-dot-product attention, the attention family's vendor baseline, built
// through the cuDNN 9 backend (graph) API directly: the C++ frontend is not installed here.
//
// The operation graph is the one cuDNN's runtime fusion engine serves as fused ("flash")
// attention forward, as the frontend lowers its SDPA node for cuDNN 9 before 9.21 (learnt from
// the frontend's public sources and NVIDIA's graph-API documentation; no code taken):
//
//   S  = matmul(Q, K^T)                       Q [B, H, Sq, D], K^T [B, KVH, D, Sk]: K's strides swapped
//   S  = S * scale                            by-value fp32 scalar 1/sqrt(D)
//   (causal)  r = gen_index(S, axis 2) + Sk - Sq;  c = gen_index(S, axis 3)
//             S = select(S, -inf, r >= c)     bottom-right aligned, as attention_shape.hpp
//   m  = reduce_max(S) [B, H, Sq, 1];  E = exp(S - m);  l = reduce_add(E)
//   stats = m + log(l)                        a virtual output, as the frontend's inference graph
//   P  = E / l                                16-bit, virtual
//   O  = matmul(P, V)                         V [B, KVH, Sk, D]
//
// Tensors keep the BSHD layout of attention_shape.hpp through their strides; grouped-query heads
// are K and V with KVH heads. Engines come from heuristics mode A, then the fallback list: the
// first whose execution plan finalizes is used. Everything is decided at construction.
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include <cuda_runtime.h>
#include <cudnn.h>

#include "kernels/attention/attention_shape.hpp"

namespace aicbench::kernels {

// cuDNN has no engine for this graph here (its version, this GPU, this shape), with cuDNN's reason.
class CudnnNotSupported : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// "9.19.0 (runtime), built with 9.19.0".
std::string cudnn_version_string();

class CudnnAttention {
 public:
  // type: CUDNN_DATA_BFLOAT16 or CUDNN_DATA_HALF. Throws CudnnNotSupported when no engine takes the
  // graph, std::runtime_error for other failures (handle creation, allocation).
  CudnnAttention(cudaStream_t stream, const AttentionShape& shape, cudnnDataType_t type);
  ~CudnnAttention();
  CudnnAttention(const CudnnAttention&) = delete;
  CudnnAttention& operator=(const CudnnAttention&) = delete;

  // Queues O = attention(Q, K, V) on the stream; cuDNN's status.
  cudnnStatus_t run(const void* Q, const void* K, const void* V, void* O);

  const std::string& engine() const { return engine_; }  // which engine, for the result file
  int64_t workspace_bytes() const { return workspace_bytes_; }

 private:
  AttentionShape shape_;
  cudnnHandle_t handle_ = nullptr;
  std::vector<cudnnBackendDescriptor_t> descriptors_;  // every descriptor made, destroyed last to first
  cudnnBackendDescriptor_t plan_ = nullptr;
  void* workspace_ = nullptr;
  int64_t workspace_bytes_ = 0;
  std::string engine_;
  // By-value scalars, read by cuDNN through the variant pack's pointers.
  float scale_ = 1.0f, negative_inf_ = 0.0f;
  int32_t seqlen_k_ = 0, seqlen_q_ = 0;
};

}  // namespace aicbench::kernels
