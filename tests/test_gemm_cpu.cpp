// The cpu backend's GEMMs, ours (every register-tile path this CPU can run: AVX-512, AVX2,
// portable) and OpenBLAS's (the vendor baseline, called with the same layout), against a plain
// float64 triple loop, on sizes that are not multiples of the tiles or the cache blocks, with 1
// and several threads.
#include <algorithm>
#include <cmath>
#include <functional>
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

using GemmFn = std::function<void(const float*, const float*, float*, int64_t, int64_t, int64_t, int)>;

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

TEST_P(CpuGemm, MatchesFloat64Reference) {
  const std::vector<kernels::CpuGemmPath> paths = kernels::supported_cpu_gemm_paths();
  ASSERT_FALSE(paths.empty());
  EXPECT_EQ(paths.back(), kernels::CpuGemmPath::portable) << "every CPU runs the portable path";
  for (kernels::CpuGemmPath path : paths) {
    SCOPED_TRACE(kernels::to_string(path));
    check([path](const float* A, const float* B, float* C, int64_t M, int64_t N, int64_t K, int threads) {
      kernels::gemm_cpu_blocked_fp32(A, B, C, M, N, K, threads, path, kernels::CpuGemmThreads::exactly);
    });
  }
  check([](const float* A, const float* B, float* C, int64_t M, int64_t N, int64_t K, int threads) {
    kernels::gemm_cpu_blocked_fp32(A, B, C, M, N, K, threads);
  });
}

// A cpu_blocked row says which register tile this CPU ran, beside its threads.
TEST(CpuGemmBlocked, ValidationRecordsTheMicroKernel) {
  const Implementation* impl = find_implementation("gemm", "cpu_blocked");
  ASSERT_NE(impl, nullptr);
  BenchmarkSpec spec{"gemm", "cpu_blocked", "fp32", Backend::cpu, false, {{"M", 70}, {"N", 90}, {"K", 130}}};
  const Validation v = impl->make(spec)->validate();
  EXPECT_TRUE(v.passed) << v.message;
  EXPECT_EQ(v.details["micro_kernel"], kernels::to_string(kernels::supported_cpu_gemm_paths().front()));
  EXPECT_GE(v.details["threads"].get<int>(), 1);
}

// The same inputs, threads and path give the same bits (the CPU burn-in compares them); K = 0
// gives zeros over whatever C held.
TEST(CpuGemmBlocked, RepeatsItsBitsAndKZeroGivesZero) {
  const int M = 50, N = 70, K = 300;
  std::vector<float> A(M * K), B(K * N), C1(M * N), C2(M * N, 5.0f);
  fill_uniform(A, 8);
  fill_uniform(B, 9);
  kernels::gemm_cpu_blocked_fp32(A.data(), B.data(), C1.data(), M, N, K, 3);
  kernels::gemm_cpu_blocked_fp32(A.data(), B.data(), C2.data(), M, N, K, 3);
  EXPECT_EQ(C1, C2);
  kernels::gemm_cpu_blocked_fp32(A.data(), B.data(), C2.data(), M, N, 0, 2);
  EXPECT_TRUE(std::all_of(C2.begin(), C2.end(), [](float v) { return v == 0.0f; }));
}

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
                                           std::make_tuple(5, 1000, 3, 4), std::make_tuple(7, 33, 5, 1),
                                           // past the packed blocks: 144 rows, 2048 columns, 256 deep
                                           std::make_tuple(151, 2100, 300, 2), std::make_tuple(2, 3, 1, 64),
                                           // one row panel: the threads split the columns
                                           std::make_tuple(5, 700, 40, 3)));

}  // namespace
}  // namespace aicbench
