// The run path with planted faults: a kernel that computes a wrong answer is reported as failed
// with its error and the tolerance, never as a number; one that throws is an error entry; the
// good benchmarks around them still run, and the exit code says a check failed.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "harness/benchmark.hpp"
#include "harness/runner.hpp"
#include "harness/validation.hpp"
#include "kernels/gemm/gemm_cpu.hpp"
#include "reports/result_file.hpp"
#include "tests/test_dir.hpp"

namespace aicbench {
namespace {

namespace fs = std::filesystem;

// Computes the right product, then damages one element by 5 % of its scale (or does nothing).
class WrongGemm final : public BenchmarkCase {
 public:
  explicit WrongGemm(const BenchmarkSpec& s)
      : M_(s.param("M")), N_(s.param("N")), K_(s.param("K")), A_(M_ * K_), B_(K_ * N_), C_(M_ * N_) {
    fill_uniform(A_, 1);
    fill_uniform(B_, 2);
  }
  Validation validate() override {
    run();
    GemmCheck c = check_gemm(A_, B_, C_, M_, N_, K_, gemm_tolerance(K_, 0x1.0p-24, 0x1.0p-24));
    return {c.passed, c.max_rel_err, c.message, {{"max_rel_err", c.max_rel_err}, {"tolerance", c.tolerance}}};
  }
  void run() override {
    kernels::gemm_cpu_blocked_fp32(A_.data(), B_.data(), C_.data(), M_, N_, K_, 1);
    C_[(M_ / 2) * N_ + N_ / 3] += 0.05f * std::sqrt(float(K_) / 3);
  }
  double flops() const override { return 2.0 * M_ * N_ * K_; }

 private:
  int64_t M_, N_, K_;
  std::vector<float> A_, B_, C_;
};

// A correct GEMM that measures fine once; from the second repetition on (the runner asks for
// flops() after each measured repetition) every run throws, as a kernel that starts failing
// part-way through a run would.
class FailsAfterFirstRepetition final : public BenchmarkCase {
 public:
  explicit FailsAfterFirstRepetition(const BenchmarkSpec&) : A_(32 * 32), B_(32 * 32), C_(32 * 32) {
    fill_uniform(A_, 1);
    fill_uniform(B_, 2);
  }
  Validation validate() override {
    run();
    GemmCheck c = check_gemm(A_, B_, C_, 32, 32, 32, gemm_tolerance(32, 0x1.0p-24, 0x1.0p-24));
    return {c.passed, c.max_rel_err, c.message, {{"max_rel_err", c.max_rel_err}}};
  }
  void run() override {
    if (measured_once_) throw std::runtime_error("planted failure in repetition 2");
    kernels::gemm_cpu_blocked_fp32(A_.data(), B_.data(), C_.data(), 32, 32, 32, 1);
  }
  double flops() const override {
    measured_once_ = true;
    return 2.0 * 32 * 32 * 32;
  }

 private:
  std::vector<float> A_, B_, C_;
  mutable bool measured_once_ = false;
};

class Runner : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto supported = [](const BenchmarkSpec&, const DeviceProbe&) { return std::optional<std::string>(); };
    register_implementation({"gemm", "planted_wrong", Backend::cpu, false, {"fp32"}, supported,
                             [](const BenchmarkSpec& s) { return std::make_unique<WrongGemm>(s); }});
    register_implementation({"gemm", "planted_throw", Backend::cpu, false, {"fp32"}, supported,
                             [](const BenchmarkSpec&) -> std::unique_ptr<BenchmarkCase> {
                               throw std::runtime_error("out of planted memory");
                             }});
    register_implementation({"gemm", "planted_flaky", Backend::cpu, false, {"fp32"}, supported,
                             [](const BenchmarkSpec& s) {
                               return std::make_unique<FailsAfterFirstRepetition>(s);
                             }});
    // As a CUDA kernel that traps leaves the context: nothing after it can run in this process.
    register_implementation({"gemm", "planted_lost", Backend::cpu, false, {"fp32"}, supported,
                             [](const BenchmarkSpec&) -> std::unique_ptr<BenchmarkCase> {
                               throw BackendLost("planted sticky error");
                             }});
  }
  void SetUp() override {
    fs::create_directories(dir_ / "specs" / "suites");
    std::ofstream(dir_ / "specs" / "suites" / "planted.json") << R"({
      "name": "planted", "version": 3, "measurement": {"cpu": {"min_samples": 3, "min_time_s": 0.001, "timeout_s": 1}},
      "groups": [{"family": "gemm", "dtypes": ["fp32"],
                  "impls": ["cpu_blocked", "planted_wrong", "planted_throw"],
                  "shapes": {"cpu": [{"M": 64, "N": 48, "K": 96}]}}]})";
    ::setenv("AICBENCH_SPECS", (dir_ / "specs").c_str(), 1);
  }
  void TearDown() override { ::unsetenv("AICBENCH_SPECS"); }

  // Runs `suite` on the CPU backend into dir_/out; returns the exit code.
  int run_suite(const std::string& suite, int repetitions = 1) {
    RunOptions options;
    options.suite = suite;
    options.backend = "cpu";
    options.out_dir = dir_ / "out";
    options.repetitions = repetitions;
    return run_benchmarks(options, out_, err_);
  }
  ResultFile only_result_file() const {
    return load_result_file(fs::directory_iterator(dir_ / "out")->path());
  }

  testing::TestDir dir_;
  std::ostringstream out_, err_;
};

