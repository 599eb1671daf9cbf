// The commands that read result files only, in both the full and the reports-only binary:
//   aicbench report RESULTS... [--md F] [--html F]
//   aicbench history add|trend|baseline --db F ...   (reports/history_command.cpp)
#include <iostream>
#include <string>
#include <vector>

#include "reports/cli_common.hpp"
#include "reports/history.hpp"
#include "reports/report.hpp"
#include "reports/result_file.hpp"

namespace aicbench::cli {
namespace {

int report_command(int argc, char** argv) {
  cxxopts::Options options("aicbench report", "Markdown summary and a self-contained HTML page from result files.");
  options.positional_help("RESULTS...");
  options.add_options()
      ("md", "write the Markdown summary here", cxxopts::value<std::string>())
      ("html", "write the HTML page (tables and charts) here", cxxopts::value<std::string>())
      ("results", "result files", cxxopts::value<std::vector<std::string>>());
  options.parse_positional({"results"});
  auto parsed = parse_options(options, argc, argv);
  if (!parsed) return 0;
  if (!parsed->count("results")) throw InputError("report needs at least one result file\n" + options.help());

  std::vector<ResultFile> files;
  for (const std::string& path : (*parsed)["results"].as<std::vector<std::string>>()) {
    files.push_back(load_result_file(path));
  }
  const std::string markdown = reports::render_markdown(files);
  bool wrote = false;
  if (parsed->count("md")) {
    write_file_atomically((*parsed)["md"].as<std::string>(), markdown);
    std::cout << "aicbench: wrote " << (*parsed)["md"].as<std::string>() << "\n";
    wrote = true;
  }
  if (parsed->count("html")) {
    write_file_atomically((*parsed)["html"].as<std::string>(), reports::render_html(files));
    std::cout << "aicbench: wrote " << (*parsed)["html"].as<std::string>() << "\n";
    wrote = true;
  }
  if (!wrote) std::cout << markdown;
  return 0;
}

}  // namespace

std::vector<Command> report_commands() {
  return {
      {"report", "turn result files into a Markdown summary and an HTML page with charts", report_command},
      {"history", "the record of all results in SQLite: add, trend, baselines for compare", history_command},
  };
}

}  // namespace aicbench::cli
