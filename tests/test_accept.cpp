// aicbench accept's decisions, tested on the verdict structures (reports/accept.hpp), not on text:
// the shipped specs load, and on generated fleets (GPU nodes made from a real CPU result file,
// and CPU nodes from the real run itself) exactly the nodes that break a clause fail, each failure
// naming the clause, GPU, benchmark, value and threshold. Bad specs are exit 2 naming file and field.
#include <algorithm>
#include <filesystem>
#include <functional>
#include <string>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

#include "reports/accept.hpp"
#include "reports/accept_render.hpp"
#include "reports/result_file.hpp"
#include "tests/accept_fixtures.hpp"

namespace aicbench {
namespace {

namespace fs = std::filesystem;
using accept::Problem;
using testing::GpuRun;
using testing::json;

const fs::path kSpecs = AICBENCH_SPECS_DIR;
const std::string kBf16Lt = "gemm/cublaslt/bf16/M:8192/N:8192/K:8192";
const std::string kFp8Lt = "gemm/cublaslt/fp8/M:8192/N:8192/K:8192";
const std::string kFp32 = "gemm/cublas/fp32/M:8192/N:8192/K:8192";
const std::string kWgmmaBf16 = "gemm/wgmma_sm90_multicast/bf16/M:8192/N:8192/K:8192";
const std::string kWgmmaFp8 = "gemm/wgmma_sm90_multicast/fp8/M:8192/N:8192/K:8192";
const std::string kCpu512 = "gemm/cpu_blocked/fp32/M:512/N:512/K:512";
const std::string kCpu256 = "gemm/cpu_blocked/fp32/M:256/N:256/K:256";
const std::string kBurnin = "burnin/cublaslt/bf16/M:8192/N:8192/K:8192/seconds:180";
const std::string kTriad = "memory/triad/fp64/bytes:1073741824";
const std::string kH2d = "host_link/h2d_pinned/u8/bytes:268435456";
const std::string kD2h = "host_link/d2h_pinned/u8/bytes:268435456";

// One failure as the tests compare it: clause, GPU ("" for the node), problem, benchmark.
using Failure = std::tuple<std::string, std::string, std::string, std::string>;

ResultFile as_file(const json& j, const std::string& name) {
  return parse_result_file(j.dump(), name);  // through every check a file on disk gets
}

// Every failure of one node, sorted.
std::vector<Failure> failures_of(const accept::Spec& spec, const accept::Verdict& verdict, const std::string& host) {
  std::vector<Failure> out;
  for (const accept::NodeVerdict& node : verdict.nodes) {
    if (node.host != host) continue;
    auto take = [&](const accept::Outcome& o, const std::string& gpu) {
      for (const accept::Violation& v : o.violations) {
        out.emplace_back(spec.clauses[o.clause].id, gpu, accept::problem_name(v.problem), v.benchmark);
      }
    };
    for (const auto& o : node.outcomes) take(o, "");
    for (const auto& gpu : node.gpus) {
      for (const auto& o : gpu.outcomes) take(o, gpu.id);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> failed_hosts(const accept::Verdict& verdict) {
  std::vector<std::string> hosts;
  for (const auto& node : verdict.nodes) {
    if (!node.passed()) hosts.push_back(node.host);
  }
  return hosts;
}

const accept::Violation* find_violation(const accept::Spec& spec, const accept::Verdict& verdict, const std::string& host,
                                        const std::string& clause_id) {
  for (const auto& node : verdict.nodes) {
    if (node.host != host) continue;
    for (const auto& gpu : node.gpus) {
      for (const auto& o : gpu.outcomes) {
        if (spec.clauses[o.clause].id == clause_id && !o.violations.empty()) return &o.violations.front();
      }
    }
    for (const auto& o : node.outcomes) {
      if (spec.clauses[o.clause].id == clause_id && !o.violations.empty()) return &o.violations.front();
    }
  }
  return nullptr;
}

std::string gpu_id(const std::string& host, int i) { return "GPU-" + host + "-" + std::to_string(i); }

// ---------------------------------------------------------------------------------------------

TEST(AcceptSpec, ShippedSpecsLoad) {
  for (const char* name : {"h100_sxm", "h200", "b200", "cpu"}) {
    SCOPED_TRACE(name);
    const accept::Spec spec = accept::load_spec(kSpecs / "acceptance" / (std::string(name) + ".json"));
    EXPECT_EQ(spec.name, name);
    EXPECT_EQ(spec.suite, "acceptance");
    EXPECT_FALSE(spec.clauses.empty());
    const bool gpu = spec.backend == "cuda";
    if (gpu) {
      EXPECT_NE(spec.description.find("provisional until measured on the delivered hardware"), std::string::npos);
      EXPECT_FALSE(spec.sources.empty());
    }
    // Every rule the issue asks for is in each GPU spec.
    std::set<accept::Rule> rules;
    for (const auto& clause : spec.clauses) rules.insert(clause.rule);
    for (accept::Rule rule : {accept::Rule::sku, accept::Rule::gpus_per_node, accept::Rule::suite_complete,
                              accept::Rule::validation_passed, accept::Rule::no_errors, accept::Rule::min_throughput,
                              accept::Rule::health_clean}) {
      EXPECT_TRUE(rules.count(rule)) << accept::rule_name(rule);
    }
    EXPECT_TRUE(rules.count(accept::Rule::burnin));
    if (gpu) {
      EXPECT_TRUE(rules.count(accept::Rule::max_temperature));
      EXPECT_TRUE(rules.count(accept::Rule::min_sm_clock));
      EXPECT_TRUE(rules.count(accept::Rule::health_min));
    }
  }
  // bf16 GEMM through cuBLASLt at 8192^3: at least 70 % of the dense peak on every GPU spec.
  for (const char* name : {"h100_sxm", "h200", "b200"}) {
    const accept::Spec spec = accept::load_spec(kSpecs / "acceptance" / (std::string(name) + ".json"));
    const auto bf16 = std::find_if(spec.clauses.begin(), spec.clauses.end(),
                                   [](const accept::Clause& c) { return c.benchmark == kBf16Lt; });
    ASSERT_NE(bf16, spec.clauses.end()) << name;
    EXPECT_EQ(bf16->unit, accept::Unit::pct_of_peak);
    EXPECT_EQ(*bf16->threshold, 70);
  }
}

TEST(AcceptSpec, BenchmarkPatternsEndAtASlash) {
  EXPECT_TRUE(accept::benchmark_matches("", kBf16Lt));
  EXPECT_TRUE(accept::benchmark_matches(kBf16Lt, kBf16Lt));
  EXPECT_TRUE(accept::benchmark_matches(kBf16Lt, kBf16Lt + "/mode:hot"));
  EXPECT_TRUE(accept::benchmark_matches("gemm/wgmma_sm90_multicast", kWgmmaBf16));
  EXPECT_TRUE(accept::benchmark_matches("gemm/wgmma_sm90_multicast/", kWgmmaBf16));
  EXPECT_TRUE(accept::benchmark_matches("gemm/wgmma_sm90", "gemm/wgmma_sm90/bf16/M:8192/N:8192/K:8192"));
  EXPECT_FALSE(accept::benchmark_matches("gemm/wgmma_sm90", kWgmmaBf16));
  EXPECT_FALSE(accept::benchmark_matches("gemm/cublas", kBf16Lt));
  EXPECT_TRUE(accept::benchmark_matches("gemm/cublas", kFp32));
  EXPECT_FALSE(accept::benchmark_matches("gemm/cublaslt/bf16/M:8192/N:8192/K:819", kBf16Lt));
}

TEST(AcceptSpec, SkuNamesMatchAsTheDatasheetsDo) {
  const accept::Spec h100 = accept::load_spec(kSpecs / "acceptance/h100_sxm.json");
  const accept::Spec h200 = accept::load_spec(kSpecs / "acceptance/h200.json");
  const accept::Spec b200 = accept::load_spec(kSpecs / "acceptance/b200.json");
  EXPECT_TRUE(accept::sku_matches(h100, "NVIDIA H100 80GB HBM3"));
  EXPECT_FALSE(accept::sku_matches(h100, "NVIDIA H100 PCIe"));
  EXPECT_FALSE(accept::sku_matches(h100, "NVIDIA A100-SXM4-80GB"));
  EXPECT_TRUE(accept::sku_matches(h200, "NVIDIA H200"));
  EXPECT_FALSE(accept::sku_matches(h200, "NVIDIA H200 NVL"));
  EXPECT_TRUE(accept::sku_matches(b200, "NVIDIA B200"));
  EXPECT_FALSE(accept::sku_matches(b200, "NVIDIA GB200"));
}

// ---------------------------------------------------------------------------------------------
// GPU fleets: exactly the planted nodes fail, for exactly their planted reasons.

class GpuFleet : public ::testing::Test {
 protected:
  void add_node(const std::vector<GpuRun>& gpus, const std::function<void(json&, int)>& edit = nullptr) {
    for (size_t i = 0; i < gpus.size(); ++i) {
      json j = testing::gpu_result(gpus[i]);
      if (edit) edit(j, static_cast<int>(i));
      files_.push_back(as_file(j, gpus[i].host + "-" + std::to_string(i) + ".json"));
    }
  }
  accept::Verdict verdict() const { return accept::evaluate(spec_, files_); }

  accept::Spec spec_ = accept::load_spec(kSpecs / "acceptance/h100_sxm.json");
  std::vector<ResultFile> files_;
};

TEST_F(GpuFleet, ExactlyThePlantedNodesFail) {
  add_node(testing::healthy_node("n01"));
  {  // every health counter recorded and zero (retired pages too): passes, and says nothing is missing
    auto node = testing::healthy_node("n02");
    for (auto& gpu : node) {
      json health = testing::healthy_health();
      health["retired_pages_double_bit"] = 0;
      health["retired_pages_pending"] = false;
      health["unavailable"] = json::object();
      gpu.health = health;
    }
    add_node(node);
  }
  {  // slow: one GPU's bf16 cuBLASLt at 61 % of peak
    auto node = testing::healthy_node("n03");
    node[3].pct[kBf16Lt] = 61;
    add_node(node);
  }
  {  // hot
    auto node = testing::healthy_node("n04");
    node[5].temp_of[kWgmmaFp8] = 91;
    add_node(node);
  }
  {  // low clock
    auto node = testing::healthy_node("n05");
    node[2].clock_of[kFp32] = 1100;
    add_node(node);
  }
  {  // our kernel fails validation
    auto node = testing::healthy_node("n06");
    node[1].status[kWgmmaBf16] = {"failed", "max_rel_err 0.5 exceeds tolerance 0.01"};
    add_node(node);
  }
  {  // an error
    auto node = testing::healthy_node("n07");
    node[0].status[kFp32] = {"error", "CUDA error: an illegal memory access was encountered"};
    add_node(node);
  }
  {  // a benchmark missing
    auto node = testing::healthy_node("n08");
    node[6].omit.insert(kFp8Lt);
    add_node(node);
  }
  add_node(testing::healthy_node("n09", 7));  // one GPU short
  {  // retired pages
    auto node = testing::healthy_node("n10");
    node[4].health->operator[]("retired_pages_double_bit") = 2;
    add_node(node);
  }
  {  // a run that stopped early
    auto node = testing::healthy_node("n11");
    node[7].complete = false;
    add_node(node);
  }
  {  // the wrong GPU
    auto node = testing::healthy_node("n12");
    node[0].gpu_name = "NVIDIA A100-SXM4-80GB";
    add_node(node);
  }
  {  // repetitions: one slow repetition of three is noise, the median passes; aggregates are not evidence
    auto node = testing::healthy_node("n13");
    for (auto& gpu : node) gpu.repetitions = 3;
    node[0].pct_per_repetition[kBf16Lt] = {60, 75, 76};
    add_node(node, [](json& j, int gpu) {
      if (gpu != 0) return;
      // An aggregate far below the minimum: were it counted, the median of four would fail.
      json aggregate;
      for (const json& row : j["benchmarks"]) {
        if (row["name"] == kBf16Lt) aggregate = row;
      }
      aggregate["name"] = kBf16Lt + "_median";
      aggregate["run_type"] = "aggregate";
      aggregate["aggregate_name"] = "median";
      aggregate["repetition_index"] = -1;
      aggregate["pct_of_peak"] = 1.0;
      aggregate["tflops"] = 0.5;
      j["benchmarks"].push_back(aggregate);
    });
  }
  {  // wgmma skipped (a build without sm_90a): not run, so neither complete nor validated
    auto node = testing::healthy_node("n14");
    node[0].status[kWgmmaBf16] = {"skipped", "not compiled for sm_90a"};
    node[0].status[kWgmmaFp8] = {"skipped", "not compiled for sm_90a"};
    add_node(node);
  }
  {  // no telemetry: temperature and clock cannot be shown to meet the contract
    auto node = testing::healthy_node("n15", 1);
    node[0].telemetry = false;
    add_node(node);
  }
  {  // the burn-in found a wrong element: the row failed, with the run's reason
    auto node = testing::healthy_node("n16");
    json burnin = testing::healthy_burnin();
    burnin["mismatched_elements"] = 1;
    burnin["mismatched_intervals"] = 1;
    burnin["verdict"] = {{"passed", false}, {"reasons", {"GPU 0 (GPU-n16-2): 1 element of C differed"}}};
    node[2].burnin = burnin;
    add_node(node, [](json& j, int gpu) {
      if (gpu != 2) return;
      for (json& row : j["benchmarks"]) {
        if (row["name"] != kBurnin) continue;
        testing::set_status(row, "failed", "burn-in failed: GPU 0 (GPU-n16-2): 1 element of C differed ... in interval 41");
        row["aicbench"]["validation"] = {{"max_rel_err", 0.002}, {"tolerance", 0.01}};
        row["max_rel_err"] = 0.002;
      }
    });
  }
  {  // thermal slowdown and a low clock during the burn-in (the run passed it: an older floor)
    auto node = testing::healthy_node("n17");
    json burnin = testing::healthy_burnin();
    burnin["summary"]["throttle_reasons"]["hw_thermal_slowdown"] = {{"intervals", 12}, {"first_t_s", 151}, {"fails", true}};
    burnin["summary"]["min_sm_clock_mhz"] = 1290;
    node[6].burnin = burnin;
    add_node(node);
  }
  {  // persistence mode off on one GPU, a x8 link on another
    auto node = testing::healthy_node("n18");
    node[1].health->operator[]("persistence_mode") = false;
    node[5].health->operator[]("pcie_link_width_current") = 8;
    add_node(node);
  }
  {  // no NVML: nothing shows the GPU is healthy
    auto node = testing::healthy_node("n19");
    node[0].health = json{{"available", false}, {"reason", "NVML not available: libnvidia-ml.so.1: cannot open shared object file"}};
    add_node(node);
  }

  {  // slow HBM on one GPU
    auto node = testing::healthy_node("n20");
    node[3].pct[kTriad] = 80;
    add_node(node);
  }
  {  // one GPU's PCIe link at x8: half the bandwidth each way
    auto node = testing::healthy_node("n21");
    node[5].host_link_gbps = 26;
    add_node(node);
  }

  const accept::Verdict v = verdict();
  ASSERT_EQ(v.nodes.size(), 21u);
  EXPECT_EQ(failed_hosts(v), (std::vector<std::string>{"n03", "n04", "n05", "n06", "n07", "n08", "n09", "n10", "n11",
                                                       "n12", "n14", "n15", "n16", "n17", "n18", "n19", "n20", "n21"}));
  EXPECT_EQ(failures_of(spec_, v, "n20"), (std::vector<Failure>{{"A.7.1", gpu_id("n20", 3), "below_minimum", kTriad}}));
  EXPECT_EQ(failures_of(spec_, v, "n21"), (std::vector<Failure>{{"A.7.2", gpu_id("n21", 5), "below_minimum", kH2d},
                                                                {"A.7.3", gpu_id("n21", 5), "below_minimum", kD2h}}));
  EXPECT_EQ(v.passed_nodes(), 3u);
  EXPECT_FALSE(v.passed());

  EXPECT_EQ(failures_of(spec_, v, "n03"), (std::vector<Failure>{{"A.3.1", gpu_id("n03", 3), "below_minimum", kBf16Lt}}));
  EXPECT_EQ(failures_of(spec_, v, "n04"), (std::vector<Failure>{{"A.4.1", gpu_id("n04", 5), "above_maximum", kWgmmaFp8}}));
  EXPECT_EQ(failures_of(spec_, v, "n05"), (std::vector<Failure>{{"A.4.2", gpu_id("n05", 2), "below_minimum", kFp32}}));
  EXPECT_EQ(failures_of(spec_, v, "n06"),
            (std::vector<Failure>{{"A.2.2", gpu_id("n06", 1), "failed_validation", kWgmmaBf16},
                                  {"A.3.4", gpu_id("n06", 1), "failed_validation", kWgmmaBf16}}));
  EXPECT_EQ(failures_of(spec_, v, "n07"), (std::vector<Failure>{{"A.2.3", gpu_id("n07", 0), "error", kFp32},
                                                                {"A.3.3", gpu_id("n07", 0), "error", kFp32}}));
  EXPECT_EQ(failures_of(spec_, v, "n08"), (std::vector<Failure>{{"A.2.1", gpu_id("n08", 6), "missing", kFp8Lt},
                                                                {"A.3.2", gpu_id("n08", 6), "missing", kFp8Lt}}));
  EXPECT_EQ(failures_of(spec_, v, "n09"), (std::vector<Failure>{{"A.1.2", "", "wrong_count", ""}}));
  EXPECT_EQ(failures_of(spec_, v, "n10"), (std::vector<Failure>{{"A.5.1", gpu_id("n10", 4), "nonzero", ""}}));
  EXPECT_EQ(failures_of(spec_, v, "n11"), (std::vector<Failure>{{"A.2.1", gpu_id("n11", 7), "incomplete", ""}}));
  EXPECT_EQ(failures_of(spec_, v, "n12"), (std::vector<Failure>{{"A.1.1", gpu_id("n12", 0), "wrong_device", ""}}));
  EXPECT_EQ(failures_of(spec_, v, "n14"),
            (std::vector<Failure>{{"A.2.1", gpu_id("n14", 0), "not_run", kWgmmaBf16},
                                  {"A.2.1", gpu_id("n14", 0), "not_run", kWgmmaFp8},
                                  {"A.3.4", gpu_id("n14", 0), "not_run", kWgmmaBf16},
                                  {"A.3.4", gpu_id("n14", 0), "not_run", kWgmmaFp8}}));
  EXPECT_EQ(failures_of(spec_, v, "n15"), (std::vector<Failure>{{"A.1.2", "", "wrong_count", ""},
                                                                {"A.4.1", gpu_id("n15", 0), "not_recorded", ""},
                                                                {"A.4.2", gpu_id("n15", 0), "not_recorded", ""},
                                                                {"A.6.1", gpu_id("n15", 0), "not_recorded", kBurnin},
                                                                {"A.6.1", gpu_id("n15", 0), "not_recorded", kBurnin}}));
  EXPECT_EQ(failures_of(spec_, v, "n16"), (std::vector<Failure>{{"A.2.2", gpu_id("n16", 2), "failed_validation", kBurnin},
                                                                {"A.6.1", gpu_id("n16", 2), "failed_validation", kBurnin}}));
  EXPECT_EQ(failures_of(spec_, v, "n17"), (std::vector<Failure>{{"A.6.1", gpu_id("n17", 6), "below_minimum", kBurnin},
                                                                {"A.6.1", gpu_id("n17", 6), "throttled", kBurnin}}));
  EXPECT_EQ(failures_of(spec_, v, "n18"), (std::vector<Failure>{{"A.5.2", gpu_id("n18", 1), "below_minimum", ""},
                                                                {"A.5.2", gpu_id("n18", 5), "below_minimum", ""}}));
  EXPECT_EQ(failures_of(spec_, v, "n19"), (std::vector<Failure>{{"A.5.2", gpu_id("n19", 0), "not_recorded", ""},
                                                                {"A.5.2", gpu_id("n19", 0), "not_recorded", ""}}));

  // A burn-in's failure says what the run found, not an error against a tolerance it met.
  const accept::Violation* wrong = find_violation(spec_, v, "n16", "A.2.2");
  ASSERT_TRUE(wrong);
  EXPECT_EQ(accept::describe(*wrong), kBurnin + ": failed validation: burn-in failed: GPU 0 (GPU-n16-2): 1 element of C "
                                                "differed ... in interval 41");
  std::vector<std::string> burnin_messages;
  for (const auto& node : v.nodes) {
    if (node.host != "n17") continue;
    for (const auto& o : node.gpus[6].outcomes) {
      for (const auto& violation : o.violations) {
        burnin_messages.push_back(accept::describe(violation));
        if (violation.problem == Problem::below_minimum) {
          EXPECT_EQ(violation.detail, "lowest interval, at t = 97 s");
        }
      }
    }
  }
  EXPECT_EQ(burnin_messages, (std::vector<std::string>{
                                 kBurnin + ": throttled: hw_thermal_slowdown in 12 of 180 intervals (first at t = 151 s)",
                                 kBurnin + ": 1290 MHz, below the minimum 1400 MHz"}));
  const accept::Violation* x8 = find_violation(spec_, v, "n18", "A.5.2");
  ASSERT_TRUE(x8);
  EXPECT_EQ(x8->detail, "health persistence_mode");
  EXPECT_DOUBLE_EQ(*x8->value, 0);
  const accept::Violation* no_nvml = find_violation(spec_, v, "n19", "A.5.2");
  ASSERT_TRUE(no_nvml);
  EXPECT_NE(no_nvml->detail.find("health unavailable: NVML not available"), std::string::npos) << no_nvml->detail;

  // The numbers travel with the failure: value and threshold, in the clause's unit.
  const accept::Violation* slow = find_violation(spec_, v, "n03", "A.3.1");
  ASSERT_TRUE(slow);
  EXPECT_DOUBLE_EQ(*slow->value, 61);
  EXPECT_DOUBLE_EQ(*slow->threshold, 70);
  EXPECT_EQ(slow->unit, accept::Unit::pct_of_peak);
  EXPECT_EQ(accept::describe(*slow), kBf16Lt + ": 61 % of peak, below the minimum 70 % of peak");
  const accept::Violation* hot = find_violation(spec_, v, "n04", "A.4.1");
  ASSERT_TRUE(hot);
  EXPECT_DOUBLE_EQ(*hot->value, 91);
  EXPECT_DOUBLE_EQ(*hot->threshold, 85);
  const accept::Violation* count = find_violation(spec_, v, "n09", "A.1.2");
  ASSERT_TRUE(count);
  EXPECT_DOUBLE_EQ(*count->value, 7);
  EXPECT_DOUBLE_EQ(*count->threshold, 8);
  const accept::Violation* pages = find_violation(spec_, v, "n10", "A.5.1");
  ASSERT_TRUE(pages);
  EXPECT_EQ(pages->detail, "retired_pages_double_bit");
  EXPECT_DOUBLE_EQ(*pages->value, 2);
  const accept::Violation* device = find_violation(spec_, v, "n12", "A.1.1");
  EXPECT_NE(device->detail.find("A100"), std::string::npos) << device->detail;
  const accept::Violation* invalid = find_violation(spec_, v, "n06", "A.2.2");
  ASSERT_TRUE(invalid);
  EXPECT_DOUBLE_EQ(*invalid->value, 0.5);
  EXPECT_DOUBLE_EQ(*invalid->threshold, 0.01);

  // Health counters: passes either way, and says when they were not recorded, and why.
  for (const auto& node : v.nodes) {
    if (node.host != "n01" && node.host != "n02") continue;
    for (const auto& o : node.gpus[0].outcomes) {
      if (spec_.clauses[o.clause].rule != accept::Rule::health_clean) continue;
      EXPECT_TRUE(o.passed());
      EXPECT_EQ(o.note.empty(), node.host == "n02") << node.host << ": " << o.note;
      if (node.host == "n01") {
        EXPECT_EQ(o.note, "not recorded: retired_pages_double_bit (NVML nvmlDeviceGetRetiredPages: Not Supported); "
                          "retired_pages_pending (NVML nvmlDeviceGetRetiredPagesPendingStatus: Not Supported)");
      }
    }
  }
}

TEST_F(GpuFleet, SkuFromAnotherBackendFails) {
  files_.push_back(as_file(testing::cpu_result("cpu-node"), "cpu.json"));
  const accept::Verdict v = verdict();
  ASSERT_EQ(v.nodes.size(), 1u);
  const accept::Violation* device = find_violation(spec_, v, "cpu-node", "A.1.1");
  ASSERT_TRUE(device);
  EXPECT_NE(device->detail.find("cpu backend"), std::string::npos) << device->detail;
}

TEST(AcceptB200, HopperOnlyKernelSkippedIsExceptedOnBlackwellOnly) {
  std::vector<ResultFile> files;
  auto node = testing::healthy_node("b01");
  for (auto& gpu : node) {
    gpu.gpu_name = "NVIDIA B200";
    gpu.peak_bf16 = 2250;
    gpu.status[kWgmmaBf16] = {"skipped", "needs Hopper (sm_90a: wgmma and TMA); this GPU is compute capability 10.0"};
    gpu.status[kWgmmaFp8] = {"skipped", "needs Hopper (sm_90a: wgmma and TMA); this GPU is compute capability 10.0"};
  }
  for (const auto& gpu : node) files.push_back(as_file(testing::gpu_result(gpu), gpu.uuid));
  const accept::Spec b200 = accept::load_spec(kSpecs / "acceptance/b200.json");
  const accept::Verdict on_b200 = accept::evaluate(b200, files);
  EXPECT_TRUE(on_b200.passed()) << accept::render_markdown(b200, on_b200);

  // The same node judged as an H100 node fails: wrong device, and the wgmma kernel never ran.
  const accept::Spec h100 = accept::load_spec(kSpecs / "acceptance/h100_sxm.json");
  EXPECT_FALSE(accept::evaluate(h100, files).passed());

  // A GB200 is not a B200, though its name contains one.
  node[0].gpu_name = "NVIDIA GB200";
  files[0] = as_file(testing::gpu_result(node[0]), "gb200");
  const accept::Verdict gb200 = accept::evaluate(b200, files);
  EXPECT_EQ(failures_of(b200, gb200, "b01"), (std::vector<Failure>{{"A.1.1", gpu_id("b01", 0), "wrong_device", ""}}));
}

// ---------------------------------------------------------------------------------------------
// CPU nodes from the real run of the acceptance suite, judged by specs/acceptance/cpu.json.

TEST(AcceptCpu, ExactlyThePlantedNodesFail) {
  const accept::Spec spec = accept::load_spec(kSpecs / "acceptance/cpu.json");
  std::vector<ResultFile> files;
  auto add = [&](const json& j) { files.push_back(as_file(j, j["context"]["aicbench"]["host"]["hostname"].get<std::string>())); };
  auto row = [](json& j, const std::string& name) -> json& {
    for (json& b : j["benchmarks"]) {
      if (b["name"] == name) return b;
    }
    throw std::runtime_error("no row " + name);
  };

  add(testing::cpu_result("c01"));
  add(testing::cpu_result("c02"));
  {  // slow
    json j = testing::cpu_result("c03");
    row(j, kCpu512)["tflops"] = 0.00002;
    add(j);
  }
  {  // failed validation
    json j = testing::cpu_result("c04");
    testing::set_status(row(j, kCpu256), "failed", "max_rel_err 0.5 exceeds tolerance 0.01");
    add(j);
  }
  {  // an error
    json j = testing::cpu_result("c05");
    testing::set_status(row(j, kCpu256), "error", "std::bad_alloc");
    add(j);
  }
  {  // a benchmark missing
    json j = testing::cpu_result("c06");
    json& rows = j["benchmarks"];
    for (size_t i = 0; i < rows.size(); ++i) {
      if (rows[i]["name"] == kCpu256) {
        rows.erase(i);
        break;
      }
    }
    add(j);
  }
  // Two ranks where the contract says one.
  add(testing::cpu_result("c07", 0));
  add(testing::cpu_result("c07", 1));
  {  // another suite
    json j = testing::cpu_result("c08");
    j["context"]["aicbench"]["suite"] = "quick";
    add(j);
  }
  {  // another version of the suite
    json j = testing::cpu_result("c09");
    j["context"]["aicbench"]["suite_version"] = 2;
    add(j);
  }
  {  // the suite's name and version, from a suite file of its own (`--suite my/acceptance.json`)
    json j = testing::cpu_result("c10");
    j["context"]["aicbench"]["suite_file"] = "/home/vendor/acceptance.json";
    add(j);
  }

  const accept::Verdict v = accept::evaluate(spec, files);
  EXPECT_EQ(failed_hosts(v), (std::vector<std::string>{"c03", "c04", "c05", "c06", "c07", "c08", "c09", "c10"}));
  EXPECT_EQ(failures_of(spec, v, "c03"), (std::vector<Failure>{{"C.3.1", "rank 0", "below_minimum", kCpu512}}));
  EXPECT_EQ(failures_of(spec, v, "c04"), (std::vector<Failure>{{"C.2.2", "rank 0", "failed_validation", kCpu256}}));
  EXPECT_EQ(failures_of(spec, v, "c05"), (std::vector<Failure>{{"C.2.3", "rank 0", "error", kCpu256}}));
  EXPECT_EQ(failures_of(spec, v, "c06"), (std::vector<Failure>{{"C.2.1", "rank 0", "missing", kCpu256}}));
  EXPECT_EQ(failures_of(spec, v, "c07"), (std::vector<Failure>{{"C.1.2", "", "wrong_count", ""}}));
  EXPECT_EQ(failures_of(spec, v, "c08"), (std::vector<Failure>{{"C.2.1", "rank 0", "wrong_suite", ""}}));
  EXPECT_EQ(failures_of(spec, v, "c09"), (std::vector<Failure>{{"C.2.1", "rank 0", "wrong_suite", ""}}));
  EXPECT_EQ(failures_of(spec, v, "c10"), (std::vector<Failure>{{"C.2.1", "rank 0", "wrong_suite", ""}}));
  // The real run itself passes.
  EXPECT_TRUE(failures_of(spec, v, "c01").empty());
}

// ---------------------------------------------------------------------------------------------
// Renderings carry the verdict; text from result files is escaped.

TEST(AcceptRender, JsonJunitAndMarkdownAgreeWithTheVerdict) {
  const accept::Spec spec = accept::load_spec(kSpecs / "acceptance/h100_sxm.json");
  std::vector<ResultFile> files;
  for (const auto& gpu : testing::healthy_node("ok-node", 2)) files.push_back(as_file(testing::gpu_result(gpu), gpu.uuid));
  auto bad = testing::healthy_node("bad<&\"node>", 2);
  bad[1].status[kFp32] = {"error", "CUDA error \x01 <illegal> & \"lost\""};
  for (const auto& gpu : bad) files.push_back(as_file(testing::gpu_result(gpu), gpu.uuid));
  const accept::Verdict v = accept::evaluate(spec, files);

  const json j = json::parse(accept::render_json(spec, v));
  EXPECT_EQ(j["nodes_total"], 2);
  EXPECT_EQ(j["nodes_failed"], 2);  // both have 2 GPUs where 8 are due
  EXPECT_EQ(j["gpus_failed"], 1);
  EXPECT_EQ(j["passed"], false);
  EXPECT_EQ(j["clauses"].size(), spec.clauses.size());

  const std::string xml = accept::render_junit(spec, v);
  // A testsuite per node; a testcase per node-level clause, and per GPU-level clause and GPU.
  size_t suites = 0, cases = 0;
  for (size_t at = 0; (at = xml.find("<testsuite ", at)) != std::string::npos; ++at) ++suites;
  for (size_t at = 0; (at = xml.find("<testcase ", at)) != std::string::npos; ++at) ++cases;
  EXPECT_EQ(suites, 2u);
  EXPECT_EQ(cases, 2 * (1 + 2 * (spec.clauses.size() - 1)));
  EXPECT_NE(xml.find("bad&lt;&amp;&quot;node&gt;"), std::string::npos);
  EXPECT_EQ(xml.find('\x01'), std::string::npos) << "control characters are illegal in XML 1.0";
  EXPECT_NE(xml.find("&lt;illegal&gt; &amp; &quot;lost&quot;"), std::string::npos);

  const std::string md = accept::render_markdown(spec, v);
  EXPECT_NE(md.find("FAILED: 2 of 2 nodes fail"), std::string::npos) << md;
  EXPECT_NE(md.find("| A.2.3 |"), std::string::npos) << md;
  const std::string html = accept::render_html(spec, v);
  EXPECT_EQ(html.find("<illegal>"), std::string::npos);
  EXPECT_EQ(html.find('\x01'), std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// Bad specs: exit 2, naming the file, the field and what was expected.

json h100_spec_json() { return testing::read_json(kSpecs / "acceptance/h100_sxm.json"); }

void expect_spec_error(const json& j, const std::vector<std::string>& expected) {
  try {
    accept::parse_spec(j, "bad-spec.json");
    ADD_FAILURE() << "accepted a bad spec";
  } catch (const InputError& e) {
    EXPECT_EQ(e.exit_code(), 2);
    const std::string message = e.what();
    EXPECT_EQ(message.rfind("bad-spec.json: ", 0), 0u) << message;
    for (const std::string& part : expected) EXPECT_NE(message.find(part), std::string::npos) << message << "\nlacks: " << part;
  }
}

TEST(AcceptSpec, BadSpecsNameFileAndField) {
  {
    json j = h100_spec_json();
    j["clauses"][5]["min_throughput"]["pct_of_peek"] = 70;
    expect_spec_error(j, {"clauses[5].min_throughput.pct_of_peek", "did you mean 'clauses[5].min_throughput.pct_of_peak'"});
  }
  {
    json j = h100_spec_json();
    j["sku"]["bakend"] = "cuda";
    expect_spec_error(j, {"sku.bakend", "did you mean 'sku.backend'"});
  }
  {
    json j = h100_spec_json();
    j["clauses"][0]["no_errors"] = json::object();
    expect_spec_error(j, {"clauses[0]", "2 rules (sku, no_errors)", "exactly one"});
  }
  {
    json j = h100_spec_json();
    j["clauses"][0].erase("sku");
    expect_spec_error(j, {"clauses[0]", "gives no rule", "min_throughput"});
  }
  {
    json j = h100_spec_json();
    j["clauses"][1]["id"] = j["clauses"][0]["id"];
    expect_spec_error(j, {"clauses[1].id", "A.1.1", "clauses[0]"});
  }
  {
    json j = h100_spec_json();
    j["clauses"][5]["min_throughput"]["tflops"] = 700;
    expect_spec_error(j, {"clauses[5].min_throughput", "tflops and pct_of_peak"});
  }
  {
    json j = h100_spec_json();
    j["clauses"][5]["min_throughput"]["benchmark"] = "gemm/cublaslt/bf16/M:8192/N:8192/K:8129";
    expect_spec_error(j, {"clauses[5].min_throughput.benchmark", "selects none of suite.benchmarks",
                          "did you mean 'gemm/cublaslt/bf16/M:8192/N:8192/K:8192'"});
  }
  {
    json j = h100_spec_json();
    j["suite"]["benchmarks"].push_back(j["suite"]["benchmarks"][0]);
    const std::string last = "suite.benchmarks[" + std::to_string(j["suite"]["benchmarks"].size() - 1) + "]";
    expect_spec_error(j, {last, "repeats", "suite.benchmarks[0]"});
  }
  {
    json j = h100_spec_json();
    j["clauses"][1]["gpus_per_node"]["count"] = 0;
    expect_spec_error(j, {"clauses[1].gpus_per_node.count", "is 0", ">= 1"});
  }
  {
    json j = h100_spec_json();
    j["clauses"][9]["max_temperature"]["celsius"] = "hot";
    expect_spec_error(j, {"clauses[9].max_temperature.celsius", "expected a number"});
  }
  {
    json j = h100_spec_json();
    j.erase("suite");
    expect_spec_error(j, {"missing field 'suite'"});
  }
  {
    json j = h100_spec_json();
    j["sku"]["backend"] = "rocm";
    expect_spec_error(j, {"sku.backend", "one of cuda, cpu"});
  }
}

}  // namespace
}  // namespace aicbench
