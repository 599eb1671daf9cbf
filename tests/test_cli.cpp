// The aicbench binary end to end: exit codes and messages for bad input, and the quick suite on
// the cpu backend followed by a report of its result file.
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "reports/build_info.hpp"
#include "reports/result_file.hpp"
#include "tests/run_binary.hpp"
#include "tests/test_dir.hpp"

namespace aicbench {
namespace {

namespace fs = std::filesystem;

using testing::Outcome;

Outcome aicbench(const std::string& args) { return testing::run_binary(AICBENCH_BINARY, args); }

class Cli : public ::testing::Test {
 protected:
  testing::TestDir dir_;
};

// Whether this build has the cpu backend's vendor baseline (AICBENCH_WITH_OPENBLAS), as its result
// files say. Every cpu suite lists `openblas` beside `cpu_blocked`; without it those are skipped.
bool built_with_openblas(const ResultFile& file) {
  return file.provenance()["versions"].value("openblas", "").rfind("not built", 0) != 0;
}

TEST_F(Cli, HelpForEveryCommand) {
  for (const char* cmd : {"info", "list", "run", "report"}) {
    Outcome o = aicbench(std::string(cmd) + " --help");
    EXPECT_EQ(o.exit_code, 0) << cmd << "\n" << o.output;
    EXPECT_NE(o.output.find(std::string("aicbench ") + cmd), std::string::npos) << o.output;
  }
  EXPECT_EQ(aicbench("").exit_code, 2);
  Outcome unknown = aicbench("frobnicate");
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.output.find("unknown command 'frobnicate'"), std::string::npos);
}

TEST_F(Cli, VersionSaysVersionCommitAndBuild) {
  for (const char* spelling : {"--version", "version"}) {
    Outcome o = aicbench(spelling);
    ASSERT_EQ(o.exit_code, 0) << spelling << "\n" << o.output;
    EXPECT_NE(o.output.find("aicbench " + build_info().version + "\n"), std::string::npos) << o.output;
    EXPECT_NE(o.output.find("commit " + build_info().git_commit), std::string::npos) << o.output;
    EXPECT_EQ(o.output.find("uncommitted changes") != std::string::npos, build_info().git_dirty) << o.output;
    EXPECT_NE(o.output.find("full build"), std::string::npos) << o.output;
  }
  EXPECT_NE(aicbench("--help").output.find("--version"), std::string::npos);
}

TEST_F(Cli, InfoShowsHostAndSaysWhetherThereIsAGpu) {
  Outcome o = aicbench("info");
  ASSERT_EQ(o.exit_code, 0) << o.output;
  EXPECT_NE(o.output.find("Host:"), std::string::npos);
  EXPECT_TRUE(o.output.find("GPU 0:") != std::string::npos ||
              o.output.find("none usable") != std::string::npos) << o.output;

  Outcome json = aicbench("info --json");
  ASSERT_EQ(json.exit_code, 0) << json.output;
  auto prov = nlohmann::json::parse(json.output);
  EXPECT_TRUE(prov["host"].contains("hostname"));
  EXPECT_TRUE(prov["versions"].contains("cublas"));
  EXPECT_TRUE(!prov["gpus"].empty() || prov.contains("gpu_unavailable_reason"));
  ASSERT_TRUE(prov.contains("telemetry"));
  EXPECT_TRUE(prov["telemetry"]["available"].get<bool>() || prov["telemetry"].contains("reason"));
}

TEST_F(Cli, ListShowsSupportAndReasons) {
  Outcome o = aicbench("list --suite quick");
  ASSERT_EQ(o.exit_code, 0) << o.output;
  EXPECT_NE(o.output.find("gemm/cpu_blocked/fp32/M:128/N:128/K:128"), std::string::npos) << o.output;
  EXPECT_NE(o.output.find("gemm/simt/fp32/M:1024/N:1024/K:1024"), std::string::npos) << o.output;
  EXPECT_EQ(aicbench("list --suite nope").exit_code, 2);
}

TEST_F(Cli, RunRejectsBadChoicesWithTheValidOnes) {
  Outcome suite = aicbench("run --suite nope --out " + dir_.path().string());
  EXPECT_EQ(suite.exit_code, 2);
  EXPECT_NE(suite.output.find("valid suites: "), std::string::npos) << suite.output;
  EXPECT_NE(suite.output.find("quick"), std::string::npos) << suite.output;

  Outcome backend = aicbench("run --backend tpu --out " + dir_.path().string());
  EXPECT_EQ(backend.exit_code, 2);
  EXPECT_NE(backend.output.find("valid backends: auto, cuda, cpu"), std::string::npos) << backend.output;

  Outcome filter = aicbench("run --backend cpu --filter nothing-matches-this --out " + dir_.path().string());
  EXPECT_EQ(filter.exit_code, 2);
  EXPECT_NE(filter.output.find("matches none"), std::string::npos) << filter.output;
  EXPECT_NE(filter.output.find("gemm/cpu_blocked/fp32"), std::string::npos) << filter.output;

  EXPECT_EQ(aicbench("run --backend cpu --filter '(' --out " + dir_.path().string()).exit_code, 2);
  EXPECT_EQ(aicbench("run --no-such-flag").exit_code, 2);

  // Bounds, said as such, before anything is allocated or written.
  Outcome huge = aicbench("run --backend cpu --repetitions 1000000000 --out " + dir_.path().string());
  EXPECT_EQ(huge.exit_code, 2) << huge.output;
  EXPECT_NE(huge.output.find("--repetitions must be between 1 and 1000"), std::string::npos) << huge.output;
  Outcome long_suite = aicbench("run --backend cpu --suite " + std::string(5000, 's') + " --out " + dir_.path().string());
  EXPECT_EQ(long_suite.exit_code, 2) << long_suite.output.substr(0, 500);
  EXPECT_NE(long_suite.output.find("unknown suite"), std::string::npos) << long_suite.output.substr(0, 500);
  EXPECT_LT(long_suite.output.size(), 1000u) << "the name is cut in the message";
  Outcome escape = aicbench("run --backend cpu --suite ../../x --out " + dir_.path().string());
  EXPECT_EQ(escape.exit_code, 2) << escape.output;
  for (const char* bad : {"--min-time inf", "--min-time nan", "--timeout 1e300", "--min-samples 0"}) {
    EXPECT_EQ(aicbench(std::string("run --backend cpu ") + bad + " --out " + dir_.path().string()).exit_code, 2) << bad;
  }
  // --max-bytes reads sizes as nccl-tests does (2T is parsed, then above the 1 TiB bound).
  for (const char* bad : {"1X", "0", "-4K", "2T"}) {
    Outcome o = aicbench(std::string("run --backend cpu --suite collectives --max-bytes ") + bad + " --out " +
                         dir_.path().string());
    EXPECT_EQ(o.exit_code, 2) << bad << "\n" << o.output;
    EXPECT_NE(o.output.find("--max-bytes"), std::string::npos) << o.output;
    if (std::string(bad) == "2T") EXPECT_NE(o.output.find("got 2199023255552"), std::string::npos) << o.output;
  }
  Outcome backtrack = aicbench("run --backend cpu --filter '((((.*)*)*)*)*Z' --out " + dir_.path().string());
  EXPECT_EQ(backtrack.exit_code, 2) << backtrack.output;
  EXPECT_NE(backtrack.output.find("matches none"), std::string::npos) << backtrack.output;
  EXPECT_TRUE(fs::is_empty(dir_.path())) << "no result file may be written for bad input";
}

TEST_F(Cli, CudaBackendWithoutDeviceIsAnEnvironmentError) {
  if (aicbench("info").output.find("none usable") == std::string::npos) {
    GTEST_SKIP() << "a GPU is present; this test is about its absence";
  }
  Outcome o = aicbench("run --backend cuda --out " + dir_.path().string());
  EXPECT_EQ(o.exit_code, 3) << o.output;
  EXPECT_NE(o.output.find("no usable CUDA device"), std::string::npos) << o.output;
  EXPECT_NE(o.output.find("cudaGetDeviceCount"), std::string::npos) << "the driver's reason";
}

TEST_F(Cli, ReportRejectsFilesThatAreNotResults) {
  Outcome missing = aicbench("report " + (dir_ / "absent.json").string());
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.output.find("absent.json"), std::string::npos) << missing.output;

