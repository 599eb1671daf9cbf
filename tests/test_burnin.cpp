// The burn-in (harness/families/burnin.hpp) on the CPU: the interval loop on a scripted clock
// (duration kept, intervals resized as the device's speed changes, at most 600 samples), the
// verdict on scripted intervals and NVML readings (a wrong element named by GPU, interval, row and
// column; hardware throttling and a clock below the floor fail, running at the power cap does
// not), the CPU burn-in failing on a planted bit flip, the runner keeping the burn-in's time series
// on a failed row, and the suite's time budget refused up front and enforced while running.
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "harness/benchmark.hpp"
#include "harness/families/burnin.hpp"
#include "harness/runner.hpp"
#include "harness/time_budget.hpp"
#include "reports/result_file.hpp"
#include "reports/result_rows.hpp"
#include "tests/test_dir.hpp"

namespace aicbench {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

// ---- the loop ----------------------------------------------------------------------------------

// A load on a scripted clock: each GEMM takes `gemm_s(g)` seconds; an asynchronous load's work
// runs back to back from when it is queued, as a GPU's stream does.
class ScriptedLoad final : public burnin::Load {
 public:
  ScriptedLoad(bool async, std::function<double(int64_t)> gemm_s) : async_(async), gemm_s_(std::move(gemm_s)) {}
  bool asynchronous() const override { return async_; }
  void start(int index, int64_t first_gemm, int64_t gemms) override {
    EXPECT_EQ(index, static_cast<int>(queued_.size()));
    queued_.push_back({first_gemm, gemms});
  }
  burnin::Interval finish(int index) override {
    const auto [first, gemms] = queued_.at(static_cast<size_t>(index));
    for (int64_t g = first; g < first + gemms; ++g) device_s_ += gemm_s_(g);
    now_ = device_s_;  // the host learns of the interval when it ends
    burnin::Interval interval;
    interval.first_gemm = first;
    interval.gemms = gemms;
    interval.end_s = device_s_;
    return interval;
  }
  double now() const { return now_; }
  const std::vector<std::pair<int64_t, int64_t>>& queued() const { return queued_; }

