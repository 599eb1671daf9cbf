// The attention families: scaled dot-product attention forward, O = softmax(Q K^T / sqrt(D)) V.
//
//   family            params                          what is timed
//   attention         B H KVH Sq Sk D causal          prefill / training forward over Sq queries
//   attention_decode  B H KVH Sk D                    one new query per sequence (Sq = 1) against
//                                                     a KV cache of Sk tokens
//
//   impl        family      dtypes      backend  what
//   cudnn       both        bf16 fp16   cuda     cuDNN 9's fused SDPA through the backend API
//                                                (kernels/attention/attention_cudnn.hpp), vendor
//   unfused     both        bf16 fp16   cuda     cuBLAS batched GEMM, softmax kernel, cuBLAS batched
//                                                GEMM (kernels/attention/attention_unfused.hpp)
//   mma_sm80    attention   bf16 fp16   cuda     kernels/attention/attention_mma_sm80.cu (sm_80+)
//   wgmma_sm90  attention   bf16 fp16   cuda     kernels/attention/attention_wgmma_sm90.cu (sm_90a:
//                                                TMA, wgmma, FlashAttention-3's design)
//   split_kv_sm80  attention_decode  bf16 fp16  cuda  kernels/attention/attention_decode_sm80.cu
//                                                (split-KV + combine, sm_80+)
//   cpu_flash   both        fp32        cpu      kernels/attention/attention_cpu.cpp
//
// Layout, grouped-query heads (KVH divides H), the causal mask (aligned to the bottom right) and
// the FLOP convention are kernels/attention/attention_shape.hpp's: 4 * B * H * Sq * Sk * D,
// halved for causal, the softmax not counted (FlashAttention's benchmarks' convention). Decode is
// memory-bound: its rows report `gbps` only (no TFLOP/s, so that GB/s is the row's headline, its
// pct_of_peak is against the datasheet's HBM bandwidth and its pct_of_vendor a ratio of GB/s), K
// and V read once (2 * B * Sk * KVH * D elements), the bytes every implementation must move;
// prefill's rows report TFLOP/s, and `gbps` for Q, K, V and O moved once.
//
// Inputs are drawn uniform in [-1, 1) in fp32 and rounded to the dtype on the host, so every
// implementation and the float64 check see the same values. Validation (docs/validation.md,
// harness/families/attention_check.hpp): sampled rows recomputed in float64, softmax included,
// and on the GPU every fused implementation's whole output against the unfused path's.
#include <algorithm>
#include <climits>
#include <limits>
#include <thread>
#include <vector>

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <unistd.h>

#include "harness/benchmark.hpp"
#include "harness/cuda_check.hpp"
#include "harness/device_buffer.hpp"
#include "harness/families/attention_check.hpp"
#include "harness/families/gemm_precision.hpp"
#include "harness/validation.hpp"
#include "kernels/attention/attention_api.hpp"
#include "kernels/attention/attention_cpu.hpp"
#include "kernels/attention/attention_shape.hpp"
#include "kernels/attention/attention_unfused.hpp"
#if AICBENCH_WITH_CUDNN
#include "kernels/attention/attention_cudnn.hpp"
#endif