  std::ofstream(dir_ / "garbage.json") << "this is not json";
  Outcome garbage = aicbench("report " + (dir_ / "garbage.json").string());
  EXPECT_EQ(garbage.exit_code, 2);
  EXPECT_NE(garbage.output.find("garbage.json: not JSON"), std::string::npos) << garbage.output;

  std::ofstream(dir_ / "plain.json") << R"({"context": {}, "benchmarks": []})";
  Outcome plain = aicbench("report " + (dir_ / "plain.json").string());
  EXPECT_EQ(plain.exit_code, 2);
  EXPECT_NE(plain.output.find("context.aicbench"), std::string::npos) << plain.output;
}

// A suite file of one's own, by path: run, recorded as such (context.aicbench.suite_file), and
// an impossible shape in it refused before anything runs.
TEST_F(Cli, RunTakesASuiteFileOfOnesOwn) {
  const fs::path suite = dir_ / "shapes" / "mine.json";
  fs::create_directories(suite.parent_path());
  auto write_suite = [&](int kvh) {
    std::ofstream(suite) << R"({"name": "mine", "version": 2, "measurement": {"cpu": {"min_time_s": 0.01, "timeout_s": 1}},
      "groups": [{"family": "attention", "dtypes": ["fp32"], "impls": ["cpu_flash"],
                  "shapes": {"cpu": [{"B": 1, "H": 6, "KVH": )" << kvh << R"(, "Sq": 33, "Sk": 70, "D": 96, "causal": 1}]}}]})";
  };
  write_suite(3);
  const fs::path out = dir_ / "out";
  Outcome run = aicbench("run --suite " + suite.string() + " --backend cpu --min-samples 2 --out " + out.string());
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const ResultFile file = load_result_file(fs::directory_iterator(out)->path());
  EXPECT_EQ(file.provenance()["suite"], "mine");
  EXPECT_EQ(file.provenance()["suite_file"], suite.string());
  ASSERT_EQ(file.benchmarks().size(), 1u);
  EXPECT_EQ(file.benchmarks()[0]["aicbench"]["status"], "ok") << file.benchmarks()[0].dump();

  write_suite(4);
  Outcome impossible = aicbench("run --suite " + suite.string() + " --backend cpu --out " + (dir_ / "none").string());
  EXPECT_EQ(impossible.exit_code, 2) << impossible.output;
  EXPECT_NE(impossible.output.find(suite.string() + ": field 'groups[0].shapes.cpu[0]' gives a shape no machine can run: "
                                   "KVH = 4 must divide H = 6"),
            std::string::npos)
      << impossible.output;
  EXPECT_FALSE(fs::exists(dir_ / "none"));
}

