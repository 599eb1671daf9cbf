#include "collectives/cuda/nccl_comm.hpp"

#include <cstdlib>
#include <memory>
#include <optional>
#include <string>

#include "collectives/cuda/agreement.hpp"
#include "collectives/mpi_job.hpp"
#include "harness/cuda_check.hpp"

#if AICBENCH_WITH_NCCL
#include <nccl.h>
#endif

namespace aicbench::collectives {

#if AICBENCH_WITH_NCCL

namespace {

[[noreturn]] void throw_nccl_error(ncclResult_t result, const char* call, const char* file, int line) {
  std::string detail = ncclGetErrorString(result);
  if (const char* last = ncclGetLastError(nullptr); last && *last) detail += std::string(" (") + last + ")";
  throw_cuda_error("NCCL", detail, call, file, line);
}

}  // namespace
}  // namespace aicbench::collectives

// One error-check macro for NCCL (harness/cuda_check.hpp has CUDA's and cuBLAS's).
#define NCCL_CHECK(call)                                                                            \
  do {                                                                                              \
    const ncclResult_t aicbench_nccl_result_ = (call);                                              \
    if (aicbench_nccl_result_ != ncclSuccess) {                                                     \
      ::aicbench::collectives::throw_nccl_error(aicbench_nccl_result_, #call, __FILE__, __LINE__); \
    }                                                                                               \
  } while (0)

namespace aicbench::collectives {

namespace {

ncclDataType_t nccl_type(ElemType type) { return type == ElemType::fp32 ? ncclFloat32 : ncclBfloat16; }

std::unique_ptr<NcclComm>& the_world() {
  static std::unique_ptr<NcclComm> world;
  return world;
}

}  // namespace

NcclComm::NcclComm() {
  const Job& job = Job::current();
  rank_ = job.layout().world_rank;
  ranks_ = job.layout().world_size;
  // NCCL refuses a communicator with two ranks on one GPU (ncclInvalidUsage, "Duplicate GPU
  // detected"); say so before it does, on every rank.
  if (auto shared = ranks_sharing_a_gpu()) {
    throw Unsupported("NCCL needs one GPU per rank, and " + *shared);
  }
  ncclUniqueId id{};
  on_every_rank([&] {
    if (rank_ == 0) NCCL_CHECK(ncclGetUniqueId(&id));
  });
#if AICBENCH_WITH_MPI
  if (ranks_ > 1) MPI_Bcast(&id, sizeof id, MPI_BYTE, 0, job.world());
#endif
  ncclComm_t comm = nullptr;
  on_every_rank([&] { NCCL_CHECK(ncclCommInitRank(&comm, ranks_, id, rank_)); });
  comm_ = comm;
}

NcclComm& NcclComm::world() {
  // The first answer, kept: every rank got the same one, so later calls need no collective.
  static std::optional<std::string> unsupported, failed;
  auto& world = the_world();
  if (world) return *world;
  if (unsupported) throw Unsupported(*unsupported);
  if (failed) throw std::runtime_error(*failed);
  try {
    world.reset(new NcclComm());
  } catch (const Unsupported& e) {
    unsupported = e.what();
    throw;
  } catch (const std::exception& e) {
    failed = e.what();
    throw;
  }
  // Registered after CUDA started, so it runs before the CUDA runtime's own teardown.
  std::atexit(destroy_at_exit);
  return *world;
}

void NcclComm::destroy_at_exit() {
  auto& world = the_world();
  if (world && world->comm_) ncclCommDestroy(static_cast<ncclComm_t>(world->comm_));
  if (world) world->comm_ = nullptr;
}

void NcclComm::run(CollectiveOp op, const void* send, void* recv, int64_t count, ElemType type,
                   cudaStream_t stream) const {
  const auto comm = static_cast<ncclComm_t>(comm_);
  const auto n = static_cast<size_t>(count);
  const ncclDataType_t t = nccl_type(type);
  switch (op) {
    case CollectiveOp::all_reduce: NCCL_CHECK(ncclAllReduce(send, recv, n, t, ncclSum, comm, stream)); return;
    case CollectiveOp::all_gather: NCCL_CHECK(ncclAllGather(send, recv, n, t, comm, stream)); return;
    case CollectiveOp::reduce_scatter: NCCL_CHECK(ncclReduceScatter(send, recv, n, t, ncclSum, comm, stream)); return;
    case CollectiveOp::all_to_all:
#if NCCL_VERSION_CODE >= NCCL_VERSION(2, 28, 0)
      NCCL_CHECK(ncclAlltoAll(send, recv, n, t, comm, stream));
#else
      {  // before 2.28: what nccl-tests does, a send and a receive per peer in one group
        const size_t block = n * static_cast<size_t>(elem_bytes(type));
        NCCL_CHECK(ncclGroupStart());
        for (int peer = 0; peer < ranks_; ++peer) {
          NCCL_CHECK(ncclSend(static_cast<const char*>(send) + peer * block, n, t, peer, comm, stream));
          NCCL_CHECK(ncclRecv(static_cast<char*>(recv) + peer * block, n, t, peer, comm, stream));
        }
        NCCL_CHECK(ncclGroupEnd());
      }
#endif
      return;
    case CollectiveOp::broadcast: NCCL_CHECK(ncclBroadcast(send, recv, n, t, 0, comm, stream)); return;
  }
}

int NcclComm::version() {
  int v = 0;
  if (ncclGetVersion(&v) != ncclSuccess) return 0;
  return v;
}

bool NcclComm::has_symmetric_windows() { return NCCL_VERSION_CODE >= NCCL_VERSION(2, 27, 0) && version() >= 22700; }

#if NCCL_VERSION_CODE >= NCCL_VERSION(2, 27, 0)

NcclWindowBuffer::NcclWindowBuffer(const NcclComm& comm, size_t bytes) : comm_(&comm) {
  if (!NcclComm::has_symmetric_windows()) {
    throw Unsupported("NCCL " + std::to_string(NcclComm::version()) +
                      " has no symmetric-memory windows (2.27 and newer)");
  }
  // NCCL rounds an allocation up to its granularity; windows must be 4096-byte aligned, which
  // ncclMemAlloc's allocations are.
  ncclWindow_t window = nullptr;
  try {
    on_every_rank([&] { NCCL_CHECK(ncclMemAlloc(&data_, bytes)); });
    on_every_rank([&] {
      // Whether NCCL can make symmetric windows here is only known by trying (it needs CUDA's
      // virtual memory management and peer access between the GPUs): a refusal is a skip.
      const ncclResult_t result = ncclCommWindowRegister(static_cast<ncclComm_t>(comm.comm_), data_, bytes, &window,
                                                         NCCL_WIN_COLL_SYMMETRIC);
      if (result != ncclSuccess || !window) {
        const char* last = ncclGetLastError(nullptr);
        throw Unsupported(std::string("NCCL registered no symmetric window here (") +
                          (result != ncclSuccess ? ncclGetErrorString(result) : "no window returned") +
                          (last && *last ? std::string(": ") + last : std::string()) + ")");
      }
    });
  } catch (...) {
    if (window) ncclCommWindowDeregister(static_cast<ncclComm_t>(comm.comm_), window);
    if (data_) ncclMemFree(data_);
    data_ = nullptr;
    throw;
  }
  window_ = window;
}

NcclWindowBuffer::~NcclWindowBuffer() {
  if (window_) ncclCommWindowDeregister(static_cast<ncclComm_t>(comm_->comm_), static_cast<ncclWindow_t>(window_));
  if (data_) ncclMemFree(data_);
}

#else  // NCCL before 2.27: no windows

NcclWindowBuffer::NcclWindowBuffer(const NcclComm& comm, size_t) : comm_(&comm) {
  throw Unsupported("NCCL " + std::to_string(NcclComm::version()) +
                    " has no symmetric-memory windows (2.27 and newer)");
}
NcclWindowBuffer::~NcclWindowBuffer() = default;

#endif

#else  // a build without NCCL

namespace {
[[noreturn]] void no_nccl() {
  throw Unsupported("this build has no NCCL (configured with -DAICBENCH_WITH_NCCL=OFF)");
}
}  // namespace

NcclComm::NcclComm() { no_nccl(); }
NcclComm& NcclComm::world() { no_nccl(); }
void NcclComm::destroy_at_exit() {}
void NcclComm::run(CollectiveOp, const void*, void*, int64_t, ElemType, cudaStream_t) const { no_nccl(); }
int NcclComm::version() { return 0; }
bool NcclComm::has_symmetric_windows() { return false; }
NcclWindowBuffer::NcclWindowBuffer(const NcclComm& comm, size_t) : comm_(&comm) { no_nccl(); }
NcclWindowBuffer::~NcclWindowBuffer() = default;

#endif

}  // namespace aicbench::collectives
