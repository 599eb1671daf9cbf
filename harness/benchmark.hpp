#pragma once
// The benchmark model: what a benchmark is (BenchmarkSpec), how it runs (BenchmarkCase), and
// which implementations exist (Implementation). Families (harness/families/) fill the table;
// the runner times whatever the table holds, through Google Benchmark.
#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/measurement.hpp"
#include "harness/provenance.hpp"

// The CUDA runtime's stream handle, declared as cuda_runtime.h declares it, so that this header
// (and the suite reader above it, harness/specs.cpp) compiles without the CUDA toolkit: the
// reports-only fuzz build (tests/fuzz) reads suites with it. Code that calls CUDA includes
// cuda_runtime.h itself.
struct CUstream_st;
typedef struct CUstream_st* cudaStream_t;

namespace aicbench {

enum class Backend { cpu, cuda };
std::string to_string(Backend backend);

struct Param {
  std::string name;
  int64_t value;
};

struct BenchmarkSpec {
  std::string family;  // "gemm"
  std::string impl;    // "simt", "cublas", "cpu_blocked"
  std::string dtype;   // "fp32"
  Backend backend = Backend::cpu;
  bool vendor = false;  // the vendor library's implementation: the baseline for pct_of_vendor
  std::vector<Param> params;
  MeasureMode mode = MeasureMode::cold;
  // Runs only in a job of at least this many ranks (a suite group's `min_ranks`).
  int min_ranks = 1;