TEST_F(Cli, ModesAndRepetitions) {
  Outcome run = aicbench("run --suite smoke --backend cpu --mode both --repetitions 2 --min-samples 4 --out " +
                         dir_.path().string());
  ASSERT_EQ(run.exit_code, 0) << run.output;
  fs::path result = fs::directory_iterator(dir_.path())->path();
  ResultFile file = load_result_file(result);
  EXPECT_EQ(file.provenance()["methodology"]["repetitions"], 2);
  EXPECT_TRUE(file.provenance()["methodology"]["random_interleaving"].get<bool>());
  EXPECT_EQ(file.provenance()["methodology"]["min_samples"], 4);
  int hot = 0, cold = 0, aggregates = 0;
  for (const auto& b : file.benchmarks()) {
    if (!built_with_openblas(file) && b["aicbench"]["impl"] == "openblas") continue;  // skipped
    if (b["run_type"] == "aggregate") {
      ++aggregates;
      continue;
    }
    EXPECT_GE(b["aicbench"]["measurement"]["samples"].get<int>(), 4) << b.dump();
    (b["aicbench"]["mode"] == "hot" ? hot : cold)++;
    if (b["aicbench"]["mode"] == "hot") {
      EXPECT_NE(b["name"].get<std::string>().find("/mode:hot"), std::string::npos);
    }
  }
  // openblas beside cpu_blocked (a build without OpenBLAS skips it)
  const int impls = built_with_openblas(file) ? 2 : 1;
  EXPECT_EQ(hot, 6 * impls) << "3 shapes x 2 repetitions, per implementation";
  EXPECT_EQ(cold, 6 * impls);
  EXPECT_GT(aggregates, 0) << "Google Benchmark's mean/median/stddev over the repetitions";

  EXPECT_EQ(aicbench("run --suite smoke --backend cpu --mode warm --out " + dir_.path().string()).exit_code, 2);
  EXPECT_EQ(aicbench("run --suite smoke --backend cpu --max-noise 0 --out " + dir_.path().string()).exit_code, 2);
  EXPECT_EQ(aicbench("run --suite smoke --backend cpu --repetitions 0 --out " + dir_.path().string()).exit_code, 2);
}

