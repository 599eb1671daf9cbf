// The validation math: Freivalds' check and sampled float64 elements, with their tolerances.
#include <cmath>
#include <limits>
#include <vector>

#include <gtest/gtest.h>

#include "harness/validation.hpp"
#include "kernels/gemm/gemm_cpu.hpp"

namespace aicbench {
namespace {

constexpr double kU32 = 0x1.0p-24;

struct Problem {
  int64_t M, N, K;
  std::vector<float> A, B, C;
  Problem(int64_t m, int64_t n, int64_t k) : M(m), N(n), K(k), A(m * k), B(k * n), C(m * n) {
    fill_uniform(A, 1);
    fill_uniform(B, 2);
  }
  // The least accurate order a correct kernel may use: one fp32 accumulator, k = 0..K-1.
  void multiply_sequential_fp32() {
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) {
        float acc = 0;
        for (int64_t k = 0; k < K; ++k) acc += A[i * K + k] * B[k * N + j];
        C[i * N + j] = acc;
      }
  }
  GemmCheck check() const { return check_gemm(A, B, C, M, N, K, gemm_tolerance(K, kU32, kU32)); }
};

TEST(Validation, CorrectGemmPasses) {
  Problem p(200, 150, 300);
  kernels::gemm_cpu_blocked_fp32(p.A.data(), p.B.data(), p.C.data(), p.M, p.N, p.K);
  GemmCheck c = p.check();
  EXPECT_TRUE(c.passed) << c.message;
  EXPECT_GT(c.max_rel_err, 0.0) << "fp32 rounding should leave some error against float64";
  EXPECT_LT(c.max_rel_err, c.tolerance);
  EXPECT_GE(c.samples, 256);
}

TEST(Validation, ToleranceHasHeadroomOverSequentialSummation) {
  // The tolerance must accept the worst summation order by a clear margin, or correct kernels
  // would fail at random; this measures the margin on K = 4096.
  Problem p(64, 64, 4096);
  p.multiply_sequential_fp32();
  GemmCheck c = p.check();
  ASSERT_TRUE(c.passed) << c.message;
  EXPECT_LT(c.max_rel_err, c.tolerance / 3);
  EXPECT_LT(c.freivalds_err, c.tolerance / 3);
}

TEST(Validation, ToleranceFormula) {
  // Rigorous K*u for small K, 16*sqrt(K)*u beyond K = 256, plus output rounding.
  EXPECT_DOUBLE_EQ(gemm_tolerance(16, kU32, kU32), 16 * kU32 + 2 * kU32);
  EXPECT_DOUBLE_EQ(gemm_tolerance(4096, kU32, kU32), 16 * 64 * kU32 + 2 * kU32);
}

// A single wrong element, anywhere, by 1% of its scale: Freivalds must see it even when the
// sampled elements miss it.
class OneCorruptedElement : public ::testing::TestWithParam<std::pair<int64_t, int64_t>> {};

TEST_P(OneCorruptedElement, IsCaughtByFreivalds) {
  Problem p(257, 263, 511);
  kernels::gemm_cpu_blocked_fp32(p.A.data(), p.B.data(), p.C.data(), p.M, p.N, p.K);
  auto [i, j] = GetParam();
  double a = 0, b = 0;
  for (int64_t k = 0; k < p.K; ++k) {
    a += double(p.A[i * p.K + k]) * p.A[i * p.K + k];
    b += double(p.B[k * p.N + j]) * p.B[k * p.N + j];
  }
  p.C[i * p.N + j] += static_cast<float>(0.01 * std::sqrt(a * b));
  GemmCheck c = check_gemm(p.A, p.B, p.C, p.M, p.N, p.K, gemm_tolerance(p.K, kU32, kU32),
                           BLayout::k_by_n, 777, /*random_samples=*/0);
  EXPECT_FALSE(c.passed);
  EXPECT_GT(c.freivalds_err, c.tolerance);
  EXPECT_NE(c.message.find("Freivalds"), std::string::npos) << c.message;
}

INSTANTIATE_TEST_SUITE_P(Positions, OneCorruptedElement,
                         ::testing::Values(std::pair<int64_t, int64_t>{0, 0},
                                           std::pair<int64_t, int64_t>{128, 77},
                                           std::pair<int64_t, int64_t>{256, 262},
                                           std::pair<int64_t, int64_t>{3, 200}));

TEST(Validation, SampledElementsReportTheWorstPosition) {
  Problem p(64, 64, 64);
  kernels::gemm_cpu_blocked_fp32(p.A.data(), p.B.data(), p.C.data(), p.M, p.N, p.K);
  p.C[63 * 64 + 63] = 1000.0f;  // a corner, always sampled
  GemmCheck c = p.check();
  EXPECT_FALSE(c.passed);
  EXPECT_GT(c.max_rel_err, 1.0);
  EXPECT_NE(c.message.find("C[63][63]"), std::string::npos) << c.message;
  EXPECT_NE(c.message.find("tolerance"), std::string::npos) << c.message;
}

TEST(Validation, NanAndUnwrittenOutputFail) {
  Problem p(33, 17, 9);
  kernels::gemm_cpu_blocked_fp32(p.A.data(), p.B.data(), p.C.data(), p.M, p.N, p.K);
  p.C[5 * p.N + 3] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_FALSE(p.check().passed);

  Problem zeros(40, 40, 40);  // a kernel that wrote nothing
  EXPECT_FALSE(zeros.check().passed);
}

TEST(Validation, TransposedBLayout) {
  // B stored N x K (the tensor-core GEMMs' TN layout): the same product, checked without a copy.
  Problem p(70, 90, 130);
  kernels::gemm_cpu_blocked_fp32(p.A.data(), p.B.data(), p.C.data(), p.M, p.N, p.K);
  std::vector<float> b_nk(p.N * p.K);
  for (int64_t k = 0; k < p.K; ++k)
    for (int64_t n = 0; n < p.N; ++n) b_nk[n * p.K + k] = p.B[k * p.N + n];
  const double tol = gemm_tolerance(p.K, kU32, kU32);
  GemmCheck good = check_gemm(p.A, b_nk, p.C, p.M, p.N, p.K, tol, BLayout::n_by_k, 1);
  EXPECT_TRUE(good.passed) << good.message;
  GemmCheck wrong_layout = check_gemm(p.A, b_nk, p.C, p.M, p.N, p.K, tol, BLayout::k_by_n, 1);
  EXPECT_FALSE(wrong_layout.passed);
}

TEST(Validation, FillUniformDoesNotDependOnSizeOrThreads) {
  std::vector<float> small(10), large(1 << 20);
  fill_uniform(small, 9);
  fill_uniform(large, 9);  // split over threads
  for (size_t i = 0; i < small.size(); ++i) EXPECT_EQ(small[i], large[i]);
}

TEST(Validation, FillUniformIsDeterministicNonZeroAndInRange) {
  std::vector<float> a(1000), b(1000);
  fill_uniform(a, 42);
  fill_uniform(b, 42);
  EXPECT_EQ(a, b);
  int zeros = 0;
  for (float x : a) {
    EXPECT_GE(x, -1.0f);
    EXPECT_LT(x, 1.0f);
    zeros += x == 0.0f;
  }
  EXPECT_EQ(zeros, 0);
}

}  // namespace
}  // namespace aicbench
