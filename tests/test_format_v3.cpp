// Result format 3 (docs/result-format.md): a node's file holds the rows of all its GPUs (ranks),
// each naming its origin, and a job-wide collective's row once. On the hand-written fixtures
// (tests/data/result-v3-fixture-*.json, tests/data/README.md) and files made from them:
//   - the reader's rules beyond the schema, each refusal naming the field path;
//   - RowOrigin, the one reader of where a row ran;
//   - every command treats each GPU as its own unit: report (Markdown, HTML charts, CSV, JUnit),
//     compare (GPU by GPU, collectives by rank count), accept (a verdict per GPU, named by node,
//     index and UUID), fleet (node files, node-level slowness), history (rows' ranks and GPUs,
//     the version 1 -> 2 upgrade);
//   - the reports-only binary's exit code 2 on a bad node file.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sqlite3.h>

#include "reports/accept.hpp"
#include "reports/accept_render.hpp"
#include "reports/charts.hpp"
#include "reports/compare.hpp"
#include "reports/compare_render.hpp"
#include "reports/exports.hpp"
#include "reports/fleet.hpp"
#include "reports/fleet_render.hpp"
#include "reports/history.hpp"
#include "reports/report.hpp"
#include "reports/report_model.hpp"
#include "reports/result_file.hpp"
#include "reports/result_rows.hpp"
#include "tests/fleet_generator.hpp"
#include "tests/run_binary.hpp"
#include "tests/test_dir.hpp"

