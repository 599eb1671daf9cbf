#pragma once
// All-reduce through NVLink SHARP (NVLS) multicast: one multicast object over every rank's GPU
// (multicast_workspace.hpp makes it), each rank holding a unicast mapping of its own copy and the
// multicast mapping of all of them. The switch does the arithmetic: multimem.ld_reduce reads the
// same address on every GPU and returns the sum, multimem.st writes one value to every GPU.
//
//   copy in -> own copy (all parts); barrier; for this rank's part: sum = multimem.ld_reduce,
//   multimem.st sum to every copy; barrier; copy own copy -> out
//
// Each GPU reads size/n through the switch and writes size/n into it: the traffic of NCCL's NVLS
// all-reduce. Barriers are multicast counters: multimem.red.release.sys adds 1 to this block's
// counter on every GPU, and a rank waits (acquire, on its unicast copy) until the counter holds
// ranks * (barriers so far); counters only grow, so a fast rank's next arrival cannot satisfy a
// slow rank's wait early (a count of ranks * k needs every rank's k-th arrival before anyone's
// (k+1)-th). sm_90 or newer, and a driver that offers multicast objects.
#include <cstdint>

#include <cuda_runtime.h>

#include "collectives/cuda/collective_data.hpp"

namespace aicbench::collectives {

inline constexpr int kMultimemMaxBlocks = 128;
inline constexpr int kMultimemThreads = 512;
// Barrier counters at the start of the multicast memory: uint32 [kMultimemMaxBlocks], padded.
inline constexpr int64_t kMultimemSignalBytes = 4096;

struct MultimemLayout {
  int64_t part = 0;        // elements per rank's part: ceil(count / ranks), padded to 16 bytes
  int64_t bytes = 0;       // the multicast memory needed: counters, then ranks * part elements
};
MultimemLayout multimem_layout(ElemType type, int ranks, int64_t count);

struct MultimemAllReduceArgs {
  char* unicast = nullptr;    // this rank's copy of the multicast memory
  char* multicast = nullptr;  // the multicast mapping (every rank's copy)
  const void* in = nullptr;   // count elements; may equal out
  void* out = nullptr;
  int64_t count = 0;
  int rank = 0, ranks = 0;
  uint32_t epoch = 0;  // 1 for the first call on zeroed counters, then +1 per call on every rank
  int max_blocks = 0;  // the same on every rank, at most kMultimemMaxBlocks and the SM count
};

// Whether this build has the multimem kernel for the current device's architecture (sm_90+).
bool multimem_kernel_built_for_device();

// Queues one all-reduce; cudaErrorInvalidValue for bad arguments, cudaErrorNotSupported below sm_90.
cudaError_t multimem_all_reduce(ElemType type, const MultimemAllReduceArgs& args, cudaStream_t stream);

}  // namespace aicbench::collectives
