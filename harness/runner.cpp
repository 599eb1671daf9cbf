#include "harness/runner.hpp"

#include <chrono>
#include <iostream>
#include <map>
#include <memory>
#include <regex>

#include <benchmark/benchmark.h>

#include "harness/benchmark.hpp"
#include "harness/clock.hpp"
#include "harness/cuda_check.hpp"
#include "harness/provenance.hpp"
#include "harness/result_writer.hpp"
#include "harness/samplers.hpp"
#include "harness/specs.hpp"
#include "harness/telemetry.hpp"
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
    if (probe.available()) return {Backend::cuda, "auto: found " + probe.gpus.front().name};
    return {Backend::cpu, "auto: no CUDA device (" +
                              probe.unavailable_reason.value_or("unknown reason") +
                              "), so the CPU backend runs and its numbers are CPU numbers"};
  }
  throw InputError("unknown backend '" + requested + "'; valid backends: auto, cuda, cpu");
}

nlohmann::json gbench_context_json(const benchmark::BenchmarkReporter::Context& ctx) {
  // The same fields, under the same names, as Google Benchmark's JSONReporter writes.
  nlohmann::json caches = nlohmann::json::array();
  for (const auto& c : ctx.cpu_info.caches) {
    caches.push_back({{"type", c.type}, {"level", c.level}, {"size", c.size}, {"num_sharing", c.num_sharing}});
  }
  const char* exe = benchmark::BenchmarkReporter::Context::executable_name;
  return {{"date", format_time_now("%Y-%m-%dT%H:%M:%S%z", /*utc=*/false)},
          {"host_name", ctx.sys_info.name},
          {"executable", exe ? exe : ""},
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

// What happened to one benchmark: set up and validated (or not), then each repetition's
// measurement and telemetry.
struct Repetition {
  std::string status = kStatusOk;
  std::optional<std::string> reason;
  nlohmann::json details;  // {"measurement": ..., "telemetry": ...} when it was measured
};
struct Outcome {
  std::string status = kStatusOk;  // the benchmark's, as it stands after its latest call
  std::optional<std::string> reason;
  nlohmann::json validation;
  double max_rel_err = 0;
  std::vector<Repetition> repetitions;  // one per call, in order: each row keeps its own status
};

// Everything measuring needs beyond the benchmark itself.
struct MeasureEnvironment {
  Backend backend = Backend::cpu;
  MeasureConfig config;
  TelemetrySource* telemetry = nullptr;  // null: no GPU telemetry (reason below)
  std::string telemetry_unavailable;
  std::optional<double> max_sm_clock_mhz;
  CudaMeasureResources* cuda = nullptr;
};

// Google Benchmark calls a benchmark's function once per repetition (Iterations(1)); the
// measurement inside it follows aicbench's own methodology. The case (inputs, device buffers) is
// built and validated on the first call and kept until another benchmark starts.
class Session {
 public:
  Session(std::vector<BenchmarkSpec> specs, ResultWriter& writer, MeasureEnvironment env)
      : specs_(std::move(specs)), outcomes_(specs_.size()), writer_(writer), env_(std::move(env)) {}

  // Set once the backend can run nothing more in this process (BackendLost, or a sticky CUDA
  // error): why, naming the benchmark that caused it.
  const std::optional<std::string>& lost() const { return lost_; }

  void run_one(size_t index, benchmark::State& state) {
    Outcome& outcome = outcomes_[index];
    // A benchmark that failed, errored or was skipped stays so: it is not built again.
    if (active_index_ != index && outcome.status == kStatusOk) prepare(index);
    if (outcome.status != kStatusOk) {
      outcome.repetitions.push_back({outcome.status, outcome.reason, nullptr});
      state.SkipWithError(outcome.reason->c_str());
      return;
    }
    Measurement m;
    TelemetrySummary telemetry;
    try {
      for (auto _ : state) {
        std::tie(m, telemetry) = measure_active(specs_[index].mode);
        state.SetIterationTime(m.stats.median);
      }
    } catch (const std::exception& e) {
      outcome.status = kStatusError;
      outcome.reason = std::string("failed while measuring: ") + e.what();
      note_if_lost(index, e);
      active_.reset();
      active_index_ = SIZE_MAX;
      outcome.repetitions.push_back({outcome.status, outcome.reason, nullptr});
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
    if (telemetry.sm_clock_mhz) state.counters["sm_clock_mhz"] = *telemetry.sm_clock_mhz;
    if (telemetry.power_w) state.counters["power_w"] = *telemetry.power_w;
    if (telemetry.energy_j) state.counters["energy_j"] = *telemetry.energy_j;
    if (telemetry.temp_c) state.counters["temp_c"] = *telemetry.temp_c;

    nlohmann::json rep = {{"measurement", m.to_json()}};
    if (env_.telemetry) {
      rep["telemetry"] = telemetry.to_json();
    } else {
      rep["telemetry"] = {{"unavailable", env_.telemetry_unavailable}};
    }
    outcome.repetitions.push_back({kStatusOk, std::nullopt, std::move(rep)});
  }

  void record(const benchmark::BenchmarkReporter::Run& run) {
    const size_t index = static_cast<size_t>(run.family_index);
    const BenchmarkSpec& spec = specs_.at(index);
    const Outcome& outcome = outcomes_[index];
    const bool aggregate = run.run_type == benchmark::BenchmarkReporter::Run::RT_Aggregate;
    nlohmann::json entry = {
        {"family_index", run.family_index},
        {"per_family_instance_index", run.per_family_instance_index},
        {"run_name", spec.name()},
        {"run_type", aggregate ? "aggregate" : "iteration"},
        {"repetitions", run.repetitions},
        {"repetition_index", run.repetition_index},
        {"threads", run.threads},
        {"iterations", run.iterations},
        {"real_time", run.GetAdjustedRealTime()},
        {"cpu_time", run.GetAdjustedCPUTime()},
        {"time_unit", time_unit_name(run.time_unit)}};
    if (aggregate) {
      entry["aggregate_name"] = run.aggregate_name;
      if (run.aggregate_unit == benchmark::kPercentage) {
        // The coefficient of variation is a ratio, not a time: as Google Benchmark writes it.
        entry["aggregate_unit"] = "percentage";
        entry["real_time"] = run.real_accumulated_time;
        entry["cpu_time"] = run.cpu_accumulated_time;
      } else {
        entry["aggregate_unit"] = "time";
      }
    }
    // A repetition's row carries that repetition's status (an earlier one may have been measured
    // before a later one failed); an aggregate's, the benchmark's.
    Repetition row{outcome.status, outcome.reason, nullptr};
    if (!aggregate && run.repetition_index >= 0 &&
        static_cast<size_t>(run.repetition_index) < outcome.repetitions.size()) {
      row = outcome.repetitions[static_cast<size_t>(run.repetition_index)];
    }
    if (run.error_occurred && row.status == kStatusOk) {
      row.status = kStatusError;
      row.reason = run.error_message;
    }
    if (row.status == kStatusOk) {
      for (const auto& [name, counter] : run.counters) entry[name] = counter.value;
    }
    writer_.add(spec, std::move(entry), row.status, row.reason, outcome.validation, row.details);
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
    if (lost_) {
      outcome.status = kStatusError;
      outcome.reason = "not run: " + *lost_;
      return;
    }
    try {
      active_ = find_implementation(spec.family, spec.impl)->make(spec);
      Validation v = active_->validate();
      outcome.validation = v.details;
      outcome.max_rel_err = v.max_rel_err;
      if (!v.passed) {
        outcome.status = kStatusFailed;
        outcome.reason = v.message;
      }
    } catch (const UnsupportedHere& e) {
      outcome.status = kStatusSkipped;
      outcome.reason = e.what();
    } catch (const std::exception& e) {
      outcome.status = kStatusError;
      outcome.reason = std::string("failed to set up or validate: ") + e.what();
      note_if_lost(index, e);
    }
    if (outcome.status != kStatusOk) active_.reset();
  }

  // After benchmark `index` failed with `e`: is the backend gone for this process?
  void note_if_lost(size_t index, const std::exception& e) {
    std::optional<std::string> why;
    if (dynamic_cast<const BackendLost*>(&e)) {
      why = e.what();
    } else if (env_.backend == Backend::cuda) {
      why = cuda_context_lost();
    }
    if (why) {
      lost_ = "the " + to_string(env_.backend) + " backend was lost for this process after " +
              specs_[index].name() + " failed (" + *why +
              "); run the rest in a new process, e.g. with --filter";
    }
  }

  std::pair<Measurement, TelemetrySummary> measure_active(MeasureMode mode) {
    MeasureConfig config = env_.config;
    config.mode = mode;
    std::unique_ptr<TelemetrySampler> telemetry;
    if (env_.telemetry) {
      telemetry = std::make_unique<TelemetrySampler>(*env_.telemetry, std::chrono::milliseconds(10));
      telemetry->start();
    }
    // Telemetry runs through warm-up (the throttle guard needs the clock) but is summarised
    // over the measured samples only.
    double measured_from = 0;
    MeasureHooks hooks = MeasureHooks::real();
    hooks.warmed_up = [&] { measured_from = steady_seconds(); };
    ClockWatch clock(telemetry.get(), env_.max_sm_clock_mhz);
    Measurement m;
    if (env_.backend == Backend::cuda) {
      CudaSampler sampler(*active_, *env_.cuda, mode, clock);
      m = measure(sampler, config, hooks);
      m.blocker_timeouts = sampler.blocker_timeouts();
    } else {
      CpuSampler sampler(*active_, mode);
      m = measure(sampler, config, hooks);
    }
    TelemetrySummary summary;
    if (telemetry) {
      std::vector<TelemetryReading> readings = telemetry->stop();
      std::vector<TelemetryReading> measured;
      for (size_t i = 0; i < readings.size(); ++i) {
        // Keep the last reading before the measurement began, so the interval is closed.
        const bool next_is_measured = i + 1 < readings.size() && readings[i + 1].time_s >= measured_from;
        if (readings[i].time_s >= measured_from || next_is_measured) measured.push_back(readings[i]);
      }
      summary = summarize(measured);
    }
    return {m, summary};
  }

  std::vector<BenchmarkSpec> specs_;
  std::vector<Outcome> outcomes_;
  ResultWriter& writer_;
  MeasureEnvironment env_;
  std::unique_ptr<BenchmarkCase> active_;
  size_t active_index_ = SIZE_MAX;
  std::optional<std::string> lost_;
};

// Feeds each finished run to the result file and prints one line for it. (Google Benchmark's own
// console table would show its bookkeeping: iterations:1, CPU time of the whole measurement,
// and a warning about how Debian built its library, none of which applies to manual timing.)
class ResultReporter : public benchmark::BenchmarkReporter {
 public:
  ResultReporter(Session& session, ResultWriter& writer, std::ostream& out)
      : session_(session), writer_(writer), out_(out) {}
  bool ReportContext(const Context& context) override {
    writer_.set_benchmark_context(gbench_context_json(context));
    return true;
  }
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& run : runs) {
      session_.record(run);
      out_ << writer_.last_entry_summary() << std::endl;
    }
  }

 private:
  Session& session_;
  ResultWriter& writer_;
  std::ostream& out_;
};

// The suite's benchmarks on `backend`, in the modes asked for, matching the filter.
std::vector<BenchmarkSpec> select(Suite suite, const RunOptions& options, Backend backend) {
  if (options.modes) suite.modes = *options.modes;
  std::vector<BenchmarkSpec> selected = suite.benchmarks(backend);
  if (options.filter) {
    std::regex re;
    try {
      re = std::regex(*options.filter, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      throw InputError("--filter '" + *options.filter + "' is not a valid regular expression: " + e.what());
    }
    std::vector<BenchmarkSpec> matched;
    for (const auto& spec : selected) {
      if (std::regex_search(spec.name(), re)) matched.push_back(spec);
    }
    if (matched.empty()) {
      std::string names;
      for (const auto& spec : selected) names += "\n  " + spec.name();
      throw InputError("--filter '" + *options.filter + "' matches none of suite '" + suite.name +
                       "' on backend " + to_string(backend) + "; its benchmarks are:" + names);
    }
    selected = matched;
  }
  if (selected.empty()) {
    throw InputError("suite '" + suite.name + "' has no benchmarks for backend " + to_string(backend));
  }
  return selected;
}

MeasureConfig measure_config(const RunOptions& options, const Suite& suite, Backend backend) {
  MeasureConfig config;
  config.rule = suite.rule(backend);
  if (options.min_samples) config.rule.min_samples = *options.min_samples;
  if (options.min_time_s) config.rule.min_time_s = *options.min_time_s;
  if (options.max_noise) config.rule.max_noise = *options.max_noise;
  if (options.timeout_s) config.rule.timeout_s = *options.timeout_s;
  if (options.throttle_threshold) config.throttle_threshold = *options.throttle_threshold;
  return config;
}

}  // namespace

int run_benchmarks(const RunOptions& options, std::ostream& out, std::ostream& err) {
  try {
    const Suite suite = load_suite(options.suite);
    const DeviceProbe probe = probe_devices();
    const BackendChoice choice = choose_backend(options.backend, probe);
    out << "aicbench: backend " << to_string(choice.backend) << " (" << choice.reason << ")\n";
    const std::vector<BenchmarkSpec> selected = select(suite, options, choice.backend);

    MeasureEnvironment env;
    env.backend = choice.backend;
    env.config = measure_config(options, suite, choice.backend);
    nlohmann::json prov = collect_provenance(probe);
    prov["command_line"] = options.command_line;
    prov["suite"] = suite.name;
    prov["suite_version"] = suite.version;
    prov["backend"] = to_string(choice.backend);
    prov["backend_reason"] = choice.reason;
    prov["rank"] = options.rank;
    prov["ranks"] = options.ranks;
    const StoppingRule& rule = env.config.rule;
    prov["methodology"] = {{"min_samples", rule.min_samples},
                           {"min_time_s", rule.min_time_s},
                           {"max_noise", rule.max_noise},
                           {"timeout_s", rule.timeout_s},
                           {"throttle_threshold", env.config.throttle_threshold},
                           {"repetitions", options.repetitions},
                           {"random_interleaving", options.repetitions > 1},
                           {"timer", choice.backend == Backend::cpu ? "steady clock (wall time)"
                                     : options.blocking_kernel
                                         ? "CUDA events around work held behind a blocking kernel"
                                         : "CUDA events, no blocking kernel (host launch latency may be included)"}};

    std::map<std::string, double> peaks;
    GpuTelemetry opened = no_gpu_telemetry("cpu backend: GPU telemetry does not apply");
    std::unique_ptr<CudaMeasureResources> cuda_resources;
    if (choice.backend == Backend::cuda) {
      const GpuInfo& gpu = probe.gpus.front();
      if (auto sheet = find_datasheet(gpu.name)) {
        peaks = sheet->peak_tflops;
        prov["datasheet"] = {{"sku", sheet->sku}, {"source", sheet->source}};
      } else {
        prov["datasheet"] = nullptr;  // unknown GPU: pct_of_peak is omitted
      }
      opened = open_gpu_telemetry(gpu.pci_bus_id);
      cuda_resources = std::make_unique<CudaMeasureResources>(static_cast<size_t>(gpu.l2_bytes),
                                                              options.blocking_kernel);
      env.cuda = cuda_resources.get();
    }
    record_telemetry(prov, opened);
    out << "aicbench: telemetry: " << describe_telemetry(prov["telemetry"]) << "\n";
    const std::unique_ptr<TelemetrySource> telemetry = std::move(opened.source);
    env.telemetry = telemetry.get();
    env.telemetry_unavailable = opened.unavailable_reason;
    if (telemetry) env.max_sm_clock_mhz = telemetry->max_sm_clock_mhz();

    std::string file = "aicbench-" + suite.name + "-" + to_string(choice.backend) + "-" +
                       prov["host"]["hostname"].get<std::string>() + "-" + format_time_now("%Y%m%dT%H%M%SZ");
    if (options.ranks > 1) file += "-rank" + std::to_string(options.rank);
    ResultWriter writer(options.out_dir / (file + ".json"), prov, peaks);

    // Benchmarks that cannot run here are recorded as skipped, with the reason; the rest go to
    // Google Benchmark.
    std::vector<BenchmarkSpec> runnable;
    for (const auto& spec : selected) {
      auto reason = find_implementation(spec.family, spec.impl)->unsupported_reason(spec, probe);
      if (reason) {
        writer.add(spec, nlohmann::json::object(), kStatusSkipped, reason, nullptr, nullptr);
        err << "aicbench: skipped " << spec.name() << ": " << *reason << "\n";
      } else {
        runnable.push_back(spec);
      }
    }
    writer.write(false);
    out << "aicbench: writing " << writer.path().string() << " (updated after every benchmark)\n";

    Session session(runnable, writer, std::move(env));
    benchmark::ClearRegisteredBenchmarks();
    for (size_t i = 0; i < runnable.size(); ++i) {
      benchmark::RegisterBenchmark(runnable[i].name().c_str(),
                                   [&session, i](benchmark::State& state) { session.run_one(i, state); })
          ->UseManualTime()
          ->Iterations(1)  // one call = one full measurement under aicbench's stopping rule
          ->Repetitions(options.repetitions)
          ->Unit(benchmark::kMillisecond);
    }
    ResultReporter reporter(session, writer, out);
    if (!runnable.empty()) benchmark::RunSpecifiedBenchmarks(&reporter);
    session.release();
    benchmark::ClearRegisteredBenchmarks();

    writer.write(/*complete=*/true);
    const size_t failed = writer.count(kStatusFailed), errors = writer.count(kStatusError);
    out << "aicbench: wrote " << writer.path().string() << ": " << writer.count(kStatusOk)
        << " valid, " << failed << " failed validation, " << errors << " errors, "
        << writer.count(kStatusSkipped) << " skipped";
    if (size_t unstable = writer.count_unstable()) out << "; " << unstable << " flagged unstable";
    out << "\n";
    if (session.lost()) err << "aicbench run: " << *session.lost() << "\n";
    return (failed + errors) > 0 ? 1 : 0;
  } catch (const InputError& e) {
    err << "aicbench run: " << e.what() << "\n";
    return e.exit_code();
  }
}

}  // namespace aicbench
