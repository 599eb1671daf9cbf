// The procurement scorecard (reports/score.hpp) on hand-made result files whose answers are known:
// the SPEC-style index, the implementation rule, what is left out and why, power measured or
// stated, costs, energy and what the budget buys, the training-capacity seam; and the candidates
// file and profile readers: the shipped files load, bad ones are refused naming file and field.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "reports/result_file.hpp"
#include "reports/score.hpp"
#include "reports/score_render.hpp"
#include "tests/test_dir.hpp"

namespace aicbench::score {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using State = Measurement::State;

const fs::path kSpecs = AICBENCH_SPECS_DIR;
const fs::path kData = AICBENCH_TEST_DATA_DIR;

// ---- Hand-made result files

struct Row {
  std::string family = "gemm", impl = "cublaslt", dtype = "bf16";
  std::string params = "M:8192/N:8192/K:8192";
  bool vendor = true;
  std::optional<double> tflops, gbps, busbw, seconds, power_w;
  std::string status = "ok";
  std::optional<int> ranks;  // a collective row
  int repetition = 0;
  bool unstable = false;
};

Row gemm(const std::string& impl, const std::string& dtype, double tflops, bool vendor = true) {
  Row r;
  r.impl = impl;
  r.dtype = dtype;
  r.tflops = tflops;
  r.vendor = vendor;
  return r;
}

Row memory(double gbps) {
  Row r;
  r.family = "memory";
  r.impl = "memcpy";
  r.dtype = "fp64";
  r.params = "bytes:1073741824";
  r.gbps = gbps;
  return r;
}

json row_json(const Row& r) {
  const std::string name = r.family + "/" + r.impl + "/" + r.dtype + "/" + r.params;
  json params = json::object();
  for (size_t at = 0; at < r.params.size();) {
    const size_t end = std::min(r.params.find('/', at), r.params.size());
    const std::string part = r.params.substr(at, end - at);
    const size_t colon = part.find(':');
    params[part.substr(0, colon)] = std::stoll(part.substr(colon + 1));
    at = end + 1;
  }
  json info = {{"family", r.family}, {"impl", r.impl},   {"dtype", r.dtype},  {"backend", "cuda"},
               {"vendor", r.vendor}, {"params", params}, {"mode", "cold"},    {"status", r.status}};
  json b = {{"name", name}, {"run_name", name}, {"run_type", "iteration"}, {"repetition_index", r.repetition},
            {"iterations", 1}, {"time_unit", "ns"}};
  if (r.status != "ok") {
    info["reason"] = r.status == "failed" ? "max_rel_err 0.3 above the tolerance 0.02" : "not on this GPU";
    b["error_occurred"] = true;
    b["error_message"] = info["reason"];
    b["real_time"] = 0;
    b["aicbench"] = info;
    return b;
  }
  const double seconds = r.seconds.value_or(0.001);
  info["measurement"] = {{"median_s", seconds}, {"samples", 10}};
  if (r.unstable) info["unstable"] = true;
  if (r.tflops) b["tflops"] = *r.tflops;
  if (r.gbps) b["gbps"] = *r.gbps;
  if (r.busbw) {
    b["busbw_gbps"] = *r.busbw;
    b["gbps"] = *r.busbw;
  }
  if (r.ranks) info["collective"] = {{"ranks", *r.ranks}, {"nodes", 1}};
  if (r.power_w) {
    b["power_w"] = *r.power_w;
    info["telemetry"] = {{"power_w", *r.power_w}};
  }
  b["real_time"] = seconds * 1e9;
  b["aicbench"] = info;
  return b;
}

ResultFile result(const std::vector<Row>& rows, const std::string& gpu = "NVIDIA H100 80GB HBM3", bool fixture = false) {
  json benchmarks = json::array();
  for (const Row& r : rows) benchmarks.push_back(row_json(r));
  json p = {{"format_version", 2}, {"start_time", "2026-11-30T00:00:00Z"}, {"complete", true}, {"backend", "cuda"},
            {"host", {{"hostname", "node1"}}}, {"gpus", json::array({{{"index", 0}, {"name", gpu}, {"uuid", "GPU-1"}}})}};
  if (fixture) {
    p["fixture"] = true;
    p["fixture_note"] = "made by test_score";
  }
  const json doc = {{"context", {{"aicbench", p}}}, {"benchmarks", benchmarks}};
  return parse_result_file(doc.dump(), "memory.json");
}

// ---- Hand-made inputs

Profile profile(const json& groups) {
  return parse_profile({{"name", "test"}, {"description", "test weights"}, {"groups", groups}}, "profile.json");
}

CandidateSpec candidate(const std::string& name, double per_gpu_won, std::optional<double> stated_w = 700) {
  CandidateSpec c;
  c.name = name;
  c.sku = name + " SKU";
  c.price.per_gpu_won = per_gpu_won;
  c.power_per_gpu_w = stated_w;
  return c;
}

CandidatesFile input(std::vector<CandidateSpec> candidates, Profile p) {
  CandidatesFile f;
  f.path = "candidates.json";
  f.name = "test";
  f.centre = {1e9, false, 100, 1.0, 1, 1};
  f.profile = std::move(p);
  f.candidates = std::move(candidates);
  return f;
}

const Profile& gemm_and_memory() {
  static const Profile p = profile(json::array({{{"group", "gemm_bf16"}, {"family", "gemm"}, {"dtypes", {"bf16"}}, {"weight", 3}},
                                                {{"group", "memory"}, {"family", "memory"}, {"weight", 1}}}));
  return p;
}

const Operation& operation(const Scorecard& card, const std::string& key) {
  for (const Operation& op : card.operations) {
    if (op.key == key) return op;
  }
  throw std::runtime_error("no operation " + key);
}

// ==== The index

TEST(ScoreIndex, OperationKeyDropsTheImplementationAndAddsCollectiveRanks) {
  EXPECT_EQ(operation_key("gemm/cublaslt/bf16/M:8/N:8/K:8", std::nullopt), "gemm/bf16/M:8/N:8/K:8");
  EXPECT_EQ(operation_key("gemm/cublaslt/bf16/M:8/N:8/K:8/mode:hot", std::nullopt), "gemm/bf16/M:8/N:8/K:8/mode:hot");
  EXPECT_EQ(operation_key("all_reduce/nccl/bf16/bytes:8/in_place:1", 8), "all_reduce/bf16/bytes:8/in_place:1/ranks:8");
  EXPECT_EQ(operation_key("odd", std::nullopt), "odd");
  EXPECT_EQ(operation_key("a/b", std::nullopt), "a");
}

TEST(ScoreIndex, WeightedGeometricMeanOfGroupGeometricMeans) {
  // Two GEMMs in one group (ratios 2 and 8: geometric mean 4), one memory benchmark (ratio 1.5);
  // weights 3 and 1: index = exp(0.75 ln 4 + 0.25 ln 1.5).
  Row big = gemm("cublaslt", "bf16", 100), other = gemm("cublaslt", "bf16", 10);
  other.params = "M:4096/N:4096/K:4096";
  Row big_b = big, other_b = other;
  big_b.tflops = 200;
  other_b.tflops = 80;
  const std::vector<std::vector<ResultFile>> files = {{result({big, other, memory(1000)})},
                                                      {result({big_b, other_b, memory(1500)})}};
  const Scorecard card = compute_scorecard(input({candidate("A", 1e7), candidate("B", 2e7)}, gemm_and_memory()), files);
  ASSERT_EQ(card.scored_operations(), 3u);
  EXPECT_DOUBLE_EQ(card.candidates[0].index, 1.0);
  EXPECT_NEAR(card.candidates[1].index, std::exp(0.75 * std::log(4.0) + 0.25 * std::log(1.5)), 1e-12);
  EXPECT_NEAR(card.groups[0].geomean[1], 4.0, 1e-12);
  EXPECT_NEAR(card.groups[0].weight, 0.75, 1e-12);
  EXPECT_NEAR(operation(card, "gemm/bf16/M:8192/N:8192/K:8192").ratio[1], 2.0, 1e-12);
}

TEST(ScoreIndex, ReferenceChoosesTheDenominator) {
  const std::vector<std::vector<ResultFile>> files = {{result({gemm("cublaslt", "bf16", 100), memory(1000)})},
                                                      {result({gemm("cublaslt", "bf16", 200), memory(1000)})}};
  ScoreOptions options;
  options.reference = "B";
  const Scorecard card = compute_scorecard(input({candidate("A", 1e7), candidate("B", 1e7)}, gemm_and_memory()), files, options);
  EXPECT_EQ(card.reference, 1u);
  EXPECT_DOUBLE_EQ(card.candidates[1].index, 1.0);
  EXPECT_NEAR(card.candidates[0].index, std::pow(0.5, 0.75), 1e-12);
  options.reference = "C";
  try {
    compute_scorecard(input({candidate("A", 1e7), candidate("B", 1e7)}, gemm_and_memory()), files, options);
    FAIL() << "an unknown reference is bad input";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("--reference is 'C', which names no candidate"), std::string::npos) << e.what();
  }
}

