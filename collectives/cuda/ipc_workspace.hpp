#pragma once
// One device allocation per rank, mapped into every other rank's process through CUDA IPC: the
// memory the hand-written all-reduce kernels read and signal through (ipc_allreduce.hpp).
// The IPC handles travel over MPI (an allgather over the job's node communicator). It works
// between processes on different GPUs of a node (NVLink or PCIe peer access) and between
// processes that share one GPU, which is how a machine with one GPU checks these kernels.
#include <cstdint>
#include <vector>

#include "collectives/cuda/ipc_allreduce.hpp"

namespace aicbench::collectives {

class IpcWorkspace {
 public:
  // Allocates `bytes` on this rank's current device, zeroed, and maps every other rank's. A
  // collective call: every rank of the job, with the same bytes. Throws Unsupported, on every
  // rank alike, where the job is not 2..kIpcMaxRanks ranks on one node, MPI is absent, or a
  // peer's memory cannot be mapped here (no peer access between the GPUs, no IPC in this
  // container); std::runtime_error for other failures.
  explicit IpcWorkspace(int64_t bytes);
  // Waits for every rank (MPI barrier) before unmapping and freeing: a peer may still be reading.
  // Every rank must have synchronised the streams that used the workspace before.
  ~IpcWorkspace();
  IpcWorkspace(const IpcWorkspace&) = delete;
  IpcWorkspace& operator=(const IpcWorkspace&) = delete;

  int rank() const { return rank_; }
  int ranks() const { return ranks_; }
  char* base(int rank) const { return bases_[static_cast<size_t>(rank)]; }  // as this process maps it
  // Blocks a kernel may use so that every block of its grid is resident on every rank's GPU.
  int max_blocks() const { return max_blocks_; }

 private:
  void release() noexcept;
  int rank_ = 0, ranks_ = 0, max_blocks_ = 1;
  std::vector<char*> bases_;  // own allocation at [rank_], peers' mappings elsewhere
};

}  // namespace aicbench::collectives
