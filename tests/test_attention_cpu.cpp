// The cpu backend's attention and the attention check (harness/families/attention_check.hpp):
// the CPU implementation against the float64 reference on shapes off every tile (odd lengths,
// grouped-query and multi-query heads, causal with Sq < Sk and Sq > Sk); the check's tolerance
// against a host emulation of what a 16-bit GPU kernel rounds; planted errors caught.
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <tuple>
#include <vector>

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <gtest/gtest.h>

#include "harness/benchmark.hpp"
#include "harness/families/attention_check.hpp"
#include "harness/validation.hpp"
#include "kernels/attention/attention_cpu.hpp"

namespace aicbench {
namespace {

using kernels::AttentionShape;

std::string describe(const AttentionShape& s) {
  return "B=" + std::to_string(s.B) + " H=" + std::to_string(s.H) + " KVH=" + std::to_string(s.KVH) +
         " Sq=" + std::to_string(s.Sq) + " Sk=" + std::to_string(s.Sk) + " D=" + std::to_string(s.D) +
         " causal=" + std::to_string(s.causal);
}

struct Inputs {
  std::vector<float> Q, K, V;
};
Inputs random_inputs(const AttentionShape& s, uint64_t seed = 1) {
  Inputs in{std::vector<float>(s.q_elements()), std::vector<float>(s.kv_elements()),
            std::vector<float>(s.kv_elements())};
  fill_uniform(in.Q, seed);
  fill_uniform(in.K, seed + 1);
  fill_uniform(in.V, seed + 2);
  return in;
}

double budget(const char* dtype, const AttentionShape& s, const Inputs& in) {
  return attention_tolerance(attention_precision(dtype), s, score_bound(in.Q, in.K, s));
}

const std::vector<AttentionShape> kShapes = {
    {1, 1, 1, 1, 1, 8, false},      {1, 1, 1, 1, 1, 8, true},     {2, 4, 2, 33, 47, 16, true},
    {1, 8, 1, 70, 70, 64, true},    {2, 6, 3, 100, 37, 32, true}, {1, 2, 2, 17, 129, 128, false},
    {3, 4, 4, 65, 65, 64, false},   {1, 4, 1, 1, 300, 128, false}, {1, 2, 1, 129, 200, 256, true},
};

class CpuAttention : public ::testing::TestWithParam<std::tuple<AttentionShape, int>> {};

TEST_P(CpuAttention, MatchesFloat64Reference) {
  auto [s, threads] = GetParam();
  Inputs in = random_inputs(s);
  std::vector<float> O(s.q_elements(), std::numeric_limits<float>::quiet_NaN());
  kernels::attention_cpu_fp32(in.Q.data(), in.K.data(), in.V.data(), O.data(), s, threads);
  const double tol = budget("fp32", s, in);
  // Every row, not a sample: the shapes are small.
  AttentionCheck check = check_attention(in.Q, in.K, in.V, O, s, tol, 7, int(s.B * s.Sq * s.H));
  EXPECT_TRUE(check.passed) << describe(s) << ": " << check.message;
  EXPECT_LT(check.max_rel_err, tol / 4) << describe(s) << ": fp32 should be well inside its budget";
  // A query that sees no key (causal, Sq > Sk) outputs zeros.
  for (int64_t i = 0; i < s.Sq; ++i) {
    if (s.key_end(i) > 0) continue;
    for (int64_t d = 0; d < s.D; ++d) ASSERT_EQ(O[s.q_offset(0, i, 0) + d], 0.0f) << describe(s) << " row " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Shapes, CpuAttention,
                         ::testing::Combine(::testing::ValuesIn(kShapes), ::testing::Values(1, 3)));

// What a 16-bit tensor-core kernel computes, emulated on the host: fp32 scores from the rounded
// inputs, fp32 softmax, P rounded to T before P*V (fp32 sums), O rounded to T.
template <class T>
std::vector<float> emulate_device(const Inputs& in, const AttentionShape& s) {
  std::vector<float> O(s.q_elements());
  std::vector<float> p(s.Sk);
  for (int64_t b = 0; b < s.B; ++b)
    for (int64_t i = 0; i < s.Sq; ++i)
      for (int64_t h = 0; h < s.H; ++h) {
        const int64_t g = s.kv_head(h), keys = s.key_end(i);
        float m = -INFINITY, l = 0;
        for (int64_t j = 0; j < keys; ++j) {
          float dot = 0;
          for (int64_t d = 0; d < s.D; ++d) dot += in.Q[s.q_offset(b, i, h) + d] * in.K[s.kv_offset(b, j, g) + d];
          p[j] = dot * float(s.scale());
          m = std::max(m, p[j]);
        }
        for (int64_t j = 0; j < keys; ++j) l += (p[j] = std::exp(p[j] - m));
        for (int64_t d = 0; d < s.D; ++d) {
          float o = 0;
          for (int64_t j = 0; j < keys; ++j) o += float(T(p[j])) * in.V[s.kv_offset(b, j, g) + d];
          O[s.q_offset(b, i, h) + d] = keys ? float(T(o / l)) : 0.0f;
        }
      }
  return O;
}

template <class T>
Inputs rounded_inputs(const AttentionShape& s) {
  Inputs in = random_inputs(s, 11);
  for (auto* v : {&in.Q, &in.K, &in.V})
    for (float& x : *v) x = float(T(x));
  return in;
}

TEST(AttentionCheck, SixteenBitRoundingFitsItsBudget) {
  const AttentionShape s{1, 2, 1, 64, 1000, 64, true};
  {
    Inputs in = rounded_inputs<__nv_bfloat16>(s);
    std::vector<float> O = emulate_device<__nv_bfloat16>(in, s);
    AttentionCheck c = check_attention(in.Q, in.K, in.V, O, s, budget("bf16", s, in), 3, 128);
    EXPECT_TRUE(c.passed) << c.message;
    EXPECT_LT(c.max_rel_err, c.tolerance / 2) << "bf16 emulation against its budget";
  }
  {
    Inputs in = rounded_inputs<__half>(s);
    std::vector<float> O = emulate_device<__half>(in, s);
    AttentionCheck c = check_attention(in.Q, in.K, in.V, O, s, budget("fp16", s, in), 3, 128);
    EXPECT_TRUE(c.passed) << c.message;
    EXPECT_LT(c.max_rel_err, c.tolerance / 2) << "fp16 emulation against its budget";
  }
}

TEST(AttentionCheck, ToleranceOrdersThePrecisions) {
  const AttentionShape s{1, 16, 8, 4096, 4096, 128, true};
  const double bf16 = attention_tolerance(attention_precision("bf16"), s, 4.0);
  const double fp16 = attention_tolerance(attention_precision("fp16"), s, 4.0);
  const double fp32 = attention_tolerance(attention_precision("fp32"), s, 4.0);
  EXPECT_GT(bf16, fp16);
  EXPECT_GT(fp16, fp32);
  EXPECT_GT(bf16, 2 * 0x1.0p-8);  // P and O each rounded to bf16
  EXPECT_LT(bf16, 0.01);
  EXPECT_LT(fp32, 1e-3);
  EXPECT_THROW(attention_precision("fp8"), std::invalid_argument);
}

TEST(AttentionCheck, CatchesWrongOutputs) {
  const AttentionShape s{2, 4, 2, 50, 60, 32, true};
  Inputs in = random_inputs(s);
  std::vector<float> O(s.q_elements());
  kernels::attention_cpu_fp32(in.Q.data(), in.K.data(), in.V.data(), O.data(), s, 2);
  const double tol = budget("bf16", s, in);
  ASSERT_TRUE(check_attention(in.Q, in.K, in.V, O, s, tol).passed);

  // The first row is always sampled: 0.02 off there (about 4 % of its error scale) fails.
  std::vector<float> bad = O;
  bad[s.q_offset(0, 0, 0) + 5] += 0.02f;
  AttentionCheck c = check_attention(in.Q, in.K, in.V, bad, s, tol);
  EXPECT_FALSE(c.passed);
  EXPECT_NE(c.message.find("O[b=0][i=0][h=0][d=5]"), std::string::npos) << c.message;

  // A NaN in the last row fails.
  bad = O;
  bad[s.q_offset(s.B - 1, s.Sq - 1, s.H - 1)] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_FALSE(check_attention(in.Q, in.K, in.V, bad, s, tol).passed);

  // A row the sample may miss is caught by the whole-output comparison, with its place.
  bad = O;
  bad[s.q_offset(1, 37, 2) + 3] += 0.1f;
  AttentionCheck whole = check_attention(in.Q, in.K, in.V, O, s, tol);
  compare_with_reference(whole, bad, O, in.V, s, "the reference");
  EXPECT_FALSE(whole.passed);
  EXPECT_NE(whole.message.find("O[b=1][i=37][h=2][d=3]"), std::string::npos) << whole.message;
  AttentionCheck same = check_attention(in.Q, in.K, in.V, O, s, tol);
  compare_with_reference(same, O, O, in.V, s, "itself");
  EXPECT_TRUE(same.passed) << same.message;
  EXPECT_EQ(*same.max_diff_vs_reference, 0.0);

  // Ignoring the causal mask is caught.
  AttentionShape full = s;
  full.causal = false;
  std::vector<float> unmasked(s.q_elements());
  kernels::attention_cpu_fp32(in.Q.data(), in.K.data(), in.V.data(), unmasked.data(), full, 2);
  EXPECT_FALSE(check_attention(in.Q, in.K, in.V, unmasked, s, tol).passed);
}

TEST(AttentionFamily, RegisteredWithItsParameters) {
  EXPECT_EQ(family_params("attention"), (std::vector<std::string>{"B", "H", "KVH", "Sq", "Sk", "D", "causal"}));
  EXPECT_EQ(family_params("attention_decode"), (std::vector<std::string>{"B", "H", "KVH", "Sk", "D"}));
  for (const char* family : {"attention", "attention_decode"}) {
    const Implementation* cpu = find_implementation(family, "cpu_flash");
    ASSERT_NE(cpu, nullptr) << family;
    EXPECT_EQ(cpu->backend, Backend::cpu);
    EXPECT_TRUE(cpu->provides("fp32"));
  }
}

BenchmarkSpec prefill_spec(int64_t B, int64_t H, int64_t KVH, int64_t Sq, int64_t Sk, int64_t D, int64_t causal) {
  return {"attention", "cpu_flash", "fp32", Backend::cpu, false,
          {{"B", B}, {"H", H}, {"KVH", KVH}, {"Sq", Sq}, {"Sk", Sk}, {"D", D}, {"causal", causal}}};
}

TEST(AttentionFamily, CpuCasesValidateAndCountTheirWork) {
  const Implementation* impl = find_implementation("attention", "cpu_flash");
  const BenchmarkSpec spec = prefill_spec(2, 4, 2, 100, 100, 64, 1);
  EXPECT_EQ(spec.name(), "attention/cpu_flash/fp32/B:2/H:4/KVH:2/Sq:100/Sk:100/D:64/causal:1");
  EXPECT_FALSE(impl->unsupported_reason(spec, DeviceProbe{}).has_value());
  auto c = impl->make(spec);
  Validation v = c->validate();
  EXPECT_TRUE(v.passed) << v.message;
  EXPECT_EQ(v.details["rows"].get<int>() > 64, true);
  EXPECT_DOUBLE_EQ(c->flops(), 4.0 * 2 * 4 * 100 * 100 * 64 / 2) << "halved for causal";

  const BenchmarkSpec decode{"attention_decode", "cpu_flash", "fp32", Backend::cpu, false,
                             {{"B", 3}, {"H", 8}, {"KVH", 2}, {"Sk", 1000}, {"D", 128}}};
  auto d = find_implementation("attention_decode", "cpu_flash")->make(decode);
  EXPECT_TRUE(d->validate().passed);
  EXPECT_EQ(d->flops(), 0.0) << "decode's headline is GB/s";
  EXPECT_DOUBLE_EQ(d->bytes(), 4.0 * 2 * 3 * 1000 * 2 * 128) << "K and V read once";
}

TEST(AttentionFamily, ShapesThatMakeNoSenseAreSkippedWithTheReason) {
  const Implementation* impl = find_implementation("attention", "cpu_flash");
  auto reason = impl->unsupported_reason(prefill_spec(1, 6, 4, 8, 8, 64, 0), DeviceProbe{});
  ASSERT_TRUE(reason.has_value());
  EXPECT_NE(reason->find("KVH = 4 must divide H = 6"), std::string::npos) << *reason;
  EXPECT_TRUE(impl->unsupported_reason(prefill_spec(1, 4, 4, 8, 8, 64, 2), DeviceProbe{}).has_value());
  EXPECT_TRUE(impl->unsupported_reason(prefill_spec(1, 4, 4, 0, 8, 64, 0), DeviceProbe{}).has_value());
}

// What each CUDA implementation refuses, decided before anything touches a GPU (a probe of an
// H100-like device stands in for one).
TEST(AttentionFamily, CudaImplementationsSayWhatTheyCannotRun) {
  DeviceProbe h100;
  GpuInfo gpu;
  gpu.name = "NVIDIA H100 80GB HBM3";
  gpu.cc_major = 9;
  gpu.memory_bytes = 80LL << 30;
  h100.gpus.push_back(gpu);
  DeviceProbe volta = h100;
  volta.gpus[0].cc_major = 7;
  auto spec = [](const char* impl, int64_t Sq, int64_t Sk, int64_t D, int64_t causal) {
    return BenchmarkSpec{"attention", impl, "bf16", Backend::cuda, false,
                         {{"B", 1}, {"H", 8}, {"KVH", 2}, {"Sq", Sq}, {"Sk", Sk}, {"D", D}, {"causal", causal}}};
  };
  auto reason = [](const char* family, const BenchmarkSpec& s, const DeviceProbe& p) {
    return find_implementation(family, s.impl)->unsupported_reason(s, p).value_or("");
  };
  const Implementation* cudnn = find_implementation("attention", "cudnn");
  ASSERT_NE(cudnn, nullptr);
  EXPECT_TRUE(cudnn->vendor) << "cuDNN is the attention baseline (pct_of_vendor)";
  EXPECT_TRUE(find_implementation("attention_decode", "cudnn")->vendor);
  const auto first = std::find_if(implementations().begin(), implementations().end(),
                                  [](const Implementation& i) { return i.family == "attention"; });
  EXPECT_EQ(&*first, cudnn) << "the vendor baseline is the family's first implementation";

  EXPECT_EQ(reason("attention", spec("mma_sm80", 4096, 4096, 128, 1), h100), "");
  EXPECT_EQ(reason("attention", spec("unfused", 4096, 4096, 128, 1), h100), "");
  EXPECT_NE(reason("attention", spec("mma_sm80", 64, 64, 96, 0), h100).find("head dimensions 64, 128 and 256"), std::string::npos);
  EXPECT_NE(reason("attention", spec("mma_sm80", 64, 64, 64, 0), volta).find("sm_80"), std::string::npos);
  // The Hopper kernel: sm_90a code runs on compute capability 9.0 only (not on Blackwell).
  DeviceProbe b200 = h100;
  b200.gpus[0].cc_major = 10;
  EXPECT_EQ(reason("attention", spec("wgmma_sm90", 4096, 4096, 128, 1), h100), "");
  EXPECT_EQ(reason("attention", spec("wgmma_sm90", 300, 77, 64, 0), h100), "");
  EXPECT_EQ(reason("attention", spec("wgmma_sm90", 64, 64, 256, 0), h100), "");
  EXPECT_NE(reason("attention", spec("wgmma_sm90", 64, 64, 96, 0), h100).find("head dimensions 64, 128 and 256"), std::string::npos);
  EXPECT_NE(reason("attention", spec("wgmma_sm90", 64, 64, 64, 0), b200).find("9.0"), std::string::npos);
  EXPECT_NE(reason("attention", spec("wgmma_sm90", 64, 64, 64, 0), volta).find("9.0"), std::string::npos);
  if (AICBENCH_WITH_CUDNN) {
    EXPECT_EQ(reason("attention", spec("cudnn", 4096, 4096, 128, 1), h100), "");
    EXPECT_NE(reason("attention", spec("cudnn", 300, 200, 128, 1), h100).find("Sq <= Sk"), std::string::npos);
    EXPECT_EQ(reason("attention", spec("cudnn", 300, 200, 128, 0), h100), "") << "no mask: any lengths";
  } else {
    EXPECT_NE(reason("attention", spec("cudnn", 64, 64, 64, 0), h100).find("no cuDNN"), std::string::npos);
  }
  // The unfused path (and the fused kernels' whole-output check) keeps S and P of one head.
  EXPECT_NE(reason("attention", spec("unfused", 65536, 65536, 128, 1), h100).find("workspace"), std::string::npos);
  EXPECT_NE(reason("attention", spec("unfused", 64, 64, 64, 0), DeviceProbe{}).find("no CUDA device"), std::string::npos);
}

}  // namespace
}  // namespace aicbench
