// The commands that read result files only, in both the full and the reports-only binary:
//   aicbench report RESULTS... [--md F] [--html F] [--csv F] [--junit F]
//   aicbench compare BASELINE... -- CURRENT... [--threshold PCT] ...   (reports/compare_command.cpp)
//   aicbench accept --spec SPEC RESULTS... [--md F] [--html F] [--json F] [--junit F]   (accept_command.cpp)
//   aicbench fleet RESULTS... [--md F] [--html F] [--csv F] [--json F]   (fleet_command.cpp)
//   aicbench history add|trend|baseline --db F ...   (reports/history_command.cpp)
//   aicbench model collective --op OP --ranks N --gpus-per-node G --bytes S ...   (model_command.cpp)
//   aicbench size --model M --tokens D --candidate FILES... (--gpus N | --deadline-days T)   (size_command.cpp)
#include <iostream>
#include <string>
#include <vector>

#include "reports/cli_common.hpp"
#include "reports/exports.hpp"
#include "reports/output_paths.hpp"
#include "reports/report.hpp"
#include "reports/result_file.hpp"

namespace aicbench::cli {

namespace {

int report_command(int argc, char** argv) {
  cxxopts::Options options("aicbench report",
                           "Markdown summary, a self-contained HTML page, CSV and JUnit XML from result files.");
  options.positional_help("RESULTS... (files, or directories of *.json)");
  options.add_options()
      ("md", "write the Markdown summary here", cxxopts::value<std::string>())
      ("html", "write the HTML page (tables and charts) here", cxxopts::value<std::string>())
      ("csv", "write one CSV row per result here", cxxopts::value<std::string>())
      ("junit", "write JUnit XML here: a testsuite per file, a testcase per benchmark", cxxopts::value<std::string>())
      ("results", "result files or directories of them", cxxopts::value<std::vector<std::string>>());
  options.parse_positional({"results"});
  auto parsed = parse_options(options, argc, argv);
  if (!parsed) return 0;
  if (!parsed->count("results")) throw InputError("report needs at least one result file\n" + options.help());
  const std::vector<std::filesystem::path> inputs = expand_result_paths((*parsed)["results"].as<std::vector<std::string>>());

  // Each output and how it is made; refused before anything is read if one would overwrite an
  // input or another output.
  using Renderer = std::string (*)(const std::vector<ResultFile>&);
  const std::vector<std::pair<std::string, Renderer>> formats = {
      {"md", reports::render_markdown}, {"html", reports::render_html}, {"csv", reports::render_csv}, {"junit", reports::render_junit}};
  std::vector<reports::OutputPath> outputs;
  std::vector<Renderer> renderers;
  for (const auto& [option, renderer] : formats) {
    if (!parsed->count(option)) continue;
    outputs.push_back({"--" + option, (*parsed)[option].as<std::string>()});
    renderers.push_back(renderer);
  }
  reports::check_output_paths(inputs, outputs);

  std::vector<ResultFile> files;
  for (const std::filesystem::path& path : inputs) files.push_back(load_result_file(path));
  if (parsed->count("html")) {
    // The page says so too; said here, it is seen by whoever runs the command.
    if (const std::string why = reports::gnuplot_drawer().unavailable; !why.empty()) {
      std::cerr << "aicbench report: the HTML page is written without charts: " << why << "\n";
    }
  }
  for (size_t i = 0; i < outputs.size(); ++i) {
    write_file_atomically(outputs[i].path, renderers[i](files));
    std::cout << "aicbench: wrote " << outputs[i].path.string() << "\n";
  }
  if (outputs.empty()) std::cout << reports::render_markdown(files);
  return 0;
}

}  // namespace

std::vector<Command> report_commands() {
  return {
      {"report", "turn result files into a Markdown summary, an HTML page with charts, CSV and JUnit XML", report_command},
      {"compare", "the regression gate: BASELINE... -- CURRENT..., exit 1 on a significant slowdown or a new failure",
       compare_command},
      {"accept", "acceptance verdicts per GPU and per node against a spec (specs/acceptance/), JUnit; exit 1 on failure",
       accept_command},
      {"fleet", "outlier GPUs and nodes of a fleet, with the reason (slow, failing, hot, throttled, missing, odd "
                "provenance); exit 1 when a node stands out",
       fleet_command},
      {"history", "the record of all results in SQLite: add, trend, baselines for compare", history_command},
      {"model", "collective: all-reduce and friends at up to 10,000+ GPUs, per parallel group, from alpha-beta terms "
                "fitted to result files (--validate: the error on held-out runs)",
       model_command},
      {"size", "training on N GPUs of each candidate from its measured results: step time and where it goes, MFU, days, "
               "GPUs for a deadline, energy (docs/sizing.md)",
       size_command},
      {"score", "procurement scorecard of candidate GPUs: performance index, per watt, per won of purchase and TCO, what "
                "the budget buys (--candidates FILE)",
       score_command},
  };
}

}  // namespace aicbench::cli
