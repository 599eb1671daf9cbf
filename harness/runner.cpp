#include "harness/runner.hpp"

#include <chrono>
#include <ctime>
#include <iostream>
#include <memory>
#include <regex>

#include <benchmark/benchmark.h>

#include "harness/benchmark.hpp"
#include "harness/provenance.hpp"
#include "harness/result_writer.hpp"
#include "harness/specs.hpp"
#include "reports/result_file.hpp"

namespace aicbench {

namespace {

struct BackendChoice {
  Backend backend;
  std::string reason;
};

BackendChoice choose_backend(const std::string& requested, const DeviceProbe& probe) {
  if (requested == "cpu") return {Backend::cpu, "requested with --backend cpu"};
  if (requested == "cuda") {
    if (!probe.available()) {
      throw InputError("--backend cuda: no usable CUDA device: " +
                           probe.unavailable_reason.value_or("unknown reason"),
                       3);
    }
    return {Backend::cuda, "requested with --backend cuda"};
  }
  if (requested == "auto") {
    if (probe.available()) {
      return {Backend::cuda, "auto: found " + probe.gpus.front().name};
    }
    return {Backend::cpu, "auto: no CUDA device (" +
                              probe.unavailable_reason.value_or("unknown reason") +
                              "), so the CPU backend runs and its numbers are CPU numbers"};
  }
  throw InputError("unknown backend '" + requested + "'; valid backends: auto, cuda, cpu");
}

std::string timestamp_for_filename() {
  std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", std::gmtime(&now));
  return buf;
}

nlohmann::json gbench_context_json(const benchmark::BenchmarkReporter::Context& ctx) {
  // The same fields, under the same names, as Google Benchmark's JSONReporter writes.
  nlohmann::json caches = nlohmann::json::array();
  for (const auto& c : ctx.cpu_info.caches) {
    caches.push_back({{"type", c.type}, {"level", c.level}, {"size", c.size}, {"num_sharing", c.num_sharing}});
  }
  std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  char date[64];
  std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S%z", std::localtime(&now));
  return {{"date", date},
          {"host_name", ctx.sys_info.name},
          {"executable", benchmark::BenchmarkReporter::Context::executable_name
                             ? benchmark::BenchmarkReporter::Context::executable_name : ""},
          {"num_cpus", ctx.cpu_info.num_cpus},
          {"mhz_per_cpu", static_cast<int>(ctx.cpu_info.cycles_per_second / 1e6)},
          {"cpu_scaling_enabled", ctx.cpu_info.scaling == benchmark::CPUInfo::ENABLED},
          {"caches", caches},
          {"load_avg", ctx.cpu_info.load_avg}};
}

const char* time_unit_name(benchmark::TimeUnit unit) {
  switch (unit) {
    case benchmark::kNanosecond: return "ns";
    case benchmark::kMicrosecond: return "us";
    case benchmark::kMillisecond: return "ms";
    case benchmark::kSecond: return "s";
  }
  return "ms";
}

// What happened to one benchmark before timing: set up, validated, or failed doing so.
struct Outcome {
  std::string status = kStatusOk;
  std::optional<std::string> reason;
  nlohmann::json validation;
  double max_rel_err = 0;
};

// Runs the registered benchmarks. Google Benchmark calls a benchmark's function several times
// while it settles the iteration count, so the case (inputs, device buffers) is built and
// validated on the first call and kept until the next benchmark starts.
class Session {
 public:
  Session(std::vector<BenchmarkSpec> specs, ResultWriter& writer)
      : specs_(std::move(specs)), outcomes_(specs_.size()), writer_(writer) {}

  void run_one(size_t index, benchmark::State& state) {
    if (active_index_ != index) prepare(index);
    Outcome& outcome = outcomes_[index];
    if (outcome.status != kStatusOk) {
      state.SkipWithError(outcome.reason->c_str());
      return;
    }
    try {
      for (auto _ : state) state.SetIterationTime(active_->time_once());
    } catch (const std::exception& e) {
      outcome.status = kStatusError;
      outcome.reason = std::string("failed while timing: ") + e.what();
      state.SkipWithError(outcome.reason->c_str());
      return;
    }
    using benchmark::Counter;
    if (active_->flops() > 0) {
      state.counters["tflops"] = Counter(active_->flops() / 1e12, Counter::kIsIterationInvariantRate);
    }
    if (active_->bytes() > 0) {
      state.counters["gbps"] = Counter(active_->bytes() / 1e9, Counter::kIsIterationInvariantRate);
    }
    state.counters["max_rel_err"] = outcome.max_rel_err;
  }

