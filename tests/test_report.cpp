// Reports from result files: Markdown and HTML content, the gnuplot charts, and the errors that
// load_result_file gives for files that are not aicbench results.

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "reports/report.hpp"
#include "reports/result_file.hpp"
#include "tests/test_dir.hpp"

namespace {

namespace fs = std::filesystem;
using aicbench::InputError;
using aicbench::ResultFile;
using nlohmann::json;

// ---------------------------------------------------------------------------------------------
// Building result files in memory
// ---------------------------------------------------------------------------------------------

json provenance(bool with_gpu, bool complete = true) {
  json p = {{"format_version", 1}, {"aicbench_version", "0.1.0"}, {"git_commit", "abc1234"},
            {"git_dirty", true}, {"command_line", "aicbench run --suite quick"},
            {"start_time", "2026-11-24T22:00:00Z"}, {"complete", complete}, {"suite", "quick"},
            {"suite_version", 1}, {"rank", 0}, {"ranks", 1},
            {"host", {{"hostname", "node-a"}, {"os", "Linux 6.1 x86_64"}, {"cpu_model", "Xeon 8480"},
                      {"cpu_cores", 2}, {"memory_bytes", 25000000000.0}}},
            {"versions", {{"driver", "13.0"}, {"cuda_runtime", "13.0"}, {"cublas", "13.1.0"}}}};
  if (complete) p["end_time"] = "2026-11-24T22:05:00Z";
  if (with_gpu) {
    p["backend"] = "cuda";
    p["gpus"] = json::array({{{"index", 0}, {"name", "NVIDIA H100 80GB HBM3"}, {"uuid", "GPU-1"},
                              {"compute_capability", "9.0"}, {"sm_count", 132},
                              {"memory_bytes", 85000000000.0}, {"ecc_enabled", true}}});
  } else {
    p["backend"] = "cpu";
    p["backend_reason"] = "no CUDA device";
    p["gpus"] = json::array();
    p["gpu_unavailable_reason"] = "cudaGetDeviceCount: CUDA driver version is insufficient";
  }
  return p;
}

// A gemm entry; status "ok" carries time and counters, other statuses carry a reason.
json gemm(const std::string& impl, const std::string& dtype, int size, double tflops,
          const std::string& status = "ok", const std::string& reason = "") {
  std::string name = "gemm/" + impl + "/" + dtype + "/M:" + std::to_string(size) +
                     "/N:" + std::to_string(size) + "/K:" + std::to_string(size);
  json b = {{"name", name}, {"run_name", name}, {"run_type", "iteration"}, {"repetitions", 1},
            {"iterations", 100}, {"real_time", 0.41}, {"cpu_time", 0.40}, {"time_unit", "ms"},
            {"tflops", tflops}, {"max_rel_err", 1.2e-7},
            {"aicbench", {{"family", "gemm"}, {"impl", impl}, {"dtype", dtype}, {"backend", "cuda"},
                          {"params", {{"M", size}, {"N", size}, {"K", size}}}, {"status", status},
                          {"validation", {{"max_rel_err", 1.2e-7}, {"tolerance", 1e-5}}}}}};
  if (status != "ok") {
    // As aicbench writes it: no counters on a row that is not ok (the reader rejects such a row).
    b.erase("tflops");
    b.erase("max_rel_err");
    b["error_occurred"] = true;
    b["error_message"] = reason;
    b["aicbench"]["reason"] = reason;
  }
  return b;
}

json result(const json& provenance, const std::vector<json>& benchmarks) {
  return {{"context", {{"date", "2026-11-24"}, {"host_name", "node-a"}, {"aicbench", provenance}}},
          {"benchmarks", benchmarks}};
}

class ReportTest : public ::testing::Test {
 protected:
  fs::path write(const std::string& name, const std::string& content) {
    fs::path path = dir_ / name;
    aicbench::write_file_atomically(path, content);
    return path;
  }
  ResultFile load(const std::string& name, const json& j) {
    return aicbench::load_result_file(write(name, j.dump(2)));
  }
  // A GPU run with a passing, a failing (its error must show, its throughput never) and a skipped entry.
  std::vector<ResultFile> sample() {
    json failed = gemm("simt", "fp32", 1000, 987.6, "failed",
                       "validation failed: max_rel_err 0.3 > tolerance 1e-5");
    failed["aicbench"]["validation"]["max_rel_err"] = 0.3;
    return {load("gpu.json", result(provenance(true),
                                    {gemm("cublas", "fp32", 1024, 5.2), gemm("cublas", "fp32", 2048, 6.1),
                                     gemm("simt", "fp32", 1024, 1.5), failed,
                                     gemm("wgmma_sm90", "bf16", 4096, 0, "skipped", "no CUDA device")}))};
  }

