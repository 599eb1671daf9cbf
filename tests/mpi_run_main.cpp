// `aicbench run` with test-only benchmarks planted, for the multi-process tests
// (tests/test_mpi_runs.cpp, label mpi), started under mpirun like the real binary:
//
//   mpi_run_main --suite S --out DIR [--job-timeout SEC] [--repetitions N]
//
// Planted implementations (family gemm, cpu backend, fp32, any M/N/K):
//   test_fault      a per-GPU-style benchmark (each rank alone): a tiny computation.
//   test_allreduce  a collective (collective() == true): MPI_Allreduce of a few integers over the
//                   job's world communicator, validated exactly.
// AICBENCH_TEST_FAULT=IMPL:SIGNAL:RANK (SIGNAL KILL or STOP) makes world rank RANK deliver that
// signal to itself on its first timed run of IMPL: a real rank that dies, or stops while the
// others wait for it (outside or inside a collective). The job must end within a bounded time,
// naming the rank, and the node file must keep what was measured before.
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <numeric>
#include <string>
#include <vector>

#include "collectives/mpi_job.hpp"
#include "harness/benchmark.hpp"
#include "harness/runner.hpp"
#include "reports/result_file.hpp"

namespace aicbench {
namespace {

// The fault this rank must deliver to itself, if any: the signal, on the first run of `impl`.
int planted_signal(const std::string& impl) {
  const char* fault = std::getenv("AICBENCH_TEST_FAULT");
  if (!fault) return 0;
  const std::string text = fault;
  const size_t a = text.find(':'), b = text.rfind(':');
  if (a == std::string::npos || b == a || text.substr(0, a) != impl) return 0;
  if (std::stoi(text.substr(b + 1)) != Job::current().layout().world_rank) return 0;
  const std::string signal = text.substr(a + 1, b - a - 1);
  return signal == "KILL" ? SIGKILL : signal == "STOP" ? SIGSTOP : 0;
}

class PlantedCase : public BenchmarkCase {
 public:
  explicit PlantedCase(const std::string& impl) : signal_(planted_signal(impl)) {}
  void run() override {
    if (signal_ && !validating_) std::raise(std::exchange(signal_, 0));
    work();
  }
  Validation validate() override {
    validating_ = true;
    work();
    validating_ = false;
    return check();
  }

 protected:
  virtual void work() = 0;
  virtual Validation check() = 0;

 private:
  int signal_;
  bool validating_ = false;
};

class AloneCase final : public PlantedCase {
 public:
  AloneCase() : PlantedCase("test_fault") {}
  double flops() const override { return 1e3; }

 private:
  void work() override {
    volatile double sum = 0;
    for (int i = 0; i < 1000; ++i) sum = sum + i;
    result_ = sum;
  }
  Validation check() override {
    const bool ok = result_ == 499500.0;
    return {ok, 0, ok ? "" : "wrong sum", {{"max_rel_err", 0}, {"tolerance", 0}}};
  }
  double result_ = 0;
};

class AllreduceCase final : public PlantedCase {
 public:
  AllreduceCase() : PlantedCase("test_allreduce"), in_(64), out_(64) {}
  bool collective() const override { return true; }
  double bytes() const override { return 64 * sizeof(int); }

 private:
  void work() override {
#if AICBENCH_WITH_MPI
    const Job& job = Job::current();
    std::iota(in_.begin(), in_.end(), job.layout().world_rank);
    if (job.uses_mpi()) {
      MPI_Allreduce(in_.data(), out_.data(), static_cast<int>(in_.size()), MPI_INT, MPI_SUM, job.world());
      return;
    }
#endif
    out_ = in_;
  }
  Validation check() override {
    const int n = Job::current().layout().world_size;
    int wrong = 0;
    for (size_t i = 0; i < out_.size(); ++i) wrong += out_[i] != n * static_cast<int>(i) + n * (n - 1) / 2;
    return {wrong == 0, 0, wrong ? std::to_string(wrong) + " wrong elements" : "", {{"max_rel_err", 0}, {"tolerance", 0}}};
  }
  std::vector<int> in_, out_;
};

void plant() {
  auto supported = [](const BenchmarkSpec&, const DeviceProbe&) { return std::optional<std::string>(); };
  register_implementation({"gemm", "test_fault", Backend::cpu, false, {"fp32"}, supported,
                           [](const BenchmarkSpec&) { return std::make_unique<AloneCase>(); }});
  register_implementation({"gemm", "test_allreduce", Backend::cpu, false, {"fp32"}, supported,
                           [](const BenchmarkSpec&) { return std::make_unique<AllreduceCase>(); }});
}

}  // namespace
}  // namespace aicbench

int main(int argc, char** argv) {
  using namespace aicbench;
  RunOptions options;
  options.backend = "cpu";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--suite") options.suite = value;
    else if (flag == "--out") options.out_dir = value;
    else if (flag == "--job-timeout") options.job_timeout_s = std::stod(value);
    else if (flag == "--repetitions") options.repetitions = std::stoi(value);
    else {
      std::cerr << "mpi_run_main: unknown option " << flag << "\n";
      return 2;
    }
  }
  try {
    const Job job = Job::start(&argc, &argv);
    options.job = &job;
    plant();
    return run_benchmarks(options, std::cout, std::cerr);
  } catch (const InputError& e) {
    std::cerr << "mpi_run_main: " << e.what() << "\n";
    return e.exit_code();
  }
}
