// GPU tests (label `gpu`): every CUDA GEMM implementation on random shapes, odd sizes included,
// validated the same way the harness validates before timing. Without a device every test here
// is reported as skipped, never as passed.
#include <random>

#include <gtest/gtest.h>

#include "harness/benchmark.hpp"
#include "harness/provenance.hpp"

namespace aicbench {
namespace {

class GpuGemm : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    probe_ = probe_devices();
    if (!probe_.available()) GTEST_SKIP() << "no CUDA device: " << *probe_.unavailable_reason;
  }
  DeviceProbe probe_;
};

TEST_P(GpuGemm, ValidOnRandomAndEdgeShapes) {
  const Implementation* impl = find_implementation("gemm", GetParam());
  ASSERT_NE(impl, nullptr);
  std::vector<std::vector<Param>> shapes = {
      {{"M", 1}, {"N", 1}, {"K", 1}},       {{"M", 128}, {"N", 128}, {"K", 8}},
      {{"M", 129}, {"N", 127}, {"K", 9}},   {{"M", 7}, {"N", 1000}, {"K", 3}},
      {{"M", 1000}, {"N", 5}, {"K", 1025}}, {{"M", 2048}, {"N", 2048}, {"K", 2048}}};
  std::mt19937 rng(2024);
  std::uniform_int_distribution<int64_t> size(1, 1500);
  for (int i = 0; i < 6; ++i) shapes.push_back({{"M", size(rng)}, {"N", size(rng)}, {"K", size(rng)}});

  for (const auto& params : shapes) {
    BenchmarkSpec spec{"gemm", impl->impl, "fp32", Backend::cuda, impl->vendor, params};
    ASSERT_FALSE(impl->unsupported_reason(spec, probe_)) << spec.name();
    auto bench = impl->make(spec);
    Validation v = bench->validate();
    EXPECT_TRUE(v.passed) << spec.name() << ": " << v.message;
    bench->run();  // a second run must also complete without error
    EXPECT_EQ(cudaStreamSynchronize(bench->stream()), cudaSuccess) << spec.name();
  }
}

INSTANTIATE_TEST_SUITE_P(CudaImpls, GpuGemm, ::testing::Values("simt", "cublas"));

}  // namespace
}  // namespace aicbench
