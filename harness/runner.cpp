#include "harness/runner.hpp"

#include <cctype>
#include <chrono>
#include <cmath>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>

#include <benchmark/benchmark.h>
#include <re2/re2.h>
#include <unistd.h>

#include "harness/benchmark.hpp"
#include "harness/clock.hpp"
#include "harness/cuda_check.hpp"
#include "harness/file_names.hpp"
#include "harness/health.hpp"
#include "harness/provenance.hpp"
#include "harness/result_writer.hpp"
#include "harness/samplers.hpp"
#include "harness/specs.hpp"
#include "harness/telemetry.hpp"
#include "harness/time_budget.hpp"
#include "reports/result_file.hpp"

namespace aicbench {

namespace {

// A number as people write it in an option: 0.5, 1e+300, inf, nan.
std::string shown(double value) {
  std::ostringstream os;
  os << value;
  return os.str();
}

// --filter is RE2 syntax: linear time in the length of the name whatever the pattern, and the
// compiled program bounded by max_mem, so no filter can hang or exhaust the run (std::regex
// backtracks, and recurses once per nesting level until the stack is gone).
constexpr int64_t kFilterMaxMemBytes = 8 << 20;

std::unique_ptr<RE2> compile_filter(const std::string& pattern) {
  RE2::Options options;
  options.set_log_errors(false);  // the error is reported once, below, as bad input
  options.set_max_mem(kFilterMaxMemBytes);
  auto re = std::make_unique<RE2>(pattern, options);
  if (!re->ok()) {
    throw InputError("--filter " + quoted_excerpt(pattern) + " is not a valid RE2 regular expression: " +
                     quoted_excerpt(re->error(), 200, /*quote=*/"") +
                     " (syntax: https://github.com/google/re2/wiki/Syntax)");
  }
  return re;
}

void check_seconds(const char* option, const std::optional<double>& value) {
  if (value && !(std::isfinite(*value) && *value > 0 && *value <= kMaxOptionSeconds)) {
    throw InputError(std::string(option) + " must be a number of seconds above 0 and at most " +
                     shown(kMaxOptionSeconds) + ", got " + shown(*value));
  }
}

// CUDA_VISIBLE_DEVICES set to nothing, or to -1, hides every GPU: the user chose the CPU.
bool hides_every_gpu(const std::optional<std::string>& visible) {
  if (!visible) return false;
  std::string value = *visible;
  std::erase_if(value, [](unsigned char c) { return std::isspace(c); });
  return value.empty() || value == "-1";
}

}  // namespace

void check_run_options(const RunOptions& options) {
  if (options.repetitions < 1 || options.repetitions > kMaxRepetitions) {
    throw InputError("--repetitions must be between 1 and " + std::to_string(kMaxRepetitions) + ", got " +
                     std::to_string(options.repetitions));
  }
  if (options.min_samples && (*options.min_samples < 1 || *options.min_samples > kMaxMinSamples)) {
    throw InputError("--min-samples must be between 1 and " + std::to_string(kMaxMinSamples) + ", got " +
                     std::to_string(*options.min_samples));
  }
  check_seconds("--min-time", options.min_time_s);
  check_seconds("--timeout", options.timeout_s);
  if (options.max_noise && !(std::isfinite(*options.max_noise) && *options.max_noise > 0 && *options.max_noise <= 1)) {
    throw InputError("--max-noise must be a percentage above 0 and at most 100, got " + shown(100 * *options.max_noise));
  }
  if (options.throttle_threshold &&
      !(*options.throttle_threshold >= 0 && *options.throttle_threshold <= 1)) {  // false for nan
    throw InputError("--throttle-threshold must be a fraction between 0 and 1, got " +
                     shown(*options.throttle_threshold));
  }
  if (options.ranks < 1 || options.rank < 0 || options.rank >= options.ranks) {
    throw InputError("rank " + std::to_string(options.rank) + " of " + std::to_string(options.ranks) +
                     ": expected 0 <= rank < ranks");
  }
  if (options.filter) compile_filter(*options.filter);
}

BackendChoice choose_backend(const std::string& requested, const DeviceProbe& probe) {
  const std::string cuda_reason = probe.unavailable_reason.value_or("unknown reason");
  const std::string found = probe.nvidia.any() ? "; found: " + probe.nvidia.describe() : "";
  if (requested == "cpu") return {Backend::cpu, "requested with --backend cpu"};
  if (requested == "cuda") {
    if (!probe.available()) throw InputError("--backend cuda: no usable CUDA device: " + cuda_reason + found, 3);
    return {Backend::cuda, "requested with --backend cuda"};
  }
  if (requested != "auto") {
    throw InputError("unknown backend " + quoted_excerpt(requested) + "; valid backends: auto, cuda, cpu");
  }
  if (probe.available()) return {Backend::cuda, "auto: found " + probe.gpus.front().name};
  const std::string cpu_numbers = ", so the CPU backend runs and its numbers are CPU numbers";
  if (hides_every_gpu(probe.cuda_visible_devices)) {
    return {Backend::cpu, "auto: CUDA_VISIBLE_DEVICES='" + *probe.cuda_visible_devices +
                              "' hides every GPU on purpose" + cpu_numbers};
  }
  if (probe.cuda_reports_absence && !probe.nvidia.any()) {
    return {Backend::cpu, "auto: no NVIDIA GPU or driver on this machine (" + cuda_reason +
                              "; no /proc/driver/nvidia/version, no /dev/nvidiactl, no NVIDIA display "
                              "controller on the PCI bus)" + cpu_numbers};
  }
  // Something NVIDIA is there and CUDA cannot use it: a dead GPU, a driver that did not load or
  // does not match, a device list that matches nothing. Falling back would let it pass unseen.
  std::string message = "--backend auto: ";
  message += probe.nvidia.any() ? probe.nvidia.describe() + " present" : "the CUDA driver library is present";
  message += ", but CUDA cannot use it: " + cuda_reason;
  if (probe.cuda_visible_devices) message += " (CUDA_VISIBLE_DEVICES=" + quoted_excerpt(*probe.cuda_visible_devices) + ")";
  message += ". A broken GPU is not replaced by the CPU: repair the driver or GPU, or choose the CPU "
             "deliberately with --backend cpu (or CUDA_VISIBLE_DEVICES=-1)";
  throw InputError(message, 3);
}

namespace {

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
  std::optional<Measurement> measurement;
};

// What an aggregate row stands on, so that a reader of the mean or median alone still sees the
// noise and the samples behind it (benchmarks[i].aicbench.repetitions).
nlohmann::json repetitions_summary(const std::vector<Repetition>& repetitions) {
  int measured = 0, unstable = 0, timed_out = 0;
  int64_t samples = 0, discarded = 0;
  double max_rel_stddev = 0;
  for (const Repetition& rep : repetitions) {
    if (!rep.measurement) continue;
    const Measurement& m = *rep.measurement;
    ++measured;
    unstable += m.unstable;
    timed_out += m.timed_out();
    samples += m.stats.count;
    discarded += m.discarded_throttled;
    max_rel_stddev = std::max(max_rel_stddev, m.stats.rel_stddev);
  }
  return {{"count", repetitions.size()}, {"measured", measured},           {"unstable", unstable},
          {"timed_out", timed_out},      {"samples", samples},             {"discarded_throttled", discarded},
          {"max_rel_stddev", max_rel_stddev}};
}

struct Outcome {
  std::string status = kStatusOk;  // the benchmark's, as it stands after its latest call
  std::optional<std::string> reason;
  nlohmann::json validation;
  double max_rel_err = 0;
  // The case's row details when its validation failed (a burn-in's time series, which says why):
  // kept for every row of it, since the case itself is not kept.
  nlohmann::json failed_details;
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
  // The suite's time budget in force: benchmarks not begun by `deadline` (steady clock) are
  // recorded as not run (harness/time_budget.hpp).
  std::optional<double> budget_s, deadline, run_start;
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

