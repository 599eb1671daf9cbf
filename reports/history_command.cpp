// The command line of `aicbench history` (reports/history.hpp does the work):
//   aicbench history add      --db F [--busy-timeout S] RESULTS...
//   aicbench history trend    --db F --filter RE [--node N] [--md F] [--html F] [--csv F]
//   aicbench history baseline --db F --last N --out DIR [--filter RE] [--node N] [--suite S] [--before T]
#include <iostream>
#include <string>
#include <vector>

#include "reports/cli_common.hpp"
#include "reports/history.hpp"
#include "reports/output_paths.hpp"

namespace aicbench::cli {
namespace {

namespace fs = std::filesystem;

constexpr const char* kUsage =
    "usage: aicbench history <add|trend|baseline> --db F [options]\n"
    "\n"
    "  add       record result files in the database (created when missing); a file already\n"
    "            recorded is not added again\n"
    "  trend     a time series per benchmark and GPU, with the runs where compare finds a change\n"
    "  baseline  export the last N runs of each GPU as result files, a baseline for 'aicbench compare'\n"
    "\n"
    "'aicbench history <subcommand> --help' shows its options; docs/history.md the schema and flows.\n";

std::optional<std::string> optional_text(const cxxopts::ParseResult& parsed, const char* name) {
  if (!parsed.count(name)) return std::nullopt;
  return parsed[name].as<std::string>();
}

std::string required_text(const cxxopts::ParseResult& parsed, const char* name, const cxxopts::Options& options) {
  if (!parsed.count(name)) throw InputError(std::string("--") + name + " is required\n" + options.help());
  return parsed[name].as<std::string>();
}

int add(int argc, char** argv) {
  cxxopts::Options options("aicbench history add", "Record result files in the history database.");
  options.positional_help("RESULTS... (files, or directories of *.json)");
  options.add_options()
      ("db", "the database (SQLite; created when missing)", cxxopts::value<std::string>())
      ("busy-timeout", "seconds to wait for other writers before giving up (exit 3)",
       cxxopts::value<double>()->default_value(std::to_string(static_cast<int>(history::kDefaultBusyTimeoutS))))
      ("results", "result files or directories of them", cxxopts::value<std::vector<std::string>>());
  options.parse_positional({"results"});
  auto parsed = parse_options(options, argc, argv);
  if (!parsed) return 0;
  const fs::path db = required_text(*parsed, "db", options);
  if (!parsed->count("results")) throw InputError("history add needs at least one result file\n" + options.help());
  const std::vector<fs::path> files = expand_result_paths((*parsed)["results"].as<std::vector<std::string>>());
  reports::check_output_paths(files, {{"--db", db}});  // a result file is never written over
  history::AddOptions add_options;
  add_options.busy_timeout_s = (*parsed)["busy-timeout"].as<double>();
  if (!(add_options.busy_timeout_s >= 0)) throw InputError("--busy-timeout must be 0 or more seconds");

  const history::AddReport report = history::add_runs(db, files, add_options);
  size_t added = 0;
  for (const history::AddedRun& run : report.runs) {
    std::cout << (run.added ? "added     run " : "recorded  run ") << run.run_id << " (" << run.results << " rows)  "
              << run.path.string() << (run.added ? "" : "  (this file was already recorded)") << "\n";
    added += run.added;
  }
  std::cout << "aicbench history: " << added << " run(s) added, " << report.runs.size() - added
            << " already recorded, in " << db.string() << "\n";
  if (report.network_file_system) {
    std::cerr << "aicbench history: note: " << db.string() << " is on a network file system: journal mode '"
              << report.journal_mode << "' (WAL needs every writer on one host); see docs/history.md\n";
  }
  return 0;
}

int trend(int argc, char** argv) {
  cxxopts::Options options("aicbench history trend",
                           "A time series per benchmark and GPU from the history database; Markdown on stdout by default.");
  options.add_options()
      ("db", "the database", cxxopts::value<std::string>())
      ("filter", "benchmarks whose name matches this RE2 regular expression (anywhere in the name)",
       cxxopts::value<std::string>())
      ("node", "only runs of this host", cxxopts::value<std::string>())
      ("md", "write the Markdown here", cxxopts::value<std::string>())
      ("html", "write an HTML page with a chart per benchmark here", cxxopts::value<std::string>())
      ("csv", "write one line per point here", cxxopts::value<std::string>());
  auto parsed = parse_options(options, argc, argv);
  if (!parsed) return 0;
  const fs::path db = required_text(*parsed, "db", options);
  history::TrendQuery query;
  query.filter = required_text(*parsed, "filter", options);
  query.node = optional_text(*parsed, "node");
  std::vector<reports::OutputPath> outputs;
  for (const char* output : {"md", "html", "csv"}) {
    if (parsed->count(output)) outputs.push_back({std::string("--") + output, (*parsed)[output].as<std::string>()});
  }
  reports::check_output_paths({db}, outputs);  // the record is never written over

  const history::Trend trend = history::history_trend(db, query, history::compare_change_detector());
  bool wrote = false;
  auto write = [&](const char* option, const std::string& content) {
    if (!parsed->count(option)) return;
    const std::string path = (*parsed)[option].as<std::string>();
    write_file_atomically(path, content);
    std::cout << "aicbench: wrote " << path << "\n";
    wrote = true;
  };
  write("md", history::render_trend_markdown(trend));
  if (parsed->count("html")) write("html", history::render_trend_html(trend));
  write("csv", history::render_trend_csv(trend));
  if (!wrote) std::cout << history::render_trend_markdown(trend);
  return 0;
}

int baseline(int argc, char** argv) {
  cxxopts::Options options("aicbench history baseline",
                           "Export the last N complete runs of each GPU as their original result files.");
  options.add_options()
      ("db", "the database", cxxopts::value<std::string>())
      ("last", "runs per GPU, the most recent ones", cxxopts::value<int>())
      ("out", "directory to write them into (created when missing; nothing in it is replaced)",
       cxxopts::value<std::string>())
      ("filter", "only runs with a benchmark whose name matches this RE2 regular expression",
       cxxopts::value<std::string>())
      ("node", "only runs of this host", cxxopts::value<std::string>())
      ("suite", "only runs of this suite", cxxopts::value<std::string>())
      ("before", "only runs started before this UTC time (2026-11-30T22:00:00Z or 2026-11-30)",
       cxxopts::value<std::string>());
  auto parsed = parse_options(options, argc, argv);
  if (!parsed) return 0;
  const fs::path db = required_text(*parsed, "db", options);
  const fs::path out = required_text(*parsed, "out", options);
  if (!parsed->count("last")) throw InputError("--last is required\n" + options.help());
  history::BaselineQuery query;
  query.last = (*parsed)["last"].as<int>();
  query.filter = optional_text(*parsed, "filter");
  query.node = optional_text(*parsed, "node");
  query.suite = optional_text(*parsed, "suite");
  query.before = optional_text(*parsed, "before");

  const std::vector<history::BaselineRun> runs = history::select_baseline(db, query);
  size_t already_there = 0;
  std::error_code ec;
  if (fs::is_directory(out, ec)) {
    for (const auto& entry : fs::directory_iterator(out, ec)) already_there += entry.path().extension() == ".json";
  }
  for (const history::ExportedRun& e : history::export_runs(db, runs, out)) {
    std::cout << "wrote " << e.path.string() << "  (run " << e.run.run_id << ", " << e.run.host << ", "
              << (e.run.gpu_uuid.empty() ? e.run.device_name : e.run.gpu_uuid) << ", " << e.run.start_time << ")\n";
  }
  std::cout << "aicbench history: " << runs.size() << " run(s) exported to " << out.string()
            << "; compare with: aicbench compare " << (out / "*.json").string() << " -- CURRENT...\n";
  if (already_there) {
    std::cerr << "aicbench history: note: " << out.string() << " already held " << already_there
              << " .json file(s); " << (out / "*.json").string() << " includes them too (use a fresh directory per baseline)\n";
  }
  return 0;
}

}  // namespace

int history_command(int argc, char** argv) {
  const std::string sub = argc > 1 ? argv[1] : "";
  if (sub == "-h" || sub == "--help" || sub == "help") {
    std::cout << kUsage;
    return 0;
  }
  if (sub == "add") return add(argc - 1, argv + 1);
  if (sub == "trend") return trend(argc - 1, argv + 1);
  if (sub == "baseline") return baseline(argc - 1, argv + 1);
  throw InputError((sub.empty() ? std::string("a subcommand is needed") : "unknown subcommand '" + sub + "'") + "\n" + kUsage);
}

}  // namespace aicbench::cli
