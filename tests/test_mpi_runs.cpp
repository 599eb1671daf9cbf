// Multi-rank runs with real processes under mpirun (label mpi): one result file per node holding
// every rank's rows, a collective recorded once with the ranks and nodes it spanned, ranks that
// disagree stopped at the start, and faults: a rank killed (kill -9) or stopped (SIGSTOP) outside
// or inside a collective ends the job within a bounded time, naming the rank and its host, and the
// node files keep what was measured before (complete: false).
//
// Each run is a few seconds: tiny CPU suites, --job-timeout 3 where a fault must be waited out.
// AICBENCH_TEST_RANKS_PER_NODE splits one host's ranks into "nodes", so that the multi-node
// layout is tested on one machine. Skipped where this build has no MPI or no mpirun.
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "reports/result_file.hpp"
#include "tests/run_binary.hpp"
#include "tests/test_dir.hpp"

namespace aicbench {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct MpiOutcome {
  int exit_code;
  std::string output;
  double seconds;
};

class MpiRuns : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!AICBENCH_WITH_MPI) GTEST_SKIP() << "this build has no MPI (-DAICBENCH_WITH_MPI=OFF)";
    if (std::string(AICBENCH_MPIEXEC).empty() || !fs::exists(AICBENCH_MPIEXEC)) {
      GTEST_SKIP() << "no mpirun found by CMake (Debian: openmpi-bin)";
    }
    // OpenMPI refuses root unless told; CI containers run as root.
    ::setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", 1);
    ::setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", 1);
    fs::create_directories(dir_ / "specs" / "suites");
  }

  // specs/suites/<name>.json: `impls` of gemm fp32 on the cpu backend at two small shapes.
  void write_suite(const std::string& name, const std::string& impls) {
    std::ofstream(dir_ / "specs" / "suites" / (name + ".json"))
        << R"({"name": ")" << name << R"(", "version": 1,
              "measurement": {"modes": ["hot"], "cpu": {"min_samples": 3, "min_time_s": 0.001, "max_noise": 1, "timeout_s": 1}},
              "groups": [{"family": "gemm", "dtypes": ["fp32"], "impls": [)" << impls << R"(],
                          "shapes": {"cpu": [{"M": 16, "N": 16, "K": 16}, {"M": 24, "N": 16, "K": 8}]}}]})";
  }

  // mpirun -np N BINARY run ARGS, with the environment `env` ("VAR=value ..."), under a hard limit
  // so that a hang fails the test instead of the CI job.
  MpiOutcome mpirun(int ranks, const std::string& binary, const std::string& args, const std::string& env = "") {
    std::string command = "timeout -s KILL 90 " + std::string(AICBENCH_MPIEXEC) + " -np " + std::to_string(ranks) +
                          " --oversubscribe -x AICBENCH_SPECS=" + (dir_ / "specs").string();
    std::istringstream vars(env);
    for (std::string var; vars >> var;) command += " -x " + var;
    command += " " + binary + " " + args;
    const auto start = std::chrono::steady_clock::now();
    const testing::Outcome outcome = testing::run_binary(command, "");
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return {outcome.exit_code, outcome.output, seconds};
  }

  std::string run_args(const std::string& suite, const std::string& more = "") const {
    return "run --suite " + suite + " --backend cpu --out " + (dir_ / "out").string() + " " + more;
  }
  std::string planted_args(const std::string& suite, const std::string& more = "") const {
    return "--suite " + suite + " --out " + (dir_ / "out").string() + " " + more;
  }

  // The result files in --out (not the temporaries of an atomic rewrite that a process killed
  // by the launcher left behind: <file>.json.tmp.<pid>).
  std::vector<fs::path> result_files() const {
    std::vector<fs::path> files;
    if (fs::exists(dir_ / "out")) {
      for (const auto& entry : fs::directory_iterator(dir_ / "out")) {
        if (entry.path().extension() == ".json") files.push_back(entry.path());
      }
    }
    std::sort(files.begin(), files.end());
    return files;
  }

  // The rows of `file` whose name starts with `prefix`, by origin rank.
  static std::multiset<int> ranks_of(const ResultFile& file, const std::string& prefix) {
    std::multiset<int> ranks;
    for (const json& row : file.json["benchmarks"]) {
      if (row["name"].get<std::string>().rfind(prefix, 0) == 0) ranks.insert(row["aicbench"]["origin"].value("rank", -1));
    }
    return ranks;
  }

  testing::TestDir dir_;
};

