// The memory, host_link, p2p, p2p_latency and launch families on the CPU (issue 12): the CPU
// STREAM kernels are exact at odd sizes on any number of threads, a planted wrong element is
// found, every CPU implementation validates through the registry, the suites expand as
// documented, the datasheets carry bandwidths and GB/s rows get pct_of_peak and pct_of_vendor,
// cases that time themselves are measured through their own clock and add their facts to the
// row, and the GPU-only benchmarks say why they cannot run without a GPU (or with one GPU).
#include <cmath>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "harness/benchmark.hpp"
#include "harness/measurement.hpp"
#include "harness/result_writer.hpp"
#include "harness/runner.hpp"
#include "harness/samplers.hpp"
#include "harness/specs.hpp"
#include "kernels/memory/pointer_chase.hpp"
#include "kernels/memory/stream_cpu.hpp"
#include "kernels/memory/stream_values.hpp"
#include "reports/result_file.hpp"
#include "tests/test_dir.hpp"

namespace aicbench {
namespace {

namespace fs = std::filesystem;
using kernels::StreamOp;

constexpr StreamOp kOps[] = {StreamOp::copy, StreamOp::scale, StreamOp::add, StreamOp::triad, StreamOp::read, StreamOp::write};

// ---- the CPU kernels --------------------------------------------------------------------------

template <typename T>
void expect_exact(StreamOp op, size_t n, int threads) {
  kernels::CpuTeam team(threads);
  std::vector<T> a(n), b(n), c(n);
  kernels::stream_init_cpu<T>(team, a.data(), b.data(), c.data(), n);
  const int out = kernels::stream_output(op);
  std::vector<T>* arrays[] = {&a, &b, &c};
  if (out >= 0) std::fill(arrays[out]->begin(), arrays[out]->end(), std::numeric_limits<T>::quiet_NaN());
  double sum = -1;
  kernels::stream_cpu<T>(team, op, a.data(), b.data(), c.data(), n, &sum);
  const std::string what = std::string(kernels::stream_op_name(op)) + " n=" + std::to_string(n) +
                           " threads=" + std::to_string(threads);
  if (op == StreamOp::read) {
    EXPECT_EQ(sum, kernels::stream_read_expected(n)) << what;
    return;
  }
  const kernels::StreamCheck check = kernels::stream_check_cpu<T>(op, arrays[out]->data(), n);
  EXPECT_EQ(check.wrong, 0u) << what << ", first wrong at " << check.first_wrong;
}

TEST(StreamCpu, EveryOperationExactAtOddSizesOnAnyThreads) {
  for (StreamOp op : kOps) {
    for (size_t n : {size_t{0}, size_t{1}, size_t{3}, size_t{17}, size_t{1001}, size_t{65537}}) {
      for (int threads : {1, 2, 3, 7}) {
        expect_exact<double>(op, n, threads);
        expect_exact<float>(op, n, threads);
      }
    }
  }
}

TEST(StreamCpu, SlicesCoverEveryElementOnceOnWholeLines) {
  for (size_t n : {size_t{0}, size_t{5}, size_t{8}, size_t{1000}, size_t{1 << 20}}) {
    for (int threads : {1, 2, 5, 16}) {
      size_t expected_begin = 0;
      for (int t = 0; t < threads; ++t) {
        const kernels::Slice s = kernels::stream_slice(n, 8, t, threads);
        EXPECT_EQ(s.begin, expected_begin) << "n=" << n << " t=" << t;
        EXPECT_LE(s.begin, s.end);
        if (s.begin != n) {
          EXPECT_EQ(s.begin % 8, 0u) << "slices start on 64-byte lines";
        }
        expected_begin = s.end;
      }
      EXPECT_EQ(expected_begin, n);
    }
  }
}

TEST(StreamCpu, APlantedWrongElementIsFoundAndNamed) {
  const size_t n = 4099;
  std::vector<double> c(n);
  for (size_t i = 0; i < n; ++i) c[i] = kernels::stream_expected(StreamOp::copy, i);
  EXPECT_EQ(kernels::stream_check_cpu<double>(StreamOp::copy, c.data(), n).wrong, 0u);
  c[2718] += 1;
  c[4000] = std::numeric_limits<double>::quiet_NaN();
  const kernels::StreamCheck check = kernels::stream_check_cpu<double>(StreamOp::copy, c.data(), n);
  EXPECT_EQ(check.wrong, 2u);
  EXPECT_EQ(check.first_wrong, 2718u);
  EXPECT_DOUBLE_EQ(check.max_rel_err, 1.0) << "a NaN counts as a relative error of 1";
}

TEST(StreamCpu, TheReadSumHasAClosedForm) {
  for (uint64_t n : {0ull, 1ull, 6ull, 7ull, 8ull, 1000003ull}) {
    double sum = 0;
    for (uint64_t i = 0; i < n; ++i) sum += kernels::stream_a0(i);
    EXPECT_EQ(kernels::stream_read_expected(n), sum) << n;
  }
  EXPECT_EQ(kernels::stream_bytes(StreamOp::triad, 100, 8), 2400.0) << "STREAM counts 3 arrays for triad";
  EXPECT_EQ(kernels::stream_bytes(StreamOp::copy, 100, 4), 800.0);
  EXPECT_EQ(kernels::stream_bytes(StreamOp::read, 100, 8), 800.0);
}

TEST(StreamCpu, TheTeamRethrowsAWorkersException) {
  kernels::CpuTeam team(3);
  EXPECT_THROW(team.run([](int t) {
    if (t == 2) throw std::runtime_error("planted");
  }),
               std::runtime_error);
  int ran = 0;
  std::mutex m;
  team.run([&](int) {
    std::lock_guard lock(m);
    ++ran;
  });
  EXPECT_EQ(ran, 3) << "the team still works after an exception";
}

// ---- the family through the registry ------------------------------------------------------------

TEST(MemoryFamily, EveryCpuImplementationValidates) {
  const DeviceProbe no_gpu;
  int checked = 0;
  for (const Implementation& impl : implementations()) {
    if (impl.family != "memory" || impl.backend != Backend::cpu) continue;
    for (const std::string& dtype : impl.dtypes) {
      // An odd size: not a whole number of 16-byte vectors or of slices.
      BenchmarkSpec spec{"memory", impl.impl, dtype, Backend::cpu, impl.vendor, {{"bytes", 8 * 100003}}};
      ASSERT_FALSE(impl.unsupported_reason(spec, no_gpu)) << spec.name();
      auto bench = impl.make(spec);
      const Validation v = bench->validate();
      EXPECT_TRUE(v.passed) << spec.name() << ": " << v.message;
      EXPECT_EQ(v.details["tolerance"], 0.0);
      EXPECT_EQ(v.details["wrong_elements"], 0);
      EXPECT_GE(v.details["threads"].get<int>(), 1) << "threads recorded, as GEMM does";
      EXPECT_GT(bench->bytes(), 0);
      bench->run();
      ++checked;
    }
  }
  EXPECT_EQ(checked, 13) << "six kernels in fp32 and fp64, and the reference in fp64";
}

TEST(MemoryFamily, SizesThatAreNotWholeElementsAreRefused) {
  const Implementation* triad = find_implementation("memory", "cpu_triad");
  ASSERT_NE(triad, nullptr);
  BenchmarkSpec spec{"memory", "cpu_triad", "fp64", Backend::cpu, false, {{"bytes", 1001}}};
  auto why = triad->unsupported_reason(spec, DeviceProbe{});
  ASSERT_TRUE(why);
  EXPECT_NE(why->find("not a whole number of fp64 elements"), std::string::npos) << *why;
}

TEST(MemoryFamily, GpuOnlyBenchmarksSayWhyWithoutAGpu) {
  DeviceProbe no_gpu;
  no_gpu.unavailable_reason = "the CUDA driver reports no devices";
  const std::vector<BenchmarkSpec> specs = {
      {"memory", "triad", "fp64", Backend::cuda, false, {{"bytes", 1 << 20}}},
      {"memory", "memcpy", "fp64", Backend::cuda, true, {{"bytes", 1 << 20}}},
      {"host_link", "bidir_pageable", "u8", Backend::cuda, false, {{"bytes", 1 << 20}}},
      {"p2p", "ce", "u8", Backend::cuda, true, {{"src", 0}, {"dst", 1}, {"directions", 1}, {"bytes", 1 << 20}}},
      {"p2p_latency", "chase", "u32", Backend::cuda, false, {{"src", 0}, {"dst", 0}, {"bytes", 1 << 20}}},
      {"launch", "graph", "none", Backend::cuda, false, {{"batch", 10}}}};
  for (const BenchmarkSpec& spec : specs) {
    const Implementation* impl = find_implementation(spec.family, spec.impl);
    ASSERT_NE(impl, nullptr) << spec.name();
    auto why = impl->unsupported_reason(spec, no_gpu);
    ASSERT_TRUE(why) << spec.name();
    EXPECT_NE(why->find("no CUDA device"), std::string::npos) << *why;
  }
}

DeviceProbe fake_gpus(int count) {
  DeviceProbe probe;
  for (int i = 0; i < count; ++i) {
    GpuInfo gpu;
    gpu.index = i;
    gpu.name = "NVIDIA H100 80GB HBM3";
    gpu.memory_bytes = 80LL << 30;
    probe.gpus.push_back(gpu);
  }
  return probe;
}

TEST(P2pFamily, PairsTheProcessCannotSeeAreSkippedWithTheReason) {
  const Implementation* ce = find_implementation("p2p", "ce");
  const Implementation* chase = find_implementation("p2p_latency", "chase");
  ASSERT_TRUE(ce && chase);
  auto pair = [](int src, int dst, int directions = 1) {
    return BenchmarkSpec{"p2p", "ce", "u8", Backend::cuda, true,
                         {{"src", src}, {"dst", dst}, {"directions", directions}, {"bytes", 1 << 26}}};
  };
  auto one = ce->unsupported_reason(pair(0, 1), fake_gpus(1));
  ASSERT_TRUE(one);
  EXPECT_NE(one->find("needs 2 GPUs in one process and this one sees 1"), std::string::npos) << *one;
  auto beyond = ce->unsupported_reason(pair(0, 5), fake_gpus(4));
  ASSERT_TRUE(beyond);
  EXPECT_NE(beyond->find("this process sees 4 (0 to 3)"), std::string::npos) << *beyond;
  auto same = ce->unsupported_reason(pair(2, 2), fake_gpus(4));
  ASSERT_TRUE(same);
  EXPECT_NE(same->find("same GPU"), std::string::npos) << *same;
  EXPECT_TRUE(ce->unsupported_reason(pair(1, 3, 3), fake_gpus(4))) << "directions is 1 or 2";
  EXPECT_FALSE(ce->unsupported_reason(pair(3, 0, 2), fake_gpus(4)));

  // Latency: the diagonal (a GPU's own memory) runs on one GPU; a pair needs both.
  BenchmarkSpec local{"p2p_latency", "chase", "u32", Backend::cuda, false, {{"src", 0}, {"dst", 0}, {"bytes", 1 << 28}}};
  EXPECT_FALSE(chase->unsupported_reason(local, fake_gpus(1)));
  BenchmarkSpec remote{"p2p_latency", "chase", "u32", Backend::cuda, false, {{"src", 0}, {"dst", 1}, {"bytes", 1 << 28}}};
  EXPECT_TRUE(chase->unsupported_reason(remote, fake_gpus(1)));
  EXPECT_FALSE(chase->unsupported_reason(remote, fake_gpus(2)));
}

TEST(P2pFamily, TheChaseIsOneCycleThroughEveryNode) {
  for (uint32_t nodes : {2u, 3u, 1000u, 65536u}) {
    const std::vector<uint32_t> next = kernels::chase_cycle(nodes, 7);
    std::set<uint32_t> seen;
    uint32_t node = 0;
    for (uint32_t i = 0; i < nodes; ++i) {
      EXPECT_TRUE(seen.insert(node).second) << "a node visited twice before the cycle closed";
      node = next[node];
    }
    EXPECT_EQ(node, 0u) << "back at the start after exactly `nodes` hops";
    EXPECT_EQ(seen.size(), nodes);
    EXPECT_EQ(kernels::chase_end(next, nodes), 0u);
    EXPECT_EQ(kernels::chase_end(next, 1), next[0]);
  }
}

// ---- suites, datasheets and the result writer -----------------------------------------------

std::vector<std::string> names_of(const std::vector<BenchmarkSpec>& specs) {
  std::vector<std::string> out;
  for (const auto& s : specs) out.push_back(s.name());
  return out;
}

TEST(MemorySuites, ExpandAsDocumented) {
  const Suite memory = load_suite("memory");
  const auto cpu = names_of(memory.benchmarks(Backend::cpu));
  ASSERT_EQ(cpu.size(), 7u);
  EXPECT_EQ(cpu[0], "memory/stream_reference/fp64/bytes:134217728") << "the reference first";
  const auto cuda = memory.benchmarks(Backend::cuda);
  ASSERT_EQ(cuda.size(), 18u);
  EXPECT_EQ(cuda[0].impl, "memcpy");
  EXPECT_TRUE(cuda[0].vendor);

  const auto p2p = load_suite("p2p").benchmarks(Backend::cuda);
  EXPECT_EQ(p2p.size(), 3u * (56 + 28) + 64) << "3 movers over 56 ordered pairs and 28 pairs both ways, 64 latencies";
  EXPECT_EQ(p2p[0].name(), "p2p/ce/u8/src:0/dst:1/directions:1/bytes:67108864");
  EXPECT_TRUE(load_suite("p2p").benchmarks(Backend::cpu).empty()) << "peer-to-peer is cuda only";
  EXPECT_EQ(load_suite("host_link").benchmarks(Backend::cuda).size(), 12u);
  EXPECT_EQ(load_suite("launch").benchmarks(Backend::cuda).size(), 4u);

  const auto quick = names_of(load_suite("quick").benchmarks(Backend::cpu));
  EXPECT_NE(std::find(quick.begin(), quick.end(), "memory/cpu_triad/fp64/bytes:134217728"), quick.end());
}

TEST(MemorySuites, SizesStartAtOneAndGpuIndicesAtZero) {
  testing::TestDir dir;
  fs::create_directories(dir / "suites");
  std::ofstream(dir / "suites" / "zero.json") << R"({"name": "zero", "version": 1, "groups": [
      {"family": "memory", "dtypes": ["fp64"], "impls": ["cpu_triad"], "shapes": {"cpu": [{"bytes": 0}]}}]})";
  try {
    load_suite_file(dir / "suites" / "zero.json");
    FAIL() << "a size of 0 was accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("expected at least 1"), std::string::npos) << e.what();
  }
  std::ofstream(dir / "suites" / "pair.json") << R"({"name": "pair", "version": 1, "groups": [
      {"family": "p2p", "dtypes": ["u8"], "impls": ["ce"],
       "shapes": {"cuda": [{"src": 0, "dst": 1, "directions": 1, "bytes": 1024}]}}]})";
  EXPECT_EQ(load_suite_file(dir / "suites" / "pair.json").benchmarks(Backend::cuda).at(0).param("src"), 0);
}

