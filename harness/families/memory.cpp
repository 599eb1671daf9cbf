// The memory family: how fast memory moves, as STREAM measures it (docs/memory.md).
//
//   impl              dtypes      backend  what
//   memcpy            fp32 fp64   cuda     cudaMemcpyAsync device to device, a into c: the vendor baseline
//   copy scale add    fp32 fp64   cuda     kernels/memory/stream_kernels.cu: STREAM's four kernels, and
//   triad read write                       a read-only sum and a write-only fill, 16-byte accesses
//   stream_reference  fp64        cpu      STREAM's triad as stream.c runs it (OpenMP, -O2):
//                                          kernels/memory/stream_reference.cpp, the CPU's reference
//   cpu_copy ...      fp32 fp64   cpu      the same six kernels on a team of std::threads
//   cpu_write                              (kernels/memory/stream_cpu.cpp)
//
// One parameter, `bytes`: the size of each array (STREAM's arrays a, b, c); an operation touches
// only the arrays it names. GB/s counts the bytes each run moves as STREAM counts them: copy and
// scale 2 arrays, add and triad 3, read and write 1, memcpy 2 (read a, write c), no
// write-allocate traffic. pct_of_vendor: against memcpy on the GPU, against the reference's
// triad on the CPU (fp64 only), on the same bytes in the same run; pct_of_peak: against the
// datasheet's HBM bandwidth (specs/gpus, peak_gbps.hbm).
//
// Validation: inputs are small integers (kernels/memory/stream_values.hpp), so every output is
// exact; outputs are poisoned (NaN) before the checked run. On the GPU every element is compared
// on the device by a plain scalar loop written apart from the kernels, and the first and last MiB
// again on the host; on the CPU every element on the host. read's sum must equal the closed form.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <thread>

#include <unistd.h>

#include "harness/benchmark.hpp"
#include "harness/cuda_check.hpp"
#include "harness/device_buffer.hpp"
#include "harness/families/exact_check.hpp"
#include "kernels/memory/stream_cpu.hpp"
#include "kernels/memory/stream_kernels.hpp"
#include "kernels/memory/stream_reference.hpp"
#include "kernels/memory/stream_values.hpp"

namespace aicbench {

namespace {

using kernels::StreamOp;

constexpr StreamOp kOps[] = {StreamOp::copy, StreamOp::scale, StreamOp::add,
                             StreamOp::triad, StreamOp::read, StreamOp::write};

// Which of a, b, c an operation reads or writes.
bool touches(StreamOp op, int array) {
  switch (op) {
    case StreamOp::copy: return array == 0 || array == 2;
    case StreamOp::scale: return array == 1 || array == 2;
    case StreamOp::add:
    case StreamOp::triad: return true;
    case StreamOp::read:
    case StreamOp::write: return array == 0;
  }
  return false;
}
int arrays_touched(StreamOp op) { return touches(op, 0) + touches(op, 1) + touches(op, 2); }

size_t element_bytes(const std::string& dtype) { return dtype == "fp32" ? 4 : 8; }

std::string mib(double bytes) { return std::to_string(static_cast<long long>(bytes / (1 << 20))) + " MiB"; }

// The host side of the GPU check: the first and last MiB of the output (what the device check
// saw too, from a second reader).
constexpr size_t kHostCheckBytes = 1 << 20;

// ---- cuda backend --------------------------------------------------------------------------

template <typename T>
class CudaMemoryCase final : public BenchmarkCase {
 public:
  // `op` unset: cudaMemcpyAsync of a into c.
  CudaMemoryCase(const BenchmarkSpec& spec, std::optional<StreamOp> op)
      : op_(op), n_(static_cast<size_t>(spec.param("bytes")) / sizeof(T)), sum_(1), counters_(2) {
    const StreamOp as = op_.value_or(StreamOp::copy);  // memcpy touches what copy touches
    for (int k = 0; k < 3; ++k) {
      if (touches(as, k)) arrays_[k] = std::make_unique<DeviceBuffer<T>>(n_);
    }
  }

