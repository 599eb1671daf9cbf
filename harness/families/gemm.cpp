// The GEMM family: C = A * B, M, N, K free.
//
//   impl          dtypes                  backend  layout  what
//   openblas      fp32                    cpu      NN      cblas_sgemm (OpenBLAS), vendor baseline
//   cpu_blocked   fp32                    cpu      NN      kernels/gemm/gemm_cpu.cpp
//   cublas        fp32                    cuda     NN      cublasSgemm, vendor baseline
//   simt          fp32                    cuda     NN      kernels/gemm/gemm_simt.cu
//   cublaslt      tf32 bf16 fp16 fp8      cuda     TN      cublasLtMatmul + heuristic, vendor
//   mma_sm80      tf32 bf16 fp16          cuda     TN      kernels/gemm/gemm_mma_sm80.cu
//   wgmma_sm90    bf16 fp16 fp8           cuda     TN      kernels/gemm/gemm_wgmma_sm90.cu kernel1
//   wgmma_sm90_multicast                  cuda     TN      the same file's kernel2 (2-CTA
//                 bf16 fp16 fp8                            clusters, B shared by TMA multicast)
//
// NN: A M x K and B K x N, row-major (the fp32 classic). TN: B stored N x K (kernels/gemm/
// gemm_api.hpp). Inputs are drawn in fp32 and rounded to the dtype on the host; fp8 inputs are
// scaled per tensor into e4m3's range and the scales passed to the kernel, as in fp8 training.
// Every implementation is validated by check_gemm() (Freivalds + sampled float64 elements,
// docs/validation.md) against the rounded inputs before it is timed.
//
// Settings that make a comparison like for like are written into each row's validation block:
// `threads` on the cpu backend (cpu_blocked and OpenBLAS both use one thread per hardware thread),
// `fp8_accumulation` on fp8 rows ("fast": all of K in the fp32 accumulator, for our wgmma kernels
// and for cuBLASLt, which is set to match with CUBLASLT_MATMUL_DESC_FAST_ACCUM).
#include <algorithm>
#include <climits>
#include <limits>
#include <thread>
#include <vector>

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_fp8.h>
#include <unistd.h>

#include "harness/benchmark.hpp"
#include "harness/cuda_check.hpp"
#include "harness/device_buffer.hpp"
#include "harness/families/gemm_precision.hpp"
#include "harness/validation.hpp"
#include "kernels/gemm/gemm_api.hpp"
#include "kernels/gemm/gemm_cpu.hpp"
#include "kernels/gemm/gemm_cublas.hpp"
#if AICBENCH_WITH_OPENBLAS
#include "kernels/gemm/gemm_openblas.hpp"
#endif
#include "kernels/gemm/gemm_simt.hpp"

