#include "collectives/cuda/ipc_workspace.hpp"

#include <algorithm>
#include <string>

#include <cuda_runtime.h>

#include "collectives/cuda/agreement.hpp"
#include "collectives/mpi_job.hpp"
#include "harness/cuda_check.hpp"

namespace aicbench::collectives {

IpcWorkspace::IpcWorkspace(int64_t bytes) {
  const Job& job = Job::current();
  const JobLayout& layout = job.layout();
  rank_ = layout.world_rank;
  ranks_ = layout.world_size;
  // The same facts on every rank: no agreement needed to refuse.
  if (!AICBENCH_WITH_MPI) throw Unsupported("needs MPI to exchange CUDA IPC handles; this build has none");
  if (ranks_ < 2 || !job.uses_mpi()) {
    throw Unsupported("needs at least 2 ranks (one process per GPU under mpirun or srun); this job has " +
                      std::to_string(ranks_));
  }
  if (ranks_ > kIpcMaxRanks) {
    throw Unsupported("supports up to " + std::to_string(kIpcMaxRanks) + " ranks (one node); this job has " +
                      std::to_string(ranks_));
  }
  if (layout.nodes > 1 || layout.local_size != ranks_) {
    throw Unsupported("CUDA IPC reaches only the GPUs of one node; this job spans " + std::to_string(layout.nodes) +
                      " nodes");
  }
#if AICBENCH_WITH_MPI
  bases_.assign(static_cast<size_t>(ranks_), nullptr);
  cudaIpcMemHandle_t own{};
  try {
    on_every_rank([&] {
      CUDA_CHECK(cudaMalloc(&bases_[static_cast<size_t>(rank_)], static_cast<size_t>(bytes)));
      CUDA_CHECK(cudaMemset(bases_[static_cast<size_t>(rank_)], 0, static_cast<size_t>(bytes)));
      CUDA_CHECK(cudaDeviceSynchronize());  // zeroed before any peer can see it
      CUDA_CHECK(cudaIpcGetMemHandle(&own, bases_[static_cast<size_t>(rank_)]));
    });
    // One node (checked above): the node communicator holds every rank, in world-rank order.
    std::vector<cudaIpcMemHandle_t> handles(static_cast<size_t>(ranks_));
    MPI_Allgather(&own, sizeof own, MPI_BYTE, handles.data(), sizeof own, MPI_BYTE, job.node());
    on_every_rank([&] {
      for (int peer = 0; peer < ranks_; ++peer) {
        if (peer == rank_) continue;
        void* mapped = nullptr;
        const cudaError_t err =
            cudaIpcOpenMemHandle(&mapped, handles[static_cast<size_t>(peer)], cudaIpcMemLazyEnablePeerAccess);
        if (err != cudaSuccess) {
          (void)cudaGetLastError();
          throw Unsupported("cannot map rank " + std::to_string(peer) + "'s GPU memory through CUDA IPC (" +
                            cudaGetErrorName(err) + ": " + cudaGetErrorString(err) +
                            "): the GPUs have no peer access, the peer's GPU is hidden from this process "
                            "(CUDA_VISIBLE_DEVICES), or this container allows no IPC");
        }
        bases_[static_cast<size_t>(peer)] = static_cast<char*>(mapped);
      }
    });
  } catch (...) {
    release();  // every rank is here together, before any kernel used the memory
    throw;
  }
  max_blocks_ = std::clamp(smallest_sm_count(), 1, kIpcMaxBlocks);
#else
  (void)bytes;
#endif
}

IpcWorkspace::~IpcWorkspace() {
#if AICBENCH_WITH_MPI
  int finalized = 1;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Barrier(Job::current().world());  // every rank's kernels have finished
#endif
  release();
}

void IpcWorkspace::release() noexcept {
  for (int r = 0; r < static_cast<int>(bases_.size()); ++r) {
    char*& base = bases_[static_cast<size_t>(r)];
    if (!base) continue;
    if (r == rank_) {
      cudaFree(base);
    } else {
      cudaIpcCloseMemHandle(base);
    }
    base = nullptr;
  }
}

}  // namespace aicbench::collectives
