#pragma once
// The STREAM kernels' operations and the values they are validated with, shared by the CUDA
// kernels, the CPU kernels and their checks.
//
// STREAM's four kernels (John D. McCalpin, https://www.cs.virginia.edu/stream/), on arrays a, b, c
// and a scalar q, plus the two one-way kernels that tell reads from writes:
//   copy   c[i] = a[i]                bytes counted: 2 arrays (STREAM's own count)
//   scale  b[i] = q * c[i]            2
//   add    c[i] = a[i] + b[i]         3
//   triad  a[i] = b[i] + q * c[i]     3
//   read   s = sum of a[i]            1 (a reduction whose result is checked, so it cannot be skipped)
//   write  a[i] = q                   1
// Inputs are small integers and q = 3, so every result is an integer below 2^5, exact in fp32 and
// fp64, and validation compares exactly. The read kernel's sum is exact too: the kernels add at
// most 16 elements in the array's type before moving the partial sum to fp64, whose integers are
// exact up to 2^53 (the sum of 2^50 elements).
#include <cstdint>

#include "kernels/gemm/host_device.hpp"

namespace aicbench::kernels {

enum class StreamOp : int { copy = 0, scale, add, triad, read, write };

inline constexpr double kStreamScalar = 3;

// Initial values: 1..7, 1..5, 1..3 with different periods, so that no two arrays are equal and
// no result is the value of an input at the same index.
AICBENCH_HOST_DEVICE inline double stream_a0(uint64_t i) { return double(1 + i % 7); }
AICBENCH_HOST_DEVICE inline double stream_b0(uint64_t i) { return double(1 + i % 5); }
AICBENCH_HOST_DEVICE inline double stream_c0(uint64_t i) { return double(1 + i % 3); }

// Which array an operation writes: 0 = a, 1 = b, 2 = c; -1 for read (it writes a sum).
AICBENCH_HOST_DEVICE inline int stream_output(StreamOp op) {
  switch (op) {
    case StreamOp::copy: return 2;
    case StreamOp::scale: return 1;
    case StreamOp::add: return 2;
    case StreamOp::triad: return 0;
    case StreamOp::read: return -1;
    case StreamOp::write: return 0;
  }
  return -1;
}

// The value element i of the output array must hold after one run from the initial values.
AICBENCH_HOST_DEVICE inline double stream_expected(StreamOp op, uint64_t i) {
  switch (op) {
    case StreamOp::copy: return stream_a0(i);
    case StreamOp::scale: return kStreamScalar * stream_c0(i);
    case StreamOp::add: return stream_a0(i) + stream_b0(i);
    case StreamOp::triad: return stream_b0(i) + kStreamScalar * stream_c0(i);
    case StreamOp::write: return kStreamScalar;
    case StreamOp::read: break;
  }
  return 0;
}

// The exact sum of stream_a0 over [0, n): what the read kernel must return.
inline double stream_read_expected(uint64_t n) {
  const uint64_t full = n / 7, rest = n % 7;
  return double(full * 28 + rest * (rest + 1) / 2);  // 1+..+7 = 28 per period
}

// Bytes one run moves, as STREAM counts them (no write-allocate traffic): arrays touched x n x size.
inline double stream_bytes(StreamOp op, uint64_t n, int element_bytes) {
  const int arrays = (op == StreamOp::add || op == StreamOp::triad) ? 3 : (op == StreamOp::read || op == StreamOp::write) ? 1 : 2;
  return double(arrays) * double(n) * element_bytes;
}

inline const char* stream_op_name(StreamOp op) {
  switch (op) {
    case StreamOp::copy: return "copy";
    case StreamOp::scale: return "scale";
    case StreamOp::add: return "add";
    case StreamOp::triad: return "triad";
    case StreamOp::read: return "read";
    case StreamOp::write: return "write";
  }
  return "?";
}

}  // namespace aicbench::kernels