TEST(ScoreIndex, MedianOverRepetitionsAndFiles) {
  // Candidate B: repetitions 100, 300 in one file and 200 in another: median 200.
  Row r0 = gemm("cublaslt", "bf16", 100), r1 = gemm("cublaslt", "bf16", 300), r2 = gemm("cublaslt", "bf16", 200);
  r1.repetition = 1;
  const std::vector<std::vector<ResultFile>> files = {{result({gemm("cublaslt", "bf16", 100), memory(1)})},
                                                      {result({r0, r1, memory(1)}), result({r2, memory(1)})}};
  const Scorecard card = compute_scorecard(input({candidate("A", 1e7), candidate("B", 1e7)}, gemm_and_memory()), files);
  const Measurement& m = operation(card, "gemm/bf16/M:8192/N:8192/K:8192").candidates[1];
  EXPECT_DOUBLE_EQ(m.value, 200);
  ASSERT_EQ(m.rows.size(), 3u);
  EXPECT_EQ(m.rows[2].file, 1u);  // the second file's row is traced to it
  EXPECT_EQ(m.rows[1].entry, 1u);
}

TEST(ScoreIndex, BestValidImplementationOrVendorOnly) {
  // Ours is faster on B; on A ours failed validation.
  Row ours_a = gemm("wgmma_sm90", "bf16", 0, false);
  ours_a.tflops.reset();
  ours_a.status = "failed";
  const std::vector<std::vector<ResultFile>> files = {
      {result({gemm("cublaslt", "bf16", 100), ours_a, memory(1)})},
      {result({gemm("cublaslt", "bf16", 100), gemm("wgmma_sm90", "bf16", 150, false), memory(1)})}};
  const CandidatesFile in = input({candidate("A", 1e7), candidate("B", 1e7)}, gemm_and_memory());
  const Scorecard best = compute_scorecard(in, files);
  const Operation& op = operation(best, "gemm/bf16/M:8192/N:8192/K:8192");
  EXPECT_EQ(op.candidates[0].impl, "cublaslt");
  EXPECT_EQ(op.candidates[1].impl, "wgmma_sm90");
  EXPECT_NEAR(op.ratio[1], 1.5, 1e-12);
  ASSERT_EQ(op.candidates[0].others.size(), 1u);
  EXPECT_EQ(op.candidates[0].others[0], "wgmma_sm90 failed validation");
  EXPECT_EQ(op.candidates[1].others[0], "cublaslt (vendor) 100 TFLOP/s");

  ScoreOptions vendor;
  vendor.impls = ImplRule::vendor;
  const Scorecard v = compute_scorecard(in, files, vendor);
  EXPECT_EQ(operation(v, "gemm/bf16/M:8192/N:8192/K:8192").candidates[1].impl, "cublaslt");
  EXPECT_DOUBLE_EQ(v.candidates[1].index, 1.0);
}