TEST(MemoryDatasheets, BandwidthsPerDirection) {
  auto h100 = find_datasheet("NVIDIA H100 80GB HBM3");
  ASSERT_TRUE(h100);
  EXPECT_DOUBLE_EQ(h100->peak_gbps.at("hbm"), 3350.0);
  EXPECT_DOUBLE_EQ(h100->peak_gbps.at("pcie"), 64.0);
  EXPECT_DOUBLE_EQ(h100->peak_gbps.at("nvlink"), 450.0);
  auto h200 = find_datasheet("NVIDIA H200");
  ASSERT_TRUE(h200);
  EXPECT_DOUBLE_EQ(h200->peak_gbps.at("hbm"), 4800.0);
  auto a100 = find_datasheet("NVIDIA A100-SXM4-80GB");
  ASSERT_TRUE(a100);
  EXPECT_FALSE(a100->peak_gbps.count("hbm")) << "one file for four A100 SKUs of different bandwidth";
  auto gb200 = find_datasheet("NVIDIA GB200");
  ASSERT_TRUE(gb200);
  EXPECT_FALSE(gb200->peak_gbps.count("pcie")) << "Grace talks to the GPU over NVLink-C2C";
}

nlohmann::json gbps_entry(const BenchmarkSpec& spec, double gbps) {
  return {{"name", spec.name()}, {"run_name", spec.name()}, {"run_type", "iteration"}, {"repetition_index", 0},
          {"real_time", 1.0}, {"time_unit", "ns"}, {"gbps", gbps}};
}

