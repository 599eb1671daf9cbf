// The cpu backend's GEMM against a plain float64 triple loop, on sizes that are not multiples
// of its blocks, with 1 and several threads.
#include <cmath>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

#include "harness/validation.hpp"
#include "kernels/gemm/gemm_cpu.hpp"

namespace aicbench {
namespace {

class CpuGemm : public ::testing::TestWithParam<std::tuple<int, int, int, int>> {};

TEST_P(CpuGemm, MatchesFloat64Reference) {
  auto [M, N, K, threads] = GetParam();
  std::vector<float> A(M * K), B(K * N), C(M * N, -7.0f);
  fill_uniform(A, 3);
  fill_uniform(B, 4);
  kernels::gemm_cpu_blocked_fp32(A.data(), B.data(), C.data(), M, N, K, threads);
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