  Validation validate() override {
    const StreamOp as = op_.value_or(StreamOp::copy);
    cudaStream_t s = stream_.get();
    CUDA_CHECK(kernels::stream_init_cuda<T>(array(0), array(1), array(2), n_, s));
    const int out = kernels::stream_output(as);
    if (out >= 0) CUDA_CHECK(kernels::stream_fill_cuda<T>(array(out), n_, std::numeric_limits<T>::quiet_NaN(), s));
    CUDA_CHECK(cudaMemsetAsync(sum_.get(), 0, sizeof(double), s));
    run();
    CUDA_CHECK(cudaStreamSynchronize(s));

    ExactCheck check;
    if (as == StreamOp::read) {
      double sum = 0;
      CUDA_CHECK(cudaMemcpy(&sum, sum_.get(), sizeof sum, cudaMemcpyDeviceToHost));
      const double expected = kernels::stream_read_expected(n_);
      check.elements = 1;
      check.what = "sums";
      check.wrong = sum != expected;
      check.note(sum, expected);
      check.method = "the sum of a (" + std::to_string(n_) + " small integers) compared exactly with its closed form";
      return to_validation(check);
    }
    // Every element on the device.
    unsigned long long init[2] = {0, ~0ull}, counters[2] = {};
    // On the case's stream: a cudaMemcpy from pageable memory may return before its copy lands,
    // and the legacy stream it runs on does not order work on a non-blocking stream.
    CUDA_CHECK(cudaMemcpyAsync(counters_.get(), init, sizeof init, cudaMemcpyHostToDevice, s));
    CUDA_CHECK(kernels::stream_check_cuda<T>(as, array(out), n_, counters_.get(), counters_.get() + 1, s));
    CUDA_CHECK(cudaMemcpyAsync(counters, counters_.get(), sizeof counters, cudaMemcpyDeviceToHost, s));
    CUDA_CHECK(cudaStreamSynchronize(s));
    check.elements = n_;
    check.wrong = counters[0];
    if (counters[0]) check.first_wrong = counters[1];
    // The first and last MiB on the host, from a second reader of the same memory.
    const size_t part = std::min(n_, kHostCheckBytes / sizeof(T));
    std::vector<T> host(part);
    for (size_t begin : {size_t{0}, n_ - part}) {
      CUDA_CHECK(cudaMemcpy(host.data(), array(out) + begin, part * sizeof(T), cudaMemcpyDeviceToHost));
      for (size_t i = 0; i < part; ++i) {
        const double expected = kernels::stream_expected(as, begin + i);
        if (double(host[i]) != expected && check.wrong == 0) {
          // The device check missed what the host sees: count it, so it cannot pass.
          check.wrong = 1;
          check.first_wrong = begin + i;
        }
        check.note(double(host[i]), expected);
      }
    }
    check.method = "every element compared exactly with its expected value on the device (a scalar loop written "
                   "apart from the kernels), the first and last MiB again on the host";
    return to_validation(check);
  }

  void run() override {
    cudaStream_t s = stream_.get();
    if (!op_) {
      CUDA_CHECK(cudaMemcpyAsync(array(2), array(0), n_ * sizeof(T), cudaMemcpyDeviceToDevice, s));
      return;
    }
    CUDA_CHECK(kernels::stream_cuda<T>(*op_, array(0), array(1), array(2), n_, sum_.get(), s));
  }

  cudaStream_t stream() const override { return stream_.get(); }
  double bytes() const override { return kernels::stream_bytes(op_.value_or(StreamOp::copy), n_, sizeof(T)); }

 private:
  T* array(int k) const { return arrays_[k] ? arrays_[k]->get() : nullptr; }

