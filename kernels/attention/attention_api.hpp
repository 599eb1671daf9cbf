#pragma once
// The hand-written attention kernels' entry points: one function per kernel and precision, all
// with the same arguments, so the harness can put them in a table. Layout, grouped-query heads,
// the causal mask and the FLOP convention: attention_shape.hpp.
//
// Each returns cudaSuccess when the work was queued on `stream`, cudaErrorNotSupported when the
// running GPU (or the architectures this binary was built for) cannot run the kernel, and
// cudaErrorInvalidValue for shapes it does not take (each documents its constraints).
#include <cstddef>

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include "kernels/attention/attention_shape.hpp"

namespace aicbench::kernels {

// ---- Ampere-class fused prefill: cp.async, ldmatrix, mma.sync, online softmax (sm_80+) --------
// (attention_mma_sm80.cu) D 64, 128 or 256; any B, H, KVH dividing H, Sq, Sk >= 1 (each below
// 2^31 and the grid's limits: H and B at most 65535); Q, K, V, O 16-byte aligned.
cudaError_t attention_mma_sm80_bf16(const __nv_bfloat16* Q, const __nv_bfloat16* K, const __nv_bfloat16* V,
                                    __nv_bfloat16* O, const AttentionShape& shape, cudaStream_t stream);
cudaError_t attention_mma_sm80_fp16(const __half* Q, const __half* K, const __half* V, __half* O,
                                    const AttentionShape& shape, cudaStream_t stream);

// ---- Hopper fused prefill: TMA, mbarrier pipeline, wgmma, warp specialisation (sm_90a) ----------
// (attention_wgmma_sm90.cu) FlashAttention-3's design. D 64, 128 or 256; any B, H, KVH dividing H,
// Sq, Sk >= 1 (below 2^31, ceil(Sq / 128) * H * B below 2^31); Q, K, V, O 16-byte aligned.
// cudaErrorNotSupported on GPUs other than compute capability 9.0 and in builds without sm_90a.
cudaError_t attention_wgmma_sm90_bf16(const __nv_bfloat16* Q, const __nv_bfloat16* K, const __nv_bfloat16* V,
                                      __nv_bfloat16* O, const AttentionShape& shape, cudaStream_t stream);
cudaError_t attention_wgmma_sm90_fp16(const __half* Q, const __half* K, const __half* V, __half* O,
                                      const AttentionShape& shape, cudaStream_t stream);

// ---- split-KV decode on Ampere-class tensor cores (sm_80+) -------------------------------------
// (attention_decode_sm80.cu) One query per sequence: shape.Sq == 1, not causal; D 64, 128 or 256;
// any B, H, KVH dividing H, Sk >= 1; Q, K, V, O and the workspace 16-byte aligned, the workspace
// at least attention_decode_sm80_workspace_bytes(shape) (the splits' partial outputs, fp32; it
// depends on the current device's SM count). Two launches: the split kernel and the combine.
size_t attention_decode_sm80_workspace_bytes(const AttentionShape& shape);
cudaError_t attention_decode_sm80_bf16(const __nv_bfloat16* Q, const __nv_bfloat16* K, const __nv_bfloat16* V,
                                       __nv_bfloat16* O, const AttentionShape& shape, void* workspace,
                                       size_t workspace_bytes, cudaStream_t stream);
cudaError_t attention_decode_sm80_fp16(const __half* Q, const __half* K, const __half* V, __half* O,
                                       const AttentionShape& shape, void* workspace, size_t workspace_bytes,
                                       cudaStream_t stream);

}  // namespace aicbench::kernels
