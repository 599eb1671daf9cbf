#include "kernels/gemm/gemm_cublas.hpp"

#include <stdexcept>

namespace aicbench::kernels {

CublasGemm::CublasGemm(cudaStream_t stream) {
  cublasStatus_t status = cublasCreate(&handle_);
  if (status != CUBLAS_STATUS_SUCCESS) {
    throw std::runtime_error(std::string("cublasCreate failed: ") + cublasGetStatusString(status));
  }
  cublasSetStream(handle_, stream);
  cublasSetMathMode(handle_, CUBLAS_DEFAULT_MATH);
}

CublasGemm::~CublasGemm() {
  if (handle_) cublasDestroy(handle_);
}

cublasStatus_t CublasGemm::sgemm(const float* A, const float* B, float* C, int M, int N, int K) {
  // cuBLAS is column-major. A row-major M x N matrix is the same bytes as a column-major N x M
  // matrix (its transpose), so C^T = B^T * A^T computes row-major C = A * B without copies.
  const float alpha = 1.0f, beta = 0.0f;
  return cublasSgemm(handle_, CUBLAS_OP_N, CUBLAS_OP_N, N, M, K, &alpha, B, N, A, K, &beta, C, N);
}

std::string cublas_version_string() {
  int major = 0, minor = 0, patch = 0;
  cublasGetProperty(MAJOR_VERSION, &major);
  cublasGetProperty(MINOR_VERSION, &minor);
  cublasGetProperty(PATCH_LEVEL, &patch);
  return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
}

}  // namespace aicbench::kernels