 private:
  bool async_;
  std::function<double(int64_t)> gemm_s_;
  std::vector<std::pair<int64_t, int64_t>> queued_;
  double device_s_ = 0, now_ = 0;
};

TEST(BurninLoop, RunsForItsDurationInIntervalsOfASecond) {
  for (bool async : {false, true}) {
    SCOPED_TRACE(async ? "asynchronous" : "synchronous");
    ScriptedLoad load(async, [](int64_t) { return 0.002; });
    const auto intervals = burnin::run(load, 10, 500, [&] { return load.now(); });
    ASSERT_FALSE(intervals.empty());
    EXPECT_GE(intervals.back().end_s, 10 - 1e-9);
    EXPECT_LE(intervals.back().end_s, async ? 12 + 1e-9 : 11 + 1e-9);
    EXPECT_EQ(intervals.size(), load.queued().size());  // nothing queued is left unchecked
    int64_t next = 0;
    for (size_t i = 0; i < intervals.size(); ++i) {
      EXPECT_EQ(intervals[i].first_gemm, next);  // every GEMM in exactly one interval
      next += intervals[i].gemms;
      EXPECT_NEAR(intervals[i].end_s - intervals[i].start_s, 1.0, 1e-6);
    }
  }
}

TEST(BurninLoop, IntervalsFollowTheDevicesSpeed) {
  // Twice as slow from GEMM 2000 on (a throttled GPU). The two intervals queued before the host saw
  // the change last two seconds; every later one is resized to about a second again.
  ScriptedLoad load(true, [](int64_t g) { return g < 2000 ? 0.001 : 0.002; });
  const auto intervals = burnin::run(load, 10, 1000, [&] { return load.now(); });
  ASSERT_GE(intervals.size(), 6u);
  for (size_t i = 0; i < intervals.size(); ++i) {
    const double took = intervals[i].end_s - intervals[i].start_s;
    EXPECT_NEAR(took, i == 2 || i == 3 ? 2.0 : 1.0, 1e-6) << i;
  }
  EXPECT_EQ(intervals.back().gemms, 500);
}

TEST(BurninLoop, LongBurninsKeepAtMost600Samples) {
  EXPECT_DOUBLE_EQ(burnin::interval_seconds(3), 1);
  EXPECT_DOUBLE_EQ(burnin::interval_seconds(600), 1);
  EXPECT_DOUBLE_EQ(burnin::interval_seconds(1800), 3);
  ScriptedLoad load(true, [](int64_t) { return 0.01; });
  const auto intervals = burnin::run(load, 3600, 100, [&] { return load.now(); });
  EXPECT_LE(intervals.size(), 602u);
  EXPECT_GE(intervals.back().end_s, 3600);
}

// ---- the verdict -------------------------------------------------------------------------------

burnin::Device gpu0() {
  burnin::Device d;
  d.description = "GPU 0 (GPU-5f1c0000-aaaa-bbbb-cccc-000000000000, PCI 00000000:19:00.0)";
  d.gpu_index = 0;
  d.gpu_uuid = "GPU-5f1c0000-aaaa-bbbb-cccc-000000000000";
  d.max_sm_clock_mhz = 1980;
  return d;
}

burnin::Settings settings(int seconds = 5) {
  burnin::Settings s;
  s.seconds = seconds;
  s.gemms_per_interval = 700;
  s.flops_per_gemm = 2.0 * 8192.0 * 8192.0 * 8192.0;
  s.rows = 8192;
  s.columns = 8192;
  s.element_bytes = 2;
  s.check = "bitwise";
  s.telemetry = "NVML every 100 ms";
  return s;
}

std::vector<burnin::Interval> clean_intervals(int n) {
  std::vector<burnin::Interval> out;
  for (int i = 0; i < n; ++i) out.push_back({double(i), double(i + 1), 700LL * i, 700, 0, std::nullopt});
  return out;
}

// Readings every 100 ms: busy at 1755 MHz and 690 W at the power cap, warming from 60 °C; the
// first reading is the idle GPU before the load reached it. `edit` changes reading k.
std::vector<TelemetryReading> readings(int seconds, const std::function<void(int, TelemetryReading&)>& edit = nullptr) {
  std::vector<TelemetryReading> out;
  for (int k = 0; k <= 10 * seconds; ++k) {
    TelemetryReading r;
    r.time_s = k / 10.0;
    r.sm_clock_mhz = k == 0 ? 345 : 1755;
    r.power_w = k == 0 ? 70 : 690;
    r.temp_c = 60 + k / 10;
    r.throttle_reasons = k == 0 ? 0x1 : 0x4;  // idle, then sw_power_cap
    if (edit) edit(k, r);
    out.push_back(r);
  }
  return out;
}

TEST(BurninVerdict, AHealthyGpuAtItsPowerCapPasses) {
  const burnin::Verdict v = burnin::evaluate(gpu0(), settings(), clean_intervals(5), readings(5));
  EXPECT_TRUE(v.passed) << v.message();
  const json& b = v.block;
  EXPECT_EQ(b["gpu_index"], 0);
  EXPECT_EQ(b["intervals"], 5);
  EXPECT_EQ(b["mismatched_elements"], 0);
  EXPECT_TRUE(b["first_mismatch"].is_null());
  EXPECT_DOUBLE_EQ(b["clock_floor_mhz"].get<double>(), 1485);
  ASSERT_EQ(b["samples"].size(), 5u);
  const json& first = b["samples"][0];
  EXPECT_DOUBLE_EQ(first["t_s"].get<double>(), 1);
  EXPECT_EQ(first["gemms"], 700);
  EXPECT_NEAR(first["tflops"].get<double>(), 700 * 2.0 * 8192 * 8192 * 8192 / 1e12, 0.01);
  EXPECT_DOUBLE_EQ(first["sm_clock_mhz"].get<double>(), 1755);  // the idle reading left out
  EXPECT_EQ(first["throttle_reasons"], json::array({"sw_power_cap"}));
  EXPECT_DOUBLE_EQ(b["summary"]["min_sm_clock_mhz"].get<double>(), 1755);
  EXPECT_DOUBLE_EQ(b["summary"]["max_temp_c"].get<double>(), 65);
  EXPECT_EQ(b["summary"]["throttle_reasons"]["sw_power_cap"]["intervals"], 5);
  EXPECT_EQ(b["summary"]["throttle_reasons"]["sw_power_cap"]["fails"], false);
  EXPECT_EQ(b["verdict"]["passed"], true);
}

TEST(BurninVerdict, AWrongElementNamesTheGpuTheIntervalAndTheElement) {
  auto intervals = clean_intervals(5);
  intervals[3].mismatched_elements = 1;
  intervals[3].first = burnin::Mismatch{2105, 8192 * 12 + 345, 0x3f81, 0x3f80};
  const burnin::Verdict v = burnin::evaluate(gpu0(), settings(), intervals, readings(5));
  EXPECT_FALSE(v.passed);
  ASSERT_EQ(v.reasons.size(), 1u);
  const std::string& why = v.reasons[0];
  EXPECT_NE(why.find("GPU 0 (GPU-5f1c0000-aaaa-bbbb-cccc-000000000000, PCI 00000000:19:00.0)"), std::string::npos) << why;
  EXPECT_NE(why.find("1 element of C differed"), std::string::npos) << why;
  EXPECT_NE(why.find("in 1 of 5 intervals; first in interval 3 (t = 3.0-4.0 s, GEMMs 2100-2799)"), std::string::npos) << why;
  EXPECT_NE(why.find("GEMM 2105, row 12, column 345, bits 0x3f81 instead of 0x3f80"), std::string::npos) << why;
  const json& m = v.block["first_mismatch"];
  EXPECT_EQ(m["interval"], 3);
  EXPECT_EQ(m["row"], 12);
  EXPECT_EQ(m["column"], 345);
  EXPECT_EQ(m["got"], "0x3f81");
  EXPECT_EQ(v.block["samples"][3]["mismatched_elements"], 1);
  EXPECT_EQ(v.block["verdict"]["passed"], false);
}

TEST(BurninVerdict, HardwareThrottlingFailsPowerCappingDoesNot) {
  // Thermal slowdown from t = 2.5 s, and a power brake once.
  const auto r = readings(5, [](int k, TelemetryReading& reading) {
    if (k >= 25) *reading.throttle_reasons |= 0x40;
    if (k == 41) *reading.throttle_reasons |= 0x80;
  });
  const burnin::Verdict v = burnin::evaluate(gpu0(), settings(), clean_intervals(5), r);
  EXPECT_FALSE(v.passed);
  ASSERT_EQ(v.reasons.size(), 2u) << v.message();
  EXPECT_NE(v.message().find("GPU 0 (GPU-5f1c"), std::string::npos);
  EXPECT_NE(v.message().find("throttled by hw_thermal_slowdown in 3 of 5 intervals (first at t = 3.0 s)"), std::string::npos)
      << v.message();
  EXPECT_NE(v.message().find("throttled by hw_power_brake_slowdown in 1 of 5 intervals"), std::string::npos) << v.message();
  EXPECT_EQ(v.message().find("sw_power_cap"), std::string::npos) << v.message();
  EXPECT_EQ(v.block["summary"]["throttle_reasons"]["hw_thermal_slowdown"]["fails"], true);
  EXPECT_EQ(v.block["summary"]["throttle_reasons"]["sw_power_cap"]["fails"], false);
}

TEST(BurninVerdict, AClockBelowTheFloorFails) {
  const auto r = readings(5, [](int k, TelemetryReading& reading) {
    if (k > 30 && k <= 40) reading.sm_clock_mhz = 1100;  // all of interval 3
  });
  const burnin::Verdict v = burnin::evaluate(gpu0(), settings(), clean_intervals(5), r);
  EXPECT_FALSE(v.passed);
  EXPECT_NE(v.message().find("SM clock fell to 1100 MHz (interval 3, t = 3.0 s), below the floor of 1485 MHz (75 % of its "
                             "maximum 1980 MHz)"),
            std::string::npos)
      << v.message();
  EXPECT_DOUBLE_EQ(v.block["summary"]["min_sm_clock_mhz"].get<double>(), 1100);
  EXPECT_DOUBLE_EQ(v.block["summary"]["min_sm_clock_t_s"].get<double>(), 3);
  // Without a known maximum there is no floor: the same readings pass.
  burnin::Device unknown = gpu0();
  unknown.max_sm_clock_mhz.reset();
  EXPECT_TRUE(burnin::evaluate(unknown, settings(), clean_intervals(5), r).passed);
}

TEST(BurninVerdict, WithoutTelemetryOnlyTheAnswersCount) {
  burnin::Device cpu;
  cpu.description = "the CPU of host ci-01 (2 threads)";
  const burnin::Verdict v = burnin::evaluate(cpu, settings(), clean_intervals(3), {});
  EXPECT_TRUE(v.passed);
  EXPECT_FALSE(v.block["samples"][0].contains("sm_clock_mhz"));
  EXPECT_FALSE(v.block["summary"].contains("min_sm_clock_mhz"));
  EXPECT_FALSE(v.block.contains("gpu_index"));
  EXPECT_FALSE(burnin::evaluate(cpu, settings(), {}, {}).passed);  // nothing ran: not a pass
}

// ---- the CPU burn-in ---------------------------------------------------------------------------

BenchmarkSpec cpu_spec(int64_t seconds) {
  BenchmarkSpec spec;
  spec.family = "burnin";
  spec.impl = "cpu_blocked";
  spec.dtype = "fp32";
  spec.backend = Backend::cpu;
  spec.params = {{"M", 48}, {"N", 40}, {"K", 32}, {"seconds", seconds}};
  return spec;
}

TEST(BurninCpu, PassesOnAHealthyCpu) {
  burnin::plant_fault_for_testing(std::nullopt);
  auto bench = find_implementation("burnin", "cpu_blocked")->make(cpu_spec(1));
  const Validation v = bench->validate();
  EXPECT_TRUE(v.passed) << v.message;
  const json block = bench->row_details()["burnin"];
  EXPECT_EQ(block["mismatched_elements"], 0);
  EXPECT_GE(block["elapsed_s"].get<double>(), 1.0);
  EXPECT_GE(block["samples"].size(), 1u);
  EXPECT_GT(block["summary"]["gemms"].get<int64_t>(), 3);
  EXPECT_NE(block["device"].get<std::string>().find("the CPU of host"), std::string::npos);
  EXPECT_EQ(v.details["burnin_passed"], true);
}

TEST(BurninCpu, APlantedBitFlipFailsNamingTheCpuAndTheInterval) {
  burnin::plant_fault_for_testing(burnin::PlantedFault{5, 40 * 7 + 3, 22});
  auto bench = find_implementation("burnin", "cpu_blocked")->make(cpu_spec(1));
  burnin::plant_fault_for_testing(std::nullopt);
  const Validation v = bench->validate();
  EXPECT_FALSE(v.passed);
  EXPECT_NE(v.message.find("burn-in failed: the CPU of host"), std::string::npos) << v.message;
  EXPECT_NE(v.message.find("1 element of C differed from the first, validated output"), std::string::npos) << v.message;
  EXPECT_NE(v.message.find("first in interval 0"), std::string::npos) << v.message;
  EXPECT_NE(v.message.find("GEMM 5, row 7, column 3"), std::string::npos) << v.message;
  const json block = bench->row_details()["burnin"];
  EXPECT_EQ(block["mismatched_elements"], 1);
  EXPECT_EQ(block["first_mismatch"]["gemm"], 5);
  EXPECT_EQ(block["first_mismatch"]["row"], 7);
  EXPECT_EQ(block["first_mismatch"]["column"], 3);
  // The first output was right: the validation's own error is within its tolerance.
  EXPECT_LE(v.max_rel_err, v.details["tolerance"].get<double>());
}

// ---- through the runner ------------------------------------------------------------------------

// A case whose setup takes longer than any estimate allows for.
class SlowSetup final : public BenchmarkCase {
 public:
  explicit SlowSetup(const BenchmarkSpec&) {}
  Validation validate() override {
    std::this_thread::sleep_for(std::chrono::milliseconds(4000));
    return {true, 0, "", {{"max_rel_err", 0}}};
  }
  void run() override {}
  double flops() const override { return 1e6; }
};

class BurninRun : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    register_implementation({"gemm", "planted_slow_setup", Backend::cpu, false, {"fp32"},
                             [](const BenchmarkSpec&, const DeviceProbe&) { return std::optional<std::string>(); },
                             [](const BenchmarkSpec& s) { return std::make_unique<SlowSetup>(s); }});
  }
  void SetUp() override {
    fs::create_directories(dir_ / "specs" / "suites");
    ::setenv("AICBENCH_SPECS", (dir_ / "specs").c_str(), 1);
  }
  void TearDown() override {
    ::unsetenv("AICBENCH_SPECS");
    burnin::plant_fault_for_testing(std::nullopt);
  }
  void write_suite(const std::string& name, const std::string& body) {
    std::ofstream(dir_ / "specs" / "suites" / (name + ".json")) << R"({"name": ")" << name << R"(", "version": 1, )" << body
                                                               << "}";
  }
  int run(const std::string& suite) {
    RunOptions options;
    options.suite = suite;
    options.backend = "cpu";
    options.out_dir = dir_ / "out";
    return run_benchmarks(options, out_, err_);
  }
  ResultFile only_result_file() const { return load_result_file(fs::directory_iterator(dir_ / "out")->path()); }

  testing::TestDir dir_;
  std::ostringstream out_, err_;
};

