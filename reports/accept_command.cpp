// aicbench accept --spec SPEC RESULTS... [--md F] [--html F] [--json F] [--junit F]
// The contract check for every delivered node: exit 0 when every node passes, 1 when any fails,
// 2 for a bad spec, result file or option.
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "reports/accept.hpp"
#include "reports/accept_render.hpp"
#include "reports/cli_common.hpp"
#include "reports/output_paths.hpp"
#include "reports/result_file.hpp"

namespace aicbench::cli {

namespace fs = std::filesystem;

int accept_command(int argc, char** argv) {
  cxxopts::Options options("aicbench accept",
                           "Acceptance verdicts per GPU and per node: result files checked against an acceptance spec's "
                           "clauses (specs/acceptance/*.json). Exit 0 when every node passes, 1 when any fails.");
  options.positional_help("RESULTS... (files, or directories of *.json)");
  options.add_options()
      ("spec", "the acceptance spec (e.g. specs/acceptance/h100_sxm.json)", cxxopts::value<std::string>())
      ("md", "write the Markdown summary here", cxxopts::value<std::string>())
      ("html", "write an HTML page of the verdict here", cxxopts::value<std::string>())
      ("json", "write the verdict as JSON here", cxxopts::value<std::string>())
      ("junit", "write JUnit XML here: a testsuite per node, a testcase per clause and GPU", cxxopts::value<std::string>())
      ("results", "result files or directories of them, from any number of nodes", cxxopts::value<std::vector<std::string>>());
  options.parse_positional({"results"});
  auto parsed = parse_options(options, argc, argv);
  if (!parsed) return 0;
  if (!parsed->count("spec")) throw InputError("accept needs --spec SPEC (an acceptance spec, e.g. specs/acceptance/h100_sxm.json)");
  if (!parsed->count("results")) throw InputError("accept needs at least one result file\n" + options.help());
  const fs::path spec_path = (*parsed)["spec"].as<std::string>();
  const std::vector<fs::path> results = expand_result_paths((*parsed)["results"].as<std::vector<std::string>>());

  // Outputs are checked before anything is read: writing over an input would destroy the evidence.
  std::vector<reports::OutputPath> outputs;
  for (const char* format : {"md", "html", "json", "junit"}) {
    if (parsed->count(format)) outputs.push_back({std::string("--") + format, (*parsed)[format].as<std::string>()});
  }
  std::vector<fs::path> inputs = {spec_path};
  inputs.insert(inputs.end(), results.begin(), results.end());
  reports::check_output_paths(inputs, outputs);

  const accept::Spec spec = accept::load_spec(spec_path);
  accept::Measurements measurements;
  for (const fs::path& path : results) measurements.add(load_result_file(path));  // one file's JSON at a time
  const accept::Verdict verdict = measurements.evaluate(spec);

  for (const reports::OutputPath& output : outputs) {
    const std::string text = output.option == "--md"     ? accept::render_markdown(spec, verdict)
                             : output.option == "--html" ? accept::render_html(spec, verdict)
                             : output.option == "--json" ? accept::render_json(spec, verdict)
                                                         : accept::render_junit(spec, verdict);
    write_file_atomically(output.path, text);
  }
  if (outputs.empty()) {
    std::cout << accept::render_markdown(spec, verdict);
  } else {
    std::cout << accept::summary_line(spec, verdict) << "\n";
    for (const reports::OutputPath& output : outputs) std::cout << "aicbench: wrote " << output.path.string() << "\n";
  }
  return verdict.passed() && !verdict.nodes.empty() ? 0 : 1;
}

}  // namespace aicbench::cli
