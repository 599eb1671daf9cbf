#pragma once
// Hand-written all-reduce (sum) over CUDA IPC buffers: every rank's workspace mapped into every
// other rank's process (ipc_workspace.hpp sets that up over MPI), and two kernels that use it.
//
//   one_shot  each rank copies its input into its own staging buffer, waits at a barrier, then
//             reads every rank's staging buffer and reduces all of it: one barrier, (n-1) * size
//             read over NVLink per rank. Latency-bound sizes (up to a few hundred KB).
//   two_shot  reduce-scatter then all-gather through peer memory: rank r reduces part r of every
//             rank's staging buffer into its own, a barrier, then every rank reads each part from
//             its owner. Two barriers, 2 (n-1)/n * size read per rank: mid sizes.
//
// Both sum in fp32 in rank order 0..n-1, so every rank gets bitwise the same result. Calls alternate
// between two staging buffers (the epoch's parity) and every barrier carries the call's epoch, so
// a fast rank can neither pass a barrier on a slow rank's old flag nor overwrite a staging buffer
// a peer still reads (docs/collectives.md, "IPC flag protocol").
#include <cstdint>

#include <cuda_runtime.h>

#include "collectives/cuda/collective_data.hpp"

namespace aicbench::collectives {

inline constexpr int kIpcMaxRanks = 8;     // one node
inline constexpr int kIpcMaxBlocks = 128;  // flags are per block
inline constexpr int kIpcThreads = 512;
// Barrier flags at the start of each workspace: uint32 [kIpcMaxBlocks][kIpcMaxRanks], in 256 bytes
// multiples so that the staging buffers after them stay aligned.
inline constexpr int64_t kIpcFlagBytes = int64_t(kIpcMaxBlocks) * kIpcMaxRanks * 4;

enum class IpcAlgo { one_shot, two_shot };

// Each rank's workspace, the same on every rank: flags, then two staging buffers of stage_bytes.
struct IpcLayout {
  int64_t part = 0;         // elements in one part (two_shot: ceil(count / ranks); one_shot: count), padded to a pack
  int64_t stage_bytes = 0;  // one staging buffer
  int64_t total_bytes = 0;  // the whole workspace
};
IpcLayout ipc_layout(IpcAlgo algo, ElemType type, int ranks, int64_t count);

struct IpcAllReduceArgs {
  char* workspace[kIpcMaxRanks] = {};  // every rank's workspace as this process maps it; own at [rank]
  const void* in = nullptr;            // count elements; may equal out (in place)
  void* out = nullptr;
  int64_t count = 0;
  int rank = 0, ranks = 0;
  uint32_t epoch = 0;   // 1 for the first call on a fresh (zeroed) workspace, then +1 per call, on every rank
  int max_blocks = 0;   // the same on every rank (at most kIpcMaxBlocks; at most the SM count, so that
                        // every block of the grid is resident and a spinning block never waits for
                        // one that cannot start)
};

// Queues one all-reduce on `stream`. cudaErrorInvalidValue for ranks outside 2..kIpcMaxRanks, a zero
// epoch, unaligned buffers or too few blocks.
cudaError_t ipc_all_reduce(IpcAlgo algo, ElemType type, const IpcAllReduceArgs& args, cudaStream_t stream);

}  // namespace aicbench::collectives