namespace aicbench {

namespace {

constexpr uint64_t kSeedA = 0xA11CE, kSeedB = 0xB0B;
using bf16 = __nv_bfloat16;
using e4m3 = __nv_fp8_e4m3;

// An input operand of n elements, uniform in [-1, 1) from `seed`: the same for every backend
// and implementation, so their results can be compared.
std::vector<float> random_input(int64_t n, uint64_t seed) {
  std::vector<float> v(static_cast<size_t>(n));
  fill_uniform(v, seed);
  return v;
}

struct GemmShape {
  int64_t M, N, K;
  explicit GemmShape(const BenchmarkSpec& spec)
      : M(spec.param("M")), N(spec.param("N")), K(spec.param("K")) {}
  double flops() const { return 2.0 * double(M) * double(N) * double(K); }
  double bytes(const DtypeTraits& t) const {
    return double(t.in_bytes) * (double(M) * K + double(K) * N) + double(t.out_bytes) * M * N;
  }
};

// `settings`: what the comparison depends on (threads, fp8 accumulation), added to the block.
Validation to_validation(const GemmCheck& check, const nlohmann::json& settings = nullptr) {
  Validation v{check.passed, check.max_rel_err, check.message,
               {{"max_rel_err", check.max_rel_err},
                {"freivalds_err", check.freivalds_err},
                {"tolerance", check.tolerance},
                {"samples", check.samples},
                {"method", "freivalds(2 probes) + sampled float64 elements"}}};
  if (settings.is_object()) v.details.update(settings);
  return v;
}

// ---- cpu backend ---------------------------------------------------------------------------
enum class CpuImpl { blocked, openblas };

// One thread per hardware thread, for our kernel and for OpenBLAS alike.
int cpu_threads() { return static_cast<int>(std::max(1u, std::thread::hardware_concurrency())); }

class CpuGemmCase final : public BenchmarkCase {
 public:
  CpuGemmCase(const BenchmarkSpec& spec, CpuImpl impl)
      : impl_(impl),
        shape_(spec),
        A_(random_input(shape_.M * shape_.K, kSeedA)),
        B_(random_input(shape_.K * shape_.N, kSeedB)),
        C_(shape_.M * shape_.N) {
    threads_ = cpu_threads();
#if AICBENCH_WITH_OPENBLAS
    // OpenBLAS runs on its own pool, capped at the threads it was built for: record what it uses.
    if (impl_ == CpuImpl::openblas) threads_ = kernels::openblas_threads(threads_);
#endif
  }
  Validation validate() override {
    // Poison C first (NaN), so an implementation that writes nothing cannot pass on stale data.
    std::fill(C_.begin(), C_.end(), std::numeric_limits<float>::quiet_NaN());
    run();
    nlohmann::json settings = {{"threads", threads_}};
    if (impl_ == CpuImpl::blocked) settings["micro_kernel"] = kernels::to_string(kernels::supported_cpu_gemm_paths().front());
    return to_validation(
        check_gemm(A_, B_, C_, shape_.M, shape_.N, shape_.K, tolerance(traits("fp32"), shape_.K)), settings);
  }
  void run() override {
    switch (impl_) {
      case CpuImpl::blocked:
        kernels::gemm_cpu_blocked_fp32(A_.data(), B_.data(), C_.data(), shape_.M, shape_.N, shape_.K,
                                       threads_);
        return;
      case CpuImpl::openblas:
#if AICBENCH_WITH_OPENBLAS
        kernels::gemm_openblas_fp32(A_.data(), B_.data(), C_.data(), shape_.M, shape_.N, shape_.K,
                                    threads_);
        return;
#else
        break;
#endif
    }
    throw std::logic_error("gemm: this build has no OpenBLAS");
  }
  double flops() const override { return shape_.flops(); }
  double bytes() const override { return shape_.bytes(traits("fp32")); }

 private:
  CpuImpl impl_;
  GemmShape shape_;
  std::vector<float> A_, B_, C_;
  int threads_ = 1;
};

// ---- cuda backend --------------------------------------------------------------------------
enum class CudaImpl { cublas, simt, cublaslt, mma_sm80, wgmma_sm90, wgmma_sm90_multicast };

// A cudaErrorNotSupported from a launcher: this GPU, or this build, cannot run the kernel.
void check_launch(cudaError_t err, const char* what) {
  if (err == cudaErrorNotSupported) {
    (void)cudaGetLastError();
    throw UnsupportedHere(std::string(what) + " cannot run on this GPU or was not built for it");
  }
  CUDA_CHECK(err);
}

void check_cublaslt(cublasStatus_t status) {
  if (status == CUBLAS_STATUS_NOT_SUPPORTED) {
    throw UnsupportedHere("cuBLASLt's heuristic offers no algorithm for this dtype and shape here");
  }
  CUBLAS_CHECK(status);
}

// The Hopper GEMMs: one entry point per precision, the same for every kernel version.
struct HopperGemm {
  const char* name;
  decltype(&kernels::gemm_wgmma_sm90_bf16) bf16;
  decltype(&kernels::gemm_wgmma_sm90_fp16) fp16;
  decltype(&kernels::gemm_wgmma_sm90_fp8) fp8;
};
constexpr HopperGemm kWgmmaKernel1{"wgmma_sm90", kernels::gemm_wgmma_sm90_bf16,
                                   kernels::gemm_wgmma_sm90_fp16, kernels::gemm_wgmma_sm90_fp8};
constexpr HopperGemm kWgmmaMulticast{"wgmma_sm90_multicast", kernels::gemm_wgmma_sm90_multicast_bf16,
                                     kernels::gemm_wgmma_sm90_multicast_fp16,
                                     kernels::gemm_wgmma_sm90_multicast_fp8};

class CudaGemmCase final : public BenchmarkCase {
 public:
  CudaGemmCase(const BenchmarkSpec& spec, CudaImpl impl)
      : impl_(impl),
        t_(traits(spec.dtype)),
        shape_(spec),
        // A: M x K. B: N x K for TN, K x N for NN; validation reads either.
        a_ref_(random_input(shape_.M * shape_.K, kSeedA)),
        b_ref_(random_input(shape_.K * shape_.N, kSeedB)),
        A_(a_ref_.size() * t_.in_bytes),
        B_(b_ref_.size() * t_.in_bytes),
        C_(static_cast<size_t>(shape_.M * shape_.N) * t_.out_bytes),
        scales_(2) {
    float scales[2] = {1, 1};  // per-tensor scales; fp8 sets them, the other precisions ignore them
    const std::vector<unsigned char> a_bytes = quantize(t_, a_ref_, &scales[0]);
    const std::vector<unsigned char> b_bytes = quantize(t_, b_ref_, &scales[1]);
    upload(A_.get(), a_bytes.data(), a_bytes.size());
    upload(B_.get(), b_bytes.data(), b_bytes.size());
    upload(scales_.get(), scales, sizeof scales);
    if (impl_ == CudaImpl::cublas) cublas_ = std::make_unique<kernels::CublasGemm>(stream_.get());
    if (impl_ == CudaImpl::cublaslt) cublaslt_ = std::make_unique<kernels::CublasLtGemm>(stream_.get());
  }