  aicbench::testing::TestDir dir_;
};

bool gnuplot_available() {
  if (const char* env = std::getenv("AICBENCH_GNUPLOT"); env && *env) return fs::exists(env);
  return std::system("command -v gnuplot >/dev/null 2>&1") == 0;
}

// Sets an environment variable for one scope, restoring the old value after.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    ::setenv(name, value, 1);
  }
  ~ScopedEnv() { old_ ? ::setenv(name_, old_->c_str(), 1) : ::unsetenv(name_); }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

// The InputError that `f` throws; fails the test if it throws nothing or something else.
template <typename F>
std::optional<InputError> input_error(F&& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e;
  }
  ADD_FAILURE() << "expected an InputError";
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// Methodology and telemetry columns
// ---------------------------------------------------------------------------------------------

TEST_F(ReportTest, ShowsNoiseTelemetryAndFlagsUnstableResults) {
  json p = provenance(true);
  p["methodology"] = {{"min_samples", 10}, {"min_time_s", 0.5}, {"max_noise", 0.005}, {"timeout_s", 15},
                      {"throttle_threshold", 0.75}, {"repetitions", 1}, {"timer", "CUDA events"}};
  p["telemetry"] = {{"available", true}, {"source", "NVML"}, {"clock_policy", "default boost"}};
  json steady = gemm("cublas", "fp32", 1024, 5.2);
  steady["aicbench"]["mode"] = "cold";
  steady["aicbench"]["unstable"] = false;
  steady["aicbench"]["measurement"] = {{"rel_stddev", 0.0012}, {"samples", 57}, {"discarded_throttled", 3}};
  steady["sm_clock_mhz"] = 1980.0;
  steady["power_w"] = 612.4;
  steady["energy_j"] = 340.0;
  steady["tflops_per_w"] = 0.0085;
  json noisy = gemm("simt", "fp32", 1024, 1.5);
  noisy["aicbench"]["mode"] = "cold";
  noisy["aicbench"]["unstable"] = true;
  noisy["aicbench"]["measurement"] = {{"rel_stddev", 0.031}, {"samples", 1500}, {"timed_out", true}};
  std::vector<ResultFile> files = {load("m.json", result(p, {steady, noisy}))};
  const std::string md = aicbench::reports::render_markdown(files);
  EXPECT_NE(md.find("0.12 %"), std::string::npos) << md;
  EXPECT_NE(md.find("| 57 |"), std::string::npos) << md;
  EXPECT_NE(md.find("| 1980 |"), std::string::npos) << md;
  EXPECT_NE(md.find("| 612 |"), std::string::npos) << md;
  EXPECT_NE(md.find("0.00850"), std::string::npos) << md;
  EXPECT_NE(md.find("3 throttled samples discarded"), std::string::npos) << md;
  EXPECT_NE(md.find("UNSTABLE: noise above target, timed out"), std::string::npos) << md;
  EXPECT_NE(md.find("clock policy: default boost"), std::string::npos) << md;
  EXPECT_NE(md.find("until the noise is under 0.5 %"), std::string::npos) << md;
}

// ---------------------------------------------------------------------------------------------
// Markdown
// ---------------------------------------------------------------------------------------------

