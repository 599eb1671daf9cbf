// GPU tests (label `gpu`) of the Hopper wgmma GEMMs (kernels/gemm/gemm_wgmma_sm90.cu: kernel1 and
// kernel2, the 2-CTA multicast version) through their entry points in gemm_api.hpp: bf16, fp16
// and fp8 (e4m3, scaled) on shapes that are and are not multiples of the 128x256 tile, against a
// float64 CPU reference computed from the same rounded inputs. Skipped without a device, and on
// devices other than compute capability 9.0.
//
// Check per element (i, j), with a_i row i of A, b_j row j of B (both as rounded to the input
// type by the harness's quantize(), fp8 scaled per tensor, i.e. q * scale):
//   |c_ij - ref_ij| <= 2 u_out |ref_ij| + min(K, 16 sqrt(K)) u_acc ||a_i|| ||b_j||
// i.e. the output's rounding plus the accumulation error bound of harness/validation.cpp. The
// reported "normalised error" is |c - ref| / (||a_i|| ||b_j||). u_acc is 2^-23 for 16-bit inputs
// (fp32 accumulation, allowing truncation) and 2^-13 for e4m3, whose tensor-core accumulation is
// known to keep fewer mantissa bits than fp32.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <cuda_runtime.h>

#include "harness/device_buffer.hpp"
#include "harness/families/gemm_precision.hpp"
#include "harness/validation.hpp"
#include "kernels/gemm/gemm_api.hpp"

namespace aicbench {
namespace {

namespace k = aicbench::kernels;

#define ASSERT_CUDA(call)                                                               \
  do {                                                                                  \
    const cudaError_t err_ = (call);                                                    \
    ASSERT_EQ(err_, cudaSuccess) << #call << ": " << cudaGetErrorString(err_);          \
  } while (0)

enum class Kind { bf16, fp16, e4m3 };
enum class Version { kernel1, multicast };
void PrintTo(Version v, std::ostream* os) {
  *os << (v == Version::kernel1 ? "kernel1" : "multicast");
}

const char* name(Kind kind) {
  switch (kind) {
    case Kind::bf16: return "bf16";
    case Kind::fp16: return "fp16";
    case Kind::e4m3: return "fp8_e4m3";
  }
  return "?";
}

// The harness's precision of each kind (rounding, fp8 scaling, widening the output).
const DtypeTraits& precision(Kind kind) {
  return traits(kind == Kind::bf16 ? "bf16" : kind == Kind::fp16 ? "fp16" : "fp8");
}

// Where the wrong elements are, in the kernels' terms, so a first failure on a GPU points at its
// cause: unwritten (NaN) elements, whole tiles wrong (scheduler, TMA coordinates), rows wrong by
// their position in a warp's 16 (accumulator fragment mapping) or a 64-row warpgroup slab,
// columns by their position in a 16-byte chunk or a 64-column epilogue pass (staging swizzle).
struct FailurePattern {
  long unwritten = 0;
  std::array<long, 16> row_in_warp{}, col_in_chunk{};
  std::array<long, 2> warpgroup{};
  std::array<long, 4> epilogue_pass{};
  std::set<std::pair<int, int>> tiles;  // (tile-row, tile-col) of 128 x 256

