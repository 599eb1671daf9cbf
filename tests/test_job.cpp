// The job a process belongs to, without a launcher: which launcher the environment names
// (detect_launch, with an injected getenv), which GPU each rank takes (choose_device,
// shared_gpu_problem), a job of one (every step trivial, no watchdog), and the format-3 rows a
// node leader writes (origin per row, pct_of_vendor within one rank, result file names per node).
// The multi-process behaviour is tests/test_mpi_runs.cpp's (label mpi).
#include <map>
#include <string>

#include <gtest/gtest.h>

#include "collectives/mpi_job.hpp"
#include "harness/device_choice.hpp"
#include "harness/result_writer.hpp"
#include "reports/result_file.hpp"
#include "tests/test_dir.hpp"

namespace aicbench {
namespace {

// getenv over a fixed map: what a launcher would have set.
std::function<const char*(const char*)> env_of(std::map<std::string, std::string> vars) {
  auto shared = std::make_shared<std::map<std::string, std::string>>(std::move(vars));
  return [shared](const char* name) -> const char* {
    auto it = shared->find(name);
    return it == shared->end() ? nullptr : it->second.c_str();
  };
}

TEST(DetectLaunch, NoLauncherIsAJobOfOneWithoutMpi) {
  const LaunchEnvironment env = detect_launch(env_of({{"HOME", "/root"}}));
  EXPECT_EQ(env.launcher, Launcher::none);
  EXPECT_EQ(env.world_size, 1);
  EXPECT_FALSE(env.needs_mpi);
}

TEST(DetectLaunch, OpenMpiAndHydraAreMpirun) {
  LaunchEnvironment env = detect_launch(env_of({{"OMPI_COMM_WORLD_SIZE", "4"}, {"OMPI_COMM_WORLD_RANK", "2"}}));
  EXPECT_EQ(env.launcher, Launcher::mpirun);
  EXPECT_EQ(env.world_size, 4);
  EXPECT_TRUE(env.needs_mpi);
  env = detect_launch(env_of({{"PMI_SIZE", "3"}, {"PMI_RANK", "0"}}));
  EXPECT_EQ(env.launcher, Launcher::mpirun);
  EXPECT_EQ(env.world_size, 3);
  // mpirun -np 1 still starts MPI: the process is a rank of a job of one.
  env = detect_launch(env_of({{"OMPI_COMM_WORLD_SIZE", "1"}}));
  EXPECT_TRUE(env.needs_mpi);
}

TEST(DetectLaunch, SrunWithPmixIsSrun) {
  const LaunchEnvironment env = detect_launch(env_of({{"SLURM_STEP_ID", "0"},
                                                      {"SLURM_PROCID", "5"},
                                                      {"SLURM_NTASKS", "16"},
                                                      {"SLURM_LOCALID", "5"},
                                                      {"PMIX_RANK", "5"},
                                                      {"OMPI_COMM_WORLD_SIZE", "16"}}));
  EXPECT_EQ(env.launcher, Launcher::srun);
  EXPECT_EQ(env.world_size, 16);
  EXPECT_TRUE(env.needs_mpi);
}

TEST(DetectLaunch, SrunOfSeveralTasksWithoutPmiSaysToUseMpiPmix) {
  try {
    detect_launch(env_of({{"SLURM_STEP_ID", "0"}, {"SLURM_PROCID", "1"}, {"SLURM_NTASKS", "8"}}));
    FAIL() << "expected an error";
  } catch (const InputError& e) {
    EXPECT_EQ(e.exit_code(), 2);
    EXPECT_NE(std::string(e.what()).find("--mpi=pmix"), std::string::npos) << e.what();
  }
  // One task of srun without PMI: a job of one, named srun.
  const LaunchEnvironment one = detect_launch(env_of({{"SLURM_STEP_ID", "0"}, {"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "1"}}));
  EXPECT_EQ(one.launcher, Launcher::srun);
  EXPECT_FALSE(one.needs_mpi);
  // Inside an salloc/sbatch allocation but not in a step (no SLURM_STEP_ID): not srun.
  EXPECT_EQ(detect_launch(env_of({{"SLURM_JOB_ID", "7"}, {"SLURM_NTASKS", "8"}, {"SLURM_PROCID", "0"}})).launcher,
            Launcher::none);
}

TEST(DetectLaunch, GarbageInALauncherVariableIsNamed) {
  try {
    detect_launch(env_of({{"OMPI_COMM_WORLD_SIZE", "four"}}));
    FAIL() << "expected an error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("OMPI_COMM_WORLD_SIZE is 'four'"), std::string::npos) << e.what();
  }
}

DeviceRequest request(int local_rank, int local_size, int visible) {
  DeviceRequest r;
  r.local_rank = local_rank;
  r.local_size = local_size;
  r.visible = visible;
  return r;
}

int exit_code_of(const DeviceRequest& r, std::string* message = nullptr) {
  try {
    choose_device(r);
  } catch (const InputError& e) {
    if (message) *message = e.what();
    return e.exit_code();
  }
  return 0;
}

TEST(ChooseDevice, OneProcessTakesDeviceZeroOrTheOneAskedFor) {
  EXPECT_EQ(choose_device(request(0, 1, 8)).device, 0);
  DeviceRequest r = request(0, 1, 8);
  r.device = 5;
  EXPECT_EQ(choose_device(r).device, 5);
  EXPECT_EQ(choose_device(r).reason, "--device 5");
  r.device = 8;  // numbered 0..7
  std::string message;
  EXPECT_EQ(exit_code_of(r, &message), 3);
  EXPECT_NE(message.find("8 visible GPUs"), std::string::npos) << message;
  r.device = -1;
  EXPECT_EQ(exit_code_of(r), 2);
}

TEST(ChooseDevice, EachRankTakesItsLocalRanksGpu) {
  for (int local = 0; local < 8; ++local) EXPECT_EQ(choose_device(request(local, 8, 8)).device, local);
  // Fewer ranks than GPUs: the first ones.
  EXPECT_EQ(choose_device(request(3, 4, 8)).device, 3);
}

TEST(ChooseDevice, OneVisibleGpuPerTaskIsDeviceZero) {
  // srun --gpus-per-task=1: Slurm sets CUDA_VISIBLE_DEVICES to one GPU per task.
  DeviceRequest r = request(6, 8, 1);
  r.cuda_visible_devices = "6";
  EXPECT_EQ(choose_device(r).device, 0);
  EXPECT_NE(choose_device(r).reason.find("CUDA_VISIBLE_DEVICES=6"), std::string::npos);
}

TEST(ChooseDevice, MoreRanksThanGpusIsAnErrorUnlessSharingIsAllowed) {
  std::string message;
  EXPECT_EQ(exit_code_of(request(5, 8, 4), &message), 3);
  EXPECT_NE(message.find("more ranks than GPUs"), std::string::npos) << message;
  EXPECT_NE(message.find("--allow-shared-gpu"), std::string::npos) << message;
  DeviceRequest shared = request(5, 8, 4);
  shared.allow_shared = true;
  EXPECT_EQ(choose_device(shared).device, 1);
}

TEST(ChooseDevice, DeviceWithSeveralRanksOnANodeIsBadUsage) {
  DeviceRequest r = request(1, 2, 8);
  r.device = 1;
  std::string message;
  EXPECT_EQ(exit_code_of(r, &message), 2);
  EXPECT_NE(message.find("single process"), std::string::npos) << message;
}

TEST(SharedGpu, TwoRanksOnOneGpuAreNamedUnlessAllowed) {
  const std::vector<RankGpu> ranks = {{4, 0, "GPU-aaaa"}, {5, 1, "GPU-aaaa"}, {6, 2, "GPU-bbbb"}};
  const auto problem = shared_gpu_problem(ranks, "gpu-a17", false);
  ASSERT_TRUE(problem);
  EXPECT_NE(problem->find("on node gpu-a17, ranks 4 (local rank 0), 5 (local rank 1) all use GPU-aaaa"),
            std::string::npos)
      << *problem;
  EXPECT_FALSE(shared_gpu_problem(ranks, "gpu-a17", true));
  EXPECT_FALSE(shared_gpu_problem({{0, 0, "GPU-aaaa"}, {1, 1, "GPU-bbbb"}}, "n", false));
  EXPECT_FALSE(shared_gpu_problem({{0, 0, ""}, {1, 1, ""}}, "n", false));  // the cpu backend: no GPUs
}

TEST(JobOfOne, EveryStepIsTrivialAndNothingIsWatched) {
  const Job job = Job::single();
  const JobLayout& l = job.layout();
  EXPECT_FALSE(job.multi_rank());
  EXPECT_TRUE(job.node_leader());
  EXPECT_EQ(l.node_ranks, std::vector<int>{0});
  EXPECT_EQ(l.node_names, std::vector<std::string>{l.node_name});
  EXPECT_EQ(l.describe_rank(0), "rank 0 (host " + l.node_name + ", local rank 0)");
  EXPECT_EQ(job.gather(SyncScope::node, "a step", "payload", 1), std::vector<std::string>{"payload"});
  EXPECT_EQ(job.agree(SyncScope::world, "a step", "7", 1,
                      [](const std::vector<std::string>& all) { return all.front() + "!"; }),
            "7!");
  job.barrier(SyncScope::world, "a step", 1);
  const Job::Watch watch = job.watch("work", 0.001, true);  // a job of one never times out
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
}

TEST(ResultFileNames, NodeFilesAreNamedByNodeIndexAndLeader) {
  ResultFileName name;
  name.suite = "quick";
  name.backend = "cuda";
  name.host = "gpu-a17";
  name.utc_time = "20261130T120000Z";
  name.rank = 0;
  name.pid = 42;
  EXPECT_EQ(name.stem(), "aicbench-quick-cuda-gpu-a17-20261130T120000Z-rank0-pid42");
  name.node = 3;
  name.rank = 24;
  EXPECT_EQ(name.stem(), "aicbench-quick-cuda-gpu-a17-20261130T120000Z-node3-rank24-pid42");
}

BenchmarkSpec gemm(const std::string& impl, bool vendor) {
  BenchmarkSpec s;
  s.family = "gemm";
  s.impl = impl;
  s.dtype = "bf16";
  s.backend = Backend::cuda;
  s.vendor = vendor;
  s.params = {{"M", 64}, {"N", 64}, {"K", 64}};
  return s;
}

nlohmann::json row(const BenchmarkSpec& spec, double tflops, int rank, const std::string& uuid) {
  nlohmann::json entry = {{"run_type", "iteration"}, {"repetition_index", 0}, {"real_time", 1.0},
                          {"cpu_time", 1.0},        {"time_unit", "ns"},      {"tflops", tflops}};
  nlohmann::json origin = {{"node", "n0"}, {"rank", rank}, {"local_rank", rank}, {"gpu_uuid", uuid}};
  return make_result_row(spec, entry, kStatusOk, std::nullopt, nullptr, nullptr, origin);
}

TEST(NodeResultFile, RowsOfSeveralRanksKeepTheirOriginAndCompareWithinTheirRank) {
  testing::TestDir dir;
  nlohmann::json prov = {{"gpus", nlohmann::json::array({{{"index", 0}, {"uuid", "GPU-aaaa"}},
                                                         {{"index", 1}, {"uuid", "GPU-bbbb"}}})}};
  ResultWriter writer(reserve_result_file(dir.path(), "node"), prov, {{"bf16", 1000}});
  writer.set_peak_tflops_for_rank(1, {{"bf16", 500}});
  // Rank 1's vendor row is slower than rank 0's: each rank's kernel compares with its own GPU's.
  writer.add_row(row(gemm("cublas", true), 800, 0, "GPU-aaaa"));
  writer.add_row(row(gemm("cublas", true), 400, 1, "GPU-bbbb"));
  writer.add_row(row(gemm("wgmma_sm90", false), 800, 0, "GPU-aaaa"));
  writer.add_row(row(gemm("wgmma_sm90", false), 400, 1, "GPU-bbbb"));
  writer.write(true);
  const ResultFile file = load_result_file(writer.path());  // same names, different ranks: no duplicate
  const nlohmann::json& rows = file.json["benchmarks"];
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(file.provenance()["format_version"], 3);
  EXPECT_EQ(rows[1]["aicbench"]["origin"]["gpu_index"], 1);
  EXPECT_EQ(rows[2]["aicbench"]["origin"]["gpu_index"], 0);
  EXPECT_DOUBLE_EQ(rows[2]["pct_of_vendor"].get<double>(), 100.0);
  EXPECT_DOUBLE_EQ(rows[3]["pct_of_vendor"].get<double>(), 100.0);
  EXPECT_DOUBLE_EQ(rows[2]["pct_of_peak"].get<double>(), 80.0);  // GPU-aaaa: 1000 TFLOP/s peak
  EXPECT_DOUBLE_EQ(rows[3]["pct_of_peak"].get<double>(), 80.0);  // GPU-bbbb: 500
}

TEST(NodeResultFile, TheSameRowTwiceOnOneRankIsStillRefused) {
  testing::TestDir dir;
  ResultWriter writer(reserve_result_file(dir.path(), "node"), nlohmann::json::object(), {});
  writer.add_row(row(gemm("cublas", true), 800, 1, "GPU-aaaa"));
  writer.add_row(row(gemm("cublas", true), 800, 1, "GPU-aaaa"));
  writer.write(true);
  try {
    load_result_file(writer.path());
    FAIL() << "expected the duplicate to be refused";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("listed twice"), std::string::npos) << e.what();
  }
}

TEST(NodeResultFile, RowsSurviveTheTripToTheLeader) {
  const BenchmarkSpec spec = gemm("wgmma_sm90", false);
  const nlohmann::json sent = nlohmann::json::parse(row(spec, 1, 3, "GPU-x").dump());
  const BenchmarkSpec back = spec_of_row(sent);
  EXPECT_EQ(back.family, spec.family);
  EXPECT_EQ(back.impl, spec.impl);
  EXPECT_EQ(back.backend, spec.backend);
  EXPECT_EQ(back.params_json(), spec.params_json());
  EXPECT_EQ(sent["aicbench"]["origin"]["rank"], 3);
}

}  // namespace
}  // namespace aicbench
