// Reports from result files: Markdown and HTML content, the gnuplot charts, and the errors that
// load_result_file gives for files that are not aicbench results.

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "reports/report.hpp"
#include "reports/result_file.hpp"
#include "tests/report_fixtures.hpp"
#include "tests/test_dir.hpp"

namespace {

namespace fs = std::filesystem;
using namespace aicbench::testing;
using aicbench::InputError;
using aicbench::ResultFile;

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

TEST_F(ReportTest, HtmlOneChartPerFamilyAndDtypeWithSeriesPerRun) {
  if (!gnuplot_available()) GTEST_SKIP() << "gnuplot not installed";
  json other = provenance(true);
  other["gpus"][0]["name"] = "NVIDIA H200";
  other["host"]["hostname"] = "node-b";
  auto a = load("a.json", result(provenance(true), {gemm("cublas", "fp32", 1024, 5.0), gemm("cublas", "bf16", 1024, 50.0)}));
  auto b = load("b.json", result(other, {gemm("cublas", "fp32", 1024, 6.0)}));
  std::string html = aicbench::reports::render_html({a, b});
  EXPECT_EQ(count_of(html, "<figure"), 2u);
  EXPECT_NE(html.find("cublas · #2 node-b"), std::string::npos);
  EXPECT_EQ(html.find("not drawn"), std::string::npos);
}

TEST_F(ReportTest, WithoutGnuplotThePageIsWrittenWithANote) {
  ScopedEnv no_override("AICBENCH_GNUPLOT", nullptr);
  ScopedEnv empty_path("PATH", "/nonexistent");
  std::string html;
  ASSERT_NO_THROW(html = aicbench::reports::render_html(sample()));
  EXPECT_EQ(html.find("<svg"), std::string::npos);
  EXPECT_NE(html.find("Charts are not drawn: gnuplot was not found on PATH"), std::string::npos) << html;
  EXPECT_NE(html.find("gnuplot-nox"), std::string::npos);
  EXPECT_NE(html.find("gemm/<wbr>cublas/<wbr>fp32"), std::string::npos);  // the tables are all there
}

TEST_F(ReportTest, AGnuplotOverrideThatIsNoProgramIsANote) {
  ScopedEnv env("AICBENCH_GNUPLOT", "/nonexistent/bin/gnuplot");
  std::string html = aicbench::reports::render_html(sample());
  EXPECT_NE(html.find("AICBENCH_GNUPLOT=/nonexistent/bin/gnuplot is not an executable file"), std::string::npos);
}

TEST_F(ReportTest, AChartThatFailsIsANoteAndTheOthersAreDrawn) {
  int calls = 0;
  aicbench::reports::ChartDrawer drawer{[&](const std::string&) -> std::string {
                                          if (++calls == 1) throw std::runtime_error("gnuplot failed: line 3: <oops>");
                                          return "<?xml version=\"1.0\"?>\n<svg id='x'><title>Gnuplot</title></svg>";
                                        },
                                        ""};
  auto file = load("two.json", result(provenance(true), {gemm("cublas", "fp32", 1024, 5.0), gemm("cublas", "bf16", 1024, 50.0)}));
  std::string html = aicbench::reports::render_html({file}, drawer);
  EXPECT_EQ(calls, 2);
  EXPECT_NE(html.find("This chart was not drawn: gnuplot failed: line 3: &lt;oops&gt;"), std::string::npos) << html;
  EXPECT_NE(html.find("<svg id='c1-x'><title>gemm · fp32 · square sizes</title>"), std::string::npos) << html;
  EXPECT_EQ(html.find("<?xml"), std::string::npos);
}

TEST_F(ReportTest, GnuplotFailureCarriesItsStderr) {
  auto drawer = aicbench::reports::gnuplot_drawer();
  if (!drawer.unavailable.empty()) GTEST_SKIP() << drawer.unavailable;
  try {
    drawer.draw("set terminal svg\nplot nosuchfunction(x)\n");
    ADD_FAILURE() << "expected gnuplot to fail";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("nosuchfunction"), std::string::npos) << e.what();
  }
}

TEST_F(ReportTest, AGnuplotThatHangsIsStopped) {
  const fs::path hanging = write("gnuplot", "#!/bin/sh\nexec sleep 30\n");
  fs::permissions(hanging, fs::perms::owner_all);
  const auto start = std::chrono::steady_clock::now();
  try {
    aicbench::reports::run_gnuplot(hanging.string(), "plot x", /*timeout_s=*/0.3);
    ADD_FAILURE() << "expected a timeout";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("took longer than"), std::string::npos) << e.what();
  }
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 5.0);
}

// ---------------------------------------------------------------------------------------------
// Repetitions, times, and bad values that pass the reader
// ---------------------------------------------------------------------------------------------

