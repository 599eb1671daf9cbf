#pragma once
// The tensor-core GEMMs' entry points: one function per kernel and precision, all with the same
// shape of arguments, so the harness can put them in a table.
//
// Layout for every tensor-core GEMM ("TN", the layout of a linear layer, y = x * W^T):
//   A  M x K, row-major (K contiguous)
//   B  N x K, row-major (K contiguous; i.e. the K x N operand stored column-major)
//   C  M x N, row-major
// K-major operands are what Hopper's wgmma requires for 8-bit types and what ldmatrix reads
// without transposes. Accumulation is fp32 everywhere. C's type: fp32 for tf32, the input type
// for bf16 and fp16, bf16 for fp8 (e4m3 inputs are scaled: C = scale_a * scale_b * A * B^T).
//
// Each returns cudaSuccess when the work was queued on `stream`, cudaErrorNotSupported when the
// running GPU (or the architectures this binary was built for) cannot run the kernel, and
// cudaErrorInvalidValue for shapes it does not take (each documents its constraints).
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_fp8.h>
#include <cuda_runtime.h>

namespace aicbench::kernels {

// ---- Ampere-class tensor cores: ldmatrix + mma.sync + cp.async pipeline (sm_80 and newer) -----
// (gemm_mma_sm80.cu) Any M, N >= 1; K a multiple of 8 (bf16, fp16) or 4 (tf32); A, B, C 16-byte
// aligned. tf32 rounds the fp32 inputs to tf32 (round to nearest) before multiplying.
cudaError_t gemm_mma_sm80_tf32(const float* A, const float* B, float* C, int M, int N, int K,
                               cudaStream_t stream);
cudaError_t gemm_mma_sm80_bf16(const __nv_bfloat16* A, const __nv_bfloat16* B, __nv_bfloat16* C,
                               int M, int N, int K, cudaStream_t stream);
cudaError_t gemm_mma_sm80_fp16(const __half* A, const __half* B, __half* C, int M, int N, int K,
                               cudaStream_t stream);

// ---- Hopper: TMA + mbarrier + wgmma, warp-specialised, persistent (sm_90a only) --------------
// (gemm_wgmma_sm90.cu) Compute capability 9.0 with sm_90a code in the binary, else
// cudaErrorNotSupported. Any M, N >= 0; K a multiple of 8 (bf16, fp16) or 16 (fp8), and A, B
// 16-byte aligned (TMA's row-stride and address rules), else cudaErrorInvalidValue; K == 0 writes
// zeros. Uses the whole GPU (one persistent block per SM).
cudaError_t gemm_wgmma_sm90_bf16(const __nv_bfloat16* A, const __nv_bfloat16* B, __nv_bfloat16* C,
                                 int M, int N, int K, cudaStream_t stream);
cudaError_t gemm_wgmma_sm90_fp16(const __half* A, const __half* B, __half* C, int M, int N, int K,
                                 cudaStream_t stream);
// scale_a, scale_b: device pointers to one float each (per-tensor scales, as cuBLASLt takes them).
cudaError_t gemm_wgmma_sm90_fp8(const __nv_fp8_e4m3* A, const __nv_fp8_e4m3* B, __nv_bfloat16* C,
                                const float* scale_a, const float* scale_b, int M, int N, int K,
                                cudaStream_t stream);

// The same with 2-CTA clusters that share B's tile through TMA multicast (kernel2 in the same
// file). Same contract; launches as many clusters as can be resident at once.
cudaError_t gemm_wgmma_sm90_multicast_bf16(const __nv_bfloat16* A, const __nv_bfloat16* B,
                                           __nv_bfloat16* C, int M, int N, int K,
                                           cudaStream_t stream);
cudaError_t gemm_wgmma_sm90_multicast_fp16(const __half* A, const __half* B, __half* C, int M,
                                           int N, int K, cudaStream_t stream);
cudaError_t gemm_wgmma_sm90_multicast_fp8(const __nv_fp8_e4m3* A, const __nv_fp8_e4m3* B,
                                          __nv_bfloat16* C, const float* scale_a,
                                          const float* scale_b, int M, int N, int K,
                                          cudaStream_t stream);

}  // namespace aicbench::kernels
