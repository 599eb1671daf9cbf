#pragma once
// An MPI-3 shared-memory window: one segment per rank of a node communicator, every segment
// mapped into every rank's address space (MPI_Win_allocate_shared, MPI_Win_shared_query). The
// host twin of exchanging CUDA IPC handles. Segments are allocated apart (alloc_shared_noncontig),
// so each lies in its owner's NUMA node and starts page-aligned.
//
// The window is held in a passive-target epoch for its whole life (MPI_Win_lock_all with
// MPI_MODE_NOCHECK), so ranks may load and store into any segment at any time; ordering between
// ranks is the users' business (C++ acquire/release atomics in collectives/cpu/shm_all_reduce.hpp).
// Construction and destruction are collective over the communicator.
#if AICBENCH_WITH_MPI
#include <mpi.h>

#include <cstddef>
#include <vector>

namespace aicbench::coll {

class SharedWindow {
 public:
  SharedWindow(MPI_Comm node_comm, size_t bytes_per_rank);
  ~SharedWindow();
  SharedWindow(const SharedWindow&) = delete;
  SharedWindow& operator=(const SharedWindow&) = delete;

  // Every rank's segment, as mapped in this process, by rank in the communicator.
  const std::vector<std::byte*>& segments() const { return segments_; }

 private:
  MPI_Win win_ = MPI_WIN_NULL;
  std::vector<std::byte*> segments_;
};

}  // namespace aicbench::coll
#endif
