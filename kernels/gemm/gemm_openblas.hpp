#pragma once
// OpenBLAS's SGEMM: the cpu backend's vendor baseline (gemm/openblas/fp32), called with the
// layout of gemm_cpu_blocked_fp32. Only in builds with AICBENCH_WITH_OPENBLAS (the default; Debian
// package libopenblas-dev).
#include <cstdint>
#include <string>

namespace aicbench::kernels {

// C[M x N] = A[M x K] * B[K x N], all row-major and contiguous, fp32: cblas_sgemm(CblasRowMajor,
// NoTrans, NoTrans, ..., lda = K, ldb = N, ldc = N). OpenBLAS runs on its own thread pool; this
// sets its size to `threads` first (0: one per hardware thread, as gemm_cpu_blocked_fp32 does).
// Throws std::invalid_argument when M, N or K does not fit OpenBLAS's 32-bit integers.
void gemm_openblas_fp32(const float* A, const float* B, float* C, int64_t M, int64_t N, int64_t K,
                        int threads = 0);

// The number of threads gemm_openblas_fp32(..., threads) runs on: `threads` (0: hardware
// concurrency) capped by the most OpenBLAS was built for, as openblas_get_num_threads() reports.
int openblas_threads(int threads = 0);

// openblas_get_config(), e.g. "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Haswell MAX_THREADS=64".
std::string openblas_config_string();

}  // namespace aicbench::kernels
