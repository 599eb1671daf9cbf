#pragma once
// CPU GEMM: the cpu backend's implementation, and a CPU reference for the GPU kernels.
#include <cstdint>

namespace aicbench::kernels {

// C[M x N] = A[M x K] * B[K x N], all row-major and contiguous, fp32 with fp32 accumulation.
// Cache-blocked and split over `threads` worker threads by rows of C (0: one per hardware thread).
void gemm_cpu_blocked_fp32(const float* A, const float* B, float* C, int64_t M, int64_t N,
                           int64_t K, int threads = 0);

}  // namespace aicbench::kernels
