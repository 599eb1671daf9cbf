#pragma once
// `aicbench run`: pick the backend, expand the suite, validate and measure every benchmark
// (harness/measurement.hpp) through Google Benchmark, and write the result file as it goes.
//
// One Runner is one process. A multi-GPU run is N of them under mpirun/srun: each is given its
// rank and the number of ranks, writes its own file (named with the rank), and rank 0 gathers
// later. Nothing here assumes it is alone.
#include <filesystem>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "harness/measurement.hpp"

namespace aicbench {

struct RunOptions {
  std::string suite = "quick";
  std::string backend = "auto";  // auto | cuda | cpu
  std::optional<std::string> filter;  // ECMAScript regex over benchmark names
  std::filesystem::path out_dir = "results";
  std::string command_line;
  // Overrides of the suite's measurement settings (unset: the suite's, else the defaults).
  std::optional<std::vector<MeasureMode>> modes;
  std::optional<int> min_samples;
  std::optional<double> min_time_s, max_noise, timeout_s, throttle_threshold;
  int repetitions = 1;  // > 1: Google Benchmark repeats each, in random interleaved order
  bool blocking_kernel = true;  // false under compute-sanitizer (harness/samplers.hpp)
  int rank = 0;
  int ranks = 1;
};

// Returns the process exit code (DESIGN.md): 0 all benchmarks valid, 1 a validation or run
// failed, 2 bad input, 3 the environment lacks what was asked for (e.g. --backend cuda, no GPU).
int run_benchmarks(const RunOptions& options, std::ostream& out, std::ostream& err);

}  // namespace aicbench
