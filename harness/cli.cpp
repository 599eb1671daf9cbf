// The aicbench command line (docs/command-line.md):
//   aicbench info [--json]
//   aicbench list [--suite S]
//   aicbench run [--suite S] [--backend auto|cuda|cpu] [--filter RE] [--out DIR] [--mode M]
//                [--min-samples N] [--min-time S] [--max-noise PCT] [--timeout S] [--repetitions N]
// plus the commands that read result files only (reports/report_command.cpp) and --version.
// Dispatch, usage and exit codes (0 success, 1 a check failed, 2 bad usage or input, 3 environment)
// are shared with the reports-only binary: reports/cli_common.hpp.
#include <algorithm>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <cxxopts.hpp>

#include "collectives/mpi_job.hpp"
#include "harness/benchmark.hpp"
#include "harness/health.hpp"
#include "harness/provenance.hpp"
#include "harness/runner.hpp"
#include "harness/specs.hpp"
#include "harness/telemetry.hpp"
#include "reports/cli_common.hpp"
#include "reports/model_collective.hpp"
#include "reports/result_file.hpp"

namespace aicbench {
namespace {

using cli::parse_options;

int cmd_info(int argc, char** argv) {
  cxxopts::Options options("aicbench info", "Devices, driver and library versions: what result files record.");
  options.add_options()("json", "print JSON for machines");
  auto parsed = parse_options(options, argc, argv);
  if (!parsed) return 0;
  const DeviceProbe probe = probe_devices();
  nlohmann::json prov = collect_provenance(probe);
  record_health(prov, "info");
  // Every GPU's power limit and clock policy; context-level telemetry is GPU 0's (as `run` records
  // the GPU it measures).
  for (size_t i = probe.gpus.size(); i-- > 0;) {
    const GpuTelemetry t = open_gpu_telemetry(probe.gpus[i].pci_bus_id);
    record_telemetry(prov, t, i);
    prov["gpus"][i]["telemetry"] = t.provenance;
  }
  if (!probe.available()) record_telemetry(prov, no_gpu_telemetry("no GPU"));
  if ((*parsed)["json"].as<bool>()) {
    std::cout << prov.dump(2) << "\n";
  } else {
    std::cout << format_provenance(prov);
  }
  return 0;
}

int cmd_list(int argc, char** argv) {
  cxxopts::Options options("aicbench list", "Every benchmark, and whether it is supported here (and why not).");
  options.add_options()("suite", "only this suite: a name from specs/suites/ or a suite file's path",
                        cxxopts::value<std::string>());
  auto parsed = parse_options(options, argc, argv);
  if (!parsed) return 0;
  std::vector<std::string> suites = available_suites();
  if (parsed->count("suite")) suites = {(*parsed)["suite"].as<std::string>()};
  const DeviceProbe probe = probe_devices();
  for (const std::string& name : suites) {
    const Suite suite = load_suite_argument(name);
    std::cout << "suite " << suite.name << " (version " << suite.version << "): " << suite.description << "\n";
    for (Backend backend : {Backend::cuda, Backend::cpu}) {
      const std::vector<BenchmarkSpec> specs = suite.benchmarks(backend);
      if (specs.empty()) continue;
      std::vector<std::optional<std::string>> reasons;
      for (const BenchmarkSpec& spec : specs) {
        reasons.push_back(find_implementation(spec.family, spec.impl)->unsupported_reason(spec, probe));
      }
      // One reason for the whole backend (typically: no GPU) is said once, not on every line.
      const bool shared = std::all_of(reasons.begin(), reasons.end(),
                                      [&](const auto& r) { return r && r == reasons.front(); });
      std::cout << "  " << to_string(backend) << " backend"
                << (shared ? ": not supported here: " + *reasons.front() : std::string(":")) << "\n";
      for (size_t i = 0; i < specs.size(); ++i) {
        std::cout << "    " << (reasons[i] ? "no   " : "yes  ") << specs[i].name();
        if (reasons[i] && !shared) std::cout << "  (" << *reasons[i] << ")";
        if (specs[i].min_ranks > 1) std::cout << "  (only in a job of " << specs[i].min_ranks << " ranks or more)";
        std::cout << "\n";
      }
    }
  }
  return 0;
}

// Defaults for the help text: 0.5, not 0.500000.
std::string number(double value) {
  std::ostringstream os;
  os << value;
  return os.str();
}
std::string suite_default(double value) { return " (default: the suite's, else " + number(value) + ")"; }

int cmd_run(int argc, char** argv, const std::string& command_line) {
  const StoppingRule rule;  // the defaults a suite may override
  cxxopts::Options options("aicbench run", "Validate and time a suite's benchmarks; write a result file.");
  options.add_options()
      ("suite", "suite to run: a name (see 'aicbench list') or the path of a suite file of your own (with a '/' "
       "or ending in .json)", cxxopts::value<std::string>()->default_value("quick"))
      ("backend", "auto | cuda | cpu; auto picks cuda when a GPU is usable", cxxopts::value<std::string>()->default_value("auto"))
      ("filter", "only benchmarks whose name contains a match of this RE2 regular expression",
       cxxopts::value<std::string>())
      ("out", "directory for the result file", cxxopts::value<std::string>()->default_value("results"))
      ("mode", "cold (caches flushed before every sample), hot (back-to-back runs) or both; default: the suite's",
       cxxopts::value<std::string>())
      ("min-samples", "stopping rule: at least this many samples" + suite_default(rule.min_samples),
       cxxopts::value<int>())
      ("min-time", "stopping rule: at least this many seconds of measured time" + suite_default(rule.min_time_s),
       cxxopts::value<double>())
      ("max-noise", "stopping rule: stop once the relative standard deviation is under this, in percent" +
       suite_default(100 * rule.max_noise), cxxopts::value<double>())
      ("timeout", "stopping rule: wall-clock seconds of sampling per benchmark at most, after a warm-up of at "
       "most min(2 s, this)" + suite_default(rule.timeout_s), cxxopts::value<double>())
      ("throttle-threshold", "discard samples taken while the SM clock is below this fraction of its maximum "
       "(default " + number(MeasureConfig{}.throttle_threshold) + ")", cxxopts::value<double>())
      ("repetitions", "repeat every benchmark N times (at most " + std::to_string(kMaxRepetitions) +
       "), in random interleaved order, for statistical comparison", cxxopts::value<int>()->default_value("1"))
      ("no-blocking-kernel", "do not hold the stream while a sample is queued (for compute-sanitizer, which "
       "completes every launch before returning)")
      ("device", "the GPU a single process measures (CUDA device number, after CUDA_VISIBLE_DEVICES); under "
       "mpirun or srun each rank takes its node-local GPU instead (default: 0, or the local rank)",
       cxxopts::value<int>())
      ("allow-shared-gpu", "let several ranks of a node run on one GPU (more ranks than GPUs), e.g. to test "
       "collectives between processes on a one-GPU machine")
      ("job-timeout", "seconds a rank waits for the others at a barrier or gathering, and a benchmark may run, "
       "before the job is stopped naming the missing ranks (default: 2 x the stopping rule's timeout + 60)",
       cxxopts::value<double>())
      ("max-bytes", "collectives: the largest size (bytes, or with a binary suffix as nccl-tests' -e takes it: 64K, "
       "1M, 8G); every range of sizes in the suite ends here (e.g. the collectives suite's 8 B doubling sweep)",
       cxxopts::value<std::string>())
      ("console", "aicbench (one line per result) or nccl-tests (collective results in nccl-tests' own columns, "
       "to compare line by line with all_reduce_perf and friends)",
       cxxopts::value<std::string>()->default_value("aicbench"));
  auto parsed = parse_options(options, argc, argv);
  if (!parsed) return 0;
  // Values are checked by the runner (check_run_options), so that tests see the same rules.
  RunOptions run;
  run.suite = (*parsed)["suite"].as<std::string>();
  run.backend = (*parsed)["backend"].as<std::string>();
  if (parsed->count("filter")) run.filter = (*parsed)["filter"].as<std::string>();
  run.out_dir = (*parsed)["out"].as<std::string>();
  if (parsed->count("mode")) {
    const std::string mode = (*parsed)["mode"].as<std::string>();
    if (mode == "both") {
      run.modes = std::vector<MeasureMode>{MeasureMode::cold, MeasureMode::hot};
    } else if (auto parsed_mode = parse_measure_mode(mode)) {
      run.modes = std::vector<MeasureMode>{*parsed_mode};
    } else {
      throw InputError("unknown --mode '" + mode + "'; valid modes: cold, hot, both");
    }
  }
  if (parsed->count("min-samples")) run.min_samples = (*parsed)["min-samples"].as<int>();
  if (parsed->count("min-time")) run.min_time_s = (*parsed)["min-time"].as<double>();
  if (parsed->count("max-noise")) run.max_noise = (*parsed)["max-noise"].as<double>() / 100.0;
  if (parsed->count("timeout")) run.timeout_s = (*parsed)["timeout"].as<double>();
  if (parsed->count("throttle-threshold")) run.throttle_threshold = (*parsed)["throttle-threshold"].as<double>();
  run.blocking_kernel = !(*parsed)["no-blocking-kernel"].as<bool>();
  run.repetitions = (*parsed)["repetitions"].as<int>();
  if (parsed->count("device")) run.device = (*parsed)["device"].as<int>();
  run.allow_shared_gpu = (*parsed)["allow-shared-gpu"].as<bool>();
  if (parsed->count("job-timeout")) run.job_timeout_s = (*parsed)["job-timeout"].as<double>();
  if (parsed->count("max-bytes")) {
    const std::string text = (*parsed)["max-bytes"].as<std::string>();
    const std::optional<double> bytes = model::parse_bytes(text);
    if (!bytes) {
      throw InputError("--max-bytes " + text + ": expected a size above 0 bytes such as 1048576, 64K, 1M or 8G "
                       "(binary suffixes K, M, G, T or KiB, MiB, GiB, TiB)");
    }
    run.max_bytes = static_cast<int64_t>(*bytes);  // the runner checks it against the largest size it sends
  }
  const std::string console = (*parsed)["console"].as<std::string>();
  if (auto style = parse_console_style(console)) {
    run.console = *style;
  } else {
    throw InputError("unknown --console '" + console + "'; valid: aicbench, nccl-tests");
  }
  run.command_line = command_line;
  // Under mpirun or srun this process is one rank of a job (collectives/mpi_job.hpp): MPI is
  // initialised here, after the options were parsed, and finalised when `job` goes away. Option
  // values are checked by every rank alike (run_benchmarks), and agreed on before any rank runs.
  const Job job = Job::start(&argc, &argv);
  run.job = &job;
  run.rank = job.layout().world_rank;
  run.ranks = job.layout().world_size;
  return run_benchmarks(run, std::cout, std::cerr);
}

// The commands that need the GPU libraries: only in the full build.
std::vector<cli::Command> harness_commands(const std::string& command_line) {
  return {
      {"info", "devices, driver and library versions: the provenance a result file carries", cmd_info},
      {"list", "every benchmark of every suite, and whether it can run here", cmd_list},
      {"run", "validate and time a suite's benchmarks, write a result file",
       [command_line](int argc, char** argv) { return cmd_run(argc, argv, command_line); }},
  };
}

}  // namespace
}  // namespace aicbench

int main(int argc, char** argv) {
  using namespace aicbench;
  std::vector<cli::Command> commands = harness_commands(cli::command_line_as_typed(argc, argv));
  for (cli::Command& command : cli::report_commands()) commands.push_back(std::move(command));
  return cli::run_cli(argc, argv, commands, cli::BuildKind::full);
}