TEST_F(ReportTest, MarkdownListsEveryBenchmarkAndProvenance) {
  auto files = sample();
  std::string md = aicbench::reports::render_markdown(files);
  for (const auto& b : files[0].benchmarks()) EXPECT_NE(md.find(b["name"].get<std::string>()), std::string::npos) << b["name"];
  EXPECT_NE(md.find("NVIDIA H100 80GB HBM3"), std::string::npos);
  EXPECT_NE(md.find("abc1234 (dirty tree)"), std::string::npos);
  EXPECT_NE(md.find("1024x1024x1024"), std::string::npos);
  EXPECT_NE(md.find("| 5.20 |"), std::string::npos);  // TFLOP/s to 3 significant digits
  EXPECT_EQ(md.find("Incomplete run"), std::string::npos);
}

TEST_F(ReportTest, MarkdownFailedRowShowsReasonAndErrorNotThroughput) {
  std::string md = aicbench::reports::render_markdown(sample());
  EXPECT_NE(md.find("validation failed: max_rel_err 0.3 > tolerance 1e-5"), std::string::npos);
  EXPECT_NE(md.find("measured max_rel_err 3.0e-01, tolerance 1.0e-05"), std::string::npos);
  EXPECT_NE(md.find("skipped: no CUDA device"), std::string::npos);
  EXPECT_EQ(md.find("988"), std::string::npos);  // the failed row's 987.6 TFLOP/s
  EXPECT_EQ(md.find("987"), std::string::npos);
}

TEST_F(ReportTest, MarkdownShowsWhyThereIsNoGpuAndIncompleteRun) {
  auto file = load("cpu.json", result(provenance(false, false), {gemm("cpu", "fp32", 256, 0.05)}));
  std::string md = aicbench::reports::render_markdown({file});
  EXPECT_NE(md.find("cudaGetDeviceCount: CUDA driver version is insufficient"), std::string::npos);
  EXPECT_NE(md.find("Incomplete run"), std::string::npos);
  EXPECT_NE(md.find("cpu (no CUDA device)"), std::string::npos);
  // Columns no row has a value for (telemetry, peak, vendor) are left out; the status stays.
  EXPECT_EQ(md.find("Power W"), std::string::npos) << md;
  EXPECT_EQ(md.find("% of peak"), std::string::npos) << md;
  EXPECT_NE(md.find("| Status |"), std::string::npos) << md;
}

TEST_F(ReportTest, MarkdownEscapesTableSeparators) {
  auto file = load("pipe.json", result(provenance(true), {gemm("a|b", "fp32", 64, 1.0)}));
  std::string md = aicbench::reports::render_markdown({file});
  EXPECT_NE(md.find("a\\|b"), std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// HTML
// ---------------------------------------------------------------------------------------------

TEST_F(ReportTest, HtmlIsSelfContainedWithChartsAndStatusRows) {
  if (!gnuplot_available()) GTEST_SKIP() << "gnuplot not installed";
  std::string html = aicbench::reports::render_html(sample());
  EXPECT_NE(html.find("<svg"), std::string::npos);
  EXPECT_NE(html.find("<tr class=\"failed\">"), std::string::npos);
  EXPECT_NE(html.find("<tr class=\"skipped\">"), std::string::npos);
  EXPECT_EQ(html.find("987"), std::string::npos);  // failed rows are neither shown nor plotted
  EXPECT_EQ(html.find("<?xml"), std::string::npos);

  // Nothing may point off the page: the only URLs allowed are the SVG and XLink namespace names.
  std::regex url(R"(https?://[^\s"'<>)]*)");
  for (auto it = std::sregex_iterator(html.begin(), html.end(), url); it != std::sregex_iterator(); ++it) {
    std::string u = it->str();
    EXPECT_TRUE(u == "http://www.w3.org/2000/svg" || u == "http://www.w3.org/1999/xlink") << u;
  }
  std::regex reference(R"((?:src|href)\s*=\s*["']([^"']*))");
  int references = 0;
  for (auto it = std::sregex_iterator(html.begin(), html.end(), reference); it != std::sregex_iterator(); ++it) {
    ++references;
    EXPECT_EQ((*it)[1].str().rfind('#', 0), 0u) << "off-page reference: " << it->str();
  }
  EXPECT_GT(references, 0);  // gnuplot's <use xlink:href="#..."> were seen, so the scan works
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("<link"), std::string::npos);
}

