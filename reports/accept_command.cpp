// aicbench accept --spec SPEC RESULTS... [--md F] [--html F] [--json F] [--junit F]
// The contract check for every delivered node: exit 0 when every node passes, 1 when any fails,
// 2 for a bad spec, result file or option.
#include <filesystem>
#include <iostream>
#include <string>
#include <utility>
#include <vector>

#include "reports/accept.hpp"
#include "reports/accept_render.hpp"
#include "reports/cli_common.hpp"
#include "reports/result_file.hpp"

namespace aicbench::cli {
namespace {

namespace fs = std::filesystem;

// Two spellings of one file ("out.xml", "./out.xml", a symlink) are the same file.
bool same_file(const fs::path& a, const fs::path& b) {
  std::error_code ec;
  if (fs::equivalent(a, b, ec)) return true;
  return fs::weakly_canonical(a, ec) == fs::weakly_canonical(b, ec) && !ec;
}

}  // namespace

int accept_command(int argc, char** argv) {
  cxxopts::Options options("aicbench accept",
                           "Acceptance verdicts per GPU and per node: result files checked against an acceptance spec's "
                           "clauses (specs/acceptance/*.json). Exit 0 when every node passes, 1 when any fails.");
  options.positional_help("RESULTS...");
  options.add_options()
      ("spec", "the acceptance spec (e.g. specs/acceptance/h100_sxm.json)", cxxopts::value<std::string>())
      ("md", "write the Markdown summary here", cxxopts::value<std::string>())
      ("html", "write an HTML page of the verdict here", cxxopts::value<std::string>())
      ("json", "write the verdict as JSON here", cxxopts::value<std::string>())
      ("junit", "write JUnit XML here: a testsuite per node, a testcase per clause and GPU", cxxopts::value<std::string>())
      ("results", "result files, from any number of nodes", cxxopts::value<std::vector<std::string>>());
  options.parse_positional({"results"});
  auto parsed = parse_options(options, argc, argv);
  if (!parsed) return 0;
  if (!parsed->count("spec")) throw InputError("accept needs --spec SPEC (an acceptance spec, e.g. specs/acceptance/h100_sxm.json)");
  if (!parsed->count("results")) throw InputError("accept needs at least one result file\n" + options.help());
  const fs::path spec_path = (*parsed)["spec"].as<std::string>();
  const std::vector<std::string> results = (*parsed)["results"].as<std::vector<std::string>>();

  // Outputs are checked before anything is read: writing over an input would destroy the evidence.
  std::vector<std::pair<std::string, fs::path>> outputs;
  for (const char* format : {"md", "html", "json", "junit"}) {
    if (parsed->count(format)) outputs.emplace_back(format, (*parsed)[format].as<std::string>());
  }
  for (size_t i = 0; i < outputs.size(); ++i) {
    const auto& [format, path] = outputs[i];
    if (same_file(path, spec_path)) throw InputError("--" + format + " " + path.string() + " is the spec itself; choose another output file");
    for (const std::string& input : results) {
      if (same_file(path, input)) throw InputError("--" + format + " " + path.string() + " is one of the result files; choose another output file");
    }
    for (size_t k = 0; k < i; ++k) {
      if (same_file(path, outputs[k].second)) {
        throw InputError("--" + format + " and --" + outputs[k].first + " both name " + path.string());
      }
    }
  }

  const accept::Spec spec = accept::load_spec(spec_path);
  accept::Measurements measurements;
  for (const std::string& path : results) measurements.add(load_result_file(path));  // one file's JSON at a time
  const accept::Verdict verdict = measurements.evaluate(spec);

  for (const auto& [format, path] : outputs) {
    const std::string text = format == "md"     ? accept::render_markdown(spec, verdict)
                             : format == "html" ? accept::render_html(spec, verdict)
                             : format == "json" ? accept::render_json(spec, verdict)
                                                : accept::render_junit(spec, verdict);
    write_file_atomically(path, text);
  }
  if (outputs.empty()) {
    std::cout << accept::render_markdown(spec, verdict);
  } else {
    std::cout << accept::summary_line(spec, verdict) << "\n";
    for (const auto& [format, path] : outputs) std::cout << "aicbench: wrote " << path.string() << "\n";
  }
  return verdict.passed() && !verdict.nodes.empty() ? 0 : 1;
}

}  // namespace aicbench::cli
