// The report's collectives section (reports/collective_versus.hpp): per size the vendor's best
// (NCCL in its best mode) beside our best, the speed-up, the crossover between the two, and which
// of ours leads where (one-shot against two-shot). Failed rows never count, however fast.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "reports/collective_versus.hpp"
#include "reports/report.hpp"
#include "tests/report_fixtures.hpp"

namespace {

using namespace aicbench::testing;
using aicbench::ResultFile;
using aicbench::reports::collective_comparisons;
using aicbench::reports::CollectiveVersus;
using aicbench::reports::report_rows;

json all_reduce_row(const std::string& impl, bool vendor, int64_t bytes, double seconds, int in_place = 0,
                    const std::string& status = "ok") {
  const std::string name = "all_reduce/" + impl + "/fp32/bytes:" + std::to_string(bytes) + "/in_place:" + std::to_string(in_place);
  const double busbw = 2.0 * 3 / 4 * double(bytes) / seconds / 1e9;
  json b = {{"name", name}, {"run_name", name}, {"run_type", "iteration"}, {"repetitions", 1}, {"iterations", 1},
            {"real_time", seconds * 1e9}, {"cpu_time", seconds * 1e9}, {"time_unit", "ns"},
            {"busbw_gbps", busbw}, {"algbw_gbps", busbw * 4 / 6}, {"gbps", busbw}, {"max_rel_err", 0.0},
            {"aicbench", {{"family", "all_reduce"}, {"impl", impl}, {"dtype", "fp32"}, {"backend", "cuda"}, {"mode", "hot"},
                          {"vendor", vendor}, {"params", {{"bytes", bytes}, {"in_place", in_place}}}, {"status", status},
                          {"collective", {{"ranks", 4}, {"nodes", 1}, {"size_bytes", bytes}, {"count", bytes / 4},
                                          {"in_place", in_place == 1}, {"busbw_factor", 1.5}, {"wrong_elements", 0}}},
                          {"validation", {{"max_rel_err", 0.0}, {"tolerance", 0.0}, {"wrong_elements", 0}}}}}};
  if (status != "ok") {
    for (const char* counter : {"busbw_gbps", "algbw_gbps", "gbps", "max_rel_err"}) b.erase(counter);
    b["error_occurred"] = true;
    b["error_message"] = "3 wrong elements";
    b["aicbench"]["reason"] = "3 wrong elements";
  }
  return b;
}

// Four GPUs, out of place: ours lead up to 256 KiB (one-shot, then two-shot), NCCL from 4 MiB;
// NCCL's symmetric mode is its best at small sizes. A failed one-shot at 4 MiB is faster than
// everything there and must not count. In place: ours only (no NCCL row), so no crossover.
std::vector<json> rows() {
  std::vector<json> r;
  r.push_back(all_reduce_row("nccl", true, 8, 17e-6));
  r.push_back(all_reduce_row("nccl_symmetric", true, 8, 9e-6));
  r.push_back(all_reduce_row("oneshot_ipc", false, 8, 6e-6));
  r.push_back(all_reduce_row("twoshot_ipc", false, 8, 11e-6));
  r.push_back(all_reduce_row("nccl", true, 262144, 30e-6));
  r.push_back(all_reduce_row("nccl_symmetric", true, 262144, 28e-6));
  r.push_back(all_reduce_row("oneshot_ipc", false, 262144, 25e-6));
  r.push_back(all_reduce_row("twoshot_ipc", false, 262144, 14e-6));
  r.push_back(all_reduce_row("nccl", true, 4194304, 40e-6));
  r.push_back(all_reduce_row("oneshot_ipc", false, 4194304, 5e-6, 0, "failed"));
  r.push_back(all_reduce_row("twoshot_ipc", false, 4194304, 80e-6));
  r.push_back(all_reduce_row("oneshot_ipc", false, 8, 7e-6, 1));
  r.push_back(gemm("cublas", "fp32", 1024, 50));  // not a collective: ignored
  return r;
}

TEST(CollectiveVersus, VendorBestBesideOursWithTheCrossovers) {
  const std::vector<ResultFile> files = {in_memory("node.json", result(provenance(true), rows()))};
  const std::vector<CollectiveVersus> vs = collective_comparisons(report_rows(files));
  ASSERT_EQ(vs.size(), 2u) << "out of place and in place";
  const CollectiveVersus& out = vs[0];
  EXPECT_EQ(out.title.rfind("all_reduce · fp32 · out of place", 0), 0u) << out.title;
  ASSERT_EQ(out.sizes.size(), 3u);
  EXPECT_EQ(out.sizes[0].vendor_impl, "nccl_symmetric") << "NCCL in its best mode";
  EXPECT_DOUBLE_EQ(*out.sizes[0].vendor_s, 9e-6);
  EXPECT_EQ(out.sizes[0].ours_impl, "oneshot_ipc");
  EXPECT_DOUBLE_EQ(*out.sizes[0].speedup(), 1.5);
  EXPECT_EQ(out.sizes[1].ours_impl, "twoshot_ipc");
  EXPECT_EQ(out.sizes[2].ours_impl, "twoshot_ipc") << "the failed one-shot row does not count";
  EXPECT_DOUBLE_EQ(*out.sizes[2].speedup(), 0.5);
  EXPECT_EQ(out.lead, "ours faster from 8 B to 256 KiB; the vendor faster at 4 MiB");
  EXPECT_EQ(out.our_best, "oneshot_ipc at 8 B; twoshot_ipc from 256 KiB to 4 MiB");

  const CollectiveVersus& in = vs[1];
  ASSERT_EQ(in.sizes.size(), 1u);
  EXPECT_FALSE(in.sizes[0].vendor_s);
  EXPECT_FALSE(in.sizes[0].speedup());
  EXPECT_EQ(in.lead, "") << "no vendor row: no crossover to state";

  // The report says it, in Markdown and in HTML.
  const std::string md = aicbench::reports::render_markdown(files);
  EXPECT_NE(md.find("## Collectives: ours against the vendor"), std::string::npos) << md;
  EXPECT_NE(md.find("| 8 B | nccl_symmetric | 9.00 µs | oneshot_ipc | 6.00 µs | 1.50x |"), std::string::npos) << md;
  EXPECT_NE(md.find("Crossover: ours faster from 8 B to 256 KiB; the vendor faster at 4 MiB."), std::string::npos) << md;
  const std::string html = aicbench::reports::render_html(files, {});
  EXPECT_NE(html.find("<h2>Collectives: ours against the vendor</h2>"), std::string::npos);
}

// A job of more than 8 GPUs gets the compact view; its collectives (in rank 0's node file) are
// still compared there.
TEST(CollectiveVersus, TheCompactViewToo) {
  std::vector<ResultFile> files = {in_memory("node0.json", result(provenance(true), rows()))};
  for (int node = 1; node < 10; ++node) {
    files.push_back(in_memory("node" + std::to_string(node) + ".json", result(provenance(true), {gemm("cublas", "fp32", 1024, 50)})));
  }
  ASSERT_TRUE(aicbench::reports::choose_view(files.size()).compact);
  const std::string md = aicbench::reports::render_markdown(files);
  EXPECT_NE(md.find("## Collectives: ours against the vendor"), std::string::npos) << md;
  EXPECT_NE(md.find("Crossover: ours faster from 8 B to 256 KiB; the vendor faster at 4 MiB."), std::string::npos) << md;
  const std::string html = aicbench::reports::render_html(files, {});
  EXPECT_NE(html.find("<h2>Collectives: ours against the vendor</h2>"), std::string::npos);

  // A fleet of node files that each ran their own collectives: the first 8 comparisons, and how
  // many more were left out, not a table per file.
  std::vector<ResultFile> fleet;
  for (int node = 0; node < 12; ++node) {
    fleet.push_back(in_memory("node" + std::to_string(node) + ".json", result(provenance(true), rows())));
  }
  const std::string fleet_md = aicbench::reports::render_markdown(fleet);
  size_t tables = 0;
  for (size_t at = fleet_md.find("· all_reduce · fp32"); at != std::string::npos; at = fleet_md.find("· all_reduce · fp32", at + 1)) ++tables;
  EXPECT_EQ(tables, 8u) << fleet_md;
  EXPECT_NE(fleet_md.find("16 more comparisons"), std::string::npos) << fleet_md;
  EXPECT_NE(aicbench::reports::render_html(fleet, {}).find("16 more comparisons"), std::string::npos);
}

TEST(CollectiveVersus, NothingWithoutCollectives) {
  const std::vector<ResultFile> files = {in_memory("gemm.json", result(provenance(true), {gemm("cublas", "fp32", 1024, 50)}))};
  EXPECT_TRUE(collective_comparisons(report_rows(files)).empty());
  EXPECT_EQ(aicbench::reports::render_markdown(files).find("ours against the vendor"), std::string::npos);
}

}  // namespace
