// aicbench model collective --op OP --ranks N --gpus-per-node G --bytes S [--group tp=8,dp=1250]
//                          [--collective GROUP:OP:BYTES]... [--calibrate RESULTS...] [--json] [--md F]
// aicbench model collective --validate RESULTS... --fit-ranks 2,4,8 [--fit-bytes LO:HI]
//                          [--holdout-every K] [--json] [--md F]
//
// The collective model (docs/collective-model.md): the time and busbw of ring, tree,
// hierarchical and NVLS all-reduce (and the ring of the other collectives) at any scale, from
// alpha-beta terms that are fitted to result files, set by options, or assumed (and said so);
// per parallel group of a training job; and its validation on held-out measurements.
// Exit 0; 1 with --max-median-error when the validation's median error exceeds it; 2 bad usage
// or input, naming the option or file.
#include <charconv>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "reports/cli_common.hpp"
#include "reports/model_collective.hpp"
#include "reports/model_fit.hpp"
#include "reports/model_groups.hpp"
#include "reports/model_render.hpp"
#include "reports/output_paths.hpp"
#include "reports/result_file.hpp"
#include "reports/text_format.hpp"

namespace aicbench::cli {

namespace {

namespace fs = std::filesystem;
using namespace aicbench::model;

constexpr int64_t kMaxRanks = int64_t{1} << 31;
constexpr int64_t kMaxGpusPerNode = 1024;

constexpr const char* kUsage =
    "usage: aicbench model collective --op OP --ranks N --gpus-per-node G --bytes S [--group tp=8,dp=1250]\n"
    "                                [--collective GROUP:OP:BYTES]... [--calibrate RESULTS...] [--json] [--md F]\n"
    "       aicbench model collective --validate RESULTS... --fit-ranks 2,4,8 [--fit-bytes LO:HI] [--holdout-every K]";

cxxopts::Options collective_options() {
  cxxopts::Options options(
      "aicbench model collective",
      "Predicts a collective's time and busbw at any scale (ring, double binary tree, hierarchical and NVLS "
      "all-reduce; the ring of the other collectives) from alpha-beta terms fitted to result files, set by options, "
      "or assumed and said so; per parallel group of a job; --validate fits on some rank counts and sizes and "
      "predicts the others. See docs/collective-model.md.");
  options.positional_help("[RESULTS...]");
  options.add_options()
      ("op", "all_reduce, all_gather, reduce_scatter, all_to_all or broadcast", cxxopts::value<std::string>())
      ("ranks", "ranks (GPUs) of the job, 2 to 2^31; with --group, the product of its sizes when left out",
       cxxopts::value<std::string>())
      ("gpus-per-node", "ranks per node, 1 to 1024; --ranks must be a multiple", cxxopts::value<std::string>())
      ("bytes", "nccl-tests' size: per-rank buffer (all_reduce, broadcast) or whole buffer (all_gather, "
       "reduce_scatter, all_to_all); a number with K, M, G, T (binary) or KiB.. suffix", cxxopts::value<std::string>())
      ("group", "the job's parallel groups, innermost first: tp=8,dp=1250 (names of letters, digits, _)",
       cxxopts::value<std::string>())
      ("collective", "GROUP:OP:BYTES, the collective a group runs (GROUP a --group name, or job); repeatable. "
       "Without it every group of size > 1 runs --op at --bytes", cxxopts::value<std::vector<std::string>>())
      ("calibrate", "result files or directories of them to fit the terms to (repeatable; files after the options count too)",
       cxxopts::value<std::vector<std::string>>())
      ("fit-impl", "the implementation whose rows fit the intra-node terms (default nccl, else ring, else mpi)",
       cxxopts::value<std::string>())
      ("shape", "IMPL=SHAPE: fit IMPL's rows with SHAPE (ring, rhd, oneshot, twoshot, nvls); repeatable",
       cxxopts::value<std::vector<std::string>>())
      ("dtype", "fit rows of this dtype only (default fp32 where there are fp32 rows)", cxxopts::value<std::string>())
      ("intra-gbps", "intra-node bandwidth per rank, GB/s (overrides a fit)", cxxopts::value<std::string>())
      ("intra-latency-us", "intra-node latency per step, us (overrides a fit)", cxxopts::value<std::string>())
      ("nic-gbps", "NIC bandwidth per GPU, Gb/s (default 400: NDR InfiniBand)", cxxopts::value<std::string>())
      ("nic-latency-us", "inter-node latency per step, us (default 5)", cxxopts::value<std::string>())
      ("nvls-gbps", "NVLS bandwidth per GPU link to the switch, GB/s", cxxopts::value<std::string>())
      ("nvls-latency-us", "NVLS latency per phase, us", cxxopts::value<std::string>())
      ("validate", "fit on --fit-ranks (and --fit-bytes), predict the held-out rows, report the errors")
      ("fit-ranks", "--validate: the rank counts to fit on, e.g. 2,4,8", cxxopts::value<std::string>())
      ("fit-bytes", "--validate: LO:HI, the sizes to fit on (either side may be empty)", cxxopts::value<std::string>())
      ("holdout-every", "--validate: K >= 2, hold out every K-th size from the 2nd as well", cxxopts::value<std::string>())
      ("impl", "--validate: only this implementation (repeatable)", cxxopts::value<std::vector<std::string>>())
      ("max-median-error", "--validate: exit 1 when the median |error| of the held-out rows exceeds PCT",
       cxxopts::value<std::string>())
      ("json", "print JSON instead of Markdown")
      ("md", "write the Markdown here as well", cxxopts::value<std::string>())
      ("files", "result files", cxxopts::value<std::vector<std::string>>());
  options.parse_positional({"files"});
  return options;
}

// ---------------------------------------------------------------------------------------------
// Values, each refused with the option's name

double parse_size(const std::string& option, const std::string& text) {
  const std::optional<double> bytes = parse_bytes(text);
  if (!bytes) {
    throw InputError("--" + option + " " + text +
                     ": expected a size above 0 bytes such as 1048576, 64K, 1M or 8GiB (binary suffixes K, M, G, T "
                     "or KiB, MiB, GiB, TiB; at most 2^53)");
  }
  return *bytes;
}

CollectiveOp parse_op(const std::string& option, const std::string& text) {
  if (auto op = parse_collective_op(text)) return *op;
  throw InputError("--" + option + " " + text +
                   ": expected all_reduce, all_gather, reduce_scatter, all_to_all or broadcast");
}

std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    const size_t at = text.find(separator, start);
    parts.push_back(text.substr(start, at == std::string::npos ? std::string::npos : at - start));
    if (at == std::string::npos) return parts;
    start = at + 1;
  }
}