TEST_F(Cli, QuickSuiteOnCpuThenReport) {
  Outcome run = aicbench("run --suite quick --backend cpu --out " + dir_.path().string());
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("backend cpu"), std::string::npos) << run.output;

  fs::path result;
  for (auto& e : fs::directory_iterator(dir_.path())) result = e.path();
  ASSERT_FALSE(result.empty());
  EXPECT_NE(run.output.find(result.string()), std::string::npos) << "run must say where it wrote";

  ResultFile file = load_result_file(result);
  EXPECT_TRUE(file.provenance()["complete"].get<bool>());
  EXPECT_EQ(file.provenance()["backend"], "cpu");
  EXPECT_EQ(file.provenance()["suite"], "quick");
  const bool openblas = built_with_openblas(file);
  if (!openblas) GTEST_SKIP() << "built without OpenBLAS (AICBENCH_WITH_OPENBLAS=OFF)";
  size_t gemm = 0, attention = 0, memory = 0;
  for (const auto& b : file.benchmarks()) {
    const std::string family = b["aicbench"]["family"];
    (family == "gemm" ? gemm : family == "memory" ? memory : attention) += 1;
  }
  EXPECT_EQ(gemm, 12u) << "six shapes, OpenBLAS and our kernel";
  EXPECT_EQ(attention, 2u) << "one prefill and one decode shape, the CPU implementation";
  EXPECT_EQ(memory, 2u) << "the STREAM-like reference and our triad";
  EXPECT_NE(file.provenance()["versions"]["openblas"].get<std::string>().find("OpenBLAS"), std::string::npos);
  for (const auto& b : file.benchmarks()) {
    EXPECT_EQ(b["aicbench"]["status"], "ok") << b.dump();
    // cpu_blocked beside OpenBLAS, the vendor baseline, on the same number of threads; our triad
    // beside the OpenMP reference.
    EXPECT_GE(b["aicbench"]["validation"]["threads"].get<int>(), 1) << b["name"];
    if (b["aicbench"]["impl"] == "cpu_blocked" || b["aicbench"]["impl"] == "cpu_triad") {
      EXPECT_GT(b.value("pct_of_vendor", 0.0), 0.0) << "against the CPU baseline: " << b.dump();
    }
    if (b["aicbench"]["impl"] == "openblas" || b["aicbench"]["impl"] == "stream_reference") {
      EXPECT_TRUE(b["aicbench"]["vendor"].get<bool>());
      EXPECT_DOUBLE_EQ(b.value("pct_of_vendor", 100.0), 100.0) << "the baseline against itself";
    }
    // Decode is memory-bound: GB/s is its headline and it carries no TFLOP/s.
    if (b["aicbench"]["family"] == "attention_decode") {
      EXPECT_GT(b["gbps"].get<double>(), 0.0) << b["name"];
      EXPECT_FALSE(b.contains("tflops")) << b["name"];
    } else if (b["aicbench"]["family"] == "memory") {
      EXPECT_GT(b["gbps"].get<double>(), 0.0) << b["name"];
      EXPECT_EQ(b["aicbench"]["validation"]["wrong_elements"], 0) << b["name"];
    } else {
      EXPECT_GT(b["tflops"].get<double>(), 0.0) << b["name"];
    }
    EXPECT_LE(b["max_rel_err"].get<double>(), b["aicbench"]["validation"]["tolerance"].get<double>());
    EXPECT_FALSE(b.contains("pct_of_peak")) << "no datasheet peak for a CPU";
    const auto& m = b["aicbench"]["measurement"];
    EXPECT_EQ(m["mode"], "cold");
    EXPECT_GE(m["samples"].get<int>(), 1);
    for (const char* key : {"median_s", "mean_s", "min_s", "max_s", "q1_s", "q3_s", "rel_stddev", "timed_out"}) {
      EXPECT_TRUE(m.contains(key)) << key;
    }
    EXPECT_TRUE(b["aicbench"].contains("unstable"));
    EXPECT_NE(b["aicbench"]["telemetry"]["unavailable"].get<std::string>().find("cpu backend"), std::string::npos);
    EXPECT_FALSE(b.contains("power_w")) << "no invented telemetry on the CPU";
  }
  EXPECT_FALSE(file.provenance()["telemetry"]["available"].get<bool>());
  EXPECT_EQ(file.provenance()["methodology"]["min_samples"], 10);

  fs::path md = dir_ / "report.md", html = dir_ / "report.html";
  Outcome report = aicbench("report " + result.string() + " --md " + md.string() + " --html " + html.string());
  ASSERT_EQ(report.exit_code, 0) << report.output;
  std::ifstream html_in(html);
  std::string page((std::istreambuf_iterator<char>(html_in)), {});
  EXPECT_NE(page.find("<svg"), std::string::npos);
  // Long names carry <wbr> line-break hints in the table; compare the text without them.
  for (size_t at; (at = page.find("<wbr>")) != std::string::npos;) page.erase(at, 5);
  EXPECT_NE(page.find("gemm/cpu_blocked/fp32/M:1024/N:1024/K:1024"), std::string::npos);
  EXPECT_TRUE(fs::file_size(md) > 0);
}

