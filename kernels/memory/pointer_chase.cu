// The pointer-chasing latency kernel (pointer_chase.hpp): one thread, one dependent load per hop,
// each through L2 only (ld.global.cg), so the time per hop is one access's latency: local HBM
// (about 600 to 700 ns on Hopper, for a chain far larger than L2), or a peer GPU's memory across
// NVLink or PCIe.
#include "kernels/memory/pointer_chase.hpp"

namespace aicbench::kernels {

namespace {

__global__ void pointer_chase_kernel(const uint32_t* __restrict__ buffer, uint64_t hops, uint32_t* __restrict__ end) {
  uint32_t node = 0;
  for (uint64_t h = 0; h < hops; ++h) node = __ldcg(buffer + size_t(node) * kChaseNodeStride);
  *end = node;  // the walk's result is used, so no hop can be dropped
}

__global__ void chase_scatter_kernel(const uint32_t* __restrict__ next, uint32_t nodes, uint32_t* __restrict__ buffer) {
  for (size_t i = size_t(blockIdx.x) * blockDim.x + threadIdx.x; i < nodes; i += size_t(gridDim.x) * blockDim.x) {
    buffer[i * kChaseNodeStride] = next[i];
  }
}

}  // namespace

cudaError_t chase_scatter_cuda(const uint32_t* next, uint32_t nodes, uint32_t* buffer, cudaStream_t stream) {
  const unsigned blocks = nodes / 256 + 1 < 4096 ? nodes / 256 + 1 : 4096;
  chase_scatter_kernel<<<blocks, 256, 0, stream>>>(next, nodes, buffer);
  return cudaGetLastError();
}

cudaError_t pointer_chase_cuda(const uint32_t* buffer, uint64_t hops, uint32_t* end, cudaStream_t stream) {
  pointer_chase_kernel<<<1, 1, 0, stream>>>(buffer, hops, end);
  return cudaGetLastError();
}

}  // namespace aicbench::kernels
