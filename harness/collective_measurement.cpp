#include "harness/collective_measurement.hpp"

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <ostream>
#include <stdexcept>
#include <type_traits>

#include <cuda_runtime.h>

#include "collectives/mpi_job.hpp"
#include "harness/clock.hpp"
#include "harness/cuda_check.hpp"
#include "harness/nccl_tests_console.hpp"
#include "harness/result_writer.hpp"
#include "harness/statistics.hpp"
#include "harness/time_budget.hpp"
#include "reports/result_file.hpp"

namespace aicbench {

// ==== Sizes, inputs, bandwidth: the parts every backend shares

std::optional<int64_t> collective_element_bytes(std::string_view dtype) {
  if (dtype == "fp32" || dtype == "int32") return 4;
  if (dtype == "bf16" || dtype == "fp16") return 2;
  if (dtype == "fp64") return 8;
  if (dtype == "fp8") return 1;
  return std::nullopt;
}

std::optional<CollectiveOp> collective_op(const BenchmarkSpec& spec) { return parse_collective_op(spec.family); }

CollectiveShape collective_shape(const BenchmarkSpec& spec, int ranks) {
  const std::optional<CollectiveOp> op = collective_op(spec);
  const std::optional<int64_t> elt = collective_element_bytes(spec.dtype);
  if (!op || !elt || ranks < 1) throw std::logic_error("collective_shape: " + spec.name() + " is not a collective");
  CollectiveShape s;
  s.op = *op;
  s.ranks = ranks;
  s.element_bytes = *elt;
  s.in_place = spec.param("in_place") != 0;
  const int64_t elements = spec.param("bytes") / *elt;
  // nccl-tests: blocks of a multiple of 16 bytes, so that every rank's block stays aligned.
  const int64_t align = std::max<int64_t>(1, 16 / *elt);
  const int64_t block = elements / ranks / align * align;
  switch (s.op) {
    case CollectiveOp::all_reduce:
    case CollectiveOp::broadcast:
      s.count = s.send_count = s.recv_count = elements;
      break;
    case CollectiveOp::all_gather:
      s.count = s.send_count = block;
      s.recv_count = block * ranks;
      break;
    case CollectiveOp::reduce_scatter:
      s.count = s.recv_count = block;
      s.send_count = block * ranks;
      break;
    case CollectiveOp::all_to_all:
      s.count = block;
      s.send_count = s.recv_count = block * ranks;
      break;
  }
  return s;
}

double collective_input_value(int rank, int64_t index) {
  return static_cast<double>((int64_t(rank) * 3 + index * 7 + index / 7) % 5) - 2;
}

double collective_tag_value(int rank, int64_t index) {
  return static_cast<double>((int64_t(rank) * 31 + index) % 251) - 125;
}

int64_t collective_calls_per_sample(double seconds_per_call, double sample_target_s) {
  if (!(seconds_per_call > 0)) return kMaxCallsPerSample;
  const double calls = std::ceil(sample_target_s / seconds_per_call);
  return static_cast<int64_t>(std::clamp(calls, 1.0, static_cast<double>(kMaxCallsPerSample)));
}

CollectiveBandwidth collective_bandwidth(const CollectiveShape& shape, double seconds) {
  CollectiveBandwidth bw;
  if (!(seconds > 0)) return bw;
  bw.algbw_gbps = static_cast<double>(shape.bytes()) / seconds / 1e9;
  bw.busbw_gbps = bw.algbw_gbps * shape.busbw_factor();
  return bw;
}

std::optional<ConsoleStyle> parse_console_style(std::string_view name) {
  if (name == "aicbench") return ConsoleStyle::aicbench;
  if (name == "nccl-tests") return ConsoleStyle::nccl_tests;
  return std::nullopt;
}

Validation CollectiveCase::validate() {
  connect_once();
  const int64_t wrong = count_wrong();
  Validation v;
  v.passed = wrong == 0;
  v.details = {{"wrong_elements", wrong}, {"max_rel_err", 0}, {"tolerance", 0}};
  if (!v.passed) v.message = std::to_string(wrong) + " wrong elements on this rank";
  return v;
}

namespace {

// ==== The job's ranks, as measuring needs them

// MPI collectives over the job's world communicator; in a job of one without MPI, the identity.
class Ranks {
 public:
  explicit Ranks(const Job& job) : layout_(job.layout()) {
#if AICBENCH_WITH_MPI
    if (job.uses_mpi()) world_ = job.world();
#endif
  }
  int rank() const { return layout_.world_rank; }
  const JobLayout& layout() const { return layout_; }