constexpr const char* kQuickRule = R"("measurement": {"cpu": {"min_samples": 3, "min_time_s": 0.001, "timeout_s": 0.2}})";

TEST_F(BurninRun, AFailedBurninKeepsItsTimeSeriesAndAcceptReadsIt) {
  write_suite("burn", std::string(kQuickRule) + R"(, "groups": [{"family": "burnin", "dtypes": ["fp32"],
    "impls": ["cpu_blocked"], "shapes": {"cpu": [{"M": 32, "N": 32, "K": 32, "seconds": 1}]}}])");
  burnin::plant_fault_for_testing(burnin::PlantedFault{2, 33, 0});
  EXPECT_EQ(run("burn"), 1) << out_.str() << err_.str();
  const ResultFile result = only_result_file();
  ASSERT_EQ(result.benchmarks().size(), 1u);
  const json& row = result.benchmarks()[0];
  EXPECT_EQ(row["name"], "burnin/cpu_blocked/fp32/M:32/N:32/K:32/seconds:1");
  EXPECT_EQ(row["aicbench"]["status"], "failed");
  EXPECT_NE(row["aicbench"]["reason"].get<std::string>().find("row 1, column 1"), std::string::npos) << row.dump();
  ASSERT_TRUE(row["aicbench"].contains("burnin")) << row.dump();
  EXPECT_EQ(row["aicbench"]["burnin"]["mismatched_elements"], 1);
  const std::vector<ResultRow> rows = result_rows(result, 0);
  ASSERT_TRUE(rows[0].burnin);
  EXPECT_FALSE(rows[0].burnin->passed);
  EXPECT_EQ(rows[0].burnin->mismatched_elements, 1);
}

