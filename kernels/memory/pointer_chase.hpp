#pragma once
// Memory latency by pointer chasing (pointer_chase.cu): one thread follows a chain of links
// through a buffer, each load's address the previous load's value, so the loads cannot overlap
// and the time per hop is the latency of one access. On a peer GPU's buffer (peer access
// enabled) that is the latency across NVLink or PCIe.
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <random>
#include <vector>

#include <cuda_runtime.h>

namespace aicbench::kernels {

// Nodes sit one per 256 bytes, so that no two share a cache line or a 128-byte sector pair and
// every hop is a miss in the reading SM's L1 (loads bypass it anyway: ld.global.cg).
inline constexpr uint32_t kChaseNodeStride = 64;  // uint32 elements: 256 bytes

// next[i], a single cycle through all `nodes` nodes in random order (Sattolo's algorithm), so a
// walk of any length never settles in a small loop that caches would hold.
inline std::vector<uint32_t> chase_cycle(uint32_t nodes, uint64_t seed) {
  std::vector<uint32_t> order(nodes);
  std::iota(order.begin(), order.end(), 0u);
  std::mt19937_64 rng(seed);
  for (uint32_t i = nodes - 1; i > 0; --i) {
    std::uniform_int_distribution<uint32_t> pick(0, i - 1);
    std::swap(order[i], order[pick(rng)]);
  }
  std::vector<uint32_t> next(nodes);
  for (uint32_t i = 0; i < nodes; ++i) next[order[i]] = order[(i + 1) % nodes];
  return next;
}

// Where a walk of `hops` links from node 0 ends: what the kernel must report.
inline uint32_t chase_end(const std::vector<uint32_t>& next, uint64_t hops) {
  uint32_t node = 0;
  for (uint64_t h = 0; h < hops; ++h) node = next[node];
  return node;
}

// Lays the chain out in `buffer` (device memory of nodes * kChaseNodeStride elements): next[i],
// uploaded to the device as `next` (nodes elements), goes to element i * kChaseNodeStride. The
// elements between nodes are never read and left as they are.
cudaError_t chase_scatter_cuda(const uint32_t* next, uint32_t nodes, uint32_t* buffer, cudaStream_t stream);

// One thread walks `hops` links of `buffer` (device memory, local or a peer's) from node 0 and
// writes the node it ends on to *end (device memory). Returns the launch's error.
cudaError_t pointer_chase_cuda(const uint32_t* buffer, uint64_t hops, uint32_t* end, cudaStream_t stream);

}  // namespace aicbench::kernels
