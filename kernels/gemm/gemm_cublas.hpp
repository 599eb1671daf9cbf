#pragma once
// cuBLAS, the vendor baseline for GEMM, called the way users call it for row-major data.
#include <cstdint>
#include <string>

#include <cublas_v2.h>
#include <cuda_runtime.h>

namespace aicbench::kernels {

// Owns a cuBLAS handle bound to one stream.
class CublasGemm {
 public:
  explicit CublasGemm(cudaStream_t stream);
  ~CublasGemm();
  CublasGemm(const CublasGemm&) = delete;
  CublasGemm& operator=(const CublasGemm&) = delete;

  // C[M x N] = A[M x K] * B[K x N], row-major, fp32 in and out, fp32 compute: the classic SGEMM
  // (no TF32: CUBLAS_DEFAULT_MATH does not use tensor cores for fp32).
  cublasStatus_t sgemm(const float* A, const float* B, float* C, int M, int N, int K);

 private:
  cublasHandle_t handle_ = nullptr;
};

// cuBLAS's version as "major.minor.patch", without needing a handle.
std::string cublas_version_string();

}  // namespace aicbench::kernels
