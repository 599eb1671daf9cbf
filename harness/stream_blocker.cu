// A kernel that holds its stream until the host says go: everything queued behind it starts
// together, so the CUDA events around a batch time the device work and no host launch latency
// (nvbench's "blocking kernel" technique). It gives up after a timeout so that a host that never
// releases it (a bug, or a launch queue too full to accept the rest of the batch) cannot hang the
// GPU; the host learns of that through `timed_out`.
#include "harness/stream_blocker.hpp"

namespace aicbench {

namespace {

__device__ __forceinline__ unsigned long long global_timer_ns() {
  unsigned long long t;
  asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
  return t;
}

__global__ void stream_blocker_kernel(const volatile int* release, int* timed_out,
                                      unsigned long long timeout_ns) {
  const unsigned long long start = global_timer_ns();
  while (*release == 0) {
    if (global_timer_ns() - start > timeout_ns) {
      *timed_out = 1;
      return;
    }
  }
}

}  // namespace

cudaError_t launch_stream_blocker(const volatile int* release, int* timed_out,
                                  unsigned long long timeout_ns, cudaStream_t stream) {
  stream_blocker_kernel<<<1, 1, 0, stream>>>(release, timed_out, timeout_ns);
  return cudaGetLastError();
}

}  // namespace aicbench
