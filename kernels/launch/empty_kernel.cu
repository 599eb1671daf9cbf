// An empty kernel: the launch family times launching it, one at a time or many, from a stream or
// through a CUDA graph (harness/families/launch.cpp).
#include "kernels/launch/empty_kernel.hpp"

namespace aicbench::kernels {

namespace {
__global__ void empty_kernel() {}
}  // namespace

cudaError_t launch_empty_kernel(cudaStream_t stream) {
  empty_kernel<<<1, 1, 0, stream>>>();
  return cudaGetLastError();
}

}  // namespace aicbench::kernels
