// The report's node-level peer-to-peer table (reports/p2p_matrix.hpp), from rows as
// harness/families/p2p.cpp writes them: a GPU x GPU matrix per run and kind of copy, with the
// diagonal marked, rows that were not ok shown by their status, and the worst pair named. The
// files pass the result reader (GPU index 0 is a valid parameter).
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "reports/charts.hpp"
#include "reports/p2p_matrix.hpp"
#include "reports/report.hpp"
#include "tests/report_fixtures.hpp"

namespace {

using namespace aicbench::testing;
using aicbench::ResultFile;
using aicbench::reports::P2pMatrix;
using aicbench::reports::p2p_matrices;
using aicbench::reports::report_rows;

json p2p_row(const std::string& impl, int src, int dst, int directions, double gbps, const std::string& status = "ok") {
  const std::string name = "p2p/" + impl + "/u8/src:" + std::to_string(src) + "/dst:" + std::to_string(dst) +
                           "/directions:" + std::to_string(directions) + "/bytes:67108864";
  json b = {{"name", name}, {"run_name", name}, {"run_type", "iteration"}, {"repetitions", 1}, {"iterations", 1},
            {"real_time", 67108864.0 * directions / gbps}, {"cpu_time", 67108864.0 * directions / gbps},
            {"time_unit", "ns"}, {"gbps", gbps}, {"max_rel_err", 0.0},
            {"aicbench", {{"family", "p2p"}, {"impl", impl}, {"dtype", "u8"}, {"backend", "cuda"}, {"mode", "cold"},
                          {"vendor", impl == "ce"},
                          {"params", {{"src", src}, {"dst", dst}, {"directions", directions}, {"bytes", 67108864}}},
                          {"status", status},
                          {"validation", {{"max_rel_err", 0.0}, {"tolerance", 0.0}, {"wrong_elements", 0}}}}}};
  if (status != "ok") {
    b.erase("gbps");
    b.erase("max_rel_err");
    b["error_occurred"] = true;
    b["error_message"] = "no peer access";
    b["aicbench"]["reason"] = "no peer access";
  }
  return b;
}

json latency_row(int src, int dst, double seconds) {
  const std::string name = "p2p_latency/chase/u32/src:" + std::to_string(src) + "/dst:" + std::to_string(dst) + "/bytes:268435456";
  return {{"name", name}, {"run_name", name}, {"run_type", "iteration"}, {"repetitions", 1}, {"iterations", 1},
          {"real_time", seconds * 1e9}, {"cpu_time", seconds * 1e9}, {"time_unit", "ns"}, {"max_rel_err", 0.0},
          {"aicbench", {{"family", "p2p_latency"}, {"impl", "chase"}, {"dtype", "u32"}, {"backend", "cuda"}, {"mode", "cold"},
                        {"params", {{"src", src}, {"dst", dst}, {"bytes", 268435456}}}, {"status", "ok"},
                        {"validation", {{"max_rel_err", 0.0}, {"tolerance", 0.0}}},
                        {"measurement", {{"samples", 10}, {"median_s", seconds}, {"q1_s", seconds}, {"q3_s", seconds},
                                         {"min_s", seconds}, {"max_s", seconds}, {"rel_stddev", 0.001}}}}}};
}

// Three GPUs; GPU 2's link to GPU 0 is slow one way; sm_write could not run 1 -> 2.
std::vector<json> node_rows() {
  std::vector<json> rows;
  for (int s = 0; s < 3; ++s) {
    for (int d = 0; d < 3; ++d) {
      if (s == d) continue;
      rows.push_back(p2p_row("ce", s, d, 1, (s == 2 && d == 0) ? 21.5 : 390.0 + s + d));
      rows.push_back(p2p_row("sm_write", s, d, 1, 380.0, (s == 1 && d == 2) ? "skipped" : "ok"));
    }
  }
  rows.push_back(p2p_row("ce", 0, 1, 2, 760.0));
  for (int s = 0; s < 3; ++s) {
    for (int d = 0; d < 3; ++d) rows.push_back(latency_row(s, d, s == d ? 650e-9 : 1.9e-6));
  }
  rows.push_back(gemm("cublas", "fp32", 1024, 50));  // not peer-to-peer: ignored
  return rows;
}

const P2pMatrix* find(const std::vector<P2pMatrix>& ms, const std::string& family, const std::string& impl, const std::string& ways) {
  for (const P2pMatrix& m : ms) {
    if (m.family == family && m.title.find(impl) != std::string::npos && m.title.find(ways) != std::string::npos) return &m;
  }
  return nullptr;
}

TEST(P2pMatrix, OneMatrixPerKindWithDiagonalStatusesAndTheWorstPair) {
  const std::vector<ResultFile> files = {in_memory("node.json", result(provenance(true), node_rows()))};
  const auto rows = report_rows(files);
  const std::vector<P2pMatrix> ms = p2p_matrices(rows);
  ASSERT_EQ(ms.size(), 4u) << "ce one way, ce both ways, sm_write one way, latency";
  EXPECT_EQ(ms.front().title.rfind("p2p · ce", 0), 0u) << "the baseline first: " << ms.front().title;
  EXPECT_EQ(ms.back().family, "p2p_latency") << "latency after bandwidth";

  const P2pMatrix* ce = find(ms, "p2p", "ce (copy engines", "one direction");
  ASSERT_NE(ce, nullptr);
  ASSERT_EQ(ce->gpus, 3u);
  EXPECT_EQ(ce->unit, "GB/s");
  EXPECT_EQ(ce->cells[0][0], "–");
  EXPECT_EQ(ce->cells[0][1], "391");
  EXPECT_EQ(ce->cells[2][0], "21.5");
  EXPECT_NE(ce->summary.find("worst pair 2 → 0: 21.5 GB/s"), std::string::npos) << ce->summary;

  const P2pMatrix* sm = find(ms, "p2p", "sm_write", "one direction");
  ASSERT_NE(sm, nullptr);
  EXPECT_EQ(sm->cells[1][2], "skipped") << "a row that did not run shows its status, never a number";

  const P2pMatrix* both = find(ms, "p2p", "ce (copy engines", "both directions");
  ASSERT_NE(both, nullptr);
  EXPECT_EQ(both->cells[0][1], "760");
  EXPECT_EQ(both->cells[1][0], "") << "no row for the pair the other way round";

  const P2pMatrix* lat = find(ms, "p2p_latency", "chase", "chain");
  ASSERT_NE(lat, nullptr);
  EXPECT_EQ(lat->unit, "time per access");
  EXPECT_EQ(lat->cells[1][1], "650 ns") << "the diagonal is the local latency";
  EXPECT_EQ(lat->cells[0][2], "1.90 µs");
  EXPECT_NE(lat->summary.find("worst pair"), std::string::npos);
}

TEST(P2pMatrix, TheReportShowsTheMatricesAndNothingElseHasOne) {
  const std::vector<ResultFile> files = {in_memory("node.json", result(provenance(true), node_rows()))};
  const std::string md = aicbench::reports::render_markdown(files);
  EXPECT_NE(md.find("## Peer-to-peer"), std::string::npos);
  EXPECT_NE(md.find("| GPU 2 | 21.5 |"), std::string::npos) << md;
  const std::string html = aicbench::reports::render_html(files, {});
  EXPECT_NE(html.find("<h2>Peer-to-peer</h2>"), std::string::npos);

  // The matrix is their picture: no chart of 84 shapes for them, the gemm row keeps its chart.
  const auto rows = report_rows(files);
  const auto charts = aicbench::reports::plan_charts(rows, aicbench::reports::summarize_runs(files), false);
  ASSERT_EQ(charts.size(), 1u);
  EXPECT_EQ(charts[0].title.rfind("gemm", 0), 0u) << charts[0].title;

  const std::vector<ResultFile> gemm_only = {in_memory("gemm.json", result(provenance(true), {gemm("cublas", "fp32", 1024, 50)}))};
  EXPECT_EQ(aicbench::reports::render_markdown(gemm_only).find("Peer-to-peer"), std::string::npos);
  EXPECT_TRUE(p2p_matrices(report_rows(gemm_only)).empty());
}

}  // namespace
