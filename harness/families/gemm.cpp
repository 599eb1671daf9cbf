// The GEMM family: C = A * B, row-major, M, N, K free.
//   cpu_blocked  the cpu backend (kernels/gemm/gemm_cpu.cpp)
//   simt         hand-written CUDA-core kernel (kernels/gemm/gemm_simt.cu)
//   cublas       the vendor baseline, cublasSgemm
// Every implementation is validated by check_gemm() (Freivalds + sampled float64 elements)
// before it is timed.
#include <climits>
#include <vector>

#include <unistd.h>

#include "harness/benchmark.hpp"
#include "harness/cuda_check.hpp"
#include "harness/device_buffer.hpp"
#include "harness/validation.hpp"
#include "kernels/gemm/gemm_cpu.hpp"
#include "kernels/gemm/gemm_cublas.hpp"
#include "kernels/gemm/gemm_simt.hpp"

namespace aicbench {

namespace {

constexpr double kFp32UnitRoundoff = 0x1.0p-24;
constexpr uint64_t kSeedA = 0xA11CE, kSeedB = 0xB0B;

struct GemmShape {
  int64_t M, N, K;
  explicit GemmShape(const BenchmarkSpec& spec)
      : M(spec.param("M")), N(spec.param("N")), K(spec.param("K")) {}
  double flops() const { return 2.0 * double(M) * double(N) * double(K); }
  double bytes_fp32() const { return 4.0 * (double(M) * K + double(K) * N + double(M) * N); }
};

// Inputs shared by every implementation: same seed, same data, so results are comparable.
struct HostInputs {
  std::vector<float> A, B;
  explicit HostInputs(const GemmShape& s) : A(s.M * s.K), B(s.K * s.N) {
    fill_uniform(A, kSeedA);
    fill_uniform(B, kSeedB);
  }
};

Validation to_validation(const GemmCheck& check) {
  return {check.passed, check.max_rel_err, check.message,
          {{"max_rel_err", check.max_rel_err},
           {"freivalds_err", check.freivalds_err},
           {"tolerance", check.tolerance},
           {"samples", check.samples},
           {"method", "freivalds(2 probes) + sampled float64 elements"}}};
}

double fp32_tolerance(int64_t K) { return gemm_tolerance(K, kFp32UnitRoundoff, kFp32UnitRoundoff); }

// ---- cpu backend ---------------------------------------------------------------------------
class CpuGemmCase final : public BenchmarkCase {
 public:
  explicit CpuGemmCase(const BenchmarkSpec& spec) : shape_(spec), in_(shape_), C_(shape_.M * shape_.N) {}

  Validation validate() override {
    run();
    return to_validation(check_gemm(in_.A, in_.B, C_, shape_.M, shape_.N, shape_.K,
                                    fp32_tolerance(shape_.K)));
  }
  void run() override {
    kernels::gemm_cpu_blocked_fp32(in_.A.data(), in_.B.data(), C_.data(), shape_.M, shape_.N,
                                   shape_.K);
  }
  double flops() const override { return shape_.flops(); }
  double bytes() const override { return shape_.bytes_fp32(); }

 private:
  GemmShape shape_;
  HostInputs in_;
  std::vector<float> C_;
};

// ---- cuda backend --------------------------------------------------------------------------
enum class CudaGemmImpl { simt, cublas };

class CudaGemmCase final : public BenchmarkCase {
 public:
  CudaGemmCase(const BenchmarkSpec& spec, CudaGemmImpl impl)
      : impl_(impl),
        shape_(spec),
        in_(shape_),
        A_(in_.A.size()),
        B_(in_.B.size()),
        C_(static_cast<size_t>(shape_.M * shape_.N)) {
    CUDA_CHECK(cudaMemcpy(A_.get(), in_.A.data(), in_.A.size() * 4, cudaMemcpyHostToDevice));
    CUDA_CHECK(cudaMemcpy(B_.get(), in_.B.data(), in_.B.size() * 4, cudaMemcpyHostToDevice));
    if (impl_ == CudaGemmImpl::cublas) cublas_ = std::make_unique<kernels::CublasGemm>(stream_.get());
  }