std::optional<std::string> value(const cxxopts::ParseResult& r, const std::string& name) {
  if (!r.count(name)) return std::nullopt;
  return r[name].as<std::string>();
}

std::vector<std::string> values(const cxxopts::ParseResult& r, const std::string& name) {
  return r.count(name) ? r[name].as<std::vector<std::string>>() : std::vector<std::string>{};
}

ShapeOverrides parse_shapes(const std::vector<std::string>& items) {
  ShapeOverrides shapes;
  for (const std::string& item : items) {
    const size_t equals = item.find('=');
    Shape shape;
    if (equals == std::string::npos || equals == 0 || !parse_shape(item.substr(equals + 1), shape)) {
      throw InputError("--shape " + item + ": expected IMPL=SHAPE with SHAPE ring, rhd, oneshot, twoshot or nvls");
    }
    shapes[item.substr(0, equals)] = shape;
  }
  return shapes;
}

// Options that belong to the other mode are refused rather than ignored.
void refuse_options(const cxxopts::ParseResult& r, const std::vector<const char*>& names, const std::string& why) {
  for (const char* name : names) {
    if (r.count(name)) throw InputError(std::string("--") + name + " " + why);
  }
}

std::vector<ResultFile> load_inputs(const std::vector<std::string>& paths) {
  for (size_t i = 0; i < paths.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (reports::same_file(paths[i], paths[j])) {
        throw InputError(paths[i] + " is given twice (as " + paths[j] + "); each result file may appear once");
      }
    }
  }
  std::vector<ResultFile> files;
  for (const std::string& path : paths) files.push_back(load_result_file(path));
  return files;
}

