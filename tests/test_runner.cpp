// The run path with planted faults: a kernel that computes a wrong answer is reported as failed
// with its error and the tolerance, never as a number; one that throws is an error entry; the
// good benchmarks around them still run, and the exit code says a check failed.
// Also: rows as Google Benchmark writes them, result files that never collide or escape --out,
// option bounds and the RE2 filter, and the backend choice on machines with broken GPUs.
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "harness/benchmark.hpp"
#include "harness/result_writer.hpp"
#include "harness/runner.hpp"
#include "harness/specs.hpp"
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

// A correct kernel whose first repetition is very noisy: every fourth run of it sleeps 100 ms
// and the others return at once (relative noise about 2), while the later repetitions spin for
// 5 ms each. The runner asks for flops() only after a repetition was measured.
class NoisyFirstRepetition final : public BenchmarkCase {
 public:
  explicit NoisyFirstRepetition(const BenchmarkSpec&) {}
  Validation validate() override { return {true, 0, "", {{"max_rel_err", 0}}}; }
  void run() override {
    if (!measured_once_) {
      if (++runs_ % 4 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(100));
      return;
    }
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(5);
    while (std::chrono::steady_clock::now() < until) {
    }
  }
  double flops() const override {
    measured_once_ = true;
    return 1e6;
  }

 private:
  mutable bool measured_once_ = false;
  int runs_ = 0;
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
    register_implementation({"gemm", "planted_noisy", Backend::cpu, false, {"fp32"}, supported,
                             [](const BenchmarkSpec& s) { return std::make_unique<NoisyFirstRepetition>(s); }});
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

