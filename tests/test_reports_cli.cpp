// The reports-only aicbench (reports/reports_main.cpp) end to end: it reads result files like the
// full binary, says which build it is, and sends run/info/list to the full build with exit 2.
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include <gtest/gtest.h>

#include "tests/run_binary.hpp"
#include "tests/test_dir.hpp"

namespace aicbench {
namespace {

namespace fs = std::filesystem;

using testing::Outcome;

Outcome reports_binary(const std::string& args) { return testing::run_binary(AICBENCH_REPORTS_BINARY, args); }

// A real result file of `aicbench run --suite smoke --backend cpu`, committed.
const fs::path kCpuResult = fs::path(AICBENCH_TEST_DATA_DIR) / "result-cpu-smoke.json";

class ReportsCli : public ::testing::Test {
 protected:
  testing::TestDir dir_;
};

TEST_F(ReportsCli, VersionSaysReportsOnly) {
  Outcome o = reports_binary("--version");
  ASSERT_EQ(o.exit_code, 0) << o.output;
  EXPECT_NE(o.output.find("aicbench "), std::string::npos) << o.output;
  EXPECT_NE(o.output.find("commit "), std::string::npos) << o.output;
  EXPECT_NE(o.output.find("reports-only build"), std::string::npos) << o.output;
}

TEST_F(ReportsCli, BenchmarkCommandsPointToTheFullBuild) {
  for (const char* command : {"run", "info", "list", "run --suite quick --backend cpu"}) {
    Outcome o = reports_binary(command);
    EXPECT_EQ(o.exit_code, 2) << command << "\n" << o.output;
    EXPECT_NE(o.output.find("reports-only build"), std::string::npos) << o.output;
    EXPECT_NE(o.output.find("full build"), std::string::npos) << o.output;
  }
  Outcome help = reports_binary("--help");
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.output.find("report "), std::string::npos) << help.output;
  EXPECT_EQ(help.output.find("run "), std::string::npos) << "lists only what this build has:\n" << help.output;
  EXPECT_EQ(reports_binary("frobnicate").exit_code, 2);
}

TEST_F(ReportsCli, ReportsAResultFile) {
  Outcome markdown = reports_binary("report " + kCpuResult.string());
  ASSERT_EQ(markdown.exit_code, 0) << markdown.output;
  EXPECT_NE(markdown.output.find("gemm/cpu_blocked/fp32/M:1/N:1/K:1"), std::string::npos) << markdown.output;

  const fs::path html = dir_ / "report.html";
  Outcome page = reports_binary("report " + kCpuResult.string() + " --html " + html.string());
  ASSERT_EQ(page.exit_code, 0) << page.output;
  std::ifstream in(html);
  const std::string text((std::istreambuf_iterator<char>(in)), {});
  EXPECT_NE(text.find("cpu_blocked"), std::string::npos);

  Outcome missing = reports_binary("report " + (dir_ / "absent.json").string());
  EXPECT_EQ(missing.exit_code, 2) << missing.output;
  EXPECT_NE(missing.output.find("absent.json"), std::string::npos) << missing.output;

  // A directory stands for the result files in it.
  fs::create_directories(dir_ / "runs");
  fs::copy_file(kCpuResult, dir_ / "runs" / "night-1.json");
  Outcome directory = reports_binary("report " + (dir_ / "runs").string());
  ASSERT_EQ(directory.exit_code, 0) << directory.output;
  EXPECT_NE(directory.output.find("gemm/cpu_blocked/fp32/M:1/N:1/K:1"), std::string::npos) << directory.output;
}

}  // namespace
}  // namespace aicbench
