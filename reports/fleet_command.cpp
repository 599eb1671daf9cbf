// aicbench fleet RESULTS... [--md F] [--html F] [--csv F] [--json F] [--k-sigma K] [--slow-pct PCT] ...
// The outliers among a fleet's result files (reports/fleet.hpp); exit 1 when a node stands out.
#include <algorithm>
#include <filesystem>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "reports/cli_common.hpp"
#include "reports/fleet.hpp"
#include "reports/fleet_render.hpp"
#include "reports/gnuplot.hpp"
#include "reports/output_paths.hpp"
#include "reports/result_file.hpp"

namespace aicbench::cli {

namespace {

namespace fs = std::filesystem;

double positive(const cxxopts::ParseResult& parsed, const char* option, double upper) {
  const double v = parsed[option].as<double>();
  if (!(v > 0) || !(v < upper)) {
    std::ostringstream message;
    message << "--" << option << " is " << v << ", expected a number above 0 and below " << upper;
    throw InputError(message.str());
  }
  return v;
}

}  // namespace

int fleet_command(int argc, char** argv) {
  cxxopts::Options options("aicbench fleet",
                           "The GPUs and nodes that stand out from a fleet's result files, with the reason: slow, "
                           "failing, hot, throttled, missing, odd provenance. Exit 1 when a node stands out.");
  options.positional_help("RESULTS... (files, or directories of *.json)");
  options.add_options()
      ("md", "write the Markdown summary here (else it goes to stdout)", cxxopts::value<std::string>())
      ("html", "write an HTML page with a distribution chart per GPU model", cxxopts::value<std::string>())
      ("csv", "write one row per GPU and benchmark: value, z, flags", cxxopts::value<std::string>())
      ("json", "write everything as JSON", cxxopts::value<std::string>())
      ("k,k-sigma", "robust sigmas (1.4826 MAD) beyond which a value stands out", cxxopts::value<double>()->default_value("3.5"))
      ("slow-pct", "slow also needs this many percent below the median", cxxopts::value<double>()->default_value("5"))
      ("clock-pct", "a low SM clock also needs this many percent below the median", cxxopts::value<double>()->default_value("5"))
      ("max-temp", "hot above this temperature (C), whatever the fleet", cxxopts::value<double>()->default_value("85"))
      ("temp-margin", "hot against the fleet also needs this many C above the median", cxxopts::value<double>()->default_value("5"))
      ("sigma-floor-pct", "sigma is at least this percentage of the median", cxxopts::value<double>()->default_value("0.5"))
      ("min-gpus", "GPUs a distribution needs before anyone is judged by it", cxxopts::value<size_t>()->default_value("5"))
      ("results", "result files or directories", cxxopts::value<std::vector<std::string>>());
  options.parse_positional({"results"});
  auto parsed = parse_options(options, argc, argv);
  if (!parsed) return 0;
  if (!parsed->count("results")) throw InputError("fleet needs result files or directories\n" + options.help());

  fleet::FleetOptions o;
  o.k_sigma = positive(*parsed, "k-sigma", 1e6);
  o.slow_fraction = positive(*parsed, "slow-pct", 100) / 100;
  o.clock_fraction = positive(*parsed, "clock-pct", 100) / 100;
  o.max_temp_c = positive(*parsed, "max-temp", 1000);
  o.temp_margin_c = positive(*parsed, "temp-margin", 1000);
  o.sigma_floor = positive(*parsed, "sigma-floor-pct", 100) / 100;
  o.min_gpus = (*parsed)["min-gpus"].as<size_t>();
  if (o.min_gpus < 1) throw InputError("--min-gpus is 0, expected at least 1");

  const std::vector<fs::path> inputs = expand_result_paths((*parsed)["results"].as<std::vector<std::string>>());
  // Outputs are checked before anything is read: writing over an input would destroy the evidence.
  std::vector<reports::OutputPath> outputs;
  for (const char* format : {"md", "html", "csv", "json"}) {
    if (parsed->count(format)) outputs.push_back({std::string("--") + format, (*parsed)[format].as<std::string>()});
  }
  reports::check_output_paths(inputs, outputs);

  // One file at a time: only the compact records stay, so memory does not grow with bytes read.
  fleet::FleetCollector collector;
  for (const fs::path& input : inputs) collector.add(load_result_file(input));  // one file's JSON at a time
  const fleet::FleetReport report = fleet::analyse_fleet(collector, o);

  for (const reports::OutputPath& output : outputs) {
    const std::string text = output.option == "--md"     ? fleet::render_markdown(report)
                             : output.option == "--html" ? fleet::render_html(report, reports::gnuplot_drawer())
                             : output.option == "--csv"  ? fleet::render_csv(report)
                                                         : fleet::render_json(report);
    write_file_atomically(output.path, text);
    std::cout << "aicbench: wrote " << output.path.string() << "\n";
  }
  if (outputs.empty()) {
    std::cout << fleet::render_markdown(report);
  } else {
    std::cout << "aicbench fleet: " << report.outliers.size() << " of " << report.nodes.size()
              << " nodes stand out (" << report.outlier_gpus() << " GPUs named)\n";
  }
  return report.outliers.empty() ? 0 : 1;
}

}  // namespace aicbench::cli
