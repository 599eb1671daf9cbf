// Host-side precision handling of the GEMM family, on the CPU: rounding inputs to each
// precision, fp8 per-tensor scaling, widening outputs, and the tolerances of docs/validation.md.
#include <cmath>
#include <cstring>
#include <stdexcept>

#include <cuda_fp8.h>
#include <gtest/gtest.h>

#include "harness/families/gemm_precision.hpp"
#include "harness/validation.hpp"

namespace aicbench {
namespace {

std::vector<float> random_values(size_t n, float amplitude) {
  std::vector<float> v(n);
  fill_uniform(v, 5);
  for (float& x : v) x *= amplitude;
  return v;
}

TEST(GemmPrecision, Fp32AndTf32PassThroughUnchanged) {
  for (const char* name : {"fp32", "tf32"}) {
    std::vector<float> v = random_values(1000, 1.0f), original = v;
    float scale = 0;
    auto bytes = quantize(traits(name), v, &scale);
    EXPECT_EQ(v, original) << name << ": tf32 rounding is the kernel's, not the host's";
    EXPECT_EQ(scale, 1.0f);
    ASSERT_EQ(bytes.size(), v.size() * 4);
    EXPECT_EQ(std::memcmp(bytes.data(), v.data(), bytes.size()), 0);
  }
}

TEST(GemmPrecision, Bf16AndFp16RoundToNearestAndRoundTrip) {
  struct Case { const char* name; double unit_roundoff; };
  for (Case c : {Case{"bf16", 0x1.0p-8}, Case{"fp16", 0x1.0p-11}}) {
    const DtypeTraits& t = traits(c.name);
    std::vector<float> v = random_values(4096, 1.0f), original = v;
    float scale = 0;
    auto bytes = quantize(t, v, &scale);
    ASSERT_EQ(bytes.size(), v.size() * 2);
    int changed = 0;
    for (size_t i = 0; i < v.size(); ++i) {
      EXPECT_LE(std::abs(v[i] - original[i]), c.unit_roundoff * std::abs(original[i]) * (1 + 1e-6))
          << c.name << " element " << i;
      changed += v[i] != original[i];
    }
    EXPECT_GT(changed, 4000) << "random fp32 values are almost never exactly representable";
    // The device bytes widen back to exactly the rounded values (bf16 and fp16 outputs alike).
    EXPECT_EQ(widen_output(t, bytes), v) << c.name;
  }
}

TEST(GemmPrecision, Fp8ScalesTheLargestMagnitudeTo448) {
  const DtypeTraits& t = traits("fp8");
  std::vector<float> v = random_values(4096, 3.0f), original = v;
  float amax = 0;
  for (float x : original) amax = std::max(amax, std::abs(x));
  float scale = 0;
  auto bytes = quantize(t, v, &scale);
  ASSERT_EQ(bytes.size(), v.size());
  EXPECT_FLOAT_EQ(scale, amax / 448.0f);
  for (size_t i = 0; i < v.size(); ++i) {
    // e4m3 keeps 3 mantissa bits: relative error at most 2^-4 for normal values; values below
    // its smallest normal (2^-6 after scaling) have an absolute error of at most 2^-10 * scale.
    const double err = std::abs(v[i] - original[i]);
    EXPECT_LE(err, std::max(0x1.0p-4 * std::abs(original[i]), 0x1.0p-10 * scale) * (1 + 1e-6)) << i;
    // The stored value times the scale is exactly what `v` now holds.
    __nv_fp8_e4m3 q;
    std::memcpy(&q, &bytes[i], 1);
    EXPECT_EQ(static_cast<float>(q) * scale, v[i]);
  }
  // The largest magnitude lands on e4m3's largest finite value.
  bool hit = false;
  for (size_t i = 0; i < v.size(); ++i) hit |= std::abs(original[i]) == amax && std::abs(v[i]) == amax;
  EXPECT_TRUE(hit);
}

TEST(GemmPrecision, Fp8OfAllZerosKeepsAUnitScale) {
  std::vector<float> v(64, 0.0f);
  float scale = 0;
  quantize(traits("fp8"), v, &scale);
  EXPECT_EQ(scale, 1.0f);
  for (float x : v) EXPECT_EQ(x, 0.0f);
}

TEST(GemmPrecision, ToleranceTableOfTheDocs) {
  // docs/validation.md, K = 4096.
  EXPECT_NEAR(tolerance(traits("fp32"), 4096), 6.1e-5, 0.05e-5);
  EXPECT_NEAR(tolerance(traits("tf32"), 4096), 1.04e-3, 0.01e-3);
  EXPECT_NEAR(tolerance(traits("bf16"), 4096), 7.87e-3, 0.01e-3);
  EXPECT_NEAR(tolerance(traits("fp16"), 4096), 1.04e-3, 0.01e-3);
  EXPECT_NEAR(tolerance(traits("fp8"), 4096), 7.03e-2, 0.01e-2);
  EXPECT_EQ(traits("fp8").out_bytes, 2u) << "fp8 GEMMs write bf16";
  EXPECT_THROW(traits("fp64"), std::invalid_argument);
}

}  // namespace
}  // namespace aicbench
