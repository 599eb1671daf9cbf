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

// Only the measurements (one per repetition), no aggregates: the samples a statistical test or a
// fleet distribution should see.
std::vector<ResultRow> measurement_rows(const std::vector<ResultFile>& files);

// What a result file says about its run as a whole: where, on what, with which build and
// libraries, when. What `history` records per run; fields the file lacks are empty.
struct RunFacts {
  RowOrigin origin;          // host, backend, the GPU (or CPU) measured, rank
  int ranks = 1;
  size_t gpu_count = 0;      // gpus[] listed in the provenance
  std::string suite;
  std::optional<int64_t> suite_version;
  std::string start_time, end_time;  // UTC, ISO 8601, as written
  bool complete = false;
  int format_version = 0;
  std::string aicbench_version, git_commit, command_line;
  std::optional<bool> git_dirty;
  std::map<std::string, std::string> versions;  // driver, cuda_runtime, cublas, nccl, ...
};
RunFacts run_facts(const ResultFile& file);

// The provenance facts that explain a change in performance that is not the code's: versions of
// the driver and libraries, the GPU, the clock policy. Keyed "versions.driver", "gpu.uuid", ...
std::map<std::string, std::string> environment_of(const ResultFile& file);

}  // namespace aicbench
