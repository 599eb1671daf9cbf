// aicbench compare BASELINE... -- CURRENT... [--threshold PCT] [--threshold-for PATTERN=PCT]...
//                  [--fdr Q] [--fail-on-environment] [--md F] [--html F] [--json F] [--junit F]
//
// The nightly regression gate (docs/compare.md). `--` separates the sets; options may stand on
// either side of it. `--baseline F --current F` (each repeatable) say the same without `--`.
// Exit 0: no regression; 1: a benchmark is SLOWER or NOW FAILING (or ENVIRONMENT CHANGED with
// --fail-on-environment); 2: bad usage or a bad input file.
#include <algorithm>
#include <filesystem>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "reports/cli_common.hpp"
#include "reports/compare.hpp"
#include "reports/compare_render.hpp"
#include "reports/output_paths.hpp"
#include "reports/result_file.hpp"

namespace aicbench::cli {

namespace {

namespace fs = std::filesystem;

constexpr const char* kUsage = "BASELINE... -- CURRENT... [--threshold PCT] [--threshold-for PATTERN=PCT]...";
constexpr const char* kOutputs[] = {"md", "html", "json", "junit"};

cxxopts::Options compare_options() {
  cxxopts::Options options(
      "aicbench compare",
      "The regression gate: pairs the benchmarks of two sets of result files, tests each for a change of its median "
      "time (Mann-Whitney U over repetitions, Benjamini-Hochberg over benchmarks, nvbench's noise rule where there "
      "are too few repetitions), labels slowdowns that come with a changed machine, and exits 1 on a regression or "
      "a newly failing benchmark. See docs/compare.md.");
  options.positional_help(kUsage);
  options.add_options()
      ("threshold", "a change smaller than this, in percent of the median time, is SAME (default 3)",
       cxxopts::value<double>())
      ("threshold-for", "PATTERN=PCT: the threshold for benchmarks whose name starts with PATTERN (a family or "
       "benchmark: gemm/simt=5) or matches it as a glob ('gemm/*/fp8/*=4'); repeatable, the longest pattern wins",
       cxxopts::value<std::vector<std::string>>())
      ("fdr", "Benjamini-Hochberg false discovery rate q over all benchmarks tested (default 0.05)",
       cxxopts::value<double>())
      ("fail-on-environment", "fail the gate on slowdowns that come with a changed environment too")
      ("baseline", "a baseline result file or directory of them (repeatable), instead of files before --",
       cxxopts::value<std::vector<std::string>>())
      ("current", "a current result file or directory of them (repeatable), instead of files after --",
       cxxopts::value<std::vector<std::string>>())
      ("md", "write the Markdown report here as well as to stdout", cxxopts::value<std::string>())
      ("html", "write a self-contained HTML page here", cxxopts::value<std::string>())
      ("json", "write the verdicts as JSON here", cxxopts::value<std::string>())
      ("junit", "write JUnit XML here: a testcase per benchmark", cxxopts::value<std::string>())
      ("files", "result files", cxxopts::value<std::vector<std::string>>());
  options.parse_positional({"files"});
  return options;
}

std::vector<std::string> strings(const cxxopts::ParseResult& r, const std::string& name) {
  return r.count(name) ? r[name].as<std::vector<std::string>>() : std::vector<std::string>{};
}

void append(std::vector<std::string>& to, const std::vector<std::string>& more) {
  to.insert(to.end(), more.begin(), more.end());
}

// What the user asked for, from both halves of the command line.
struct Request {
  std::vector<fs::path> baseline, current;  // a directory on the command line is its *.json files
  compare::Options options;
  std::map<std::string, std::string> outputs;  // md/html/json/junit -> path
};

// One value option from either half; given on both sides is ambiguous, hence an error.
template <typename T>
std::optional<T> single(const std::vector<const cxxopts::ParseResult*>& halves, const std::string& name) {
  std::optional<T> value;
  for (const cxxopts::ParseResult* r : halves) {
    if (!r->count(name)) continue;
    if (value || r->count(name) > 1) throw InputError("--" + name + " is given more than once");
    value = (*r)[name].as<T>();
  }
  return value;
}

std::optional<Request> parse_request(int argc, char** argv) {
  // `--` is ours: cxxopts would put everything after it among the positionals of one set.
  std::vector<char*> before{argv[0]}, after{argv[0]};
  bool separated = false;
  for (int i = 1; i < argc; ++i) {
    if (!separated && std::string_view(argv[i]) == "--") {
      separated = true;
      continue;
    }
    (separated ? after : before).push_back(argv[i]);
  }
  cxxopts::Options first = compare_options();
  auto left = parse_options(first, static_cast<int>(before.size()), before.data());
  if (!left) return std::nullopt;  // --help
  std::vector<const cxxopts::ParseResult*> halves{&*left};
  std::optional<cxxopts::ParseResult> right;
  if (separated) {
    cxxopts::Options second = compare_options();
    right = parse_options(second, static_cast<int>(after.size()), after.data());
    if (!right) return std::nullopt;
    halves.push_back(&*right);
  }

  Request request;
  std::vector<std::string> baseline = strings(*left, "files"), current;
  if (right) append(current, strings(*right, "files"));
  for (const cxxopts::ParseResult* r : halves) {
    append(baseline, strings(*r, "baseline"));
    append(current, strings(*r, "current"));
  }
  const bool explicit_current =
      std::any_of(halves.begin(), halves.end(), [](const cxxopts::ParseResult* r) { return r->count("current"); });
  const std::string usage = std::string("usage: aicbench compare ") + kUsage +
                            "\n       aicbench compare --baseline F [--baseline F]... --current F [--current F]...";
  if (!separated && !explicit_current) {
    throw InputError("needs '--' between the baseline and the current result files (or --baseline/--current)\n" +
                     usage);
  }
  if (baseline.empty()) throw InputError("no baseline result files (before '--' or with --baseline)\n" + usage);
  if (current.empty()) throw InputError("no current result files (after '--' or with --current)\n" + usage);
  request.baseline = expand_result_paths(baseline);
  request.current = expand_result_paths(current);

  compare::Options& o = request.options;
  if (auto pct = single<double>(halves, "threshold")) {
    if (!(*pct >= 0 && *pct < 1000)) {
      throw InputError("--threshold " + std::to_string(*pct) + ": expected a percentage from 0 to 1000");
    }
    o.threshold = *pct / 100.0;
  }
  if (auto q = single<double>(halves, "fdr")) {
    if (!(*q > 0 && *q < 1)) {
      throw InputError("--fdr " + std::to_string(*q) + ": expected a false discovery rate between 0 and 1");
    }
    o.fdr = *q;
  }
  for (const cxxopts::ParseResult* r : halves) {
    for (const std::string& rule : strings(*r, "threshold-for")) {
      o.thresholds.push_back(compare::parse_threshold_rule(rule));
    }
    if (r->count("fail-on-environment")) o.fail_on_environment = true;
  }
  for (const char* name : kOutputs) {
    if (auto path = single<std::string>(halves, name)) request.outputs[name] = *path;
  }

  // The same file twice would count its samples twice, or compare a run with itself; an output
  // over an input would destroy it.
  std::vector<std::pair<fs::path, std::string>> inputs;  // path, which side
  for (const fs::path& f : request.baseline) inputs.emplace_back(f, "a baseline file");
  for (const fs::path& f : request.current) inputs.emplace_back(f, "a current file");
  for (size_t i = 0; i < inputs.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (reports::same_file(inputs[i].first, inputs[j].first)) {
        throw InputError(inputs[i].first.string() + " is given as " + inputs[j].second + " and as " +
                         inputs[i].second + "; each result file may appear once");
      }
    }
  }
  std::vector<fs::path> input_paths;
  for (const auto& [path, side] : inputs) input_paths.emplace_back(path);
  std::vector<reports::OutputPath> outputs;
  for (const auto& [name, path] : request.outputs) outputs.push_back({"--" + name, path});
  reports::check_output_paths(input_paths, outputs);
  return request;
}

}  // namespace

int compare_command(int argc, char** argv) {
  const std::optional<Request> request = parse_request(argc, argv);
  if (!request) return 0;
  std::vector<ResultFile> baseline, current;
  for (const fs::path& path : request->baseline) baseline.push_back(load_result_file(path));
  for (const fs::path& path : request->current) current.push_back(load_result_file(path));

  const compare::Comparison comparison = compare::compare_files(baseline, current, request->options);
  const std::string markdown = compare::render_markdown(comparison);
  for (const auto& [name, path] : request->outputs) {
    std::string content;
    if (name == "md") content = markdown;
    else if (name == "html") content = compare::render_html(comparison);
    else if (name == "json") content = compare::to_json(comparison).dump(2) + "\n";
    else content = compare::render_junit(comparison);
    write_file_atomically(path, content);
    std::cerr << "aicbench compare: wrote " << path << "\n";
  }
  std::cout << markdown;
  return comparison.exit_code();
}

}  // namespace aicbench::cli
