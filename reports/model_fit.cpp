#include "reports/model_fit.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <tuple>

#include "reports/result_rows.hpp"
#include "reports/stats.hpp"
#include "reports/text_format.hpp"

namespace aicbench::model {

namespace {

using json = nlohmann::json;

const json& member(const json& object, const char* key) {
  static const json kNull;
  return object.is_object() && object.contains(key) ? object[key] : kNull;
}

std::optional<int64_t> integer(const json& object, const char* key) {
  const json& v = member(object, key);
  if (!v.is_number()) return std::nullopt;
  return static_cast<int64_t>(v.get<double>());
}

std::string op_impl(CollectiveOp op, const std::string& impl) { return std::string(to_string(op)) + "/" + impl; }

std::string list_ranks(const std::vector<int64_t>& ranks) {
  std::vector<std::string> parts;
  for (int64_t r : ranks) parts.push_back(std::to_string(r));
  return reports::join(parts, ",");
}

// Errors below 1e-6 % are rounding in the arithmetic, not the model.
std::string percent(double fraction) {
  return std::fabs(fraction) < 1e-8 ? std::string("0 %") : reports::sig3(100 * fraction) + " %";
}

// ---------------------------------------------------------------------------------------------
// Weighted least squares for two non-negative unknowns: minimise sum (u x + v y - t)^2, where each
// row is one point divided by its measured time (so the residual is the relative error).

struct Equation {
  double u = 0, v = 0, t = 0;
};

struct Solution {
  double x = 0, y = 0;
  double rms = 0;
};

double rms_residual(const std::vector<Equation>& rows, double x, double y) {
  double sum = 0;
  for (const Equation& e : rows) sum += (e.u * x + e.v * y - e.t) * (e.u * x + e.v * y - e.t);
  return std::sqrt(sum / static_cast<double>(rows.size()));
}

// nullopt when the rows cannot separate x from y (every row has the same u:v ratio).
std::optional<Solution> solve_non_negative(const std::vector<Equation>& rows) {
  double suu = 0, suv = 0, svv = 0, sut = 0, svt = 0;
  for (const Equation& e : rows) {
    suu += e.u * e.u;
    suv += e.u * e.v;
    svv += e.v * e.v;
    sut += e.u * e.t;
    svt += e.v * e.t;
  }
  const double det = suu * svv - suv * suv;
  if (!(suu > 0 && svv > 0) || det <= 1e-10 * suu * svv) return std::nullopt;
  double x = (svv * sut - suv * svt) / det;
  double y = (suu * svt - suv * sut) / det;
  if (x < 0 || y < 0) {
    // The constrained optimum lies on an axis: the better of the two one-term fits.
    const double y_only = std::max(0.0, svt / svv), x_only = std::max(0.0, sut / suu);
    if (rms_residual(rows, 0, y_only) <= rms_residual(rows, x_only, 0)) {
      x = 0;
      y = y_only;
    } else {
      x = x_only;
      y = 0;
    }
  }
  return Solution{x, y, rms_residual(rows, x, y)};
}

// The file/rank groups of the points a fit used, for the trace.
std::vector<FitSource> sources_of(const std::vector<const MeasuredPoint*>& points) {
  std::map<std::tuple<std::string, int64_t, int64_t>, std::vector<const MeasuredPoint*>> groups;
  for (const MeasuredPoint* p : points) groups[{p->file, p->ranks, p->nodes}].push_back(p);
  std::vector<FitSource> sources;
  for (auto& [key, members] : groups) {
    std::sort(members.begin(), members.end(),
              [](const MeasuredPoint* a, const MeasuredPoint* b) { return a->bytes < b->bytes; });
    FitSource s;
    std::tie(s.file, s.ranks, s.nodes) = key;
    s.rows = members.size();
    s.min_bytes = members.front()->bytes;
    s.max_bytes = members.back()->bytes;
    s.first_row = members.front()->row;
    s.last_row = members.back()->row;
    sources.push_back(std::move(s));
  }
  return sources;
}

LinearFit linear_fit(const Solution& solution, const std::vector<const MeasuredPoint*>& points) {
  LinearFit fit;
  fit.alpha_s = solution.x;
  fit.beta_s_per_byte = solution.y;
  fit.rms_rel_residual = solution.rms;
  fit.points = points.size();
  std::set<int64_t> ranks;
  fit.min_bytes = points.front()->bytes;
  fit.max_bytes = points.front()->bytes;
  for (const MeasuredPoint* p : points) {
    ranks.insert(p->ranks);
    fit.min_bytes = std::min(fit.min_bytes, p->bytes);
    fit.max_bytes = std::max(fit.max_bytes, p->bytes);
  }
  fit.ranks.assign(ranks.begin(), ranks.end());
  fit.sources = sources_of(points);
  return fit;
}

std::string rows_text(const std::vector<const MeasuredPoint*>& points) {
  std::set<std::string> files;
  for (const MeasuredPoint* p : points) files.insert(p->file);
  return std::to_string(points.size()) + " points from " + reports::join({files.begin(), files.end()}, ", ");
}

Terms terms_of(const Fit& fit) {
  Terms t = assumed_terms();
  t.intra_alpha.value = fit.intra.alpha_s;
  t.intra_beta.value = fit.intra.beta_s_per_byte;
  if (fit.inter) {
    t.inter_alpha.value = fit.inter->alpha_s;
    t.inter_beta.value = fit.inter->beta_s_per_byte;
  }
  return t;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Points

PointSet collective_points(const std::vector<ResultFile>& files, const std::string& dtype) {
  PointSet set;
  std::map<std::string, size_t> left_out;  // reason -> rows
  for (size_t f = 0; f < files.size(); ++f) {
    const ResultFile& file = files[f];
    const json& provenance = file.provenance();
    const std::optional<int64_t> file_ranks = integer(provenance, "ranks");
    const std::optional<int64_t> file_nodes = integer(member(provenance, "job"), "nodes");
    const std::string path = file.path.string();

    // Repetitions of one row in one file: one point, their median time.
    std::map<std::string, std::pair<MeasuredPoint, std::vector<double>>> by_name;
    std::vector<std::string> order;
    for (const ResultRow& row : result_rows(file, f)) {
      const std::optional<CollectiveOp> op = parse_collective_op(row.family);
      if (!op || row.aggregate) continue;
      if (!row.ok()) {
        ++left_out["not ok (" + row.status + ")"];
        continue;
      }
      const auto bytes = row.params.find("bytes");
      if (bytes == row.params.end() || bytes->second <= 0) {
        ++left_out["no bytes parameter"];
        continue;
      }
      if (!row.median_s || *row.median_s <= 0) {
        ++left_out["no measured median time"];
        continue;
      }
      const int64_t ranks = row.collective_ranks.value_or(file_ranks.value_or(1));
      const int64_t nodes = row.collective_nodes.value_or(file_nodes.value_or(1));
      if (!row.collective_ranks) ++left_out["ranks from the file's context (row without aicbench.collective), kept"];
      if (ranks < 2) {
        ++left_out["on one rank"];
        continue;
      }
      if (nodes < 1 || ranks % nodes != 0) {
        ++left_out["ranks not a multiple of nodes"];
        continue;
      }
      auto [it, inserted] = by_name.try_emplace(row.name);
      if (inserted) {
        MeasuredPoint& p = it->second.first;
        p.op = *op;
        p.impl = row.impl;
        p.dtype = row.dtype;
        p.backend = row.origin.backend;
        p.host = row.origin.host;
        const auto in_place = row.params.find("in_place");
        if (in_place != row.params.end()) p.in_place = static_cast<int>(in_place->second);
        p.ranks = ranks;
        p.nodes = nodes;
        p.bytes = static_cast<double>(bytes->second);
        p.file = path;
        p.row = row.name;
        order.push_back(row.name);
      }
      it->second.second.push_back(*row.median_s);
    }
    for (const std::string& name : order) {
      auto& [point, times] = by_name.at(name);
      point.time_s = stats::median(times);
      point.repetitions = static_cast<int>(times.size());
      set.points.push_back(std::move(point));
    }
  }

  // One dtype per operation and implementation, so no size is counted twice.
  std::map<std::string, std::set<std::string>> dtypes;  // op/impl -> dtypes
  for (const MeasuredPoint& p : set.points) dtypes[op_impl(p.op, p.impl)].insert(p.dtype);
  for (const auto& [key, present] : dtypes) {
    std::string keep = dtype;
    if (keep.empty() && present.count("fp32") && present.size() > 1) keep = "fp32";
    if (keep.empty()) continue;
    size_t dropped = 0;
    std::erase_if(set.points, [&](const MeasuredPoint& p) {
      const bool drop = op_impl(p.op, p.impl) == key && p.dtype != keep;
      dropped += drop;
      return drop;
    });
    if (dropped && dtype.empty()) {
      set.notes.push_back(key + ": fp32 rows only; " + std::to_string(dropped) + " rows of other dtypes left out (--dtype chooses)");
    } else if (dropped) {
      set.notes.push_back(key + ": " + std::to_string(dropped) + " rows not of dtype " + keep + " left out");
    }
  }
  for (const auto& [reason, count] : left_out) set.notes.push_back(std::to_string(count) + " collective rows: " + reason);
  return set;
}

// ---------------------------------------------------------------------------------------------
// Fits

Shape shape_for(CollectiveOp op, const std::string& impl, const ShapeOverrides& overrides) {
  const auto it = overrides.find(impl);
  if (it != overrides.end() && shape_supports(op, it->second)) return it->second;
  return shape_of_impl(op, impl);
}

std::string Fit::describe() const {
  std::ostringstream os;
  os << op_impl(op, impl) << " (" << to_string(shape) << " shape, " << dtype << "): " << intra.points
     << " points on one node at ranks " << list_ranks(intra.ranks) << ", " << format_bytes(intra.min_bytes) << ".."
     << format_bytes(intra.max_bytes) << ", rms residual " << percent(intra.rms_rel_residual);
  if (inter) {
    os << "; " << inter->points << " points across nodes at ranks " << list_ranks(inter->ranks) << ", rms residual "
       << percent(inter->rms_rel_residual);
  }
  return os.str();
}

std::string Fit::intra_source() const {
  std::ostringstream os;
  os << "fitted: " << op_impl(op, impl) << " rows (" << dtype << ") on one node, " << to_string(shape) << " shape: "
     << intra.points << " points at ranks " << list_ranks(intra.ranks) << ", " << format_bytes(intra.min_bytes) << ".."
     << format_bytes(intra.max_bytes) << ", rms residual " << percent(intra.rms_rel_residual);
  return os.str();
}

std::string Fit::inter_source() const {
  if (!inter) return "";
  std::ostringstream os;
  os << "fitted: " << op_impl(op, impl) << " rows (" << dtype << ") across nodes, ring with the intra-node terms "
     << "fixed: " << inter->points << " points at ranks " << list_ranks(inter->ranks) << ", "
     << format_bytes(inter->min_bytes) << ".." << format_bytes(inter->max_bytes) << ", rms residual "
     << percent(inter->rms_rel_residual);
  return os.str();
}

std::optional<double> Fit::predict(const MeasuredPoint& p) const {
  if (p.nodes == 1) {
    const Coefficients c = single_node_coefficients(op, shape, p.ranks, p.bytes);
    return c.alpha_steps * intra.alpha_s + c.beta_bytes * intra.beta_s_per_byte;
  }
  if (!inter) return std::nullopt;
  const Algorithm algorithm = op == CollectiveOp::all_to_all ? Algorithm::pairwise : Algorithm::ring;
  return model::predict(op, algorithm, p.span(), p.bytes, terms_of(*this)).time_s;
}

Fit fit_points(CollectiveOp op, const std::string& impl, const std::string& dtype, Shape shape,
               const std::vector<const MeasuredPoint*>& points) {
  Fit fit;
  fit.op = op;
  fit.impl = impl;
  fit.dtype = dtype;
  fit.shape = shape;
  std::vector<const MeasuredPoint*> one_node, across;
  for (const MeasuredPoint* p : points) (p->nodes == 1 ? one_node : across).push_back(p);
  const std::string what = op_impl(op, impl);
  if (one_node.empty()) {
    throw InputError("cannot fit " + what + ": no rows on one node (" + rows_text(points) +
                     "); the intra-node terms are fitted first, on one node");
  }

  std::vector<Equation> rows;
  for (const MeasuredPoint* p : one_node) {
    const Coefficients c = single_node_coefficients(op, shape, p->ranks, p->bytes);
    rows.push_back({c.alpha_steps / p->time_s, c.beta_bytes / p->time_s, 1.0});
  }
  const std::optional<Solution> intra = solve_non_negative(rows);
  if (!intra) {
    throw InputError("cannot fit " + what + ": its rows on one node (" + rows_text(one_node) +
                     ") cannot separate latency from bandwidth; they need at least two sizes");
  }
  fit.intra = linear_fit(*intra, one_node);

  if (!across.empty() && shape != Shape::ring) {
    fit.notes.push_back(std::to_string(across.size()) + " rows across nodes left out: only the ring shape is fitted "
                        "across nodes");
  } else if (!across.empty()) {
    rows.clear();
    for (const MeasuredPoint* p : across) {
      const RingAcrossNodes r = ring_across_nodes(op, p->span(), p->bytes);
      const double known = r.intra_steps * fit.intra.alpha_s + r.intra_beta_bytes * fit.intra.beta_s_per_byte;
      rows.push_back({r.inter_steps / p->time_s, r.inter_beta_bytes / p->time_s, (p->time_s - known) / p->time_s});
    }
    const std::optional<Solution> inter = solve_non_negative(rows);
    if (!inter) {
      throw InputError("cannot fit " + what + " across nodes: its rows on several nodes (" + rows_text(across) +
                       ") cannot separate latency from bandwidth; they need at least two sizes");
    }
    fit.inter = linear_fit(*inter, across);
    for (const MeasuredPoint* p : across) {
      if (fit.inter->beta_s_per_byte / static_cast<double>(p->span().per_node) < fit.intra.beta_s_per_byte) {
        fit.notes.push_back("across nodes the fitted NIC bandwidth exceeds what the node's fabric carries at " +
                            std::to_string(p->span().per_node) +
                            " ranks per node: the network was not the bottleneck, so the inter-node beta is "
                            "only an upper bound");
        break;
      }
    }
  }
  return fit;
}

// ---------------------------------------------------------------------------------------------
// Calibration

Calibration calibrate(const PointSet& set, Terms terms, const CalibrationOptions& options) {
  Calibration calibration;
  std::map<std::string, std::vector<const MeasuredPoint*>> by_impl;
  for (const MeasuredPoint& p : set.points) by_impl[p.impl].push_back(&p);
  if (by_impl.empty()) throw InputError("no collective rows to calibrate with");

  std::string impl = options.fit_impl;
  if (impl.empty()) {
    for (const char* preferred : {"nccl", "ring", "mpi"}) {
      if (by_impl.count(preferred)) {
        impl = preferred;
        break;
      }
    }
  }
  if (impl.empty()) {
    for (const auto& [name, points] : by_impl) {
      if (shape_for(points.front()->op, name, options.shapes) == Shape::ring) {
        impl = name;
        break;
      }
    }
  }
  if (impl.empty()) impl = by_impl.begin()->first;
  if (!by_impl.count(impl)) {
    std::vector<std::string> names;
    for (const auto& [name, points] : by_impl) names.push_back(name);
    const std::string present = reports::join(names, ", ");
    throw InputError("--fit-impl " + impl + ": no ok collective rows of that implementation (present: " + present + ")");
  }

  // all_reduce where it has rows, else the first op that does.
  std::optional<CollectiveOp> op;
  for (CollectiveOp candidate : kCollectiveOps) {
    for (const MeasuredPoint* p : by_impl[impl]) {
      if (p->op == candidate) op = candidate;
    }
    if (op) break;
  }
  std::vector<const MeasuredPoint*> points;
  for (const MeasuredPoint* p : by_impl[impl]) {
    if (p->op == *op) points.push_back(p);
  }
  const Fit fit = fit_points(*op, impl, points.front()->dtype, shape_for(*op, impl, options.shapes), points);
  terms.intra_alpha = {fit.intra.alpha_s, Origin::fitted, fit.intra_source()};
  terms.intra_beta = {fit.intra.beta_s_per_byte, Origin::fitted, fit.intra_source()};
  if (fit.inter) {
    terms.inter_alpha = {fit.inter->alpha_s, Origin::fitted, fit.inter_source()};
    terms.inter_beta = {fit.inter->beta_s_per_byte, Origin::fitted, fit.inter_source()};
  }
  if (fit.shape != Shape::ring) {
    calibration.warnings.push_back("the intra-node terms are fitted with the " + std::string(to_string(fit.shape)) +
                                   " shape of " + impl + ", not a ring: alpha and beta are that algorithm's");
  }
  for (const MeasuredPoint* p : points) {
    if (p->backend == "cpu") {
      calibration.warnings.push_back("the intra-node terms come from a CPU run (" + p->file +
                                     "): the predictions describe that machine's MPI transport, not a GPU node's");
      break;
    }
  }
  for (const std::string& note : fit.notes) calibration.warnings.push_back(op_impl(*op, impl) + ": " + note);
  calibration.fits.push_back(fit);

  // NVLS from the multimem rows on one node, where there are some.
  for (const auto& [name, members] : by_impl) {
    if (name == impl) continue;
    std::vector<const MeasuredPoint*> nvls;
    for (const MeasuredPoint* p : members) {
      if (p->op == CollectiveOp::all_reduce && p->nodes == 1 &&
          shape_for(p->op, name, options.shapes) == Shape::nvls) {
        nvls.push_back(p);
      }
    }
    if (nvls.empty()) continue;
    const Fit nvls_fit = fit_points(CollectiveOp::all_reduce, name, nvls.front()->dtype, Shape::nvls, nvls);
    terms.nvls_alpha = {nvls_fit.intra.alpha_s, Origin::fitted, nvls_fit.intra_source()};
    terms.nvls_beta = {nvls_fit.intra.beta_s_per_byte, Origin::fitted, nvls_fit.intra_source()};
    calibration.fits.push_back(nvls_fit);
    break;
  }
  calibration.terms = terms;
  return calibration;
}

// ---------------------------------------------------------------------------------------------
// Validation

std::string_view to_string(Holdout kind) { return kind == Holdout::ranks ? "held-out ranks" : "held-out size"; }

ErrorSummary summarize(const std::vector<const Check*>& checks) {
  ErrorSummary s;
  s.count = checks.size();
  if (checks.empty()) return s;
  std::vector<double> errors;
  for (const Check* c : checks) errors.push_back(std::fabs(c->rel_err));
  s.median_abs = stats::median(errors);
  s.max_abs = *std::max_element(errors.begin(), errors.end());
  return s;
}

namespace {

void summarize_into(const std::vector<const Check*>& checks, ErrorSummary& ranks, ErrorSummary& sizes,
                    ErrorSummary& all) {
  std::vector<const Check*> by_ranks, by_size;
  for (const Check* c : checks) (c->kind == Holdout::ranks ? by_ranks : by_size).push_back(c);
  ranks = summarize(by_ranks);
  sizes = summarize(by_size);
  all = summarize(checks);
}

}  // namespace

Validation validate(const PointSet& set, const ValidationOptions& options) {
  Validation validation;
  validation.options = options;
  validation.notes = set.notes;
  std::map<std::tuple<int, std::string, std::string>, std::vector<const MeasuredPoint*>> groups;
  for (const MeasuredPoint& p : set.points) {
    if (options.op && p.op != *options.op) continue;
    if (!options.impls.empty() && !options.impls.count(p.impl)) continue;
    groups[{static_cast<int>(p.op), p.impl, p.dtype}].push_back(&p);
  }
  if (groups.empty()) throw InputError("no collective rows match --op and --impl");

  std::vector<const Check*> every_check;
  for (auto& [key, points] : groups) {
    ValidationGroup group;
    group.op = points.front()->op;
    group.impl = points.front()->impl;
    group.dtype = points.front()->dtype;

    std::set<double> sizes;
    for (const MeasuredPoint* p : points) sizes.insert(p->bytes);
    std::set<double> held_sizes;
    size_t index = 0;
    for (double s : sizes) {
      const bool every = options.holdout_every >= 2 && index % static_cast<size_t>(options.holdout_every) == 1;
      const bool outside = (options.fit_bytes_min && s < *options.fit_bytes_min) ||
                           (options.fit_bytes_max && s > *options.fit_bytes_max);
      if (every || outside) held_sizes.insert(s);
      ++index;
    }
    std::vector<const MeasuredPoint*> fit_set;
    std::vector<std::pair<const MeasuredPoint*, Holdout>> check_set;
    for (const MeasuredPoint* p : points) {
      if (!options.fit_ranks.count(p->ranks)) check_set.emplace_back(p, Holdout::ranks);
      else if (held_sizes.count(p->bytes)) check_set.emplace_back(p, Holdout::size);
      else fit_set.push_back(p);
    }
    const Shape shape = shape_for(group.op, group.impl, options.shapes);
    if (fit_set.empty()) {
      group.skipped = "no rows at the fitted rank counts and sizes";
    } else if (check_set.empty()) {
      group.skipped = "nothing held out: every row is at a fitted rank count and size";
    } else {
      try {
        group.fit = fit_points(group.op, group.impl, group.dtype, shape, fit_set);
      } catch (const InputError& e) {
        group.skipped = e.what();
      }
    }
    if (group.fit) {
      size_t unpredictable = 0;
      for (const auto& [p, kind] : check_set) {
        const std::optional<double> predicted = group.fit->predict(*p);
        if (!predicted) {
          ++unpredictable;
          continue;
        }
        group.checks.push_back({*p, kind, *predicted, (*predicted - p->time_s) / p->time_s});
      }
      if (unpredictable) {
        group.fit->notes.push_back(std::to_string(unpredictable) +
                                   " held-out rows across nodes not predicted: no rows across nodes were fitted");
      }
    }
    validation.groups.push_back(std::move(group));
  }
  // Summaries once the groups stopped moving (checks are pointed to).
  for (ValidationGroup& group : validation.groups) {
    std::vector<const Check*> checks;
    for (const Check& c : group.checks) checks.push_back(&c);
    summarize_into(checks, group.held_out_ranks, group.held_out_sizes, group.all);
    every_check.insert(every_check.end(), checks.begin(), checks.end());
  }
  if (every_check.empty()) {
    std::string why;
    for (const ValidationGroup& g : validation.groups) {
      why += "\n  " + op_impl(g.op, g.impl) + ": " + (g.skipped.empty() ? "no held-out rows predicted" : g.skipped);
    }
    throw InputError("nothing validated: no implementation could be fitted and checked" + why);
  }
  summarize_into(every_check, validation.held_out_ranks, validation.held_out_sizes, validation.all);
  return validation;
}

}  // namespace aicbench::model
