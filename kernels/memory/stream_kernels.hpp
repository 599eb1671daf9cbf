#pragma once
// Hand-written STREAM kernels for the GPU (stream_kernels.cu): copy, scale, add, triad, read and
// write (stream_values.hpp), 16-byte accesses, several in flight per thread.
#include <cstddef>

#include <cuda_runtime.h>

#include "kernels/memory/stream_values.hpp"

namespace aicbench::kernels {

// One STREAM operation over n elements of the device arrays a, b and c, each 16-byte aligned
// (cudaMalloc's are; peer GPUs' memory is fine where peer access is enabled). Only the arrays
// the operation touches are read (stream_values.hpp); `sum` is read's result, a device double the
// kernel adds the sum of a to (the caller zeroes it first). Any n >= 0. Returns the launch's
// error, or cudaErrorInvalidValue for a pointer that is not 16-byte aligned.
template <typename T>
cudaError_t stream_cuda(StreamOp op, T* a, T* b, T* c, size_t n, double* sum, cudaStream_t stream);

// a, b and c set to stream_a0/b0/c0 (any of them may be null: left alone).
template <typename T>
cudaError_t stream_init_cuda(T* a, T* b, T* c, size_t n, cudaStream_t stream);

// x[i] = value for every i < n (validation poisons outputs with NaN first).
template <typename T>
cudaError_t stream_fill_cuda(T* x, size_t n, T value, cudaStream_t stream);

// The validation of one run of `op`: adds to *mismatches the number of i < n where
// out[i] != stream_expected(op, i), and lowers *first_mismatch (set it to ~0 first) to the first
// such i. One element per thread and iteration, no vector loads: written apart from the kernels
// it checks, so that it cannot share their indexing mistakes.
template <typename T>
cudaError_t stream_check_cuda(StreamOp op, const T* out, size_t n, unsigned long long* mismatches,
                              unsigned long long* first_mismatch, cudaStream_t stream);

}  // namespace aicbench::kernels
