#pragma once
// cuBLAS and cuBLASLt, the vendor baselines for GEMM, called the way users call them for
// row-major data.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <tuple>

#include <cublasLt.h>
#include <cublas_v2.h>
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_fp8.h>
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

// cuBLASLt with the heuristic's best algorithm: the baseline of the tensor-core GEMMs, in their
// TN layout (gemm_api.hpp): A M x K and B N x K, both K-contiguous; C M x N row-major; fp32
// accumulation. Owns a cuBLASLt handle and a device workspace, and queues work on one stream.
// Not thread-safe (one object per thread).
//
// Each method asks cublasLtMatmulAlgoGetHeuristic once per (precision, shape, pointer alignment)
// and keeps the first (best) algorithm with its descriptors, so a timed loop pays no planning.
// A method returns CUBLAS_STATUS_NOT_SUPPORTED when the heuristic finds no algorithm (e.g. fp8
// before Ada/Hopper, or fp8 with K, N or M not meeting its 16-byte row alignment),
// CUBLAS_STATUS_INVALID_VALUE for M, N or K < 1, and otherwise cublasLtMatmul's status.
class CublasLtGemm {
 public:
  static constexpr size_t kDefaultWorkspaceBytes = size_t{64} << 20;  // 64 MiB
  // CUBLASLT_MATMUL_DESC_FAST_ACCUM for fp8: on, to accumulate like the kernels it is the baseline
  // of (result files record it as validation.fp8_accumulation "fast").
  static constexpr bool kFp8FastAccumulation = true;

  explicit CublasLtGemm(cudaStream_t stream, size_t workspace_bytes = kDefaultWorkspaceBytes);
  ~CublasLtGemm();
  CublasLtGemm(const CublasLtGemm&) = delete;
  CublasLtGemm& operator=(const CublasLtGemm&) = delete;

  // fp32 in and out, CUBLAS_COMPUTE_32F_FAST_TF32 (tensor cores, inputs rounded to tf32).
  cublasStatus_t tf32(const float* A, const float* B, float* C, int M, int N, int K);
  // C of the input type, fp32 compute.
  cublasStatus_t bf16(const __nv_bfloat16* A, const __nv_bfloat16* B, __nv_bfloat16* C, int M,
                      int N, int K);
  cublasStatus_t fp16(const __half* A, const __half* B, __half* C, int M, int N, int K);
  // C = scale_a * scale_b * A * B^T in bf16; scale_a, scale_b: device pointers to one float each.
  // Fast accumulation (kFp8FastAccumulation): all of K in the fp32 accumulator, as our wgmma
  // kernels accumulate, not cuBLASLt's default of periodically promoting partial sums.
  cublasStatus_t fp8(const __nv_fp8_e4m3* A, const __nv_fp8_e4m3* B, __nv_bfloat16* C,
                     const float* scale_a, const float* scale_b, int M, int N, int K);

 private:
  enum class Precision { tf32, bf16, fp16, fp8 };
  struct PlanKey {
    Precision precision;
    int M, N, K;
    uint32_t align_a, align_b, align_c;  // bytes, the largest power of two <= 256 dividing each
    bool operator<(const PlanKey& o) const {
      return std::tie(precision, M, N, K, align_a, align_b, align_c) <
             std::tie(o.precision, o.M, o.N, o.K, o.align_a, o.align_b, o.align_c);
    }
  };
  struct Plan {
    bool supported = false;  // false: the heuristic found nothing; the descriptors are null
    cublasLtMatmulDesc_t op = nullptr;
    cublasLtMatrixLayout_t a = nullptr, b = nullptr, c = nullptr;
    cublasLtMatmulAlgo_t algo{};
  };

  cublasStatus_t run(Precision precision, const void* A, const void* B, void* C,
                     const float* scale_a, const float* scale_b, int M, int N, int K);
  cublasStatus_t make_plan(const PlanKey& key, const float* scale_a, const float* scale_b,
                           Plan& plan);
  static void destroy(Plan& plan);

  cublasLtHandle_t handle_ = nullptr;
  cudaStream_t stream_ = nullptr;
  void* workspace_ = nullptr;
  size_t workspace_bytes_ = 0;
  std::map<PlanKey, Plan> plans_;
};

// Sets CUBLASLT_MATMUL_DESC_FAST_ACCUM (an int8_t, cublasLt.h) on an fp8 matmul descriptor: 1 for
// fast accumulation (all of K in the accumulator), 0 for cuBLASLt's default, which promotes partial
// sums to a higher precision periodically. Host-only; needs no GPU.
cublasStatus_t set_fp8_fast_accumulation(cublasLtMatmulDesc_t op, bool fast);

// cuBLAS's version as "major.minor.patch", without needing a handle.
std::string cublas_version_string();

}  // namespace aicbench::kernels
