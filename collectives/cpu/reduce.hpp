#pragma once
// Element types of the CPU collectives and the sum they reduce with. Knows nothing of MPI or of
// the harness: the ring, recursive halving/doubling and shared-memory all-reduces all add with
// these loops, so every algorithm rounds the same way.
//
//   fp32, fp64  IEEE sums, in the order the algorithm chooses (each algorithm fixes its order,
//               so every rank ends with the same bits)
//   bf16        stored as bfloat16, added in fp32 and rounded to nearest even once per addition
//               step (a ring rounds after every hop, as NCCL's bf16 kernels do; the shared-memory
//               algorithms add all ranks in fp32 and round once)
//   int32       two's complement, wrapping (added as uint32, so overflow is defined)
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string_view>

namespace aicbench::coll {

enum class Dtype { fp32, bf16, fp64, int32 };

inline constexpr Dtype kDtypes[] = {Dtype::fp32, Dtype::bf16, Dtype::fp64, Dtype::int32};

inline std::string_view to_string(Dtype d) {
  switch (d) {
    case Dtype::fp32: return "fp32";
    case Dtype::bf16: return "bf16";
    case Dtype::fp64: return "fp64";
    case Dtype::int32: return "int32";
  }
  return "unknown";
}

inline std::optional<Dtype> parse_dtype(std::string_view name) {
  for (Dtype d : kDtypes) {
    if (to_string(d) == name) return d;
  }
  return std::nullopt;
}

inline constexpr size_t element_bytes(Dtype d) {
  switch (d) {
    case Dtype::fp32: return 4;
    case Dtype::bf16: return 2;
    case Dtype::fp64: return 8;
    case Dtype::int32: return 4;
  }
  return 1;
}

// bfloat16: the upper 16 bits of an fp32, rounded to nearest even (NaN kept a quiet NaN).
inline float bf16_to_float(uint16_t h) {
  const uint32_t bits = uint32_t(h) << 16;
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}
inline uint16_t float_to_bf16(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, sizeof bits);
  if ((bits & 0x7F800000u) == 0x7F800000u && (bits & 0x007FFFFFu)) return uint16_t((bits >> 16) | 0x40);
  bits += 0x7FFFu + ((bits >> 16) & 1u);
  return uint16_t(bits >> 16);
}

// acc[i] = acc[i] + src[i], i < count.
void sum_into(Dtype d, void* acc, const void* src, int64_t count);

// out[i] = in[0][i] + in[1][i] + ... + in[n-1][i], added in that order (bf16: in fp32, rounded
// once). `out` may be one of the inputs.
void sum_buffers(Dtype d, void* out, const void* const* in, int n, int64_t count);

// An element as a double (bf16 widened; int32 exact), for checks.
double element_value(Dtype d, const void* base, int64_t index);
// Writes `value`, which the caller chose to be exactly representable in `d`.
void set_element(Dtype d, void* base, int64_t index, double value);

}  // namespace aicbench::coll