  // Whether the suite's time budget stopped the run before every benchmark was done.
  bool budget_spent() const { return budget_spent_; }

  void run_one(size_t index, benchmark::State& state) {
    Outcome& outcome = outcomes_[index];
    if (env_.deadline && steady_seconds() > *env_.deadline) {
      // Past the budget: this call is not run; a benchmark not begun at all is skipped for good.
      budget_spent_ = true;
      const std::string reason = budget_spent_reason(*env_.budget_s, steady_seconds() - *env_.run_start);
      if (outcome.repetitions.empty() && outcome.status == kStatusOk) {
        outcome.status = kStatusSkipped;
        outcome.reason = reason;
      }
      outcome.repetitions.push_back({kStatusSkipped, reason, nullptr, std::nullopt});
      state.SkipWithError(reason.c_str());
      return;
    }
    // A benchmark that failed, errored or was skipped stays so: it is not built again.
    if (active_index_ != index && outcome.status == kStatusOk) prepare(index);
    if (outcome.status != kStatusOk) {
      outcome.repetitions.push_back({outcome.status, outcome.reason, outcome.failed_details, std::nullopt});
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
      outcome.repetitions.push_back({outcome.status, outcome.reason, nullptr, std::nullopt});
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
    // What the case saw beside its number (a PCIe link, NUMA nodes, peer access), never
    // overwriting the harness's own keys.
    if (const nlohmann::json extra = active_->row_details(); extra.is_object()) {
      for (const auto& [key, value] : extra.items()) {
        if (!rep.contains(key)) rep[key] = value;
      }
    }
    outcome.repetitions.push_back({kStatusOk, std::nullopt, std::move(rep), m});
  }

  void record(const benchmark::BenchmarkReporter::Run& run) {
    const size_t index = static_cast<size_t>(run.family_index);
    const BenchmarkSpec& spec = specs_.at(index);
    const Outcome& outcome = outcomes_[index];
    const bool aggregate = run.run_type == benchmark::BenchmarkReporter::Run::RT_Aggregate;
    // The fields and names of Google Benchmark's JSONReporter: a repetition is named after its
    // benchmark, an aggregate <name>_<mean|median|stddev|cv>, so that tools which pair rows by
    // name (its compare.py) never mix the repetitions with their aggregates.
    nlohmann::json entry = {
        {"name", aggregate ? spec.name() + "_" + run.aggregate_name : spec.name()},
        {"family_index", run.family_index},
        {"per_family_instance_index", run.per_family_instance_index},
        {"run_name", spec.name()},
        {"run_type", aggregate ? "aggregate" : "iteration"},
        {"repetitions", run.repetitions},
        {"threads", run.threads},
        {"iterations", run.iterations},
        {"time_unit", time_unit_name(run.time_unit)}};
    if (aggregate) {
      entry["aggregate_name"] = run.aggregate_name;
      // The coefficient of variation is a ratio (0.01 for 1 %), not a time: as Google Benchmark
      // writes it.
      const bool ratio = run.aggregate_unit == benchmark::kPercentage;
      entry["aggregate_unit"] = ratio ? "percentage" : "time";
      entry["real_time"] = ratio ? run.real_accumulated_time : run.GetAdjustedRealTime();
    } else {
      entry["repetition_index"] = run.repetition_index;
      entry["real_time"] = run.GetAdjustedRealTime();  // the median device time of one run
    }
    // cpu_time repeats real_time. What Google Benchmark measures as CPU time here is the whole
    // call (warm-up, every sample, cache flushes), not one run, and a per-run host CPU time would
    // say nothing of the work on a GPU (the host waits on an event) while adding a second,
    // noisier clock to every sample. Equal to real_time, it keeps tools that read cpu_time
    // (compare.py's CPU column and its U test) comparing the measured number.
    entry["cpu_time"] = entry["real_time"];

    // A repetition's row carries that repetition's status (an earlier one may have been measured
    // before a later one failed); an aggregate's, the benchmark's, and a summary of the
    // repetitions it was computed from.
    Repetition row{outcome.status, outcome.reason, nullptr, std::nullopt};
    if (aggregate) {
      row.details = {{"repetitions", repetitions_summary(outcome.repetitions)}};
    } else if (run.repetition_index >= 0 &&
               static_cast<size_t>(run.repetition_index) < outcome.repetitions.size()) {
      row = outcome.repetitions[static_cast<size_t>(run.repetition_index)];
    }
    if (run.error_occurred && row.status == kStatusOk) {
      row.status = kStatusError;
      row.reason = run.error_message;
    }
    if (row.status == kStatusOk) {
      // An aggregate of a counter can be undefined: the cv of a max_rel_err that was 0 in every
      // repetition is 0/0. Left out rather than written as null.
      for (const auto& [name, counter] : run.counters) {
        if (std::isfinite(counter.value)) entry[name] = counter.value;
      }
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
        outcome.failed_details = active_->row_details();
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
  bool budget_spent_ = false;
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
    const std::unique_ptr<RE2> re = compile_filter(*options.filter);
    std::vector<BenchmarkSpec> matched;
    for (const auto& spec : selected) {
      if (RE2::PartialMatch(spec.name(), *re)) matched.push_back(spec);
    }
    if (matched.empty()) {
      std::string names;
      for (const auto& spec : selected) names += "\n  " + spec.name();
      throw InputError("--filter " + quoted_excerpt(*options.filter) + " matches none of suite '" + suite.name +
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
  const double run_start = steady_seconds();  // the suite's time budget counts from here
  try {
    check_run_options(options);
    const Suite suite = load_suite(options.suite);
    const DeviceProbe probe = probe_devices();
    const BackendChoice choice = choose_backend(options.backend, probe);
    out << "aicbench: backend " << to_string(choice.backend) << " (" << choice.reason << ")\n";
    const std::vector<BenchmarkSpec> selected = select(suite, options, choice.backend);

    MeasureEnvironment env;
    env.backend = choice.backend;
    env.config = measure_config(options, suite, choice.backend);
    nlohmann::json prov = collect_provenance(probe);
    record_health(prov, "run start");
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
    if (choice.backend == Backend::cpu) {
      // The throttle guard compares the GPU's SM clock with its maximum; a CPU run has no such
      // clock, so no threshold was in force.
      prov["methodology"]["throttle_threshold"] = nullptr;
      prov["methodology"]["throttle_guard"] = "not applicable: the cpu backend has no SM clock";
    }

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

    ResultFileName name;
    name.suite = suite.name;
    name.backend = to_string(choice.backend);
    name.host = prov["host"]["hostname"].get<std::string>();
    name.utc_time = format_time_now("%Y%m%dT%H%M%SZ");
    name.rank = options.rank;
    name.pid = static_cast<long>(::getpid());
    // The suite's time budget: refused before any file is written when what runs here cannot fit.
    if (suite.time_budget_s) {
      std::vector<BenchmarkSpec> supported;
      for (const auto& spec : selected) {
        if (!find_implementation(spec.family, spec.impl)->unsupported_reason(spec, probe)) supported.push_back(spec);
      }
      const TimeBudget budget =
          plan_time_budget(suite.name, *suite.time_budget_s, supported, env.config, options.repetitions);
      prov["time_budget"] = budget.to_json();
      env.budget_s = budget.budget_s;
      env.run_start = run_start;
      env.deadline = run_start + budget.budget_s;
      out << "aicbench: time budget " << budget.budget_s << " s; the " << budget.benchmarks
          << " benchmarks that run here may take up to " << static_cast<long long>(budget.estimate_s + 0.5) << " s\n";
    }
    ResultWriter writer(reserve_result_file(options.out_dir, name.stem()), prov, peaks);

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
    // Google Benchmark takes no flags from aicbench's command line. Repetitions run in random
    // interleaved order (its --benchmark_enable_random_interleaving), so that a drift of the
    // machine does not favour one benchmark; set on every call, since the flag outlives it.
    static char gb_program[] = "aicbench";
    std::string gb_interleave = std::string("--benchmark_enable_random_interleaving=") +
                                (options.repetitions > 1 ? "true" : "false");
    char* gb_argv[] = {gb_program, gb_interleave.data(), nullptr};
    int gb_argc = 2;
    benchmark::Initialize(&gb_argc, gb_argv);
    benchmark::ClearRegisteredBenchmarks();
    for (size_t i = 0; i < runnable.size(); ++i) {
      benchmark::RegisterBenchmark(runnable[i].name().c_str(),
                                   [&session, i](benchmark::State& state) { session.run_one(i, state); })
          ->UseManualTime()
          ->Iterations(1)  // one call = one full measurement under aicbench's stopping rule
          ->Repetitions(options.repetitions)
          // Google Benchmark's default unit: its compare.py prints times as whole numbers of
          // the file's unit, which in milliseconds would turn 1.5 ms into "2".
          ->Unit(benchmark::kNanosecond);
    }
    ResultReporter reporter(session, writer, out);
    if (!runnable.empty()) benchmark::RunSpecifiedBenchmarks(&reporter);
    session.release();
    benchmark::ClearRegisteredBenchmarks();

    // The GPUs' health again, after the load: errors the run itself provoked show here.
    record_health(writer.provenance(), "run end");
    if (suite.time_budget_s) {
      nlohmann::json& budget = writer.provenance()["time_budget"];
      budget["spent_s"] = steady_seconds() - run_start;
      budget["stopped"] = session.budget_spent();
    }
    writer.write(/*complete=*/true);
    const size_t failed = writer.count(kStatusFailed), errors = writer.count(kStatusError);
    out << "aicbench: wrote " << writer.path().string() << ": " << writer.count(kStatusOk)
        << " valid, " << failed << " failed validation, " << errors << " errors, "
        << writer.count(kStatusSkipped) << " skipped";
    if (size_t unstable = writer.count_unstable()) out << "; " << unstable << " flagged unstable";
    out << "\n";
    if (session.lost()) err << "aicbench run: " << *session.lost() << "\n";
    if (session.budget_spent()) {
      err << "aicbench run: the suite's time budget of " << *suite.time_budget_s
          << " s was spent before every benchmark ran; those not begun are recorded as not run\n";
      return 1;
    }
    return (failed + errors) > 0 ? 1 : 0;
  } catch (const InputError& e) {
    err << "aicbench run: " << e.what() << "\n";
    return e.exit_code();
  }
}

}  // namespace aicbench
