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
  std::vector<MeasureMode> modes = {MeasureMode::cold};
  std::map<Backend, StoppingRule> rules;  // the defaults, with the suite's overrides applied
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

}  // namespace aicbench