TEST_F(ReportTest, RepetitionsShowMedianNoiseSamplesAndUnstable) {
  const std::vector<Repetition> reps = {{1.0, 0.004, 30, true}, {1.2, 0.020, 50, true}, {1.1, 0.003, 20, true}};
  auto file = load("reps.json", result(provenance(true), repeated(gemm("cublas", "fp32", 1024, 5.0), reps, 1.1, 0.09, true)));
  const std::string md = aicbench::reports::render_markdown({file});
  EXPECT_EQ(count_of(md, "gemm/cublas/fp32/M:1024/N:1024/K:1024"), 1u) << md;  // one row, not seven
  EXPECT_NE(md.find("| 1.10 ms |"), std::string::npos) << md;
  EXPECT_NE(md.find("| 2.00 % |"), std::string::npos) << md;  // the noisiest repetition
  EXPECT_NE(md.find("| 100 |"), std::string::npos) << md;     // samples of all repetitions
  EXPECT_NE(md.find("| 3, cv 9.00 % |"), std::string::npos) << md;
  EXPECT_NE(md.find("ok, UNSTABLE: 3 of 3 repetitions noisy"), std::string::npos) << md;
  EXPECT_EQ(md.find("| ok |"), std::string::npos) << md;
}

TEST_F(ReportTest, TimesInAHumanUnitWhateverTheFileUses) {
  json ns = gemm("a", "fp32", 1024, 5.0), us = gemm("b", "fp32", 1024, 5.0), s = gemm("c", "fp32", 1024, 5.0);
  ns["time_unit"] = "ns";
  ns["real_time"] = 1520000.0;
  us["time_unit"] = "us";
  us["real_time"] = 41.0;
  s["time_unit"] = "s";
  s["real_time"] = 3.2;
  const std::string md = aicbench::reports::render_markdown({load("units.json", result(provenance(true), {ns, us, s}))});
  EXPECT_NE(md.find("| 1.52 ms |"), std::string::npos) << md;
  EXPECT_NE(md.find("| 41.0 µs |"), std::string::npos) << md;
  EXPECT_NE(md.find("| 3.20 s |"), std::string::npos) << md;
}

// Values the reader lets through: huge finite numbers (counts up to 2^53), NUL and other control
// characters after JSON unescaping where a free text is allowed, empty strings.
std::vector<json> hostile_but_valid_entries() {
  json huge = gemm("cublas", "fp32", 1024, 1e308);
  huge["real_time"] = 1e308;
  huge["aicbench"]["measurement"] = {{"samples", 9007199254740992.0}, {"rel_stddev", 1e300}, {"q3_s", 1e300},
                                     {"max_s", 1e300}, {"discarded_throttled", 9007199254740992.0}};
  huge["sm_clock_mhz"] = 1e300;
  huge["pct_of_peak"] = 1e300;
  json big = gemm("cublas", "fp32", 1 << 30, 1e300);  // M = N = K = 2^30 on the size axis
  json nul = gemm("cublas", "fp32", 2048, 6.0, "error", std::string("CUDA error\0\x1b[31m\r\nhere", 22));
  json empty = gemm("cublas", "fp32", 4096, 7.0, "skipped", "");
  return {huge, big, nul, empty};
}

// And what it does not: no renderer may depend on the reader to stay up.
std::vector<json> hostile_entries() {
  std::vector<json> entries = hostile_but_valid_entries();
  json params = gemm("x", "fp32", 1, 5.0);
  params["aicbench"]["params"] = {{"M", 1e300}, {"N", 1e300}, {"K", 1e300}};
  json names = gemm("cublas", "fp32", 512, 6.0);
  names["name"] = names["run_name"] = std::string("gemm/nul\0name/\x01\x1b[31m", 20);
  names["aicbench"]["impl"] = std::string("a\0b", 3);
  names["aicbench"]["dtype"] = "";
  json empty = gemm("", "", 4096, 7.0);
  empty["name"] = empty["run_name"] = "";
  empty["aicbench"]["family"] = "";
  empty["aicbench"]["status"] = "";
  json negative = gemm("neg", "fp32", 256, -5.0);
  negative["real_time"] = -1.0;
  negative["time_unit"] = "fortnights";
  json wrong_types = gemm("types", "fp32", 128, 1.0);
  wrong_types["aicbench"]["params"] = "M=1";
  wrong_types["aicbench"]["measurement"] = json::array({1, 2});
  wrong_types["tflops"] = "fast";
  for (json* e : {&params, &names, &empty, &negative, &wrong_types}) entries.push_back(*e);
  return entries;
}

