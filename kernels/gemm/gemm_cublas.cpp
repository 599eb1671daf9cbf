#include "kernels/gemm/gemm_cublas.hpp"

#include <algorithm>
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

// ------------------------------------------------------------------------------------------------
// CublasLtGemm
// ------------------------------------------------------------------------------------------------
//
// The TN layout in column-major terms. cuBLASLt is column-major, and a row-major R x S matrix with
// leading dimension S is, byte for byte, the column-major S x R matrix (its transpose). So
//   our A, row-major M x K  = column-major K x M (ld K), i.e. A^T;
//   our B, row-major N x K  = column-major K x N (ld K), i.e. B^T;
//   our C, row-major M x N  = column-major N x M (ld N), i.e. C^T.
// We want C = A * B^T, i.e. C^T = (A * B^T)^T = B * A^T. In cuBLASLt's D = op(A_lt) * op(B_lt):
//   A_lt := our B buffer, described as K x N (ld K), op = T  ->  op(A_lt) = B   (N x K)
//   B_lt := our A buffer, described as K x M (ld K), op = N  ->  op(B_lt) = A^T (K x M)
//   D    := our C buffer, described as N x M (ld N)          ->  D = B * A^T = C^T.
// cuBLAS's m, n, k are therefore N, M, K, with transa = T, transb = N: the "TN" form, which is
// also the one layout cuBLASLt takes for fp8. For fp8 the scale of A_lt is ours of B, and the
// scale of B_lt is ours of A.

namespace {

uint32_t pointer_alignment(const void* p) {
  const auto address = reinterpret_cast<uintptr_t>(p);
  const uintptr_t lowest_bit = address & (~address + 1);  // 0 for a null pointer
  return static_cast<uint32_t>(lowest_bit == 0 ? 256 : std::min<uintptr_t>(lowest_bit, 256));
}

struct LtTypes {
  cudaDataType_t ab, c;
  cublasComputeType_t compute;
};

#define AICBENCH_LT_TRY(call)                                  \
  do {                                                         \
    const cublasStatus_t status_ = (call);                     \
    if (status_ != CUBLAS_STATUS_SUCCESS) return status_;      \
  } while (0)

// fp8's per-tensor scales. cuBLASLt's A is our B (see the derivation above), so its A scale is
// our scale_b and its B scale our scale_a.
cublasStatus_t set_fp8_scales(cublasLtMatmulDesc_t op, const float* scale_a, const float* scale_b) {
  AICBENCH_LT_TRY(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_A_SCALE_POINTER, &scale_b,
                                                 sizeof(scale_b)));
  return cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_B_SCALE_POINTER, &scale_a,
                                        sizeof(scale_a));
}

}  // namespace

cublasStatus_t set_fp8_fast_accumulation(cublasLtMatmulDesc_t op, bool fast) {
  const int8_t value = fast ? 1 : 0;  // the attribute is an int8_t (cublasLt.h)
  return cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_FAST_ACCUM, &value, sizeof(value));
}

CublasLtGemm::CublasLtGemm(cudaStream_t stream, size_t workspace_bytes)
    : stream_(stream), workspace_bytes_(workspace_bytes) {
  const cublasStatus_t status = cublasLtCreate(&handle_);
  if (status != CUBLAS_STATUS_SUCCESS) {
    throw std::runtime_error(std::string("cublasLtCreate failed: ") +
                             cublasGetStatusString(status));
  }
  if (workspace_bytes_ > 0) {
    const cudaError_t err = cudaMalloc(&workspace_, workspace_bytes_);
    if (err != cudaSuccess) {
      cublasLtDestroy(handle_);
      throw std::runtime_error(std::string("cudaMalloc of the cuBLASLt workspace failed: ") +
                               cudaGetErrorString(err));
    }
  }
}

