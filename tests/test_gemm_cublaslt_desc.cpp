// The cuBLASLt baseline's fp8 descriptor settings, checked on the host: creating and reading a
// matmul descriptor needs no GPU. fp8 is compared with our wgmma kernels, which accumulate all of
// K in the fp32 accumulator, so cuBLASLt must run in the same, "fast", accumulation mode.
#include <cstdint>

#include <gtest/gtest.h>

#include "kernels/gemm/gemm_cublas.hpp"

namespace aicbench {
namespace {

int8_t fast_accum(cublasLtMatmulDesc_t op) {
  int8_t value = -1;
  size_t written = 0;
  EXPECT_EQ(cublasLtMatmulDescGetAttribute(op, CUBLASLT_MATMUL_DESC_FAST_ACCUM, &value, sizeof(value),
                                           &written),
            CUBLAS_STATUS_SUCCESS);
  EXPECT_EQ(written, sizeof(int8_t)) << "the attribute is an int8_t (cublasLt.h)";
  return value;
}

TEST(GemmCublasLtDesc, Fp8FastAccumulationIsSetAndReadBack) {
  EXPECT_TRUE(kernels::CublasLtGemm::kFp8FastAccumulation) << "the baseline accumulates like wgmma";
  cublasLtMatmulDesc_t op = nullptr;
  const cublasStatus_t created = cublasLtMatmulDescCreate(&op, CUBLAS_COMPUTE_32F, CUDA_R_32F);
  if (created != CUBLAS_STATUS_SUCCESS) {
    GTEST_SKIP() << "cublasLtMatmulDescCreate: " << cublasGetStatusString(created);
  }
  EXPECT_EQ(fast_accum(op), 0) << "cuBLASLt's default: promoted accumulation";
  ASSERT_EQ(kernels::set_fp8_fast_accumulation(op, true), CUBLAS_STATUS_SUCCESS);
  EXPECT_EQ(fast_accum(op), 1);
  ASSERT_EQ(kernels::set_fp8_fast_accumulation(op, false), CUBLAS_STATUS_SUCCESS);
  EXPECT_EQ(fast_accum(op), 0);
  cublasLtMatmulDescDestroy(op);
}

}  // namespace
}  // namespace aicbench
