#include "collectives/cpu/reduce.hpp"

#include <algorithm>
#include <stdexcept>

namespace aicbench::coll {

namespace {

// Inputs are added a tile at a time into an fp32/fp64/uint32 accumulator that stays in L1, so
// each input is streamed once and the inner loops are plain element-wise loops the compiler
// vectorises.
constexpr int64_t kTile = 1024;

template <typename T>
void sum_into_plain(T* __restrict acc, const T* __restrict src, int64_t count) {
  for (int64_t i = 0; i < count; ++i) acc[i] += src[i];
}

void sum_into_bf16(uint16_t* __restrict acc, const uint16_t* __restrict src, int64_t count) {
  for (int64_t i = 0; i < count; ++i) acc[i] = float_to_bf16(bf16_to_float(acc[i]) + bf16_to_float(src[i]));
}

template <typename T>
void sum_buffers_plain(T* out, const void* const* in, int n, int64_t count) {
  T tile[kTile];
  for (int64_t base = 0; base < count; base += kTile) {
    const int64_t len = std::min(kTile, count - base);
    const T* first = static_cast<const T*>(in[0]) + base;
    std::copy(first, first + len, tile);
    for (int p = 1; p < n; ++p) sum_into_plain(tile, static_cast<const T*>(in[p]) + base, len);
    std::copy(tile, tile + len, out + base);
  }
}

void sum_buffers_bf16(uint16_t* out, const void* const* in, int n, int64_t count) {
  float tile[kTile];
  for (int64_t base = 0; base < count; base += kTile) {
    const int64_t len = std::min(kTile, count - base);
    const uint16_t* first = static_cast<const uint16_t*>(in[0]) + base;
    for (int64_t i = 0; i < len; ++i) tile[i] = bf16_to_float(first[i]);
    for (int p = 1; p < n; ++p) {
      const uint16_t* src = static_cast<const uint16_t*>(in[p]) + base;
      for (int64_t i = 0; i < len; ++i) tile[i] += bf16_to_float(src[i]);
    }
    for (int64_t i = 0; i < len; ++i) out[base + i] = float_to_bf16(tile[i]);
  }
}

}  // namespace

void sum_into(Dtype d, void* acc, const void* src, int64_t count) {
  switch (d) {
    case Dtype::fp32: return sum_into_plain(static_cast<float*>(acc), static_cast<const float*>(src), count);
    case Dtype::fp64: return sum_into_plain(static_cast<double*>(acc), static_cast<const double*>(src), count);
    case Dtype::int32:
      return sum_into_plain(static_cast<uint32_t*>(acc), static_cast<const uint32_t*>(src), count);
    case Dtype::bf16: return sum_into_bf16(static_cast<uint16_t*>(acc), static_cast<const uint16_t*>(src), count);
  }
  throw std::logic_error("sum_into: unknown dtype");
}

void sum_buffers(Dtype d, void* out, const void* const* in, int n, int64_t count) {
  if (n < 1) throw std::logic_error("sum_buffers: no input");
  switch (d) {
    case Dtype::fp32: return sum_buffers_plain(static_cast<float*>(out), in, n, count);
    case Dtype::fp64: return sum_buffers_plain(static_cast<double*>(out), in, n, count);
    case Dtype::int32: return sum_buffers_plain(static_cast<uint32_t*>(out), in, n, count);
    case Dtype::bf16: return sum_buffers_bf16(static_cast<uint16_t*>(out), in, n, count);
  }
  throw std::logic_error("sum_buffers: unknown dtype");
}

double element_value(Dtype d, const void* base, int64_t index) {
  switch (d) {
    case Dtype::fp32: return static_cast<const float*>(base)[index];
    case Dtype::fp64: return static_cast<const double*>(base)[index];
    case Dtype::int32: return static_cast<const int32_t*>(base)[index];
    case Dtype::bf16: return bf16_to_float(static_cast<const uint16_t*>(base)[index]);
  }
  return 0;
}

void set_element(Dtype d, void* base, int64_t index, double value) {
  switch (d) {
    case Dtype::fp32: static_cast<float*>(base)[index] = static_cast<float>(value); return;
    case Dtype::fp64: static_cast<double*>(base)[index] = value; return;
    case Dtype::int32: static_cast<int32_t*>(base)[index] = static_cast<int32_t>(value); return;
    case Dtype::bf16: static_cast<uint16_t*>(base)[index] = float_to_bf16(static_cast<float>(value)); return;
  }
}

}  // namespace aicbench::coll
