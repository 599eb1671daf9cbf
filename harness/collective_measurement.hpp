#pragma once
// How a collective is measured: nccl-tests' rules, not the per-process stopping rule of
// harness/measurement.hpp, because a collective is one operation of the whole job.
//
//   - Every rank runs the same collective benchmarks in the same order (after the per-process
//     benchmarks, outside Google Benchmark's random interleaving), each case made, connected,
//     validated and measured by every rank together; a case that cannot run on one rank is
//     skipped (or an error) on all, with that rank's reason.
//   - Validation: one call on inputs whose exact result is representable; every rank counts the
//     wrong elements of its whole output; the counts are summed over the ranks. Not 0: failed.
//   - Warm-up: the validation call, kWarmupCalls more, then timed batches of 1, 2, 4, ... calls
//     until a batch lasts hot_batch_s (2 ms) or holds kMaxCallsPerSample calls. Rank 0 then
//     decides the calls per sample n and broadcasts it.
//   - A sample: all ranks pass a barrier, then run n calls back to back, timed together (steady
//     clock on the cpu; CUDA events on the case's stream() for a cuda case) and averaged per call;
//     the sample's time is the MAX over ranks (MPI_Allreduce on the world communicator): the
//     collective is done when its slowest rank is.
//   - Rank 0 feeds the samples to the suite's stopping rule (min samples, min time counted as the
//     time of the calls measured, noise target, timeout) and broadcasts after each sample whether
//     to go on, so every rank takes the same number of samples.
//   - Reported: the median sample with its spread (aicbench.measurement, as for every row), the
//     counters algbw_gbps = size / time, busbw_gbps = algbw * busbw_factor(op, ranks), gbps = busbw,
//     pct_of_vendor (the result writer's: gbps, i.e. busbw, against the vendor's on the same
//     problem in the same run), and the block aicbench.collective. Only world rank 0 adds the row to its result file, with
//     aicbench.origin = {rank: 0, spans: {ranks, nodes, hosts}}.
//
// A collective is always timed back to back with no cache flush, as nccl-tests times it: its rows
// say mode "hot", and their names carry no "/mode:hot" (BenchmarkSpec::name()).
#include <algorithm>
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "collectives/collective_ops.hpp"
#include "harness/benchmark.hpp"
#include "harness/measurement.hpp"

#include <nlohmann/json.hpp>

namespace aicbench {

class Job;
struct JobLayout;
class ResultWriter;

// nccl-tests' sizes of one collective benchmark on `ranks` ranks (its getCollByteCount): the
// `bytes` parameter is nccl-tests' size (one rank's buffer for all_reduce and broadcast, the whole
// gathered or scattered buffer for all_gather, reduce_scatter and all_to_all), cut into elements,
// and for the blocked operations each rank's block rounded down to a multiple of 16 bytes.
struct CollectiveShape {
  CollectiveOp op = CollectiveOp::all_reduce;
  int ranks = 1;
  int64_t element_bytes = 4;
  bool in_place = false;
  // nccl-tests' "count" column: elements of one rank's buffer (all_reduce, broadcast) or of one
  // rank's block (all_gather, reduce_scatter, all_to_all). 0: nothing to do at this size.
  int64_t count = 0;
  int64_t send_count = 0, recv_count = 0;  // elements of each rank's send and receive buffers
  // nccl-tests' "size" column, the bytes algbw divides: max(send, recv) * element_bytes.
  int64_t bytes() const { return std::max(send_count, recv_count) * element_bytes; }
  double busbw_factor() const { return aicbench::busbw_factor(op, ranks); }
};

// Bytes per element of a collective dtype: fp32 4, bf16 2, fp16 2, fp64 8, int32 4, fp8 1.
// nullopt for a name it does not know.
std::optional<int64_t> collective_element_bytes(std::string_view dtype);
// The shape of `spec` (a collective family; params bytes and in_place) on `ranks` ranks.
CollectiveShape collective_shape(const BenchmarkSpec& spec, int ranks);
// The family of `spec` as a collective, or nullopt for a per-process family (gemm, ...).
std::optional<CollectiveOp> collective_op(const BenchmarkSpec& spec);

// What a collective implementation provides (cpu cases in harness/families/collectives.cpp, cuda
// cases in harness/families/collectives_cuda.cpp). The harness calls, on every rank, in order:
//   make (Implementation::make)  local setup only: buffers, streams; may throw UnsupportedHere
//   connect_once()               the collective part of setup (connect(): shared-memory windows,
//                                IPC handles, NCCL registration), once every rank made its case
//   count_wrong() / validate()   one call on fresh inputs, then this rank's wrong elements
//   run()                        timed, many times; a cuda case queues on stream() and returns
// and destroys the case on every rank before the next benchmark (so a destructor may be collective).
// A runner that knows only BenchmarkCase may call validate() directly: it connects first, and
// returns this rank's count in details.wrong_elements, which the ranks then sum
// (collective_wrong_elements), as for the cuda cases that are plain BenchmarkCases.
class CollectiveCase : public BenchmarkCase {
 public:
  bool collective() const final { return true; }
  void connect_once() {
    if (!connected_) connect();
    connected_ = true;
  }
  // Fills the inputs so that the exact result is representable (e.g. small integers from rank and
  // index, collective_input_value), poisons the outputs, runs the collective once and compares
  // this rank's whole output with the exact result: the number of elements that differ.
  virtual int64_t count_wrong() = 0;
  // connect_once(), then count_wrong() as a Validation: this rank's count in details.wrong_elements.
  Validation validate() final;