TEST(MemoryResults, GbpsRowsGetPercentOfPeakAndOfTheVendor) {
  testing::TestDir dir;
  ResultWriter writer(dir / "run.json", nlohmann::json::object(), {{"fp64", 60.0}},
                      {{"hbm", 4000.0}, {"nvlink", 400.0}});
  const BenchmarkSpec memcpy_spec{"memory", "memcpy", "fp64", Backend::cuda, true, {{"bytes", 1 << 30}}};
  const BenchmarkSpec triad_spec{"memory", "triad", "fp64", Backend::cuda, false, {{"bytes", 1 << 30}}};
  const BenchmarkSpec other_size{"memory", "copy", "fp64", Backend::cuda, false, {{"bytes", 1 << 28}}};
  const BenchmarkSpec both_ways{"p2p", "sm_write", "u8", Backend::cuda, false,
                                {{"src", 0}, {"dst", 1}, {"directions", 2}, {"bytes", 1 << 26}}};
  writer.add(memcpy_spec, gbps_entry(memcpy_spec, 3000), "ok", std::nullopt, nullptr, nullptr);
  writer.add(triad_spec, gbps_entry(triad_spec, 2880), "ok", std::nullopt, nullptr, nullptr);
  writer.add(other_size, gbps_entry(other_size, 2000), "ok", std::nullopt, nullptr, nullptr);
  writer.add(both_ways, gbps_entry(both_ways, 600), "ok", std::nullopt, nullptr, nullptr);
  writer.write(true);
  const ResultFile file = load_result_file(dir / "run.json");
  const auto& b = file.benchmarks();
  EXPECT_DOUBLE_EQ(b[0]["pct_of_peak"].get<double>(), 75.0) << "3000 of the 4000 GB/s HBM";
  EXPECT_DOUBLE_EQ(b[1]["pct_of_vendor"].get<double>(), 96.0) << "triad against memcpy on the same bytes";
  EXPECT_DOUBLE_EQ(b[1]["pct_of_peak"].get<double>(), 72.0);
  EXPECT_FALSE(b[2].contains("pct_of_vendor")) << "no memcpy row of that size";
  EXPECT_DOUBLE_EQ(b[3]["pct_of_peak"].get<double>(), 75.0) << "600 of twice 400 GB/s: both directions";
  EXPECT_NE(writer.last_entry_summary().find("600 GB/s"), std::string::npos) << writer.last_entry_summary();
}

