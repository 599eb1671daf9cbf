#pragma once
#include <cuda_runtime.h>

namespace aicbench {

// Queues a one-thread kernel on `stream` that spins until *release becomes non-zero (host-mapped
// memory written by the host) or `timeout_ns` passes, in which case it sets *timed_out = 1.
cudaError_t launch_stream_blocker(const volatile int* release, int* timed_out,
                                  unsigned long long timeout_ns, cudaStream_t stream);

}  // namespace aicbench
