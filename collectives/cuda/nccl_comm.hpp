#pragma once
// NCCL over the job's ranks: one communicator per process, made from MPI (ncclGetUniqueId on world
// rank 0, MPI_Bcast over the job's world communicator, ncclCommInitRank on every rank), reused by
// every NCCL benchmark and destroyed at exit. The NCCL baselines call it the way nccl-tests does.
//
// nccl.h stays inside nccl_comm.cpp: a build without NCCL (-DAICBENCH_WITH_NCCL=OFF) has the same
// interface, and every call throws Unsupported saying so.
#include <cstddef>
#include <cstdint>

#include <cuda_runtime.h>

#include "collectives/collective_ops.hpp"
#include "collectives/cuda/collective_data.hpp"

namespace aicbench::collectives {

class NcclComm {
 public:
  // The communicator over every rank of Job::current(), made on first use: a collective call the
  // first time (every rank must ask for it at the same point), then the same object. Throws
  // Unsupported, on every rank alike, where NCCL cannot span these ranks (two ranks share a GPU,
  // which NCCL refuses) or this build has no NCCL; the first answer is kept for later calls.
  static NcclComm& world();
  NcclComm(const NcclComm&) = delete;
  NcclComm& operator=(const NcclComm&) = delete;

  int rank() const { return rank_; }
  int ranks() const { return ranks_; }

  // Queues one `op` (sum; broadcast from rank 0) on `stream`, as nccl-tests calls it: `count` is
  // the per-rank count (collective_data.hpp: send_elements / recv_elements). In place when `send`
  // is where NCCL expects it inside `recv` (or the reverse), e.g. send == recv for all_reduce.
  // all_to_all goes through ncclAlltoAll (NCCL 2.28). Throws on an NCCL error.
  void run(CollectiveOp op, const void* send, void* recv, int64_t count, ElemType type, cudaStream_t stream) const;

  // NCCL's version (e.g. 22809) and whether it has symmetric-memory windows (2.27 and newer).
  static int version();
  static bool has_symmetric_windows();

 private:
  friend class NcclWindowBuffer;
  NcclComm();
  static void destroy_at_exit();
  void* comm_ = nullptr;  // ncclComm_t
  int rank_ = 0, ranks_ = 1;
};

// Device memory from ncclMemAlloc registered with the communicator as a symmetric window
// (ncclCommWindowRegister with NCCL_WIN_COLL_SYMMETRIC): what NCCL's symmetric-memory kernels (2.27
// and newer) need to run instead of the classic ones. Registration and deregistration are
// collective: every rank makes and destroys its buffers in the same order with the same size.
// Throws Unsupported where NCCL registers no window here.
class NcclWindowBuffer {
 public:
  NcclWindowBuffer(const NcclComm& comm, size_t bytes);
  ~NcclWindowBuffer();
  NcclWindowBuffer(const NcclWindowBuffer&) = delete;
  NcclWindowBuffer& operator=(const NcclWindowBuffer&) = delete;
  void* get() const { return data_; }

 private:
  const NcclComm* comm_;
  void* data_ = nullptr;
  void* window_ = nullptr;  // ncclWindow_t
};

}  // namespace aicbench::collectives