  std::optional<StreamOp> op_;
  size_t n_;
  CudaStream stream_;
  std::unique_ptr<DeviceBuffer<T>> arrays_[3];
  DeviceBuffer<double> sum_;
  DeviceBuffer<unsigned long long> counters_;  // {wrong elements, first wrong index}
};

// ---- cpu backend ---------------------------------------------------------------------------

int cpu_threads() { return static_cast<int>(std::max(1u, std::thread::hardware_concurrency())); }

// Host memory on 64-byte lines, left untouched until the threads that use it write it first.
template <typename T>
struct HostArray {
  explicit HostArray(size_t n) {
    const size_t bytes = std::max<size_t>(64, (n * sizeof(T) + 63) / 64 * 64);
    data.reset(static_cast<T*>(std::aligned_alloc(64, bytes)));
    if (!data) throw std::bad_alloc();
  }
  struct Free {
    void operator()(T* p) const { std::free(p); }
  };
  std::unique_ptr<T, Free> data;
  T* get() const { return data.get(); }
};

// Every element of `out` against stream_expected(op, i) (or read's sum against its closed form).
template <typename T>
ExactCheck check_host(StreamOp op, const T* out, size_t n, double sum) {
  ExactCheck check;
  if (op == StreamOp::read) {
    const double expected = kernels::stream_read_expected(n);
    check.elements = 1;
    check.what = "sums";
    check.wrong = sum != expected;
    check.note(sum, expected);
    check.method = "the sum of a (" + std::to_string(n) + " small integers) compared exactly with its closed form";
    return check;
  }
  const kernels::StreamCheck found = kernels::stream_check_cpu(op, out, n);
  check.elements = n;
  check.wrong = found.wrong;
  if (found.wrong) check.first_wrong = found.first_wrong;
  check.max_rel_err = found.max_rel_err;
  check.method = "every element compared exactly with its expected value";
  return check;
}

template <typename T>
class CpuMemoryCase final : public BenchmarkCase {
 public:
  CpuMemoryCase(const BenchmarkSpec& spec, StreamOp op)
      : op_(op), n_(static_cast<size_t>(spec.param("bytes")) / sizeof(T)), team_(cpu_threads()) {
    for (int k = 0; k < 3; ++k) {
      if (touches(op_, k)) arrays_[k] = std::make_unique<HostArray<T>>(n_);
    }
  }

  Validation validate() override {
    kernels::stream_init_cpu<T>(team_, array(0), array(1), array(2), n_);
    const int out = kernels::stream_output(op_);
    if (out >= 0) {
      T* poisoned = array(out);
      team_.run([&](int t) {
        const kernels::Slice s = kernels::stream_slice(n_, sizeof(T), t, team_.size());
        std::fill(poisoned + s.begin, poisoned + s.end, std::numeric_limits<T>::quiet_NaN());
      });
    }
    sum_ = std::numeric_limits<double>::quiet_NaN();
    run();
    return to_validation(check_host(op_, out >= 0 ? array(out) : nullptr, n_, sum_), {{"threads", team_.size()}});
  }

  void run() override { kernels::stream_cpu<T>(team_, op_, array(0), array(1), array(2), n_, &sum_); }
  double bytes() const override { return kernels::stream_bytes(op_, n_, sizeof(T)); }

 private:
  T* array(int k) const { return arrays_[k] ? arrays_[k]->get() : nullptr; }

  StreamOp op_;
  size_t n_;
  kernels::CpuTeam team_;
  std::unique_ptr<HostArray<T>> arrays_[3];
  double sum_ = 0;
};

// STREAM's triad as stream.c runs it: the CPU backend's reference (vendor) for this family.
class StreamReferenceCase final : public BenchmarkCase {
 public:
  explicit StreamReferenceCase(const BenchmarkSpec& spec)
      : n_(static_cast<size_t>(spec.param("bytes")) / sizeof(double)), a_(n_), b_(n_), c_(n_) {}

  Validation validate() override {
    kernels::stream_reference_init(a_.get(), b_.get(), c_.get(), n_);
    std::fill(a_.get(), a_.get() + n_, std::numeric_limits<double>::quiet_NaN());  // pages placed already
    run();
    return to_validation(check_host(StreamOp::triad, a_.get(), n_, 0),
                         {{"threads", kernels::stream_reference_threads()}});
  }
  void run() override {
    kernels::stream_reference_triad(a_.get(), b_.get(), c_.get(), kernels::kStreamScalar, n_);
  }
  double bytes() const override { return kernels::stream_bytes(StreamOp::triad, n_, sizeof(double)); }