namespace aicbench {

namespace {

using kernels::AttentionShape;

constexpr uint64_t kSeedQ = 0x51, kSeedK = 0x52, kSeedV = 0x53;
constexpr const char* kPrefill = "attention";
constexpr const char* kDecode = "attention_decode";

bool is_decode(const BenchmarkSpec& spec) { return spec.family == kDecode; }

AttentionShape shape_of(const BenchmarkSpec& spec) {
  AttentionShape s;
  s.B = spec.param("B");
  s.H = spec.param("H");
  s.KVH = spec.param("KVH");
  s.Sk = spec.param("Sk");
  s.D = spec.param("D");
  if (is_decode(spec)) {
    s.Sq = 1;
    s.causal = false;
  } else {
    s.Sq = spec.param("Sq");
    s.causal = spec.param("causal") != 0;
  }
  return s;
}

// Bytes of work per run, in elements: decode reads K and V once (what bounds it); prefill reads
// Q, K and V and writes O once.
double elements_moved(const BenchmarkSpec& spec, const AttentionShape& s) {
  const double kv = 2.0 * double(s.kv_elements());
  return is_decode(spec) ? kv : kv + 2.0 * double(s.q_elements());
}

std::vector<float> random_input(int64_t n, uint64_t seed) {
  std::vector<float> v(static_cast<size_t>(n));
  fill_uniform(v, seed);
  return v;
}

Validation to_validation(const AttentionCheck& check, const nlohmann::json& settings = nullptr) {
  Validation v{check.passed, check.max_rel_err, check.message,
               {{"max_rel_err", check.max_rel_err},
                {"tolerance", check.tolerance},
                {"rows", check.rows},
                {"method", "sampled rows recomputed in float64 (softmax in float64)"}}};
  if (check.max_diff_vs_reference) {
    v.details["max_diff_vs_reference"] = *check.max_diff_vs_reference;
    v.details["reference_tolerance"] = check.reference_tolerance;
    v.details["reference"] = check.reference_name;
    v.details["method"] = "sampled rows recomputed in float64 (softmax in float64) + the whole output against " +
                          check.reference_name;
  }
  if (settings.is_object()) v.details.update(settings);
  return v;
}

// ---- cpu backend ---------------------------------------------------------------------------

int cpu_threads() { return static_cast<int>(std::max(1u, std::thread::hardware_concurrency())); }

class CpuAttentionCase final : public BenchmarkCase {
 public:
  explicit CpuAttentionCase(const BenchmarkSpec& spec)
      : spec_(spec),
        shape_(shape_of(spec)),
        Q_(random_input(shape_.q_elements(), kSeedQ)),
        K_(random_input(shape_.kv_elements(), kSeedK)),
        V_(random_input(shape_.kv_elements(), kSeedV)),
        O_(static_cast<size_t>(shape_.q_elements())),
        threads_(cpu_threads()) {}

  Validation validate() override {
    // Poison O first (NaN), so an implementation that writes nothing cannot pass on stale data.
    std::fill(O_.begin(), O_.end(), std::numeric_limits<float>::quiet_NaN());
    run();
    const double tolerance =
        attention_tolerance(attention_precision("fp32"), shape_, score_bound(Q_, K_, shape_));
    return to_validation(check_attention(Q_, K_, V_, O_, shape_, tolerance), {{"threads", threads_}});
  }
  void run() override {
    kernels::attention_cpu_fp32(Q_.data(), K_.data(), V_.data(), O_.data(), shape_, threads_);
  }
  double flops() const override { return is_decode(spec_) ? 0.0 : shape_.flops(); }
  double bytes() const override { return 4.0 * elements_moved(spec_, shape_); }

 private:
  BenchmarkSpec spec_;
  AttentionShape shape_;
  std::vector<float> Q_, K_, V_, O_;
  int threads_;
};

// ---- cuda backend --------------------------------------------------------------------------
enum class CudaImpl { cudnn, unfused, mma_sm80, wgmma_sm90, split_kv_sm80 };

// The unfused path's workspace for S and P: at most 8 GiB, and a quarter of what is free.
size_t unfused_workspace_bytes() {
  size_t free = 0, total = 0;
  CUDA_CHECK(cudaMemGetInfo(&free, &total));
  return std::min<size_t>(size_t{8} << 30, free / 4);
}

// A cudaErrorNotSupported from a launcher: this GPU, or this build, cannot run the kernel.
void check_launch(cudaError_t err, const char* what) {
  if (err == cudaErrorNotSupported) {
    (void)cudaGetLastError();
    throw UnsupportedHere(std::string(what) + " cannot run on this GPU or was not built for it");
  }
  CUDA_CHECK(err);
}

class CudaAttentionCase final : public BenchmarkCase {
 public:
  CudaAttentionCase(const BenchmarkSpec& spec, CudaImpl impl)
      : spec_(spec),
        impl_(impl),
        t_(traits(spec.dtype)),
        shape_(shape_of(spec)),
        q_ref_(random_input(shape_.q_elements(), kSeedQ)),
        k_ref_(random_input(shape_.kv_elements(), kSeedK)),
        v_ref_(random_input(shape_.kv_elements(), kSeedV)),
        Q_(q_ref_.size() * t_.in_bytes),
        K_(k_ref_.size() * t_.in_bytes),
        V_(v_ref_.size() * t_.in_bytes),
        O_(q_ref_.size() * t_.in_bytes) {
    // Rounded on the host: the references then use exactly the device's values.
    for (auto [ref, buffer] : {std::pair{&q_ref_, &Q_}, std::pair{&k_ref_, &K_}, std::pair{&v_ref_, &V_}}) {
      float unused_scale = 1;
      const std::vector<unsigned char> bytes = quantize(t_, *ref, &unused_scale);
      upload(buffer->get(), bytes.data(), bytes.size());
    }
    if (impl_ == CudaImpl::unfused) {
      unfused_ = std::make_unique<kernels::UnfusedAttention>(stream_.get(), shape_, cuda_type(), unfused_workspace_bytes());
    }
    if (impl_ == CudaImpl::split_kv_sm80) {
      workspace_ = std::make_unique<DeviceBuffer<unsigned char>>(kernels::attention_decode_sm80_workspace_bytes(shape_));
    }
#if AICBENCH_WITH_CUDNN
    if (impl_ == CudaImpl::cudnn) {
      try {
        cudnn_ = std::make_unique<kernels::CudnnAttention>(
            stream_.get(), shape_, t_.dtype == Dtype::bf16 ? CUDNN_DATA_BFLOAT16 : CUDNN_DATA_HALF);
      } catch (const kernels::CudnnNotSupported& e) {
        throw UnsupportedHere(e.what());
      }
    }
#endif
  }