  Validation validate() override {
    // Poison C first (all bits set: NaN in every float format), so a kernel that writes nothing
    // cannot pass on stale data.
    CUDA_CHECK(cudaMemsetAsync(C_.get(), 0xFF, C_.size(), stream_.get()));
    run();
    CUDA_CHECK(cudaStreamSynchronize(stream_.get()));
    std::vector<unsigned char> bytes(C_.size());
    CUDA_CHECK(cudaMemcpy(bytes.data(), C_.get(), bytes.size(), cudaMemcpyDeviceToHost));
    std::vector<float> C = widen_output(t_, bytes);
    const BLayout layout = t_.dtype == Dtype::fp32 ? BLayout::k_by_n : BLayout::n_by_k;
    nlohmann::json settings = nullptr;
    if (t_.dtype == Dtype::fp8) settings = {{"fp8_accumulation", fp8_accumulation()}};
    return to_validation(
        check_gemm(a_ref_, b_ref_, C, shape_.M, shape_.N, shape_.K, tolerance(t_, shape_.K), layout),
        settings);
  }

  void run() override {
    const int M = static_cast<int>(shape_.M), N = static_cast<int>(shape_.N), K = static_cast<int>(shape_.K);
    cudaStream_t s = stream_.get();
    void *a = A_.get(), *b = B_.get(), *c = C_.get();
    const float *sa = scales_.get(), *sb = scales_.get() + 1;
    switch (impl_) {
      case CudaImpl::cublas:
        CUBLAS_CHECK(cublas_->sgemm(static_cast<float*>(a), static_cast<float*>(b), static_cast<float*>(c), M, N, K));
        return;
      case CudaImpl::simt:
        check_launch(kernels::gemm_simt_fp32(static_cast<float*>(a), static_cast<float*>(b), static_cast<float*>(c), M, N, K, s), "simt");
        return;
      case CudaImpl::cublaslt:
        switch (t_.dtype) {
          case Dtype::tf32: check_cublaslt(cublaslt_->tf32(static_cast<float*>(a), static_cast<float*>(b), static_cast<float*>(c), M, N, K)); return;
          case Dtype::bf16: check_cublaslt(cublaslt_->bf16(static_cast<bf16*>(a), static_cast<bf16*>(b), static_cast<bf16*>(c), M, N, K)); return;
          case Dtype::fp16: check_cublaslt(cublaslt_->fp16(static_cast<__half*>(a), static_cast<__half*>(b), static_cast<__half*>(c), M, N, K)); return;
          case Dtype::fp8: check_cublaslt(cublaslt_->fp8(static_cast<e4m3*>(a), static_cast<e4m3*>(b), static_cast<bf16*>(c), sa, sb, M, N, K)); return;
          case Dtype::fp32: break;
        }
        break;
      case CudaImpl::mma_sm80:
        switch (t_.dtype) {
          case Dtype::tf32: check_launch(kernels::gemm_mma_sm80_tf32(static_cast<float*>(a), static_cast<float*>(b), static_cast<float*>(c), M, N, K, s), "mma_sm80"); return;
          case Dtype::bf16: check_launch(kernels::gemm_mma_sm80_bf16(static_cast<bf16*>(a), static_cast<bf16*>(b), static_cast<bf16*>(c), M, N, K, s), "mma_sm80"); return;
          case Dtype::fp16: check_launch(kernels::gemm_mma_sm80_fp16(static_cast<__half*>(a), static_cast<__half*>(b), static_cast<__half*>(c), M, N, K, s), "mma_sm80"); return;
          default: break;
        }
        break;
      case CudaImpl::wgmma_sm90:
        if (run_hopper(kWgmmaKernel1, a, b, c, sa, sb, M, N, K, s)) return;
        break;
      case CudaImpl::wgmma_sm90_multicast:
        if (run_hopper(kWgmmaMulticast, a, b, c, sa, sb, M, N, K, s)) return;
        break;
    }
    throw std::logic_error(std::string("gemm: no implementation for dtype ") + t_.name);
  }