TEST_F(ReportTest, HtmlEscapesNames) {
  if (!gnuplot_available()) GTEST_SKIP() << "gnuplot not installed";
  json b = gemm("x<script>", "fp32", 128, 1.0);
  auto file = load("escape.json", result(provenance(true), {b}));
  std::string html = aicbench::reports::render_html({file});
  EXPECT_EQ(html.find("<script>"), std::string::npos);
  EXPECT_NE(html.find("gemm/<wbr>x&lt;script&gt;/<wbr>fp32"), std::string::npos);  // names may break at /
}

TEST_F(ReportTest, HtmlOneChartPerFamilyAndDtypeWithDeviceSeriesAcrossMachines) {
  if (!gnuplot_available()) GTEST_SKIP() << "gnuplot not installed";
  json other = provenance(true);
  other["gpus"][0]["name"] = "NVIDIA H200";
  other["host"]["hostname"] = "node-b";
  auto a = load("a.json", result(provenance(true), {gemm("cublas", "fp32", 1024, 5.0), gemm("cublas", "bf16", 1024, 50.0)}));
  auto b = load("b.json", result(other, {gemm("cublas", "fp32", 1024, 6.0)}));
  std::string html = aicbench::reports::render_html({a, b});
  size_t charts = 0;
  for (size_t at = html.find("<figure>"); at != std::string::npos; at = html.find("<figure>", at + 1)) ++charts;
  EXPECT_EQ(charts, 2u);
  EXPECT_NE(html.find("cublas @ NVIDIA H200, node-b"), std::string::npos);
}

TEST_F(ReportTest, MissingGnuplotIsAnEnvironmentError) {
  ScopedEnv env("AICBENCH_GNUPLOT", "/nonexistent/bin/gnuplot");
  auto files = sample();
  auto e = input_error([&] { aicbench::reports::render_html(files); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->exit_code(), 3);
  EXPECT_NE(std::string(e->what()).find("gnuplot-nox"), std::string::npos) << e->what();
}

TEST_F(ReportTest, GnuplotFailureCarriesItsStderr) {
  if (!gnuplot_available()) GTEST_SKIP() << "gnuplot not installed";
  auto e = input_error([] { aicbench::reports::render_svg_with_gnuplot("set terminal svg\nplot nosuchfunction(x)\n"); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->exit_code(), 3);
  EXPECT_NE(std::string(e->what()).find("nosuchfunction"), std::string::npos) << e->what();
}

// ---------------------------------------------------------------------------------------------
// load_result_file errors: exit code 2, the file's name and the field in the message
// ---------------------------------------------------------------------------------------------

void expect_load_error(const fs::path& path, const std::vector<std::string>& fragments) {
  auto e = input_error([&] { aicbench::load_result_file(path); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->exit_code(), 2);
  std::string message = e->what();
  EXPECT_NE(message.find(path.filename().string()), std::string::npos) << message;
  for (const auto& fragment : fragments) EXPECT_NE(message.find(fragment), std::string::npos) << message;
}

TEST_F(ReportTest, LoadMissingFile) { expect_load_error(dir_ / "missing.json", {"no such file"}); }

TEST_F(ReportTest, LoadNotJson) { expect_load_error(write("garbage.json", "{ not json"), {"not JSON"}); }

TEST_F(ReportTest, LoadPlainGoogleBenchmarkOutput) {
  json plain = {{"context", {{"date", "2026-11-24"}}}, {"benchmarks", json::array()}};
  expect_load_error(write("plain.json", plain.dump()), {"context.aicbench"});
}

TEST_F(ReportTest, LoadBenchmarksNotAnArray) {
  json bad = result(provenance(true), {});
  bad["benchmarks"] = {{"name", "x"}};
  expect_load_error(write("object.json", bad.dump()), {"benchmarks", "expected an array"});
}

}  // namespace
