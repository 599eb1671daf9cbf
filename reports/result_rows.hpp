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
#include <vector>

#include "reports/result_file.hpp"

namespace aicbench {

// Where a row was measured. Today a result file holds one process's results on one device; the
// multi-GPU runs to come name the GPU per row, and this is the one place that will read it.
struct RowOrigin {
  size_t file = 0;           // index into the files given
  std::string host;          // context.aicbench.host.hostname
  std::string backend;       // cuda or cpu
  std::string device_name;   // the GPU's name, or the CPU model on the cpu backend
  std::string gpu_uuid;      // empty on the cpu backend
  int rank = 0;
};

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
  std::optional<double> tflops, gbps, busbw_gbps, pct_of_peak, pct_of_vendor;
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
std::map<std::string, std::string> environment_of(const ResultFile& file);

// What a file says about its run as a whole, beside its rows: where, on what, with which build
// and libraries, when, whether it ran the whole suite, and the GPUs' health counters. What
// `accept` checks per run and `history` records per run; fields the file lacks are empty.
struct RunFacts {
  RowOrigin origin;           // the device the process measured (also for a file with no rows)
  int ranks = 1;
  size_t gpu_count = 0;       // gpus[] listed in the provenance
  std::string suite;          // context.aicbench.suite
  int suite_version = 0;
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