TEST_F(BurninRun, AHealthyBurninIsMeasuredAfterwards) {
  write_suite("burn", std::string(kQuickRule) + R"(, "groups": [{"family": "burnin", "dtypes": ["fp32"],
    "impls": ["cpu_blocked"], "shapes": {"cpu": [{"M": 32, "N": 32, "K": 32, "seconds": 1}]}}])");
  EXPECT_EQ(run("burn"), 0) << out_.str() << err_.str();
  const ResultFile result = only_result_file();
  const json& row = result.benchmarks()[0];
  EXPECT_EQ(row["aicbench"]["status"], "ok");
  EXPECT_GT(row["tflops"].get<double>(), 0);
  EXPECT_EQ(row["aicbench"]["burnin"]["verdict"]["passed"], true);
}

TEST_F(BurninRun, ASuiteThatCannotFitItsBudgetIsRefusedBeforeAnythingRuns) {
  write_suite("tight", std::string(kQuickRule) + R"(, "time_budget_s": 3, "groups": [{"family": "burnin",
    "dtypes": ["fp32"], "impls": ["cpu_blocked"], "shapes": {"cpu": [{"M": 32, "N": 32, "K": 32, "seconds": 5}]}}])");
  EXPECT_EQ(run("tight"), 2);
  const std::string message = err_.str();
  EXPECT_NE(message.find("suite 'tight' cannot run within its time budget of 3 s"), std::string::npos) << message;
  EXPECT_NE(message.find("burnin/cpu_blocked/fp32/M:32/N:32/K:32/seconds:5 up to 6.4 s"), std::string::npos) << message;
  EXPECT_FALSE(fs::exists(dir_ / "out") && !fs::is_empty(dir_ / "out"));  // no file written
}

