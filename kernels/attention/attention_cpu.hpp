#pragma once
// CPU attention: the cpu backend's implementation (prefill and decode), multi-threaded, fp32.
#include <cstdint>

#include "kernels/attention/attention_shape.hpp"

namespace aicbench::kernels {

// O = softmax(scale * Q K^T [causal]) V in the BSHD layout of attention_shape.hpp, fp32 in, fp32
// arithmetic, fp32 out. Split over `threads` worker threads (0: one per hardware thread) by
// (batch, key/value head, block of query rows), so the query heads of a group share each key
// and value read; tiles of keys with an online softmax, as the GPU kernels do. Returns without
// work when the shape is not valid().
void attention_cpu_fp32(const float* Q, const float* K, const float* V, float* O,
                        const AttentionShape& shape, int threads = 0);

}  // namespace aicbench::kernels