  Validation validate() override {
    // Poison C first, so a kernel that writes nothing cannot pass on stale data.
    CUDA_CHECK(cudaMemsetAsync(C_.get(), 0xFF, C_.size() * 4, stream_.get()));
    run();
    CUDA_CHECK(cudaStreamSynchronize(stream_.get()));
    std::vector<float> C(C_.size());
    CUDA_CHECK(cudaMemcpy(C.data(), C_.get(), C.size() * 4, cudaMemcpyDeviceToHost));
    return to_validation(check_gemm(in_.A, in_.B, C, shape_.M, shape_.N, shape_.K,
                                    fp32_tolerance(shape_.K)));
  }
  void run() override {
    const int M = static_cast<int>(shape_.M), N = static_cast<int>(shape_.N),
              K = static_cast<int>(shape_.K);
    if (impl_ == CudaGemmImpl::simt) {
      CUDA_CHECK(kernels::gemm_simt_fp32(A_.get(), B_.get(), C_.get(), M, N, K, stream_.get()));
    } else {
      CUBLAS_CHECK(cublas_->sgemm(A_.get(), B_.get(), C_.get(), M, N, K));
    }
  }
  cudaStream_t stream() const override { return stream_.get(); }
  double flops() const override { return shape_.flops(); }
  double bytes() const override { return shape_.bytes_fp32(); }

 private:

  CudaGemmImpl impl_;
  GemmShape shape_;
  HostInputs in_;
  CudaStream stream_;
  DeviceBuffer<float> A_, B_, C_;
  std::unique_ptr<kernels::CublasGemm> cublas_;
};

std::optional<std::string> cpu_unsupported(const BenchmarkSpec& spec, const DeviceProbe&) {
  GemmShape s(spec);
  // Inputs, output and a validation copy live in host memory.
  const double need = s.bytes_fp32() + 4.0 * double(s.M) * s.N;
  const double have = double(::sysconf(_SC_PHYS_PAGES)) * double(::sysconf(_SC_PAGE_SIZE));
  if (need > 0.8 * have) {
    return "needs " + std::to_string(static_cast<long long>(need / (1 << 20))) +
           " MiB of host memory, more than 80% of the " +
           std::to_string(static_cast<long long>(have / (1 << 20))) + " MiB this machine has";
  }
  return std::nullopt;
}

std::optional<std::string> cuda_unsupported(const BenchmarkSpec& spec, const DeviceProbe& probe) {
  if (!probe.available()) return "no CUDA device: " + probe.unavailable_reason.value_or("unknown");
  GemmShape s(spec);
  if (s.M > INT_MAX || s.N > INT_MAX || s.K > INT_MAX) return "M, N and K must each fit in int32";
  const double need = s.bytes_fp32();
  const double have = double(probe.gpus.front().memory_bytes);
  if (need > 0.9 * have) {
    return "needs " + std::to_string(static_cast<long long>(need / (1 << 20))) +
           " MiB of device memory, more than 90% of the GPU's " +
           std::to_string(static_cast<long long>(have / (1 << 20))) + " MiB";
  }
  return cpu_unsupported(spec, probe);  // the host keeps the inputs for validation
}

}  // namespace

std::vector<Implementation> gemm_implementations() {
  return {
      {"gemm", "cublas", Backend::cuda, true, {"fp32"}, cuda_unsupported,
       [](const BenchmarkSpec& s) { return std::make_unique<CudaGemmCase>(s, CudaGemmImpl::cublas); }},
      {"gemm", "simt", Backend::cuda, false, {"fp32"}, cuda_unsupported,
       [](const BenchmarkSpec& s) { return std::make_unique<CudaGemmCase>(s, CudaGemmImpl::simt); }},
      {"gemm", "cpu_blocked", Backend::cpu, false, {"fp32"}, cpu_unsupported,
       [](const BenchmarkSpec& s) { return std::make_unique<CpuGemmCase>(s); }},
  };
}

}  // namespace aicbench
