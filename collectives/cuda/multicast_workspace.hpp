#pragma once
// A multicast object over every rank's GPU (NVLink SHARP), with this rank's memory bound to it and
// mapped twice: the unicast mapping (this GPU's copy) and the multicast mapping (multimem
// instructions on it reach every GPU's copy). What multimem_allreduce.hpp's kernel runs on.
//
// Made with the CUDA driver's multicast API (cuMulticastCreate on rank 0, exported as a POSIX file
// descriptor and passed to the node's other ranks over a Unix socket, cuMulticastAddDevice on every
// rank, then cuMemCreate + cuMulticastBindMem). The driver API is reached through the runtime's
// entry points (cudaGetDriverEntryPointByVersion), so the binary does not link libcuda.
#include <cstddef>
#include <cstdint>

namespace aicbench::collectives {

class MulticastWorkspace {
 public:
  // `bytes` of multicast memory, zeroed. A collective call: every rank of the job, same bytes.
  // Throws Unsupported, on every rank alike, where the job is not 2+ ranks on one node with one GPU
  // each, the driver or GPU offers no multicast objects (CU_DEVICE_ATTRIBUTE_MULTICAST_SUPPORTED),
  // or the multimem kernel was not built for this GPU (sm_90 and newer).
  explicit MulticastWorkspace(int64_t bytes);
  // Waits for every rank (MPI barrier), then unmaps, unbinds and releases.
  ~MulticastWorkspace();
  MulticastWorkspace(const MulticastWorkspace&) = delete;
  MulticastWorkspace& operator=(const MulticastWorkspace&) = delete;

  char* unicast() const { return reinterpret_cast<char*>(uc_ptr_); }
  char* multicast() const { return reinterpret_cast<char*>(mc_ptr_); }
  int rank() const { return rank_; }
  int ranks() const { return ranks_; }
  int max_blocks() const { return max_blocks_; }

 private:
  void release() noexcept;
  int rank_ = 0, ranks_ = 0, max_blocks_ = 1;
  int device_ = 0;                 // CUdevice
  unsigned long long mc_handle_ = 0, mem_handle_ = 0;  // CUmemGenericAllocationHandle
  unsigned long long uc_ptr_ = 0, mc_ptr_ = 0;         // CUdeviceptr
  size_t size_ = 0;
  bool bound_ = false;
};

}  // namespace aicbench::collectives
