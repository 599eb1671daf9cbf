#pragma once
// The burn-in's answer check (harness/families/burnin.cpp): every GEMM's output compared, bit for
// bit, with the first (validated) output of the same inputs, on the GPU, so that a check costs one
// read of two buffers and no copy to the host. A deterministic GEMM (one CTA per output tile, K
// summed in a fixed order: our wgmma kernels, and cuBLASLt, which gives the same bits on every run
// on GPUs of one architecture and SM count) gives the same bits every time on a healthy GPU: any
// difference is the hardware's.
#include <cstddef>
#include <cstdint>

#include <cuda_runtime.h>

namespace aicbench::kernels {

// What a check found, accumulated over the checks queued with the same `out`: the number of
// elements that differed, and one of them (the first to claim the record, not necessarily the
// lowest index). Reset it to all zeros (cudaMemsetAsync) to start counting again.
struct BurninMismatches {
  unsigned long long count;  // elements that differed
  unsigned long long element;  // index of the recorded one
  uint32_t got, expected;      // its bits (the low `element_bytes` bytes)
  uint32_t claimed;            // 1 once an element is recorded
  uint32_t pad;
};

// Compares `bytes` bytes of `c` with `ref` as elements of `element_bytes` (1, 2 or 4) bytes and
// adds what differs to `*out`. Any sizes and 16-byte-aligned buffers (cudaMalloc's); queued on
// `stream`. cudaErrorInvalidValue for another element size or a misaligned buffer.
cudaError_t burnin_compare(const void* c, const void* ref, size_t bytes, int element_bytes,
                           BurninMismatches* out, cudaStream_t stream);

// Flips bit `bit` (0 = lowest) of element `element` of `data`: a planted wrong answer, for the
// tests that show the check finds one (kernels/burnin/burnin_check.cu).
cudaError_t burnin_flip_bit(void* data, size_t element, int element_bytes, int bit, cudaStream_t stream);

// The same comparison on the host (the cpu backend's burn-in), adding to `*out`.
void burnin_compare_host(const void* c, const void* ref, size_t bytes, int element_bytes, BurninMismatches* out);

}  // namespace aicbench::kernels
