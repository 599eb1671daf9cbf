// `aicbench model collective` end to end with the reports-only binary: predictions with assumed,
// option-set and fitted terms (each saying where it came from), parallel groups, the refusals
// (exit 2 naming the option), --validate on the SYNTHETIC collective result files and its
// --max-median-error gate, and the outputs.
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/run_binary.hpp"
#include "tests/test_dir.hpp"

namespace aicbench {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using testing::Outcome;

const fs::path kData = fs::path(AICBENCH_TEST_DATA_DIR);

Outcome aicbench(const std::string& args) { return testing::run_binary(AICBENCH_REPORTS_BINARY, args); }

std::string data(const std::string& name) { return (kData / name).string(); }

std::string cpu_files() {
  std::string files;
  for (int ranks : {2, 3, 4, 8}) {
    files += ' ';
    files += data("result-synthetic-collective-cpu-ranks" + std::to_string(ranks) + ".json");
  }
  return files;
}

std::string cuda_files() {
  return data("result-synthetic-collective-cuda-1node.json") + " " + data("result-synthetic-collective-cuda-2nodes.json") +
         " " + data("result-synthetic-collective-cuda-4nodes.json");
}

json run_json(const std::string& args) {
  const Outcome out = aicbench("model collective " + args + " --json");
  EXPECT_EQ(out.exit_code, 0) << out.output;
  // stderr (a "wrote" line) may precede the JSON.
  const size_t start = out.output.find('{');
  return json::parse(out.output.substr(start == std::string::npos ? 0 : start));
}

TEST(ModelCli, PredictsWithAssumedTermsAndSaysSo) {
  const Outcome out = aicbench("model collective --op all_reduce --ranks 10000 --gpus-per-node 8 --bytes 1G");
  ASSERT_EQ(out.exit_code, 0) << out.output;
  EXPECT_NE(out.output.find("6 of 6 terms are assumed"), std::string::npos) << out.output;
  for (const char* algorithm : {"| ring", "| tree", "| hierarchical", "| nvls"}) {
    EXPECT_NE(out.output.find(algorithm), std::string::npos) << algorithm;
  }
  const json j = run_json("--op all_reduce --ranks 10000 --gpus-per-node 8 --bytes 1G");
  EXPECT_EQ(j["nodes"], 1250);
  EXPECT_EQ(j["terms"]["inter_beta_s_per_byte"]["origin"], "assumed");
  EXPECT_NEAR(j["terms"]["inter_beta_s_per_byte"]["gbps"].get<double>(), 50, 1e-9);
  ASSERT_EQ(j["collectives"].size(), 1u);
  const json& q = j["collectives"][0];
  EXPECT_EQ(q["ranks"], 10000);
  EXPECT_EQ(q["ranks_per_node"], 8);
  ASSERT_EQ(q["algorithms"].size(), 4u);
  for (const json& a : q["algorithms"]) {
    EXPECT_TRUE(a["applicable"].get<bool>()) << a;
    EXPECT_GT(a["time_s"].get<double>(), 0);
    EXPECT_NEAR(a["busbw_gbps"].get<double>(), a["algbw_gbps"].get<double>() * 2 * 9999 / 10000, 1e-9);
  }
}

TEST(ModelCli, OptionsSetTermsAndOverrideAFit) {
  const json j = run_json("--op all_reduce --ranks 16 --gpus-per-node 8 --bytes 64M --nic-gbps 800 --nic-latency-us 3 "
                          "--calibrate " + cuda_files());
  EXPECT_EQ(j["terms"]["inter_beta_s_per_byte"]["origin"], "option");
  EXPECT_EQ(j["terms"]["inter_beta_s_per_byte"]["source"], "--nic-gbps 800");
  EXPECT_NEAR(j["terms"]["inter_beta_s_per_byte"]["gbps"].get<double>(), 100, 1e-9);
  EXPECT_NEAR(j["terms"]["inter_alpha_s"]["value"].get<double>(), 3e-6, 1e-18);
  EXPECT_EQ(j["terms"]["intra_beta_s_per_byte"]["origin"], "fitted");
}

// A directory of a job's result files calibrates like the files named one by one.
TEST(ModelCli, ADirectoryCalibratesLikeItsFiles) {
  testing::TestDir dir;
  for (const char* nodes : {"1node", "2nodes", "4nodes"}) {
    const std::string name = std::string("result-synthetic-collective-cuda-") + nodes + ".json";
    fs::copy_file(kData / name, dir / name);
  }
  const std::string query = "--op all_reduce --ranks 64 --gpus-per-node 8 --bytes 256M --calibrate ";
  const json from_files = run_json(query + cuda_files());
  const json from_directory = run_json(query + dir.path().string());
  EXPECT_EQ(from_directory["terms"], from_files["terms"]);
  EXPECT_EQ(from_directory["collectives"], from_files["collectives"]);
}

TEST(ModelCli, CalibrationNamesTheFilesAndRowsBehindEachTerm) {
  const json j = run_json("--op all_reduce --ranks 64 --gpus-per-node 8 --bytes 256M --calibrate " + cuda_files());
  for (const char* term : {"intra_alpha_s", "intra_beta_s_per_byte", "inter_alpha_s", "inter_beta_s_per_byte",
                           "nvls_alpha_s", "nvls_beta_s_per_byte"}) {
    EXPECT_EQ(j["terms"][term]["origin"], "fitted") << term;
  }
  EXPECT_NEAR(j["terms"]["intra_beta_s_per_byte"]["gbps"].get<double>(), 360, 1e-6);
  EXPECT_NEAR(j["terms"]["inter_beta_s_per_byte"]["gbps"].get<double>(), 25, 1e-6);
  EXPECT_NEAR(j["terms"]["nvls_beta_s_per_byte"]["gbps"].get<double>(), 300, 1e-6);
  ASSERT_EQ(j["fits"].size(), 2u);
  const json& nccl = j["fits"][0];
  EXPECT_EQ(nccl["impl"], "nccl");
  ASSERT_EQ(nccl["intra_node"]["sources"].size(), 1u);
  const json& source = nccl["intra_node"]["sources"][0];
  EXPECT_EQ(fs::path(source["file"].get<std::string>()).filename(), "result-synthetic-collective-cuda-1node.json");
  EXPECT_EQ(source["rows"], 8);
  EXPECT_EQ(source["first_row"], "all_reduce/nccl/fp32/bytes:8/in_place:1");
  EXPECT_EQ(nccl["inter_node"]["sources"].size(), 2u);
  EXPECT_EQ(j["fits"][1]["impl"], "multimem");

  // Markdown: a fits section with the files.
  const Outcome md = aicbench("model collective --op all_reduce --ranks 64 --gpus-per-node 8 --bytes 256M --calibrate " +
                              cuda_files());
  EXPECT_NE(md.output.find("## Fits (which rows fitted which term)"), std::string::npos);
  EXPECT_NE(md.output.find("result-synthetic-collective-cuda-2nodes.json | 16 | 2 | 8 |"), std::string::npos)
      << md.output;
  EXPECT_EQ(md.output.find("ASSUMED"), std::string::npos);
}

TEST(ModelCli, CalibrationFromCpuRowsWarns) {
  const Outcome out = aicbench("model collective --op all_reduce --ranks 16 --gpus-per-node 8 --bytes 1M --calibrate" +
                               cpu_files());
  ASSERT_EQ(out.exit_code, 0) << out.output;
  EXPECT_NE(out.output.find("come from a CPU run"), std::string::npos);
  EXPECT_NE(out.output.find("4 of 6 terms are assumed"), std::string::npos);  // NIC and NVLS
}

TEST(ModelCli, ParallelGroups) {
  const json j = run_json("--gpus-per-node 8 --group tp=8,dp=1250 --collective tp:all_reduce:64M "
                          "--collective dp:reduce_scatter:2G --collective dp:all_gather:2G --collective job:all_reduce:1G");
  EXPECT_EQ(j["ranks"], 10000);
  EXPECT_EQ(j["layout"], "tp=8,dp=1250");
  ASSERT_EQ(j["collectives"].size(), 4u);
  const json& tp = j["collectives"][0];
  EXPECT_EQ(tp["group"], "tp");
  EXPECT_EQ(tp["nodes"], 1);
  EXPECT_EQ(tp["concurrent_groups"], 1250);
  EXPECT_EQ(tp["fastest"], "nvls");
  const json& dp = j["collectives"][1];
  EXPECT_EQ(dp["op"], "reduce_scatter");
  EXPECT_EQ(dp["nodes"], 1250);
  EXPECT_EQ(dp["ranks_per_node"], 1);
  EXPECT_EQ(dp["concurrent_groups"], 8);
  EXPECT_EQ(j["collectives"][3]["group"], "job");

  // Without --collective: --op at --bytes in every group of 2 ranks or more.
  const json every = run_json("--gpus-per-node 8 --group tp=8,pp=1,dp=16 --op all_reduce --bytes 1M");
  ASSERT_EQ(every["collectives"].size(), 2u);
  EXPECT_EQ(every["collectives"][1]["group"], "dp");
}

TEST(ModelCli, RefusesImpossibleInputsNamingTheOption) {
  const std::string job = " --op all_reduce --gpus-per-node 8 --bytes 1M";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"--ranks 10" + job, "--ranks 10 is not a multiple of --gpus-per-node 8"},
      {"--ranks 1 --op all_reduce --gpus-per-node 1 --bytes 1M", "--ranks 1"},
      {"--ranks 16 --op all_reduce --gpus-per-node 8 --bytes 0", "--bytes 0"},
      {"--ranks 16 --op all_reduce --gpus-per-node 8 --bytes -4", "--bytes -4"},
      {"--ranks 16 --op all_reduce --gpus-per-node 8 --bytes 1.5M", "--bytes 1.5M"},
      {"--ranks 16 --op allreduce --gpus-per-node 8 --bytes 1M", "--op allreduce"},
      {"--ranks 16 --op all_reduce --gpus-per-node 0 --bytes 1M", "--gpus-per-node 0"},
      {"--ranks 16 --op all_reduce --bytes 1M", "needs --gpus-per-node"},
      {"--ranks 16 --gpus-per-node 8 --bytes 1M", "needs --op"},
      {"--ranks 16 --gpus-per-node 8 --op all_reduce", "needs --bytes"},
      {"--ranks abc" + job, "--ranks abc"},
      {"--ranks 16" + job + " --nic-gbps 0", "--nic-gbps 0"},
      {"--ranks 16" + job + " --nic-gbps nan", "--nic-gbps nan"},
      {"--ranks 16" + job + " --intra-latency-us -1", "--intra-latency-us -1"},
      {"--ranks 64" + job + " --group tp=8,dp=4", "--group tp=8,dp=4: the sizes multiply to 32, not --ranks 64"},
      {"--group tp=3,dp=8" + job, "straddle"},
      {"--ranks 16" + job + " --collective pp:all_reduce:1M", "no group named pp"},
      {"--ranks 16 --gpus-per-node 8 --collective job:all_reduce", "--collective job:all_reduce"},
      {"--ranks 16" + job + " --collective job:all_reduce:1M", "with --collective"},
      {"--ranks 16" + job + " --fit-ranks 2", "--fit-ranks needs --validate"},
      {"--ranks 16" + job + " --fit-impl nccl", "--fit-impl needs result files"},
      {"--ranks 16" + job + " --calibrate " + data("result-cpu-smoke.json"), "no ok collective rows"},
      {"--ranks 16" + job + " --calibrate /nonexistent.json", "/nonexistent.json"},
      {"--ranks 16" + job + " --calibrate" + cpu_files() + " --fit-impl nccl", "--fit-impl nccl"},
      {"--ranks 16" + job + " --calibrate " + data("result-synthetic-collective-cpu-ranks2.json") + " " +
           data("result-synthetic-collective-cpu-ranks2.json"),
       "given twice"},
      {"--validate" + cpu_files(), "needs --fit-ranks"},
      {"--validate --fit-ranks 2,4", "needs result files"},
      {"--validate --fit-ranks 2,x" + cpu_files(), "--fit-ranks x"},
      {"--validate --fit-ranks 2,4,8 --ranks 16" + cpu_files(), "--ranks is for predictions"},
      {"--validate --fit-ranks 2,4,8 --fit-bytes 1M:8" + cpu_files(), "LO is above HI"},
      {"--validate --fit-ranks 2,4,8 --holdout-every 1" + cpu_files(), "--holdout-every 1"},
      {"--validate --fit-ranks 5" + cpu_files(), "nothing validated"},
      {"--validate --fit-ranks 2,4,8 --shape mpi=star" + cpu_files(), "--shape mpi=star"},
  };
  for (const auto& [args, says] : cases) {
    const Outcome out = aicbench("model collective " + args);
    EXPECT_EQ(out.exit_code, 2) << args << "\n" << out.output;
    EXPECT_NE(out.output.find(says), std::string::npos) << args << "\n" << out.output;
  }
  EXPECT_EQ(aicbench("model").exit_code, 2);
  EXPECT_EQ(aicbench("model size").exit_code, 2);
  EXPECT_EQ(aicbench("model --help").exit_code, 0);
  EXPECT_EQ(aicbench("model collective --help").exit_code, 0);
}