  // Writes specs/suites/<name>.json: one group of `impls` at one fp32 shape on the cpu backend.
  void write_suite(const std::string& name, const std::string& impls, const std::string& shape,
                   const std::string& cpu_rule = R"("min_samples": 3, "min_time_s": 0.001, "timeout_s": 1)") {
    std::ofstream(dir_ / "specs" / "suites" / (name + ".json"))
        << R"({"name": ")" << name << R"(", "version": 1, "measurement": {"cpu": {)" << cpu_rule
        << R"(}}, "groups": [{"family": "gemm", "dtypes": ["fp32"], "impls": [)" << impls
        << R"(], "shapes": {"cpu": [)" << shape << "]}}]}";
  }
  RunOptions options_for(const std::string& suite, int repetitions = 1) const {
    RunOptions options;
    options.suite = suite;
    options.backend = "cpu";
    options.out_dir = dir_ / "out";
    options.repetitions = repetitions;
    return options;
  }
  // Runs `suite` on the CPU backend into dir_/out; returns the exit code.
  int run_suite(const std::string& suite, int repetitions = 1) {
    return run_benchmarks(options_for(suite, repetitions), out_, err_);
  }
  ResultFile only_result_file() const {
    return load_result_file(fs::directory_iterator(dir_ / "out")->path());
  }
  std::vector<fs::path> result_files() const {
    std::vector<fs::path> files;
    if (fs::exists(dir_ / "out")) {
      for (const auto& entry : fs::directory_iterator(dir_ / "out")) files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    return files;
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

// ==== Rows as Google Benchmark writes them

TEST_F(Runner, RepetitionsAndAggregatesAreNamedAsGoogleBenchmarkNamesThem) {
  write_suite("repeat", R"("cpu_blocked")", R"({"M": 32, "N": 32, "K": 32})");
  ASSERT_EQ(run_suite("repeat", /*repetitions=*/3), 0) << out_.str() << err_.str();

  const ResultFile result = only_result_file();
  EXPECT_EQ(result.provenance()["methodology"]["repetitions"], 3);
  const std::string name = "gemm/cpu_blocked/fp32/M:32/N:32/K:32";
  std::vector<nlohmann::json> repetitions;
  std::map<std::string, nlohmann::json> aggregates;
  for (const auto& b : result.benchmarks()) {
    EXPECT_EQ(b["run_name"], name);
    EXPECT_EQ(b["time_unit"], "ns") << "Google Benchmark's default unit keeps compare.py's digits";
    EXPECT_EQ(b["cpu_time"], b["real_time"]) << "cpu_time repeats the measured time: " << b.dump();
    if (b["run_type"] == "iteration") {
      EXPECT_EQ(b["name"], name);
      repetitions.push_back(b);
    } else {
      ASSERT_EQ(b["run_type"], "aggregate");
      EXPECT_FALSE(b.contains("repetition_index")) << "as Google Benchmark writes an aggregate";
      const std::string aggregate = b["aggregate_name"];
      EXPECT_EQ(b["name"], name + "_" + aggregate);
      EXPECT_EQ(b["aggregate_unit"], aggregate == "cv" ? "percentage" : "time");
      aggregates[aggregate] = b;
    }
  }
  ASSERT_EQ(repetitions.size(), 3u);
  ASSERT_EQ(aggregates.size(), 4u);
  for (const char* aggregate : {"mean", "median", "stddev", "cv"}) EXPECT_TRUE(aggregates.count(aggregate)) << aggregate;

  // The median row is the median of the repetitions' medians, in nanoseconds.
  std::vector<double> medians_ns;
  int64_t samples = 0;
  for (const auto& rep : repetitions) {
    const auto& m = rep["aicbench"]["measurement"];
    EXPECT_NEAR(rep["real_time"].get<double>(), 1e9 * m["median_s"].get<double>(), 1e-6 * rep["real_time"].get<double>());
    medians_ns.push_back(rep["real_time"]);
    samples += m["samples"].get<int64_t>();
  }
  std::sort(medians_ns.begin(), medians_ns.end());
  EXPECT_DOUBLE_EQ(aggregates["median"]["real_time"].get<double>(), medians_ns[1]);
  EXPECT_LT(aggregates["cv"]["real_time"].get<double>(), 10) << "a ratio, not a time";

  // Every aggregate says what it stands on.
  for (const auto& [aggregate, row] : aggregates) {
    const auto& summary = row["aicbench"]["repetitions"];
    EXPECT_EQ(summary["count"], 3) << aggregate;
    EXPECT_EQ(summary["measured"], 3) << aggregate;
    EXPECT_EQ(summary["samples"], samples) << aggregate;
    EXPECT_TRUE(summary.contains("max_rel_stddev")) << aggregate;
    EXPECT_FALSE(row.contains("pct_of_peak")) << "no datasheet for a CPU";
  }
}

TEST_F(Runner, AggregateIsUnstableWhenAnyRepetitionWas) {
  // A noise target of 100 %: only the noisy repetition misses it.
  write_suite("noisy", R"("planted_noisy")", R"({"M": 8, "N": 8, "K": 8})",
              R"("min_samples": 10, "min_time_s": 0.001, "max_noise": 1.0, "timeout_s": 2)");
  ASSERT_EQ(run_suite("noisy", /*repetitions=*/3), 0) << out_.str() << err_.str();

  int unstable = 0;
  int64_t samples = 0;
  std::vector<nlohmann::json> aggregates;
  const ResultFile result = only_result_file();
  for (const auto& b : result.benchmarks()) {
    if (b["run_type"] == "aggregate") {
      aggregates.push_back(b);
      continue;
    }
    const auto& m = b["aicbench"]["measurement"];
    EXPECT_EQ(b["aicbench"]["unstable"], m["unstable"]);
    unstable += m["unstable"].get<bool>();
    samples += m["samples"].get<int64_t>();
    if (b["repetition_index"] == 0) {
      EXPECT_TRUE(m["unstable"].get<bool>()) << "the planted noise: " << m.dump();
    }
  }
  ASSERT_GE(unstable, 1) << out_.str();
  ASSERT_EQ(aggregates.size(), 4u);
  for (const auto& b : aggregates) {
    EXPECT_TRUE(b["aicbench"]["unstable"].get<bool>()) << b["name"] << ": one unstable repetition makes it unstable";
    EXPECT_EQ(b["aicbench"]["repetitions"]["unstable"], unstable) << b["name"];
    EXPECT_EQ(b["aicbench"]["repetitions"]["samples"], samples) << b["name"];
  }
  EXPECT_NE(out_.str().find("[median of 3 repetitions]"), std::string::npos) << out_.str();
}

// Derived counters are ratios of a throughput: on a measurement and on the mean or median of
// repetitions, never on their spread.
TEST_F(Runner, PercentOfPeakOnlyOnThroughputRows) {
  BenchmarkSpec spec{"gemm", "simt", "fp32", Backend::cuda, false, {{"M", 64}, {"N", 64}, {"K", 64}}, MeasureMode::cold};
  ResultWriter writer(reserve_result_file(dir_ / "out", "peaks"), nlohmann::json::object(), {{"fp32", 20.0}});
  auto row = [&](const char* run_type, const char* aggregate) {
    nlohmann::json entry = {{"run_type", run_type}, {"tflops", 10.0}, {"real_time", 1.0}, {"time_unit", "ns"}};
    if (aggregate) entry["aggregate_name"] = aggregate;
    writer.add(spec, entry, kStatusOk, std::nullopt, nullptr, nullptr);
  };
  row("iteration", nullptr);
  for (const char* aggregate : {"mean", "median", "stddev", "cv"}) row("aggregate", aggregate);
  writer.write(true);
  const nlohmann::json file = nlohmann::json::parse(std::ifstream(writer.path()));
  std::set<std::string> with_peak;
  for (const auto& b : file["benchmarks"]) {
    if (b.contains("pct_of_peak")) with_peak.insert(b.value("aggregate_name", "iteration"));
  }
  EXPECT_EQ(with_peak, (std::set<std::string>{"iteration", "mean", "median"}));
}

TEST_F(Runner, CpuRunRecordsNoThrottleThreshold) {
  write_suite("one", R"("cpu_blocked")", R"({"M": 16, "N": 16, "K": 16})");
  RunOptions options = options_for("one");
  options.throttle_threshold = 0.9;  // a GPU setting: no SM clock to compare on the CPU
  ASSERT_EQ(run_benchmarks(options, out_, err_), 0) << out_.str() << err_.str();
  const ResultFile result = only_result_file();
  const auto& methodology = result.provenance()["methodology"];
  EXPECT_TRUE(methodology["throttle_threshold"].is_null()) << methodology.dump();
  EXPECT_NE(methodology["throttle_guard"].get<std::string>().find("not applicable"), std::string::npos);
}

// ==== Result files: never lost, never clobbered, never outside --out

TEST_F(Runner, ResultFileNamePartsCannotLeaveTheDirectory) {
  ResultFileName name;
  name.suite = "../../etc/passwd";
  name.backend = "cpu";
  name.host = ".hidden/host\nname";
  name.utc_time = "20260101T000000Z";
  name.rank = 3;
  name.gpu = 1;
  name.pid = 4242;
  const std::string stem = name.stem();
  EXPECT_EQ(stem, "aicbench-_._.._etc_passwd-cpu-_hidden_host_name-20260101T000000Z-rank3-gpu1-pid4242");
  EXPECT_EQ(stem.find('/'), std::string::npos);

  name.suite = std::string(5000, 's');
  name.host = std::string(5000, 'h');
  EXPECT_LT(name.stem().size(), 255u - 10) << "room for a numbered variant and .json";
}

TEST_F(Runner, ReservingANameNeverOpensAnExistingFile) {
  fs::create_directories(dir_ / "out");
  std::ofstream(dir_ / "out" / "taken.json") << "precious";
  const fs::path first = reserve_result_file(dir_ / "out", "taken");
  const fs::path second = reserve_result_file(dir_ / "out", "taken");
  EXPECT_EQ(first, dir_ / "out" / "taken-2.json");
  EXPECT_EQ(second, dir_ / "out" / "taken-3.json");
  std::ifstream in(dir_ / "out" / "taken.json");
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), "precious");
  EXPECT_EQ(reserve_result_file(dir_ / "new" / "deeper", "x"), dir_ / "new" / "deeper" / "x.json");

  std::ofstream(dir_ / "a-file") << "not a directory";
  try {
    reserve_result_file(dir_ / "a-file", "x");
    ADD_FAILURE() << "a file as the output directory";
  } catch (const InputError& e) {
    EXPECT_EQ(e.exit_code(), 2);
    EXPECT_NE(std::string(e.what()).find("a-file"), std::string::npos) << e.what();
  }
}

TEST_F(Runner, RunsOfOneProcessInOneSecondKeepEveryFile) {
  write_suite("one", R"("cpu_blocked")", R"({"M": 16, "N": 16, "K": 16})");
  // Same process, same rank, same second: the names collide unless a taken name is skipped.
  for (int i = 0; i < 3; ++i) ASSERT_EQ(run_suite("one"), 0) << out_.str() << err_.str();
  const std::vector<fs::path> files = result_files();
  ASSERT_EQ(files.size(), 3u);
  for (const fs::path& file : files) {
    EXPECT_TRUE(load_result_file(file).provenance()["complete"].get<bool>()) << file;
    EXPECT_NE(file.filename().string().find("-rank0-pid"), std::string::npos) << file;
  }
}

TEST_F(Runner, SuiteNamesArePlainNames) {
  for (const std::string& name : {std::string("../../x"), std::string("/etc/passwd"), std::string(".hidden"),
                                  std::string(""), std::string("a b"), std::string(5000, 'q')}) {
    RunOptions options = options_for(name);
    EXPECT_EQ(run_benchmarks(options, out_, err_), 2) << name.substr(0, 40);
  }
  const std::string errors = err_.str();
  // A name with a '/' is a path to a suite file of one's own: here, one that is not there.
  EXPECT_NE(errors.find("no suite file '../../x'"), std::string::npos) << errors;
  EXPECT_NE(errors.find("unknown suite 'a b'"), std::string::npos) << errors;
  EXPECT_LT(errors.size(), 6 * 400u) << "a long name is cut in the message: " << errors;
  EXPECT_TRUE(result_files().empty());
}

// ==== Option bounds and the filter

// Expects `options` to be refused with exit 2 and a message that contains `expected`.
void expect_refused(const RunOptions& options, const std::string& expected) {
  try {
    check_run_options(options);
    ADD_FAILURE() << "accepted; expected a message with: " << expected;
  } catch (const InputError& e) {
    EXPECT_EQ(e.exit_code(), 2) << e.what();
    EXPECT_NE(std::string(e.what()).find(expected), std::string::npos) << e.what();
  }
}

TEST_F(Runner, OptionsOutsideTheirBoundsAreRefused) {
  const double inf = std::numeric_limits<double>::infinity(), nan = std::nan("");
  auto with = [&](auto change) {
    RunOptions options = options_for("quick");
    change(options);
    return options;
  };
  EXPECT_NO_THROW(check_run_options(with([](RunOptions& o) { o.repetitions = kMaxRepetitions; })));
  expect_refused(with([](RunOptions& o) { o.repetitions = kMaxRepetitions + 1; }), "--repetitions must be between 1 and 1000, got 1001");
  expect_refused(with([](RunOptions& o) { o.repetitions = 1000000000; }), "--repetitions");
  expect_refused(with([](RunOptions& o) { o.repetitions = 0; }), "--repetitions");
  expect_refused(with([](RunOptions& o) { o.min_samples = 0; }), "--min-samples");
  expect_refused(with([](RunOptions& o) { o.min_samples = kMaxMinSamples + 1; }), "--min-samples");
  for (double bad : {inf, -inf, nan, 0.0, -1.0, 1e300}) {
    expect_refused(with([&](RunOptions& o) { o.min_time_s = bad; }), "--min-time must be a number of seconds");
    expect_refused(with([&](RunOptions& o) { o.timeout_s = bad; }), "--timeout must be a number of seconds");
  }
  expect_refused(with([&](RunOptions& o) { o.min_time_s = inf; }), "got inf");
  expect_refused(with([&](RunOptions& o) { o.max_noise = nan; }), "--max-noise");
  expect_refused(with([&](RunOptions& o) { o.max_noise = 2; }), "--max-noise must be a percentage above 0 and at most 100, got 200");
  expect_refused(with([&](RunOptions& o) { o.throttle_threshold = nan; }), "--throttle-threshold");
  expect_refused(with([&](RunOptions& o) { o.rank = 2; o.ranks = 2; }), "rank 2 of 2");
  EXPECT_NO_THROW(check_run_options(with([](RunOptions& o) {
    o.min_samples = kMaxMinSamples;
    o.min_time_s = kMaxOptionSeconds;
    o.timeout_s = 0.001;
    o.max_noise = 1;
    o.throttle_threshold = 0;
  })));
}

TEST_F(Runner, FilterIsRe2AndBoundedOnAnyPattern) {
  auto filtered = [&](const std::string& pattern) {
    RunOptions options = options_for("planted");
    options.filter = pattern;
    return options;
  };
  expect_refused(filtered("("), "--filter '(' is not a valid RE2 regular expression: missing ): (");
  expect_refused(filtered("a{1001}"), "invalid repetition size");
  expect_refused(filtered(std::string(1 << 20, '(')), "missing ): ((((");
  // RE2 refuses what would take more than its memory bound, by name, instead of growing.
  expect_refused(filtered(std::string(1 << 20, 'a')), "pattern too large");
  expect_refused(filtered(std::string(1 << 20, 'a')), "(1048576 characters)");

  // Catastrophic for a backtracking engine; linear for RE2. Nothing matches: exit 2, at once.
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(run_benchmarks(filtered("((((.*)*)*)*)*Z"), out_, err_), 2);
  EXPECT_EQ(run_benchmarks(filtered(std::string(120 * 1024, 'x')), out_, err_), 2);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_NE(err_.str().find("matches none of suite 'planted'"), std::string::npos) << err_.str().substr(0, 2000);
  EXPECT_LT(err_.str().size(), 4000u) << "a 120 KB pattern is not echoed whole";

  // 30,000 nested groups (std::regex recursed once per level until the stack was gone) are
  // parsed, and they match.
  const std::string nested = std::string(30000, '(') + "cpu_blocked" + std::string(30000, ')');
  EXPECT_EQ(run_benchmarks(filtered(nested), out_, err_), 0) << err_.str().substr(0, 2000);
  const ResultFile result = only_result_file();
  const auto& rows = result.benchmarks();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0]["aicbench"]["impl"], "cpu_blocked");
}