TEST_F(MpiRuns, TwoRanksOnOneNodeWriteOneFileWithEveryRanksRows) {
  write_suite("tiny", R"("cpu_blocked")");
  const MpiOutcome run = mpirun(2, AICBENCH_BINARY, run_args("tiny"));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const std::vector<fs::path> files = result_files();
  ASSERT_EQ(files.size(), 1u) << run.output;
  EXPECT_NE(files[0].filename().string().find("-node0-rank0-pid"), std::string::npos) << files[0];
  const ResultFile file = load_result_file(files[0]);
  const json& p = file.provenance();
  EXPECT_EQ(p["format_version"], 3);
  EXPECT_TRUE(p["complete"].get<bool>());
  EXPECT_EQ(p["ranks"], 2);
  const json& job = p["job"];
  EXPECT_EQ(job["launcher"], "mpirun");
  EXPECT_EQ(job["ranks"], 2);
  EXPECT_EQ(job["nodes"], 1);
  EXPECT_EQ(job["node_ranks"], json::array({0, 1}));
  EXPECT_EQ(job["ranks_per_node"], json::array({2}));
  EXPECT_EQ(p["methodology"]["random_interleaving"], false);
  // Each benchmark once per rank, each row naming its node and rank (cpu rows name no GPU).
  EXPECT_EQ(ranks_of(file, "gemm/cpu_blocked/fp32/M:16/"), (std::multiset<int>{0, 1}));
  EXPECT_EQ(ranks_of(file, "gemm/cpu_blocked/fp32/M:24/"), (std::multiset<int>{0, 1}));
  for (const json& row : file.json["benchmarks"]) {
    const json& origin = row["aicbench"]["origin"];
    EXPECT_EQ(origin["node"], job["node"]);
    EXPECT_EQ(origin["local_rank"], origin["rank"]);
    EXPECT_FALSE(origin.contains("gpu_uuid"));
    EXPECT_EQ(row["aicbench"]["status"], "ok") << row.dump();
  }
}

TEST_F(MpiRuns, EachNodeWritesItsOwnFileAndNoOtherProcessWritesOne) {
  write_suite("tiny", R"("cpu_blocked")");
  const MpiOutcome run = mpirun(4, AICBENCH_BINARY, run_args("tiny", "--repetitions 2"), "AICBENCH_TEST_RANKS_PER_NODE=2");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const std::vector<fs::path> files = result_files();
  ASSERT_EQ(files.size(), 2u) << run.output;
  for (int node = 0; node < 2; ++node) {
    const fs::path& path = files[node];
    EXPECT_NE(path.filename().string().find("-node" + std::to_string(node) + "-rank" + std::to_string(2 * node)),
              std::string::npos)
        << path;
    const ResultFile file = load_result_file(path);
    const json& job = file.provenance()["job"];
    EXPECT_EQ(job["node_index"], node);
    EXPECT_EQ(job["nodes"], 2);
    EXPECT_EQ(job["node_ranks"], json::array({2 * node, 2 * node + 1}));
    EXPECT_EQ(job["ranks_per_node"], json::array({2, 2}));
    EXPECT_EQ(file.provenance()["rank"], 2 * node);
    // Two repetitions and the aggregates, of this node's two ranks only.
    const std::multiset<int> ranks = ranks_of(file, "gemm/cpu_blocked/fp32/M:16/N:16/K:16");
    EXPECT_EQ(ranks.count(2 * node), 6u);  // 2 repetitions + mean, median, stddev, cv
    EXPECT_EQ(ranks.count(2 * node + 1), 6u);
    EXPECT_EQ(ranks.size(), 12u);
  }
}

