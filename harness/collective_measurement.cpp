#include "harness/collective_measurement.hpp"

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <ostream>
#include <stdexcept>

#include <cuda_runtime.h>

#include "collectives/mpi_job.hpp"
#include "harness/clock.hpp"
#include "harness/cuda_check.hpp"
#include "harness/nccl_tests_console.hpp"
#include "harness/result_writer.hpp"
#include "harness/statistics.hpp"
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
  const int64_t wrong = count_wrong();
  Validation v;
  v.passed = wrong == 0;
  v.details = {{"wrong_elements", wrong}, {"max_rel_err", 0}, {"tolerance", 0}};
  if (!v.passed) v.message = std::to_string(wrong) + " wrong elements on this rank";
  return v;
}

namespace {

// ==== One benchmark on every rank

struct Outcome {
  std::string status = kStatusOk;
  std::optional<std::string> reason;
  std::optional<int64_t> wrong;   // summed over ranks, once validated
  std::optional<Measurement> measurement;
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

nlohmann::json spans_json(const JobLayout& l, const std::vector<std::string>& hosts) {
  return {{"ranks", l.world_size}, {"nodes", l.nodes}, {"hosts", hosts}};
}

std::string table_name(const BenchmarkSpec& spec, const JobLayout& l) {
  return spec.family + "/" + spec.impl + "/" + spec.dtype + " (" + to_string(spec.backend) + ", " +
         std::to_string(l.world_size) + (l.world_size == 1 ? " rank" : " ranks") + " on " + std::to_string(l.nodes) +
         (l.nodes == 1 ? " node" : " nodes") + "): nccl-tests' columns";
}

#if AICBENCH_WITH_MPI

void mpi_ok(int code, const char* call) {
  if (code != MPI_SUCCESS) throw std::runtime_error(std::string(call) + " failed");
}

// Every rank's view of a step becomes the job's: the worst status of any rank, with the reason of
// the lowest rank that had it (named, where the ranks did not all agree).
void agree(MPI_Comm world, const JobLayout& l, Outcome& o) {
  const int mine = severity(o.status);
  int worst = 0, best = 0;
  mpi_ok(MPI_Allreduce(&mine, &worst, 1, MPI_INT, MPI_MAX, world), "MPI_Allreduce");
  mpi_ok(MPI_Allreduce(&mine, &best, 1, MPI_INT, MPI_MIN, world), "MPI_Allreduce");
  if (worst == 0) return;
  const int candidate = mine == worst ? l.world_rank : INT_MAX;
  int teller = 0;
  mpi_ok(MPI_Allreduce(&candidate, &teller, 1, MPI_INT, MPI_MIN, world), "MPI_Allreduce");
  std::string reason = o.reason.value_or(o.status);
  if (best != worst && l.world_rank == teller) reason = "rank " + std::to_string(teller) + " on " + l.node_name + ": " + reason;
  int length = static_cast<int>(reason.size());
  mpi_ok(MPI_Bcast(&length, 1, MPI_INT, teller, world), "MPI_Bcast");
  reason.resize(static_cast<size_t>(length));
  mpi_ok(MPI_Bcast(reason.data(), length, MPI_CHAR, teller, world), "MPI_Bcast");
  o.status = status_of(worst);
  o.reason = reason;
}

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
double slowest_per_call(CollectiveCase& c, int64_t calls, MPI_Comm world, EventPair& events) {
  mpi_ok(MPI_Barrier(world), "MPI_Barrier");
  double seconds = 0;
  if (cudaStream_t stream = c.stream()) {
    seconds = events.seconds(stream, c, calls);
  } else {
    const double t0 = steady_seconds();
    for (int64_t i = 0; i < calls; ++i) c.run();
    seconds = steady_seconds() - t0;
  }
  const double mine = seconds / static_cast<double>(calls);
  double slowest = 0;
  mpi_ok(MPI_Allreduce(&mine, &slowest, 1, MPI_DOUBLE, MPI_MAX, world), "MPI_Allreduce");
  return slowest;
}

bool rank0_says(bool decision, int rank, MPI_Comm world) {
  int flag = rank == 0 && decision ? 1 : 0;
  mpi_ok(MPI_Bcast(&flag, 1, MPI_INT, 0, world), "MPI_Bcast");
  return flag != 0;
}

Measurement measure_collective(CollectiveCase& c, const MeasureConfig& config, MPI_Comm world, int rank) {
  EventPair events;
  Measurement m;
  m.mode = MeasureMode::hot;
  for (int i = 0; i < kWarmupCalls; ++i) c.run();
  if (cudaStream_t stream = c.stream()) CUDA_CHECK(cudaStreamSynchronize(stream));
  m.warmup_runs = 1 + kWarmupCalls;  // the validation's call, then these
  // Batches of 1, 2, 4, ... calls until one lasts a sample's target: the time per call.
  double per_call = 0;
  for (int64_t batch = 1;; batch *= 2) {
    per_call = slowest_per_call(c, batch, world, events);
    m.warmup_runs += static_cast<int>(batch);
    const bool longer = batch * per_call < config.hot_batch_s && batch < kMaxCallsPerSample;
    if (!rank0_says(longer, rank, world)) break;
  }
  int64_t calls = rank == 0 ? collective_calls_per_sample(per_call, config.hot_batch_s) : 0;
  mpi_ok(MPI_Bcast(&calls, 1, MPI_INT64_T, 0, world), "MPI_Bcast");
  m.batch = static_cast<int>(calls);

  // The stopping rule counts its minimum time in the samples' own unit (seconds per call): a
  // sample of n calls is n times that much measured time.
  StoppingRule rule = config.rule;
  rule.min_time_s /= static_cast<double>(calls);
  StoppingCriterion criterion(rule);
  std::vector<double> samples;
  const double start = steady_seconds();
  while (true) {
    const double sample = slowest_per_call(c, calls, world, events);
    samples.push_back(sample);
    const bool stop = rank == 0 && criterion.add(sample, steady_seconds() - start);
    if (rank0_says(stop, rank, world)) break;
  }
  m.stats = summarize(samples);
  if (rank == 0) {
    m.unstable = criterion.unstable();
    m.stop_reason = to_string(criterion.reason());
  }
  return m;
}

std::vector<std::string> job_hosts(MPI_Comm world, const JobLayout& l) {
  constexpr int kName = 256;
  std::vector<char> mine(kName, '\0'), all(size_t(kName) * size_t(l.world_size), '\0');
  std::strncpy(mine.data(), l.node_name.c_str(), kName - 1);
  mpi_ok(MPI_Allgather(mine.data(), kName, MPI_CHAR, all.data(), kName, MPI_CHAR, world), "MPI_Allgather");
  std::vector<std::string> hosts;
  for (int r = 0; r < l.world_size; ++r) {
    std::string name(all.data() + size_t(r) * kName);
    if (std::find(hosts.begin(), hosts.end(), name) == hosts.end()) hosts.push_back(name);
  }
  return hosts;
}

// Every rank must run the same list: compared by a hash of the names.
void check_same_benchmarks(MPI_Comm world, const std::vector<BenchmarkSpec>& specs) {
  uint64_t hash = 1469598103934665603ull;
  for (const auto& spec : specs) {
    for (char ch : spec.name() + "\n") hash = (hash ^ static_cast<unsigned char>(ch)) * 1099511628211ull;
  }
  uint64_t lo = 0, hi = 0;
  mpi_ok(MPI_Allreduce(&hash, &lo, 1, MPI_UINT64_T, MPI_MIN, world), "MPI_Allreduce");
  mpi_ok(MPI_Allreduce(&hash, &hi, 1, MPI_UINT64_T, MPI_MAX, world), "MPI_Allreduce");
  if (lo != hi) {
    throw InputError("the ranks of this job were given different collective benchmarks; every rank must run the "
                     "same suite with the same --filter and options");
  }
}

Outcome run_one(const BenchmarkSpec& spec, const CollectiveRunEnvironment& env, const Job& job, std::ostream& err) {
  Outcome o;
  const JobLayout& l = job.layout();
  MPI_Comm world = job.world();
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
    agree(world, l, o);
    return o.status == kStatusOk;
  };
  std::unique_ptr<BenchmarkCase> made;
  CollectiveCase* c = nullptr;
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
        c = dynamic_cast<CollectiveCase*>(made.get());
        if (!c) throw std::logic_error("implementation " + spec.impl + " did not make a CollectiveCase");
      })) {
    return o;
  }
  if (!step("failed to connect the ranks: ", [&] { c->connect(); })) return o;
  int64_t wrong = 0;
  if (!step("failed to validate: ", [&] { wrong = c->count_wrong(); })) return o;
  int64_t total = 0;
  mpi_ok(MPI_Allreduce(&wrong, &total, 1, MPI_INT64_T, MPI_SUM, world), "MPI_Allreduce");
  o.wrong = total;
  if (total != 0) {
    const CollectiveShape shape = collective_shape(spec, l.world_size);
    o.status = kStatusFailed;
    o.reason = std::to_string(total) + " wrong elements in the outputs of " + std::to_string(l.world_size) +
               " ranks (" + std::to_string(shape.recv_count) + " elements each); every result is exact, so every "
               "element must match";
    return o;
  }
  try {
    o.measurement = measure_collective(*c, env.config, world, l.world_rank);
  } catch (const std::exception& e) {
    // The other ranks are inside the same collective or the next barrier and cannot be told: the
    // job cannot go on. Everything measured before is in the result file already.
    err << "aicbench run: rank " << l.world_rank << " on " << l.node_name << ": " << spec.name()
        << " failed while measuring: " << e.what() << "; aborting the job (the other ranks are waiting in it)"
        << std::endl;
    MPI_Abort(world, 1);
  }
  return o;
}

