#pragma once
// Human-edited data under specs/: suites (which benchmarks, which shapes) and GPU datasheets
// (peak throughput, for pct_of_peak). Every error names the file and the field.
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "harness/benchmark.hpp"

namespace aicbench {

// specs/ is found through $AICBENCH_SPECS, then beside an installed binary
// (<prefix>/share/aicbench/specs), then in the source tree the binary was built from.
std::filesystem::path specs_dir();

struct Suite {
  std::string name;
  int version = 0;
  std::string description;
  std::filesystem::path path;
  std::vector<MeasureMode> modes = {MeasureMode::cold};
  std::map<Backend, StoppingRule> rules;  // the defaults, with the suite's overrides applied
  // The most the whole suite may take on one process, in seconds (harness/time_budget.hpp):
  // `aicbench run` refuses a suite whose benchmarks cannot fit, and stops one that runs over.
  std::optional<double> time_budget_s;
  StoppingRule rule(Backend backend) const;
  // Every benchmark of the suite on `backend`, in run order: per shape the vendor baseline first,
  // so that pct_of_vendor is known as soon as a hand-written kernel's row is written; each shape
  // once per measurement mode.
  std::vector<BenchmarkSpec> benchmarks(Backend backend) const;

  struct Group {
    std::string family;
    std::vector<std::string> dtypes, impls;
    std::map<Backend, std::vector<std::vector<Param>>> shapes;
  };
  std::vector<Group> groups;
};

std::vector<std::string> available_suites();
// Throws InputError (exit 2) naming the valid suites when `name` is unknown, or the file and field
// when the suite file is malformed.
Suite load_suite(const std::string& name);
Suite load_suite_file(const std::filesystem::path& path);

struct Datasheet {
  std::string sku;
  std::string source;
  std::map<std::string, double> peak_tflops;  // dense, per dtype
};
// The datasheet whose name patterns match `gpu_name` (case-insensitive substring), if any.
std::optional<Datasheet> find_datasheet(const std::string& gpu_name);

}  // namespace aicbench