  cudaStream_t stream() const override { return stream_.get(); }
  double flops() const override { return shape_.flops(); }
  double bytes() const override { return shape_.bytes(t_); }

 private:
  // How an fp8 GEMM accumulates: "fast" (all of K in the fp32 accumulator: our wgmma kernels, and
  // cuBLASLt with CUBLASLT_MATMUL_DESC_FAST_ACCUM) or "promoted" (cuBLASLt's default).
  const char* fp8_accumulation() const {
    if (impl_ == CudaImpl::cublaslt) return kernels::CublasLtGemm::kFp8FastAccumulation ? "fast" : "promoted";
    return "fast";
  }

  // Launches the kernel for this case's dtype; false when it has none.
  bool run_hopper(const HopperGemm& k, void* a, void* b, void* c, const float* sa, const float* sb,
                  int M, int N, int K, cudaStream_t s) const {
    switch (t_.dtype) {
      case Dtype::bf16: check_launch(k.bf16(static_cast<bf16*>(a), static_cast<bf16*>(b), static_cast<bf16*>(c), M, N, K, s), k.name); return true;
      case Dtype::fp16: check_launch(k.fp16(static_cast<__half*>(a), static_cast<__half*>(b), static_cast<__half*>(c), M, N, K, s), k.name); return true;
      case Dtype::fp8: check_launch(k.fp8(static_cast<e4m3*>(a), static_cast<e4m3*>(b), static_cast<bf16*>(c), sa, sb, M, N, K, s), k.name); return true;
      default: return false;
    }
  }