  void barrier() const {
#if AICBENCH_WITH_MPI
    if (world_ != MPI_COMM_NULL) check(MPI_Barrier(world_), "MPI_Barrier");
#endif
  }
  template <typename T>
  T reduce(T mine, bool maximum) const {  // MPI_MAX or MPI_MIN over every rank
#if AICBENCH_WITH_MPI
    if (world_ != MPI_COMM_NULL) {
      T all{};
      check(MPI_Allreduce(&mine, &all, 1, type<T>(), maximum ? MPI_MAX : MPI_MIN, world_), "MPI_Allreduce");
      return all;
    }
#endif
    (void)maximum;
    return mine;
  }
  int64_t sum(int64_t mine) const {
#if AICBENCH_WITH_MPI
    if (world_ != MPI_COMM_NULL) {
      int64_t all = 0;
      check(MPI_Allreduce(&mine, &all, 1, MPI_INT64_T, MPI_SUM, world_), "MPI_Allreduce");
      return all;
    }
#endif
    return mine;
  }
  template <typename T>
  T broadcast(T value, int root = 0) const {
#if AICBENCH_WITH_MPI
    if (world_ != MPI_COMM_NULL) check(MPI_Bcast(&value, 1, type<T>(), root, world_), "MPI_Bcast");
#endif
    (void)root;
    return value;
  }
  std::string broadcast(std::string text, int root) const {
#if AICBENCH_WITH_MPI
    if (world_ != MPI_COMM_NULL) {
      int length = broadcast(static_cast<int>(text.size()), root);
      text.resize(static_cast<size_t>(length));
      check(MPI_Bcast(text.data(), length, MPI_CHAR, root, world_), "MPI_Bcast");
    }
#endif
    (void)root;
    return text;
  }
  // Every rank's host name, in node order without repeats.
  std::vector<std::string> hosts() const {
    std::vector<std::string> hosts = {layout_.node_name};
#if AICBENCH_WITH_MPI
    if (world_ != MPI_COMM_NULL) {
      constexpr int kName = 256;
      std::vector<char> mine(kName, '\0'), all(size_t(kName) * size_t(layout_.world_size), '\0');
      std::strncpy(mine.data(), layout_.node_name.c_str(), kName - 1);
      check(MPI_Allgather(mine.data(), kName, MPI_CHAR, all.data(), kName, MPI_CHAR, world_), "MPI_Allgather");
      hosts.clear();
      for (int r = 0; r < layout_.world_size; ++r) {
        std::string name(all.data() + size_t(r) * kName);
        if (std::find(hosts.begin(), hosts.end(), name) == hosts.end()) hosts.push_back(name);
      }
    }
#endif
    return hosts;
  }
 private:
#if AICBENCH_WITH_MPI
  template <typename T>
  static MPI_Datatype type() {
    if constexpr (std::is_same_v<T, int>) return MPI_INT;
    else if constexpr (std::is_same_v<T, int64_t>) return MPI_INT64_T;
    else if constexpr (std::is_same_v<T, uint64_t>) return MPI_UINT64_T;
    else return MPI_DOUBLE;
  }
  static void check(int code, const char* call) {
    if (code != MPI_SUCCESS) throw std::runtime_error(std::string(call) + " failed during a collective benchmark");
  }
  MPI_Comm world_ = MPI_COMM_NULL;
#endif
  const JobLayout& layout_;
};

// CUDA events around a cuda case's calls, made on first use.
class EventPair {
 public:
  ~EventPair() {
    if (start_) cudaEventDestroy(start_);
    if (stop_) cudaEventDestroy(stop_);
  }
  double seconds(cudaStream_t stream, BenchmarkCase& c, int64_t calls) {
    if (!start_) {
      CUDA_CHECK(cudaEventCreate(&start_));
      CUDA_CHECK(cudaEventCreate(&stop_));
    }
    CUDA_CHECK(cudaEventRecord(start_, stream));
    for (int64_t i = 0; i < calls; ++i) c.run();
    CUDA_CHECK(cudaEventRecord(stop_, stream));
    CUDA_CHECK(cudaEventSynchronize(stop_));
    float ms = 0;
    CUDA_CHECK(cudaEventElapsedTime(&ms, start_, stop_));
    return ms * 1e-3;
  }

