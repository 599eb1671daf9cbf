#pragma once
// Result files as rows of typed numbers: what every command that reads result files (report,
// compare, accept, fleet, history) works from, so that none of them digs through JSON itself.
//
// One ResultRow per entry of benchmarks[]: a measurement (one repetition of one benchmark) or an
// aggregate over repetitions. Files have passed load_result_file's checks, so the types are
// known; fields a file does not carry are empty optionals.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "reports/result_file.hpp"

namespace aicbench {

// Where a row was measured: the node, the world rank and the GPU, or, for a job-wide collective,
// the ranks and nodes it spanned. Every command reads it from here, through OriginReader; none
// reads context.aicbench.job or a row's aicbench.origin itself (docs/result-format.md).
//
// A row without aicbench.origin (every row of a version 1 or 2 file) has the v2 meaning: the
// file's process rank (context.aicbench.rank) and the GPU it measured (gpus[] at
// context.aicbench.device, else the first).
struct RowOrigin {
  // A job-wide collective: measured on every rank, written once by world rank 0.
  struct Spans {
    int ranks = 0, nodes = 0;
    std::vector<std::string> hosts;
  };

  size_t file = 0;             // index into the files given
  std::string host;            // origin.node, else context.aicbench.job.node, else context.aicbench.host.hostname
  std::string backend;         // cuda or cpu
  std::string device_name;     // the GPU's name, or the CPU model on the cpu backend
  std::string gpu_uuid;        // empty on the cpu backend and for a job-wide row
  // Index into the file's context.aicbench.gpus, where the row names it (format 3); none on the
  // cpu backend, and none for a format 1 or 2 row, whose GPU is known by its UUID (its index there
  // is its own process's view of the node).
  std::optional<int> gpu_index;
  std::optional<double> power_limit_w;  // the GPU's, where its file records it
  int rank = 0;                // world rank
  std::optional<int> local_rank;
  std::optional<Spans> spans;  // set on a job-wide collective row
  bool explicit_origin = false;  // the row names its origin (format 3): several GPUs may share the file

  bool job_wide() const { return spans.has_value(); }
  // What the row ran on, within its node: "GPU 3 (GPU-5c2a...)", "rank 3" (cpu), "16 ranks on 2
  // nodes"; a format 1 or 2 row by its GPU's UUID alone. `short_uuid`: the UUID's first 8 hex
  // digits and an ellipsis, for table cells (the full UUID is in CSV, JSON and acceptance).
  std::string unit_label(bool short_uuid = false) const;
  // With the node: "node-a GPU 3 (GPU-5c2a...)", "node-a rank 3", "job: 16 ranks on 2 nodes (node-a, node-b)".
  std::string label(bool short_uuid = false) const;
};

// Reads the origins of one file's rows; the file's provenance is read once.
class OriginReader {
 public:
  OriginReader(const ResultFile& file, size_t index);
  // The origin of one entry of the file's benchmarks[].
  RowOrigin of(const nlohmann::json& entry) const;
  // The process that wrote the file, as RunFacts::origin gives it: for a file of one process,
  // its rank and GPU; for a node's file of several GPUs (format 3), the node leader's rank and no GPU.
  const RowOrigin& file_origin() const { return file_; }
  // GPUs the file lists (context.aicbench.gpus).
  size_t gpu_count() const { return gpus_ ? gpus_->size() : 0; }

 private:
  RowOrigin gpu_origin(RowOrigin origin, size_t gpu) const;
  const nlohmann::json* gpus_ = nullptr;
  RowOrigin file_;     // the run
  RowOrigin default_;  // a row without aicbench.origin
};

// Node-level families (p2p, p2p_latency): one process drives every GPU of the node. In a job of
// one process per GPU the node's first rank (local rank 0) runs them while the node's other ranks
// wait idle, so that nothing else loads the GPUs being measured; only that rank records the rows,
// and a verdict counts them for every GPU of the node.
inline bool node_level_family(std::string_view family) { return family == "p2p" || family == "p2p_latency"; }

struct ResultRow {
  RowOrigin origin;
  size_t entry = 0;          // index into that file's benchmarks[]
  std::string name;          // the benchmark's name (run_name: without any aggregate suffix)
  std::string family, impl, dtype, mode, status, reason;
  std::map<std::string, int64_t> params;
  bool vendor = false;

  bool aggregate = false;
  std::string aggregate_name;  // mean, median, stddev, cv; empty for a measurement
  int repetition_index = 0;    // -1 on aggregates

  // The measurement (seconds) and its spread; present on measured rows.
  std::optional<double> median_s, mean_s, min_s, q1_s, q3_s, max_s, rel_stddev;
  int64_t samples = 0;
  bool unstable = false;
  bool timed_out = false;

