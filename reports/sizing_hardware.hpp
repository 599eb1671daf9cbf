#pragma once
// A candidate's hardware as `aicbench size` sees it (docs/sizing.md, "Hardware"): what its result
// files measured (GEMM TFLOP/s per shape and dtype, fused attention TFLOP/s per sequence length,
// all-reduce times on the node, power while busy), what the datasheet (specs/gpus/) says where
// nothing was measured, and where every figure came from. The step-time model
// (reports/sizing.hpp) asks it for rates; each answer carries its source.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "reports/datasheets.hpp"
#include "reports/model_fit.hpp"
#include "reports/result_file.hpp"

namespace aicbench::sizing {

// Where a number came from, most trusted first.
enum class Source {
  measured,      // a row of the candidate's files at exactly this point
  interpolated,  // between two measured points
  clamped,       // outside the measured range: the nearest measured point's rate
  derived,       // from measured rows through a stated rule (a fraction of the GEMM rate, a fitted model)
  datasheet,     // specs/gpus/ (flagged in the output)
  assumed,       // a stated assumption (flagged)
  option,        // given on the command line
};
std::string_view to_string(Source source);

struct Rate {
  double value = 0;  // TFLOP/s, or what the caller asked for
  Source source = Source::measured;
  std::string detail;  // which rows, or which rule
};

struct GemmPoint {
  double m = 0, n = 0, k = 0;
  double tflops = 0;
  std::optional<double> power_w;
  std::string row, file;
};

// Measured GEMM throughput of one dtype, and the rule that reads it at any shape:
//   the shape itself where measured; else linear in log(M N K) between the nearest measured
//   volumes below and above (ties in volume: the point nearest in log-shape); below the smallest
//   volume the smallest's TIME (a latency floor: rate scaled down with the volume); above the
//   largest, the largest's rate.
class GemmTable {
 public:
  void add(GemmPoint point);
  bool empty() const { return points_.empty(); }
  const std::vector<GemmPoint>& points() const { return points_; }
  Rate rate(double m, double n, double k) const;  // requires !empty()
  double max_tflops() const;

 private:
  Rate lookup(double m, double n, double k) const;
  std::vector<GemmPoint> points_;  // sorted by volume
  // A layout search asks for the same shapes thousands of times.
  mutable std::map<std::tuple<double, double, double>, Rate> cache_;
};

struct AttentionPoint {
  int64_t seq = 0, head_dim = 0;
  bool causal = true;
  double tflops = 0;
  std::string row, file;
};

struct Candidate {
  std::string name;
  std::vector<std::string> files;
  std::string gpu_name;
  bool fixture = false;  // context.aicbench.fixture: the files stand in for measurements
  std::string fixture_note;
  std::optional<Datasheet> datasheet;
  std::map<std::string, double> peak_tflops;  // dense, per dtype
  std::string peak_source;
  Rate memory_bytes;  // per GPU
  std::map<std::string, GemmTable> gemm;  // by dtype
  std::vector<AttentionPoint> attention;  // bf16/fp16 forward rows of family attention
  model::PointSet collectives;           // every collective row, for calibration
  std::vector<std::string> notes;        // rows left out and why, choices made

  // The dense datasheet peak for `dtype`; throws InputError naming the candidate when unknown.
  double peak(const std::string& dtype) const;
  // Watts per GPU while training at `dtype`: the median power_w of the GEMM rows running at 80 %
  // or more of the fastest rate (measured), else the datasheet's TDP (flagged); nullopt if neither.
  std::optional<Rate> power(const std::string& dtype) const;
};

struct CandidateOptions {
  // Which GEMM rows: "vendor" (cuBLAS/cuBLASLt, what a training framework calls; all rows where
  // no vendor row exists), "best" (the fastest implementation per shape) or an implementation.
  std::string gemm_impl = "vendor";
};

// Reads a candidate from its result files (already loaded and checked). Throws InputError (exit 2)
// naming the files when they hold no GPU (a CPU run cannot be sized), no GEMM row, or no
// datasheet and no pct_of_peak to give the peak.
Candidate load_candidate(const std::string& name, const std::vector<ResultFile>& files, const CandidateOptions& options);

// Fused attention throughput at sequence length `seq` and head width `head_dim` (forward,
// causal): measured rows nearest in head width, interpolated in log(seq); without attention rows,
// `fallback_fraction` of the candidate's largest bf16 GEMM rate (derived, flagged).
Rate attention_rate(const Candidate& candidate, int64_t seq, int64_t head_dim, double fallback_fraction);

}  // namespace aicbench::sizing
