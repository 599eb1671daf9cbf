#pragma once
// The launch-latency family's kernel (empty_kernel.cu): it does nothing, so what is timed is the
// launch and nothing else.
#include <cuda_runtime.h>

namespace aicbench::kernels {

// Queues one empty kernel (one block of one thread) on `stream`; returns the launch's error.
cudaError_t launch_empty_kernel(cudaStream_t stream);

}  // namespace aicbench::kernels
