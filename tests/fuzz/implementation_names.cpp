// The fuzz build has no kernels (it is the reports-only build: no CUDA), but the suite reader
// checks every implementation a suite names against the registry. This table gives the registry
// the GEMM and collective families' names, backends and dtypes as harness/families/ declares them, with
// nothing behind them: the fuzz target reads and expands suites, it never runs a benchmark.
#include "harness/benchmark.hpp"

namespace aicbench {

std::vector<Implementation> gemm_implementations() {
  auto named = [](const char* impl, Backend backend, bool vendor, std::vector<std::string> dtypes) {
    return Implementation{"gemm", impl, backend, vendor, std::move(dtypes), nullptr, nullptr};
  };
  return {
      named("cublas", Backend::cuda, true, {"fp32"}),
      named("cublaslt", Backend::cuda, true, {"tf32", "bf16", "fp16", "fp8"}),
      named("simt", Backend::cuda, false, {"fp32"}),
      named("mma_sm80", Backend::cuda, false, {"tf32", "bf16", "fp16"}),
      named("wgmma_sm90", Backend::cuda, false, {"bf16", "fp16", "fp8"}),
      named("wgmma_sm90_multicast", Backend::cuda, false, {"bf16", "fp16", "fp8"}),
      named("openblas", Backend::cpu, true, {"fp32"}),
      named("cpu_blocked", Backend::cpu, false, {"fp32"}),
  };
}

// The collective families' implementations (harness/families/collectives*.cpp).
std::vector<Implementation> collective_implementations() {
  const std::vector<std::string> dtypes = {"fp32", "bf16", "fp64", "int32"};
  std::vector<Implementation> all;
  for (const char* family : {"all_reduce", "all_gather", "reduce_scatter", "all_to_all", "broadcast"}) {
    all.push_back({family, "mpi", Backend::cpu, true, dtypes, nullptr, nullptr});
  }
  for (const char* impl : {"ring", "rhd", "oneshot_shm", "twoshot_shm"}) {
    all.push_back({"all_reduce", impl, Backend::cpu, false, dtypes, nullptr, nullptr});
  }
  for (const char* family : {"all_gather", "reduce_scatter", "broadcast"}) {
    all.push_back({family, "ring", Backend::cpu, false, dtypes, nullptr, nullptr});
  }
  all.push_back({"all_to_all", "pairwise", Backend::cpu, false, dtypes, nullptr, nullptr});
  // and the cuda ones (harness/families/collectives_cuda.cpp)
  const std::vector<std::string> gpu_dtypes = {"fp32", "bf16"};
  for (const char* family : {"all_reduce", "all_gather", "reduce_scatter", "all_to_all", "broadcast"}) {
    all.push_back({family, "nccl", Backend::cuda, true, gpu_dtypes, nullptr, nullptr});
    all.push_back({family, "nccl_symmetric", Backend::cuda, false, gpu_dtypes, nullptr, nullptr});
  }
  for (const char* impl : {"oneshot_ipc", "twoshot_ipc", "multimem"}) {
    all.push_back({"all_reduce", impl, Backend::cuda, false, gpu_dtypes, nullptr, nullptr});
  }
  return all;
}

// The other families are not in the fuzz registry: a fuzzed suite that names them gets the
// reader's "unknown implementation" error, which is a path worth fuzzing too.
std::vector<Implementation> attention_implementations() { return {}; }
std::vector<Implementation> memory_implementations() { return {}; }
std::vector<Implementation> host_link_implementations() { return {}; }
std::vector<Implementation> p2p_implementations() { return {}; }
std::vector<Implementation> launch_implementations() { return {}; }
std::vector<Implementation> burnin_implementations() { return {}; }

}  // namespace aicbench
