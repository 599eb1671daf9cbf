#pragma once
// Hand-written fp32 GEMM on CUDA cores (SIMT). See gemm_simt.cu for the versions.
#include <cstdint>

#include <cuda_runtime.h>

namespace aicbench::kernels {

// C[M x N] = A[M x K] * B[K x N], row-major, contiguous, device pointers. Any M, N, K >= 1.
// Returns the launch's error (cudaSuccess when it was queued).
cudaError_t gemm_simt_fp32(const float* A, const float* B, float* C, int M, int N, int K,
                           cudaStream_t stream);

}  // namespace aicbench::kernels