// ==== Backend choice: a broken GPU fails loudly

// Writes `content` to dir/relative, creating directories.
void plant(const fs::path& dir, const std::string& relative, const std::string& content) {
  fs::create_directories((dir / relative).parent_path());
  std::ofstream(dir / relative) << content;
}

TEST_F(Runner, NvidiaPresenceIsReadFromTheFileSystem) {
  const fs::path root = dir_ / "root";
  fs::create_directories(root);
  EXPECT_FALSE(find_nvidia_presence(root).any());

  plant(root, "sys/bus/pci/devices/0000:00:02.0/vendor", "0x8086\n");  // an Intel GPU
  plant(root, "sys/bus/pci/devices/0000:00:02.0/class", "0x030000\n");
  plant(root, "sys/bus/pci/devices/0000:3b:00.1/vendor", "0x10de\n");  // an NVIDIA audio function
  plant(root, "sys/bus/pci/devices/0000:3b:00.1/class", "0x040300\n");
  EXPECT_FALSE(find_nvidia_presence(root).any());

  plant(root, "sys/bus/pci/devices/0000:3b:00.0/vendor", "0x10de\n");
  plant(root, "sys/bus/pci/devices/0000:3b:00.0/class", "0x030200\n");
  plant(root, "sys/bus/pci/devices/0000:3b:00.0/device", "0x2335\n");
  NvidiaPresence found = find_nvidia_presence(root);
  EXPECT_FALSE(found.driver);
  EXPECT_EQ(found.pci_gpus, std::vector<std::string>{"0000:3b:00.0 (device 0x2335)"});

  plant(root, "dev/nvidiactl", "");
  EXPECT_EQ(find_nvidia_presence(root).driver, "/dev/nvidiactl exists");
  plant(root, "proc/driver/nvidia/version",
        "NVRM version: NVIDIA UNIX x86_64 Kernel Module  580.95.05  Tue Sep 23 2025\nGCC version: 12\n");
  found = find_nvidia_presence(root);
  EXPECT_EQ(found.driver, "NVRM version: NVIDIA UNIX x86_64 Kernel Module  580.95.05  Tue Sep 23 2025");
  EXPECT_NE(found.describe().find("0000:3b:00.0"), std::string::npos) << found.describe();
}