TEST(ScoreIndex, MissingBenchmarksAreListedNotZero) {
  // B never ran the 4096 GEMM, and failed the 8192 fp8 one: both left out, with who and why; the
  // index is over what both share. The fp8 group has nothing shared: left out, weights renormalised.
  Row small = gemm("cublaslt", "bf16", 50);
  small.params = "M:4096/N:4096/K:4096";
  Row fp8_fail = gemm("cublaslt", "fp8", 0);
  fp8_fail.tflops.reset();
  fp8_fail.status = "failed";
  const Profile p = profile(json::array({{{"group", "gemm_bf16"}, {"family", "gemm"}, {"dtypes", {"bf16"}}, {"weight", 3}},
                                         {{"group", "gemm_fp8"}, {"family", "gemm"}, {"dtypes", {"fp8"}}, {"weight", 5}},
                                         {{"group", "memory"}, {"family", "memory"}, {"weight", 1}}}));
  const std::vector<std::vector<ResultFile>> files = {
      {result({gemm("cublaslt", "bf16", 100), small, gemm("cublaslt", "fp8", 200), memory(1000)})},
      {result({gemm("cublaslt", "bf16", 300), fp8_fail, memory(1000)})}};
  const Scorecard card = compute_scorecard(input({candidate("A", 1e7), candidate("B", 1e7)}, p), files);
  EXPECT_EQ(card.scored_operations(), 2u);
  const Operation& missing = operation(card, "gemm/bf16/M:4096/N:4096/K:4096");
  EXPECT_FALSE(missing.scored);
  EXPECT_EQ(missing.candidates[1].state, State::not_measured);
  EXPECT_EQ(missing.left_out, "not measured: B");
  const Operation& failed = operation(card, "gemm/fp8/M:8192/N:8192/K:8192");
  EXPECT_EQ(failed.candidates[1].state, State::failed);
  EXPECT_EQ(failed.left_out, "failed validation: B");
  EXPECT_FALSE(card.groups[1].used);
  EXPECT_NEAR(card.groups[0].weight, 0.75, 1e-12);  // 3 / (3 + 1): fp8's 5 left out
  EXPECT_NEAR(card.candidates[1].index, std::pow(3.0, 0.75), 1e-12);
  const std::string md = render_markdown(card);
  EXPECT_NE(md.find("| gemm/bf16/M:4096/N:4096/K:4096 | gemm_bf16 | not measured: B | 50.0 cublaslt F1#1 | not measured |"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("group gemm_fp8 left out of the index: no benchmark of it is valid on every candidate"), std::string::npos)
      << md;
}

TEST(ScoreIndex, UnweightedFamiliesAndTimeOnlyRows) {
  // A launch row has a time only: B's 2 µs against A's 4 µs is a ratio of 2. host_link has no group.
  const Profile p = profile(json::array({{{"group", "launch"}, {"family", "launch"}, {"weight", 1}}}));
  auto launch = [](double seconds) {
    Row r;
    r.family = "launch";
    r.impl = "stream";
    r.dtype = "none";
    r.params = "batch:1";
    r.vendor = false;
    r.seconds = seconds;
    return r;
  };
  Row link = memory(20);
  link.family = "host_link";
  const std::vector<std::vector<ResultFile>> files = {{result({launch(4e-6), link})}, {result({launch(2e-6), link})}};
  const Scorecard card = compute_scorecard(input({candidate("A", 1e7), candidate("B", 1e7)}, p), files);
  const Operation& op = operation(card, "launch/none/batch:1");
  EXPECT_TRUE(op.time_only);
  EXPECT_NEAR(op.ratio[1], 2.0, 1e-12);
  EXPECT_NEAR(card.candidates[1].index, 2.0, 1e-12);
  EXPECT_NE(operation(card, "host_link/fp64/bytes:1073741824").left_out.find("not weighted: profile 'test' has no group"),
            std::string::npos);
}

TEST(ScoreIndex, CollectivesAtDifferentRankCountsAreDifferentBenchmarks) {
  const Profile p = profile(json::array({{{"group", "all_reduce"}, {"family", "all_reduce"}, {"weight", 1}}}));
  auto ar = [](int ranks, double busbw) {
    Row r;
    r.family = "all_reduce";
    r.impl = "nccl";
    r.params = "bytes:1048576/in_place:1";
    r.busbw = busbw;
    r.ranks = ranks;
    return r;
  };
  // A measured 8 and 4 ranks (two runs, two files), B only 8.
  const std::vector<std::vector<ResultFile>> files = {{result({ar(8, 300)}), result({ar(4, 200)})}, {result({ar(8, 600)})}};
  const Scorecard card = compute_scorecard(input({candidate("A", 1e7), candidate("B", 1e7)}, p), files);
  EXPECT_TRUE(operation(card, "all_reduce/bf16/bytes:1048576/in_place:1/ranks:8").scored);
  EXPECT_FALSE(operation(card, "all_reduce/bf16/bytes:1048576/in_place:1/ranks:4").scored);
  EXPECT_EQ(operation(card, "all_reduce/bf16/bytes:1048576/in_place:1/ranks:8").unit, "GB/s (bus)");
  EXPECT_NEAR(card.candidates[1].index, 2.0, 1e-12);
}

TEST(ScoreIndex, NothingSharedIsBadInput) {
  const std::vector<std::vector<ResultFile>> files = {{result({gemm("cublaslt", "bf16", 100)})}, {result({memory(1)})}};
  try {
    compute_scorecard(input({candidate("A", 1e7), candidate("B", 1e7)}, gemm_and_memory()), files);
    FAIL() << "no shared benchmark must be refused";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("nothing to compare"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("A: 1 valid benchmarks; B: 1 valid benchmarks"), std::string::npos) << e.what();
  }
}

// ==== Power, money, budget

TEST(ScoreFigures, PowerMeasuredPerGroupWeightedElseStated) {
  Row g = gemm("cublaslt", "bf16", 100), m = memory(1000);
  g.power_w = 700;
  m.power_w = 500;
  // A: measured, (3 x 700 + 1 x 500) / 4 = 650 W. B: no telemetry, stated 1000 W.
  const std::vector<std::vector<ResultFile>> files = {{result({g, m})},
                                                      {result({gemm("cublaslt", "bf16", 200), memory(2000)})}};
  const Scorecard card =
      compute_scorecard(input({candidate("A", 1e7), candidate("B", 1e7, 1000)}, gemm_and_memory()), files);
  EXPECT_TRUE(card.candidates[0].power.measured);
  EXPECT_DOUBLE_EQ(card.candidates[0].power.watts, 650);
  EXPECT_EQ(card.candidates[0].power.rows, 2u);
  EXPECT_FALSE(card.candidates[1].power.measured);
  EXPECT_DOUBLE_EQ(card.candidates[1].power.watts, 1000);
  EXPECT_NEAR(card.candidates[1].perf_per_kw, 2.0, 1e-12);
  EXPECT_NE(render_markdown(card).find("1000 W STATED"), std::string::npos);

  try {
    compute_scorecard(input({candidate("A", 1e7), candidate("B", 1e7, std::nullopt)}, gemm_and_memory()), files);
    FAIL() << "no power at all is bad input";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("candidate 'B' has no power figure"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("power_per_gpu_w"), std::string::npos) << e.what();
  }
}

TEST(ScoreFigures, CostsEnergyAndWholeNodes) {
  // 8 GPUs per node at 400M won a node, node costs 30M + 10M: 440M a node, 55M a GPU.
  // Power 500 W stated, idle 100 W, node 800 W: 0.5 x 500 + 0.5 x 100 + 800 / 8 = 400 W average.
  // Energy: 0.4 kW x 8766 h x 2 years x PUE 1.5 = 10,519.2 kWh; at 200 won/kWh 2,103,840 won.
  CandidateSpec a = candidate("A", 0, 500);
  a.price = {};
  a.price.per_node_won = 400e6;
  a.gpus_per_node = 8;
  a.node_costs_won = {{"network", 30e6}, {"rack", 10e6}};
  a.idle_power_per_gpu_w = 100;
  a.node_power_w = 800;
  CandidatesFile in = input({a}, gemm_and_memory());
  in.centre = {1e10, false, 200, 1.5, 2, 0.5};
  const std::vector<std::vector<ResultFile>> files = {{result({gemm("cublaslt", "bf16", 100), memory(1)})}};
  const Scorecard card = compute_scorecard(in, files);
  const CandidateScore& s = card.candidates[0];
  EXPECT_DOUBLE_EQ(s.costs.purchase_per_node, 440e6);
  EXPECT_DOUBLE_EQ(s.costs.purchase_per_gpu, 55e6);
  EXPECT_DOUBLE_EQ(s.costs.average_draw_w, 400);
  EXPECT_NEAR(s.costs.energy_kwh_per_gpu, 10519.2, 1e-6);
  EXPECT_NEAR(s.costs.energy_won_per_gpu, 2103840, 1e-3);
  EXPECT_NEAR(s.costs.tco_per_gpu, 55e6 + 2103840, 1e-3);
  EXPECT_NEAR(s.perf_per_100m_won_purchase, 1 / 0.55, 1e-12);
  // 1e10 / 440e6 = 22.7: 22 nodes, 176 GPUs, 320M won left.
  ASSERT_TRUE(s.budget.nodes);
  EXPECT_EQ(*s.budget.nodes, 22);
  EXPECT_EQ(s.budget.gpus, 176);
  EXPECT_NEAR(s.budget.left_won, 1e10 - 22 * 440e6, 1e-3);
  EXPECT_DOUBLE_EQ(s.fleet_performance, 176);

  // The budget covering TCO: a node costs 440M + 8 x 2.10384M.
  in.centre.budget_covers_tco = true;
  const Scorecard tco = compute_scorecard(in, files);
  EXPECT_EQ(*tco.candidates[0].budget.nodes, static_cast<int64_t>(1e10 / (440e6 + 8 * 2103840)));
  // One node costing more than the budget: none, and it says so.
  in.centre = {1e8, false, 200, 1.5, 2, 0.5};
  const Scorecard poor = compute_scorecard(in, files);
  EXPECT_EQ(poor.candidates[0].budget.gpus, 0);
  EXPECT_NE(poor.candidates[0].notes.back().find("the budget buys no node"), std::string::npos);
}

TEST(ScoreFigures, RankedByWhatTheBudgetBuys) {
  // B is twice as fast and costs three times as much: A's budget buys more performance.
  const std::vector<std::vector<ResultFile>> files = {{result({gemm("cublaslt", "bf16", 100), memory(1)})},
                                                      {result({gemm("cublaslt", "bf16", 200), memory(2)})}};
  const Scorecard card = compute_scorecard(input({candidate("A", 1e7), candidate("B", 3e7)}, gemm_and_memory()), files);
  EXPECT_EQ(card.candidates[0].rank, 1u);
  EXPECT_EQ(card.candidates[1].rank, 2u);
  EXPECT_EQ(card.candidates[0].budget.gpus, 100);
  EXPECT_EQ(card.candidates[1].budget.gpus, 33);
  EXPECT_EQ(card.ranking(), (std::vector<size_t>{0, 1}));
}

TEST(ScoreFigures, TrainingCapacityComesThroughTheSeam) {
  const std::vector<std::vector<ResultFile>> files = {{result({gemm("cublaslt", "bf16", 100), memory(1)})},
                                                      {result({gemm("cublaslt", "bf16", 200), memory(2)})}};
  CandidatesFile in = input({candidate("A", 1e7), candidate("B", 1e7)}, gemm_and_memory());
  EXPECT_EQ(compute_scorecard(in, files).candidates[0].training_unavailable, "no training.model in the candidates file");
  in.training_model = "llama3-70b";
  EXPECT_EQ(compute_scorecard(in, files).candidates[0].training_unavailable,
            "the sizing model is not wired into score in this build");
  ScoreOptions options;
  std::vector<int64_t> asked;
  options.training_capacity = [&](const TrainingRequest& r) {
    asked.push_back(r.gpus);
    if (r.candidate.name == "B") throw std::runtime_error("no layout fits");
    EXPECT_EQ(r.files.size(), 1u);
    return TrainingCapacity{r.model, 1e9 * static_cast<double>(r.gpus), 0.4, "tp=8"};
  };
  const Scorecard card = compute_scorecard(in, files, options);
  EXPECT_EQ(asked, (std::vector<int64_t>{100, 100}));
  ASSERT_TRUE(card.candidates[0].training);
  EXPECT_DOUBLE_EQ(card.candidates[0].training->tokens_per_day, 1e11);
  EXPECT_EQ(card.candidates[1].training_unavailable, "no layout fits");
  const std::string md = render_markdown(card);
  EXPECT_NE(md.find("Training capacity (llama3-70b)"), std::string::npos);
  EXPECT_NE(md.find("1.00e+11 tokens/day of llama3-70b, MFU 40.0 %"), std::string::npos) << md;
  EXPECT_NE(md.find("not available: no layout fits"), std::string::npos);
}

TEST(ScoreFigures, FixturesAreSaidSo) {
  const std::vector<std::vector<ResultFile>> files = {{result({gemm("cublaslt", "bf16", 100), memory(1)}, "H100", true)},
                                                      {result({gemm("cublaslt", "bf16", 200), memory(2)})}};
  const Scorecard card = compute_scorecard(input({candidate("A", 1e7), candidate("B", 1e7)}, gemm_and_memory()), files);
  EXPECT_TRUE(card.candidates[0].fixture);
  EXPECT_EQ(card.notes.front(), "FIXTURE data: the result files of A are fixtures that stand in for measurements, not measured results");
  EXPECT_NE(render_markdown(card).find("| A (reference) FIXTURE |"), std::string::npos);
}

// ==== Reading candidates files and profiles

class ScoreInput : public ::testing::Test {
 protected:
  // A valid candidates file in the test directory, with one result file per candidate.
  json valid() {
    testing_write(dir_ / "a.json", result({gemm("cublaslt", "bf16", 100), memory(1)}).json);
    testing_write(dir_ / "b.json", result({gemm("cublaslt", "bf16", 200), memory(2)}).json);
    return {{"name", "t"},
            {"centre", {{"budget_won", 1e9}, {"electricity_won_per_kwh", 100}, {"pue", 1.2}, {"service_years", 5}, {"utilisation", 0.8}}},
            {"profile", "mixed"},
            {"candidates",
             {{{"name", "A"}, {"sku", "a"}, {"results", {"a.json"}}, {"price", {{"per_gpu_won", 1e7}}}, {"power_per_gpu_w", 700}},
              {{"name", "B"}, {"sku", "b"}, {"results", {"b*.json"}}, {"price", {{"per_gpu_won", 2e7}}}, {"power_per_gpu_w", 700}}}}};
  }
  static void testing_write(const fs::path& path, const json& j) { std::ofstream(path) << j.dump(1); }
  // Loads `j` written as candidates.json; returns the error message, or "" when it loads.
  std::string load_error(const json& j) {
    testing_write(dir_ / "candidates.json", j);
    try {
      load_candidates(dir_ / "candidates.json");
      return "";
    } catch (const InputError& e) {
      return e.what();
    }
  }
  testing::TestDir dir_;
};

TEST_F(ScoreInput, AValidFileLoadsWithItsGlobsAndTheShippedProfile) {
  testing_write(dir_ / "candidates.json", valid());
  const CandidatesFile f = load_candidates(dir_ / "candidates.json");
  ASSERT_EQ(f.candidates.size(), 2u);
  ASSERT_EQ(f.candidates[1].files.size(), 1u);
  EXPECT_EQ(f.candidates[1].files[0].filename(), "b.json");
  EXPECT_EQ(f.profile.name, "mixed");
  EXPECT_EQ(f.profile.path, kSpecs / "procurement" / "profiles" / "mixed.json");
  // A profile of the same name beside the file wins; --profile replaces the file's.
  fs::create_directories(dir_ / "profiles");
  testing_write(dir_ / "profiles" / "mixed.json",
                {{"name", "local"}, {"description", "d"}, {"groups", {{{"group", "g"}, {"family", "gemm"}, {"weight", 1}}}}});
  EXPECT_EQ(load_candidates(dir_ / "candidates.json").profile.name, "local");
  EXPECT_EQ(load_candidates(dir_ / "candidates.json", "inference-heavy").profile.name, "inference-heavy");
}

TEST_F(ScoreInput, RefusalsNameTheFieldAndWhatWasExpected) {
  json j = valid();
  j["candidates"][0]["price"] = json::object();
  EXPECT_NE(load_error(j).find("field 'candidates[0].price' gives no price; expected per_gpu_won"), std::string::npos)
      << load_error(j);
  j = valid();
  j["candidates"][0]["price"]["per_node_won"] = 1e8;
  EXPECT_NE(load_error(j).find("field 'candidates[0].price' gives both per_gpu_won and per_node_won"), std::string::npos);
  j = valid();
  j["candidates"][0]["price"] = {{"per_node_won", 1e8}};
  EXPECT_NE(load_error(j).find("field 'candidates[0].price.per_node_won' is a price per node, so the candidate needs gpus_per_node"),
            std::string::npos);
  j = valid();
  j["candidates"][1]["results"] = {"x*.json"};
  const std::string nomatch = load_error(j);
  EXPECT_NE(nomatch.find("candidates.json: field 'candidates[1].results[0]' is 'x*.json', which matches no file"), std::string::npos)
      << nomatch;
  j = valid();
  j["candidates"][1]["results"] = {"a.json"};
  EXPECT_NE(load_error(j).find("which candidates[0].results[0] matches too"), std::string::npos) << load_error(j);
  j = valid();
  j["candidates"][1]["name"] = "A";
  EXPECT_NE(load_error(j).find("field 'candidates[1].name' is 'A', the name of candidates[0] too"), std::string::npos);
  j = valid();
  j["profile"] = "trainig-heavy";
  const std::string profile = load_error(j);
  EXPECT_NE(profile.find("field 'profile' is 'trainig-heavy', which is no known profile; did you mean 'training-heavy'?"),
            std::string::npos)
      << profile;
  j = valid();
  j["profile"] = "nowhere/p.json";
  EXPECT_NE(load_error(j).find("field 'profile' is 'nowhere/p.json', which is not a file"), std::string::npos);
  j = valid();
  j["centre"]["pue"] = 0.5;
  EXPECT_NE(load_error(j).find("field 'centre.pue' is 0.5, expected a number >= 1"), std::string::npos) << load_error(j);
  j = valid();
  j["candidates"][0]["prce"] = 1;
  EXPECT_NE(load_error(j).find("did you mean 'candidates[0].price'?"), std::string::npos) << load_error(j);
  j = valid();
  j["reference"] = "Z";
  EXPECT_NE(load_error(j).find("field 'reference' is 'Z', which names no candidate"), std::string::npos);
  j = valid();
  j.erase("centre");
  EXPECT_NE(load_error(j).find("centre"), std::string::npos);
  std::ofstream(dir_ / "candidates.json") << "{ \"name\": ";
  try {
    load_candidates(dir_ / "candidates.json");
    FAIL() << "malformed JSON must be refused";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("candidates.json"), std::string::npos) << e.what();
  }
}

