// GPU tests (label `gpu`) of the GEMM kernels at the level of their entry points: the Ampere
// tensor-core GEMM (tf32, bf16, fp16) and its cuBLASLt baseline (and cuBLASLt fp8) in the TN
// layout of gemm_api.hpp, and the SIMT fp32 kernels (kernel2 on aligned shapes, kernel1 on the
// rest). Every output is checked in float64 on the host with the harness's check (Freivalds over
// the whole output plus sampled elements, errors scaled by ||a_i||·||b_j||). Without a device
// every test is reported as skipped, never as passed.
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include "harness/families/gemm_precision.hpp"
#include "harness/validation.hpp"
#include "kernels/gemm/gemm_api.hpp"
#include "kernels/gemm/gemm_cublas.hpp"
#include "kernels/gemm/gemm_simt.hpp"

namespace aicbench {
namespace {

using kernels::CublasLtGemm;

// ---- host-side helpers -------------------------------------------------------------------------

template <class T>
T narrow(float x) {
  if constexpr (std::is_same_v<T, float>) return x;
  else return T(x);  // round to nearest (bf16, fp16, e4m3: saturating)
}
template <class T>
float widen(T x) {
  if constexpr (std::is_same_v<T, float>) return x;
  else return static_cast<float>(x);  // exact
}

// Random values in [-1, 1) rounded to T, and their exact widening to float for the reference.
template <class T>
struct HostMatrix {
  std::vector<T> data;
  std::vector<float> wide;
};
template <class T>
HostMatrix<T> random_matrix(size_t count, uint64_t seed) {
  std::vector<float> values(count);
  fill_uniform(values, seed);
  HostMatrix<T> m{std::vector<T>(count), std::vector<float>(count)};
  for (size_t i = 0; i < count; ++i) {
    m.data[i] = narrow<T>(values[i]);
    m.wide[i] = widen(m.data[i]);
  }
  return m;
}

template <class T>
class DeviceArray {
 public:
  explicit DeviceArray(size_t count) : count_(count) {
    EXPECT_EQ(cudaMalloc(&data_, count * sizeof(T)), cudaSuccess);
  }
  ~DeviceArray() { cudaFree(data_); }
  DeviceArray(const DeviceArray&) = delete;
  DeviceArray& operator=(const DeviceArray&) = delete;
  T* get() const { return data_; }
  void upload(const std::vector<T>& host) {
    ASSERT_EQ(cudaMemcpy(data_, host.data(), host.size() * sizeof(T), cudaMemcpyHostToDevice),
              cudaSuccess);
  }
  // All bytes 0xFF: NaN in fp32, bf16 and fp16, so a kernel that writes nothing cannot pass.
  void poison() { ASSERT_EQ(cudaMemset(data_, 0xFF, count_ * sizeof(T)), cudaSuccess); }
  std::vector<float> download_wide() const {
    std::vector<T> host(count_);
    EXPECT_EQ(cudaMemcpy(host.data(), data_, count_ * sizeof(T), cudaMemcpyDeviceToHost),
              cudaSuccess);
    std::vector<float> wide(count_);
    for (size_t i = 0; i < count_; ++i) wide[i] = widen(host[i]);
    return wide;
  }

