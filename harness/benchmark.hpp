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

  // "family/impl/dtype/name:value/...", e.g. "gemm/simt/fp32/M:1024/N:1024/K:1024"; hot-mode
  // measurements end in "/mode:hot" (cold, the default, is not spelled out).
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
// causal).
int64_t family_param_minimum(std::string_view family, std::string_view param);

// Families register themselves through these (one per file in harness/families/).
std::vector<Implementation> gemm_implementations();
std::vector<Implementation> attention_implementations();  // attention and attention_decode

}  // namespace aicbench