PointSet points_of(const std::vector<std::string>& paths, const std::string& dtype) {
  const std::vector<ResultFile> files = load_inputs(paths);
  PointSet points = collective_points(files, dtype);
  if (points.points.empty()) {
    std::string notes;
    for (const std::string& n : points.notes) notes += "\n  " + n;
    throw InputError("no ok collective rows (families all_reduce, all_gather, reduce_scatter, all_to_all, broadcast "
                     "with a bytes parameter, on 2 ranks or more) in " +
                     reports::join(paths, ", ") + (dtype.empty() ? "" : " of dtype " + dtype) + notes);
  }
  return points;
}

void emit(const std::string& markdown, const nlohmann::json& json, bool as_json, const std::optional<std::string>& md) {
  if (md) {
    write_file_atomically(*md, markdown);
    std::cerr << "aicbench model: wrote " << *md << "\n";
  }
  std::cout << (as_json ? json.dump(2) + "\n" : markdown);
}

// ---------------------------------------------------------------------------------------------
// --validate

int validate_command(const cxxopts::ParseResult& r, const std::vector<std::string>& inputs) {
  refuse_options(r,
                 {"ranks", "gpus-per-node", "bytes", "group", "collective", "fit-impl", "intra-gbps",
                  "intra-latency-us", "nic-gbps", "nic-latency-us", "nvls-gbps", "nvls-latency-us"},
                 "is for predictions; --validate fits and checks result files only");
  if (inputs.empty()) throw InputError(std::string("--validate needs result files\n") + kUsage);
  if (!r.count("fit-ranks")) {
    throw InputError(std::string("--validate needs --fit-ranks, the rank counts to fit on (e.g. 2,4,8)\n") + kUsage);
  }
  ValidationOptions options;
  for (const std::string& item : split(r["fit-ranks"].as<std::string>(), ',')) {
    options.fit_ranks.insert(parse_integer("fit-ranks", item, 2, kMaxRanks));
  }
  if (auto text = value(r, "fit-bytes")) {
    const size_t colon = text->find(':');
    if (colon == std::string::npos) throw InputError("--fit-bytes " + *text + ": expected LO:HI, e.g. 8:1M or :64K");
    if (colon > 0) options.fit_bytes_min = parse_size("fit-bytes", text->substr(0, colon));
    if (colon + 1 < text->size()) options.fit_bytes_max = parse_size("fit-bytes", text->substr(colon + 1));
    if (options.fit_bytes_min && options.fit_bytes_max && *options.fit_bytes_min > *options.fit_bytes_max) {
      throw InputError("--fit-bytes " + *text + ": LO is above HI");
    }
  }
  if (auto text = value(r, "holdout-every")) options.holdout_every = static_cast<int>(parse_integer("holdout-every", *text, 2, 1000));
  if (auto text = value(r, "op")) options.op = parse_op("op", *text);
  for (const std::string& impl : values(r, "impl")) options.impls.insert(impl);
  options.shapes = parse_shapes(values(r, "shape"));
  std::optional<double> max_median;
  if (auto text = value(r, "max-median-error")) max_median = parse_number("max-median-error", *text, 0, 1e6, false) / 100;

  const PointSet points = points_of(inputs, value(r, "dtype").value_or(""));
  const Validation validation = validate(points, options);
  emit(render_markdown(validation), to_json(validation), r.count("json") > 0, value(r, "md"));
  if (max_median && validation.all.median_abs > *max_median) {
    std::cerr << "aicbench model: the median |error| of the held-out rows, " << reports::sig3(100 * validation.all.median_abs)
              << " %, exceeds --max-median-error " << reports::sig3(100 * *max_median) << " %\n";
    return 1;
  }
  return 0;
}

