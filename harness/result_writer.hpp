#pragma once
// Builds the result file as benchmarks finish and rewrites it atomically after each one, so an
// interrupted run keeps every result it had (docs/result-format.md).
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/benchmark.hpp"

namespace aicbench {

// The parts of a result file's name, each made a plain name part (harness/file_names.hpp): no
// suite or host name can lead outside the output directory. Rank and process id make the name
// unique per process; in a multi-rank job only each node's leader writes a file, named with the
// node's index among the job's nodes, so that no two processes ever write the same file.
struct ResultFileName {
  std::string suite, backend, host;
  std::string utc_time;  // 20260101T120000Z
  std::optional<int> node;  // the node index, in a job of several ranks
  int rank = 0;             // the world rank of the process that writes it (the node leader)
  std::optional<int> gpu;   // the GPU index, where the run was given one GPU (--device)
  long pid = 0;

  // aicbench-<suite>-<backend>-<host>-<utc_time>[-node<node>]-rank<rank>[-gpu<gpu>]-pid<pid>
  std::string stem() const;
};

// Creates DIR (and its parents) where needed and a new, empty DIR/<stem>.json with
// O_CREAT | O_EXCL, or <stem>-2.json, <stem>-3.json, ... where the name is taken: an existing file
// is never opened, let alone overwritten. Throws InputError (exit 2) naming DIR and the system's
// reason when it cannot.
std::filesystem::path reserve_result_file(const std::filesystem::path& dir, const std::string& stem);

// The result format version this aicbench writes (docs/result-format.md): 3, rows from several
// GPUs and ranks in one file, each row naming its origin.
inline constexpr int kWrittenResultFormatVersion = 3;

// One row of a result file: Google Benchmark's fields and counters (`entry`), aicbench's block
// built from the spec (family, impl, status, validation, and `details`: measurement statistics
// and telemetry), and `origin`: the node, rank and GPU it was measured on (aicbench.origin).
nlohmann::json make_result_row(const BenchmarkSpec& spec, nlohmann::json entry, const std::string& status,
                               const std::optional<std::string>& reason, const nlohmann::json& validation,
                               const nlohmann::json& details, const nlohmann::json& origin = nullptr);

// The spec a row was made from, read back from its aicbench block (what the node leader needs of
// rows gathered from other ranks). Parameters come back in the block's order (sorted by name).
BenchmarkSpec spec_of_row(const nlohmann::json& row);

class ResultWriter {
 public:
  // `path` is a file reserve_result_file() made. `provenance` becomes context.aicbench; `peak_tflops` (per dtype, from the GPU's datasheet)
  // gives pct_of_peak, and is empty where the device is unknown or is a CPU.
  ResultWriter(std::filesystem::path path, nlohmann::json provenance,
               std::map<std::string, double> peak_tflops);

  // Google Benchmark's own context (date, host_name, num_cpus, caches, ...).
  void set_benchmark_context(nlohmann::json context);
  // The peaks of the GPU that a rank measured, where they differ from the file's (a node with
  // GPUs of several models); rows whose origin names that rank use them.
  void set_peak_tflops_for_rank(int rank, std::map<std::string, double> peak_tflops);

  // One finished benchmark, as make_result_row() builds it.
  void add(const BenchmarkSpec& spec, nlohmann::json entry, const std::string& status,
           const std::optional<std::string>& reason, const nlohmann::json& validation,
           const nlohmann::json& details);
  // A row made by make_result_row(), here or on another rank of this node. Where its origin names
  // a GPU by UUID, origin.gpu_index is set to that GPU's place in context.aicbench.gpus.
  void add_row(nlohmann::json row);

  // Rewrites the file. `complete` marks a run that reached its end.
  void write(bool complete);
  // A run that stopped early: why (context.aicbench.aborted_reason), kept in every later write.
  void set_aborted_reason(const std::string& reason);

  const std::filesystem::path& path() const { return path_; }
  // One line about an entry, for the console: name, median and noise, throughput and its
  // context, or the status and reason.
  std::string entry_summary(size_t index) const;
  std::string last_entry_summary() const;
  size_t size() const;
  size_t count(const std::string& status) const;
  size_t count_unstable() const;

 private:
  nlohmann::json document(bool complete) const;
  // Entry `index` with the numbers derived from it and its neighbours: pct_of_peak,
  // pct_of_vendor, tflops_per_w, gbps_per_w.
  nlohmann::json decorated(size_t index) const;

  mutable std::mutex mutex_;  // the watchdog's thread may write the file while the main thread waits in MPI
  std::filesystem::path path_;
  nlohmann::json provenance_;
  nlohmann::json gbench_context_ = nlohmann::json::object();
  std::map<std::string, double> peak_tflops_;
  std::map<int, std::map<std::string, double>> peak_tflops_by_rank_;
  std::vector<std::pair<BenchmarkSpec, nlohmann::json>> entries_;
};

}  // namespace aicbench