 private:
  size_t n_;
  HostArray<double> a_, b_, c_;
};

// ---- where each implementation can run -------------------------------------------------------

std::optional<std::string> size_unsupported(const BenchmarkSpec& spec) {
  const int64_t bytes = spec.param("bytes");
  const size_t element = element_bytes(spec.dtype);
  if (bytes % static_cast<int64_t>(element) != 0) {
    return "bytes = " + std::to_string(bytes) + " is not a whole number of " + spec.dtype + " elements (" +
           std::to_string(element) + " bytes)";
  }
  return std::nullopt;
}

std::optional<std::string> cpu_unsupported(const BenchmarkSpec& spec, int arrays) {
  if (auto why = size_unsupported(spec)) return why;
  const double need = double(arrays) * double(spec.param("bytes"));
  const double have = double(::sysconf(_SC_PHYS_PAGES)) * double(::sysconf(_SC_PAGE_SIZE));
  if (need > 0.8 * have) {
    return "needs " + mib(need) + " of host memory, more than 80% of the " + mib(have) + " this machine has";
  }
  return std::nullopt;
}

std::optional<std::string> cuda_unsupported(const BenchmarkSpec& spec, const DeviceProbe& probe, int arrays) {
  if (!probe.available()) return "no CUDA device: " + probe.unavailable_reason.value_or("unknown");
  if (auto why = size_unsupported(spec)) return why;
  const double need = double(arrays) * double(spec.param("bytes"));
  const double have = double(probe.gpu().memory_bytes);
  if (need > 0.9 * have) {
    return "needs " + mib(need) + " of device memory, more than 90% of the GPU's " + mib(have);
  }
  return std::nullopt;
}

template <typename Make>
std::function<std::unique_ptr<BenchmarkCase>(const BenchmarkSpec&)> by_dtype(Make make) {
  return [make](const BenchmarkSpec& spec) -> std::unique_ptr<BenchmarkCase> {
    if (spec.dtype == "fp32") return make(float{}, spec);
    return make(double{}, spec);
  };
}

std::optional<BandwidthPeak> hbm_peak(const BenchmarkSpec&) { return BandwidthPeak{"hbm", 1}; }

}  // namespace

std::vector<Implementation> memory_implementations() {
  std::vector<Implementation> out;
  const std::vector<std::string> both = {"fp32", "fp64"};
  out.push_back({"memory", "memcpy", Backend::cuda, true, both,
                 [](const BenchmarkSpec& s, const DeviceProbe& p) { return cuda_unsupported(s, p, 2); },
                 by_dtype([](auto t, const BenchmarkSpec& s) -> std::unique_ptr<BenchmarkCase> {
                   return std::make_unique<CudaMemoryCase<decltype(t)>>(s, std::nullopt);
                 }),
                 hbm_peak});
  for (StreamOp op : kOps) {
    out.push_back({"memory", kernels::stream_op_name(op), Backend::cuda, false, both,
                   [op](const BenchmarkSpec& s, const DeviceProbe& p) { return cuda_unsupported(s, p, arrays_touched(op)); },
                   by_dtype([op](auto t, const BenchmarkSpec& s) -> std::unique_ptr<BenchmarkCase> {
                     return std::make_unique<CudaMemoryCase<decltype(t)>>(s, op);
                   }),
                   hbm_peak});
  }
  out.push_back({"memory", "stream_reference", Backend::cpu, true, {"fp64"},
                 [](const BenchmarkSpec& s, const DeviceProbe&) { return cpu_unsupported(s, 3); },
                 [](const BenchmarkSpec& s) { return std::make_unique<StreamReferenceCase>(s); }});
  for (StreamOp op : kOps) {
    out.push_back({"memory", std::string("cpu_") + kernels::stream_op_name(op), Backend::cpu, false, both,
                   [op](const BenchmarkSpec& s, const DeviceProbe&) { return cpu_unsupported(s, arrays_touched(op)); },
                   by_dtype([op](auto t, const BenchmarkSpec& s) -> std::unique_ptr<BenchmarkCase> {
                     return std::make_unique<CpuMemoryCase<decltype(t)>>(s, op);
                   })});
  }
  return out;
}

}  // namespace aicbench
