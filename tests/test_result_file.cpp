// Writing result files (atomically, incrementally, with derived counters) and reading them back.
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "harness/result_writer.hpp"
#include "reports/result_file.hpp"
#include "tests/test_dir.hpp"

namespace aicbench {
namespace {

namespace fs = std::filesystem;

class ResultFileTest : public ::testing::Test {
 protected:
  static BenchmarkSpec gemm(const std::string& impl, bool vendor) {
    return {"gemm", impl, "fp32", Backend::cuda, vendor, {{"M", 64}, {"N", 32}, {"K", 16}}};
  }
  static nlohmann::json timing(double tflops) {
    return {{"iterations", 10}, {"real_time", 1.5}, {"cpu_time", 1.4}, {"time_unit", "ms"},
            {"tflops", tflops}, {"max_rel_err", 1e-7}};
  }
  testing::TestDir dir_;
};

TEST_F(ResultFileTest, IncrementalWritesAreReadableAndMarkedIncomplete) {
  ResultWriter writer(dir_ / "run.json", {{"host", {{"hostname", "h"}}}}, {{"fp32", 50.0}});
  writer.write(false);
  ResultFile early = load_result_file(dir_ / "run.json");
  EXPECT_FALSE(early.provenance()["complete"].get<bool>());
  EXPECT_TRUE(early.benchmarks().empty());

  writer.add(gemm("cublas", true), timing(40.0), kStatusOk, std::nullopt, {{"tolerance", 1e-5}}, nullptr);
  writer.write(false);
  EXPECT_EQ(load_result_file(dir_ / "run.json").benchmarks().size(), 1u);

  writer.add(gemm("simt", false), timing(20.0), kStatusOk, std::nullopt, {{"tolerance", 1e-5}}, nullptr);
  writer.write(true);
  ResultFile done = load_result_file(dir_ / "run.json");
  EXPECT_TRUE(done.provenance()["complete"].get<bool>());
  EXPECT_EQ(done.provenance()["format_version"], kResultFormatVersion);
  EXPECT_TRUE(done.provenance().contains("end_time"));

  // No temporary files are left beside the result.
  int files = 0;
  for (auto& e : fs::directory_iterator(dir_.path())) files += e.is_regular_file();
  EXPECT_EQ(files, 1);
}

TEST_F(ResultFileTest, DerivedCountersComeFromPeakAndVendor) {
  ResultWriter writer(dir_ / "run.json", nlohmann::json::object(), {{"fp32", 50.0}});
  writer.add(gemm("cublas", true), timing(40.0), kStatusOk, std::nullopt, nullptr, nullptr);
  nlohmann::json simt = timing(20.0);
  simt["power_w"] = 400.0;
  writer.add(gemm("simt", false), simt, kStatusOk, std::nullopt, nullptr,
             {{"measurement", {{"unstable", true}, {"rel_stddev", 0.03}}}});
  writer.write(true);
  const ResultFile file = load_result_file(dir_ / "run.json");
  const auto& b = file.benchmarks();
  EXPECT_EQ(b[0]["name"], "gemm/cublas/fp32/M:64/N:32/K:16");
  EXPECT_DOUBLE_EQ(b[0]["pct_of_peak"].get<double>(), 80.0);
  EXPECT_DOUBLE_EQ(b[0]["pct_of_vendor"].get<double>(), 100.0);
  EXPECT_DOUBLE_EQ(b[1]["pct_of_peak"].get<double>(), 40.0);
  EXPECT_DOUBLE_EQ(b[1]["pct_of_vendor"].get<double>(), 50.0);
  EXPECT_EQ(b[1]["aicbench"]["params"]["M"], 64);
  EXPECT_DOUBLE_EQ(b[1]["tflops_per_w"].get<double>(), 0.05);
  EXPECT_FALSE(b[0].contains("tflops_per_w")) << "no power reading, no efficiency";
  EXPECT_TRUE(b[1]["aicbench"]["unstable"].get<bool>());
  EXPECT_EQ(b[1]["aicbench"]["measurement"]["rel_stddev"], 0.03);
  EXPECT_EQ(writer.count_unstable(), 1u);
}

TEST_F(ResultFileTest, SpreadAggregatesGetNoDerivedCounters) {
  // Over repetitions, Google Benchmark aggregates tflops with the row's own statistic: on a
  // median row it is a throughput, on a stddev row a spread, which has no fraction of a peak.
  auto aggregate = [](const char* name, double tflops) {
    nlohmann::json row = timing(tflops);
    row["run_type"] = "aggregate";
    row["aggregate_name"] = name;
    row["power_w"] = 400.0;
    return row;
  };
  ResultWriter writer(dir_ / "run.json", nlohmann::json::object(), {{"fp32", 50.0}});
  writer.add(gemm("cublas", true), aggregate("median", 40.0), kStatusOk, std::nullopt, nullptr, nullptr);
  writer.add(gemm("cublas", true), aggregate("stddev", 2.0), kStatusOk, std::nullopt, nullptr, nullptr);
  writer.add(gemm("simt", false), aggregate("median", 20.0), kStatusOk, std::nullopt, nullptr, nullptr);
  writer.add(gemm("simt", false), aggregate("stddev", 1.0), kStatusOk, std::nullopt, nullptr, nullptr);
  writer.write(true);
  const ResultFile file = load_result_file(dir_ / "run.json");
  const auto& b = file.benchmarks();
  EXPECT_DOUBLE_EQ(b[2]["pct_of_peak"].get<double>(), 40.0);
  EXPECT_DOUBLE_EQ(b[2]["pct_of_vendor"].get<double>(), 50.0);
  EXPECT_DOUBLE_EQ(b[2]["tflops_per_w"].get<double>(), 0.05);
  for (const char* key : {"pct_of_peak", "pct_of_vendor", "tflops_per_w"}) {
    EXPECT_FALSE(b[1].contains(key)) << key;
    EXPECT_FALSE(b[3].contains(key)) << key;
  }
}

TEST_F(ResultFileTest, FailedValidationIsAnErrorEntryWithoutNumbers) {
  ResultWriter writer(dir_ / "run.json", nlohmann::json::object(), {{"fp32", 50.0}});
  writer.add(gemm("simt", false), {{"iterations", 0}}, kStatusFailed,
             "validation failed: max_rel_err 0.5 > tolerance 1e-05",
             {{"max_rel_err", 0.5}, {"tolerance", 1e-5}}, nullptr);
  writer.write(true);
  const ResultFile file = load_result_file(dir_ / "run.json");
  const auto& b = file.benchmarks()[0];
  EXPECT_TRUE(b["error_occurred"].get<bool>());
  EXPECT_NE(b["error_message"].get<std::string>().find("tolerance"), std::string::npos);
  EXPECT_EQ(b["aicbench"]["status"], kStatusFailed);
  EXPECT_FALSE(b.contains("tflops"));
  EXPECT_FALSE(b.contains("pct_of_peak"));
  EXPECT_EQ(writer.count(kStatusFailed), 1u);
}

TEST_F(ResultFileTest, AtomicWriteReplacesWholeFile) {
  write_file_atomically(dir_ / "x.txt", std::string(100000, 'a'));
  write_file_atomically(dir_ / "x.txt", "short");
  std::ifstream in(dir_ / "x.txt");
  std::string content((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(content, "short");
}

TEST_F(ResultFileTest, AtomicWriteCreatesMissingDirectories) {
  write_file_atomically(dir_ / "results" / "gpu" / "x.json", "{}");
  EXPECT_TRUE(fs::is_regular_file(dir_ / "results" / "gpu" / "x.json"));
}

TEST_F(ResultFileTest, AtomicWriteToUnwritablePlaceNamesThePath) {
  write_file_atomically(dir_ / "file", "x");
  try {
    write_file_atomically(dir_ / "file" / "below-a-file.json", "x");
    FAIL() << "expected an exception";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("below-a-file"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace aicbench
