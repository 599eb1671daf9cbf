#pragma once
// Human-edited data under specs/: suites (which benchmarks, which shapes); GPU datasheets (peak
// throughput, for pct_of_peak) are read by reports/datasheets.hpp. Every error names the file and
// the field.
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "harness/benchmark.hpp"
#include "reports/datasheets.hpp"  // specs_dir(), Datasheet, find_datasheet()

namespace aicbench {

struct Suite {
  std::string name;
  int version = 0;
  std::string description;
  std::filesystem::path path;
  // Given by its path (`--suite my-shapes.json`), not by name from specs/suites/: the result file
  // says so (context.aicbench.suite_file), and `accept` does not take it for the installed suite.
  bool user_file = false;
  std::vector<MeasureMode> modes = {MeasureMode::cold};
  std::map<Backend, StoppingRule> rules;  // the defaults, with the suite's overrides applied
  // The most the whole suite may take on one process, in seconds (harness/time_budget.hpp):
  // `aicbench run` refuses a suite whose benchmarks cannot fit, and stops one that runs over.
  std::optional<double> time_budget_s;
  StoppingRule rule(Backend backend) const;
  // `aicbench run --max-bytes N`: every range of a collective's `bytes` ends at N (longer or
  // shorter than the suite says), and its listed `bytes` values above N are left out.
  std::optional<int64_t> max_bytes;
  // Every benchmark of the suite on `backend`, in run order: per shape the vendor baseline first,
  // so that pct_of_vendor is known as soon as a hand-written kernel's row is written; each shape
  // once per measurement mode. Collectives instead as nccl-tests runs them: the vendor's sweep of
  // sizes, then each other implementation's, each size once (timed back to back, as hot).
  std::vector<BenchmarkSpec> benchmarks(Backend backend) const;

  // A parameter's values in a shape: one value, a list, or a geometric range from, from * factor,
  // ... up to `to` (a suite writes {"from": 8, "to": 1048576, "factor": 2}).
  struct ParamValues {
    std::string name;
    std::vector<int64_t> values;           // listed
    int64_t from = 0, to = 0, factor = 0;  // a range when factor > 0
    std::vector<int64_t> expanded(const std::optional<int64_t>& max_bytes) const;
  };
  // A shape as written: every parameter of the family, in the family's order. It stands for every
  // combination of its parameters' values, the first parameter varying slowest.
  using ShapeSpec = std::vector<ParamValues>;
  struct Group {
    std::string family;
    std::vector<std::string> dtypes, impls;
    int min_ranks = 1;  // the group runs only in a job of at least this many ranks
    std::map<Backend, std::vector<ShapeSpec>> shapes;
  };
  std::vector<Group> groups;
};

std::vector<std::string> available_suites();
// Throws InputError (exit 2) naming the valid suites when `name` is unknown, or the file and field
// when the suite file is malformed.
Suite load_suite(const std::string& name);
Suite load_suite_file(const std::filesystem::path& path);
// What `--suite` takes: a name from specs/suites/, or the path of a suite file of one's own (an
// argument with a '/' or ending in ".json"; user_file is set and `path` is absolute).
Suite load_suite_argument(const std::string& argument);

}  // namespace aicbench