 private:
  T* data_ = nullptr;
  size_t count_ = 0;
};

struct Shape {
  int M, N, K;
};
std::string describe(const Shape& s) {
  return "M=" + std::to_string(s.M) + " N=" + std::to_string(s.N) + " K=" + std::to_string(s.K);
}

// B as `b_layout` says: K x N for the SIMT kernels, N x K (the TN layout) for the tensor cores.
void expect_valid(const std::vector<float>& A, const std::vector<float>& B,
                  const std::vector<float>& C, const Shape& s, double tolerance, BLayout b_layout,
                  const std::string& what) {
  const GemmCheck check = check_gemm(A, B, C, s.M, s.N, s.K, tolerance, b_layout);
  EXPECT_TRUE(check.passed) << what << " " << describe(s) << ": " << check.message;
}

// The harness's error budgets (harness/families/gemm_precision.hpp, docs/validation.md).
double budget(const char* dtype, int K) { return tolerance(traits(dtype), K); }

// tf32 rounds each input to 10 explicit mantissa bits: relative error <= 2^-11 when rounded,
// 2^-10 if an implementation truncates (cuBLASLt may). A product then errs by <= (2u + u^2)
// |a_k b_k|, and the sum of |a_k b_k| is <= ||a|| ||b|| (Cauchy-Schwarz): 2^-9 covers either
// rounding, for any K; the harness budgets 2^-10, for rounding.
double tf32_tolerance(int K) { return 0x1.0p-9 + budget("fp32", K); }

// Shapes for the tensor-core GEMM: odd M and N (tile edges, odd-N scalar stores), K a multiple
// of 8 (what the 16-bit kernels require; tf32 needs 4), plus a few random ones.
std::vector<Shape> tn_shapes() {
  std::vector<Shape> shapes = {{1, 8, 8},       {127, 129, 64}, {1000, 333, 72}, {129, 127, 8},
                               {7, 1000, 24},   {300, 1, 40},   {256, 256, 4096},
                               {2048, 2048, 2048}};
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> size(1, 700), k8(1, 100);
  for (int i = 0; i < 4; ++i) shapes.push_back({size(rng), size(rng), 8 * k8(rng)});
  return shapes;
}

// ---- fixture -----------------------------------------------------------------------------------

class GpuGemmKernels : public ::testing::Test {
 protected:
  void SetUp() override {
    int count = 0;
    const cudaError_t err = cudaGetDeviceCount(&count);
    if (err != cudaSuccess || count == 0) {
      (void)cudaGetLastError();
      GTEST_SKIP() << "no CUDA device: "
                   << (err != cudaSuccess ? cudaGetErrorString(err) : "device count is 0");
    }
    ASSERT_EQ(cudaGetDeviceProperties(&prop_, 0), cudaSuccess);
    ASSERT_EQ(cudaSetDevice(0), cudaSuccess);
    ASSERT_EQ(cudaStreamCreate(&stream_), cudaSuccess);
  }
  void TearDown() override {
    if (stream_) cudaStreamDestroy(stream_);
  }
  int cc() const { return prop_.major * 10 + prop_.minor; }

  // Runs the kernel and the cuBLASLt baseline on one TN problem and checks both.
  template <class T, class Kernel, class Lt>
  void run_tn(const Shape& s, double tolerance, Kernel kernel, Lt lt, uint64_t seed) {
    const auto a = random_matrix<T>(static_cast<size_t>(s.M) * s.K, seed);
    const auto b = random_matrix<T>(static_cast<size_t>(s.N) * s.K, seed + 1);
    DeviceArray<T> dA(a.data.size()), dB(b.data.size()), dC(static_cast<size_t>(s.M) * s.N);
    dA.upload(a.data);
    dB.upload(b.data);

    dC.poison();
    ASSERT_EQ(kernel(dA.get(), dB.get(), dC.get(), s.M, s.N, s.K, stream_), cudaSuccess)
        << describe(s);
    ASSERT_EQ(cudaStreamSynchronize(stream_), cudaSuccess) << describe(s);
    expect_valid(a.wide, b.wide, dC.download_wide(), s, tolerance, BLayout::n_by_k, "kernel");

    dC.poison();
    ASSERT_EQ(lt(dA.get(), dB.get(), dC.get(), s.M, s.N, s.K), CUBLAS_STATUS_SUCCESS)
        << describe(s);
    ASSERT_EQ(cudaStreamSynchronize(stream_), cudaSuccess) << describe(s);
    expect_valid(a.wide, b.wide, dC.download_wide(), s, tolerance, BLayout::n_by_k, "cuBLASLt");
  }

