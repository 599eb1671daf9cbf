#include "reports/cli_common.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <exception>
#include <filesystem>
#include <iostream>
#include <sstream>

#include "reports/build_info.hpp"
#include "reports/result_file.hpp"
#include "reports/text_format.hpp"

namespace aicbench::cli {
namespace {

// Commands that need the GPU libraries: the reports-only build names them to say where they are.
constexpr const char* kFullBuildOnlyCommands[] = {"info", "list", "run"};

std::string usage(const std::vector<Command>& commands, BuildKind kind) {
  size_t width = 0;
  for (const Command& c : commands) width = std::max(width, c.name.size());
  std::ostringstream os;
  os << "usage: aicbench <command> [options]\n"
     << "\n"
     << "commands:\n";
  for (const Command& c : commands) {
    os << "  " << c.name << std::string(width - c.name.size() + 3, ' ') << c.summary << "\n";
  }
  os << "\n"
     << "'aicbench <command> --help' shows a command's options; 'aicbench --version' the version.\n";
  if (kind == BuildKind::reports_only) {
    os << "This is the reports-only build: it reads result files; running benchmarks needs the full build.\n";
  }
  return os.str();
}

bool needs_full_build(const std::string& name) {
  return std::find(std::begin(kFullBuildOnlyCommands), std::end(kFullBuildOnlyCommands), name) !=
         std::end(kFullBuildOnlyCommands);
}

}  // namespace

std::optional<cxxopts::ParseResult> parse_options(cxxopts::Options& options, int argc, char** argv) {
  options.add_options()("h,help", "show this help");
  auto result = options.parse(argc, argv);
  if (result.count("help")) {
    std::cout << options.help() << "\n";
    return std::nullopt;
  }
  if (!result.unmatched().empty()) {
    throw cxxopts::exceptions::exception("unexpected argument '" + result.unmatched().front() + "'");
  }
  return result;
}

int64_t parse_integer(const std::string& option, const std::string& text, int64_t min, int64_t max) {
  int64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value < min || value > max) {
    throw InputError("--" + option + " " + text + ": expected a whole number from " + std::to_string(min) + " to " +
                     std::to_string(max));
  }
  return value;
}

double parse_number(const std::string& option, const std::string& text, double min, double max, bool min_exclusive) {
  double value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  const bool low = min_exclusive ? !(value > min) : !(value >= min);
  if (error != std::errc() || end != text.data() + text.size() || !std::isfinite(value) || low || value > max) {
    throw InputError("--" + option + " " + text + ": expected a number " + (min_exclusive ? "above " : "from ") +
                     reports::sig3(min) + (min_exclusive ? ", at most " : " to ") + reports::sig3(max));
  }
  return value;
}

std::vector<std::filesystem::path> expand_result_paths(const std::vector<std::string>& arguments) {
  namespace fs = std::filesystem;
  std::vector<fs::path> paths;
  for (const std::string& argument : arguments) {
    std::error_code ec;
    if (!fs::is_directory(argument, ec)) {
      paths.emplace_back(argument);
      continue;
    }
    std::vector<fs::path> found;
    for (const auto& entry : fs::directory_iterator(argument, ec)) {
      if (entry.path().extension() == ".json") found.push_back(entry.path());
    }
    if (ec) throw InputError(argument + ": cannot list the directory: " + ec.message());
    if (found.empty()) throw InputError(argument + ": a directory without result files (*.json)");
    std::sort(found.begin(), found.end());
    paths.insert(paths.end(), found.begin(), found.end());
  }
  return paths;
}

std::string command_line_as_typed(int argc, char** argv) {
  std::string line;
  for (int i = 0; i < argc; ++i) {
    if (i) line += ' ';
    line += argv[i];
  }
  return line;
}

std::string version_text(BuildKind kind) {
  const BuildInfo& build = build_info();
  std::ostringstream os;
  os << "aicbench " << build.version << "\n"
     << "commit " << build.git_commit << (build.git_dirty ? " (with uncommitted changes)" : "") << "\n"
     << (kind == BuildKind::full ? "full build: runs benchmarks (CUDA and CPU) and reads result files\n"
                                 : "reports-only build: reads result files; no CUDA\n");
  return os.str();
}

int run_cli(int argc, char** argv, const std::vector<Command>& commands, BuildKind kind) {
  if (argc < 2) {
    std::cerr << usage(commands, kind);
    return 2;
  }
  const std::string name = argv[1];
  if (name == "-h" || name == "--help" || name == "help") {
    std::cout << usage(commands, kind);
    return 0;
  }
  if (name == "--version" || name == "version") {
    std::cout << version_text(kind);
    return 0;
  }
  const auto command = std::find_if(commands.begin(), commands.end(),
                                    [&](const Command& c) { return c.name == name; });
  if (command == commands.end()) {
    if (kind == BuildKind::reports_only && needs_full_build(name)) {
      std::cerr << "aicbench " << name << ": not in this build. This is the reports-only build of aicbench, "
                << "which reads result files and needs no CUDA. '" << name << "' needs the full build "
                << "(cmake --preset dev, with the CUDA toolkit installed).\n";
    } else {
      std::cerr << "aicbench: unknown command '" << name << "'\n\n" << usage(commands, kind);
    }
    return 2;
  }
  try {
    return command->run(argc - 1, argv + 1);
  } catch (const InputError& e) {
    std::cerr << "aicbench " << name << ": " << e.what() << "\n";
    return e.exit_code();
  } catch (const cxxopts::exceptions::exception& e) {
    std::cerr << "aicbench " << name << ": " << e.what() << "\n(see 'aicbench " << name << " --help')\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "aicbench " << name << ": " << e.what() << "\n";
    return 1;
  }
}

}  // namespace aicbench::cli