  void add(int i, int j, bool nan) {
    unwritten += nan;
    ++row_in_warp[i % 16];
    ++col_in_chunk[j % 16];
    ++warpgroup[(i % 128) / 64];
    ++epilogue_pass[(j % 256) / 64];
    tiles.insert({i / 128, j / 256});
  }
  template <size_t kN>
  static void histogram(std::ostream& os, const char* what, const std::array<long, kN>& h) {
    os << "\n  by " << what << ":";
    for (long count : h) os << " " << count;
  }
  std::string describe(int M, int N) const {
    const long tiles_total = static_cast<long>((M + 127) / 128) * ((N + 255) / 256);
    std::ostringstream os;
    os << "\n  pattern: " << unwritten << " unwritten (NaN); in " << tiles.size() << " of "
       << tiles_total << " 128x256 tiles";
    histogram(os, "row % 16", row_in_warp);
    histogram(os, "column % 16", col_in_chunk);
    histogram(os, "consumer warpgroup (row % 128 / 64)", warpgroup);
    histogram(os, "epilogue pass (column % 256 / 64)", epilogue_pass);
    return os.str();
  }
};

class GpuGemmWgmma : public ::testing::TestWithParam<Version> {
 protected:
  void SetUp() override {
    int count = 0;
    if (cudaGetDeviceCount(&count) != cudaSuccess || count == 0) {
      (void)cudaGetLastError();
      GTEST_SKIP() << "no CUDA device";
    }
    cudaDeviceProp prop{};
    if (cudaGetDeviceProperties(&prop, 0) != cudaSuccess) GTEST_SKIP() << "no usable CUDA device";
    if (prop.major != 9 || prop.minor != 0) {
      GTEST_SKIP() << "needs sm_90a (compute capability 9.0); device 0 is " << prop.name << ", "
                   << prop.major << "." << prop.minor;
    }
  }

  cudaError_t call(Kind kind, const void* A, const void* B, void* C, const float* sa,
                          const float* sb, int M, int N, int K) {
    using bf16 = __nv_bfloat16;
    using e4m3 = __nv_fp8_e4m3;
    const bool mc = GetParam() == Version::multicast;
    auto* a16 = static_cast<const bf16*>(A);
    auto* b16 = static_cast<const bf16*>(B);
    auto* c16 = static_cast<bf16*>(C);
    auto* ah = static_cast<const __half*>(A);
    auto* bh = static_cast<const __half*>(B);
    auto* ch = static_cast<__half*>(C);
    auto* a8 = static_cast<const e4m3*>(A);
    auto* b8 = static_cast<const e4m3*>(B);
    switch (kind) {
      case Kind::bf16:
        return mc ? k::gemm_wgmma_sm90_multicast_bf16(a16, b16, c16, M, N, K, nullptr)
                  : k::gemm_wgmma_sm90_bf16(a16, b16, c16, M, N, K, nullptr);
      case Kind::fp16:
        return mc ? k::gemm_wgmma_sm90_multicast_fp16(ah, bh, ch, M, N, K, nullptr)
                  : k::gemm_wgmma_sm90_fp16(ah, bh, ch, M, N, K, nullptr);
      case Kind::e4m3:
        return mc ? k::gemm_wgmma_sm90_multicast_fp8(a8, b8, c16, sa, sb, M, N, K, nullptr)
                  : k::gemm_wgmma_sm90_fp8(a8, b8, c16, sa, sb, M, N, K, nullptr);
    }
    return cudaErrorInvalidValue;
  }