  Validation validate() override {
    const std::vector<float> O = run_into(O_, [&] { run(); });
    const double tolerance =
        attention_tolerance(attention_precision(spec_.dtype), shape_, score_bound(q_ref_, k_ref_, shape_));
    AttentionCheck check = check_attention(q_ref_, k_ref_, v_ref_, O, shape_, tolerance);
    if (impl_ != CudaImpl::unfused) {
      // The whole output against the unfused path's on the same inputs.
      DeviceBuffer<unsigned char> reference(O_.size());
      kernels::UnfusedAttention unfused(stream_.get(), shape_, cuda_type(), unfused_workspace_bytes());
      const std::vector<float> R = run_into(reference, [&] {
        CUBLAS_CHECK(unfused.run(Q_.get(), K_.get(), V_.get(), reference.get()));
      });
      compare_with_reference(check, O, R, v_ref_, shape_, "unfused");
    }
    nlohmann::json settings = nullptr;
#if AICBENCH_WITH_CUDNN
    if (cudnn_) settings = {{"cudnn_engine", cudnn_->engine()}, {"cudnn_workspace_bytes", cudnn_->workspace_bytes()}};
#endif
    return to_validation(check, settings);
  }

  void run() override {
    const void *q = Q_.get(), *k = K_.get(), *v = V_.get();
    void* o = O_.get();
    cudaStream_t s = stream_.get();
    using bf16 = __nv_bfloat16;
    switch (impl_) {
      case CudaImpl::cudnn:
#if AICBENCH_WITH_CUDNN
        if (const cudnnStatus_t status = cudnn_->run(q, k, v, o); status != CUDNN_STATUS_SUCCESS) {
          throw std::runtime_error(std::string("cuDNN attention failed: ") + cudnnGetErrorString(status));
        }
        return;
#else
        throw std::logic_error("attention: this build has no cuDNN");
#endif
      case CudaImpl::unfused:
        CUBLAS_CHECK(unfused_->run(q, k, v, o));
        return;
      case CudaImpl::mma_sm80:
        if (t_.dtype == Dtype::bf16) {
          check_launch(kernels::attention_mma_sm80_bf16(static_cast<const bf16*>(q), static_cast<const bf16*>(k),
                                                        static_cast<const bf16*>(v), static_cast<bf16*>(o), shape_, s),
                       "mma_sm80");
        } else {
          check_launch(kernels::attention_mma_sm80_fp16(static_cast<const __half*>(q), static_cast<const __half*>(k),
                                                        static_cast<const __half*>(v), static_cast<__half*>(o), shape_, s),
                       "mma_sm80");
        }
        return;
      case CudaImpl::wgmma_sm90:
        if (t_.dtype == Dtype::bf16) {
          check_launch(kernels::attention_wgmma_sm90_bf16(static_cast<const bf16*>(q), static_cast<const bf16*>(k),
                                                          static_cast<const bf16*>(v), static_cast<bf16*>(o), shape_, s),
                       "wgmma_sm90");
        } else {
          check_launch(kernels::attention_wgmma_sm90_fp16(static_cast<const __half*>(q), static_cast<const __half*>(k),
                                                          static_cast<const __half*>(v), static_cast<__half*>(o), shape_, s),
                       "wgmma_sm90");
        }
        return;
      case CudaImpl::split_kv_sm80: {
        void* ws = workspace_->get();
        const size_t ws_bytes = workspace_->size();
        if (t_.dtype == Dtype::bf16) {
          check_launch(kernels::attention_decode_sm80_bf16(static_cast<const bf16*>(q), static_cast<const bf16*>(k),
                                                           static_cast<const bf16*>(v), static_cast<bf16*>(o), shape_,
                                                           ws, ws_bytes, s),
                       "split_kv_sm80");
        } else {
          check_launch(kernels::attention_decode_sm80_fp16(static_cast<const __half*>(q), static_cast<const __half*>(k),
                                                           static_cast<const __half*>(v), static_cast<__half*>(o), shape_,
                                                           ws, ws_bytes, s),
                       "split_kv_sm80");
        }
        return;
      }
    }
  }

