// libFuzzer target: any bytes as a result file, read from memory as `aicbench report` reads a
// file (the same bounds and checks), then, if accepted, read as the typed rows every command
// works from (with each row's origin: node, rank, GPU or the job it spanned), rendered in every
// report format: Markdown, HTML (the chart scripts written, an empty SVG drawn in gnuplot's
// place), CSV and JUnit, and decided on by compare (the file against itself) and fleet.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "reports/compare.hpp"
#include "reports/exports.hpp"
#include "reports/fleet.hpp"
#include "reports/gnuplot.hpp"
#include "reports/report.hpp"
#include "reports/result_file.hpp"
#include "reports/result_rows.hpp"
#include "tests/fuzz/fuzz_expect.hpp"

namespace {

// Stands in for gnuplot, which is a process per chart: the report still plans every chart and
// writes its script, which is what the input can influence.
const aicbench::reports::ChartDrawer kNoGnuplot{[](const std::string&) { return std::string("<svg></svg>"); }, ""};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const std::string origin = "<fuzz input>";
  aicbench::fuzz::expect_accepted_or_rejected(origin, [&] {
    const std::vector<aicbench::ResultFile> files = {aicbench::parse_result_file(text, origin)};
    for (const aicbench::ResultRow& row : aicbench::result_rows(files)) {
      (void)row.throughput();
      (void)row.origin.label();
      (void)aicbench::environment_of(files.front(), row.origin);
    }
    (void)aicbench::measurement_rows(files);
    (void)aicbench::environment_of(files.front());
    (void)aicbench::run_facts(files.front(), 0);
    aicbench::compare::Options options;
    options.resamples = 0;
    (void)aicbench::compare::compare_files(files, files, options);
    aicbench::fleet::FleetCollector fleet;
    fleet.add(files.front());
    (void)aicbench::fleet::analyse_fleet(fleet);
    (void)aicbench::reports::render_markdown(files);
    (void)aicbench::reports::render_html(files, kNoGnuplot);
    (void)aicbench::reports::render_csv(files);
    (void)aicbench::reports::render_junit(files);
  });
  return 0;
}