TEST_F(BurninRun, BenchmarksNotBegunWithinTheBudgetAreRecordedAsNotRun) {
  // Estimated 1.4 s each (1 s setup, 0.2 s warm-up, 0.2 s sampling): 4.2 s fit in 6 s, but the
  // two slow cases' setups take 4 s each, and the third benchmark would begin after 8 s.
  // Hot mode: no cache flush before each sample, whose time the stopping rule does not bound.
  write_suite("over", R"("measurement": {"modes": ["hot"], "cpu": {"min_samples": 3, "min_time_s": 0.001, "timeout_s": 0.2}},
    "time_budget_s": 6, "groups": [{"family": "gemm",
    "dtypes": ["fp32"], "impls": ["planted_slow_setup"], "shapes": {"cpu": [{"M": 32, "N": 32, "K": 32}, {"M": 16, "N": 16, "K": 16}]}},
    {"family": "gemm", "dtypes": ["fp32"], "impls": ["cpu_blocked"], "shapes": {"cpu": [{"M": 32, "N": 32, "K": 32}]}}])");
  EXPECT_EQ(run("over"), 1) << out_.str() << err_.str();
  EXPECT_NE(err_.str().find("time budget of 6 s was spent"), std::string::npos) << err_.str();
  const ResultFile result = only_result_file();
  const json& budget = result.provenance()["time_budget"];
  EXPECT_EQ(budget["budget_s"], 6);
  EXPECT_NEAR(budget["estimate_s"].get<double>(), 4.2, 1e-9);
  EXPECT_EQ(budget["stopped"], true);
  EXPECT_TRUE(result.provenance()["complete"].get<bool>());
  const json& b = result.benchmarks();
  ASSERT_EQ(b.size(), 3u);
  EXPECT_EQ(b[0]["aicbench"]["status"], "ok");
  EXPECT_EQ(b[1]["aicbench"]["status"], "ok") << out_.str() << err_.str() << b[0].dump();
  EXPECT_EQ(b[2]["name"], "gemm/cpu_blocked/fp32/M:32/N:32/K:32/mode:hot");
  EXPECT_EQ(b[2]["aicbench"]["status"], "skipped");
  EXPECT_NE(b[2]["aicbench"]["reason"].get<std::string>().find("not run: the suite's time budget of 6 s was spent"),
            std::string::npos)
      << b[2].dump();
}