TEST_F(Runner, WrongKernelIsReportedAsFailedNeverAsFast) {
  EXPECT_EQ(run_suite("planted"), 1) << out_.str() << err_.str();

  ResultFile result = only_result_file();
  EXPECT_TRUE(result.provenance()["complete"].get<bool>());
  EXPECT_EQ(result.provenance()["suite_version"], 3);
  const auto& b = result.benchmarks();
  ASSERT_EQ(b.size(), 3u);

  EXPECT_EQ(b[0]["name"], "gemm/cpu_blocked/fp32/M:64/N:48/K:96");
  EXPECT_EQ(b[0]["aicbench"]["status"], "ok");
  EXPECT_GT(b[0]["tflops"].get<double>(), 0);

  EXPECT_EQ(b[1]["aicbench"]["status"], "failed");
  EXPECT_TRUE(b[1]["error_occurred"].get<bool>());
  const std::string message = b[1]["error_message"];
  EXPECT_NE(message.find("tolerance"), std::string::npos) << message;
  EXPECT_GT(b[1]["aicbench"]["validation"]["max_rel_err"].get<double>(),
            b[1]["aicbench"]["validation"]["tolerance"].get<double>());
  EXPECT_FALSE(b[1].contains("tflops"));
  EXPECT_FALSE(b[1].contains("pct_of_vendor"));

  EXPECT_EQ(b[2]["aicbench"]["status"], "error");
  EXPECT_NE(b[2]["error_message"].get<std::string>().find("out of planted memory"), std::string::npos);
  EXPECT_NE(out_.str().find("1 valid, 1 failed validation, 1 errors"), std::string::npos) << out_.str();
}

TEST_F(Runner, LostBackendStopsTheRunAndSaysWhyTheRestDidNotRun) {
  std::ofstream(dir_ / "specs" / "suites" / "lost.json") << R"({
    "name": "lost", "version": 1, "measurement": {"cpu": {"min_samples": 3, "min_time_s": 0.001, "timeout_s": 1}},
    "groups": [{"family": "gemm", "dtypes": ["fp32"], "impls": ["cpu_blocked", "planted_lost"],
                "shapes": {"cpu": [{"M": 32, "N": 32, "K": 32}, {"M": 48, "N": 16, "K": 8}]}}]})";
  EXPECT_EQ(run_suite("lost"), 1) << out_.str() << err_.str();

  ResultFile result = only_result_file();
  EXPECT_TRUE(result.provenance()["complete"].get<bool>());
  const auto& b = result.benchmarks();
  ASSERT_EQ(b.size(), 4u);
  // Benchmarks run shape by shape: cpu_blocked, planted_lost, then the second shape's two.
  EXPECT_EQ(b[0]["aicbench"]["status"], "ok");
  EXPECT_EQ(b[1]["name"], "gemm/planted_lost/fp32/M:32/N:32/K:32");
  EXPECT_EQ(b[1]["aicbench"]["status"], "error");
  EXPECT_NE(b[1]["error_message"].get<std::string>().find("planted sticky error"), std::string::npos);
  for (size_t i = 2; i < 4; ++i) {
    EXPECT_EQ(b[i]["aicbench"]["status"], "error") << b[i]["name"];
    const std::string message = b[i]["error_message"];
    EXPECT_EQ(message.rfind("not run: ", 0), 0u) << message;
    EXPECT_NE(message.find("after gemm/planted_lost/fp32/M:32/N:32/K:32 failed"), std::string::npos)
        << message;
    EXPECT_FALSE(b[i].contains("tflops"));
  }
  EXPECT_NE(err_.str().find("backend was lost for this process"), std::string::npos) << err_.str();
}

TEST_F(Runner, EachRepetitionKeepsItsOwnStatus) {
  std::ofstream(dir_ / "specs" / "suites" / "flaky.json") << R"({
    "name": "flaky", "version": 1, "measurement": {"cpu": {"min_samples": 3, "min_time_s": 0.001, "timeout_s": 1}},
    "groups": [{"family": "gemm", "dtypes": ["fp32"], "impls": ["planted_flaky"],
                "shapes": {"cpu": [{"M": 32, "N": 32, "K": 32}]}}]})";
  EXPECT_EQ(run_suite("flaky", /*repetitions=*/2), 1) << out_.str() << err_.str();

  const ResultFile result = only_result_file();
  std::vector<nlohmann::json> rows;  // the two repetitions, without Google Benchmark's aggregates
  for (const auto& b : result.benchmarks()) {
    if (b.value("run_type", "") != "aggregate") rows.push_back(b);
  }
  ASSERT_EQ(rows.size(), 2u);
  // The first repetition was measured before the second failed: it stays a valid number.
  EXPECT_EQ(rows[0]["aicbench"]["status"], "ok");
  EXPECT_GT(rows[0]["tflops"].get<double>(), 0);
  EXPECT_TRUE(rows[0]["aicbench"].contains("measurement"));
  EXPECT_EQ(rows[1]["aicbench"]["status"], "error");
  EXPECT_NE(rows[1]["error_message"].get<std::string>().find("planted failure in repetition 2"),
            std::string::npos);
  EXPECT_FALSE(rows[1].contains("tflops"));
  EXPECT_FALSE(rows[1]["aicbench"].contains("measurement"));
}

}  // namespace
}  // namespace aicbench