TEST_F(MpiRuns, ACollectiveIsRecordedOnceWithTheRanksAndNodesItSpanned) {
  write_suite("coll", R"("cpu_blocked", "test_allreduce")");
  const MpiOutcome run = mpirun(3, AICBENCH_MPI_RUN_MAIN, planted_args("coll"), "AICBENCH_TEST_RANKS_PER_NODE=2");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const std::vector<fs::path> files = result_files();
  ASSERT_EQ(files.size(), 2u) << run.output;
  const ResultFile node0 = load_result_file(files[0]), node1 = load_result_file(files[1]);
  EXPECT_EQ(ranks_of(node0, "gemm/test_allreduce/"), (std::multiset<int>{0, 0}));  // two shapes, rank 0's file
  EXPECT_TRUE(ranks_of(node1, "gemm/test_allreduce/").empty());
  EXPECT_EQ(ranks_of(node0, "gemm/cpu_blocked/fp32/M:16/"), (std::multiset<int>{0, 1}));
  EXPECT_EQ(ranks_of(node1, "gemm/cpu_blocked/fp32/M:16/"), (std::multiset<int>{2}));
  for (const json& row : node0.json["benchmarks"]) {
    if (row["aicbench"]["impl"] != "test_allreduce") continue;
    EXPECT_EQ(row["aicbench"]["status"], "ok") << row.dump();
    const json& spans = row["aicbench"]["origin"]["spans"];
    EXPECT_EQ(spans["ranks"], 3);
    EXPECT_EQ(spans["nodes"], 2);
    ASSERT_EQ(spans["hosts"].size(), 2u);
    EXPECT_NE(spans["hosts"][0], spans["hosts"][1]);
  }
}

TEST_F(MpiRuns, RanksThatWouldRunDifferentBenchmarksStopAtTheStart) {
  write_suite("one", R"("cpu_blocked")");
  write_suite("two", R"("cpu_blocked", "test_fault")");
  // MPMD: rank 0 runs suite one, rank 1 suite two.
  const MpiOutcome run = mpirun(1, AICBENCH_MPI_RUN_MAIN, planted_args("one") + " : -np 1 --oversubscribe -x AICBENCH_SPECS=" +
                                                       (dir_ / "specs").string() + " " + AICBENCH_MPI_RUN_MAIN + " " +
                                                       planted_args("two"));
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find("rank 1 (host"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("every rank must run the same suite"), std::string::npos) << run.output;
  EXPECT_TRUE(result_files().empty());
}

TEST_F(MpiRuns, BadInputOnEveryRankIsSaidOnceAndWritesNothing) {
  write_suite("tiny", R"("cpu_blocked")");
  const MpiOutcome run = mpirun(2, AICBENCH_BINARY, run_args("tiny", "--filter nomatch"));
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find("rank 0 (host"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("and 1 more ranks: --filter 'nomatch' matches none"), std::string::npos) << run.output;
  EXPECT_TRUE(result_files().empty());
}

// The rows measured before a fault are in the node file, which stays valid and incomplete: the
// first shape's cpu_blocked ran on every rank before the faulty benchmark of that shape.
void expect_kept_before_the_fault(const std::vector<fs::path>& files, const std::string& output) {
  ASSERT_EQ(files.size(), 1u) << output;
  const ResultFile file = load_result_file(files[0]);  // valid: the reader accepts it
  EXPECT_FALSE(file.provenance()["complete"].get<bool>());
  std::multiset<int> ranks;
  for (const json& row : file.json["benchmarks"]) {
    if (row["name"] == "gemm/cpu_blocked/fp32/M:16/N:16/K:16/mode:hot") ranks.insert(row["aicbench"]["origin"]["rank"].get<int>());
  }
  EXPECT_EQ(ranks, (std::multiset<int>{0, 1})) << output;
}