// One small benchmark of the smoke suite, quickly; `extra` adds options.
std::string tiny_cpu_run(const fs::path& out, const std::string& extra = "") {
  return "run --suite smoke --backend cpu --filter 'cpu_blocked/fp32/M:1/N:1/K:1$' --min-samples 3 "
         "--min-time 0.01 --timeout 1 " + extra + " --out " + out.string();
}

TEST_F(Cli, TwoRunsStartedTogetherIntoOneDirectoryKeepBothFiles) {
  // One process per GPU on a node starts at the same second into the same --out.
  const std::string command = std::string(AICBENCH_BINARY) + " " + tiny_cpu_run(dir_.path()) + " 2>&1";
  FILE* first = ::popen(command.c_str(), "r");
  FILE* second = ::popen(command.c_str(), "r");
  ASSERT_TRUE(first && second);
  for (FILE* pipe : {first, second}) {
    std::string output;
    std::array<char, 4096> buffer;
    while (size_t n = std::fread(buffer.data(), 1, buffer.size(), pipe)) output.append(buffer.data(), n);
    const int status = ::pclose(pipe);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << output;
  }
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir_.path())) files.push_back(entry.path());
  ASSERT_EQ(files.size(), 2u) << "each process keeps its own file, and no temporary is left";
  EXPECT_NE(files[0], files[1]);
  for (const fs::path& file : files) {
    const ResultFile result = load_result_file(file);
    EXPECT_TRUE(result.provenance()["complete"].get<bool>()) << file;
    EXPECT_EQ(result.benchmarks().size(), 1u) << file;
  }
}

