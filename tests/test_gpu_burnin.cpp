// GPU tests (label `gpu`) of the burn-in: a short burn-in of every CUDA implementation passes on a
// healthy GPU with its time series recorded, and one bit flipped in C after one GEMM (a planted
// wrong answer) fails it, naming the GPU by index and UUID, the interval and the element. The
// compare kernel finds single flipped bits anywhere, the last odd bytes included. Without a device
// every test here is reported as skipped.
#include <iostream>
#include <vector>

#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include "harness/benchmark.hpp"
#include "harness/device_buffer.hpp"
#include "harness/families/burnin.hpp"
#include "harness/provenance.hpp"
#include "kernels/burnin/burnin_check.hpp"

namespace aicbench {
namespace {

using json = nlohmann::json;

class GpuBurnin : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    probe_ = probe_devices();
    if (!probe_.available()) GTEST_SKIP() << "no CUDA device: " << *probe_.unavailable_reason;
    spec_ = {"burnin", GetParam(), "bf16", Backend::cuda, GetParam() == "cublaslt",
             {{"M", 1024}, {"N", 768}, {"K", 512}, {"seconds", 2}}, MeasureMode::cold};
    if (auto reason = find_implementation("burnin", GetParam())->unsupported_reason(spec_, probe_)) {
      GTEST_SKIP() << *reason;
    }
  }
  void TearDown() override { burnin::plant_fault_for_testing(std::nullopt); }
  DeviceProbe probe_;
  BenchmarkSpec spec_;
};

TEST_P(GpuBurnin, PassesOnAHealthyGpuWithItsTimeSeries) {
  auto bench = find_implementation("burnin", GetParam())->make(spec_);
  const Validation v = bench->validate();
  ASSERT_TRUE(v.passed) << v.message;
  const json block = bench->row_details()["burnin"];
  EXPECT_EQ(block["mismatched_elements"], 0);
  EXPECT_GE(block["elapsed_s"].get<double>(), 2.0);
  EXPECT_GE(block["samples"].size(), 2u);
  EXPECT_GT(block["summary"]["gemms"].get<int64_t>(), 10);
  EXPECT_EQ(block["gpu_uuid"], current_gpu().uuid);
  std::cout << "burn-in: " << block["summary"].dump() << "\n  " << block["telemetry"] << "\n";
}

TEST_P(GpuBurnin, APlantedBitFlipFailsNamingTheGpuAndTheInterval) {
  const int64_t element = 768 * 100 + 17;  // row 100, column 17
  burnin::plant_fault_for_testing(burnin::PlantedFault{3, element, 14});
  auto bench = find_implementation("burnin", GetParam())->make(spec_);
  const Validation v = bench->validate();
  EXPECT_FALSE(v.passed);
  const GpuInfo gpu = current_gpu();
  EXPECT_NE(v.message.find("GPU " + std::to_string(gpu.index) + " (" + gpu.uuid), std::string::npos) << v.message;
  EXPECT_NE(v.message.find("1 element of C differed"), std::string::npos) << v.message;
  EXPECT_NE(v.message.find("first in interval 0"), std::string::npos) << v.message;
  EXPECT_NE(v.message.find("GEMM 3, row 100, column 17"), std::string::npos) << v.message;
  const json block = bench->row_details()["burnin"];
  EXPECT_EQ(block["mismatched_elements"], 1);
  EXPECT_EQ(block["mismatched_intervals"], 1);
  EXPECT_EQ(block["first_mismatch"]["row"], 100);
  EXPECT_EQ(block["verdict"]["passed"], false);
}

INSTANTIATE_TEST_SUITE_P(Impls, GpuBurnin, ::testing::Values("cublaslt", "wgmma_sm90_multicast"));

TEST(GpuBurninCheck, FindsEveryFlippedBitAnywhere) {
  const DeviceProbe probe = probe_devices();
  if (!probe.available()) GTEST_SKIP() << "no CUDA device: " << *probe.unavailable_reason;
  // Sizes that end in a partial 16-byte vector, for each element size.
  for (int element_bytes : {1, 2, 4}) {
    for (size_t bytes : {size_t(16), size_t(4096 + 12), size_t(1 << 20)}) {
      SCOPED_TRACE(std::to_string(element_bytes) + "-byte elements, " + std::to_string(bytes) + " bytes");
      DeviceBuffer<unsigned char> a(bytes), b(bytes);
      DeviceBuffer<kernels::BurninMismatches> found(1);
      std::vector<unsigned char> host(bytes);
      for (size_t i = 0; i < bytes; ++i) host[i] = static_cast<unsigned char>(i * 131 + 7);
      ASSERT_EQ(cudaMemcpy(a.get(), host.data(), bytes, cudaMemcpyHostToDevice), cudaSuccess);
      ASSERT_EQ(cudaMemcpy(b.get(), host.data(), bytes, cudaMemcpyHostToDevice), cudaSuccess);
      const size_t elements = bytes / element_bytes;
      for (size_t element : {size_t(0), elements / 2, elements - 1}) {
        ASSERT_EQ(cudaMemset(found.get(), 0, sizeof(kernels::BurninMismatches)), cudaSuccess);
        ASSERT_EQ(kernels::burnin_compare(a.get(), b.get(), bytes, element_bytes, found.get(), nullptr), cudaSuccess);
        ASSERT_EQ(kernels::burnin_flip_bit(a.get(), element, element_bytes, 8 * element_bytes - 1, nullptr), cudaSuccess);
        ASSERT_EQ(kernels::burnin_compare(a.get(), b.get(), bytes, element_bytes, found.get(), nullptr), cudaSuccess);
        kernels::BurninMismatches result{};
        ASSERT_EQ(cudaMemcpy(&result, found.get(), sizeof result, cudaMemcpyDeviceToHost), cudaSuccess);
        EXPECT_EQ(result.count, 1u) << element;
        EXPECT_EQ(result.element, element);
        EXPECT_EQ(result.got ^ result.expected, 1u << (8 * element_bytes - 1));
        ASSERT_EQ(kernels::burnin_flip_bit(a.get(), element, element_bytes, 8 * element_bytes - 1, nullptr), cudaSuccess);
      }
    }
  }
}

}  // namespace
}  // namespace aicbench