// A probe as on a machine without a usable device: CUDA's answer and what the machine shows.
DeviceProbe probe_without_device(const std::string& cuda_error, bool absence, NvidiaPresence nvidia = {},
                                 std::optional<std::string> visible = std::nullopt) {
  DeviceProbe probe;
  probe.unavailable_reason = "cudaGetDeviceCount failed: " + cuda_error;
  probe.cuda_reports_absence = absence;
  probe.nvidia = std::move(nvidia);
  probe.cuda_visible_devices = std::move(visible);
  return probe;
}

// Expects choose_backend("auto", probe) to refuse with exit 3 and every one of `expected`.
void expect_environment_error(const DeviceProbe& probe, const std::vector<std::string>& expected) {
  try {
    const BackendChoice choice = choose_backend("auto", probe);
    ADD_FAILURE() << "fell back to " << to_string(choice.backend) << ": " << choice.reason;
  } catch (const InputError& e) {
    EXPECT_EQ(e.exit_code(), 3) << e.what();
    for (const std::string& text : expected) EXPECT_NE(std::string(e.what()).find(text), std::string::npos) << e.what();
  }
}

TEST_F(Runner, AutoFallsBackToTheCpuOnlyWhereThereIsNoNvidiaGpuOrDriver) {
  const std::string no_driver = "CUDA driver version is insufficient for CUDA runtime version (cudaErrorInsufficientDriver)";
  const BackendChoice none = choose_backend("auto", probe_without_device(no_driver, true));
  EXPECT_EQ(none.backend, Backend::cpu);
  EXPECT_NE(none.reason.find("no NVIDIA GPU or driver on this machine"), std::string::npos) << none.reason;
  EXPECT_NE(none.reason.find("cudaErrorInsufficientDriver"), std::string::npos) << none.reason;

  NvidiaPresence driver;
  driver.driver = "NVRM version: 580.95.05";
  expect_environment_error(probe_without_device("no CUDA-capable device is detected (cudaErrorNoDevice)", true, driver),
                           {"NVIDIA driver (NVRM version: 580.95.05) present", "cudaErrorNoDevice", "--backend cpu"});

  NvidiaPresence gpu_only;
  gpu_only.pci_gpus = {"0000:3b:00.0 (device 0x2335)"};
  expect_environment_error(probe_without_device(no_driver, true, gpu_only),
                           {"NVIDIA GPU on the PCI bus: 0000:3b:00.0", "cudaErrorInsufficientDriver"});

  // A driver library that is there and fails is no absence, even with nothing else to see.
  expect_environment_error(probe_without_device("initialization error (cudaErrorInitializationError)", false),
                           {"cudaErrorInitializationError"});

  // A device list that names no device on a GPU machine is a mistake, said as such.
  expect_environment_error(probe_without_device("(cudaErrorNoDevice)", true, driver, "7"), {"CUDA_VISIBLE_DEVICES='7'"});

  // Hiding every GPU is a choice: the CPU runs and the reason says so.
  for (const char* hidden : {"", "-1", " -1 "}) {
    const BackendChoice chosen = choose_backend("auto", probe_without_device("(cudaErrorNoDevice)", true, driver, hidden));
    EXPECT_EQ(chosen.backend, Backend::cpu) << "'" << hidden << "'";
    EXPECT_NE(chosen.reason.find("hides every GPU on purpose"), std::string::npos) << chosen.reason;
  }

  // --backend cuda never falls back; --backend cpu never asks.
  try {
    choose_backend("cuda", probe_without_device(no_driver, true, gpu_only));
    ADD_FAILURE() << "--backend cuda without a device";
  } catch (const InputError& e) {
    EXPECT_EQ(e.exit_code(), 3);
    EXPECT_NE(std::string(e.what()).find("0000:3b:00.0"), std::string::npos) << e.what();
  }
  EXPECT_EQ(choose_backend("cpu", probe_without_device("x", false, driver)).backend, Backend::cpu);
}

}  // namespace
}  // namespace aicbench