  // "family/impl/dtype/name:value/...", e.g. "gemm/simt/fp32/M:1024/N:1024/K:1024"; hot-mode
  // measurements end in "/mode:hot" (cold, the default, is not spelled out). Collectives are
  // always timed back to back (harness/collective_measurement.hpp), so their names never say so:
  // "all_reduce/ring/fp32/bytes:1048576/in_place:0".
  std::string name() const;
  int64_t param(std::string_view name) const;  // throws std::out_of_range if absent
  nlohmann::json params_json() const;
};

// Thrown by a case that learns only when it runs that this GPU or this build cannot run it (a
// kernel not compiled for the architecture, a library with no algorithm for the shape). The
// benchmark is then recorded as skipped, with the reason, not as an error.
class UnsupportedHere : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Thrown when the backend can run nothing more in this process: on CUDA, a sticky error (a kernel
// that trapped or faulted) leaves the context unusable, and every later call returns it. The
// runner records the error against the benchmark that caused it and every later benchmark as not
// run, with that reason, instead of letting each fail in turn with an error that is not its own.
class BackendLost : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Validation {
  bool passed = false;
  double max_rel_err = 0;
  std::string message;   // set when it failed: the measured error and the tolerance
  nlohmann::json details;  // written to the result file as benchmarks[i].aicbench.validation
};

// One benchmark with its inputs allocated: validated once, then timed many times.
class BenchmarkCase {
 public:
  virtual ~BenchmarkCase() = default;
  // Runs the implementation once and checks its output against an independent reference.
  virtual Validation validate() = 0;
  // Runs it once more. A cuda case queues the work on stream() and returns at once; a cpu case
  // does the work and returns when it is done. Timing is the harness's (harness/samplers.hpp).
  virtual void run() = 0;
  // The stream a cuda case queues its work on; null for a cpu case.
  virtual cudaStream_t stream() const { return nullptr; }
  // Work per run, for the throughput counters. Zero where the counter does not apply.
  virtual double flops() const { return 0; }
  virtual double bytes() const { return 0; }
  // True for a collective (collectives/collective_ops.hpp): every rank of the job runs it together,
  // in the same order and the same number of times, so the runner times it by nccl-tests' rules
  // (a fixed count of calls agreed by all ranks, the slowest rank's time) instead of each process's
  // own stopping rule.
  virtual bool collective() const { return false; }

  // A case whose work the harness's timers cannot see times itself: work on several GPUs at once
  // (peer-to-peer), on host threads, or that synchronises with the host (pageable copies,
  // launch latency). Then the harness calls time_runs() for every sample instead of timing run().
  virtual bool times_itself() const { return false; }
  // Runs the work `runs` times and returns the seconds per run, measured as the case says (its
  // own CUDA events, or the host's steady clock). `mode` is the sample's: a cold sample may evict
  // caches first, outside the timed part.
  virtual double time_runs(int /*runs*/, MeasureMode /*mode*/) {
    throw std::logic_error("time_runs() called on a case that does not time itself");
  }
  // Facts that belong beside the number (the PCIe link a copy crossed, the NUMA nodes of host and
  // GPU, whether peers could access each other), read after measuring; each key becomes a key
  // of the row's aicbench block. Null when there are none.
  virtual nlohmann::json row_details() const { return nullptr; }
};

// Which datasheet bandwidth a row's GB/s is a fraction of (pct_of_peak for rows without TFLOP/s):
// `key` in the datasheet's peak_gbps ("hbm", "pcie", "nvlink"), times `factor` (2 where the row
// moves data both ways at once over a link whose peak is per direction).
struct BandwidthPeak {
  std::string key;
  double factor = 1;
};

struct Implementation {
  std::string family, impl;
  Backend backend;
  bool vendor;
  std::vector<std::string> dtypes;
  // Why `spec` cannot run here (no device, too large for memory, ...), or nullopt.
  std::function<std::optional<std::string>(const BenchmarkSpec&, const DeviceProbe&)>
      unsupported_reason;
  std::function<std::unique_ptr<BenchmarkCase>(const BenchmarkSpec&)> make;
  // For bandwidth families: the datasheet peak the row's GB/s is measured against; unset (or
  // nullopt) where there is none (GEMM's pct_of_peak comes from peak_tflops instead).
  std::function<std::optional<BandwidthPeak>(const BenchmarkSpec&)> bandwidth_peak = {};
  // Seconds the case spends in validate() beyond building and checking its output once (a
  // burn-in's duration); the suite's time budget counts them. Unset: none. Last, so that the
  // families that list the fields above in order (memory's bandwidth_peak) need not name it.
  std::function<double(const BenchmarkSpec&)> setup_seconds = {};

  bool provides(std::string_view dtype) const {
    return std::find(dtypes.begin(), dtypes.end(), dtype) != dtypes.end();
  }
};

// Every implementation of every family, vendor baselines first within a family.
const std::vector<Implementation>& implementations();
// Adds an implementation to that table; tests use it to plant a kernel that computes wrong.
void register_implementation(Implementation impl);
const Implementation* find_implementation(std::string_view family, std::string_view impl);
// The parameters every shape of `family` gives, in the order names spell them (GEMM: M, N, K;
// attention: B, H, KVH, Sq, Sk, D, causal);
// empty for an unknown family.
std::vector<std::string> family_params(std::string_view family);
// The least value a suite may give `param` of `family`: 1 for sizes, 0 for a flag (attention's
// causal) or a GPU index (p2p's src and dst).
int64_t family_param_minimum(std::string_view family, std::string_view param);
// Why a shape of `family` can run on no machine (attention's KVH not dividing H, a causal flag
// that is not 0 or 1, ...), or nullopt. A suite that gives one is refused when it is read; what
// a shape needs of a machine (memory, an architecture) is each implementation's to say.
std::optional<std::string> family_shape_problem(std::string_view family, const std::vector<Param>& params);

// Families register themselves through these (one per file in harness/families/).
std::vector<Implementation> gemm_implementations();
std::vector<Implementation> burnin_implementations();  // burnin (sustained GEMM load, checked)
std::vector<Implementation> attention_implementations();  // attention and attention_decode
std::vector<Implementation> memory_implementations();     // memory (HBM / STREAM bandwidth)
std::vector<Implementation> host_link_implementations();  // host_link (host <-> device copies)
std::vector<Implementation> p2p_implementations();        // p2p, p2p_latency
std::vector<Implementation> launch_implementations();     // launch (kernel launch latency)
std::vector<Implementation> collective_implementations();  // cpu and cuda: families/collectives.cpp

}  // namespace aicbench