namespace aicbench {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const fs::path kData = AICBENCH_TEST_DATA_DIR;
const fs::path kCudaNode = kData / "result-v3-fixture-cuda-node.json";
const fs::path kCpuNodeA = kData / "result-v3-fixture-cpu-node-a.json";
const fs::path kCpuNodeB = kData / "result-v3-fixture-cpu-node-b.json";
const std::string kGpu2 = "GPU-c62d05b9-e4f1-4a87-8d3c-25b9e6a0f7d4";
const std::string kWgmma4096 = "gemm/wgmma_sm90/bf16/M:4096/N:4096/K:4096";

json read_json(const fs::path& path) {
  std::ifstream in(path);
  return json::parse(std::string(std::istreambuf_iterator<char>(in), {}));
}


size_t count_of(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (size_t at = haystack.find(needle); at != std::string::npos; at = haystack.find(needle, at + 1)) ++n;
  return n;
}

// The message the reader refuses `document` with; empty when it accepts it.
std::string refusal(const json& document) {
  try {
    check_result_json(document, "node.json");
  } catch (const InputError& e) {
    EXPECT_EQ(e.exit_code(), 2);
    return e.what();
  }
  return "";
}

ResultFile file_of(const std::string& name, json document) {
  check_result_json(document, name);
  return ResultFile{name, std::move(document)};
}

// The index of the first row of `rank` named `name` in a file's benchmarks[].
size_t row_index(const json& document, const std::string& name, int rank) {
  const json& rows = document["benchmarks"];
  for (size_t i = 0; i < rows.size(); ++i) {
    if (rows[i]["name"] == name && rows[i]["aicbench"]["origin"].value("rank", -1) == rank) return i;
  }
  ADD_FAILURE() << "no row " << name << " of rank " << rank;
  return 0;
}

size_t first_collective(const json& document) {
  const json& rows = document["benchmarks"];
  for (size_t i = 0; i < rows.size(); ++i) {
    if (rows[i]["aicbench"]["origin"].contains("spans")) return i;
  }
  ADD_FAILURE() << "no job-wide row";
  return 0;
}

// Every time of the rows of `rank` multiplied by `factor`, throughputs divided: a slower GPU.
json slowed(json document, int rank, double factor, const std::string& start_time = "") {
  for (json& b : document["benchmarks"]) {
    const json& origin = b["aicbench"]["origin"];
    if (origin.contains("spans") || origin.value("rank", -1) != rank || b.value("aggregate_name", "") == "cv") continue;
    for (const char* key : {"real_time", "cpu_time"}) {
      if (b.contains(key)) b[key] = b[key].get<double>() * factor;
    }
    for (const char* key : {"tflops", "gbps", "pct_of_peak", "tflops_per_w", "gbps_per_w"}) {
      if (b.contains(key)) b[key] = b[key].get<double>() / factor;
    }
    if (!b["aicbench"].contains("measurement")) continue;  // an aggregate: its real_time is done
    json& m = b["aicbench"]["measurement"];
    for (const char* key : {"median_s", "mean_s", "min_s", "max_s", "q1_s", "q3_s"}) {
      if (m.contains(key)) m[key] = m[key].get<double>() * factor;
    }
  }
  if (!start_time.empty()) document["context"]["aicbench"]["start_time"] = start_time;
  return document;
}

// ---------------------------------------------------------------------------------------------
// The reader
// ---------------------------------------------------------------------------------------------

TEST(FormatV3Reader, TheFixturesAreReadAndVersionsOneAndTwoStillAre) {
  for (const fs::path& path : {kCudaNode, kCpuNodeA, kCpuNodeB, kData / "result-cpu-smoke.json",
                               kData / "result-cpu-rep3-baseline.json"}) {
    EXPECT_NO_THROW(load_result_file(path)) << path;
  }
  json newer = read_json(kCudaNode);
  newer["context"]["aicbench"]["format_version"] = 4;
  EXPECT_NE(refusal(newer).find("written by a newer aicbench; this one reads versions 1 to 3"), std::string::npos) << refusal(newer);
  json no_ranks = read_json(kCudaNode);
  no_ranks["context"]["aicbench"]["job"].erase("node_ranks");
  EXPECT_NE(refusal(no_ranks).find("missing field 'context.aicbench.job.node_ranks'"), std::string::npos) << refusal(no_ranks);
  // Version 2 with a job block that says less (ranks and nodes only) is read: its rows name no origin.
  json v2 = read_json(kData / "result-cpu-smoke.json");
  v2["context"]["aicbench"]["job"] = {{"launcher", "mpirun"}, {"ranks", 4}, {"nodes", 1}};
  EXPECT_EQ(refusal(v2), "");
}

TEST(FormatV3Reader, ABadGpuIndexOrUuidNamesTheFieldPath) {
  const json good = read_json(kCudaNode);
  const size_t i = row_index(good, kWgmma4096, 2);
  const std::string at = "field 'benchmarks[" + std::to_string(i) + "].aicbench.origin.";

  json index = good;
  index["benchmarks"][i]["aicbench"]["origin"]["gpu_index"] = 8;
  EXPECT_NE(refusal(index).find(at + "gpu_index' is 8, expected an index into context.aicbench.gpus (4 GPUs: 0 to 3)"),
            std::string::npos)
      << refusal(index);

  json uuid = good;
  uuid["benchmarks"][i]["aicbench"]["origin"]["gpu_uuid"] = "GPU-81c4e7d2-0a93-4b6f-b2d5-7e19c0f4a831";
  EXPECT_NE(refusal(uuid).find(at + "gpu_uuid' is \"GPU-81c4e7d2-0a93-4b6f-b2d5-7e19c0f4a831\", expected \"" + kGpu2 +
                               "\", the uuid of context.aicbench.gpus[2]"),
            std::string::npos)
      << refusal(uuid);


  // One rank, one GPU: a row of rank 2 on GPU 3 (with GPU 3's uuid) contradicts its other rows.
  json two_gpus = good;
  const size_t later = row_index(good, "gemm/wgmma_sm90/bf16/M:8192/N:8192/K:8192", 2);
  two_gpus["benchmarks"][later]["aicbench"]["origin"]["gpu_index"] = 3;
  two_gpus["benchmarks"][later]["aicbench"]["origin"]["gpu_uuid"] = good["context"]["aicbench"]["gpus"][3]["uuid"];
  EXPECT_NE(refusal(two_gpus).find("the GPU of rank 2 in benchmarks["), std::string::npos) << refusal(two_gpus);
}

TEST(FormatV3Reader, DuplicateRowsAreThoseOfOneRank) {
  const json good = read_json(kCudaNode);
  EXPECT_EQ(refusal(good), "") << "the same benchmark on four ranks is four rows";
  json twice = good;
  const size_t i = row_index(good, kWgmma4096, 1);
  twice["benchmarks"].push_back(good["benchmarks"][i]);
  const std::string message = refusal(twice);
  EXPECT_NE(message.find("benchmarks[" + std::to_string(good["benchmarks"].size()) + "] repeats benchmarks[" + std::to_string(i) + "]"),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("of the same rank (aicbench.origin.rank 1)"), std::string::npos) << message;
}

TEST(FormatV3Reader, RanksBelongToTheNodeAndTheJobAddsUp) {
  const json good = read_json(kCpuNodeB);
  json stranger = good;
  stranger["benchmarks"][0]["aicbench"]["origin"]["rank"] = 1;  // node a's rank
  EXPECT_NE(refusal(stranger).find("field 'benchmarks[0].aicbench.origin.rank' is 1, expected one of "
                                   "context.aicbench.job.node_ranks (2, 3)"),
            std::string::npos)
      << refusal(stranger);
  json local = good;
  local["benchmarks"][0]["aicbench"]["origin"]["local_rank"] = 2;
  EXPECT_NE(refusal(local).find("origin.local_rank' is 2, expected below 2"), std::string::npos) << refusal(local);

  struct Case {
    const char* pointer;
    json value;
    const char* expected;
  };
  const std::vector<Case> cases = {
      {"/context/aicbench/job/node_ranks", json::array({2, 2}), "field 'context.aicbench.job.node_ranks[1]' is 2, expected a rank not listed before"},
      {"/context/aicbench/job/node_ranks", json::array({2, 4}), "field 'context.aicbench.job.node_ranks[1]' is 4, expected below job.ranks 4"},
      {"/context/aicbench/job/ranks_per_node", json::array({2, 3}), "ranks_per_node' is [2,3], expected counts that add up to job.ranks 4"},
      {"/context/aicbench/job/ranks_per_node", json::array({4}), "expected one count per node: job.nodes is 2"},
      {"/context/aicbench/job/ranks_per_node", json::array({3, 1}), "ranks_per_node[1]' is 1, expected 2, the ranks of job.node_ranks"},
      {"/context/aicbench/job/node_index", 2, "field 'context.aicbench.job.node_index' is 2, expected below job.nodes 2"},
      {"/context/aicbench/job/nodes", 5, "field 'context.aicbench.job.nodes' is 5, expected at most job.ranks 4"},
      {"/context/aicbench/job/launcher", "pbs", "field 'context.aicbench.job.launcher' is \"pbs\", expected one of none, mpirun, srun"},
  };
  for (const Case& c : cases) {
    json document = good;
    document[json::json_pointer(c.pointer)] = c.value;
    EXPECT_NE(refusal(document).find(c.expected), std::string::npos) << c.pointer << ": " << refusal(document);
  }
}

TEST(FormatV3Reader, ACollectiveAgreesWithItsFactorAndItsCheck) {
  const json good = read_json(kCpuNodeA);
  const size_t i = first_collective(good);
  const std::string row = "benchmarks[" + std::to_string(i) + "]";

  json busbw = good;
  busbw["benchmarks"][i]["busbw_gbps"] = busbw["benchmarks"][i]["busbw_gbps"].get<double>() * 1.01;
  const std::string message = refusal(busbw);
  EXPECT_NE(message.find("field '" + row + ".busbw_gbps' is "), std::string::npos) << message;
  EXPECT_NE(message.find(" = algbw_gbps "), std::string::npos) << message;
  EXPECT_NE(message.find(" x aicbench.collective.busbw_factor 1.5"), std::string::npos) << message;

  json rounded = good;  // within rounding: as a writer printing 9 digits would
  rounded["benchmarks"][i]["busbw_gbps"] = std::stod(std::to_string(good["benchmarks"][i]["busbw_gbps"].get<double>()));
  EXPECT_EQ(refusal(rounded), "");

  json factor = good;
  factor["benchmarks"][i]["aicbench"]["collective"]["busbw_factor"] = 1.0;
  factor["benchmarks"][i]["busbw_gbps"] = factor["benchmarks"][i]["algbw_gbps"];
  factor["benchmarks"][i]["gbps"] = factor["benchmarks"][i]["algbw_gbps"];
  EXPECT_NE(refusal(factor).find("field '" + row + ".aicbench.collective.busbw_factor' is 1, expected 1.5, nccl-tests' factor "
                                                   "2(n-1)/n for all_reduce over n = 4 ranks"),
            std::string::npos)
      << refusal(factor);

  json wrong = good;
  wrong["benchmarks"][i]["aicbench"]["collective"]["wrong_elements"] = 3;
  EXPECT_NE(refusal(wrong).find(row + " is inconsistent: status is ok but aicbench.collective.wrong_elements is 3"), std::string::npos)
      << refusal(wrong);
  json failed = wrong;  // a collective that computed wrong elements is a failed row, with no bandwidth
  json& f = failed["benchmarks"][i];
  f["aicbench"]["status"] = "failed";
  f["aicbench"]["reason"] = "3 wrong elements";
  f["error_occurred"] = true;
  f["error_message"] = "3 wrong elements";
  for (const char* key : {"algbw_gbps", "busbw_gbps", "gbps"}) f.erase(key);
  EXPECT_EQ(refusal(failed), "");

  json hosts = good;
  hosts["benchmarks"][i]["aicbench"]["origin"]["spans"]["hosts"] = json::array({"cpu-node-a"});
  EXPECT_NE(refusal(hosts).find("origin.spans.hosts' is an array of 1, expected one host per node: origin.spans.nodes is 2"),
            std::string::npos)
      << refusal(hosts);
  json ranks = good;
  ranks["benchmarks"][i]["aicbench"]["collective"]["ranks"] = 8;
  ranks["benchmarks"][i]["aicbench"]["collective"]["busbw_factor"] = 1.75;
  ranks["benchmarks"][i]["busbw_gbps"] = ranks["benchmarks"][i]["algbw_gbps"].get<double>() * 1.75;
  EXPECT_NE(refusal(ranks).find(".aicbench.collective.ranks' is 8, expected 4, origin.spans.ranks"), std::string::npos) << refusal(ranks);
}

// ---------------------------------------------------------------------------------------------
// RowOrigin
// ---------------------------------------------------------------------------------------------

TEST(FormatV3Origin, EachRowNamesItsNodeRankAndGpu) {
  const ResultFile cuda = load_result_file(kCudaNode);
  const std::vector<ResultRow> rows = result_rows(cuda, 0);
  const ResultRow& gpu2 = rows[row_index(cuda.json, kWgmma4096, 2)];
  EXPECT_EQ(gpu2.origin.host, "gpu-node-01");
  EXPECT_EQ(gpu2.origin.rank, 2);
  EXPECT_EQ(gpu2.origin.local_rank, 2);
  EXPECT_EQ(gpu2.origin.gpu_index, 2);
  EXPECT_EQ(gpu2.origin.gpu_uuid, kGpu2);
  EXPECT_EQ(gpu2.origin.device_name, "NVIDIA H100 80GB HBM3");
  EXPECT_EQ(gpu2.origin.power_limit_w, 700);
  EXPECT_EQ(gpu2.origin.label(), "gpu-node-01 GPU 2 (" + kGpu2 + ")");
  EXPECT_EQ(gpu2.origin.label(/*short_uuid=*/true), "gpu-node-01 GPU 2 (GPU-c62d05b9…)");
  const ResultRow& job = rows[first_collective(cuda.json)];
  EXPECT_TRUE(job.origin.job_wide());
  EXPECT_EQ(job.origin.spans->ranks, 4);
  EXPECT_FALSE(job.origin.gpu_index);
  EXPECT_EQ(job.origin.gpu_uuid, "");
  EXPECT_EQ(job.origin.device_name, "NVIDIA H100 80GB HBM3") << "the model every rank's GPU is";
  EXPECT_EQ(job.origin.label(), "job: 4 ranks on 1 node (gpu-node-01)");
  EXPECT_DOUBLE_EQ(*job.busbw_gbps, *job.algbw_gbps * 1.5);
  EXPECT_EQ(job.wrong_elements, 0);

  // A row naming its GPU by UUID alone (as a node leader's own rows may) is found by it.
  json by_uuid = cuda.json;
  by_uuid["benchmarks"][row_index(cuda.json, kWgmma4096, 2)]["aicbench"]["origin"].erase("gpu_index");
  const ResultFile uuid_only = file_of("uuid-only.json", by_uuid);
  EXPECT_EQ(result_rows(uuid_only, 0)[row_index(cuda.json, kWgmma4096, 2)].origin.gpu_index, 2);

  const RunFacts facts = run_facts(cuda, 0);
  ASSERT_EQ(facts.units.size(), 4u) << "one unit per rank; the job-wide rows are none";
  EXPECT_EQ(facts.units[3].gpu_uuid, cuda.json["context"]["aicbench"]["gpus"][3]["uuid"]);
  EXPECT_EQ(facts.origin.gpu_uuid, "") << "a node's file is not one GPU's";
  EXPECT_EQ(facts.node_ranks, (std::vector<int>{0, 1, 2, 3}));
  EXPECT_FALSE(environment_of(cuda).count("gpu.uuid")) << "each GPU's own";
  EXPECT_EQ(environment_of(cuda, gpu2.origin).at("gpu.uuid"), kGpu2);
  EXPECT_EQ(environment_of(cuda, gpu2.origin).at("versions.driver"), "580.95.05");

  const ResultFile cpu = load_result_file(kCpuNodeB);
  const ResultRow& rank3 = result_rows(cpu, 0).back();
  EXPECT_EQ(rank3.origin.label(), "cpu-node-b rank 3");
  EXPECT_EQ(rank3.origin.device_name, "AMD EPYC 9654");
  EXPECT_FALSE(rank3.origin.gpu_index);

  // A format 2 file: its process's rank and GPU, known by the UUID alone.
  const ResultFile v2 = load_result_file(kData / "result-cpu-smoke.json");
  const RowOrigin old = result_rows(v2, 0).front().origin;
  EXPECT_FALSE(old.explicit_origin);
  EXPECT_EQ(old.label(), "vm rank 0");
  EXPECT_EQ(run_facts(v2, 0).units.size(), 1u);
}

// ---------------------------------------------------------------------------------------------
// report
// ---------------------------------------------------------------------------------------------

// Records the chart scripts instead of drawing them.
struct ScriptRecorder {
  std::vector<std::string> scripts;
  reports::ChartDrawer drawer() {
    return {[this](const std::string& script) {
              scripts.push_back(script);
              return std::string("<svg></svg>");
            },
            ""};
  }
};

TEST(FormatV3Report, ANodeFileShowsEachGpuAndTheJobWideRows) {
  const std::vector<ResultFile> files = {load_result_file(kCudaNode)};
  const std::string md = reports::render_markdown(files);
  EXPECT_NE(md.find("| GPU | Benchmark |"), std::string::npos) << md;
  EXPECT_NE(md.find("| GPU 2 | gemm/wgmma_sm90/bf16/M:4096/N:4096/K:4096 |"), std::string::npos) << md;
  EXPECT_EQ(count_of(md, "| gemm/wgmma_sm90/bf16/M:4096/N:4096/K:4096 |"), 4u) << "one row per GPU, never folded together";
  EXPECT_NE(md.find("| 4 ranks on 1 node | all_reduce/nccl/bf16/bytes:1048576/in_place:0 |"), std::string::npos) << md;
  EXPECT_NE(md.find("**Job**: mpirun: 4 ranks on 1 node; this file: node gpu-node-01 (node index 0), ranks 0, 1, 2, 3"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("GPU 2: " + kGpu2), std::string::npos) << "the UUIDs by index";
  EXPECT_EQ(md.find("Benchmarks across runs"), std::string::npos) << "4 GPUs: the detailed view";

  ScriptRecorder charts;
  const std::string html = reports::render_html(files, charts.drawer());
  EXPECT_NE(html.find("<td class=\"nowrap\">GPU 2</td>"), std::string::npos);
  std::string gemm, collective;
  for (const std::string& s : charts.scripts) {
    if (s.find("M = N = K") != std::string::npos) gemm = s;
    if (s.find("bytes (log2 scale)") != std::string::npos) collective = s;
  }
  // 2 implementations x 4 GPUs: 8 series, one line each, named by GPU.
  EXPECT_EQ(count_of(gemm, "with yerrorlines"), 8u) << gemm;
  EXPECT_NE(gemm.find("title 'wgmma_sm90 · GPU 2'"), std::string::npos) << gemm;
  EXPECT_EQ(count_of(collective, "with yerrorlines"), 1u) << "the all_reduce over sizes, one series" << collective;
  EXPECT_NE(collective.find("title 'nccl in_place=0'"), std::string::npos) << collective;
}

TEST(FormatV3Report, TwoNodeFilesAndManyGpusTakeTheCompactViewNamingTheGpu) {
  const std::vector<ResultFile> pair = {load_result_file(kCpuNodeA), load_result_file(kCpuNodeB)};
  const std::string md = reports::render_markdown(pair);
  EXPECT_NE(md.find("| #2 cpu-node-b | rank 3 | gemm/cpu_blocked/fp32/M:512/N:512/K:512 |"), std::string::npos) << md;
  EXPECT_NE(md.find("| #1 cpu-node-a | 4 ranks on 2 nodes | all_reduce/ring/fp32/bytes:1048576/in_place:0 |"), std::string::npos) << md;

  // Two nodes of 8 GPUs: 16 GPUs, more than a detailed page holds.
  aicbench::testing::TestDir dir;
  aicbench::testing::FleetSpec spec;
  spec.nodes = 2;
  spec.node_files = true;
  spec.plants[aicbench::testing::Plant::slow] = 1;
  spec.slow_min = spec.slow_max = 0.2;
  const auto fleet = generate_fleet(load_result_file(kData / "result-cpu-smoke-repetitions.json").json, spec, dir.path());
  std::vector<ResultFile> files;
  for (const fs::path& path : fleet.files) files.push_back(load_result_file(path));
  ASSERT_EQ(files.size(), 2u);
  const std::string compact = reports::render_markdown(files);
  EXPECT_NE(compact.find("16 GPUs (ranks) in 2 result files (more than 8 GPUs)"), std::string::npos) << compact;
  EXPECT_NE(compact.find("## Benchmarks across runs"), std::string::npos);
  const auto& p = fleet.planted[0];
  EXPECT_NE(compact.find(" · " + p.node + " GPU " + std::to_string(p.gpu) + " (GPU-"), std::string::npos)
      << "the worst result named by node, GPU index and UUID\n" << compact;
  EXPECT_NE(compact.find("| 16 |"), std::string::npos) << "16 results of each benchmark, one per GPU\n" << compact;
}

TEST(FormatV3Report, CsvAndJunitNameNodeRankAndGpu) {
  const std::vector<ResultFile> files = {load_result_file(kCudaNode)};
  const std::string csv = reports::render_csv(files);
  const std::string header = csv.substr(0, csv.find("\r\n"));
  EXPECT_EQ(header.rfind("file,host,rank,local_rank,gpu_index,gpu_uuid,gpu_name,span_ranks,span_nodes,backend,", 0), 0u) << header;
  EXPECT_NE(header.find(",tflops,gbps,algbw_gbps,busbw_gbps,"), std::string::npos);
  EXPECT_NE(header.find(",wrong_elements,"), std::string::npos);
  EXPECT_NE(csv.find(",gpu-node-01,2,2,2," + kGpu2 + ",NVIDIA H100 80GB HBM3,,,cuda,quick," + kWgmma4096), std::string::npos) << csv;
  EXPECT_NE(csv.find(",gpu-node-01,0,,,,NVIDIA H100 80GB HBM3,4,1,cuda,quick,all_reduce/nccl/bf16/bytes:1048576/in_place:0"),
            std::string::npos)
      << csv;

  const std::string xml = reports::render_junit(files);
  EXPECT_EQ(count_of(xml, "<testsuite "), 5u) << "one per GPU and one for the job-wide rows\n" << xml;
  EXPECT_NE(xml.find("<testsuite name=\"result-v3-fixture-cuda-node.json GPU 2 (" + kGpu2 + ")\" tests=\"4\""), std::string::npos) << xml;
  EXPECT_NE(xml.find("<property name=\"gpu_uuid\" value=\"" + kGpu2 + "\"/>"), std::string::npos);
  EXPECT_NE(xml.find("<property name=\"gpu_index\" value=\"2\"/>"), std::string::npos);
  EXPECT_NE(xml.find("<testsuite name=\"result-v3-fixture-cuda-node.json 4 ranks on 1 node\" tests=\"2\""), std::string::npos) << xml;
  EXPECT_NE(xml.find("<property name=\"spans\" value=\"job: 4 ranks on 1 node (gpu-node-01)\"/>"), std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// compare
// ---------------------------------------------------------------------------------------------

const compare::Verdict* verdict_at(const compare::Comparison& c, const std::string& name, const std::string& position) {
  for (const compare::Verdict& v : c.verdicts) {
    if (v.name == name && v.position == position) return &v;
  }
  return nullptr;
}

TEST(FormatV3Compare, NodeFilesPairGpuByGpuAndCollectivesByRankCount) {
  const json base = read_json(kCudaNode);
  const std::vector<ResultFile> baseline = {file_of("base.json", base)};
  const std::vector<ResultFile> current = {file_of("now.json", slowed(base, 2, 1.08))};
  compare::Options options;
  options.resamples = 0;
  const compare::Comparison c = compare::compare_files(baseline, current, options);
  EXPECT_TRUE(c.pair_by_gpu);
  ASSERT_EQ(c.verdicts.size(), 4u * 4u + 2u) << "4 benchmarks on 4 GPUs, 2 collectives";
  EXPECT_EQ(c.count(compare::State::slower), 4u) << "GPU 2's four, alone: not diluted by the three others";
  const compare::Verdict* slow = verdict_at(c, kWgmma4096, "rank 2");
  ASSERT_TRUE(slow);
  EXPECT_EQ(slow->state, compare::State::slower);
  EXPECT_EQ(slow->gpu, "gpu-node-01 GPU 2 (GPU-c62d05b9…)") << "its UUID shortened; the full one is in the files";
  ASSERT_TRUE(verdict_at(c, kWgmma4096, "rank 1"));
  EXPECT_EQ(verdict_at(c, kWgmma4096, "rank 1")->state, compare::State::same);
  const compare::Verdict* collective = verdict_at(c, "all_reduce/nccl/bf16/bytes:1048576/in_place:0", "4 ranks");
  ASSERT_TRUE(collective);
  EXPECT_TRUE(collective->job_wide);
  EXPECT_EQ(collective->state, compare::State::same);
  const std::string md = compare::render_markdown(c);
  EXPECT_NE(md.find("| " + kWgmma4096 + " [rank 2: gpu-node-01 GPU 2 (GPU-c62d05b9…)] | SLOWER |"), std::string::npos) << md;
  EXPECT_NE(md.find("paired GPU by GPU, by world rank"), std::string::npos);
  EXPECT_NE(md.find("Job-wide collectives paired by name and rank count."), std::string::npos);
  EXPECT_EQ(compare::to_json(c)["benchmarks"][0]["position"], "rank 2");

  // The same slot with another GPU in it: the slowdown is the machine's, said so.
  json swapped = slowed(base, 2, 1.08);
  swapped["context"]["aicbench"]["gpus"][2]["uuid"] = "GPU-replacement";
  for (json& b : swapped["benchmarks"]) {
    if (b["aicbench"]["origin"].value("gpu_index", -1) == 2) b["aicbench"]["origin"]["gpu_uuid"] = "GPU-replacement";
  }
  const compare::Comparison s = compare::compare_files(baseline, {file_of("swapped.json", swapped)}, options);
  EXPECT_EQ(verdict_at(s, kWgmma4096, "rank 2")->state, compare::State::environment_changed);
  EXPECT_NE(verdict_at(s, kWgmma4096, "rank 2")->reason.find("GPU UUID " + kGpu2 + " -> GPU-replacement"), std::string::npos)
      << verdict_at(s, kWgmma4096, "rank 2")->reason;
  EXPECT_EQ(verdict_at(s, kWgmma4096, "rank 1")->state, compare::State::same) << "GPU 1's environment is its own";
}

TEST(FormatV3Compare, OneGpuAgainstANodeIsPooledAndOtherRankCountsAreNewOrGone) {
  const json base = read_json(kCudaNode);
  json one_gpu = base;  // only rank 0's rows: one position
  json rows = json::array();
  for (const json& b : base["benchmarks"]) {
    if (b["aicbench"]["origin"].value("rank", 0) == 0 && !b["aicbench"]["origin"].contains("spans")) rows.push_back(b);
  }
  one_gpu["benchmarks"] = rows;
  compare::Options options;
  options.resamples = 0;
  const compare::Comparison c =
      compare::compare_files({file_of("one.json", one_gpu)}, {file_of("node.json", base)}, options);
  EXPECT_FALSE(c.pair_by_gpu);
  const compare::Verdict* pooled = verdict_at(c, kWgmma4096, "");
  ASSERT_TRUE(pooled);
  EXPECT_EQ(pooled->current.times_s.size(), 4u) << "the node's four GPUs pooled against the one";

  compare::Input in;
  for (const ResultFile& f : {load_result_file(kCpuNodeA)}) {
    for (ResultRow& row : result_rows(f, 0)) {
      if (!row.origin.job_wide()) continue;
      in.baseline.push_back(row);
      row.origin.spans->ranks = 8;  // the same collective over 8 ranks
      in.current.push_back(row);
    }
  }
  const compare::Comparison ranks = compare::compare(in, options);
  EXPECT_EQ(ranks.count(compare::State::gone), 2u);
  EXPECT_EQ(ranks.count(compare::State::new_benchmark), 2u);
}

// ---------------------------------------------------------------------------------------------
// accept
// ---------------------------------------------------------------------------------------------

json cuda_spec() {
  return {{"name", "h100-v3"},
          {"description", "format 3 test spec"},
          {"sku", {{"name", "NVIDIA H100 SXM5 80GB"}, {"backend", "cuda"}, {"match", {"H100"}}}},
          {"suite",
           {{"name", "quick"},
            {"version", 3},
            {"benchmarks",
             {"gemm/cublaslt/bf16/M:4096/N:4096/K:4096", kWgmma4096, "gemm/cublaslt/bf16/M:8192/N:8192/K:8192",
              "gemm/wgmma_sm90/bf16/M:8192/N:8192/K:8192", "all_reduce/nccl/bf16/bytes:1048576/in_place:0"}}}},
          {"clauses",
           {{{"id", "A.1"}, {"contract", "H100s"}, {"sku", json::object()}},
            {{"id", "A.2"}, {"contract", "4 GPUs a node"}, {"gpus_per_node", {{"count", 4}}}},
            {{"id", "A.3"}, {"contract", "the whole suite"}, {"suite_complete", json::object()}},
            {{"id", "A.4"}, {"contract", "wgmma at 560"}, {"min_throughput", {{"benchmark", kWgmma4096}, {"tflops", 560}}}},
            {{"id", "A.5"}, {"contract", "the all_reduce at 70 GB/s"},
             {"min_throughput", {{"benchmark", "all_reduce/nccl/bf16/bytes:1048576/in_place:0"}, {"gbps", 70}}}},
            {{"id", "A.6"}, {"contract", "clean"}, {"health_clean", {{"fields", {"ecc_uncorrected_volatile"}}}}}}}};
}

TEST(FormatV3Accept, AVerdictPerGpuOfTheNodeFileNamedByIndexAndUuid) {
  const accept::Spec spec = accept::parse_spec(cuda_spec(), "h100-v3.json");
  const accept::Verdict verdict = accept::evaluate(spec, {load_result_file(kCudaNode)});
  ASSERT_EQ(verdict.nodes.size(), 1u);
  const accept::NodeVerdict& node = verdict.nodes[0];
  ASSERT_EQ(node.gpus.size(), 4u) << "gpus_per_node counts the node file's GPUs";
  EXPECT_FALSE(node.passed());
  EXPECT_EQ(node.failed_gpus(), 1u);
  const accept::GpuVerdict& gpu2 = node.gpus[2];
  EXPECT_EQ(gpu2.id, kGpu2);
  EXPECT_EQ(gpu2.gpu_index, 2);
  EXPECT_EQ(gpu2.label, "GPU 2 (" + kGpu2 + ")");
  EXPECT_FALSE(gpu2.passed());
  for (size_t g : {0, 1, 3}) EXPECT_TRUE(node.gpus[g].passed()) << g;
  for (const accept::Outcome& o : node.outcomes) EXPECT_TRUE(o.passed()) << "4 GPUs reported";

  const std::string md = accept::render_markdown(spec, verdict);
  EXPECT_NE(md.find("| gpu-node-01 | 4 | FAIL | GPU 2 | A.4 (1 GPU) |"), std::string::npos) << md;
  EXPECT_NE(md.find("| gpu-node-01 | GPU 2 (" + kGpu2 + ") | A.4 | " + kWgmma4096 + ": 549.3 TFLOP/s, below the minimum 560"),
            std::string::npos)
      << md;
  const std::string xml = accept::render_junit(spec, verdict);
  EXPECT_NE(xml.find("A.4 on gpu-node-01 GPU 2 (" + kGpu2 + "): "), std::string::npos) << xml;
  const json j = json::parse(accept::render_json(spec, verdict));
  EXPECT_EQ(j["nodes"][0]["gpus"][2]["gpu_index"], 2);
  EXPECT_EQ(j["nodes"][0]["gpus"][2]["label"], "GPU 2 (" + kGpu2 + ")");
}

TEST(FormatV3Accept, AJobWideCollectiveCountsForEveryGpuOfEveryNodeItSpanned) {
  json spec_json = {{"name", "cpu-v3"},
                    {"description", "format 3 cpu test spec"},
                    {"sku", {{"name", "any CPU"}, {"backend", "cpu"}}},
                    {"suite",
                     {{"name", "quick"},
                      {"version", 3},
                      {"benchmarks", {"gemm/cpu_blocked/fp32/M:512/N:512/K:512", "all_reduce/ring/fp32/bytes:1048576/in_place:0"}}}},
                    {"clauses",
                     {{{"id", "C.1"}, {"contract", "2 ranks a node"}, {"gpus_per_node", {{"count", 2}}}},
                      {{"id", "C.2"}, {"contract", "the whole suite"}, {"suite_complete", json::object()}}}}};
  const accept::Spec spec = accept::parse_spec(spec_json, "cpu-v3.json");
  const accept::Verdict both = accept::evaluate(spec, {load_result_file(kCpuNodeA), load_result_file(kCpuNodeB)});
  ASSERT_EQ(both.nodes.size(), 2u);
  EXPECT_TRUE(both.passed()) << accept::render_markdown(spec, both);
  EXPECT_EQ(both.nodes[1].host, "cpu-node-b");
  EXPECT_EQ(both.nodes[1].gpus[1].label, "rank 3");

  // Without world rank 0's file, node b has no all_reduce: missing on both its ranks.
  const accept::Verdict alone = accept::evaluate(spec, {load_result_file(kCpuNodeB)});
  EXPECT_FALSE(alone.passed());
  EXPECT_EQ(alone.nodes[0].failed_gpus(), 2u);
  EXPECT_NE(accept::render_markdown(spec, alone).find("all_reduce/ring/fp32/bytes:1048576/in_place:0: missing"), std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// fleet
// ---------------------------------------------------------------------------------------------

const json& fleet_template() {
  static const json j = load_result_file(kData / "result-cpu-smoke-repetitions.json").json;
  return j;
}

fleet::FleetReport analyse(const std::vector<fs::path>& files, const fleet::FleetOptions& options = {}) {
  fleet::FleetCollector collector;
  for (const fs::path& path : files) collector.add(load_result_file(path));
  return fleet::analyse_fleet(collector, options);
}

TEST(FormatV3Fleet, NodeFilesGiveTheVerdictsOfOneFilePerGpu) {
  aicbench::testing::TestDir dir;
  aicbench::testing::FleetSpec spec;
  spec.nodes = 60;
  spec.gpus_per_node = 4;
  for (aicbench::testing::Plant kind : aicbench::testing::kAllPlants) spec.plants[kind] = 1;
  const auto per_gpu = generate_fleet(fleet_template(), spec, dir / "per-gpu");
  spec.node_files = true;
  const auto per_node = generate_fleet(fleet_template(), spec, dir / "per-node");
  EXPECT_EQ(per_node.files.size(), 60u);
  const fleet::FleetReport a = analyse(per_gpu.files), b = analyse(per_node.files);
  EXPECT_EQ(b.gpus.size(), a.gpus.size());
  EXPECT_EQ(b.usual_gpus_per_node, 4u);
  ASSERT_EQ(b.outliers.size(), a.outliers.size());
  for (size_t i = 0; i < a.outliers.size(); ++i) {
    EXPECT_EQ(b.outliers[i].node, a.outliers[i].node);
    EXPECT_EQ(b.outliers[i].reasons(), a.outliers[i].reasons()) << a.outliers[i].node;
  }
  for (const aicbench::testing::PlantedNode& p : per_node.planted) {
    const fleet::NodeVerdict* v = b.outlier(p.node);
    ASSERT_TRUE(v) << p.node << " " << aicbench::testing::to_string(p.kind);
    if (p.kind == aicbench::testing::Plant::slow) {
      ASSERT_FALSE(v->findings.empty());
      EXPECT_EQ(v->findings.front().gpus, std::vector<std::string>{p.node + " GPU " + std::to_string(p.gpu)});
    }
  }
  // The label names the GPU by its index in the node's file, the outputs its UUID too.
  const std::string md = fleet::render_markdown(b);
  EXPECT_NE(md.find(" GPU "), std::string::npos);
  const std::string csv = fleet::render_csv(b);
  EXPECT_NE(csv.find("gpu_reasons,rank,gpu_index\n"), std::string::npos);
}

TEST(FormatV3Fleet, ANodeWhoseGpusAreAllSlowIsNamedAsANode) {
  aicbench::testing::TestDir dir;
  aicbench::testing::FleetSpec spec;
  spec.nodes = 40;
  spec.gpus_per_node = 8;
  spec.node_files = true;
  const auto generated = generate_fleet(fleet_template(), spec, dir.path());
  // Node 7 entirely 5 % slow (power, cooling: what its GPUs share): at --slow-pct 3 its median
  // over its GPUs stands out against the other nodes', whether or not each GPU does on its own.
  const std::string slow_node = aicbench::testing::node_name(7);
  auto slow_down = [&](double factor) {
    for (const fs::path& path : generated.files) {
      json doc = read_json(path);
      if (doc["context"]["aicbench"]["job"]["node"] != slow_node) continue;
      const std::vector<int> ranks = doc["context"]["aicbench"]["job"]["node_ranks"];
      for (int r : ranks) doc = slowed(doc, r, factor);
      std::ofstream(path) << doc.dump();
    }
  };
  slow_down(1.05);
  fleet::FleetOptions options;
  options.slow_fraction = 0.03;
  const fleet::FleetReport report = analyse(generated.files, options);
  const fleet::NodeVerdict* v = report.outlier(slow_node);
  ASSERT_TRUE(v) << fleet::render_markdown(report);
  ASSERT_TRUE(v->has(fleet::Reason::slow));
  const fleet::Finding& f = v->findings.front();
  EXPECT_TRUE(f.gpus.empty()) << "about the node";
  EXPECT_EQ(f.detail.rfind("node-wide: ", 0), 0u) << f.detail;
  EXPECT_NE(f.detail.find("the node's median over its GPUs slow on"), std::string::npos) << f.detail;

  // 10 % slow: every GPU slow on its own as well, and the node says so.
  slow_down(1.05);
  const fleet::FleetReport worse = analyse(generated.files);
  ASSERT_TRUE(worse.outlier(slow_node));
  EXPECT_NE(worse.outlier(slow_node)->findings.front().detail.find("all 8 GPUs slow"), std::string::npos)
      << worse.outlier(slow_node)->findings.front().detail;
}

TEST(FormatV3Fleet, JobWideRowsAreInNoGpuDistribution) {
  const fleet::FleetReport report = analyse({kCpuNodeA, kCpuNodeB});
  EXPECT_EQ(report.gpus.size(), 4u);
  EXPECT_EQ(report.job_wide_rows, 2u);
  for (const fleet::Distribution& d : report.distributions) EXPECT_EQ(d.benchmark.rfind("all_reduce", 0), std::string::npos);
  EXPECT_EQ(report.gpus[3].label, "cpu-node-b:3");
  EXPECT_NE(fleet::render_markdown(report).find("2 measurement(s) of job-wide collectives"), std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// history
// ---------------------------------------------------------------------------------------------

void exec(const fs::path& db, const std::string& sql) {
  sqlite3* handle = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &handle), SQLITE_OK);
  char* error = nullptr;
  EXPECT_EQ(sqlite3_exec(handle, sql.c_str(), nullptr, nullptr, &error), SQLITE_OK) << (error ? error : "");
  sqlite3_free(error);
  sqlite3_close(handle);
}

int64_t query_int(const fs::path& db, const std::string& sql) {
  sqlite3* handle = nullptr;
  EXPECT_EQ(sqlite3_open_v2(db.c_str(), &handle, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(handle, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK) << sqlite3_errmsg(handle);
  int64_t value = -1;
  if (stmt && sqlite3_step(stmt) == SQLITE_ROW) value = sqlite3_column_int64(stmt, 0);
  sqlite3_finalize(stmt);
  sqlite3_close(handle);
  return value;
}

const history::TrendSeries* series_labelled(const history::Trend& trend, const std::string& benchmark, const std::string& label) {
  for (const history::TrendSeries& s : trend.series) {
    if (s.benchmark == benchmark && s.label() == label) return &s;
  }
  return nullptr;
}

TEST(FormatV3History, RowsKeepTheirRankAndGpuAndEachGpuIsASeries) {
  aicbench::testing::TestDir dir;
  const fs::path db = dir / "history.db";
  const fs::path tonight = dir / "tonight.json";
  std::ofstream(tonight) << slowed(read_json(kCudaNode), 2, 1.10, "2026-12-01T02:00:00Z").dump();
  history::add_runs(db, {kCudaNode, tonight, kCpuNodeA, kCpuNodeB});
  EXPECT_EQ(query_int(db, "SELECT version FROM aicbench_schema"), 2);
  EXPECT_EQ(query_int(db, "SELECT count(*) FROM runs WHERE gpu_uuid IS NULL AND backend = 'cuda'"), 2) << "a node's file is no one GPU's";
  EXPECT_EQ(query_int(db, "SELECT count(*) FROM results WHERE gpu_index = 2 AND rank = 2 AND local_rank = 2 AND node = 'gpu-node-01' "
                          "AND gpu_uuid = '" + kGpu2 + "'"),
            2 * 4);
  EXPECT_EQ(query_int(db, "SELECT count(*) FROM results WHERE span_ranks = 4 AND span_nodes = 2 AND rank IS NULL "
                          "AND algbw_gbps > 0 AND wrong_elements = 0"),
            2);
  EXPECT_EQ(query_int(db, "SELECT count(DISTINCT rank) FROM measurements WHERE node = 'cpu-node-b'"), 2);

  const history::Trend trend = history::history_trend(db, {.filter = "wgmma_sm90/bf16/M:4096|all_reduce/ring|cpu_blocked/fp32/M:512"},
                                                      history::compare_change_detector());
  const history::TrendSeries* gpu2 =
      series_labelled(trend, kWgmma4096, "NVIDIA H100 80GB HBM3 GPU 2 (" + kGpu2 + ") on gpu-node-01");
  ASSERT_TRUE(gpu2) << history::render_trend_markdown(trend);
  ASSERT_EQ(gpu2->points.size(), 2u);
  EXPECT_EQ(gpu2->points[1].change, history::Change::slower) << "compare paired GPU 2 with GPU 2";
  const history::TrendSeries* gpu1 =
      series_labelled(trend, kWgmma4096, "NVIDIA H100 80GB HBM3 GPU 1 (GPU-81c4e7d2-0a93-4b6f-b2d5-7e19c0f4a831) on gpu-node-01");
  ASSERT_TRUE(gpu1);
  EXPECT_EQ(gpu1->points[1].change, history::Change::none);
  EXPECT_TRUE(series_labelled(trend, "gemm/cpu_blocked/fp32/M:512/N:512/K:512", "AMD EPYC 9654 rank 3 on cpu-node-b"));
  EXPECT_TRUE(series_labelled(trend, "all_reduce/ring/fp32/bytes:1048576/in_place:0",
                              "job: 4 ranks on 2 nodes of AMD EPYC 9654 (from cpu-node-a)"));
  EXPECT_NE(history::render_trend_csv(trend).find(",SLOWER,2,2,\r\n"), std::string::npos) << history::render_trend_csv(trend);
}

TEST(FormatV3History, AVersionOneDatabaseIsReadAndUpgradedByTheNextAdd) {
  aicbench::testing::TestDir dir;
  const fs::path db = dir / "old.db";
  history::add_runs(db, {kData / "result-cpu-smoke.json"});
  // Back to schema version 1, as an older aicbench left it.
  exec(db, R"sql(
    DROP VIEW measurements;
    ALTER TABLE runs DROP COLUMN nodes; ALTER TABLE runs DROP COLUMN node_ranks;
    ALTER TABLE results DROP COLUMN node; ALTER TABLE results DROP COLUMN rank; ALTER TABLE results DROP COLUMN local_rank;
    ALTER TABLE results DROP COLUMN gpu_index; ALTER TABLE results DROP COLUMN span_ranks;
    ALTER TABLE results DROP COLUMN span_nodes; ALTER TABLE results DROP COLUMN algbw_gbps;
    ALTER TABLE results DROP COLUMN wrong_elements;
    CREATE VIEW measurements AS SELECT runs.start_time, results.name FROM results JOIN runs ON runs.id = results.run_id;
    UPDATE aicbench_schema SET version = 1;)sql");
  const history::Trend before = history::history_trend(db, {.filter = "cpu_blocked"}, {});
  EXPECT_FALSE(before.series.empty()) << "read as it is";
  EXPECT_EQ(query_int(db, "SELECT version FROM aicbench_schema"), 1) << "a read changes nothing";

  history::add_runs(db, {kCpuNodeA});
  EXPECT_EQ(query_int(db, "SELECT version FROM aicbench_schema"), 2);
  EXPECT_EQ(query_int(db, "SELECT count(*) FROM results r JOIN runs ON runs.id = r.run_id WHERE runs.host = 'vm' "
                          "AND r.node = 'vm' AND r.rank = 0"),
            query_int(db, "SELECT count(*) FROM results r JOIN runs ON runs.id = r.run_id WHERE runs.host = 'vm'"))
      << "the rows recorded before get their run's host and rank";
  EXPECT_EQ(query_int(db, "SELECT count(*) FROM measurements WHERE node = 'cpu-node-a' AND rank = 1"), 4);
}

// ---------------------------------------------------------------------------------------------
// The command line: a bad node file is exit 2, naming the field
// ---------------------------------------------------------------------------------------------

TEST(FormatV3Cli, EveryCommandReadsNodeFilesAndRefusesBadOnesWithExitTwo) {
  aicbench::testing::TestDir dir;
  const std::string binary = AICBENCH_REPORTS_BINARY;
  const std::string pair = kCpuNodeA.string() + " " + kCpuNodeB.string();
  auto run = [&](const std::string& args) { return aicbench::testing::run_binary(binary, args); };
  EXPECT_EQ(run("report " + kCudaNode.string() + " " + pair).exit_code, 0);
  EXPECT_EQ(run("fleet " + pair).exit_code, 0) << "4 GPUs: shown, nobody judged";
  EXPECT_EQ(run("history add --db " + (dir / "h.db").string() + " " + kCudaNode.string() + " " + pair).exit_code, 0);

  const json good = read_json(kCudaNode);
  const size_t i = row_index(good, kWgmma4096, 2);
  json bad_index = good;
  bad_index["benchmarks"][i]["aicbench"]["origin"]["gpu_index"] = 4;
  json twice = good;
  twice["benchmarks"].push_back(good["benchmarks"][i]);
  json busbw = good;
  const size_t c = first_collective(good);
  busbw["benchmarks"][c]["busbw_gbps"] = busbw["benchmarks"][c]["algbw_gbps"];
  const std::vector<std::pair<json, std::string>> bad = {
      {bad_index, "field 'benchmarks[" + std::to_string(i) + "].aicbench.origin.gpu_index' is 4"},
      {twice, "repeats benchmarks[" + std::to_string(i) + "]"},
      {busbw, "field 'benchmarks[" + std::to_string(c) + "].busbw_gbps' is "},
  };
  for (size_t k = 0; k < bad.size(); ++k) {
    const fs::path path = dir / ("bad" + std::to_string(k) + ".json");
    std::ofstream(path) << bad[k].first.dump();
    for (const std::string& command : {"report " + path.string(), "compare " + kCudaNode.string() + " -- " + path.string(),
                                       "fleet " + path.string(), "accept --spec " + (fs::path(AICBENCH_SPECS_DIR) / "acceptance/h100_sxm.json").string() + " " + path.string()}) {
      const aicbench::testing::Outcome o = run(command);
      EXPECT_EQ(o.exit_code, 2) << command << "\n" << o.output;
      EXPECT_NE(o.output.find(path.string() + ": "), std::string::npos) << o.output;
      EXPECT_NE(o.output.find(bad[k].second), std::string::npos) << command << "\n" << o.output;
    }
  }
}

// A node-level row (p2p: the node's first rank measures every pair for the whole node) is evidence
// for every GPU of its node, as a job-wide collective is for every node it spanned.
TEST(FormatV3Accept, ANodeLevelP2pRowCountsForEveryGpuOfItsNode) {
  json node = read_json(kCudaNode);
  json p2p = node["benchmarks"][row_index(node, "gemm/cublaslt/bf16/M:4096/N:4096/K:4096", 0)];
  const std::string name = "p2p/ce/u8/src:0/dst:1/directions:2/bytes:67108864";
  p2p["name"] = p2p["run_name"] = name;
  for (const char* key : {"tflops", "pct_of_peak", "tflops_per_w"}) p2p.erase(key);
  p2p["gbps"] = 700.0;
  p2p["max_rel_err"] = 0.0;
  json& a = p2p["aicbench"];
  a["family"] = "p2p";
  a["impl"] = "ce";
  a["dtype"] = "u8";
  a["params"] = {{"src", 0}, {"dst", 1}, {"directions", 2}, {"bytes", 67108864}};
  a["validation"] = {{"max_rel_err", 0.0}, {"tolerance", 0.0}, {"method", "exact: every element compared"}};
  node["benchmarks"].push_back(p2p);

  for (double minimum : {600.0, 800.0}) {
    const json spec_json = {
        {"name", "p2p-v3"},
        {"description", "node-level rows"},
        {"sku", {{"name", "NVIDIA H100 SXM5 80GB"}, {"backend", "cuda"}, {"match", {"H100"}}}},
        {"suite", {{"name", "quick"}, {"version", 3}, {"benchmarks", {name}}}},
        {"clauses", {{{"id", "P.1"}, {"contract", "NVLink"}, {"min_throughput", {{"benchmark", name}, {"gbps", minimum}}}}}}};
    const accept::Spec spec = accept::parse_spec(spec_json, "p2p-v3.json");
    const accept::Verdict verdict = accept::evaluate(spec, {file_of("node.json", node)});
    ASSERT_EQ(verdict.nodes.size(), 1u);
    ASSERT_EQ(verdict.nodes[0].gpus.size(), 4u) << "the p2p row adds no GPU of its own";
    for (const accept::GpuVerdict& gpu : verdict.nodes[0].gpus) {
      EXPECT_EQ(gpu.passed(), minimum < 700) << gpu.label << " at a minimum of " << minimum << " GB/s";
    }
  }
}

// A node whose every GPU fails is said once ("all 4"), not as a list of every GPU.
TEST(FormatV3Accept, ANodeWhoseEveryGpuFailsIsSaidOnce) {
  json spec_json = cuda_spec();
  spec_json["clauses"] = {{{"id", "A.9"},
                           {"contract", "out of reach"},
                           {"min_throughput", {{"benchmark", "gemm/cublaslt/bf16/M:4096/N:4096/K:4096"}, {"tflops", 5000}}}}};
  const accept::Spec spec = accept::parse_spec(spec_json, "h100-v3.json");
  const accept::Verdict verdict = accept::evaluate(spec, {load_result_file(kCudaNode)});
  const std::string md = accept::render_markdown(spec, verdict);
  EXPECT_NE(md.find("| gpu-node-01 | 4 | FAIL | all 4 | A.9 (4 GPUs) |"), std::string::npos) << md;
}

}  // namespace
}  // namespace aicbench
