#pragma once
// Builds the result file as benchmarks finish and rewrites it atomically after each one, so an
// interrupted run keeps every result it had (docs/result-format.md).
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/benchmark.hpp"

namespace aicbench {

// The parts of a result file's name, each made a plain name part (harness/file_names.hpp): no
// suite or host name can lead outside the output directory. Rank and process id make the name
// unique per process, so that one process per GPU on a node, started at once, never collide.
struct ResultFileName {
  std::string suite, backend, host;
  std::string utc_time;  // 20260101T120000Z
  int rank = 0;
  std::optional<int> gpu;  // the GPU index, where the run was given one GPU
  long pid = 0;

  // aicbench-<suite>-<backend>-<host>-<utc_time>-rank<rank>[-gpu<gpu>]-pid<pid>
  std::string stem() const;
};

// Creates DIR (and its parents) where needed and a new, empty DIR/<stem>.json with
// O_CREAT | O_EXCL, or <stem>-2.json, <stem>-3.json, ... where the name is taken: an existing file
// is never opened, let alone overwritten. Throws InputError (exit 2) naming DIR and the system's
// reason when it cannot.
std::filesystem::path reserve_result_file(const std::filesystem::path& dir, const std::string& stem);

class ResultWriter {
 public:
  // `path` is a file reserve_result_file() made. `provenance` becomes context.aicbench; `peak_tflops` (per dtype, from the GPU's datasheet)
  // gives pct_of_peak, and is empty where the device is unknown or is a CPU.
  ResultWriter(std::filesystem::path path, nlohmann::json provenance,
               std::map<std::string, double> peak_tflops);

  // Google Benchmark's own context (date, host_name, num_cpus, caches, ...).
  void set_benchmark_context(nlohmann::json context);
  // context.aicbench as it will be written: what the run learns at its end (the GPUs' health
  // after the load, the time budget spent) is added here before the last write.
  nlohmann::json& provenance() { return provenance_; }

  // One finished benchmark: `entry` holds Google Benchmark's fields and counters; aicbench's
  // block (family, impl, status, validation, and `details`: measurement statistics and
  // telemetry) is added here from the spec.
  void add(const BenchmarkSpec& spec, nlohmann::json entry, const std::string& status,
           const std::optional<std::string>& reason, const nlohmann::json& validation,
           const nlohmann::json& details);

  // Rewrites the file. `complete` marks a run that reached its end.
  void write(bool complete);

  const std::filesystem::path& path() const { return path_; }
  // One line about the newest entry, for the console: name, median and noise, throughput and its
  // context, or the status and reason.
  std::string last_entry_summary() const;
  size_t count(const std::string& status) const;
  size_t count_unstable() const;

 private:
  nlohmann::json document(bool complete) const;
  // Entry `index` with the numbers derived from it and its neighbours: pct_of_peak,
  // pct_of_vendor, tflops_per_w, gbps_per_w.
  nlohmann::json decorated(size_t index) const;

  std::filesystem::path path_;
  nlohmann::json provenance_;
  nlohmann::json gbench_context_ = nlohmann::json::object();
  std::map<std::string, double> peak_tflops_;
  std::vector<std::pair<BenchmarkSpec, nlohmann::json>> entries_;
};

}  // namespace aicbench
