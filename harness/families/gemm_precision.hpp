#pragma once
// The GEMM precisions: sizes, error budgets (docs/validation.md), and the host-side rounding of
// inputs to the precision and widening of outputs back to float. No CUDA calls: tested on the CPU.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace aicbench {

enum class Dtype { fp32, tf32, bf16, fp16, fp8 };

struct DtypeTraits {
  Dtype dtype;
  const char* name;
  size_t in_bytes, out_bytes;
  // Error budget: rounding of the inputs inside the kernel (tf32 rounds fp32 inputs to 10
  // mantissa bits; counted for both operands), the accumulator's unit roundoff, and the
  // output's. bf16/fp16/fp8 inputs are rounded on the host and the reference uses the rounded
  // values, so they carry no input term.
  double u_inputs, u_accumulate, u_output;
  int k_multiple;  // K granularity of the TN kernels (16-byte rows)
};

// Throws std::invalid_argument for a name that is not a GEMM precision.
const DtypeTraits& traits(const std::string& name);

// The validation tolerance for a GEMM of depth K in this precision.
double tolerance(const DtypeTraits& t, int64_t K);

// Rounds `values` in place to what the device will see and returns the device's bytes. fp8
// scales the tensor so that its largest magnitude maps to e4m3's largest finite value (448) and
// returns the scale in `scale` (1 for the other precisions); `values` then holds q * scale.
std::vector<unsigned char> quantize(const DtypeTraits& t, std::vector<float>& values, float* scale);

// The output bytes of a GEMM in this precision (fp32, bf16, fp16; fp8 writes bf16), as floats.
std::vector<float> widen_output(const DtypeTraits& t, const std::vector<unsigned char>& bytes);

}  // namespace aicbench