TEST_F(MpiRuns, AKilledRankEndsTheJobWithinSecondsNamingItsRankAndHost) {
  write_suite("faulty", R"("cpu_blocked", "test_fault")");
  const MpiOutcome run = mpirun(2, AICBENCH_MPI_RUN_MAIN, planted_args("faulty", "--job-timeout 3"),
                         "AICBENCH_TEST_FAULT=test_fault:KILL:1");
  EXPECT_NE(run.exit_code, 0) << run.output;
  EXPECT_LT(run.seconds, 30) << run.output;
  // mpirun names the rank, its host and the signal.
  EXPECT_NE(run.output.find("rank 1"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("signal 9"), std::string::npos) << run.output;
  expect_kept_before_the_fault(result_files(), run.output);
}

TEST_F(MpiRuns, AStoppedRankIsNamedAtTheNextStepAndTheJobEnds) {
  write_suite("faulty", R"("cpu_blocked", "test_fault")");
  const MpiOutcome run = mpirun(2, AICBENCH_MPI_RUN_MAIN, planted_args("faulty", "--job-timeout 3"),
                         "AICBENCH_TEST_FAULT=test_fault:STOP:1");
  EXPECT_EQ(run.exit_code, 3) << run.output;
  EXPECT_LT(run.seconds, 40) << run.output;
  EXPECT_NE(run.output.find("rank 1 (host"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("did not arrive at the gathering of gemm/test_fault/fp32/M:16/N:16/K:16/mode:hot's rows"),
            std::string::npos)
      << run.output;
  const std::vector<fs::path> files = result_files();
  expect_kept_before_the_fault(files, run.output);
  if (!files.empty()) {
    const ResultFile file = load_result_file(files[0]);
    const std::string reason = file.provenance().value("aborted_reason", "");
    EXPECT_NE(reason.find("rank 1 (host"), std::string::npos) << reason;
    // The leader measured the faulty benchmark itself before it waited for rank 1: kept too.
    EXPECT_EQ(ranks_of(file, "gemm/test_fault/fp32/M:16/"), (std::multiset<int>{0}));
  }
}

TEST_F(MpiRuns, AStoppedRootIsNamedByTheRanksThatWaitForIt) {
  write_suite("faulty", R"("cpu_blocked", "test_fault")");
  // Rank 0 is the root of every step; rank 1 waits for its answer for 2 x 3 + 5 s.
  const MpiOutcome run = mpirun(2, AICBENCH_MPI_RUN_MAIN, planted_args("faulty", "--job-timeout 3"),
                                "AICBENCH_TEST_FAULT=test_fault:STOP:0");
  EXPECT_EQ(run.exit_code, 3) << run.output;
  EXPECT_LT(run.seconds, 40) << run.output;
  EXPECT_NE(run.output.find("rank 0 (host"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("did not answer at the gathering of gemm/test_fault/fp32/M:16/N:16/K:16/mode:hot's rows"),
            std::string::npos)
      << run.output;
  EXPECT_NE(run.output.find("as seen from rank 1"), std::string::npos) << run.output;
  // The stopped leader's file is as it last wrote it: valid, incomplete.
  expect_kept_before_the_fault(result_files(), run.output);
}

TEST_F(MpiRuns, ARankStoppedInsideACollectiveIsNamedByTheWatchdog) {
  write_suite("coll", R"("cpu_blocked", "test_allreduce")");
  const MpiOutcome run = mpirun(3, AICBENCH_MPI_RUN_MAIN, planted_args("coll", "--job-timeout 3"),
                         "AICBENCH_TEST_FAULT=test_allreduce:STOP:1");
  EXPECT_EQ(run.exit_code, 3) << run.output;
  EXPECT_LT(run.seconds, 40) << run.output;
  EXPECT_NE(run.output.find("measuring gemm/test_allreduce/fp32/M:16/N:16/K:16/mode:hot did not finish within 6 s"),
            std::string::npos)
      << run.output;
  EXPECT_NE(run.output.find("rank 1 (host"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("sent no report (stopped, hung or dead)"), std::string::npos) << run.output;
  const std::vector<fs::path> files = result_files();
  ASSERT_EQ(files.size(), 1u) << run.output;
  const ResultFile file = load_result_file(files[0]);
  EXPECT_FALSE(file.provenance()["complete"].get<bool>());
  EXPECT_EQ(ranks_of(file, "gemm/cpu_blocked/fp32/M:16/"), (std::multiset<int>{0, 1, 2}));
}

}  // namespace
}  // namespace aicbench