  // Throughput counters, only on rows whose status is ok.
  std::optional<double> tflops, gbps, algbw_gbps, busbw_gbps, pct_of_peak, pct_of_vendor;
  // A collective's check (aicbench.collective): elements wrong, summed over the ranks.
  std::optional<int64_t> wrong_elements;
  // Validation.
  std::optional<double> max_rel_err, tolerance;
  // Telemetry while measuring (GPU runs with NVML).
  std::optional<double> sm_clock_mhz, power_w, temp_c, energy_j;
  std::vector<std::string> throttle_reasons;
  // A burn-in's findings (family burnin: the row's aicbench.burnin block), for accept's rule
  // `burnin`; absent on other rows and on a burn-in whose first output failed validation.
  struct Burnin {
    bool passed = true;  // the run's own verdict
    int64_t mismatched_elements = 0;
    int intervals = 0;
    std::optional<double> min_sm_clock_mhz, min_sm_clock_t_s, max_temp_c;
    struct Throttle {
      int intervals = 0;
      double first_t_s = 0;
    };
    std::map<std::string, Throttle> throttle;  // every clock-limiting reason an interval saw
  };
  std::optional<Burnin> burnin;
  // Collective rows (aicbench.collective, issue 10): the ranks and nodes the operation spanned.
  std::optional<int64_t> collective_ranks, collective_nodes;

  bool ok() const { return status == kStatusOk; }
  // The row's headline throughput and its unit: TFLOP/s where the family computes, else bus
  // bandwidth (collectives), else GB/s (memory); nullopt when the row has none.
  std::optional<double> throughput() const;
  std::string throughput_unit() const;
  // "gemm/simt/fp32/M:1024/N:1024/K:1024" plus the mode: what pairs rows across runs.
  const std::string& key() const { return name; }
};

// Every row of every file, in file order.
std::vector<ResultRow> result_rows(const std::vector<ResultFile>& files);
// The rows of one file, as the `index`-th of the files given: for a command that reads files one
// at a time, so that only one file's JSON is in memory however many nodes it reads.
std::vector<ResultRow> result_rows(const ResultFile& file, size_t index);

// Only the measurements (one per repetition), no aggregates: the samples a statistical test or a
// fleet distribution should see.
std::vector<ResultRow> measurement_rows(const std::vector<ResultFile>& files);

// The provenance facts that explain a change in performance that is not the code's: versions of
// the driver and libraries, the GPU and its power limit, the clock policy. Keyed "versions.driver",
// "gpu.uuid", "gpu.power_limit_w", ...
// For a file of several GPUs the gpu.* keys are left out: they are each GPU's, and the second
// form gives them for the GPU a row ran on.
std::map<std::string, std::string> environment_of(const ResultFile& file);
std::map<std::string, std::string> environment_of(const ResultFile& file, const RowOrigin& origin);
// The GPU a row names by index (format 3): its gpu.name, gpu.uuid and gpu.power_limit_w, added to
// (or replacing those of) `env`; nothing for a row that names no GPU index.
void add_gpu_environment(std::map<std::string, std::string>& env, const RowOrigin& origin);

// What a file says about its run as a whole, beside its rows: where, on what, with which build
// and libraries, when, whether it ran the whole suite, and the GPUs' health counters. What
// `accept` checks per run and `history` records per run; fields the file lacks are empty.
struct RunFacts {
  RowOrigin origin;           // the device the process measured (also for a file with no rows)
  // Every rank (GPU) the file holds rows of, by rank; job-wide rows are not units. Empty for a
  // file without rows, which stands for origin alone.
  std::vector<RowOrigin> units;
  int ranks = 1;
  int nodes = 1;              // context.aicbench.job.nodes where recorded
  std::vector<int> node_ranks;  // context.aicbench.job.node_ranks: the world ranks this node's file holds
  size_t gpu_count = 0;       // gpus[] listed in the provenance
  std::string suite;          // context.aicbench.suite
  int suite_version = 0;
  std::string suite_file;     // context.aicbench.suite_file: a suite of one's own, by path (else empty)
  std::string start_time, end_time;  // UTC, ISO 8601, as written
  bool complete = false;      // false: the run stopped early, or is still going
  int format_version = 0;
  std::string aicbench_version, git_commit, command_line;
  std::optional<bool> git_dirty;
  std::map<std::string, std::string> versions;  // driver, cuda_runtime, cublas, nccl, ...
  // context.aicbench.gpus[i].health, per GPU UUID: counter name -> value. Counters are what the
  // driver keeps about a GPU's memory (uncorrected ECC errors, retired pages, ...); numbers are
  // kept, and states as 1 (true) or 0 (false); a GPU whose entry has no `health` object has no
  // entry here.
  std::map<std::string, std::map<std::string, double>> gpu_health;
  // Why a counter is not there, per GPU UUID: health.unavailable's reason per field, and under ""
  // the reason the whole health block is unavailable (no NVML).
  std::map<std::string, std::map<std::string, std::string>> gpu_health_missing;
};
RunFacts run_facts(const ResultFile& file, size_t index);

}  // namespace aicbench
