#pragma once
// The collective model's terms fitted to result files (docs/collective-model.md, "Calibration"
// and "Validation"): the measured points of the collective rows, a weighted least-squares fit of
// alpha and beta per implementation, the terms a prediction uses with where each came from, and
// the validation that fits on some rank counts and sizes and predicts the others.
//
// Points: every ok measurement row of a collective family (all_reduce, all_gather,
// reduce_scatter, all_to_all, broadcast) with its `bytes` parameter, the ranks and nodes of its
// `aicbench.collective` block (else the file's context), and its median time; repetitions of one
// row in one file become one point, their median.
//
// Fit: time = a * alpha + b * beta with a, b the implementation's shape
// (model_collective.hpp, Shape) at the point's rank count and size, minimising the squared
// RELATIVE error, so that the small sizes (latency-bound) weigh as much as the large ones
// (bandwidth-bound): small sizes give alpha, large ones beta. Alpha and beta are kept >= 0.
// Points on several nodes fit the inter-node alpha and beta with the intra-node ones fixed.
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "reports/model_collective.hpp"
#include "reports/result_file.hpp"

namespace aicbench::model {

struct MeasuredPoint {
  CollectiveOp op = CollectiveOp::all_reduce;
  std::string impl, dtype, backend, host;
  int in_place = -1;  // -1 where the row does not say
  int64_t ranks = 0, nodes = 1;
  double bytes = 0;
  double time_s = 0;  // median over the row's repetitions in its file
  int repetitions = 1;
  std::string file;  // the path as given
  std::string row;   // the benchmark's name
  Span span() const { return {ranks, nodes, ranks / nodes}; }
};

struct PointSet {
  std::vector<MeasuredPoint> points;
  std::vector<std::string> notes;  // rows left out, and why
};

// The collective points of `files` (paths[i] names files[i]). `dtype` empty: per operation and
// implementation fp32 where there are fp32 rows, else every dtype (said in the notes).
PointSet collective_points(const std::vector<ResultFile>& files, const std::string& dtype);

// Which rows of which file fitted a term.
struct FitSource {
  std::string file;
  int64_t ranks = 0, nodes = 1;
  size_t rows = 0;
  double min_bytes = 0, max_bytes = 0;
  std::string first_row, last_row;  // by size
};

struct LinearFit {
  double alpha_s = 0;
  double beta_s_per_byte = 0;
  size_t points = 0;
  std::vector<int64_t> ranks;  // the rank counts fitted
  double min_bytes = 0, max_bytes = 0;
  double rms_rel_residual = 0;  // sqrt(mean((fitted - measured) / measured)^2)
  std::vector<FitSource> sources;
  double bandwidth_gbps() const { return beta_s_per_byte > 0 ? 1e-9 / beta_s_per_byte : 0; }
};

struct Fit {
  CollectiveOp op = CollectiveOp::all_reduce;
  std::string impl, dtype;
  Shape shape = Shape::ring;
  LinearFit intra;                 // points on one node
  std::optional<LinearFit> inter;  // points on several nodes (ring shape only)
  std::vector<std::string> notes;
  // "all_reduce/ring (ring shape, fp32): 48 points on one node at ranks 2,4,8, 8 B..64 MiB, rms
  // residual 0.3 %", and the points across nodes where there are some.
  std::string describe() const;
  // The source of the terms each part fitted: "fitted: all_reduce/nccl rows on one node, ...".
  std::string intra_source() const;
  std::string inter_source() const;
  // The fitted model's time for a point like `p` (same op); nullopt where the fit cannot say
  // (several nodes without an inter-node fit).
  std::optional<double> predict(const MeasuredPoint& p) const;
};

// Fits one implementation's points (all of one op). Throws InputError (exit 2) when the points
// cannot separate alpha from beta (one size only, or none on one node), naming them.
Fit fit_points(CollectiveOp op, const std::string& impl, const std::string& dtype, Shape shape,
               const std::vector<const MeasuredPoint*>& points);

// --shape IMPL=SHAPE overrides of shape_of_impl.
using ShapeOverrides = std::map<std::string, Shape>;
Shape shape_for(CollectiveOp op, const std::string& impl, const ShapeOverrides& overrides);

// ---------------------------------------------------------------------------------------------
// Calibration: the terms of a prediction from result files.

struct CalibrationOptions {
  std::string fit_impl;  // empty: nccl, else ring, else mpi, else the first implementation with rows
  ShapeOverrides shapes;
};

struct Calibration {
  Terms terms;
  std::vector<Fit> fits;  // the fits whose alpha and beta became terms
  std::vector<std::string> warnings;
};

// Starts from `terms` and replaces the intra-node terms (and the inter-node ones where there are
// multi-node rows, the NVLS ones where there are multimem rows) by fitted values, each with its
// source. Throws InputError when --fit-impl names an implementation without rows.
Calibration calibrate(const PointSet& points, Terms terms, const CalibrationOptions& options);

// ---------------------------------------------------------------------------------------------
// Validation: fit on some rank counts and sizes, predict the rest.

struct ValidationOptions {
  std::set<int64_t> fit_ranks;           // rows at other rank counts are held out
  std::optional<double> fit_bytes_min;   // rows outside [min, max] are held out
  std::optional<double> fit_bytes_max;
  int holdout_every = 0;                 // >= 2: of each group's sizes in order, the 2nd, (2+K)th, ... are held out
  std::optional<CollectiveOp> op;        // only this op
  std::set<std::string> impls;           // only these implementations (empty: all)
  ShapeOverrides shapes;
};

enum class Holdout { ranks, size };
std::string_view to_string(Holdout kind);  // "held-out ranks", "held-out size"

struct Check {
  MeasuredPoint point;
  Holdout kind = Holdout::ranks;
  double predicted_s = 0;
  double rel_err = 0;  // (predicted - measured) / measured
};

struct ErrorSummary {
  size_t count = 0;
  double median_abs = 0, max_abs = 0;  // of |rel_err|
};
ErrorSummary summarize(const std::vector<const Check*>& checks);

struct ValidationGroup {
  CollectiveOp op = CollectiveOp::all_reduce;
  std::string impl, dtype;
  std::optional<Fit> fit;  // absent when it could not be fitted (skipped says why)
  std::string skipped;
  std::vector<Check> checks;
  ErrorSummary held_out_ranks, held_out_sizes, all;
};

struct Validation {
  ValidationOptions options;
  std::vector<ValidationGroup> groups;
  std::vector<std::string> notes;
  ErrorSummary held_out_ranks, held_out_sizes, all;  // over every group
};

// Throws InputError when no group has both points to fit and points to check.
Validation validate(const PointSet& points, const ValidationOptions& options);

}  // namespace aicbench::model