TEST(ModelCli, ValidatesOnHeldOutRanksAndSizes) {
  const Outcome out = aicbench("model collective --validate --fit-ranks 2,4,8 --holdout-every 3" + cpu_files());
  ASSERT_EQ(out.exit_code, 0) << out.output;
  EXPECT_NE(out.output.find("| **all** |"), std::string::npos);
  EXPECT_NE(out.output.find("| all_reduce/twoshot_shm | twoshot | fp32 |"), std::string::npos) << out.output;

  const json j = run_json("--validate --fit-ranks 2,4,8 --holdout-every 3 --impl ring --op all_reduce" + cpu_files());
  ASSERT_EQ(j["groups"].size(), 1u);
  EXPECT_EQ(j["groups"][0]["impl"], "ring");
  EXPECT_EQ(j["groups"][0]["held_out_ranks"]["count"], 8);
  EXPECT_LT(j["groups"][0]["all"]["max_abs_rel_err"].get<double>(), 1e-9);
  EXPECT_EQ(j["validation"]["fit_ranks"], json::array({2, 4, 8}));

  // --fit-bytes: sizes above 256 KiB held out as well (extrapolation in size).
  const json sizes = run_json("--validate --fit-ranks 2,4,8 --fit-bytes :256K --impl rhd" + cpu_files());
  EXPECT_EQ(sizes["groups"][0]["held_out_sizes"]["count"], 3 * 2);

  // The gate: the mpi rows' +-3 % ripple fails a 0.1 % median, passes 10 %.
  EXPECT_EQ(aicbench("model collective --validate --fit-ranks 2,4,8 --impl mpi --max-median-error 0.1" + cpu_files())
                .exit_code,
            1);
  EXPECT_EQ(aicbench("model collective --validate --fit-ranks 2,4,8 --impl mpi --max-median-error 10" + cpu_files())
                .exit_code,
            0);
}

TEST(ModelCli, WritesMarkdownAndNeverOverAnInput) {
  testing::TestDir dir;
  const fs::path md = dir / "errors.md";
  const Outcome out =
      aicbench("model collective --validate --fit-ranks 2,4,8" + cpu_files() + " --md " + md.string());
  ASSERT_EQ(out.exit_code, 0) << out.output;
  std::ifstream in(md);
  const std::string text{std::istreambuf_iterator<char>(in), {}};
  EXPECT_NE(text.find("# Collective model validation"), std::string::npos);

  const Outcome over = aicbench("model collective --validate --fit-ranks 2,4,8" + cpu_files() + " --md " +
                                data("result-synthetic-collective-cpu-ranks2.json"));
  EXPECT_EQ(over.exit_code, 2) << over.output;
}

}  // namespace
}  // namespace aicbench
