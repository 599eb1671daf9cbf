// The attention families: scaled dot-product attention forward, O = softmax(Q K^T / sqrt(D)) V.
//
//   family            params                          what is timed
//   attention         B H KVH Sq Sk D causal          prefill / training forward over Sq queries
//   attention_decode  B H KVH Sk D                    one new query per sequence (Sq = 1) against
//                                                     a KV cache of Sk tokens
//
//   impl        family      dtypes      backend  what
//   cpu_flash   both        fp32        cpu      kernels/attention/attention_cpu.cpp
//
// Layout, grouped-query heads (KVH divides H), the causal mask (aligned to the bottom right) and
// the FLOP convention are kernels/attention/attention_shape.hpp's: 4 * B * H * Sq * Sk * D,
// halved for causal, the softmax not counted (FlashAttention's benchmarks' convention). Decode is
// memory-bound: its `gbps` counts K and V read once (2 * B * Sk * KVH * D elements), the bytes
// every implementation must move; prefill's counts Q, K, V and O once.
//
// Inputs are drawn uniform in [-1, 1) in fp32 and rounded to the dtype on the host, so every
// implementation and the float64 check see the same values. Validation (docs/validation.md,
// harness/families/attention_check.hpp): sampled rows recomputed in float64, softmax included.
#include <algorithm>
#include <climits>
#include <limits>
#include <thread>
#include <vector>

#include <unistd.h>

#include "harness/benchmark.hpp"
#include "harness/families/attention_check.hpp"
#include "harness/validation.hpp"
#include "kernels/attention/attention_cpu.hpp"
#include "kernels/attention/attention_shape.hpp"

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
  double flops() const override { return shape_.flops(); }
  double bytes() const override { return 4.0 * elements_moved(spec_, shape_); }

 private:
  BenchmarkSpec spec_;
  AttentionShape shape_;
  std::vector<float> Q_, K_, V_, O_;
  int threads_;
};

// ---- where each implementation can run -------------------------------------------------------

std::string mib(double bytes) { return std::to_string(static_cast<long long>(bytes / (1 << 20))) + " MiB"; }

// A shape no implementation can run: nonpositive sizes, KVH not dividing H, causal not 0 or 1.
std::optional<std::string> invalid_shape(const BenchmarkSpec& spec) {
  for (const Param& p : spec.params) {
    if (p.value < (p.name == "causal" ? 0 : 1)) return p.name + " must be at least " + (p.name == "causal" ? "0" : "1");
  }
  if (!is_decode(spec) && spec.param("causal") > 1) return std::string("causal must be 0 or 1");
  const AttentionShape s = shape_of(spec);
  if (s.H % s.KVH != 0) {
    return "KVH = " + std::to_string(s.KVH) + " must divide H = " + std::to_string(s.H) + " (grouped-query heads)";
  }
  return std::nullopt;
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

Implementation cpu_impl(const char* family) {
  return {family, "cpu_flash", Backend::cpu, false, {"fp32"}, cpu_unsupported,
          [](const BenchmarkSpec& s) { return std::make_unique<CpuAttentionCase>(s); }};
}

}  // namespace

std::vector<Implementation> attention_implementations() {
  return {
      cpu_impl(kPrefill),
      cpu_impl(kDecode),
  };
}

}  // namespace aicbench
