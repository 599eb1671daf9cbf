// GPU tests (label `gpu`): every CUDA attention implementation (prefill and decode) in every
// precision it offers, on fixed edge shapes and random ones with odd lengths, validated exactly as
// the harness validates before it times: sampled rows in float64 and, for the fused
// implementations, the whole output against the unfused cuBLAS path (docs/validation.md). Without
// a device every test is reported as skipped, never as passed; an implementation this GPU cannot
// run is skipped with the reason.
#include <iostream>
#include <random>

#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include "harness/benchmark.hpp"
#include "harness/provenance.hpp"

namespace aicbench {
namespace {

struct Variant {
  std::string family, impl, dtype;
};
void PrintTo(const Variant& v, std::ostream* os) { *os << v.family << "/" << v.impl << "/" << v.dtype; }

std::vector<Variant> cuda_attention() {
  std::vector<Variant> out;
  for (const Implementation& impl : implementations()) {
    if (impl.family.rfind("attention", 0) != 0 || impl.backend != Backend::cuda) continue;
    for (const std::string& dtype : impl.dtypes) out.push_back({impl.family, impl.impl, dtype});
  }
  return out;
}

std::vector<std::vector<Param>> prefill_shapes() {
  auto shape = [](int64_t B, int64_t H, int64_t KVH, int64_t Sq, int64_t Sk, int64_t D, int64_t causal) {
    return std::vector<Param>{{"B", B}, {"H", H}, {"KVH", KVH}, {"Sq", Sq}, {"Sk", Sk}, {"D", D}, {"causal", causal}};
  };
  std::vector<std::vector<Param>> shapes = {
      shape(1, 1, 1, 1, 1, 64, 0),        shape(1, 2, 1, 1, 1, 128, 1),      shape(2, 4, 2, 127, 129, 64, 1),
      shape(1, 8, 1, 300, 301, 128, 1),   shape(3, 2, 2, 65, 1000, 256, 0),  shape(1, 4, 4, 1000, 64, 128, 1),
      shape(1, 2, 2, 64, 1000, 128, 1),   shape(2, 16, 2, 2048, 2048, 128, 1), shape(1, 4, 4, 4096, 4096, 64, 0)};
  std::mt19937 rng(13);
  std::uniform_int_distribution<int64_t> batch(1, 3), kv(1, 4), group(1, 4), len(1, 700), dim(0, 2), flag(0, 1);
  for (int i = 0; i < 8; ++i) {
    const int64_t KVH = kv(rng);
    shapes.push_back(shape(batch(rng), KVH * group(rng), KVH, len(rng), len(rng), int64_t{64} << dim(rng), flag(rng)));
  }
  return shapes;
}

std::vector<std::vector<Param>> decode_shapes() {
  auto shape = [](int64_t B, int64_t H, int64_t KVH, int64_t Sk, int64_t D) {
    return std::vector<Param>{{"B", B}, {"H", H}, {"KVH", KVH}, {"Sk", Sk}, {"D", D}};
  };
  std::vector<std::vector<Param>> shapes = {
      shape(1, 8, 8, 1, 128),     shape(2, 32, 8, 1000, 128), shape(1, 64, 8, 5000, 128), shape(3, 16, 1, 777, 64),
      shape(1, 40, 2, 300, 128),  shape(2, 8, 2, 4097, 256),  shape(1, 64, 8, 131072, 128)};
  std::mt19937 rng(17);
  std::uniform_int_distribution<int64_t> batch(1, 8), kv(1, 8), group(1, 16), len(1, 20000), dim(0, 2);
  for (int i = 0; i < 8; ++i) {
    const int64_t KVH = kv(rng);
    shapes.push_back(shape(batch(rng), KVH * group(rng), KVH, len(rng), int64_t{64} << dim(rng)));
  }
  return shapes;
}

class GpuAttention : public ::testing::TestWithParam<Variant> {
 protected:
  void SetUp() override {
    probe_ = probe_devices();
    if (!probe_.available()) GTEST_SKIP() << "no CUDA device: " << *probe_.unavailable_reason;
  }
  DeviceProbe probe_;
};

TEST_P(GpuAttention, ValidOnRandomAndEdgeShapes) {
  const Variant& v = GetParam();
  const Implementation* impl = find_implementation(v.family, v.impl);
  ASSERT_NE(impl, nullptr);
  int ran = 0;
  std::string skipped;
  for (const auto& params : v.family == "attention" ? prefill_shapes() : decode_shapes()) {
    // cuDNN compiles a kernel per graph at plan time (seconds): the edge shapes only.
    if (impl->vendor && ran == 7) break;
    BenchmarkSpec spec{v.family, impl->impl, v.dtype, Backend::cuda, impl->vendor, params};
    if (auto reason = impl->unsupported_reason(spec, probe_)) {
      skipped += "\n  " + spec.name() + ": " + *reason;
      continue;
    }
    std::unique_ptr<BenchmarkCase> bench;
    Validation result;
    try {
      bench = impl->make(spec);
      result = bench->validate();
    } catch (const UnsupportedHere& e) {
      skipped += "\n  " + spec.name() + ": " + e.what();
      continue;
    }
    EXPECT_TRUE(result.passed) << spec.name() << ": " << result.message;
    bench->run();  // a second run must also complete without error
    EXPECT_EQ(cudaStreamSynchronize(bench->stream()), cudaSuccess) << spec.name();
    ++ran;
  }
  if (ran == 0) GTEST_SKIP() << "no shape can run here:" << skipped;
  if (!skipped.empty()) std::cout << "skipped shapes:" << skipped << "\n";
}

INSTANTIATE_TEST_SUITE_P(AllCudaAttention, GpuAttention, ::testing::ValuesIn(cuda_attention()),
                         [](const auto& info) {
                           return info.param.family + "_" + info.param.impl + "_" + info.param.dtype;
                         });

}  // namespace
}  // namespace aicbench
