#include "harness/runner.hpp"

#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <sstream>

#include <benchmark/benchmark.h>
#include <cuda_runtime.h>
#include <re2/re2.h>
#include <unistd.h>

#include "collectives/collective_ops.hpp"
#include "collectives/mpi_job.hpp"
#include "harness/benchmark.hpp"
#include "harness/clock.hpp"
#include "harness/cuda_check.hpp"
#include "harness/device_choice.hpp"
#include "harness/file_names.hpp"
#include "harness/health.hpp"
#include "harness/provenance.hpp"
#include "harness/result_writer.hpp"
#include "harness/samplers.hpp"
#include "harness/specs.hpp"
#include "harness/telemetry.hpp"
#include "harness/time_budget.hpp"
#include "reports/result_file.hpp"
#include "reports/result_rows.hpp"

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
  check_seconds("--job-timeout", options.job_timeout_s);
  if (options.device && *options.device < 0) {
    throw InputError("--device must be a GPU number, 0 or more, got " + std::to_string(*options.device));
  }
  if (options.max_bytes && (*options.max_bytes < 1 || *options.max_bytes > kMaxCollectiveBytes)) {
    throw InputError("--max-bytes must be between 1 and " + std::to_string(kMaxCollectiveBytes) + ", got " +
                     std::to_string(*options.max_bytes));
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
  if (probe.available()) {
    // "NVIDIA H200", or "8 GPUs: NVIDIA H200" where the process sees several.
    std::string found = probe.gpus.size() == 1 ? "" : std::to_string(probe.gpus.size()) + " GPUs: ";
    std::set<std::string> models;
    for (const GpuInfo& gpu : probe.gpus) {
      if (models.insert(gpu.name).second) found += (models.size() > 1 ? ", " : "") + gpu.name;
    }
    return {Backend::cuda, "auto: found " + found};
  }
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

// Where this rank's rows go: every rank makes its rows, and after every benchmark the node leader
// gathers its node's (Job::gather over the node, deadline-bounded), adds them to the node's one
// result file and rewrites it. In a job of one the gathering is the process itself.
class RowSink {
 public:
  RowSink(const Job& job, double timeout_s, std::ostream& out, std::ostream& err)
      : job_(job), timeout_s_(timeout_s), out_(out), err_(err) {}

  // The node leader's file; null on the other ranks.
  void set_node_writer(ResultWriter* writer) { node_writer_ = writer; }
  ResultWriter* node_writer() const { return node_writer_; }

  void add(nlohmann::json row) {
    const std::string status = row["aicbench"].value("status", "");
    if (row.value("run_type", "") != "aggregate" && (status == kStatusFailed || status == kStatusError)) ++failures_;
    pending_.push_back(std::move(row));
  }
  // Rows of this rank that failed or errored: the rank's part of the exit code.
  size_t failures() const { return failures_; }

  // Gathers the rows made since the last flush on the node leader, which adds them to its file,
  // rewrites it and prints one line per row (`as_skip_lines`: "skipped NAME: REASON" on stderr,
  // for benchmarks that never reached Google Benchmark).
  void flush(const std::string& step, bool as_skip_lines = false) {
    nlohmann::json rows = nlohmann::json::array();
    for (nlohmann::json& row : pending_) rows.push_back(std::move(row));
    pending_.clear();
    std::vector<std::string> gathered;
    try {
      gathered = job_.gather(SyncScope::node, step, rows.dump(), timeout_s_);
    } catch (const JobFailure& failure) {
      // The leader's own rows of this benchmark were measured: they go into the file the
      // failure handler rewrites.
      if (node_writer_) {
        for (nlohmann::json& row : rows) node_writer_->add_row(std::move(row));
      }
      job_.fail(failure);
    }
    if (!node_writer_) return;
    for (const std::string& payload : gathered) {
      for (nlohmann::json& row : nlohmann::json::parse(payload)) {
        const std::string prefix = who(row);
        const nlohmann::json& info = row["aicbench"];
        if (as_skip_lines) {
          err_ << "aicbench: " << prefix << "skipped " << row.value("name", "") << ": " << info.value("reason", "")
               << "\n";
        }
        node_writer_->add_row(std::move(row));
        if (!as_skip_lines) out_ << prefix << node_writer_->last_entry_summary() << std::endl;
      }
    }
    node_writer_->write(/*complete=*/false);
  }

 private:
  // "rank 3: " before a row's line where several ranks share the console; "" in a job of one.
  std::string who(const nlohmann::json& row) const {
    if (!job_.multi_rank()) return "";
    const nlohmann::json origin = row["aicbench"].value("origin", nlohmann::json::object());
    if (origin.contains("spans")) return "all " + std::to_string(origin["spans"].value("ranks", 0)) + " ranks: ";
    return "rank " + std::to_string(origin.value("rank", 0)) + ": ";
  }

  const Job& job_;
  double timeout_s_;
  std::ostream& out_;
  std::ostream& err_;
  ResultWriter* node_writer_ = nullptr;
  std::vector<nlohmann::json> pending_;
  size_t failures_ = 0;
};

// Whether this rank leaves `spec` to its node's first rank: a node-level benchmark (p2p, one
// process driving every GPU) is run and recorded there alone.
bool left_to_node_leader(const BenchmarkSpec& spec, const JobLayout& layout) {
  return node_level_family(spec.family) && layout.local_rank != 0;
}

// What every rank knows of its job when it measures.
struct JobContext {
  const Job* job = nullptr;
  double timeout_s = 0;           // --job-timeout: waiting at a barrier or gathering
  // How long a benchmark's set-up, or its measurement, may run before the watchdog ends the job:
  // --job-timeout beyond what the stopping rule allows (its timeout and the warm-up).
  double work_timeout_s = 0;
  nlohmann::json origin;          // this rank's rows: node, rank, local_rank, gpu_uuid
  nlohmann::json spans_origin;    // a collective's row: the whole job (origin.spans)
  int repetitions = 1;
};

// Google Benchmark calls a benchmark's function once per repetition (Iterations(1)); the
// measurement inside it follows aicbench's own methodology. The case (inputs, device buffers) is
// built and validated on the first call and kept until another benchmark starts.
//
// In a job of several ranks every rank registers the same benchmarks in the same order; each call
// starts with a barrier of the whole job, so that every GPU of a node works at once, and runs
// under the job's watchdog. A collective (BenchmarkCase::collective()) is measured on every rank
// and recorded once, by world rank 0, with origin.spans. A node-level benchmark (p2p: one process
// drives every GPU) is run and recorded by each node's first rank alone; the node's other ranks
// pass through the same barriers without touching a GPU.
class Session {
 public:
  Session(std::vector<BenchmarkSpec> specs, std::vector<Outcome> outcomes, RowSink& sink, MeasureEnvironment env,
          JobContext job)
      : specs_(std::move(specs)), outcomes_(std::move(outcomes)), sink_(sink), env_(std::move(env)),
        job_(std::move(job)) {
    for (const BenchmarkSpec& spec : specs_) {
      collective_.push_back(parse_collective_op(spec.family).has_value());
      others_wait_.push_back(left_to_node_leader(spec, job_.job->layout()));
    }
  }

  // Set once the backend can run nothing more in this process (BackendLost, or a sticky CUDA
  // error): why, naming the benchmark that caused it.
  const std::optional<std::string>& lost() const { return lost_; }
  const BenchmarkSpec& spec(size_t index) const { return specs_.at(index); }

  // Whether the suite's time budget stopped the run before every benchmark was done.
  bool budget_spent() const { return budget_spent_; }

  void run_one(size_t index, benchmark::State& state) {
    Outcome& outcome = outcomes_[index];
    const BenchmarkSpec& spec = specs_[index];
    const Job& job = *job_.job;
    const std::string repetition =
        job_.repetitions > 1 ? " (repetition " + std::to_string(outcome.repetitions.size() + 1) + ")" : "";
    if (job.multi_rank()) {
      try {
        job.barrier(SyncScope::world, "the barrier before " + spec.name() + repetition, job_.timeout_s);
      } catch (const JobFailure& failure) {
        job.fail(failure);
      }
    }
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
    if (others_wait_[index]) {
      // The node's first rank measures this one with every GPU to itself; nothing is recorded here.
      state.SkipWithError("node-level: run by the node's first rank");
      return;
    }
    // A benchmark that failed, errored or was skipped stays so: it is not built again.
    if (active_index_ != index && outcome.status == kStatusOk) {
      // A case's own setup time (a burn-in's duration) on top of the usual allowance.
      const Implementation* impl = find_implementation(spec.family, spec.impl);
      const double setup_s = impl && impl->setup_seconds ? impl->setup_seconds(spec) : 0.0;
      const Job::Watch watch =
          job.watch("setting up and validating " + spec.name(), job_.work_timeout_s + setup_s, collective_[index]);
      prepare(index);
    }
    if (outcome.status != kStatusOk) {
      outcome.repetitions.push_back({outcome.status, outcome.reason, outcome.failed_details, std::nullopt});
      state.SkipWithError(outcome.reason->c_str());
      return;
    }
    Measurement m;
    TelemetrySummary telemetry;
    try {
      const Job::Watch watch =
          job.watch("measuring " + spec.name() + repetition, job_.work_timeout_s, collective_[index]);
      for (auto _ : state) {
        std::tie(m, telemetry) = measure_active(spec.mode);
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
    // A collective is one measurement of the whole job: every rank took part, world rank 0 records it.
    if (collective_[index] && job_.job->layout().world_rank != 0) return;
    if (others_wait_[index]) return;  // node-level: the node's first rank records it
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
    sink_.add(make_result_row(spec, std::move(entry), row.status, row.reason, outcome.validation, row.details,
                              collective_[index] ? job_.spans_origin : job_.origin));
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
      collective_[index] = active_->collective();
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
    if (active_->collective()) {
      // ---- A case that says it is a collective outside the collective families (those run apart,
      // in run_collectives): every rank makes the same calls, by nccl-tests' rules.
      hooks.warmed_up();
      m = measure_collective(*active_, config, *job_.job);
    } else if (active_->times_itself()) {
      SelfTimedSampler sampler(*active_, mode, clock);
      m = measure(sampler, config, hooks);
    } else if (env_.backend == Backend::cuda) {
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
  RowSink& sink_;
  MeasureEnvironment env_;
  JobContext job_;
  // Whether each benchmark is a collective: from its family until its case says so itself.
  std::vector<char> collective_;
  // Whether each benchmark is node-level and this rank is not its node's first (it only waits).
  std::vector<char> others_wait_;
  std::unique_ptr<BenchmarkCase> active_;
  size_t active_index_ = SIZE_MAX;
  std::optional<std::string> lost_;
  bool budget_spent_ = false;
};

// Feeds each finished benchmark's runs to the node's result file, which prints one line for
// each. (Google Benchmark's own console table would show its bookkeeping: iterations:1, CPU time
// of the whole measurement, and a warning about how Debian built its library, none of which
// applies to manual timing.)
class ResultReporter : public benchmark::BenchmarkReporter {
 public:
  ResultReporter(Session& session, RowSink& sink, std::string node_name)
      : session_(session), sink_(sink), node_name_(std::move(node_name)) {}
  bool ReportContext(const Context& context) override {
    if (sink_.node_writer()) sink_.node_writer()->set_benchmark_context(gbench_context_json(context));
    return true;
  }
  // Called once per benchmark, with its repetitions and aggregates, on every rank alike.
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& run : runs) session_.record(run);
    const std::string what =
        runs.empty() ? std::string("rows") : session_.spec(static_cast<size_t>(runs.front().family_index)).name() + "'s rows";
    sink_.flush("the gathering of " + what + " on node " + node_name_);
  }

 private:
  Session& session_;
  RowSink& sink_;
  std::string node_name_;
};

// The suite's benchmarks on `backend`, in the modes asked for, matching the filter.
std::vector<BenchmarkSpec> select(Suite suite, const RunOptions& options, Backend backend) {
  if (options.modes) suite.modes = *options.modes;
  if (options.max_bytes) suite.max_bytes = options.max_bytes;
  std::vector<BenchmarkSpec> selected = suite.benchmarks(backend);
  // Groups that need more ranks than this job has (a suite's `min_ranks`) are not this job's.
  std::erase_if(selected, [&](const BenchmarkSpec& spec) { return spec.min_ranks > options.ranks; });
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

// What one rank found while setting up, before any rank runs anything.
struct RankSetup {
  Suite suite;
  DeviceProbe probe;
  BackendChoice choice{Backend::cpu, ""};
  std::optional<DeviceChoice> device;
  std::vector<BenchmarkSpec> selected;
  std::vector<std::optional<std::string>> unsupported;  // per selected benchmark: why it cannot run here
  MeasureConfig config;
  std::optional<TimeBudget> budget;  // the suite's time budget, when it has one
};

RankSetup set_up_rank(const RunOptions& options, const Job& job) {
  check_run_options(options);
  RankSetup s;
  s.suite = load_suite_argument(options.suite);
  s.probe = probe_devices();
  s.choice = choose_backend(options.backend, s.probe);
  if (s.choice.backend == Backend::cuda) {
    DeviceRequest request;
    request.local_rank = job.layout().local_rank;
    request.local_size = job.layout().local_size;
    request.visible = static_cast<int>(s.probe.gpus.size());
    request.device = options.device;
    request.allow_shared = options.allow_shared_gpu;
    request.cuda_visible_devices = s.probe.cuda_visible_devices;
    s.device = choose_device(request);
    s.probe.device = s.device->device;
    // Every CUDA call of this process from here on (buffers, streams, kernels) is on this GPU.
    if (const cudaError_t e = cudaSetDevice(s.device->device); e != cudaSuccess) {
      throw InputError("cudaSetDevice(" + std::to_string(s.device->device) + ") failed: " + cudaGetErrorString(e), 3);
    }
  } else if (options.device) {
    throw InputError("--device " + std::to_string(*options.device) + " selects a GPU, but the backend is cpu (" +
                         s.choice.reason + ")",
                     options.backend == "cpu" ? 2 : 3);
  }
  s.selected = select(s.suite, options, s.choice.backend);
  for (const BenchmarkSpec& spec : s.selected) {
    s.unsupported.push_back(find_implementation(spec.family, spec.impl)->unsupported_reason(spec, s.probe));
  }
  s.config = measure_config(options, s.suite, s.choice.backend);
  // The suite's time budget: refused here, before any file is written, when what runs here
  // cannot fit (an InputError, which every rank agrees on).
  if (s.suite.time_budget_s) {
    std::vector<BenchmarkSpec> supported;
    for (size_t i = 0; i < s.selected.size(); ++i) {
      if (!s.unsupported[i]) supported.push_back(s.selected[i]);
    }
    s.budget = plan_time_budget(s.suite.name, *s.suite.time_budget_s, supported, s.config, options.repetitions);
  }
  return s;
}

// The ranks compare their lists of benchmarks by this (FNV-1a over the names, in order).
std::string fingerprint(const std::vector<BenchmarkSpec>& specs) {
  uint64_t h = 1469598103934665603ull;
  for (const BenchmarkSpec& spec : specs) {
    for (unsigned char c : spec.name() + "\n") h = (h ^ c) * 1099511628211ull;
  }
  char text[20];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(h));
  return text;
}

// "rank 2 (host a, local rank 0): no usable CUDA device; rank 5 (...): ..." for a job of several;
// the message alone for a job of one. Ranks with the same message are named together.
std::string errors_by_rank(const JobLayout& layout, const std::vector<std::pair<int, std::string>>& errors) {
  if (layout.world_size == 1 && errors.size() == 1) return errors.front().second;
  std::map<std::string, std::vector<int>> ranks_by_message;
  std::vector<std::string> order;
  for (const auto& [rank, message] : errors) {
    if (!ranks_by_message.count(message)) order.push_back(message);
    ranks_by_message[message].push_back(rank);
  }
  std::string text;
  for (const std::string& message : order) {
    const std::vector<int>& ranks = ranks_by_message[message];
    if (!text.empty()) text += "; ";
    text += layout.describe_rank(ranks.front());
    if (ranks.size() > 1) text += " and " + std::to_string(ranks.size() - 1) + " more ranks";
    text += ": " + message;
  }
  return text;
}

// Every rank's verdict on a step that could fail on some ranks only (set-up, creating the node
// files): the first failure's exit code wins... the highest, and every failing rank is named.
struct Verdict {
  bool ok = true;
  int code = 0;
  std::string message;
  nlohmann::json data = nlohmann::json::object();
};

nlohmann::json verdict_payload(const std::optional<InputError>& error) {
  return {{"ok", !error}, {"code", error ? error->exit_code() : 0}, {"error", error ? error->what() : ""}};
}

// Gathers the payloads' errors at the root; `more` may add its own checks (and data) when every
// rank succeeded.
Verdict decide_verdict(const JobLayout& layout, const std::vector<std::string>& payloads,
                       const std::function<void(const std::vector<nlohmann::json>&, Verdict&)>& more) {
  Verdict v;
  std::vector<nlohmann::json> parsed;
  std::vector<std::pair<int, std::string>> errors;
  for (size_t r = 0; r < payloads.size(); ++r) {
    parsed.push_back(nlohmann::json::parse(payloads[r]));
    if (!parsed.back().value("ok", false)) {
      errors.emplace_back(static_cast<int>(r), parsed.back().value("error", std::string("unknown error")));
      v.code = std::max(v.code, parsed.back().value("code", 2));
    }
  }
  if (!errors.empty()) {
    v.ok = false;
    v.message = errors_by_rank(layout, errors);
    return v;
  }
  if (more) more(parsed, v);
  return v;
}

std::string verdict_json(const Verdict& v) {
  return nlohmann::json{{"ok", v.ok}, {"code", v.code}, {"message", v.message}, {"data", v.data}}.dump();
}
Verdict parse_verdict(const std::string& text) {
  const nlohmann::json j = nlohmann::json::parse(text);
  return {j.value("ok", false), j.value("code", 3), j.value("message", std::string()), j.value("data", nlohmann::json::object())};
}

// The start of the run on every rank: set-up errors, backends, benchmark lists and GPUs compared
// across the job (a rank that is alone in its view would wait for steps the others never take),
// and what to skip everywhere. The root decides; everyone gets the same verdict.
Verdict agree_on_start(const Job& job, const RunOptions& options, const std::optional<RankSetup>& setup,
                       const std::optional<InputError>& error, double timeout_s) {
  const JobLayout& layout = job.layout();
  nlohmann::json mine = verdict_payload(error);
  if (setup) {
    mine["backend"] = to_string(setup->choice.backend);
    mine["backend_reason"] = setup->choice.reason;
    mine["list"] = fingerprint(setup->selected);
    mine["count"] = setup->selected.size();
    mine["uuid"] = setup->device ? setup->probe.gpu().uuid : "";
    nlohmann::json unsupported = nlohmann::json::object();
    for (size_t i = 0; i < setup->unsupported.size(); ++i) {
      if (setup->unsupported[i]) unsupported[std::to_string(i)] = *setup->unsupported[i];
    }
    mine["unsupported"] = unsupported;
  }
  const auto more = [&](const std::vector<nlohmann::json>& all, Verdict& v) {
    const nlohmann::json& root = all.front();
    for (size_t r = 1; r < all.size(); ++r) {
      if (all[r]["backend"] != root["backend"]) {
        v = {false, 3,
             "the ranks chose different backends: " + layout.describe_rank(0) + " " + root["backend"].get<std::string>() +
                 " (" + root["backend_reason"].get<std::string>() + "), " + layout.describe_rank(static_cast<int>(r)) +
                 " " + all[r]["backend"].get<std::string>() + " (" + all[r]["backend_reason"].get<std::string>() +
                 "); every rank must see the same kind of machine, or choose --backend"};
        return;
      }
      if (all[r]["list"] != root["list"]) {
        v = {false, 2,
             layout.describe_rank(static_cast<int>(r)) + " would run " + std::to_string(all[r].value("count", 0)) +
                 " benchmarks and " + layout.describe_rank(0) + " " + std::to_string(root.value("count", 0)) +
                 ", or others: every rank must run the same suite, filter and modes from the same aicbench build"};
        return;
      }
    }
    // Two ranks of one node on one GPU, found by UUID (each may see one device, the same one).
    std::map<int, std::vector<RankGpu>> by_node;
    for (size_t r = 0; r < all.size(); ++r) {
      const int rank = static_cast<int>(r);
      by_node[layout.node_of_rank[r]].push_back({rank, layout.local_rank_of[r], all[r].value("uuid", "")});
    }
    for (const auto& [node, ranks] : by_node) {
      if (auto problem = shared_gpu_problem(ranks, layout.node_names[static_cast<size_t>(node)], options.allow_shared_gpu)) {
        v = {false, 3, *problem};
        return;
      }
    }
    // A benchmark that some ranks cannot run (a node with GPUs of two kinds) still reaches Google
    // Benchmark on every rank, so that all take the same steps, and is recorded as skipped on
    // those ranks; one that no rank can run is recorded as skipped by each, up front.
    nlohmann::json skip_all = nlohmann::json::array();
    for (size_t i = 0; i < setup->selected.size(); ++i) {
      const std::string key = std::to_string(i);
      if (std::all_of(all.begin(), all.end(), [&](const nlohmann::json& r) { return r["unsupported"].contains(key); })) {
        skip_all.push_back(i);
      }
    }
    v.data = {{"skip_all", skip_all}, {"utc_time", format_time_now("%Y%m%dT%H%M%SZ")}};
  };
  try {
    return parse_verdict(job.agree(SyncScope::world, "the start of the run", mine.dump(), timeout_s,
                                   [&](const std::vector<std::string>& payloads) {
                                     return verdict_json(decide_verdict(layout, payloads, more));
                                   }));
  } catch (const JobFailure& failure) {
    job.fail(failure);
  }
}

// A step that may fail on some ranks only, agreed on by all (no extra checks).
Verdict agree_on(const Job& job, const std::string& step, const std::optional<InputError>& error, double timeout_s) {
  try {
    return parse_verdict(job.agree(SyncScope::world, step, verdict_payload(error).dump(), timeout_s,
                                   [&](const std::vector<std::string>& payloads) {
                                     return verdict_json(decide_verdict(job.layout(), payloads, nullptr));
                                   }));
  } catch (const JobFailure& failure) {
    job.fail(failure);
  }
}

// One rank's GPU, told to its node leader: what the node file's context.aicbench.gpus is built of.
nlohmann::json rank_gpu_payload(const JobLayout& layout, const nlohmann::json& prov, const RankSetup& setup,
                                const nlohmann::json& telemetry, const std::map<std::string, double>& peaks,
                                const std::map<std::string, double>& peak_gbps) {
  nlohmann::json p = {{"rank", layout.world_rank}, {"local_rank", layout.local_rank}, {"visible", prov["gpus"]},
                      {"peaks", peaks}, {"peak_gbps", peak_gbps}, {"telemetry", telemetry}};
  if (setup.device) {
    p["uuid"] = setup.probe.gpu().uuid;
    p["name"] = setup.probe.gpu().name;
    p["device"] = setup.device->device;
    p["reason"] = setup.device->reason;
  }
  return p;
}

// The node leader's context.aicbench.gpus: every GPU any rank of the node sees, each once (by
// UUID), in local-rank order and each rank's CUDA order, `index` their place in this list; the
// GPUs that ranks measured carry their power limit and telemetry. Says which rank has which.
nlohmann::json node_gpus(const std::vector<nlohmann::json>& ranks, std::ostream& out, bool multi) {
  nlohmann::json gpus = nlohmann::json::array();
  const auto position = [&](const std::string& uuid) -> std::optional<size_t> {
    for (size_t i = 0; i < gpus.size(); ++i) {
      if (gpus[i].value("uuid", "") == uuid) return i;
    }
    return std::nullopt;
  };
  for (const nlohmann::json& rank : ranks) {
    for (const nlohmann::json& gpu : rank["visible"]) {
      if (!position(gpu.value("uuid", ""))) gpus.push_back(gpu);
    }
  }
  for (size_t i = 0; i < gpus.size(); ++i) gpus[i]["index"] = i;
  for (const nlohmann::json& rank : ranks) {
    if (!rank.contains("uuid")) continue;
    const size_t i = *position(rank["uuid"].get<std::string>());
    gpus[i]["power_limit_w"] = rank["telemetry"].value("power_limit_w", nlohmann::json(nullptr));
    gpus[i]["telemetry"] = rank["telemetry"];
    out << "aicbench: " << (multi ? "rank " + std::to_string(rank["rank"].get<int>()) + ": " : std::string())
        << "GPU " << i << " (CUDA device " << rank["device"].get<int>() << "), " << rank["name"].get<std::string>()
        << ", " << rank["uuid"].get<std::string>() << ": " << rank["reason"].get<std::string>() << "\n";
  }
  return gpus;
}

}  // namespace

int run_benchmarks(const RunOptions& given, std::ostream& out, std::ostream& err) {
  const double run_start = steady_seconds();  // the suite's time budget counts from here
  const Job& job = given.job ? *given.job : Job::current();
  const JobLayout& layout = job.layout();
  // The job, not the caller, says which rank this is.
  RunOptions options = given;
  options.rank = layout.world_rank;
  options.ranks = layout.world_size;
  const bool multi = job.multi_rank();
  const bool speaks = layout.world_rank == 0;  // says what concerns the whole job, once

  // ---- Set-up on every rank; errors are agreed on before anyone goes further, so that no rank
  // waits at a step that another rank, having given up, will never reach.
  std::optional<RankSetup> setup;
  std::optional<InputError> error;
  try {
    setup = set_up_rank(options, job);
  } catch (const InputError& e) {
    error = e;
  }
  double timeout_s = options.job_timeout_s.value_or(
      default_job_timeout(setup ? setup->config.rule.timeout_s : StoppingRule{}.timeout_s));
  if (!(std::isfinite(timeout_s) && timeout_s > 0 && timeout_s <= kMaxOptionSeconds)) timeout_s = kMaxOptionSeconds;
  const Verdict start = agree_on_start(job, options, setup, error, timeout_s);
  if (!start.ok) {
    if (speaks) err << "aicbench run: " << start.message << "\n";
    return start.code;
  }
  RankSetup& s = *setup;
  if (speaks) out << "aicbench: backend " << to_string(s.choice.backend) << " (" << s.choice.reason << ")\n";

  MeasureEnvironment env;
  env.backend = s.choice.backend;
  env.config = s.config;
  nlohmann::json prov = collect_provenance(s.probe);
  record_health(prov, "run start");
  prov["command_line"] = options.command_line;
  prov["suite"] = s.suite.name;
  prov["suite_version"] = s.suite.version;
  if (s.suite.user_file) prov["suite_file"] = s.suite.path.string();
  prov["backend"] = to_string(s.choice.backend);
  prov["backend_reason"] = s.choice.reason;
  prov["rank"] = layout.world_rank;  // the node leader's, in its file
  prov["ranks"] = layout.world_size;
  const bool interleaved = options.repetitions > 1 && !multi;
  const StoppingRule& rule = env.config.rule;
  prov["methodology"] = {{"min_samples", rule.min_samples},
                         {"min_time_s", rule.min_time_s},
                         {"max_noise", rule.max_noise},
                         {"timeout_s", rule.timeout_s},
                         {"throttle_threshold", env.config.throttle_threshold},
                         {"repetitions", options.repetitions},
                         // Google Benchmark shuffles with a seed of its own on every rank: a job
                         // of several ranks runs repetitions back to back, in the same order.
                         {"random_interleaving", interleaved},
                         {"timer", s.choice.backend == Backend::cpu ? "steady clock (wall time)"
                                   : options.blocking_kernel
                                       ? "CUDA events around work held behind a blocking kernel"
                                       : "CUDA events, no blocking kernel (host launch latency may be included)"}};
  if (s.choice.backend == Backend::cpu) {
    // The throttle guard compares the GPU's SM clock with its maximum; a CPU run has no such
    // clock, so no threshold was in force.
    prov["methodology"]["throttle_threshold"] = nullptr;
    prov["methodology"]["throttle_guard"] = "not applicable: the cpu backend has no SM clock";
  }
  if (s.budget) {
    prov["time_budget"] = s.budget->to_json();
    env.budget_s = s.budget->budget_s;
    env.run_start = run_start;
    env.deadline = run_start + s.budget->budget_s;
    if (speaks) {
      out << "aicbench: time budget " << s.budget->budget_s << " s; the " << s.budget->benchmarks
          << " benchmarks that run here may take up to " << static_cast<long long>(s.budget->estimate_s + 0.5) << " s\n";
    }
  }
  prov["job"] = {{"launcher", to_string(layout.launcher)},
                 {"ranks", layout.world_size},
                 {"nodes", layout.nodes},
                 {"node", layout.node_name},
                 {"node_index", layout.node_index},
                 {"node_ranks", layout.node_ranks},
                 {"ranks_per_node", layout.ranks_per_node},
                 {"timeout_s", timeout_s}};

  std::map<std::string, double> peaks, peak_gbps;
  GpuTelemetry opened = no_gpu_telemetry("cpu backend: GPU telemetry does not apply");
  std::unique_ptr<CudaMeasureResources> cuda_resources;
  std::optional<InputError> local_error;
  if (s.choice.backend == Backend::cuda) {
    const GpuInfo& gpu = s.probe.gpu();
    if (auto sheet = find_datasheet(gpu.name)) {
      peaks = sheet->peak_tflops;
      peak_gbps = sheet->peak_gbps;
      prov["datasheet"] = {{"sku", sheet->sku}, {"source", sheet->source}};
    } else {
      prov["datasheet"] = nullptr;  // unknown GPU: pct_of_peak is omitted
    }
    opened = open_gpu_telemetry(gpu.pci_bus_id);
    cuda_resources = std::make_unique<CudaMeasureResources>(static_cast<size_t>(gpu.l2_bytes), options.blocking_kernel);
    env.cuda = cuda_resources.get();
  }
  record_telemetry(prov, opened, static_cast<size_t>(s.probe.device));
  const nlohmann::json rank_gpu = rank_gpu_payload(layout, prov, s, opened.provenance, peaks, peak_gbps);
  const std::unique_ptr<TelemetrySource> telemetry = std::move(opened.source);
  env.telemetry = telemetry.get();
  env.telemetry_unavailable = opened.unavailable_reason;
  if (telemetry) env.max_sm_clock_mhz = telemetry->max_sm_clock_mhz();

  // ---- The node's one result file: its leader gathers what each rank measures on.
  std::vector<std::string> gpus_of_ranks;
  try {
    gpus_of_ranks = job.gather(SyncScope::node, "the gathering of the GPUs of node " + layout.node_name,
                               rank_gpu.dump(), timeout_s);
  } catch (const JobFailure& failure) {
    job.fail(failure);
  }
  std::unique_ptr<ResultWriter> writer;
  if (job.node_leader()) {
    try {
      std::vector<nlohmann::json> ranks;
      for (const std::string& payload : gpus_of_ranks) ranks.push_back(nlohmann::json::parse(payload));
      out << "aicbench: telemetry: " << describe_telemetry(prov["telemetry"]) << "\n";
      ResultFileName name;
      name.suite = s.suite.name;
      name.backend = to_string(s.choice.backend);
      name.host = prov["host"]["hostname"].get<std::string>();
      name.utc_time = start.data.value("utc_time", format_time_now("%Y%m%dT%H%M%SZ"));
      if (multi) name.node = layout.node_index;
      name.rank = layout.world_rank;
      if (options.device) name.gpu = *options.device;
      name.pid = static_cast<long>(::getpid());
      prov["gpus"] = node_gpus(ranks, out, multi);
      writer = std::make_unique<ResultWriter>(reserve_result_file(options.out_dir, name.stem()), prov, peaks, peak_gbps);
      for (const nlohmann::json& rank : ranks) {  // each row's pct_of_peak from its own GPU's datasheet
        writer->set_peak_tflops_for_rank(rank["rank"].get<int>(), rank["peaks"].get<std::map<std::string, double>>(),
                                         rank.value("peak_gbps", std::map<std::string, double>{}));
      }
      writer->write(false);
    } catch (const InputError& e) {
      local_error = e;
    }
  }
  if (const Verdict files = agree_on(job, "the creation of every node's result file", local_error, timeout_s); !files.ok) {
    if (speaks) err << "aicbench run: " << files.message << "\n";
    return files.code;
  }

  // From here on a failure of the job (a rank that dies, stops or hangs) ends it through
  // Job::fail(): the node's file keeps every row gathered so far, says why it stopped, and stays
  // complete: false.
  bool completed = false;
  job.on_failure([&](const JobFailure& failure) {
    if (!failure.told_by_root()) err << "aicbench run: " << failure.what() << "\n";
    if (writer) {
      try {
        writer->set_aborted_reason(failure.what());
        writer->write(completed);
        err << "aicbench run: kept " << writer->path().string() << " (complete: " << (completed ? "true" : "false")
            << ") with the rows measured before the job failed\n";
      } catch (const std::exception& e) {
        err << "aicbench run: could not rewrite " << writer->path().string() << ": " << e.what() << "\n";
      }
    }
    err.flush();
  });
  struct ForgetHandler {
    const Job& job;
    ~ForgetHandler() { job.on_failure(nullptr); }
  } forget_handler{job};

  try {
  RowSink sink(job, timeout_s, out, err);
  sink.set_node_writer(writer.get());
  JobContext context;
  context.job = &job;
  context.timeout_s = timeout_s;
  context.work_timeout_s = timeout_s + s.config.rule.timeout_s + s.config.warmup_max_s;
  context.repetitions = options.repetitions;
  context.origin = {{"node", layout.node_name}, {"rank", layout.world_rank}, {"local_rank", layout.local_rank}};
  if (s.device) context.origin["gpu_uuid"] = s.probe.gpu().uuid;
  context.spans_origin = {{"node", layout.node_names.empty() ? layout.node_name : layout.node_names.front()},
                          {"rank", 0},
                          {"spans", {{"ranks", layout.world_size}, {"nodes", layout.nodes}, {"hosts", layout.node_names}}}};

  // Benchmarks that cannot run here are recorded as skipped, with the reason; the rest go to
  // Google Benchmark, on every rank alike (a rank that cannot run one of them records it as
  // skipped when its turn comes).
  std::set<size_t> skip_all;
  for (const auto& i : start.data["skip_all"]) skip_all.insert(i.get<size_t>());
  std::vector<BenchmarkSpec> runnable, collectives;
  std::vector<Outcome> outcomes;
  for (size_t i = 0; i < s.selected.size(); ++i) {
    const BenchmarkSpec& spec = s.selected[i];
    if (collective_op(spec)) {  // run apart, after the others, by every rank together (below)
      collectives.push_back(spec);
      continue;
    }
    if (skip_all.count(i)) {
      if (left_to_node_leader(spec, layout)) continue;  // the node's first rank says so
      sink.add(make_result_row(spec, nlohmann::json::object(), kStatusSkipped, s.unsupported[i], nullptr, nullptr,
                               context.origin));
    } else {
      runnable.push_back(spec);
      Outcome outcome;
      if (s.unsupported[i]) {
        outcome.status = kStatusSkipped;
        outcome.reason = s.unsupported[i];
      }
      outcomes.push_back(std::move(outcome));
    }
  }
  sink.flush("the gathering of the skipped benchmarks' rows on node " + layout.node_name, /*as_skip_lines=*/true);
  if (writer) out << "aicbench: writing " << writer->path().string() << " (updated after every benchmark)\n";

  CollectiveRunEnvironment collective_env;
  collective_env.job = &job;
  collective_env.probe = &s.probe;
  collective_env.config = env.config;
  collective_env.telemetry_unavailable = env.telemetry_unavailable;
  collective_env.console = options.console;
  collective_env.repetitions = options.repetitions;
  collective_env.watch_timeout_s = context.work_timeout_s;
  collective_env.budget_s = env.budget_s;
  collective_env.deadline = env.deadline;
  collective_env.run_start = env.run_start;

  Session session(runnable, std::move(outcomes), sink, std::move(env), context);
  // Google Benchmark takes no flags from aicbench's command line. Repetitions run in random
  // interleaved order (its --benchmark_enable_random_interleaving), so that a drift of the
  // machine does not favour one benchmark, in a process of its own; set on every call, since the
  // flag outlives it.
  static char gb_program[] = "aicbench";
  std::string gb_interleave =
      std::string("--benchmark_enable_random_interleaving=") + (interleaved ? "true" : "false");
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
  ResultReporter reporter(session, sink, layout.node_name);
  if (!runnable.empty()) benchmark::RunSpecifiedBenchmarks(&reporter);
  session.release();
  benchmark::ClearRegisteredBenchmarks();

  // ---- Collectives: every rank runs the same ones in suite order, outside Google Benchmark's
  // interleaving, timed by nccl-tests' rules; world rank 0 records them in its node's file
  // (harness/collective_measurement.hpp).
  const CollectiveRunSummary collective =
      run_collectives(collectives, collective_env, layout.world_rank == 0 ? writer.get() : nullptr, out, err);

  int code = sink.failures() + collective.failed + collective.errors > 0 ? 1 : 0;
  if (session.budget_spent() || collective.budget_spent) {
    err << "aicbench run: " << (multi ? layout.describe_rank(layout.world_rank) + ": " : "") << "the suite's time budget of "
        << *s.suite.time_budget_s << " s was spent before every benchmark ran; those not begun are recorded as not run\n";
    code = std::max(code, 1);
  }
  if (writer) {
    // The GPUs' health again, after the load (every GPU of the node: NVML sees them all): errors
    // the run itself provoked show here. The time budget as the leader spent it.
    record_health(writer->provenance(), "run end");
    if (s.budget) {
      nlohmann::json& budget = writer->provenance()["time_budget"];
      budget["spent_s"] = steady_seconds() - run_start;
      budget["stopped"] = session.budget_spent() || collective.budget_spent;
    }
    try {
      writer->write(/*complete=*/true);
      completed = true;
    } catch (const InputError& e) {
      err << "aicbench run: " << e.what() << "\n";
      code = std::max(code, e.exit_code());
    }
  }
  // Every rank's exit code is the job's: 1 where any rank's benchmark failed or errored.
  try {
    code = std::stoi(job.agree(SyncScope::world, "the end of the run", std::to_string(code), timeout_s,
                               [](const std::vector<std::string>& codes) {
                                 int worst = 0;
                                 for (const std::string& c : codes) worst = std::max(worst, std::stoi(c));
                                 return std::to_string(worst);
                               }));
  } catch (const JobFailure& failure) {
    job.fail(failure);
  }
  if (writer) {
    const size_t failed = writer->count(kStatusFailed), errors = writer->count(kStatusError);
    out << "aicbench: wrote " << writer->path().string() << ": " << writer->count(kStatusOk) << " valid, " << failed
        << " failed validation, " << errors << " errors, " << writer->count(kStatusSkipped) << " skipped";
    if (size_t unstable = writer->count_unstable()) out << "; " << unstable << " flagged unstable";
    out << "\n";
  }
  if (session.lost()) err << "aicbench run: " << (multi ? layout.describe_rank(layout.world_rank) + ": " : "") << *session.lost() << "\n";
  return code;
  } catch (const InputError& e) {
    // A file that cannot be rewritten (a full disk) while the others measure: in a job of several
    // the others would wait for this rank, so the job ends here, saying why.
    if (multi) job.fail(JobFailure(layout.describe_rank(layout.world_rank) + ": " + e.what(), {}, false, e.exit_code()));
    err << "aicbench run: " << e.what() << "\n";
    return e.exit_code();
  }
}

}  // namespace aicbench