TEST_F(BurninRun, ACollectiveNotBegunWithinTheBudgetIsRecordedAsNotRun) {
  // As above, with a collective last: collectives run after the others, on every rank together,
  // and world rank 0's clock decides for them all.
  write_suite("over_coll", R"("measurement": {"modes": ["hot"], "cpu": {"min_samples": 3, "min_time_s": 0.001, "timeout_s": 0.2}},
    "time_budget_s": 6, "groups": [{"family": "gemm",
    "dtypes": ["fp32"], "impls": ["planted_slow_setup"], "shapes": {"cpu": [{"M": 32, "N": 32, "K": 32}, {"M": 16, "N": 16, "K": 16}]}},
    {"family": "all_reduce", "dtypes": ["fp32"], "impls": ["ring"], "shapes": {"cpu": [{"bytes": 4096, "in_place": 0}]}}])");
  EXPECT_EQ(run("over_coll"), 1) << out_.str() << err_.str();
  EXPECT_NE(err_.str().find("time budget of 6 s was spent"), std::string::npos) << err_.str();
  const ResultFile result = only_result_file();
  EXPECT_EQ(result.provenance()["time_budget"]["stopped"], true);
  const json& b = result.benchmarks();
  ASSERT_EQ(b.size(), 3u);
  EXPECT_EQ(b[2]["aicbench"]["family"], "all_reduce");
  EXPECT_EQ(b[2]["aicbench"]["status"], "skipped");
  EXPECT_NE(b[2]["aicbench"]["reason"].get<std::string>().find("not run: the suite's time budget of 6 s was spent"),
            std::string::npos)
      << b[2].dump();
}

TEST(TimeBudget, EstimatesFromTheStoppingRule) {
  MeasureConfig config;
  config.rule.timeout_s = 10;
  BenchmarkSpec gemm{"gemm", "cpu_blocked", "fp32", Backend::cpu, false, {{"M", 8}, {"N", 8}, {"K", 8}}, MeasureMode::cold};
  EXPECT_DOUBLE_EQ(estimated_seconds(gemm, config, 1), 1 + 2 + 10);
  EXPECT_DOUBLE_EQ(estimated_seconds(gemm, config, 3), 1 + 3 * 12);
  BenchmarkSpec burn{"burnin", "cpu_blocked", "fp32", Backend::cpu, false, {{"M", 8}, {"N", 8}, {"K", 8}, {"seconds", 180}},
                     MeasureMode::cold};
  EXPECT_DOUBLE_EQ(estimated_seconds(burn, config, 1), 1 + 180 + 12);
  config.rule.timeout_s = 1;  // the warm-up never outlasts the timeout
  EXPECT_DOUBLE_EQ(estimated_seconds(gemm, config, 1), 1 + 1 + 1);
  EXPECT_EQ(plan_time_budget("s", 6, {gemm, gemm}, config, 1).estimate_s, 6);
  EXPECT_THROW(plan_time_budget("s", 5.9, {gemm, gemm}, config, 1), InputError);
  EXPECT_EQ(budget_spent_reason(600, 612.44),
            "not run: the suite's time budget of 600 s was spent (612.4 s since the run began) before it started");
}

}  // namespace
}  // namespace aicbench
