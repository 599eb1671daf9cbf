// GPU tests (label `gpu`): every CUDA GEMM implementation in every precision it offers, on
// random shapes with odd M and N, validated exactly as the harness validates before it times
// (Freivalds + sampled float64 elements). Without a device every test here is reported as
// skipped, never as passed; an implementation this GPU cannot run (wgmma off Hopper) is skipped
// with the reason.
#include <iostream>
#include <random>

#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include "harness/benchmark.hpp"
#include "harness/provenance.hpp"

namespace aicbench {
namespace {

struct ImplDtype {
  std::string impl, dtype;
};
void PrintTo(const ImplDtype& p, std::ostream* os) { *os << p.impl << "/" << p.dtype; }

std::vector<ImplDtype> cuda_gemms() {
  std::vector<ImplDtype> out;
  for (const Implementation& impl : implementations()) {
    if (impl.family != "gemm" || impl.backend != Backend::cuda) continue;
    for (const std::string& dtype : impl.dtypes) out.push_back({impl.impl, dtype});
  }
  return out;
}

class GpuGemm : public ::testing::TestWithParam<ImplDtype> {
 protected:
  void SetUp() override {
    probe_ = probe_devices();
    if (!probe_.available()) GTEST_SKIP() << "no CUDA device: " << *probe_.unavailable_reason;
  }
  DeviceProbe probe_;
};

TEST_P(GpuGemm, ValidOnRandomAndEdgeShapes) {
  const Implementation* impl = find_implementation("gemm", GetParam().impl);
  ASSERT_NE(impl, nullptr);
  // K a multiple of 16 so that every precision's row alignment holds; M and N anything.
  std::vector<std::vector<Param>> shapes = {
      {{"M", 1}, {"N", 1}, {"K", 16}},      {{"M", 128}, {"N", 128}, {"K", 16}},
      {{"M", 129}, {"N", 127}, {"K", 32}},  {{"M", 7}, {"N", 1000}, {"K", 48}},
      {{"M", 1000}, {"N", 5}, {"K", 1040}}, {{"M", 2048}, {"N", 2048}, {"K", 2048}}};
  std::mt19937 rng(2024);
  std::uniform_int_distribution<int64_t> size(1, 1500), k_blocks(1, 100);
  for (int i = 0; i < 6; ++i) shapes.push_back({{"M", size(rng)}, {"N", size(rng)}, {"K", 16 * k_blocks(rng)}});

  // A shape this implementation cannot take here (cuBLASLt's fp8 alignment rules, say) is
  // skipped with its reason; the others must all validate.
  int ran = 0;
  std::string skipped;
  for (const auto& params : shapes) {
    BenchmarkSpec spec{"gemm", impl->impl, GetParam().dtype, Backend::cuda, impl->vendor, params};
    if (auto reason = impl->unsupported_reason(spec, probe_)) {
      skipped += "\n  " + spec.name() + ": " + *reason;
      continue;
    }
    std::unique_ptr<BenchmarkCase> bench;
    Validation v;
    try {
      bench = impl->make(spec);
      v = bench->validate();
    } catch (const UnsupportedHere& e) {
      skipped += "\n  " + spec.name() + ": " + e.what();
      continue;
    }
    EXPECT_TRUE(v.passed) << spec.name() << ": " << v.message;
    bench->run();  // a second run must also complete without error
    EXPECT_EQ(cudaStreamSynchronize(bench->stream()), cudaSuccess) << spec.name();
    ++ran;
  }
  if (ran == 0) GTEST_SKIP() << "no shape can run here:" << skipped;
  if (!skipped.empty()) std::cout << "skipped shapes:" << skipped << "\n";
}

INSTANTIATE_TEST_SUITE_P(AllCudaGemms, GpuGemm, ::testing::ValuesIn(cuda_gemms()),
                         [](const auto& info) { return info.param.impl + "_" + info.param.dtype; });

}  // namespace
}  // namespace aicbench