#endif  // AICBENCH_WITH_MPI

}  // namespace

CollectiveRunSummary run_collectives(const std::vector<BenchmarkSpec>& specs, const CollectiveRunEnvironment& env,
                                     ResultWriter* writer, std::ostream& out, std::ostream& err) {
  CollectiveRunSummary summary;
  if (specs.empty()) return summary;
  const Job& job = env.job ? *env.job : Job::current();
  const JobLayout& l = job.layout();
  const bool speaks = l.world_rank == 0;
  std::vector<std::string> hosts = {l.node_name};
#if AICBENCH_WITH_MPI
  if (job.uses_mpi()) {
    check_same_benchmarks(job.world(), specs);
    hosts = job_hosts(job.world(), l);
  }
#endif
  NcclTestsTable table(out);
  // The vendor's busbw per problem (family, dtype, sizes) and repetition, for pct_of_vendor: the
  // vendor's sweep runs first (Suite::benchmarks).
  std::map<std::string, double> vendor_busbw;
  auto problem = [](const BenchmarkSpec& spec, int rep) {
    return spec.family + "/" + spec.dtype + "/" + spec.params_json().dump() + "/" + std::to_string(rep);
  };
  for (int rep = 0; rep < env.repetitions; ++rep) {
    for (const BenchmarkSpec& spec : specs) {
      Outcome o;
#if AICBENCH_WITH_MPI
      if (job.uses_mpi()) {
        o = run_one(spec, env, job, err);
      } else
#endif
      {
        o.status = kStatusSkipped;
        o.reason = "collectives need MPI: start aicbench under mpirun or srun (mpirun -np 1 for a job of one rank)" +
                   std::string(AICBENCH_WITH_MPI ? "" : "; this aicbench was built without MPI");
      }
      (o.status == kStatusOk ? summary.ok : o.status == kStatusFailed ? summary.failed
                                          : o.status == kStatusSkipped ? summary.skipped
                                                                       : summary.errors)++;
      if (!speaks) continue;

      const CollectiveShape shape = collective_shape(spec, l.world_size);
      nlohmann::json collective = {{"ranks", l.world_size},          {"nodes", l.nodes},
                                   {"busbw_factor", shape.busbw_factor()}, {"count", shape.count},
                                   {"size_bytes", shape.bytes()},    {"in_place", shape.in_place}};
      if (o.wrong) collective["wrong_elements"] = *o.wrong;
      nlohmann::json details = {{"collective", collective}, {"origin", {{"rank", 0}, {"spans", spans_json(l, hosts)}}}};
      nlohmann::json entry = nlohmann::json::object();
      nlohmann::json validation = nullptr;
      if (o.wrong) {
        validation = {{"method", "exact: inputs are small integers from rank and index, so every result is exactly "
                                 "representable; every element of every rank's output compared"},
                      {"wrong_elements", *o.wrong}};
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
        if (spec.vendor) vendor_busbw[problem(spec, rep)] = bw.busbw_gbps;
        if (auto v = vendor_busbw.find(problem(spec, rep)); !spec.vendor && v != vendor_busbw.end() && v->second > 0) {
          entry["pct_of_vendor"] = 100.0 * bw.busbw_gbps / v->second;
        }
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
        std::string line = writer->last_entry_summary();
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
