// `aicbench accept` end to end through the reports-only binary: exit codes (0 every node passes,
// 1 one fails, 2 a bad spec, result file or option), the files it writes, its JUnit XML read by a
// real consumer (python3-junitparser; skipped where it is missing), and 1,250 node files at once.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include <gtest/gtest.h>

#include "tests/accept_fixtures.hpp"
#include "tests/run_binary.hpp"
#include "tests/test_dir.hpp"

namespace aicbench {
namespace {

namespace fs = std::filesystem;
using testing::json;
using testing::Outcome;

const std::string kSpecs = AICBENCH_SPECS_DIR;
const std::string kH100 = kSpecs + "/acceptance/h100_sxm.json";
const std::string kBf16Lt = "gemm/cublaslt/bf16/M:8192/N:8192/K:8192";

Outcome accept_binary(const std::string& args) { return testing::run_binary(AICBENCH_REPORTS_BINARY, "accept " + args); }

std::string read_text(const fs::path& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

class AcceptCli : public ::testing::Test {
 protected:
  // Writes a node's GPU files into the test directory; returns them as arguments.
  std::string write_node(const std::vector<testing::GpuRun>& gpus) {
    std::string args;
    for (const auto& gpu : gpus) {
      const fs::path path = dir_ / (gpu.host + "-" + std::to_string(gpu.rank) + ".json");
      testing::write_json(path, testing::gpu_result(gpu));
      args.append(" ").append(path.string());
    }
    return args;
  }
  testing::TestDir dir_;
};

TEST_F(AcceptCli, ExitCodesFollowTheVerdict) {
  const std::string good = write_node(testing::healthy_node("good-01")) + write_node(testing::healthy_node("good-02"));
  Outcome pass = accept_binary("--spec " + kH100 + good);
  EXPECT_EQ(pass.exit_code, 0) << pass.output;
  EXPECT_NE(pass.output.find("PASSED: all 2 nodes pass"), std::string::npos) << pass.output;

  auto slow = testing::healthy_node("slow-03");
  slow[4].pct[kBf16Lt] = 55;
  const std::string all = good + write_node(slow);
  Outcome fail = accept_binary("--spec " + kH100 + all);
  EXPECT_EQ(fail.exit_code, 1) << fail.output;
  EXPECT_NE(fail.output.find("FAILED: 1 of 3 nodes fails (2 pass)"), std::string::npos) << fail.output;
  EXPECT_NE(fail.output.find("| slow-03 | GPU-slow-03-4 | A.3.1 | " + kBf16Lt + ": 55 % of peak, below the minimum 70 % of peak |"),
            std::string::npos)
      << fail.output;
}

TEST_F(AcceptCli, WritesEveryFormatAndJunitParses) {
  auto hot = testing::healthy_node("hot-02");
  hot[6].temp_c = 93;
  const std::string args = write_node(testing::healthy_node("ok-01")) + write_node(hot);
  const fs::path md = dir_ / "accept.md", html = dir_ / "accept.html", out_json = dir_ / "accept.json",
                 junit = dir_ / "accept.xml";
  Outcome o = accept_binary("--spec " + kH100 + " --md " + md.string() + " --html " + html.string() + " --json " +
                            out_json.string() + " --junit " + junit.string() + args);
  ASSERT_EQ(o.exit_code, 1) << o.output;
  EXPECT_NE(o.output.find("FAILED: 1 of 2 nodes fails"), std::string::npos) << o.output;
  EXPECT_NE(read_text(md).find("| hot-02 | GPU-hot-02-6 | A.4.1 |"), std::string::npos);
  EXPECT_NE(read_text(html).find("<td class=\"id\">GPU-hot-02-6</td><td title="), std::string::npos);
  const json verdict = json::parse(read_text(out_json));
  EXPECT_EQ(verdict["nodes_failed"], 1);
  EXPECT_EQ(verdict["nodes"][0]["host"], "hot-02");
  EXPECT_EQ(verdict["nodes"][0]["gpus"][6]["passed"], false);

  // A real JUnit consumer reads it: a suite per node, a case per clause and GPU, the failure's
  // message naming clause, GPU, benchmark, value and threshold.
  Outcome parsed = testing::run_binary(AICBENCH_PYTHON3, std::string(AICBENCH_TESTS_DIR) + "/check_junit.py " + junit.string());
  if (parsed.exit_code == 77) GTEST_SKIP() << "python3-junitparser is not installed";
  ASSERT_EQ(parsed.exit_code, 0) << parsed.output;
  const json suites = json::parse(parsed.output);
  ASSERT_EQ(suites.size(), 2u) << parsed.output;
  const size_t clauses = 19, per_node = 1 + 8 * (clauses - 1);
  EXPECT_EQ(suites["ok-01"]["tests"], per_node);
  EXPECT_EQ(suites["ok-01"]["failures"], 0);
  EXPECT_EQ(suites["hot-02"]["tests"], per_node);
  EXPECT_EQ(suites["hot-02"]["failures"], 1);
  const json& cases = suites["hot-02"]["cases"];
  EXPECT_EQ(cases.size(), per_node);
  const std::string failing = "hot-02.GPU-hot-02-6 A.4.1 max_temperature <= 85 °C";
  ASSERT_TRUE(cases.contains(failing)) << cases.dump(1);
  const std::string message = cases[failing].get<std::string>();
  EXPECT_NE(message.find("A.4.1 on hot-02 GPU-hot-02-6"), std::string::npos) << message;
  EXPECT_NE(message.find("93 °C, above the maximum 85 °C"), std::string::npos) << message;
  EXPECT_TRUE(cases["hot-02.GPU-hot-02-5 A.4.1 max_temperature <= 85 °C"].is_null());
}

TEST_F(AcceptCli, BadInputIsExitTwo) {
  const std::string node = write_node(testing::healthy_node("n01", 1));

  json spec = testing::read_json(kH100);
  spec["clauses"][3]["validaton_passed"] = json::object();
  const fs::path bad_spec = dir_ / "bad-spec.json";
  testing::write_json(bad_spec, spec);
  Outcome o = accept_binary("--spec " + bad_spec.string() + node);
  EXPECT_EQ(o.exit_code, 2) << o.output;
  EXPECT_NE(o.output.find(bad_spec.string() + ": field 'clauses[3].validaton_passed' is unknown; did you mean "
                                              "'clauses[3].validation_passed'?"),
            std::string::npos)
      << o.output;

  EXPECT_EQ(accept_binary("--spec " + (dir_ / "absent.json").string() + node).exit_code, 2);
  Outcome no_spec = accept_binary(node);
  EXPECT_EQ(no_spec.exit_code, 2) << no_spec.output;
  EXPECT_NE(no_spec.output.find("--spec"), std::string::npos);
  EXPECT_EQ(accept_binary("--spec " + kH100).exit_code, 2) << "no result files";

  json result = testing::gpu_result(testing::healthy_node("n02", 1)[0]);
  result["benchmarks"][0]["aicbench"]["status"] = "fine";
  const fs::path bad_result = dir_ / "bad-result.json";
  testing::write_json(bad_result, result);
  Outcome r = accept_binary("--spec " + kH100 + node + " " + bad_result.string());
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find(bad_result.string()), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("benchmarks[0].aicbench.status"), std::string::npos) << r.output;

  // An output over an input would destroy the evidence: refused before anything is written.
  const fs::path input = dir_ / "n01-0.json";
  const std::string before = read_text(input);
  Outcome over = accept_binary("--spec " + kH100 + " --junit " + input.string() + node);
  EXPECT_EQ(over.exit_code, 2) << over.output;
  EXPECT_EQ(read_text(input), before);
  EXPECT_EQ(accept_binary("--spec " + kH100 + " --md " + kH100 + node).exit_code, 2);
  EXPECT_EQ(accept_binary("--spec " + kH100 + " --md " + (dir_ / "x").string() + " --html " + (dir_ / "x").string() + node).exit_code, 2);

  // A directory stands for its *.json; one without any is an error, not an empty fleet.
  fs::create_directories(dir_ / "empty");
  testing::write_json(dir_ / "empty" / "notes.txt", json::object());
  Outcome empty = accept_binary("--spec " + kH100 + " " + (dir_ / "empty").string());
  EXPECT_EQ(empty.exit_code, 2) << empty.output;
  EXPECT_NE(empty.output.find((dir_ / "empty").string() + ": a directory without result files (*.json)"),
            std::string::npos)
      << empty.output;
}

// 1,250 node files at once (157 nodes of 8 GPUs, one file per GPU) given as their directory, two
// nodes planted to fail.
TEST_F(AcceptCli, ManyNodeFilesAtOnce) {
  const fs::path list = dir_ / "files";
  fs::create_directories(dir_ / "fleet");
  size_t files = 0;
  for (int n = 0; files < 1250; ++n) {
    char host[32];
    std::snprintf(host, sizeof host, "node-%04d", n);
    auto node = testing::healthy_node(host);
    if (n == 17) node[2].pct[kBf16Lt] = 64;
    if (n == 99) node[7].temp_c = 90;
    for (const auto& gpu : node) {
      if (files == 1250) break;
      testing::write_json(dir_ / "fleet" / (gpu.uuid + ".json"), testing::gpu_result(gpu));
      ++files;
    }
  }
  const fs::path out_json = dir_ / "verdict.json";
  const auto start = std::chrono::steady_clock::now();
  // The directory itself, as a tester with a node file per GPU would give it (no shell glob).
  Outcome o = accept_binary("--spec " + kH100 + " --json " + out_json.string() + " " + (dir_ / "fleet").string());
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_EQ(o.exit_code, 1) << o.output.substr(0, 2000);
  const json verdict = json::parse(read_text(out_json));
  EXPECT_EQ(verdict["files"], 1250);
  EXPECT_EQ(verdict["nodes_total"], 157);
  // node-0017 (slow), node-0099 (hot) and node-0156, the last, with 2 of its 8 GPUs.
  std::vector<std::string> failed;
  for (const json& node : verdict["nodes"]) {
    if (!node["passed"].get<bool>()) failed.push_back(node["host"]);
  }
  EXPECT_EQ(failed, (std::vector<std::string>{"node-0017", "node-0099", "node-0156"}));
  std::cout << "accept: 1250 files in " << seconds << " s\n";
  EXPECT_LT(seconds, 60) << "1,250 files should take seconds";
}

}  // namespace
}  // namespace aicbench