  // Runs C = A * B^T on the device and checks it (every element when the reference is cheap,
  // otherwise the corners, the last row and column and random samples).
  void run_and_check(Kind kind, int M, int N, int K) {
    SCOPED_TRACE(std::string(name(kind)) + " M=" + std::to_string(M) + " N=" + std::to_string(N) +
                 " K=" + std::to_string(K));
    std::vector<float> a(static_cast<size_t>(M) * K), b(static_cast<size_t>(N) * K);
    fill_uniform(a, 1000 + M);
    fill_uniform(b, 2000 + N);
    // Rounded to the input type in place (fp8: scaled per tensor, a and b then hold q * scale,
    // exactly what the kernel computes with).
    float scales[2] = {1, 1};
    const std::vector<unsigned char> a_bytes = quantize(precision(kind), a, &scales[0]);
    const std::vector<unsigned char> b_bytes = quantize(precision(kind), b, &scales[1]);

    // C gets a sentinel tail: a kernel that stores outside M x N trips over it.
    const size_t c_elems = static_cast<size_t>(M) * N, tail = 4096;
    DeviceBuffer<unsigned char> dA(a_bytes.size()), dB(b_bytes.size()), dC((c_elems + tail) * 2);
    DeviceBuffer<float> dscale(2);
    ASSERT_CUDA(cudaMemcpy(dA.get(), a_bytes.data(), a_bytes.size(), cudaMemcpyHostToDevice));
    ASSERT_CUDA(cudaMemcpy(dB.get(), b_bytes.data(), b_bytes.size(), cudaMemcpyHostToDevice));
    ASSERT_CUDA(cudaMemcpy(dscale.get(), scales, sizeof(scales), cudaMemcpyHostToDevice));
    ASSERT_CUDA(cudaMemset(dC.get(), 0xFF, dC.size()));  // NaN in bf16 and fp16

    ASSERT_CUDA(call(kind, dA.get(), dB.get(), dC.get(), dscale.get(), dscale.get() + 1, M, N, K));
    ASSERT_CUDA(cudaDeviceSynchronize());
    std::vector<unsigned char> c_bytes(dC.size());
    ASSERT_CUDA(cudaMemcpy(c_bytes.data(), dC.get(), c_bytes.size(), cudaMemcpyDeviceToHost));

    for (size_t i = c_elems * 2; i < c_bytes.size(); ++i) {
      ASSERT_EQ(c_bytes[i], 0xFF) << "store past M x N";
    }
    c_bytes.resize(c_elems * 2);
    const std::vector<float> c = widen_output(precision(kind), c_bytes);

    const double u_out = kind == Kind::fp16 ? std::ldexp(1.0, -11) : std::ldexp(1.0, -8);
    const double u_acc = kind == Kind::e4m3 ? std::ldexp(1.0, -13) : std::ldexp(1.0, -23);
    const double kd = K;
    const double acc_term = std::min(kd, 16.0 * std::sqrt(kd)) * u_acc;

    std::vector<std::pair<int, int>> samples;
    if (static_cast<double>(M) * N * K <= 2e9) {
      for (int i = 0; i < M; ++i)
        for (int j = 0; j < N; ++j) samples.push_back({i, j});
    } else {
      std::mt19937 rng(7);
      std::uniform_int_distribution<int> ri(0, M - 1), rj(0, N - 1);
      for (int s = 0; s < 4096; ++s) samples.push_back({ri(rng), rj(rng)});
      for (int i = 0; i < M; i += std::max(1, M / 64)) samples.push_back({i, N - 1});
      for (int j = 0; j < N; j += std::max(1, N / 64)) samples.push_back({M - 1, j});
      samples.push_back({0, 0});
      samples.push_back({M - 1, N - 1});
    }

    // ||a_i||^2 and ||b_j||^2 of the rounded inputs.
    std::vector<double> a_sq(M, 0.0), b_sq(N, 0.0);
    for (size_t i = 0; i < a.size(); ++i) a_sq[i / K] += double(a[i]) * a[i];
    for (size_t i = 0; i < b.size(); ++i) b_sq[i / K] += double(b[i]) * b[i];

    // The float64 references, over every hardware thread (they dominate these tests' time).
    std::vector<double> refs(samples.size());
    parallel_for(static_cast<int64_t>(samples.size()), [&](int64_t begin, int64_t end) {
      for (int64_t n = begin; n < end; ++n) {
        const float* ai = &a[static_cast<size_t>(samples[n].first) * K];
        const float* bj = &b[static_cast<size_t>(samples[n].second) * K];
        double dot = 0;
        for (int kk = 0; kk < K; ++kk) dot += double(ai[kk]) * bj[kk];
        refs[n] = dot;
      }
    });

    double max_norm_err = 0;
    int bad = 0;
    FailurePattern pattern;
    for (size_t n = 0; n < samples.size(); ++n) {
      const auto [i, j] = samples[n];
      const double ref = refs[n];
      const double norms = std::max(std::sqrt(a_sq[i] * b_sq[j]), 1e-30);
      const double got = c[static_cast<size_t>(i) * N + j];
      const double err = std::abs(got - ref);  // NaN (an unwritten element) fails below
      const double bound = 2 * u_out * std::abs(ref) + acc_term * norms;
      max_norm_err = std::max(max_norm_err, err / norms);
      if (!(err <= bound)) {
        pattern.add(i, j, std::isnan(got));
        if (++bad <= 5) {
          ADD_FAILURE() << "C(" << i << "," << j << ") = " << got << ", reference " << ref
                        << ", normalised error " << err / norms << " > bound "
                        << bound / norms;
        }
      }
    }
    EXPECT_EQ(bad, 0) << bad << " of " << samples.size() << " checked elements out of tolerance"
                      << pattern.describe(M, N);
    RecordProperty(std::string(name(kind)) + "_max_normalised_error", std::to_string(max_norm_err));
  }
};

struct Shape {
  int M, N, K;
};
// K of every shape is a multiple of 16, so fp8 takes them too. Tile-edge cases: smaller than a
// tile, one past a tile, N odd (scalar stores), K not a multiple of the 64/128 K-tile, M crossing a
// rasterisation band (16 tile-rows = 2048 rows), more tiles than SMs (persistent loop). For the
// 2-CTA clusters: an odd number of tile-rows (the last cluster's second tile lies below M: 300
// rows are 3 tile-rows, 100 rows one) and N <= 128 (the second CTA's half of B lies past N).
const Shape kShapes[] = {{64, 64, 64},      {1, 1, 16},       {127, 255, 128}, {129, 257, 16},
                         {1000, 3000, 528}, {2500, 700, 80},  {5000, 1500, 208}, {300, 100, 128},
                         {100, 600, 64},    {4096, 4096, 4096}};

TEST_P(GpuGemmWgmma, Bf16) {
  for (const Shape& s : kShapes) run_and_check(Kind::bf16, s.M, s.N, s.K);
  run_and_check(Kind::bf16, 1000, 3000, 520);  // K % 64 == 8
}

TEST_P(GpuGemmWgmma, Fp16) {
  for (const Shape& s : kShapes) run_and_check(Kind::fp16, s.M, s.N, s.K);
  run_and_check(Kind::fp16, 1000, 3000, 520);
}

TEST_P(GpuGemmWgmma, Fp8E4m3Scaled) {
  for (const Shape& s : kShapes) run_and_check(Kind::e4m3, s.M, s.N, s.K);
}

TEST_P(GpuGemmWgmma, RejectsMisalignedK) {
  DeviceBuffer<uint8_t> buf(1 << 20);
  DeviceBuffer<float> scale(2);
  EXPECT_EQ(call(Kind::bf16, buf.get(), buf.get(), buf.get(), nullptr, nullptr, 64, 64, 100),
            cudaErrorInvalidValue);
  EXPECT_EQ(call(Kind::fp16, buf.get(), buf.get(), buf.get(), nullptr, nullptr, 64, 64, 12),
            cudaErrorInvalidValue);
  EXPECT_EQ(call(Kind::e4m3, buf.get(), buf.get(), buf.get(), scale.get(), scale.get() + 1, 64, 64, 24),
            cudaErrorInvalidValue);
  EXPECT_EQ(call(Kind::bf16, buf.get() + 2, buf.get(), buf.get(), nullptr, nullptr, 64, 64, 64),
            cudaErrorInvalidValue)
      << "A not 16-byte aligned";
  EXPECT_EQ(cudaGetLastError(), cudaSuccess);
}

TEST_P(GpuGemmWgmma, ZeroKWritesZeros) {
  DeviceBuffer<uint16_t> c(33 * 17);
  DeviceBuffer<uint8_t> ab(64);
  ASSERT_CUDA(cudaMemset(c.get(), 0xFF, 33 * 17 * 2));
  ASSERT_CUDA(call(Kind::bf16, ab.get(), ab.get(), c.get(), nullptr, nullptr, 33, 17, 0));
  std::vector<uint16_t> h(33 * 17);
  ASSERT_CUDA(cudaMemcpy(h.data(), c.get(), h.size() * 2, cudaMemcpyDeviceToHost));
  for (uint16_t v : h) ASSERT_EQ(v, 0);
}

INSTANTIATE_TEST_SUITE_P(Kernels, GpuGemmWgmma,
                         ::testing::Values(Version::kernel1, Version::multicast),
                         [](const ::testing::TestParamInfo<Version>& info) {
                           return info.param == Version::kernel1 ? "kernel1" : "multicast";
                         });

}  // namespace
}  // namespace aicbench
