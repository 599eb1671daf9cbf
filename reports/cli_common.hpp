#pragma once
// What every aicbench binary's command line shares: the full one (harness/cli.cpp: info, list, run
// and the report commands) and the reports-only one (reports/reports_main.cpp: report commands
// only, built without CUDA). A command is a row in a table; run_cli() turns argv into a call of
// one row, prints usage and the version, and maps exceptions to the exit codes of the contract:
//   0 success, 1 a check failed, 2 bad usage or input, 3 environment.
// CUDA-free: the reports-only build compiles this file.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <cxxopts.hpp>

namespace aicbench::cli {

// One subcommand. `run` sees argv from the command's name on (argv[0] == name), so cxxopts'
// help and errors name the command; it returns the exit code, or throws (see run_cli).
struct Command {
  std::string name;
  std::string summary;  // one line, for the usage text
  std::function<int(int argc, char** argv)> run;
};

// Which binary this is: said by --version, and by the reports-only one when asked for a
// command that needs CUDA.
enum class BuildKind { full, reports_only };

// Adds -h/--help to `options` and parses. Prints the help and returns nullopt when --help was
// given; throws a cxxopts exception (exit 2) for an argument no option or positional takes.
std::optional<cxxopts::ParseResult> parse_options(cxxopts::Options& options, int argc, char** argv);

// An option's value as a whole number in [min, max], or a finite number from min (or above it,
// with min_exclusive) to max; anything else is InputError (exit 2) naming --option, the text and
// the range.
int64_t parse_integer(const std::string& option, const std::string& text, int64_t min, int64_t max);
double parse_number(const std::string& option, const std::string& text, double min, double max, bool min_exclusive);

// Result files as named on a command line: a directory stands for the result files (*.json)
// directly in it, in name order, so that a fleet's 1,250 node files are one argument; anything
// else stands for itself. A directory that cannot be listed or holds no *.json is InputError.
std::vector<std::filesystem::path> expand_result_paths(const std::vector<std::string>& arguments);

// The whole command line as typed, program path included: what a result file's provenance records.
std::string command_line_as_typed(int argc, char** argv);

// The commands that read result files only: `report`, `compare`, `accept`, `fleet`, `history`,
// `model`, `size`, `score` (CUDA-free, in both binaries).
std::vector<Command> report_commands();

// `aicbench accept` (reports/accept_command.cpp).
int accept_command(int argc, char** argv);

// `aicbench compare` (reports/compare_command.cpp).
int compare_command(int argc, char** argv);

// `aicbench fleet` (reports/fleet_command.cpp).
int fleet_command(int argc, char** argv);

// `aicbench history add|trend|baseline` (reports/history_command.cpp).
int history_command(int argc, char** argv);

// `aicbench model collective` (reports/model_command.cpp).
int model_command(int argc, char** argv);

// `aicbench size` (reports/size_command.cpp).
int size_command(int argc, char** argv);
// `aicbench score --candidates FILE` (reports/score_command.cpp).
int score_command(int argc, char** argv);

// Dispatches argv[1] to its command. `aicbench`, `aicbench help|-h|--help` print usage;
// `aicbench version|--version` print the version. Exceptions become exit codes: InputError ->
// its own code, cxxopts errors -> 2, anything else -> 1; each message starts "aicbench <command>:".
int run_cli(int argc, char** argv, const std::vector<Command>& commands, BuildKind kind);

// What `aicbench --version` prints: version, git commit (and whether the tree had uncommitted
// changes), and which build this is.
std::string version_text(BuildKind kind);

}  // namespace aicbench::cli
