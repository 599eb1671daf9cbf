// The cpu backend's GEMMs, ours and OpenBLAS's (the vendor baseline, called with the same
// layout), against a plain float64 triple loop, on sizes that are not multiples of the blocks,
// with 1 and several threads.
#include <algorithm>
#include <cmath>
#include <thread>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

#include "harness/validation.hpp"
#include "harness/benchmark.hpp"
#include "kernels/gemm/gemm_cpu.hpp"
#if AICBENCH_WITH_OPENBLAS
#include "kernels/gemm/gemm_openblas.hpp"
#endif

namespace aicbench {
namespace {

using GemmFn = void (*)(const float*, const float*, float*, int64_t, int64_t, int64_t, int);

class CpuGemm : public ::testing::TestWithParam<std::tuple<int, int, int, int>> {
 protected:
  void check(GemmFn gemm) {
    auto [M, N, K, threads] = GetParam();
    std::vector<float> A(M * K), B(K * N), C(M * N, -7.0f);
    fill_uniform(A, 3);
    fill_uniform(B, 4);
    gemm(A.data(), B.data(), C.data(), M, N, K, threads);
    expect_matches_reference(A, B, C, M, N, K);
  }
  static void expect_matches_reference(const std::vector<float>& A, const std::vector<float>& B,
                                       const std::vector<float>& C, int M, int N, int K);
};

TEST_P(CpuGemm, MatchesFloat64Reference) { check(kernels::gemm_cpu_blocked_fp32); }

#if AICBENCH_WITH_OPENBLAS
TEST_P(CpuGemm, OpenBlasMatchesFloat64Reference) { check(kernels::gemm_openblas_fp32); }

TEST(CpuGemmOpenBlas, UsesAsManyThreadsAsCpuBlocked) {
  // One per hardware thread, unless OpenBLAS was built for fewer.
  const int want = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int got = kernels::openblas_threads(0);
  EXPECT_GE(got, 1);
  EXPECT_LE(got, want);
  EXPECT_EQ(kernels::openblas_threads(1), 1);
  EXPECT_NE(kernels::openblas_config_string().find("OpenBLAS"), std::string::npos)
      << kernels::openblas_config_string();
}

TEST(CpuGemmOpenBlas, IsTheCpuVendorBaselineAndValidates) {
  const Implementation* impl = find_implementation("gemm", "openblas");
  ASSERT_NE(impl, nullptr);
  EXPECT_TRUE(impl->vendor);
  EXPECT_EQ(impl->backend, Backend::cpu);
  EXPECT_TRUE(impl->provides("fp32"));
  BenchmarkSpec spec{"gemm", "openblas", "fp32", Backend::cpu, true, {{"M", 70}, {"N", 90}, {"K", 130}}};
  auto gemm = impl->make(spec);
  const Validation v = gemm->validate();
  EXPECT_TRUE(v.passed) << v.message;
  EXPECT_EQ(v.details["threads"].get<int>(), kernels::openblas_threads(0));
}
#endif

void CpuGemm::expect_matches_reference(const std::vector<float>& A, const std::vector<float>& B,
                                       const std::vector<float>& C, int M, int N, int K) {
  double worst = 0;
  for (int i = 0; i < M; ++i)
    for (int j = 0; j < N; ++j) {
      double ref = 0, scale = 0;
      for (int k = 0; k < K; ++k) {
        ref += double(A[i * K + k]) * B[k * N + j];
        scale += std::abs(double(A[i * K + k]) * B[k * N + j]);
      }
      worst = std::max(worst, std::abs(C[i * N + j] - ref) / std::max(scale, 1e-30));
    }
  EXPECT_LT(worst, K * 0x1.0p-24) << "error beyond the rigorous fp32 bound gamma_K";
}

INSTANTIATE_TEST_SUITE_P(Shapes, CpuGemm,
                         ::testing::Values(std::make_tuple(1, 1, 1, 1), std::make_tuple(33, 65, 17, 2),
                                           std::make_tuple(100, 513, 257, 3),
                                           std::make_tuple(64, 64, 600, 0),
                                           std::make_tuple(5, 1000, 3, 4)));

}  // namespace
}  // namespace aicbench
