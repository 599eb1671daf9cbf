#pragma once
// `aicbench run`: pick the backend, expand the suite, validate and measure every benchmark
// (harness/measurement.hpp) through Google Benchmark, and write the result file as it goes.
//
// One process measures one GPU. A multi-GPU run is one process per GPU under mpirun or srun
// (collectives/mpi_job.hpp): every rank takes its node-local GPU, all ranks run the same
// benchmarks in the same order, each benchmark starting together after a barrier, so that a node's
// GPUs are loaded at once; after every benchmark the node leader gathers its node's rows and
// rewrites the node's one result file. Every step that waits on other ranks has a deadline
// (--job-timeout), and a rank that dies, stops or hangs ends the job with a message naming it.
#include <filesystem>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "harness/benchmark.hpp"
#include "harness/measurement.hpp"
#include "harness/provenance.hpp"

namespace aicbench {

class Job;

struct RunOptions {
  std::string suite = "quick";
  std::string backend = "auto";  // auto | cuda | cpu
  std::optional<std::string> filter;  // RE2 syntax, searched for in each benchmark name
  std::filesystem::path out_dir = "results";
  std::string command_line;
  // Overrides of the suite's measurement settings (unset: the suite's, else the defaults).
  std::optional<std::vector<MeasureMode>> modes;
  std::optional<int> min_samples;
  std::optional<double> min_time_s, max_noise, timeout_s, throttle_threshold;
  int repetitions = 1;  // > 1: Google Benchmark repeats each, in random interleaved order
  bool blocking_kernel = true;  // false under compute-sanitizer (harness/samplers.hpp)
  std::optional<int> device;     // --device N: the GPU of a single process (harness/device_choice.hpp)
  bool allow_shared_gpu = false;  // --allow-shared-gpu: several ranks of a node on one GPU
  // --job-timeout: how long a rank waits for the others at a barrier or gathering, and how long a
  // benchmark may run before the watchdog ends the job. Unset: default_job_timeout().
  std::optional<double> job_timeout_s;
  // This process's world rank and the job's size: run_benchmarks() takes them from `job`.
  int rank = 0;
  int ranks = 1;
  // The job this process is a rank of (collectives/mpi_job.hpp); null: Job::current(), which is
  // a job of one unless Job::start() made one (tests).
  const Job* job = nullptr;
};

// --job-timeout's default: twice the stopping rule's timeout (a rank may wait at a barrier for a
// slower rank's whole benchmark) plus a minute for setting up and validating.
inline double default_job_timeout(double stopping_timeout_s) { return 2 * stopping_timeout_s + 60; }

// Bounds on the options, so that a typo cannot ask for a billion repetitions or a run that never
// ends (README, "The command line").
inline constexpr int kMaxRepetitions = 1000;
inline constexpr int kMaxMinSamples = 1'000'000;
inline constexpr double kMaxOptionSeconds = 86'400;  // --min-time and --timeout: one day

// Throws InputError (exit 2) naming the command-line option and what was expected when a value
// is out of its bounds or not finite, or when the filter is not a valid RE2 pattern.
// run_benchmarks() calls it first; the suite name is checked by load_suite().
void check_run_options(const RunOptions& options);

struct BackendChoice {
  Backend backend;
  std::string reason;  // printed, and recorded in the provenance as backend_reason
};

// `--backend auto|cuda|cpu` against what the probe found. `auto` falls back to the CPU only where
// no NVIDIA driver and no NVIDIA GPU are present at all, or where CUDA_VISIBLE_DEVICES hides every
// device on purpose; an NVIDIA GPU or driver that CUDA cannot use is an environment error (exit 3,
// with the driver's reason and what was found), so a broken GPU never passes as a CPU run.
BackendChoice choose_backend(const std::string& requested, const DeviceProbe& probe);

// Returns the process exit code (docs/command-line.md): 0 all benchmarks valid, 1 a validation or run
// failed, 2 bad input, 3 the environment lacks what was asked for (e.g. --backend cuda, no GPU).
int run_benchmarks(const RunOptions& options, std::ostream& out, std::ostream& err);

}  // namespace aicbench
