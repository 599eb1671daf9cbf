#pragma once
// The cuda backend's implementations of the collective families (collectives/collective_ops.hpp:
// all_reduce, all_gather, reduce_scatter, all_to_all, broadcast; parameters `bytes`, nccl-tests'
// size, and `in_place`). The families' registration (harness/families/collectives.cpp) adds them
// beside the cpu backend's.
#include <vector>

#include "harness/benchmark.hpp"

namespace aicbench {

//   impl            ops            what
//   nccl            all five       NCCL on plain cudaMalloc buffers, as nccl-tests calls it (vendor)
//   nccl_symmetric  all five       NCCL on ncclMemAlloc buffers registered as symmetric windows
//                                  (NCCL 2.27+: its low-latency symmetric-memory kernels)
//   oneshot_ipc     all_reduce     collectives/cuda/ipc_allreduce.cu, one-shot (small messages)
//   twoshot_ipc     all_reduce     the same file, two-shot: reduce-scatter + all-gather (mid sizes)
//   multimem        all_reduce     collectives/cuda/multimem_allreduce.cu, NVLink SHARP (sm_90+)
// dtypes fp32 and bf16, op sum (broadcast: from rank 0).
std::vector<Implementation> cuda_collective_implementations();

}  // namespace aicbench
