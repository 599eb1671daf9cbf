#pragma once
// What the report says, decided apart from how it is written: the rows of results (one per
// benchmark, with repetitions folded into their median), who ran each file, which view the page
// takes, and per benchmark the distribution across many runs. The Markdown, HTML, chart, CSV and
// JUnit writers all render from these, so every decision is tested without parsing output text.

#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "reports/result_file.hpp"
#include "reports/result_rows.hpp"

namespace aicbench::reports {

// ==== Rows: one per benchmark and run

// One benchmark's result as the report shows it. Without repetitions that is its one entry;
// with `--repetitions N` it is Google Benchmark's median aggregate, with the noise, samples and
// stability that its repetition entries in the same file add.
//
// Rows are identified by `run_name` + `aggregate_name`, so both forms of aggregates read the same:
// the old one (aggregates named like the benchmark) and Google Benchmark's (`<name>_median`, ...).
struct ReportRow {
  size_t file = 0;                          // index into the files given to the report
  RowOrigin origin;                         // where it ran: node, rank, GPU, or the job it spanned
  const nlohmann::json* entry = nullptr;    // the entry shown: the plain result or the median aggregate
  std::string name;                         // the benchmark's name (run_name), without _median
  std::string family, impl, dtype, mode, status, reason;
  const nlohmann::json* params = nullptr;   // aicbench.params (may be a null value)

  std::optional<double> time_s;             // median time per run (real_time in seconds)
  std::optional<double> q1_s, q3_s;         // quartiles of the sample times (repetitions: widest)
  std::optional<double> min_s, max_s;
  std::optional<double> noise;              // relative stddev of the samples (repetitions: the largest)
  std::optional<double> samples;            // samples measured (repetitions: all together)
  std::optional<double> discarded_throttled;
  bool timed_out = false;

  int repetitions = 1;                      // repetition entries found for this benchmark
  std::optional<double> repetition_cv;      // Google Benchmark's cv aggregate across repetitions
  int unstable_repetitions = 0;
  int failed_repetitions = 0;               // repetitions whose own status is not ok
  bool unstable = false;                    // flagged by the run, on the aggregate or any repetition

  bool ok() const { return status == kStatusOk; }
};

// The rows of all files, in file order. Rows point into `files`: keep them alive and unmoved
// while the rows are in use. A node's file of several GPUs gives each GPU (rank) its own rows.
std::vector<ReportRow> report_rows(const std::vector<ResultFile>& files);

// Whether some file holds the rows of several GPUs (ranks) or a job-wide row: the report then
// names the GPU of every row.
bool names_gpus(const std::vector<ReportRow>& rows);

// The GPU (or rank) a row ran on, short, for a table column: "GPU 3", "rank 3", "8 ranks on 2 nodes".
std::string gpu_cell(const RowOrigin& origin);

// Units: each GPU (rank) of each file, as the report counts them (job-wide rows are no GPU's).
size_t count_units(const std::vector<ReportRow>& rows);

// A counter of the shown entry (tflops, gbps, ...) when the row is ok; nothing otherwise, so a
// failed row's number can never be shown or plotted.
std::optional<double> ok_metric(const ReportRow& row, const char* counter);

// "MxNxK" for gemm-like params, else "key=value ..." in the file's order.
std::string shape_of(const nlohmann::json& params);

// The status cell: "ok", "ok, UNSTABLE: ..." for an unstable result (never plain "ok"), or the
// status with its reason and, for failed validation, the measured error against the tolerance.
std::string status_text(const ReportRow& row);

// ==== Runs: who produced each file

struct RunSummary {
  size_t number = 0;       // 1-based, as the page numbers the runs
  std::string file;        // the file's name, without its directory
  std::string host, gpu, backend, suite, start, commit;
  std::string complete;    // "yes", "no" or "not recorded"
  std::string label;       // short, tells this run from the others: "#2 node-a 11-24 22:00"
  std::string tag() const { std::string t = "#"; t += std::to_string(number); return t; }  // "#2"
};

// One per file. Labels name only what differs between the files (host, start), after the number.
std::vector<RunSummary> summarize_runs(const std::vector<ResultFile>& files);

// Many runs in one line: how many, on how many hosts, which GPUs, backends and suites (counted),
// and how many stopped early.
std::string summarize_fleet(const std::vector<RunSummary>& runs);

// The provenance block of one file: (label, plain text), in reading order, empty items left out.
std::vector<std::pair<std::string, std::string>> provenance_items(const ResultFile& file);

// The GPU a file's results were measured on: gpus[] entry at `context.aicbench.device` when
// there is one, else the first; null when the file lists none.
const nlohmann::json& measured_gpu(const ResultFile& file);

bool incomplete(const ResultFile& file);

// ==== View: one block and one table row per run, or the compact view for many runs

inline constexpr size_t kMaxDetailedRuns = 8;

struct ViewChoice {
  bool compact = false;
  std::string why;  // shown on the page when compact
};
// Compact for more than kMaxDetailedRuns files, or GPUs (ranks) over all files.
ViewChoice choose_view(size_t file_count, size_t gpu_count = 0);

// ==== Distributions across runs (the compact view)

struct Quantiles {
  size_t count = 0;
  double min = 0, q1 = 0, median = 0, q3 = 0, max = 0;
};
// Linear interpolation between order statistics (R's type 7); `values` need not be sorted.
std::optional<Quantiles> quantiles(std::vector<double> values);

// The number a benchmark is judged by: its throughput where it has one, else its time.
struct Metric {
  const char* counter;  // tflops, busbw_gbps, gbps; nullptr for time
  const char* label;    // "TFLOP/s", ...
  bool higher_is_better() const { return counter != nullptr; }
};
std::optional<double> metric_value(const ReportRow& row, const Metric& metric);

// One benchmark across runs (files): how many results, how many ok, failed, skipped and
// unstable, the quantiles of its metric over the ok ones and the worst of them.
struct Distribution {
  std::string name;
  const ReportRow* first = nullptr;    // family, impl, dtype, mode and params of the benchmark
  Metric metric{nullptr, "time"};
  size_t results = 0, ok = 0, failed = 0, errors = 0, skipped = 0, unstable = 0;
  std::optional<Quantiles> spread;
  const ReportRow* worst = nullptr;    // lowest throughput (or longest time) among the ok rows
};
// Results are per GPU: a node's file of 8 GPUs gives 8 results of each benchmark.
std::vector<Distribution> distributions(const std::vector<ReportRow>& rows);

// The metric of a group of rows: the first of tflops, busbw_gbps, gbps that some ok row has.
Metric choose_metric(const std::vector<const ReportRow*>& rows);

}  // namespace aicbench::reports