  cudaStream_t stream() const override { return stream_.get(); }
  double flops() const override { return is_decode(spec_) ? 0.0 : shape_.flops(); }
  double bytes() const override { return double(t_.in_bytes) * elements_moved(spec_, shape_); }

 private:
  cudaDataType_t cuda_type() const { return t_.dtype == Dtype::bf16 ? CUDA_R_16BF : CUDA_R_16F; }

  // Poisons `out` (all bits set: NaN), queues `work`, waits, and returns `out` widened to float.
  template <class Work>
  std::vector<float> run_into(DeviceBuffer<unsigned char>& out, Work work) {
    CUDA_CHECK(cudaMemsetAsync(out.get(), 0xFF, out.size(), stream_.get()));
    work();
    CUDA_CHECK(cudaStreamSynchronize(stream_.get()));
    std::vector<unsigned char> bytes(out.size());
    CUDA_CHECK(cudaMemcpy(bytes.data(), out.get(), bytes.size(), cudaMemcpyDeviceToHost));
    return widen_output(t_, bytes);
  }

  BenchmarkSpec spec_;
  CudaImpl impl_;
  const DtypeTraits& t_;
  AttentionShape shape_;
  std::vector<float> q_ref_, k_ref_, v_ref_;  // the inputs as the device sees them
  CudaStream stream_;
  DeviceBuffer<unsigned char> Q_, K_, V_, O_;  // in the dtype's bytes
  std::unique_ptr<kernels::UnfusedAttention> unfused_;
  std::unique_ptr<DeviceBuffer<unsigned char>> workspace_;  // split_kv_sm80's partial results
#if AICBENCH_WITH_CUDNN
  std::unique_ptr<kernels::CudnnAttention> cudnn_;
#endif
};

// ---- where each implementation can run -------------------------------------------------------

std::string mib(double bytes) { return std::to_string(static_cast<long long>(bytes / (1 << 20))) + " MiB"; }

// A shape no implementation can run: sizes below 1, and what family_shape_problem refuses (KVH
// not dividing H, causal not 0 or 1). A suite never gives one (its reader refuses them); a spec
// built by hand still may.
std::optional<std::string> invalid_shape(const BenchmarkSpec& spec) {
  for (const Param& p : spec.params) {
    const int64_t least = family_param_minimum(spec.family, p.name);
    if (p.value < least) return p.name + " must be at least " + std::to_string(least);
  }
  return family_shape_problem(spec.family, spec.params);
}

std::optional<std::string> cpu_unsupported(const BenchmarkSpec& spec, const DeviceProbe&) {
  if (auto bad = invalid_shape(spec)) return bad;
  const AttentionShape s = shape_of(spec);
  // Q, K, V and O as fp32 on the host (a GPU case also keeps its rounded inputs there, for
  // validation, and downloads two outputs).
  const double need = 4.0 * (3.0 * double(s.q_elements()) + 2.0 * double(s.kv_elements()));
  const double have = double(::sysconf(_SC_PHYS_PAGES)) * double(::sysconf(_SC_PAGE_SIZE));
  if (need > 0.8 * have) {
    return "needs " + mib(need) + " of host memory, more than 80% of the " + mib(have) + " this machine has";
  }
  return std::nullopt;
}

struct CudaRequirements {
  int min_cc = 0;
  const char* arch_note = "";
  bool head_dims_64_128_256 = false;  // the hand-written kernels' head dimensions
  bool cudnn = false;                 // cuDNN's graph: in the build, D <= 256, causal with Sq <= Sk
  int exact_cc = 0;                   // sm_90a code runs on compute capability 9.0 only
};

std::optional<std::string> cuda_unsupported(const BenchmarkSpec& spec, const DeviceProbe& probe,
                                            const CudaRequirements& req) {
  if (!probe.available()) return "no CUDA device: " + probe.unavailable_reason.value_or("unknown");
  if (auto bad = invalid_shape(spec)) return bad;
  const GpuInfo& gpu = probe.gpu();
  const int cc = gpu.cc_major * 10 + gpu.cc_minor;
  if (cc < req.min_cc || (req.exact_cc && cc != req.exact_cc)) {
    return std::string("needs ") + req.arch_note + "; this GPU is compute capability " + gpu.compute_capability();
  }
  const AttentionShape s = shape_of(spec);
  if (req.cudnn) {
    if (!AICBENCH_WITH_CUDNN) return std::string("this build has no cuDNN (configured with -DAICBENCH_WITH_CUDNN=OFF)");
    if (s.D > 256) return "D = " + std::to_string(s.D) + ": cuDNN's fused attention takes head dimensions up to 256";
    if (s.causal && s.Sq > s.Sk) {
      return std::string("cuDNN's bottom-right causal mask needs Sq <= Sk (the frontend refuses Sq > Sk too)");
    }
  }
  if (req.head_dims_64_128_256 && s.D != 64 && s.D != 128 && s.D != 256) {
    return "D = " + std::to_string(s.D) + ": the kernel is built for head dimensions 64, 128 and 256";
  }
  if (s.D % 8 != 0) return "D = " + std::to_string(s.D) + " is not a multiple of 8 (16-byte rows)";
  if (s.H > 65535 || s.B > 65535 || s.Sq > INT_MAX || s.Sk > INT_MAX) {
    return std::string("H and B must be at most 65535, Sq and Sk below 2^31");
  }
  // Inputs and output, the unfused reference's output and its workspace (one (batch, head)'s S
  // and P at least, at most 8 GiB).
  const double elem = double(traits(spec.dtype).in_bytes);
  const double pair = double(kernels::UnfusedAttention::pair_bytes(s));
  const double workspace_cap = std::min(8.0 * (1 << 30), double(gpu.memory_bytes) / 5);
  if (pair > workspace_cap) {
    return "the unfused path (and the fused kernels' whole-output check) needs " + mib(pair) +
           " for one (batch, head)'s S and P, more than its " + mib(workspace_cap) + " workspace";
  }
  const double need = elem * (3.0 * double(s.q_elements()) + 2.0 * double(s.kv_elements())) +
                      std::min(workspace_cap, pair * double(s.B * s.H));
  if (need > 0.9 * double(gpu.memory_bytes)) {
    return "needs " + mib(need) + " of device memory, more than 90% of the GPU's " + mib(double(gpu.memory_bytes));
  }
  return cpu_unsupported(spec, probe);  // the host keeps the inputs for validation
}

Implementation cuda_impl(const char* family, const char* name, bool vendor, CudaImpl impl, CudaRequirements req) {
  return {family, name, Backend::cuda, vendor, {"bf16", "fp16"},
          [req](const BenchmarkSpec& s, const DeviceProbe& p) { return cuda_unsupported(s, p, req); },
          [impl](const BenchmarkSpec& s) { return std::make_unique<CudaAttentionCase>(s, impl); }};
}

Implementation cpu_impl(const char* family) {
  return {family, "cpu_flash", Backend::cpu, false, {"fp32"}, cpu_unsupported,
          [](const BenchmarkSpec& s) { return std::make_unique<CpuAttentionCase>(s); }};
}

}  // namespace

std::vector<Implementation> attention_implementations() {
  const CudaRequirements sm80{80, "an Ampere-class tensor core GPU (sm_80 or newer)", true};
  const CudaRequirements cudnn{0, "", false, true};
  const CudaRequirements sm90a{90, "a Hopper GPU (compute capability 9.0: sm_90a's wgmma and TMA)", true, false, 90};
  return {
      cuda_impl(kPrefill, "cudnn", true, CudaImpl::cudnn, cudnn),
      cuda_impl(kDecode, "cudnn", true, CudaImpl::cudnn, cudnn),
      cuda_impl(kPrefill, "unfused", false, CudaImpl::unfused, {}),
      cuda_impl(kPrefill, "mma_sm80", false, CudaImpl::mma_sm80, sm80),
      cuda_impl(kPrefill, "wgmma_sm90", false, CudaImpl::wgmma_sm90, sm90a),
      cuda_impl(kDecode, "unfused", false, CudaImpl::unfused, {}),
      cuda_impl(kDecode, "split_kv_sm80", false, CudaImpl::split_kv_sm80, sm80),
      cpu_impl(kPrefill),
      cpu_impl(kDecode),
  };
}

}  // namespace aicbench