  void record(const benchmark::BenchmarkReporter::Run& run) {
    const size_t index = static_cast<size_t>(run.family_index);
    const BenchmarkSpec& spec = specs_.at(index);
    const Outcome& outcome = outcomes_[index];
    nlohmann::json entry = {
        {"family_index", run.family_index},
        {"per_family_instance_index", run.per_family_instance_index},
        {"run_type", run.run_type == benchmark::BenchmarkReporter::Run::RT_Aggregate ? "aggregate" : "iteration"},
        {"repetitions", run.repetitions},
        {"repetition_index", run.repetition_index},
        {"threads", run.threads},
        {"iterations", run.iterations},
        {"real_time", run.GetAdjustedRealTime()},
        {"cpu_time", run.GetAdjustedCPUTime()},
        {"time_unit", time_unit_name(run.time_unit)}};
    if (run.run_type == benchmark::BenchmarkReporter::Run::RT_Aggregate) {
      entry["aggregate_name"] = run.aggregate_name;
    }
    std::string status = outcome.status;
    std::optional<std::string> reason = outcome.reason;
    if (run.error_occurred && status == kStatusOk) {
      status = kStatusError;
      reason = run.error_message;
    }
    if (status == kStatusOk) {
      for (const auto& [name, counter] : run.counters) entry[name] = counter.value;
    }
    writer_.add(spec, std::move(entry), status, reason, outcome.validation);
    writer_.write(/*complete=*/false);
  }

  void release() {
    active_.reset();
    active_index_ = SIZE_MAX;
  }

 private:
  void prepare(size_t index) {
    active_.reset();  // free the previous benchmark's memory before allocating this one's
    active_index_ = index;
    const BenchmarkSpec& spec = specs_[index];
    Outcome& outcome = outcomes_[index];
    try {
      active_ = find_implementation(spec.family, spec.impl)->make(spec);
      Validation v = active_->validate();
      outcome.validation = v.details;
      outcome.max_rel_err = v.max_rel_err;
      if (!v.passed) {
        outcome.status = kStatusFailed;
        outcome.reason = v.message;
      }
    } catch (const std::exception& e) {
      outcome.status = kStatusError;
      outcome.reason = std::string("failed to set up or validate: ") + e.what();
    }
    if (outcome.status != kStatusOk) active_.reset();
  }

  std::vector<BenchmarkSpec> specs_;
  std::vector<Outcome> outcomes_;
  ResultWriter& writer_;
  std::unique_ptr<BenchmarkCase> active_;
  size_t active_index_ = SIZE_MAX;
};

// Shows Google Benchmark's console table and feeds each finished run to the result file.
class TeeReporter : public benchmark::BenchmarkReporter {
 public:
  TeeReporter(Session& session, ResultWriter& writer) : session_(session), writer_(writer) {}
  bool ReportContext(const Context& context) override {
    writer_.set_benchmark_context(gbench_context_json(context));
    return console_.ReportContext(context);
  }
  void ReportRuns(const std::vector<Run>& runs) override {
    console_.ReportRuns(runs);
    for (const Run& run : runs) session_.record(run);
  }
  void Finalize() override { console_.Finalize(); }