 protected:
  virtual void connect() {}

 private:
  bool connected_ = false;
};

// Inputs whose sums are exact in every dtype offered (bf16 holds integers up to 256 exactly): the
// value of element `index` on rank `rank`, in [-2, 2], never all zeros. A sum over n ranks stays
// within 2n, exact for up to 128 ranks in bf16, 4 million in fp32.
double collective_input_value(int rank, int64_t index);
// For the operations that move data without adding (all_gather, all_to_all, broadcast): a value
// that says where an element came from, in [-125, 125].
double collective_tag_value(int rank, int64_t index);

// Rank 0's plan for the samples: calls per sample for a collective taking `seconds_per_call`.
inline constexpr int kWarmupCalls = 5;
inline constexpr int64_t kMaxCallsPerSample = 1000;
int64_t collective_calls_per_sample(double seconds_per_call, double sample_target_s);

// The counters of an ok row: algbw_gbps, busbw_gbps, gbps.
struct CollectiveBandwidth {
  double algbw_gbps = 0, busbw_gbps = 0;
};
CollectiveBandwidth collective_bandwidth(const CollectiveShape& shape, double seconds);

// ---- The pieces, for a runner that drives collectives itself (every rank calls each, in order)

// One collective measured by nccl-tests' rules (above) on every rank of `job` together: warm-up,
// calls per sample decided by rank 0, samples timed as the slowest rank's, the stopping rule run
// by rank 0. Every rank returns the same Measurement (mode hot). In a job of one without MPI it
// measures alone. The case must be validated first (its validation call is the first warm-up).
Measurement measure_collective(BenchmarkCase& c, const MeasureConfig& config, const Job& job);
// This rank's wrong elements from a case's own validate() (details.wrong_elements; else 0 when it
// passed, 1 when not): what the ranks sum.
int64_t collective_wrong_elements(const Validation& local);
// The row's aicbench.collective block: ranks, nodes, busbw_factor, count, size_bytes, in_place,
// and wrong_elements (summed over the ranks) once validated.
nlohmann::json collective_block(const CollectiveShape& shape, const JobLayout& layout, std::optional<int64_t> wrong);

enum class ConsoleStyle { aicbench, nccl_tests };
std::optional<ConsoleStyle> parse_console_style(std::string_view name);

struct CollectiveRunEnvironment {
  const Job* job = nullptr;  // null: Job::current()
  const DeviceProbe* probe = nullptr;
  MeasureConfig config;
  std::string telemetry_unavailable;  // written as each row's telemetry
  ConsoleStyle console = ConsoleStyle::aicbench;
  int repetitions = 1;
  // Each benchmark runs under the job's watchdog (Job::watch, together) for at most this long: a
  // rank that stops or hangs inside a collective ends the job naming it. 0: not watched.
  double watch_timeout_s = 0;
  // The suite's time budget (harness/time_budget.hpp), when it has one: a collective that would
  // begin after `deadline` (steady clock; world rank 0's decides for every rank) is recorded as
  // not run, as the runner's benchmarks are.
  std::optional<double> budget_s, deadline, run_start;
};

struct CollectiveRunSummary {
  size_t ok = 0, failed = 0, errors = 0, skipped = 0;
  bool budget_spent = false;  // the time budget stopped one or more of them
};

// Runs `specs` (all collective, in the same order on every rank) on every rank of the job: for
// each, every rank decides whether it can run, makes it, connects (a CollectiveCase), validates
// (count_wrong(), or the case's own validate()), agreeing after each step; then measures it.
// `writer`: world rank 0's result file; null on the other ranks. Console lines go to `out` on
// rank 0 only. Throws InputError when the ranks were not given the same benchmarks.
CollectiveRunSummary run_collectives(const std::vector<BenchmarkSpec>& specs, const CollectiveRunEnvironment& env,
                                     ResultWriter* writer, std::ostream& out, std::ostream& err);

}  // namespace aicbench
