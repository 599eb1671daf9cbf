// Charts: which series, which axis, the spread and the legend, decided by plan_charts and
// written by gnuplot_script, tested without drawing; then drawn by a real gnuplot where there is one.

#include <cmath>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "reports/charts.hpp"
#include "reports/gnuplot.hpp"
#include "tests/report_fixtures.hpp"

namespace {

using namespace aicbench::testing;
using aicbench::ResultFile;
using aicbench::reports::ChartSpec;

std::vector<ChartSpec> charts_of(const std::vector<ResultFile>& files, bool compact = false) {
  // plan_charts keeps pointers into the rows, so they live as long as the test.
  static std::vector<aicbench::reports::ReportRow> rows;
  rows = aicbench::reports::report_rows(files);
  return aicbench::reports::plan_charts(rows, aicbench::reports::summarize_runs(files), compact);
}

const ChartSpec* find_chart(const std::vector<ChartSpec>& charts, const std::string& title) {
  for (const auto& c : charts) if (c.title == title) return &c;
  ADD_FAILURE() << "no chart titled " << title;
  return nullptr;
}

TEST(Charts, TwoRunsOnOneHostAreTwoSeries) {
  json later = provenance(true);
  later["start_time"] = "2026-11-25T22:00:00Z";
  auto yesterday = in_memory("a.json", result(provenance(true), {gemm("cublas", "fp32", 1024, 5.0), gemm("cublas", "fp32", 2048, 6.0)}));
  auto today = in_memory("b.json", result(later, {gemm("cublas", "fp32", 1024, 5.5), gemm("cublas", "fp32", 2048, 6.5)}));
  auto charts = charts_of({yesterday, today});
  ASSERT_EQ(charts.size(), 1u);
  ASSERT_EQ(charts[0].lines.size(), 2u);
  EXPECT_EQ(charts[0].lines[0].label, "cublas · #1 11-24 22:00");
  EXPECT_EQ(charts[0].lines[1].label, "cublas · #2 11-25 22:00");
  EXPECT_EQ(charts[0].lines[0].points.size(), 2u);
}

TEST(Charts, ModeBothIsTwoSeriesHotDashed) {
  auto file = in_memory("both.json", result(provenance(true), {gemm("cublas", "fp32", 1024, 5.0), hot(gemm("cublas", "fp32", 1024, 7.0)),
                                                               gemm("cublas", "fp32", 2048, 6.0), hot(gemm("cublas", "fp32", 2048, 8.0))}));
  auto charts = charts_of({file});
  ASSERT_EQ(charts.size(), 1u);
  ASSERT_EQ(charts[0].lines.size(), 2u);
  EXPECT_EQ(charts[0].lines[0].label, "cublas cold");
  EXPECT_EQ(charts[0].lines[1].label, "cublas hot");
  EXPECT_FALSE(charts[0].lines[0].hot);
  EXPECT_TRUE(charts[0].lines[1].hot);
  EXPECT_NE(aicbench::reports::gnuplot_script(charts[0]).find("dt 2"), std::string::npos);
}

TEST(Charts, OtherShapesNeverOnTheSquareLine) {
  auto file = in_memory("s.json", result(provenance(true), {gemm("cublas", "fp32", 1024, 5.0), gemm("cublas", "fp32", 2048, 6.0),
                                                            gemm_shape("cublas", "fp32", 500, 300, 101, 1.0),
                                                            gemm_shape("cublas", "fp32", 8192, 28672, 4096, 9.0)}));
  auto charts = charts_of({file});
  ASSERT_EQ(charts.size(), 2u);
  const ChartSpec* square = find_chart(charts, "gemm · fp32 · square sizes");
  const ChartSpec* other = find_chart(charts, "gemm · fp32 · other shapes");
  ASSERT_TRUE(square && other);
  EXPECT_TRUE(square->sweep);
  ASSERT_EQ(square->lines.size(), 1u);
  ASSERT_EQ(square->lines[0].points.size(), 2u);
  EXPECT_DOUBLE_EQ(square->lines[0].points[0].x, 1024);
  EXPECT_DOUBLE_EQ(square->lines[0].points[1].x, 2048);
  EXPECT_FALSE(other->sweep);
  EXPECT_EQ(other->categories, (std::vector<std::string>{"500x300x101", "8192x28672x4096"}));  // by volume
  // Unconnected points: error bars without a line.
  const std::string script = aicbench::reports::gnuplot_script(*other);
  EXPECT_NE(script.find("with yerrorbars"), std::string::npos);
  EXPECT_EQ(script.find("yerrorlines"), std::string::npos);
  EXPECT_NE(script.find("'500x300x101' 0"), std::string::npos) << script;
}

TEST(Charts, SpreadIsThroughputAtTheQuartilesOfTheTimes) {
  // median 0.41 ms, q1 0.40 ms, q3 0.45 ms (the fixture's measurement), 5 TFLOP/s at the median.
  auto file = in_memory("q.json", result(provenance(true), {gemm("cublas", "fp32", 1024, 5.0)}));
  auto charts = charts_of({file});
  const auto& p = charts.at(0).lines.at(0).points.at(0);
  EXPECT_DOUBLE_EQ(p.y, 5.0);
  EXPECT_NEAR(p.low, 5.0 * 0.41 / 0.45, 1e-12);
  EXPECT_NEAR(p.high, 5.0 * 0.41 / 0.40, 1e-12);
  const std::string script = aicbench::reports::gnuplot_script(charts[0]);
  EXPECT_NE(script.find("using 1:2:3:4 with yerrorlines"), std::string::npos) << script;
}

TEST(Charts, LegendBelowThePlotAndPictureGrowsWithIt) {
  std::vector<json> entries;
  for (const char* impl : {"a", "b", "c", "d", "e", "f"}) entries.push_back(gemm(impl, "fp32", 1024, 5.0));
  auto charts = charts_of({in_memory("k.json", result(provenance(true), entries))});
  const std::string script = aicbench::reports::gnuplot_script(charts.at(0));
  EXPECT_NE(script.find("set key bmargin"), std::string::npos) << script;
  EXPECT_EQ(script.find("set key top"), std::string::npos);
  EXPECT_EQ(script.find("set key inside"), std::string::npos);
  EXPECT_NE(script.find("svg size 720,444"), std::string::npos) << "two rows of three key entries: " << script;
}

TEST(Charts, FailedSkippedAndNonPositiveResultsAreNotPlotted) {
  json failed = gemm("cublas", "fp32", 2048, 900, "failed", "x");
  failed["tflops"] = 900;  // the reader rejects this; the charts must not need it to
  auto file = unchecked("f.json", result(provenance(true), {gemm("cublas", "fp32", 1024, 5.0), failed,
                                                            gemm("cublas", "fp32", 4096, 0, "skipped", "y"), gemm("cublas", "fp32", 8192, -3)}));
  auto charts = charts_of({file});
  ASSERT_EQ(charts.size(), 1u);
  ASSERT_EQ(charts[0].lines.at(0).points.size(), 1u);
  EXPECT_NE(charts[0].caption.find("1 result(s) without a TFLOP/s not plotted"), std::string::npos) << charts[0].caption;
}

TEST(Charts, TooManySeriesBecomeDistributions) {
  auto files = fleet(aicbench::reports::kMaxSeriesPerChart + 1, 2);  // 11 runs x 2 impls
  auto detailed = charts_of(files, /*compact=*/false);
  ASSERT_EQ(detailed.size(), 1u);
  EXPECT_TRUE(detailed[0].lines.empty());
  ASSERT_EQ(detailed[0].boxes.size(), 2u);  // per impl, across the runs
  EXPECT_EQ(detailed[0].boxes[0].label, "cublaslt");
  ASSERT_EQ(detailed[0].boxes[0].boxes.size(), 1u);
  EXPECT_EQ(detailed[0].boxes[0].boxes[0].spread.count, 11u);
  const std::string script = aicbench::reports::gnuplot_script(detailed[0]);
  EXPECT_NE(script.find("with candlesticks"), std::string::npos);

  auto few = fleet(3, 2);
  EXPECT_EQ(charts_of(few, false).at(0).lines.size(), 6u);
  EXPECT_EQ(charts_of(few, /*compact=*/true).at(0).boxes.size(), 2u);
}

TEST(Charts, HostileTextAndNumbersStayInsideTheScript) {
  json b = gemm("it's\nbad", "fp32", 1024, 1e300);
  b["aicbench"]["impl"] = std::string("nul\0here'", 9);
  json huge = gemm_shape("x", "fp32", 1, 1, 1, 5.0);
  huge["aicbench"]["params"] = {{"M", 1e300}, {"N", 1e300}, {"K", 1e300}};  // off any axis
  auto charts = charts_of({unchecked("h.json", result(provenance(true), {b, huge}))});
  ASSERT_EQ(charts.size(), 1u);
  const std::string script = aicbench::reports::gnuplot_script(charts[0]);
  EXPECT_EQ(script.find('\0'), std::string::npos);
  EXPECT_NE(script.find("'nul\xEF\xBF\xBDhere'''"), std::string::npos) << script;
  EXPECT_EQ(script.find("inf"), std::string::npos) << script;
  EXPECT_EQ(script.find("nan"), std::string::npos) << script;
}

TEST(Charts, RealGnuplotDrawsTheScripts) {
  auto drawer = aicbench::reports::gnuplot_drawer();
  if (!drawer.unavailable.empty()) GTEST_SKIP() << drawer.unavailable;
  json b = gemm("cublas", "fp32", 1024, 1e300);  // huge but finite
  auto files = fleet(12, 6);
  files.push_back(in_memory("odd.json", result(provenance(true), {b, gemm_shape("cublas", "fp32", 500, 300, 101, 1.0), hot(gemm("cublas", "fp32", 2048, 3.0))})));
  for (bool compact : {false, true}) {
    for (const ChartSpec& chart : charts_of(files, compact)) {
      std::string svg;
      EXPECT_NO_THROW(svg = drawer.draw(aicbench::reports::gnuplot_script(chart))) << chart.title;
      EXPECT_NE(svg.find("<svg"), std::string::npos) << chart.title;
    }
  }
}

}  // namespace