// ---- a case that times itself ----------------------------------------------------------------

// Takes 2 ms per run by its own account, whatever the wall clock says, and adds a fact to its row.
class SelfTimed final : public BenchmarkCase {
 public:
  Validation validate() override { return {true, 0, "", {{"max_rel_err", 0.0}, {"tolerance", 0.0}}}; }
  void run() override { ADD_FAILURE() << "a case that times itself is never run() by the sampler"; }
  bool times_itself() const override { return true; }
  double time_runs(int runs, MeasureMode mode) override {
    runs_ += runs;
    modes_.insert(mode);
    return 2e-3;
  }
  double bytes() const override { return 2e6; }
  nlohmann::json row_details() const override { return {{"link", {{"runs", runs_}}}, {"measurement", "not this"}}; }

  int runs_ = 0;
  std::set<MeasureMode> modes_;
};

TEST(SelfTiming, TheCasesOwnClockIsTheMeasurementAndItsFactsJoinTheRow) {
  SelfTimed bench;
  SelfTimedSampler sampler(bench, MeasureMode::cold, ClockWatch(nullptr, std::nullopt));
  MeasureConfig config;
  config.rule = {5, 0.001, 0.5, 1.0};
  const Measurement m = measure(sampler, config);
  EXPECT_DOUBLE_EQ(m.stats.median, 2e-3);
  EXPECT_GE(bench.runs_, 5);
  EXPECT_EQ(bench.modes_, std::set<MeasureMode>{MeasureMode::cold});

  testing::TestDir dir;
  fs::create_directories(dir / "specs" / "suites");
  std::ofstream(dir / "specs" / "suites" / "selftimed.json") << R"({"name": "selftimed", "version": 1,
      "measurement": {"cpu": {"min_samples": 3, "min_time_s": 0.001, "timeout_s": 1}},
      "groups": [{"family": "memory", "dtypes": ["fp64"], "impls": ["planted_self_timed"], "shapes": {"cpu": [{"bytes": 64}]}}]})";
  register_implementation({"memory", "planted_self_timed", Backend::cpu, false, {"fp64"},
                           [](const BenchmarkSpec&, const DeviceProbe&) { return std::optional<std::string>(); },
                           [](const BenchmarkSpec&) { return std::make_unique<SelfTimed>(); }});
  ::setenv("AICBENCH_SPECS", (dir / "specs").c_str(), 1);
  RunOptions options;
  options.suite = "selftimed";
  options.backend = "cpu";
  options.out_dir = dir / "out";
  std::ostringstream out, err;
  const int code = run_benchmarks(options, out, err);
  ::unsetenv("AICBENCH_SPECS");
  ASSERT_EQ(code, 0) << out.str() << err.str();
  const ResultFile file = load_result_file(fs::directory_iterator(dir / "out")->path());
  const auto& row = file.benchmarks().at(0);
  EXPECT_DOUBLE_EQ(row["aicbench"]["measurement"]["median_s"].get<double>(), 2e-3);
  EXPECT_NEAR(row["gbps"].get<double>(), 1.0, 1e-9) << "2 MB in 2 ms";
  EXPECT_GT(row["aicbench"]["link"]["runs"].get<int>(), 0) << "the case's facts are in the row";
  EXPECT_TRUE(row["aicbench"]["measurement"].is_object()) << "never overwriting the harness's own keys";
}

}  // namespace
}  // namespace aicbench