void expect_clean_pages(const std::vector<ResultFile>& files, bool has_error_row = true) {
  std::string md, html;
  ASSERT_NO_THROW(md = aicbench::reports::render_markdown(files));
  aicbench::reports::ChartDrawer checking{[](const std::string& script) {
                                            EXPECT_EQ(script.find('\0'), std::string::npos);
                                            EXPECT_EQ(script.find("inf"), std::string::npos) << script;
                                            return std::string("<svg></svg>");
                                          },
                                          ""};
  ASSERT_NO_THROW(html = aicbench::reports::render_html(files, checking));
  for (const std::string* page : {&md, &html}) {
    EXPECT_EQ(page->find('\0'), std::string::npos);
    EXPECT_EQ(page->find('\x1b'), std::string::npos);
    if (has_error_row) {
      EXPECT_NE(page->find("CUDA error\xEF\xBF\xBD\xEF\xBF\xBD[31m"), std::string::npos);
    }
  }
  if (gnuplot_available() && has_error_row) {  // and the real gnuplot draws every chart of it
    ASSERT_NO_THROW(html = aicbench::reports::render_html(files));
    EXPECT_NE(html.find("<svg"), std::string::npos);
    EXPECT_EQ(html.find("not drawn"), std::string::npos) << html;
  }
}

TEST_F(ReportTest, BadValuesThatPassTheReaderNeverStopAReport) {
  json p = provenance(true);
  p["host"]["cpu_cores"] = 9007199254740992.0;
  p["methodology"] = methodology();
  p["gpus"][0]["sm_count"] = 9007199254740992.0;
  p["gpu_unavailable_reason"] = std::string("\0", 1);
  expect_clean_pages({load("hostile.json", result(p, hostile_but_valid_entries()))});
}

TEST_F(ReportTest, AnyJsonAtAllNeverStopsAReport) {
  json p = provenance(true);
  p["host"]["hostname"] = std::string("host\0name", 9);
  p["methodology"] = methodology();
  p["methodology"]["throttle_threshold"] = 1e300;
  p["gpus"] = "none";
  p["complete"] = "perhaps";
  expect_clean_pages({unchecked("any.json", result(p, hostile_entries()))});
  json bare = {{"context", json::object()}, {"benchmarks", json::object()}};
  expect_clean_pages({unchecked("bare.json", bare), unchecked("null.json", json())}, /*has_error_row=*/false);
}

// ---------------------------------------------------------------------------------------------
// Many runs: the compact view
// ---------------------------------------------------------------------------------------------

TEST_F(ReportTest, ManyRunsGiveTheCompactView) {
  auto files = fleet(20, 4);
  files[3].json["benchmarks"][1] = gemm("wgmma_sm90", "bf16", 256, 1.0, "failed", "validation failed: planted");
  const std::string md = aicbench::reports::render_markdown(files);
  EXPECT_NE(md.find("20 result files (more than 8)"), std::string::npos);
  EXPECT_EQ(count_of(md, "\n## Run "), 0u) << "no provenance block per file";
  EXPECT_NE(md.find("| #3 | node-0003.json | node-0003 |"), std::string::npos) << md;  // one row per run
  // One distribution row per benchmark: count, median and the worst node.
  EXPECT_NE(md.find("| gemm/cublaslt/bf16/M:256/N:256/K:256 | 256x256x256 | TFLOP/s | 20 | 20 | "), std::string::npos) << md;
  EXPECT_NE(md.find("80.2 · node-0003 #3"), std::string::npos) << md;
  EXPECT_NE(md.find("| #4 | node-0004 | gemm/wgmma_sm90/bf16/M:256/N:256/K:256 | failed: validation failed: planted"), std::string::npos) << md;
}

TEST_F(ReportTest, AFleetOf1250RunsIsAPageOfReasonableSizeInSeconds) {
  auto files = fleet(1250, 36);
  aicbench::reports::ChartDrawer count_charts{[](const std::string& script) {
                                                EXPECT_LT(script.size(), 64u * 1024) << "chart data is per size, not per run";
                                                return std::string("<svg></svg>");
                                              },
                                              ""};
  const auto start = std::chrono::steady_clock::now();
  const std::string html = aicbench::reports::render_html(files, count_charts);
  const std::string md = aicbench::reports::render_markdown(files);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_LT(seconds, 10.0);
  std::cout << "1250 runs x 36 benchmarks: HTML " << html.size() << " bytes, Markdown " << md.size() << " bytes, both in " << seconds
            << " s\n";
  EXPECT_LT(html.size(), 1024u * 1024) << "one row per run and per benchmark, not 45,000";
  EXPECT_LT(md.size(), 1024u * 1024);
  EXPECT_EQ(count_of(html, "<figure"), 1u);
  EXPECT_LT(count_of(html, "<tr"), 1250u + 36 + 10);
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
