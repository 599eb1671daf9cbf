// GPU tests (label `gpu`) of the memory, host_link, p2p, p2p_latency and launch families: every
// implementation validates exactly at odd sizes and times itself or is timed sensibly; the
// device-side check finds a planted wrong element. Without a device every test is reported as
// skipped, never as passed; p2p pairs need two GPUs and are skipped with the reason on one.
#include <iostream>
#include <limits>

#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include "harness/benchmark.hpp"
#include "harness/device_buffer.hpp"
#include "harness/provenance.hpp"
#include "kernels/memory/stream_kernels.hpp"

namespace aicbench {
namespace {

class GpuMemory : public ::testing::Test {
 protected:
  void SetUp() override {
    probe_ = probe_devices();
    if (!probe_.available()) GTEST_SKIP() << "no CUDA device: " << *probe_.unavailable_reason;
  }
  // Builds and validates `spec`; false (with the reason added to `skipped`) where it cannot run here.
  std::unique_ptr<BenchmarkCase> validated(const BenchmarkSpec& spec, std::string& skipped) {
    const Implementation* impl = find_implementation(spec.family, spec.impl);
    EXPECT_NE(impl, nullptr) << spec.name();
    if (!impl) return nullptr;
    if (auto why = impl->unsupported_reason(spec, probe_)) {
      skipped += "\n  " + spec.name() + ": " + *why;
      return nullptr;
    }
    std::unique_ptr<BenchmarkCase> bench;
    try {
      bench = impl->make(spec);
    } catch (const UnsupportedHere& e) {
      skipped += "\n  " + spec.name() + ": " + e.what();
      return nullptr;
    }
    const Validation v = bench->validate();
    EXPECT_TRUE(v.passed) << spec.name() << ": " << v.message;
    EXPECT_EQ(v.details.value("wrong_elements", -1), 0) << spec.name();
    return bench;
  }
  DeviceProbe probe_;
};

TEST_F(GpuMemory, EveryMemoryKernelIsExactAtOddSizes) {
  std::string skipped;
  int ran = 0;
  for (const Implementation& impl : implementations()) {
    if (impl.family != "memory" || impl.backend != Backend::cuda) continue;
    for (const std::string& dtype : impl.dtypes) {
      // One element; less than a vector; a tail after whole vectors; more than one wave of blocks.
      for (int64_t bytes : {int64_t{8}, int64_t{24}, int64_t{8 * 1000003}, int64_t{3} << 26}) {
        BenchmarkSpec spec{"memory", impl.impl, dtype, Backend::cuda, impl.vendor, {{"bytes", bytes}}};
        auto bench = validated(spec, skipped);
        if (!bench) continue;
        bench->run();
        ASSERT_EQ(cudaStreamSynchronize(bench->stream()), cudaSuccess) << spec.name();
        ++ran;
      }
    }
  }
  EXPECT_GT(ran, 0) << skipped;
  if (!skipped.empty()) std::cout << "skipped:" << skipped << "\n";
}

TEST_F(GpuMemory, TheDeviceCheckFindsAPlantedWrongElement) {
  const size_t n = 1000003;
  DeviceBuffer<double> a(n), c(n);
  DeviceBuffer<unsigned long long> counters(2);
  ASSERT_EQ(kernels::stream_init_cuda<double>(a.get(), nullptr, c.get(), n, nullptr), cudaSuccess);
  ASSERT_EQ(kernels::stream_cuda<double>(kernels::StreamOp::copy, a.get(), nullptr, c.get(), n, nullptr, nullptr), cudaSuccess);
  const double wrong = -1;
  ASSERT_EQ(cudaMemcpy(c.get() + 777777, &wrong, sizeof wrong, cudaMemcpyHostToDevice), cudaSuccess);
  unsigned long long init[2] = {0, ~0ull}, got[2] = {};
  ASSERT_EQ(cudaMemcpy(counters.get(), init, sizeof init, cudaMemcpyHostToDevice), cudaSuccess);
  ASSERT_EQ(kernels::stream_check_cuda<double>(kernels::StreamOp::copy, c.get(), n, counters.get(), counters.get() + 1, nullptr),
            cudaSuccess);
  ASSERT_EQ(cudaMemcpy(got, counters.get(), sizeof got, cudaMemcpyDeviceToHost), cudaSuccess);
  EXPECT_EQ(got[0], 1u);
  EXPECT_EQ(got[1], 777777u);
}

TEST_F(GpuMemory, HostLinkCopiesArriveWholeAndRecordTheLink) {
  std::string skipped;
  for (const char* impl : {"h2d_pinned", "d2h_pinned", "bidir_pinned", "h2d_pageable", "d2h_pageable", "bidir_pageable"}) {
    for (int64_t bytes : {int64_t{4097}, int64_t{1} << 24}) {
      BenchmarkSpec spec{"host_link", impl, "u8", Backend::cuda, false, {{"bytes", bytes}}};
      auto bench = validated(spec, skipped);
      ASSERT_NE(bench, nullptr) << skipped;
      ASSERT_TRUE(bench->times_itself());
      const double seconds = bench->time_runs(2, MeasureMode::hot);
      EXPECT_GT(seconds, 0) << spec.name();
      EXPECT_LT(seconds, 1.0) << spec.name();
      const nlohmann::json details = bench->row_details();
      EXPECT_TRUE(details.contains("pcie")) << details.dump();
      EXPECT_TRUE(details["numa"].contains("gpu_node")) << details.dump();
    }
  }
}

TEST_F(GpuMemory, PeerCopiesBetweenEveryPairOfTheFirstTwo) {
  if (probe_.gpus.size() < 2) GTEST_SKIP() << "needs 2 GPUs; this machine has " << probe_.gpus.size();
  std::string skipped;
  int ran = 0;
  for (const char* impl : {"ce", "sm_write", "sm_read"}) {
    for (auto [src, dst] : {std::pair{0, 1}, std::pair{1, 0}}) {
      for (int directions : {1, 2}) {
        BenchmarkSpec spec{"p2p", impl, "u8", Backend::cuda, std::string(impl) == "ce",
                           {{"src", src}, {"dst", dst}, {"directions", directions}, {"bytes", 16 * 100003}}};
        auto bench = validated(spec, skipped);
        if (!bench) continue;
        EXPECT_GT(bench->time_runs(3, MeasureMode::hot), 0) << spec.name();
        EXPECT_TRUE(bench->row_details()["p2p"].contains("peer_access"));
        ++ran;
      }
    }
  }
  EXPECT_GT(ran, 0) << "the copy engines copy between any two GPUs" << skipped;
  if (!skipped.empty()) std::cout << "skipped:" << skipped << "\n";
}

TEST_F(GpuMemory, TheChaseEndsWhereTheHostsWalkEndsAndTakesNanoseconds) {
  std::string skipped;
  const int last = static_cast<int>(probe_.gpus.size()) - 1;
  for (int dst : {0, last}) {
    BenchmarkSpec spec{"p2p_latency", "chase", "u32", Backend::cuda, false, {{"src", 0}, {"dst", dst}, {"bytes", 1 << 26}}};
    auto bench = validated(spec, skipped);
    if (!bench) continue;
    const double per_hop = bench->time_runs(1, MeasureMode::hot);
    EXPECT_GT(per_hop, 20e-9) << "faster than any DRAM access: the loads overlapped";
    EXPECT_LT(per_hop, 50e-6) << spec.name();
  }
  if (!skipped.empty()) std::cout << "skipped:" << skipped << "\n";
}

TEST_F(GpuMemory, LaunchesFromAStreamAndAGraph) {
  std::string skipped;
  for (const char* impl : {"stream", "graph"}) {
    for (int64_t batch : {int64_t{1}, int64_t{7}}) {
      BenchmarkSpec spec{"launch", impl, "none", Backend::cuda, false, {{"batch", batch}}};
      auto bench = validated(spec, skipped);
      ASSERT_NE(bench, nullptr) << skipped;
      const double per_launch = bench->time_runs(5, MeasureMode::hot);
      EXPECT_GT(per_launch, 0) << spec.name();
      EXPECT_LT(per_launch, 1e-3) << spec.name();
    }
  }
}

}  // namespace
}  // namespace aicbench