TEST(ScoreProfiles, OverlapsAndZeroWeightsAreRefused) {
  auto error = [](const json& groups) {
    try {
      profile(groups);
      return std::string();
    } catch (const InputError& e) {
      return std::string(e.what());
    }
  };
  EXPECT_NE(error(json::array({{{"group", "a"}, {"family", "gemm"}, {"weight", 1}},
                               {{"group", "b"}, {"family", "gemm"}, {"dtypes", {"fp8"}}, {"weight", 1}}}))
                .find("field 'groups[1]' (group 'b') selects benchmarks of family 'gemm' that groups[0] ('a') selects too"),
            std::string::npos);
  EXPECT_NE(error(json::array({{{"group", "a"}, {"family", "gemm"}, {"weight", 0}}})).find("every group weight 0"),
            std::string::npos);
  EXPECT_EQ(error(json::array({{{"group", "a"}, {"family", "gemm"}, {"dtypes", {"bf16"}}, {"weight", 1}},
                               {{"group", "b"}, {"family", "gemm"}, {"dtypes", {"fp8"}}, {"weight", 1}}})),
            "");
}

TEST(ScoreProfiles, ShippedProfilesAndTheExampleLoad) {
  EXPECT_EQ(shipped_profiles(), (std::vector<std::string>{"inference-heavy", "mixed", "training-heavy"}));
  for (const std::string& name : shipped_profiles()) {
    const Profile p = load_profile(kSpecs / "procurement" / "profiles" / (name + ".json"));
    EXPECT_EQ(p.name, name);
    for (const Group& g : p.groups) EXPECT_FALSE(g.why.empty()) << name << " " << g.name;
  }
  const CandidatesFile example = load_candidates(kSpecs / "procurement" / "example.json");
  ASSERT_EQ(example.candidates.size(), 3u);
  for (const CandidateSpec& c : example.candidates) EXPECT_EQ(c.files.size(), 2u) << c.name;
  EXPECT_EQ(example.reference, "H100-class");
}

}  // namespace
}  // namespace aicbench::score