CublasLtGemm::~CublasLtGemm() {
  for (auto& [key, plan] : plans_) destroy(plan);
  if (workspace_) cudaFree(workspace_);
  if (handle_) cublasLtDestroy(handle_);
}

void CublasLtGemm::destroy(Plan& plan) {
  if (plan.a) cublasLtMatrixLayoutDestroy(plan.a);
  if (plan.b) cublasLtMatrixLayoutDestroy(plan.b);
  if (plan.c) cublasLtMatrixLayoutDestroy(plan.c);
  if (plan.op) cublasLtMatmulDescDestroy(plan.op);
  plan = Plan{};
}

cublasStatus_t CublasLtGemm::make_plan(const PlanKey& key, const float* scale_a,
                                       const float* scale_b, Plan& plan) {
  LtTypes types{};
  switch (key.precision) {
    case Precision::tf32: types = {CUDA_R_32F, CUDA_R_32F, CUBLAS_COMPUTE_32F_FAST_TF32}; break;
    case Precision::bf16: types = {CUDA_R_16BF, CUDA_R_16BF, CUBLAS_COMPUTE_32F}; break;
    case Precision::fp16: types = {CUDA_R_16F, CUDA_R_16F, CUBLAS_COMPUTE_32F}; break;
    case Precision::fp8: types = {CUDA_R_8F_E4M3, CUDA_R_16BF, CUBLAS_COMPUTE_32F}; break;
  }
  const int M = key.M, N = key.N, K = key.K;

  // Descriptors (see the derivation above): op(A_lt) = our B, op(B_lt) = our A^T, D = our C^T.
  AICBENCH_LT_TRY(cublasLtMatmulDescCreate(&plan.op, types.compute, CUDA_R_32F));
  const cublasOperation_t transa = CUBLAS_OP_T, transb = CUBLAS_OP_N;
  AICBENCH_LT_TRY(cublasLtMatmulDescSetAttribute(plan.op, CUBLASLT_MATMUL_DESC_TRANSA, &transa,
                                                 sizeof(transa)));
  AICBENCH_LT_TRY(cublasLtMatmulDescSetAttribute(plan.op, CUBLASLT_MATMUL_DESC_TRANSB, &transb,
                                                 sizeof(transb)));
  if (key.precision == Precision::fp8) {
    // Set before the heuristic, so it plans for scaled inputs; run() refreshes the pointers.
    AICBENCH_LT_TRY(set_fp8_scales(plan.op, scale_a, scale_b));
    // Fast accumulation, like the wgmma kernels (kFp8FastAccumulation), before the heuristic too:
    // the algorithms offered differ between the two modes.
    AICBENCH_LT_TRY(set_fp8_fast_accumulation(plan.op, kFp8FastAccumulation));
  }
  AICBENCH_LT_TRY(cublasLtMatrixLayoutCreate(&plan.a, types.ab, K, N, K));  // our B
  AICBENCH_LT_TRY(cublasLtMatrixLayoutCreate(&plan.b, types.ab, K, M, K));  // our A
  AICBENCH_LT_TRY(cublasLtMatrixLayoutCreate(&plan.c, types.c, N, M, N));   // our C

  cublasLtMatmulPreference_t pref = nullptr;
  AICBENCH_LT_TRY(cublasLtMatmulPreferenceCreate(&pref));
  const uint64_t workspace = workspace_bytes_;
  // A_lt is our B and B_lt our A.
  const uint32_t align_lt_a = key.align_b, align_lt_b = key.align_a, align_c = key.align_c;
  const struct {
    cublasLtMatmulPreferenceAttributes_t attribute;
    const void* value;
    size_t size;
  } preferences[] = {
      {CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &workspace, sizeof(workspace)},
      {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, &align_lt_a, sizeof(align_lt_a)},
      {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, &align_lt_b, sizeof(align_lt_b)},
      {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, &align_c, sizeof(align_c)},
      {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, &align_c, sizeof(align_c)},
  };
  cublasStatus_t status = CUBLAS_STATUS_SUCCESS;
  for (const auto& p : preferences) {
    if (status == CUBLAS_STATUS_SUCCESS) {
      status = cublasLtMatmulPreferenceSetAttribute(pref, p.attribute, p.value, p.size);
    }
  }
  cublasLtMatmulHeuristicResult_t best{};
  int found = 0;
  if (status == CUBLAS_STATUS_SUCCESS) {
    status = cublasLtMatmulAlgoGetHeuristic(handle_, plan.op, plan.a, plan.b, plan.c, plan.c, pref,
                                            1, &best, &found);
  }
  cublasLtMatmulPreferenceDestroy(pref);
  if (status == CUBLAS_STATUS_NOT_SUPPORTED || (status == CUBLAS_STATUS_SUCCESS && found == 0)) {
    destroy(plan);  // remembered as unsupported: supported == false
    return CUBLAS_STATUS_SUCCESS;
  }
  if (status != CUBLAS_STATUS_SUCCESS) return status;
  plan.algo = best.algo;
  plan.supported = true;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t CublasLtGemm::run(Precision precision, const void* A, const void* B, void* C,
                                 const float* scale_a, const float* scale_b, int M, int N, int K) {
  if (M <= 0 || N <= 0 || K <= 0) return CUBLAS_STATUS_INVALID_VALUE;
  const PlanKey key{precision, M, N, K, pointer_alignment(A), pointer_alignment(B),
                    pointer_alignment(C)};
  auto it = plans_.find(key);
  if (it == plans_.end()) {
    Plan plan;
    const cublasStatus_t status = make_plan(key, scale_a, scale_b, plan);
    if (status != CUBLAS_STATUS_SUCCESS) {  // not cached: a later call may try again
      destroy(plan);
      return status;
    }
    it = plans_.emplace(key, plan).first;
  }
  Plan& plan = it->second;
  if (!plan.supported) return CUBLAS_STATUS_NOT_SUPPORTED;

  if (precision == Precision::fp8) AICBENCH_LT_TRY(set_fp8_scales(plan.op, scale_a, scale_b));
  const float alpha = 1.0f, beta = 0.0f;
  return cublasLtMatmul(handle_, plan.op, &alpha, /*A_lt=*/B, plan.a, /*B_lt=*/A, plan.b, &beta,
                        C, plan.c, C, plan.c, &plan.algo, workspace_, workspace_bytes_, stream_);
}

cublasStatus_t CublasLtGemm::tf32(const float* A, const float* B, float* C, int M, int N, int K) {
  return run(Precision::tf32, A, B, C, nullptr, nullptr, M, N, K);
}

cublasStatus_t CublasLtGemm::bf16(const __nv_bfloat16* A, const __nv_bfloat16* B,
                                  __nv_bfloat16* C, int M, int N, int K) {
  return run(Precision::bf16, A, B, C, nullptr, nullptr, M, N, K);
}

cublasStatus_t CublasLtGemm::fp16(const __half* A, const __half* B, __half* C, int M, int N,
                                  int K) {
  return run(Precision::fp16, A, B, C, nullptr, nullptr, M, N, K);
}

cublasStatus_t CublasLtGemm::fp8(const __nv_fp8_e4m3* A, const __nv_fp8_e4m3* B,
                                 __nv_bfloat16* C, const float* scale_a, const float* scale_b,
                                 int M, int N, int K) {
  return run(Precision::fp8, A, B, C, scale_a, scale_b, M, N, K);
}

#undef AICBENCH_LT_TRY

std::string cublas_version_string() {
  int major = 0, minor = 0, patch = 0;
  cublasGetProperty(MAJOR_VERSION, &major);
  cublasGetProperty(MINOR_VERSION, &minor);
  cublasGetProperty(PATCH_LEVEL, &patch);
  return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
}

}  // namespace aicbench::kernels