 private:
  benchmark::ConsoleReporter console_;
  Session& session_;
  ResultWriter& writer_;
};

}  // namespace

int run_benchmarks(const RunOptions& options, std::ostream& out, std::ostream& err) {
  try {
    const Suite suite = load_suite(options.suite);
    const DeviceProbe probe = probe_devices();
    const BackendChoice choice = choose_backend(options.backend, probe);
    out << "aicbench: backend " << to_string(choice.backend) << " (" << choice.reason << ")\n";

    std::vector<BenchmarkSpec> all = suite.benchmarks(choice.backend);
    std::vector<BenchmarkSpec> selected;
    if (options.filter) {
      std::regex re;
      try {
        re = std::regex(*options.filter, std::regex::ECMAScript);
      } catch (const std::regex_error& e) {
        throw InputError("--filter '" + *options.filter + "' is not a valid regular expression: " + e.what());
      }
      for (const auto& spec : all) {
        if (std::regex_search(spec.name(), re)) selected.push_back(spec);
      }
      if (selected.empty()) {
        std::string names;
        for (const auto& spec : all) names += "\n  " + spec.name();
        throw InputError("--filter '" + *options.filter + "' matches none of suite '" + suite.name +
                         "' on backend " + to_string(choice.backend) + "; its benchmarks are:" + names);
      }
    } else {
      selected = all;
    }
    if (selected.empty()) {
      throw InputError("suite '" + suite.name + "' has no benchmarks for backend " + to_string(choice.backend));
    }

    nlohmann::json prov = collect_provenance(probe);
    prov["command_line"] = options.command_line;
    prov["suite"] = suite.name;
    prov["suite_version"] = suite.version;
    prov["backend"] = to_string(choice.backend);
    prov["backend_reason"] = choice.reason;
    prov["rank"] = options.rank;
    prov["ranks"] = options.ranks;

    std::map<std::string, double> peaks;
    if (choice.backend == Backend::cuda) {
      if (auto sheet = find_datasheet(probe.gpus.front().name)) {
        peaks = sheet->peak_tflops;
        prov["datasheet"] = {{"sku", sheet->sku}, {"source", sheet->source}};
      } else {
        prov["datasheet"] = nullptr;  // unknown GPU: pct_of_peak is omitted
      }
    }

    std::string file = "aicbench-" + suite.name + "-" + to_string(choice.backend) + "-" +
                       prov["host"]["hostname"].get<std::string>() + "-" + timestamp_for_filename();
    if (options.ranks > 1) file += "-rank" + std::to_string(options.rank);
    ResultWriter writer(options.out_dir / (file + ".json"), prov, peaks);

    // Benchmarks that cannot run here are recorded as skipped, with the reason; the rest go to
    // Google Benchmark.
    std::vector<BenchmarkSpec> runnable;
    std::vector<std::pair<BenchmarkSpec, std::string>> skipped;
    for (const auto& spec : selected) {
      auto reason = find_implementation(spec.family, spec.impl)->unsupported_reason(spec, probe);
      if (reason) skipped.emplace_back(spec, *reason);
      else runnable.push_back(spec);
    }
    for (const auto& [spec, reason] : skipped) {
      writer.add(spec, nlohmann::json::object(), kStatusSkipped, reason, nullptr);
      err << "aicbench: skipped " << spec.name() << ": " << reason << "\n";
    }
    writer.write(false);
    out << "aicbench: writing " << writer.path().string() << " (updated after every benchmark)\n";

    Session session(runnable, writer);
    const double min_time = options.min_time_s.value_or(suite.min_time_s.count(choice.backend)
                                                            ? suite.min_time_s.at(choice.backend)
                                                            : 0.5);
    benchmark::ClearRegisteredBenchmarks();
    for (size_t i = 0; i < runnable.size(); ++i) {
      benchmark::RegisterBenchmark(runnable[i].name().c_str(),
                                   [&session, i](benchmark::State& state) { session.run_one(i, state); })
          ->UseManualTime()
          ->Unit(benchmark::kMillisecond)
          ->MinTime(min_time);
    }
    TeeReporter reporter(session, writer);
    if (!runnable.empty()) benchmark::RunSpecifiedBenchmarks(&reporter);
    session.release();
    benchmark::ClearRegisteredBenchmarks();

    writer.write(/*complete=*/true);
    const size_t failed = writer.count(kStatusFailed), errors = writer.count(kStatusError);
    out << "aicbench: wrote " << writer.path().string() << ": " << writer.count(kStatusOk)
        << " valid, " << failed << " failed validation, " << errors << " errors, "
        << writer.count(kStatusSkipped) << " skipped\n";
    return (failed + errors) > 0 ? 1 : 0;
  } catch (const InputError& e) {
    err << "aicbench run: " << e.what() << "\n";
    return e.exit_code();
  }
}

}  // namespace aicbench
