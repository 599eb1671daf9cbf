// `aicbench report --csv/--junit` end to end with the reports-only binary, and the files read by
// independent consumers: JUnit by Debian's python3-junitparser and xmllint, CSV by Python's csv
// module. Where a consumer is not installed the test is skipped, never passed.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "tests/report_fixtures.hpp"
#include "tests/run_binary.hpp"
#include "tests/test_dir.hpp"

namespace {

namespace fs = std::filesystem;
using namespace aicbench::testing;

constexpr int kSkipped = 77;  // the consumer is not installed

Outcome report(const std::string& args) { return run_binary(AICBENCH_REPORTS_BINARY, "report " + args); }

std::string python3() { return fs::exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3"; }

Outcome read_export(const std::string& args) {
  return run_binary(python3(), std::string(AICBENCH_TEST_SOURCE_DIR) + "/read_report_exports.py " + args);
}

std::string slurp(const fs::path& path) {
  std::ostringstream s;
  s << std::ifstream(path, std::ios::binary).rdbuf();
  return s.str();
}

class ReportExportsCli : public ::testing::Test {
 protected:
  // Two runs: one with every status and a reason that needs quoting, one that stopped early.
  void SetUp() override {
    json failed = gemm("simt", "fp32", 1000, 0, "failed", "validation failed: max_rel_err 0.3 > tolerance 1e-5");
    failed["aicbench"]["validation"]["max_rel_err"] = 0.3;
    json noisy = gemm("cublas", "fp32", 2048, 6.0);
    noisy["aicbench"]["unstable"] = true;
    json tricky = gemm("cublas", "fp32", 4096, 0, "error", "=HYPERLINK(\"x\"), <b>&\nsecond line");
    write(first_, result(provenance(true), {gemm("cublas", "fp32", 1024, 5.0), noisy, failed, tricky,
                                            gemm("wgmma_sm90", "bf16", 4096, 0, "skipped", "needs sm_90")}));
    json p = provenance(false, /*complete=*/false);
    write(second_, result(p, {gemm("cpu_blocked", "fp32", 256, 0.01)}));
  }
  static void write(const fs::path& path, const json& content) { std::ofstream(path) << content.dump(1); }

  TestDir dir_;
  fs::path first_ = dir_ / "first.json", second_ = dir_ / "second.json";
};

TEST_F(ReportExportsCli, JunitIsReadByJunitparser) {
  const fs::path xml = dir_ / "report.xml";
  Outcome o = report(first_.string() + " " + second_.string() + " --junit " + xml.string());
  ASSERT_EQ(o.exit_code, 0) << o.output;
  // 5 + 1 benchmarks, and the second run's "run complete" error.
  Outcome read = read_export("junit " + xml.string() + " 7 1 2 1");
  if (read.exit_code == kSkipped) GTEST_SKIP() << read.output;
  EXPECT_EQ(read.exit_code, 0) << read.output << "\n" << slurp(xml);
}

TEST_F(ReportExportsCli, JunitIsWellFormedForXmllint) {
  if (std::system("command -v xmllint >/dev/null 2>&1") != 0) GTEST_SKIP() << "xmllint not installed (libxml2-utils)";
  const fs::path xml = dir_ / "report.xml";
  ASSERT_EQ(report(first_.string() + " --junit " + xml.string()).exit_code, 0);
  Outcome lint = run_binary("xmllint", "--noout " + xml.string());
  EXPECT_EQ(lint.exit_code, 0) << lint.output;
}

TEST_F(ReportExportsCli, CsvIsReadByPythonsCsvModule) {
  const fs::path csv = dir_ / "report.csv";
  Outcome o = report(first_.string() + " " + second_.string() + " --csv " + csv.string());
  ASSERT_EQ(o.exit_code, 0) << o.output;
  Outcome read = read_export("csv " + csv.string() + " 6 'name=gemm/cublas/fp32/M:4096/N:4096/K:4096' "
                             "'reason='\"'\"'=HYPERLINK(\"x\"), <b>&\\nsecond line' status=error param:M=4096");
  EXPECT_EQ(read.exit_code, 0) << read.output << "\n" << slurp(csv);
}

TEST_F(ReportExportsCli, AnOutputThatIsAnInputIsRefused) {
  const std::string before = slurp(first_);
  Outcome o = report(first_.string() + " --csv " + (dir_ / "." / "first.json").string());
  EXPECT_EQ(o.exit_code, 2) << o.output;
  EXPECT_NE(o.output.find("is the input file " + first_.string()), std::string::npos) << o.output;
  EXPECT_EQ(slurp(first_), before);
  Outcome twice = report(first_.string() + " --md " + (dir_ / "r").string() + " --junit " + (dir_ / "r").string());
  EXPECT_EQ(twice.exit_code, 2) << twice.output;
  EXPECT_NE(twice.output.find("are the same file"), std::string::npos) << twice.output;
  EXPECT_FALSE(fs::exists(dir_ / "r"));
}

}  // namespace