 private:
  cudaEvent_t start_ = nullptr, stop_ = nullptr;
};

// `calls` calls begun together by every rank: the slowest rank's seconds per call.
double slowest_per_call(BenchmarkCase& c, int64_t calls, const Ranks& ranks, EventPair& events) {
  ranks.barrier();
  double seconds = 0;
  if (cudaStream_t stream = c.stream()) {
    seconds = events.seconds(stream, c, calls);
  } else {
    const double t0 = steady_seconds();
    for (int64_t i = 0; i < calls; ++i) c.run();
    seconds = steady_seconds() - t0;
  }
  return ranks.reduce(seconds / static_cast<double>(calls), /*maximum=*/true);
}

// ==== One benchmark on every rank

struct Outcome {
  std::string status = kStatusOk;
  std::optional<std::string> reason;
  std::optional<int64_t> wrong;   // summed over ranks, once validated
  nlohmann::json validation;      // rank 0's validation details, where the case gives any
  std::optional<Measurement> measurement;
  bool budget_spent = false;  // not begun: the suite's time budget was spent
};

// A status as a number that orders them: the worst of the ranks' wins.
int severity(const std::string& status) {
  if (status == kStatusOk) return 0;
  if (status == kStatusSkipped) return 1;
  if (status == kStatusFailed) return 2;
  return 3;
}
const std::string& status_of(int severity) {
  static const std::string names[] = {kStatusOk, kStatusSkipped, kStatusFailed, kStatusError};
  return names[std::clamp(severity, 0, 3)];
}

// Every rank's view of a step becomes the job's: the worst status of any rank, with the reason of
// the lowest rank that had it (named, where the ranks did not all agree).
void agree(const Ranks& ranks, Outcome& o) {
  const int mine = severity(o.status);
  const int worst = ranks.reduce(mine, true), best = ranks.reduce(mine, false);
  if (worst == 0) return;
  const int teller = ranks.reduce(mine == worst ? ranks.rank() : INT_MAX, false);
  std::string reason = o.reason.value_or(o.status);
  if (best != worst && ranks.rank() == teller) {
    reason = "rank " + std::to_string(teller) + " on " + ranks.layout().node_name + ": " + reason;
  }
  o.status = status_of(worst);
  o.reason = ranks.broadcast(reason, teller);
}

// Every rank must run the same list: compared by a hash of the names.
void check_same_benchmarks(const Ranks& ranks, const std::vector<BenchmarkSpec>& specs) {
  uint64_t hash = 1469598103934665603ull;
  for (const auto& spec : specs) {
    for (char ch : spec.name() + "\n") hash = (hash ^ static_cast<unsigned char>(ch)) * 1099511628211ull;
  }
  if (ranks.reduce(hash, false) != ranks.reduce(hash, true)) {
    throw InputError("the ranks of this job were given different collective benchmarks; every rank must run the "
                     "same suite with the same --filter and options");
  }
}

Outcome run_one(const BenchmarkSpec& spec, const CollectiveRunEnvironment& env, const Job& job, const Ranks& ranks) {
  Outcome o;
  const JobLayout& l = job.layout();
  const Implementation* impl = find_implementation(spec.family, spec.impl);
  // Each step runs on every rank, then the ranks agree on how it went before the next.
  auto step = [&](const char* what, auto&& body) {
    if (o.status == kStatusOk) {
      try {
        body();
      } catch (const UnsupportedHere& e) {
        o.status = kStatusSkipped;
        o.reason = e.what();
      } catch (const std::exception& e) {
        o.status = kStatusError;
        o.reason = std::string(what) + e.what();
      }
    }
    agree(ranks, o);
    return o.status == kStatusOk;
  };
  // The suite's time budget: world rank 0's clock decides, so that every rank skips the same ones.
  if (env.deadline) {
    const double elapsed = steady_seconds() - env.run_start.value_or(0);
    const bool spent = ranks.rank() == 0 && steady_seconds() > *env.deadline;
    const std::string reason = ranks.broadcast(spent ? budget_spent_reason(*env.budget_s, elapsed) : std::string(), 0);
    if (!reason.empty()) {
      o.status = kStatusSkipped;
      o.reason = reason;
      o.budget_spent = true;
      return o;
    }
  }
  std::unique_ptr<BenchmarkCase> made;
  CollectiveCase* c = nullptr;  // null for a case that validates itself (validate())
  if (!step("cannot tell whether it runs here: ", [&] {
        if (auto why = impl->unsupported_reason(spec, *env.probe)) {
          o.status = kStatusSkipped;
          o.reason = *why;
        }
      })) {
    return o;
  }
  if (!step("failed to set up: ", [&] {
        made = impl->make(spec);
        if (!made->collective()) throw std::logic_error("implementation " + spec.impl + " made a case that is not a collective");
        c = dynamic_cast<CollectiveCase*>(made.get());
      })) {
    return o;
  }
  if (c && !step("failed to connect the ranks: ", [&] { c->connect_once(); })) return o;
  int64_t wrong = 0;
  if (!step("failed to validate: ", [&] {
        const Validation v = made->validate();
        if (!c) o.validation = v.details;  // a cuda case's own details (rank 0's are written)
        wrong = collective_wrong_elements(v);
      })) {
    return o;
  }
  o.wrong = ranks.sum(wrong);
  if (*o.wrong != 0) {
    const CollectiveShape shape = collective_shape(spec, l.world_size);
    o.status = kStatusFailed;
    o.reason = std::to_string(*o.wrong) + " wrong elements in the outputs of " + std::to_string(l.world_size) +
               " ranks (" + std::to_string(shape.recv_count) + " elements each); every result is exact, so every "
               "element must match";
    return o;
  }
  try {
    o.measurement = measure_collective(*made, env.config, job);
  } catch (const std::exception& e) {
    // The other ranks are inside the same collective or the next barrier and cannot be told: the
    // job cannot go on (Job::fail keeps the result files, with what was measured before).
    const std::string what = "rank " + std::to_string(l.world_rank) + " on " + l.node_name + ": " + spec.name() +
                             " failed while measuring: " + e.what() + " (the other ranks were waiting in it)";
    if (job.multi_rank()) job.fail(JobFailure(what, {}, false, 3));
    o.status = kStatusError;
    o.reason = what;
    o.measurement.reset();
  }
  return o;
}

std::string table_name(const BenchmarkSpec& spec, const JobLayout& l) {
  return spec.family + "/" + spec.impl + "/" + spec.dtype + " (" + to_string(spec.backend) + ", " +
         std::to_string(l.world_size) + (l.world_size == 1 ? " rank" : " ranks") + " on " + std::to_string(l.nodes) +
         (l.nodes == 1 ? " node" : " nodes") + "): nccl-tests' columns";
}

}  // namespace

int64_t collective_wrong_elements(const Validation& local) {
  const nlohmann::json& d = local.details;
  if (d.is_object() && d.contains("wrong_elements") && d["wrong_elements"].is_number_integer()) {
    return d["wrong_elements"].get<int64_t>();
  }
  return local.passed ? 0 : 1;
}

Measurement measure_collective(BenchmarkCase& c, const MeasureConfig& config, const Job& job) {
  const Ranks ranks(job);
  const int rank = ranks.rank();
  EventPair events;
  Measurement m;
  m.mode = MeasureMode::hot;
  for (int i = 0; i < kWarmupCalls; ++i) c.run();
  if (cudaStream_t stream = c.stream()) CUDA_CHECK(cudaStreamSynchronize(stream));
  m.warmup_runs = 1 + kWarmupCalls;  // the validation's call, then these
  // Batches of 1, 2, 4, ... calls until one lasts a sample's target: the time per call. Rank 0
  // decides whether to go on, and says so.
  double per_call = 0;
  for (int64_t batch = 1;; batch *= 2) {
    per_call = slowest_per_call(c, batch, ranks, events);
    m.warmup_runs += static_cast<int>(batch);
    const bool longer = batch * per_call < config.hot_batch_s && batch < kMaxCallsPerSample;
    if (!ranks.broadcast(static_cast<int>(rank == 0 && longer))) break;
  }
  const int64_t calls = ranks.broadcast(collective_calls_per_sample(per_call, config.hot_batch_s));
  m.batch = static_cast<int>(calls);

  // The stopping rule counts its minimum time in the samples' own unit (seconds per call): a
  // sample of n calls is n times that much measured time.
  StoppingRule rule = config.rule;
  rule.min_time_s /= static_cast<double>(calls);
  StoppingCriterion criterion(rule);
  std::vector<double> samples;
  const double start = steady_seconds();
  while (true) {
    const double sample = slowest_per_call(c, calls, ranks, events);
    samples.push_back(sample);
    const bool stop = rank == 0 && criterion.add(sample, steady_seconds() - start);
    if (ranks.broadcast(static_cast<int>(stop))) break;
  }
  m.stats = summarize(samples);
  // Rank 0's verdict, so that every rank records the same.
  m.unstable = ranks.broadcast(static_cast<int>(rank == 0 && criterion.unstable())) != 0;
  m.stop_reason = ranks.broadcast(std::string(rank == 0 ? to_string(criterion.reason()) : ""), 0);
  return m;
}

nlohmann::json collective_block(const CollectiveShape& shape, const JobLayout& layout, std::optional<int64_t> wrong) {
  nlohmann::json block = {{"ranks", layout.world_size},       {"nodes", layout.nodes},
                          {"busbw_factor", shape.busbw_factor()}, {"count", shape.count},
                          {"size_bytes", shape.bytes()},       {"in_place", shape.in_place}};
  if (wrong) block["wrong_elements"] = *wrong;
  return block;
}

CollectiveRunSummary run_collectives(const std::vector<BenchmarkSpec>& specs, const CollectiveRunEnvironment& env,
                                     ResultWriter* writer, std::ostream& out, std::ostream& err) {
  CollectiveRunSummary summary;
  if (specs.empty()) return summary;
  const Job& job = env.job ? *env.job : Job::current();
  const JobLayout& l = job.layout();
  const Ranks ranks(job);
  const bool speaks = l.world_rank == 0;
  check_same_benchmarks(ranks, specs);
  const std::vector<std::string> hosts = l.node_names.empty() ? ranks.hosts() : l.node_names;
  const nlohmann::json origin = {{"node", hosts.front()},
                                 {"rank", 0},
                                 {"spans", {{"ranks", l.world_size}, {"nodes", l.nodes}, {"hosts", hosts}}}};
  // Where several ranks share the console, a job-wide row says so (as the runner's rows do).
  const std::string prefix = job.multi_rank() ? "all " + std::to_string(l.world_size) + " ranks: " : "";
  NcclTestsTable table(out);
  for (int rep = 0; rep < env.repetitions; ++rep) {
    for (const BenchmarkSpec& spec : specs) {
      Outcome o;
      {
        const Job::Watch watch =
            env.watch_timeout_s > 0 && job.multi_rank()
                ? job.watch("running " + spec.name() + (env.repetitions > 1 ? " (repetition " + std::to_string(rep + 1) + ")" : ""),
                            env.watch_timeout_s, /*together=*/true)
                : Job::Watch();
        o = run_one(spec, env, job, ranks);
      }
      summary.budget_spent = summary.budget_spent || o.budget_spent;
      (o.status == kStatusOk ? summary.ok : o.status == kStatusFailed ? summary.failed
                                          : o.status == kStatusSkipped ? summary.skipped
                                                                       : summary.errors)++;
      if (!speaks) continue;

      const CollectiveShape shape = collective_shape(spec, l.world_size);
      nlohmann::json details = {{"collective", collective_block(shape, l, o.wrong)}, {"origin", origin}};
      nlohmann::json entry = nlohmann::json::object();
      nlohmann::json validation = nullptr;
      if (o.wrong) {
        // The case's own details (rank 0's), with the count of every rank.
        validation = o.validation.is_object() ? o.validation : nlohmann::json::object();
        validation.erase("rank");
        validation["ranks"] = l.world_size;
        validation["wrong_elements"] = *o.wrong;
        if (!validation.contains("method")) {
          validation["method"] = "exact: inputs are small integers from rank and index, so every result is exactly "
                                 "representable; every element of every rank's output compared";
        }
        if (*o.wrong == 0) {
          validation["max_rel_err"] = 0;
          validation["tolerance"] = 0;
        }
      }
      CollectiveBandwidth bw;
      if (o.measurement) {
        const Measurement& m = *o.measurement;
        bw = collective_bandwidth(shape, m.stats.median);
        entry = {{"run_type", "iteration"},     {"repetitions", env.repetitions}, {"repetition_index", rep},
                 {"threads", 1},                {"iterations", 1},                {"real_time", m.stats.median * 1e9},
                 {"cpu_time", m.stats.median * 1e9}, {"time_unit", "ns"},         {"algbw_gbps", bw.algbw_gbps},
                 {"busbw_gbps", bw.busbw_gbps}, {"gbps", bw.busbw_gbps},         {"max_rel_err", 0}};
        details["measurement"] = m.to_json();
        details["telemetry"] = {{"unavailable", env.telemetry_unavailable}};
      } else if (env.repetitions > 1) {
        entry = {{"run_type", "iteration"}, {"repetitions", env.repetitions}, {"repetition_index", rep}};
      }
      if (writer) {
        writer->add(spec, std::move(entry), o.status, o.reason, validation, details);
        writer->write(/*complete=*/false);
      }
      if (env.console == ConsoleStyle::nccl_tests) {
        if (o.status != kStatusOk) err << "aicbench: " << o.status << " " << spec.name() << ": " << o.reason.value_or("") << "\n";
        NcclTestsResult r;
        if (o.measurement) r.time_s = o.measurement->stats.median;
        r.algbw_gbps = bw.algbw_gbps;
        r.busbw_gbps = bw.busbw_gbps;
        r.wrong = o.wrong;
        const bool reduces = shape.op == CollectiveOp::all_reduce || shape.op == CollectiveOp::reduce_scatter;
        table.add(table_name(spec, l), shape.bytes(), shape.count, nccl_tests_type_name(spec.dtype),
                  reduces ? "sum" : "none", shape.op == CollectiveOp::broadcast ? 0 : -1, shape.in_place, r);
      } else if (writer) {
        std::string line = prefix + writer->last_entry_summary();
        if (o.measurement) {
          char buf[128];
          std::snprintf(buf, sizeof buf, "  busbw %.4g GB/s (algbw %.4g GB/s, %d ranks)", bw.busbw_gbps, bw.algbw_gbps,
                        l.world_size);
          line += buf;
        }
        out << line << std::endl;
      }
    }
  }
  table.finish();
  return summary;
}

}  // namespace aicbench