  CudaImpl impl_;
  const DtypeTraits& t_;
  GemmShape shape_;
  std::vector<float> a_ref_, b_ref_;  // the inputs as the device sees them, for validation
  CudaStream stream_;
  DeviceBuffer<unsigned char> A_, B_, C_;  // in the dtype's bytes
  DeviceBuffer<float> scales_;             // {scale_a, scale_b}
  std::unique_ptr<kernels::CublasGemm> cublas_;
  std::unique_ptr<kernels::CublasLtGemm> cublaslt_;
};

// ---- where each implementation can run -------------------------------------------------------

std::string mib(double bytes) { return std::to_string(static_cast<long long>(bytes / (1 << 20))) + " MiB"; }

std::optional<std::string> cpu_unsupported(const BenchmarkSpec& spec, const DeviceProbe&) {
  GemmShape s(spec);
  // Inputs and output as fp32 on the host, plus the validation's copies.
  const double need = 4.0 * (double(s.M) * s.K + 2.0 * double(s.K) * s.N + 2.0 * double(s.M) * s.N);
  const double have = double(::sysconf(_SC_PHYS_PAGES)) * double(::sysconf(_SC_PAGE_SIZE));
  if (need > 0.8 * have) {
    return "needs " + mib(need) + " of host memory, more than 80% of the " + mib(have) + " this machine has";
  }
  return std::nullopt;
}

// Registered in every build, so that suites naming it load everywhere; a build without OpenBLAS
// (-DAICBENCH_WITH_OPENBLAS=OFF, e.g. the GPU check's) records its benchmarks as skipped.
std::optional<std::string> openblas_unsupported(const BenchmarkSpec& spec, const DeviceProbe& probe) {
  if (!AICBENCH_WITH_OPENBLAS) {
    return std::string("this build has no OpenBLAS (configured with -DAICBENCH_WITH_OPENBLAS=OFF)");
  }
  GemmShape s(spec);
  if (s.M > INT_MAX || s.N > INT_MAX || s.K > INT_MAX) return "M, N and K must each fit in int32 (OpenBLAS's integers)";
  return cpu_unsupported(spec, probe);
}

struct CudaRequirements {
  int min_cc = 0, exact_cc = 0;
  const char* arch_note = "";
};

std::optional<std::string> cuda_unsupported(const BenchmarkSpec& spec, const DeviceProbe& probe,
                                            const CudaRequirements& req) {
  if (!probe.available()) return "no CUDA device: " + probe.unavailable_reason.value_or("unknown");
  const DtypeTraits& t = traits(spec.dtype);
  const GpuInfo& gpu = probe.gpu();  // the GPU this process measures
  const int cc = gpu.cc_major * 10 + gpu.cc_minor;  // e.g. 90
  if ((req.exact_cc && cc != req.exact_cc) || cc < req.min_cc) {
    return std::string("needs ") + req.arch_note + "; this GPU is compute capability " +
           gpu.compute_capability();
  }
  GemmShape s(spec);
  if (s.M > INT_MAX || s.N > INT_MAX || s.K > INT_MAX) return "M, N and K must each fit in int32";
  if (s.K % t.k_multiple != 0) {
    return "K = " + std::to_string(s.K) + " is not a multiple of " + std::to_string(t.k_multiple) +
           " (16-byte rows, which " + spec.dtype + " tensor-core loads need)";
  }
  const double need = s.bytes(t);
  const double have = double(gpu.memory_bytes);
  if (need > 0.9 * have) {
    return "needs " + mib(need) + " of device memory, more than 90% of the GPU's " + mib(have);
  }
  return cpu_unsupported(spec, probe);  // the host keeps the inputs for validation
}

Implementation cuda_impl(const char* name, bool vendor, std::vector<std::string> dtypes, CudaImpl impl,
                         CudaRequirements req) {
  return {"gemm", name, Backend::cuda, vendor, std::move(dtypes),
          [req](const BenchmarkSpec& s, const DeviceProbe& p) { return cuda_unsupported(s, p, req); },
          [impl](const BenchmarkSpec& s) { return std::make_unique<CudaGemmCase>(s, impl); }};
}

}  // namespace

std::vector<Implementation> gemm_implementations() {
  return {
      cuda_impl("cublas", true, {"fp32"}, CudaImpl::cublas, {}),
      cuda_impl("cublaslt", true, {"tf32", "bf16", "fp16", "fp8"}, CudaImpl::cublaslt, {}),
      cuda_impl("simt", false, {"fp32"}, CudaImpl::simt, {}),
      cuda_impl("mma_sm80", false, {"tf32", "bf16", "fp16"}, CudaImpl::mma_sm80,
                {80, 0, "an Ampere-class tensor core GPU (sm_80 or newer)"}),
      cuda_impl("wgmma_sm90", false, {"bf16", "fp16", "fp8"}, CudaImpl::wgmma_sm90,
                {0, 90, "Hopper (sm_90a: wgmma and TMA)"}),
      cuda_impl("wgmma_sm90_multicast", false, {"bf16", "fp16", "fp8"}, CudaImpl::wgmma_sm90_multicast,
                {0, 90, "Hopper (sm_90a: wgmma, TMA multicast and thread block clusters)"}),
      {"gemm", "openblas", Backend::cpu, true, {"fp32"}, openblas_unsupported,
       [](const BenchmarkSpec& s) { return std::make_unique<CpuGemmCase>(s, CpuImpl::openblas); }},
      {"gemm", "cpu_blocked", Backend::cpu, false, {"fp32"}, cpu_unsupported,
       [](const BenchmarkSpec& s) { return std::make_unique<CpuGemmCase>(s, CpuImpl::blocked); }},
  };
}

}  // namespace aicbench
