// aicbench score --candidates FILE [--profile NAME|FILE] [--reference NAME] [--impls best|vendor]
//                [--md F] [--html F] [--json F]
// The procurement scorecard (reports/score.hpp, docs/score.md): exit 0 with the scorecard, 2 for a
// bad candidates file, profile, result file or option.
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "reports/cli_common.hpp"
#include "reports/gnuplot.hpp"
#include "reports/output_paths.hpp"
#include "reports/result_file.hpp"
#include "reports/score.hpp"
#include "reports/score_render.hpp"

namespace aicbench::cli {

namespace {

namespace fs = std::filesystem;

// The training capacity column's source: the sizing model (reports/sizing.hpp), once it is
// merged. Until then the column says that it is not wired. The lead wires it here: a function of
// the candidate, its loaded result files, the GPUs the budget buys and the candidates file's
// training.model that returns score::TrainingCapacity (docs/score.md, "Training capacity").
score::TrainingCapacityFn training_capacity_source() { return {}; }

}  // namespace

int score_command(int argc, char** argv) {
  cxxopts::Options options(
      "aicbench score",
      "Procurement scorecard: candidate GPUs (a candidates file: offers, prices, their result files, the centre's budget "
      "and running costs, a weight profile) on a performance index against a reference, per kW, per won of purchase and "
      "of total cost of ownership, and what the budget buys. Every figure names the result rows and assumptions it came "
      "from (docs/score.md).");
  options.add_options()
      ("candidates", "the candidates file (e.g. specs/procurement/example.json; docs/candidates.schema.json)",
       cxxopts::value<std::string>())
      ("profile", "weight profile instead of the file's: a name (training-heavy, inference-heavy, mixed) or a .json path",
       cxxopts::value<std::string>())
      ("reference", "the candidate whose results are 1 (default: the file's reference, else the first)",
       cxxopts::value<std::string>())
      ("impls", "which implementation stands for a benchmark: best (the fastest valid, ours or the vendor's) or vendor",
       cxxopts::value<std::string>()->default_value("best"))
      ("md", "write the Markdown scorecard here (without any output option it goes to stdout)", cxxopts::value<std::string>())
      ("html", "write an HTML page with charts here", cxxopts::value<std::string>())
      ("json", "write everything as JSON here ('-': to stdout)", cxxopts::value<std::string>());
  auto parsed = parse_options(options, argc, argv);
  if (!parsed) return 0;
  if (!parsed->count("candidates")) {
    throw InputError("score needs --candidates FILE (a candidates file, e.g. specs/procurement/example.json)");
  }
  score::ScoreOptions score_options;
  const std::string impls = (*parsed)["impls"].as<std::string>();
  if (impls == "best") {
    score_options.impls = score::ImplRule::best;
  } else if (impls == "vendor") {
    score_options.impls = score::ImplRule::vendor;
  } else {
    throw InputError("--impls is '" + impls + "', expected best or vendor");
  }
  if (parsed->count("reference")) score_options.reference = (*parsed)["reference"].as<std::string>();
  score_options.training_capacity = training_capacity_source();

  const fs::path candidates_path = (*parsed)["candidates"].as<std::string>();
  const std::string profile = parsed->count("profile") ? (*parsed)["profile"].as<std::string>() : "";
  const score::CandidatesFile input = score::load_candidates(candidates_path, profile);

  // Outputs are checked before anything is written: writing over an input would destroy the evidence.
  std::vector<reports::OutputPath> outputs;
  bool json_to_stdout = false;
  for (const char* format : {"md", "html", "json"}) {
    if (!parsed->count(format)) continue;
    const std::string path = (*parsed)[format].as<std::string>();
    if (std::string(format) == "json" && path == "-") {
      json_to_stdout = true;
      continue;
    }
    outputs.push_back({std::string("--") + format, path});
  }
  std::vector<fs::path> inputs = {candidates_path, input.profile.path};
  for (const score::CandidateSpec& c : input.candidates) inputs.insert(inputs.end(), c.files.begin(), c.files.end());
  reports::check_output_paths(inputs, outputs);

  std::vector<std::vector<ResultFile>> results;
  for (const score::CandidateSpec& c : input.candidates) {
    std::vector<ResultFile>& files = results.emplace_back();
    for (const fs::path& path : c.files) files.push_back(load_result_file(path));
  }
  const score::Scorecard card = score::compute_scorecard(input, results, score_options);

  for (const reports::OutputPath& output : outputs) {
    const std::string text = output.option == "--md"     ? score::render_markdown(card)
                             : output.option == "--html" ? score::render_html(card, reports::gnuplot_drawer())
                                                         : score::render_json(card);
    write_file_atomically(output.path, text);
  }
  if (json_to_stdout) {
    std::cout << score::render_json(card);
  } else if (outputs.empty()) {
    std::cout << score::render_markdown(card);
  }
  if (!outputs.empty()) {
    std::ostream& log = json_to_stdout ? std::cerr : std::cout;
    log << score::summary_line(card) << "\n";
    for (const reports::OutputPath& output : outputs) log << "aicbench: wrote " << output.path.string() << "\n";
  }
  return 0;
}

}  // namespace aicbench::cli