// ---------------------------------------------------------------------------------------------
// Predictions

void apply_option(const cxxopts::ParseResult& r, const char* name, Term& term, double scale, bool bandwidth,
                  double min, double max, bool min_exclusive) {
  const auto text = value(r, name);
  if (!text) return;
  const double x = parse_number(name, *text, min, max, min_exclusive);
  term.value = bandwidth ? 1.0 / (x * scale) : x * scale;
  term.origin = Origin::option;
  term.source = std::string("--") + name + " " + *text;
}

int predict_command(const cxxopts::ParseResult& r, const std::vector<std::string>& inputs) {
  refuse_options(r, {"fit-ranks", "fit-bytes", "holdout-every", "impl", "max-median-error"}, "needs --validate");
  if (!r.count("gpus-per-node")) throw InputError(std::string("needs --gpus-per-node\n") + kUsage);
  const int64_t gpus_per_node = parse_integer("gpus-per-node", r["gpus-per-node"].as<std::string>(), 1, kMaxGpusPerNode);

  std::vector<GroupDim> dims;
  if (auto text = value(r, "group")) dims = parse_group_dims(*text);
  int64_t ranks = 0;
  if (auto text = value(r, "ranks")) {
    ranks = parse_integer("ranks", *text, 2, kMaxRanks);
  } else if (!dims.empty()) {
    ranks = 1;
    for (const GroupDim& d : dims) {
      if (ranks > kMaxRanks / d.size) throw InputError("--group " + *value(r, "group") + ": more than 2^31 ranks");
      ranks *= d.size;
    }
    if (ranks < 2) throw InputError("--group " + *value(r, "group") + ": a job of one rank has nothing to model");
  } else {
    throw InputError(std::string("needs --ranks (or --group)\n") + kUsage);
  }
  if (ranks % gpus_per_node != 0) {
    throw InputError("--ranks " + std::to_string(ranks) + " is not a multiple of --gpus-per-node " +
                     std::to_string(gpus_per_node) + ": the model needs whole nodes");
  }
  std::optional<CollectiveOp> op;
  if (auto text = value(r, "op")) op = parse_op("op", *text);
  std::optional<double> bytes;
  if (auto text = value(r, "bytes")) bytes = parse_size("bytes", *text);

  PredictionReport report;
  report.ranks = ranks;
  report.gpus_per_node = gpus_per_node;
  if (!dims.empty()) report.layout = *value(r, "group");

  // The questions: per --collective, or --op at --bytes per group (or over the whole job).
  const std::vector<GroupLayout> layouts = dims.empty() ? std::vector<GroupLayout>{}
                                                        : lay_out_groups(dims, ranks, gpus_per_node);
  auto question_for = [&](const std::string& group, CollectiveOp q_op, double q_bytes) {
    CollectiveQuestion q;
    q.group = group;
    q.op = q_op;
    q.bytes = q_bytes;
    if (group == "job") {
      q.span = job_span(ranks, gpus_per_node);
      q.group_size = ranks;
      return q;
    }
    for (const GroupLayout& layout : layouts) {
      if (layout.name != group) continue;
      q.span = layout.span;
      q.group_size = layout.size;
      q.concurrent = layout.concurrent;
      return q;
    }
    throw InputError("--collective " + group + ":...: no group named " + group + " in --group" +
                     (report.layout.empty() ? std::string(" (none given)") : " " + report.layout) + "; 'job' is the whole job");
  };
  const std::vector<std::string> asked = values(r, "collective");
  for (const std::string& item : asked) {
    const std::vector<std::string> parts = split(item, ':');
    if (parts.size() != 3) throw InputError("--collective " + item + ": expected GROUP:OP:BYTES, e.g. dp:reduce_scatter:2G");
    CollectiveQuestion q = question_for(parts[0], parse_op("collective", parts[1]), parse_size("collective", parts[2]));
    if (q.span.ranks < 2) {
      report.warnings.push_back("--collective " + item + ": a group of one rank communicates nothing; left out");
      continue;
    }
    report.questions.push_back(q);
  }
  if (asked.empty()) {
    if (!op) throw InputError(std::string("needs --op (or --collective)\n") + kUsage);
    if (!bytes) throw InputError(std::string("needs --bytes (or --collective)\n") + kUsage);
    if (layouts.empty()) report.questions.push_back(question_for("job", *op, *bytes));
    for (const GroupLayout& layout : layouts) {
      if (layout.size < 2) continue;
      report.questions.push_back(question_for(layout.name, *op, *bytes));
    }
  } else if (op || bytes) {
    throw InputError(std::string(op ? "--op" : "--bytes") + " with --collective: say each group's op and size in --collective");
  }
  if (report.questions.empty()) throw InputError("--group " + report.layout + ": no group of 2 ranks or more to model");

  // The terms: assumed, then fitted, then set by options.
  Terms terms = assumed_terms();
  if (!inputs.empty()) {
    const PointSet points = points_of(inputs, value(r, "dtype").value_or(""));
    CalibrationOptions calibration_options;
    calibration_options.fit_impl = value(r, "fit-impl").value_or("");
    calibration_options.shapes = parse_shapes(values(r, "shape"));
    Calibration calibration = calibrate(points, terms, calibration_options);
    terms = calibration.terms;
    report.fits = calibration.fits;
    report.warnings.insert(report.warnings.end(), calibration.warnings.begin(), calibration.warnings.end());
    report.notes = points.notes;
    report.calibration_files = inputs;
  } else {
    refuse_options(r, {"fit-impl", "shape", "dtype"}, "needs result files to fit (--calibrate RESULTS)");
  }
  apply_option(r, "intra-gbps", terms.intra_beta, 1e9, true, 0, 1e6, true);
  apply_option(r, "intra-latency-us", terms.intra_alpha, 1e-6, false, 0, 1e6, false);
  apply_option(r, "nic-gbps", terms.inter_beta, 1e9 / 8, true, 0, 1e7, true);
  apply_option(r, "nic-latency-us", terms.inter_alpha, 1e-6, false, 0, 1e6, false);
  apply_option(r, "nvls-gbps", terms.nvls_beta, 1e9, true, 0, 1e6, true);
  apply_option(r, "nvls-latency-us", terms.nvls_alpha, 1e-6, false, 0, 1e6, false);
  report.terms = terms;

  for (CollectiveQuestion& q : report.questions) q.predictions = predict_all(q.op, q.span, q.bytes, terms);
  emit(render_markdown(report), to_json(report), r.count("json") > 0, value(r, "md"));
  return 0;
}