// Google Benchmark's own comparison tool on two runs with repetitions: it pairs rows by name, so
// the repetitions must be 3 against 3 with the aggregates apart. Needs a copy of its
// tools/compare.py (not part of this repository) in AICBENCH_GBENCH_COMPARE, and a Python with
// numpy and scipy (AICBENCH_PYTHON, default /usr/bin/python3: Debian's python3-scipy).
TEST_F(Cli, GoogleBenchmarkComparePyReadsTwoRunsWithRepetitions) {
  const char* compare = std::getenv("AICBENCH_GBENCH_COMPARE");
  if (!compare || !*compare) {
    GTEST_SKIP() << "AICBENCH_GBENCH_COMPARE is not set: point it at Google Benchmark's tools/compare.py";
  }
  const char* python = std::getenv("AICBENCH_PYTHON");
  for (const char* run : {"a", "b"}) {
    Outcome o = aicbench(tiny_cpu_run(dir_ / run, "--repetitions 3"));
    ASSERT_EQ(o.exit_code, 0) << o.output;
  }
  auto only_file = [](const fs::path& dir) { return fs::directory_iterator(dir)->path().string(); };
  const std::string command = std::string(python && *python ? python : "/usr/bin/python3") + " " + compare +
                              " --no-color benchmarks " + only_file(dir_ / "a") + " " + only_file(dir_ / "b") + " 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");
  ASSERT_TRUE(pipe);
  std::string output;
  std::array<char, 4096> buffer;
  while (size_t n = std::fread(buffer.data(), 1, buffer.size(), pipe)) output.append(buffer.data(), n);
  const int status = ::pclose(pipe);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << command << "\n" << output;

  const std::string name = "gemm/cpu_blocked/fp32/M:1/N:1/K:1";
  EXPECT_NE(output.find("U Test, Repetitions: 3 vs 3"), std::string::npos) << output;
  std::istringstream lines(output);
  int repetition_rows = 0, utest_rows = 0;
  std::map<std::string, int> aggregate_rows;
  for (std::string line; std::getline(lines, line);) {
    if (line.find("Repetitions:") != std::string::npos) {
      ++utest_rows;
      EXPECT_NE(line.find("Repetitions: 3 vs 3"), std::string::npos) << "aggregates mixed in: " << line;
    }
    std::istringstream words(line);
    std::string first;
    words >> first;
    if (first == name) {
      ++repetition_rows;
      // Benchmark, Time, CPU, Time Old, Time New, CPU Old, CPU New: times as whole numbers of the
      // file's unit, which must keep the digits of a 40 us run.
      std::vector<double> numbers(6);
      for (double& number : numbers) words >> number;
      EXPECT_GE(numbers[2], 1000) << "Time Old in nanoseconds: " << line;
      EXPECT_EQ(numbers[2], numbers[4]) << "cpu_time is real_time: " << line;
    }
    for (const char* aggregate : {"_mean", "_median", "_stddev", "_cv"}) {
      if (first == name + aggregate) ++aggregate_rows[aggregate];
    }
  }
  EXPECT_EQ(repetition_rows, 3) << output;
  EXPECT_EQ(utest_rows, 1) << output;
  for (const char* aggregate : {"_mean", "_median", "_stddev", "_cv"}) {
    EXPECT_EQ(aggregate_rows[aggregate], 1) << aggregate << "\n" << output;
  }
}

}  // namespace
}  // namespace aicbench