  // run_tn on every tn_shapes() problem, with cuBLASLt's `method` as the baseline and
  // tolerance(K) as the budget; seeds seed + 2, seed + 4, ...
  template <class T, class Kernel, class LtMethod, class Tolerance>
  void run_tn_shapes(Kernel kernel, LtMethod method, Tolerance tolerance, uint64_t seed) {
    CublasLtGemm lt(stream_);
    for (const Shape& s : tn_shapes()) {
      run_tn<T>(s, tolerance(s.K), kernel, [&](auto... args) { return (lt.*method)(args...); },
                seed += 2);
    }
  }

  cudaDeviceProp prop_{};
  cudaStream_t stream_ = nullptr;
};

// ---- Ampere tensor-core GEMM and cuBLASLt ------------------------------------------------------

TEST_F(GpuGemmKernels, MmaSm80Tf32MatchesReference) {
  if (cc() < 80) GTEST_SKIP() << "needs compute capability 8.0";
  run_tn_shapes<float>(kernels::gemm_mma_sm80_tf32, &CublasLtGemm::tf32, tf32_tolerance, 100);
  // tf32 takes K % 4 == 0 too.
  CublasLtGemm lt(stream_);
  run_tn<float>({65, 67, 12}, tf32_tolerance(12), kernels::gemm_mma_sm80_tf32,
                [&](auto... args) { return lt.tf32(args...); }, 1);
}

TEST_F(GpuGemmKernels, MmaSm80Bf16MatchesReference) {
  if (cc() < 80) GTEST_SKIP() << "needs compute capability 8.0";
  run_tn_shapes<__nv_bfloat16>(kernels::gemm_mma_sm80_bf16, &CublasLtGemm::bf16,
                               [](int K) { return budget("bf16", K); }, 200);
}

TEST_F(GpuGemmKernels, MmaSm80Fp16MatchesReference) {
  if (cc() < 80) GTEST_SKIP() << "needs compute capability 8.0";
  run_tn_shapes<__half>(kernels::gemm_mma_sm80_fp16, &CublasLtGemm::fp16,
                        [](int K) { return budget("fp16", K); }, 300);
}

TEST_F(GpuGemmKernels, MmaSm80RejectsWhatItDoesNotTake) {
  if (cc() < 80) GTEST_SKIP() << "needs compute capability 8.0";
  DeviceArray<__nv_bfloat16> buf(4096);
  DeviceArray<float> fbuf(4096);
  __nv_bfloat16* p = buf.get();
  float* f = fbuf.get();
  EXPECT_EQ(kernels::gemm_mma_sm80_bf16(p, p, p, 16, 16, 12, stream_), cudaErrorInvalidValue);
  EXPECT_EQ(kernels::gemm_mma_sm80_bf16(p + 1, p, p, 16, 16, 16, stream_), cudaErrorInvalidValue);
  EXPECT_EQ(kernels::gemm_mma_sm80_bf16(p, p, p, 0, 16, 16, stream_), cudaErrorInvalidValue);
  EXPECT_EQ(kernels::gemm_mma_sm80_tf32(f, f, f, 16, 16, 6, stream_), cudaErrorInvalidValue);
  EXPECT_EQ(cudaStreamSynchronize(stream_), cudaSuccess);
}

TEST_F(GpuGemmKernels, CublasLtFp8MatchesReferenceOrIsNotSupported) {
  CublasLtGemm lt(stream_);
  // Scales are powers of two, so scaling the widened inputs is exact.
  const float scale_a = 0.5f, scale_b = 4.0f;
  DeviceArray<float> d_scales(2);
  d_scales.upload({scale_a, scale_b});
  for (const Shape& s : std::vector<Shape>{{256, 128, 64}, {1024, 1024, 1024}, {96, 4096, 512}}) {
    const auto a = random_matrix<__nv_fp8_e4m3>(static_cast<size_t>(s.M) * s.K, 400);
    const auto b = random_matrix<__nv_fp8_e4m3>(static_cast<size_t>(s.N) * s.K, 401);
    DeviceArray<__nv_fp8_e4m3> dA(a.data.size()), dB(b.data.size());
    DeviceArray<__nv_bfloat16> dC(static_cast<size_t>(s.M) * s.N);
    dA.upload(a.data);
    dB.upload(b.data);
    dC.poison();
    const cublasStatus_t status =
        lt.fp8(dA.get(), dB.get(), dC.get(), d_scales.get(), d_scales.get() + 1, s.M, s.N, s.K);
    if (cc() < 89) {  // fp8 tensor cores arrived with Ada (8.9) and Hopper (9.0)
      EXPECT_EQ(status, CUBLAS_STATUS_NOT_SUPPORTED) << describe(s);
      continue;
    }
    ASSERT_EQ(status, CUBLAS_STATUS_SUCCESS) << describe(s);
    ASSERT_EQ(cudaStreamSynchronize(stream_), cudaSuccess);
    std::vector<float> a_scaled = a.wide, b_scaled = b.wide;
    for (float& x : a_scaled) x *= scale_a;
    for (float& x : b_scaled) x *= scale_b;
    // cuBLASLt's fp8 GEMM accumulates in fp32 (no fast accumulation) and writes bf16: bf16's budget.
    expect_valid(a_scaled, b_scaled, dC.download_wide(), s, budget("bf16", s.K), BLayout::n_by_k,
                 "cuBLASLt fp8");
  }
}

// ---- SIMT fp32 (NN layout: B is K x N) ---------------------------------------------------------

void run_simt(cudaStream_t stream, const Shape& s, int a_offset, uint64_t seed) {
  const auto a = random_matrix<float>(static_cast<size_t>(s.M) * s.K, seed);
  const auto b = random_matrix<float>(static_cast<size_t>(s.K) * s.N, seed + 1);
  // a_offset > 0 shifts A off its 16-byte alignment, which must send the call to kernel1.
  DeviceArray<float> dA(a.data.size() + a_offset), dB(b.data.size()),
      dC(static_cast<size_t>(s.M) * s.N);
  ASSERT_EQ(cudaMemcpy(dA.get() + a_offset, a.data.data(), a.data.size() * sizeof(float),
                       cudaMemcpyHostToDevice),
            cudaSuccess);
  dB.upload(b.data);
  dC.poison();
  ASSERT_EQ(kernels::gemm_simt_fp32(dA.get() + a_offset, dB.get(), dC.get(), s.M, s.N, s.K, stream),
            cudaSuccess)
      << describe(s);
  ASSERT_EQ(cudaStreamSynchronize(stream), cudaSuccess) << describe(s);
  expect_valid(a.wide, b.wide, dC.download_wide(), s, budget("fp32", s.K), BLayout::k_by_n,
               "simt (A offset " + std::to_string(a_offset) + ")");
}

TEST_F(GpuGemmKernels, SimtKernel2AlignedShapes) {
  // K % 4 == 0 and N % 4 == 0 with aligned pointers: kernel2.
  uint64_t seed = 500;
  for (const Shape& s : std::vector<Shape>{{4, 4, 4},
                                           {1, 1024, 4},
                                           {128, 128, 8},
                                           {129, 260, 12},
                                           {1000, 332, 72},
                                           {77, 8, 1024},
                                           {2048, 2048, 2048}}) {
    run_simt(stream_, s, 0, seed += 2);
  }
}

TEST_F(GpuGemmKernels, SimtUnalignedShapesFallBack) {
  uint64_t seed = 600;
  for (const Shape& s : std::vector<Shape>{{127, 129, 63}, {33, 65, 17}, {1, 1, 1}, {64, 130, 8},
                                           {64, 128, 10}}) {
    run_simt(stream_, s, 0, seed += 2);
  }
  run_simt(stream_, {128, 128, 128}, 1, 700);  // aligned shape, misaligned A
}

}  // namespace
}  // namespace aicbench
