#include "harness/families/gemm_precision.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_fp8.h>

#include "harness/validation.hpp"

namespace aicbench {

namespace {

constexpr double kU32 = 0x1.0p-24;
const DtypeTraits kDtypes[] = {
    {Dtype::fp32, "fp32", 4, 4, 0, kU32, kU32, 1},
    {Dtype::tf32, "tf32", 4, 4, 2 * 0x1.0p-11, kU32, kU32, 4},
    {Dtype::bf16, "bf16", 2, 2, 0, kU32, 0x1.0p-8, 8},
    {Dtype::fp16, "fp16", 2, 2, 0, kU32, 0x1.0p-11, 8},
    // Hopper's fp8 tensor cores accumulate with fewer bits than fp32 (about 14 significant bits
    // have been reported); budget for that until results/gpu/ calibrates it.
    {Dtype::fp8, "fp8", 1, 2, 0, 0x1.0p-14, 0x1.0p-8, 16},
};

// Converts every value to T with `narrow` (into `out`) and replaces it by the value T holds, read
// back with `widen`: afterwards `values` is exactly what the device sees.
template <typename T, typename Narrow, typename Widen>
void round_through(std::vector<float>& values, T* out, Narrow narrow, Widen widen) {
  parallel_for(static_cast<int64_t>(values.size()), [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      out[i] = narrow(values[i]);
      values[i] = widen(out[i]);
    }
  });
}

}  // namespace

const DtypeTraits& traits(const std::string& name) {
  for (const auto& t : kDtypes) {
    if (name == t.name) return t;
  }
  throw std::invalid_argument("unknown GEMM dtype " + name);
}

double tolerance(const DtypeTraits& t, int64_t K) {
  return t.u_inputs + gemm_tolerance(K, t.u_accumulate, t.u_output);
}

std::vector<unsigned char> quantize(const DtypeTraits& t, std::vector<float>& values, float* scale) {
  *scale = 1.0f;
  std::vector<unsigned char> bytes(values.size() * t.in_bytes);
  switch (t.dtype) {
    case Dtype::fp32:
    case Dtype::tf32:  // the kernel rounds to tf32 itself
      std::memcpy(bytes.data(), values.data(), bytes.size());
      break;
    case Dtype::bf16:
      round_through(values, reinterpret_cast<__nv_bfloat16*>(bytes.data()),
                    [](float v) { return __float2bfloat16(v); },
                    [](__nv_bfloat16 v) { return __bfloat162float(v); });
      break;
    case Dtype::fp16:
      round_through(values, reinterpret_cast<__half*>(bytes.data()),
                    [](float v) { return __float2half(v); }, [](__half v) { return __half2float(v); });
      break;
    case Dtype::fp8: {
      float amax = 0;
      for (float v : values) amax = std::max(amax, std::abs(v));
      const float s = amax > 0 ? amax / 448.0f : 1.0f;
      *scale = s;
      round_through(values, reinterpret_cast<__nv_fp8_e4m3*>(bytes.data()),
                    [s](float v) { return __nv_fp8_e4m3(v / s); },
                    [s](__nv_fp8_e4m3 v) { return static_cast<float>(v) * s; });
      break;
    }
  }
  return bytes;
}

std::vector<float> widen_output(const DtypeTraits& t, const std::vector<unsigned char>& bytes) {
  const size_t n = bytes.size() / t.out_bytes;
  std::vector<float> out(n);
  if (t.out_bytes == 4) {
    std::memcpy(out.data(), bytes.data(), bytes.size());
  } else if (t.dtype == Dtype::fp16) {
    auto* in = reinterpret_cast<const __half*>(bytes.data());
    for (size_t i = 0; i < n; ++i) out[i] = __half2float(in[i]);
  } else {  // bf16, and fp8's bf16 output
    auto* in = reinterpret_cast<const __nv_bfloat16*>(bytes.data());
    for (size_t i = 0; i < n; ++i) out[i] = __bfloat162float(in[i]);
  }
  return out;
}

}  // namespace aicbench