int collective_command(int argc, char** argv) {
  cxxopts::Options options = collective_options();
  auto parsed = parse_options(options, argc, argv);
  if (!parsed) return 0;
  std::vector<std::string> arguments = values(*parsed, "calibrate");
  for (const std::string& f : values(*parsed, "files")) arguments.push_back(f);
  std::vector<std::string> inputs;  // a directory stands for its *.json files
  for (const fs::path& path : expand_result_paths(arguments)) inputs.push_back(path.string());
  if (auto md = value(*parsed, "md")) {
    std::vector<fs::path> input_paths(inputs.begin(), inputs.end());
    reports::check_output_paths(input_paths, {{"--md", *md}});
  }
  return parsed->count("validate") ? validate_command(*parsed, inputs) : predict_command(*parsed, inputs);
}

}  // namespace

int model_command(int argc, char** argv) {
  const std::string usage = std::string(kUsage) + "\n(aicbench model collective --help lists every option)\n";
  if (argc < 2) throw InputError("needs a model: collective\n" + usage);
  const std::string which = argv[1];
  if (which == "-h" || which == "--help" || which == "help") {
    std::cout << usage;
    return 0;
  }
  if (which != "collective") throw InputError("unknown model '" + which + "' (models: collective)\n" + usage);
  return collective_command(argc - 1, argv + 1);
}

}  // namespace aicbench::cli
