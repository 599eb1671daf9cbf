#include "collectives/cuda/multicast_workspace.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstring>
#include <string>
#include <thread>

#include <cuda.h>
#include <cudaTypedefs.h>
#include <cuda_runtime.h>

#include "collectives/cuda/agreement.hpp"
#include "collectives/cuda/multimem_allreduce.hpp"
#include "collectives/mpi_job.hpp"
#include "harness/cuda_check.hpp"

namespace aicbench::collectives {

namespace {

// ---- the driver API, through the runtime's entry points ----------------------------------------------

struct Driver {
  PFN_cuGetErrorString_v6000 get_error_string = nullptr;
  PFN_cuDeviceGet_v2000 device_get = nullptr;
  PFN_cuDeviceGetAttribute_v2000 device_get_attribute = nullptr;
  PFN_cuMulticastCreate_v12010 multicast_create = nullptr;
  PFN_cuMulticastGetGranularity_v12010 multicast_get_granularity = nullptr;
  PFN_cuMulticastAddDevice_v12010 multicast_add_device = nullptr;
  PFN_cuMulticastBindMem_v12010 multicast_bind_mem = nullptr;
  PFN_cuMulticastUnbind_v12010 multicast_unbind = nullptr;
  PFN_cuMemCreate_v10020 mem_create = nullptr;
  PFN_cuMemRelease_v10020 mem_release = nullptr;
  PFN_cuMemGetAllocationGranularity_v10020 mem_get_allocation_granularity = nullptr;
  PFN_cuMemAddressReserve_v10020 mem_address_reserve = nullptr;
  PFN_cuMemAddressFree_v10020 mem_address_free = nullptr;
  PFN_cuMemMap_v10020 mem_map = nullptr;
  PFN_cuMemUnmap_v10020 mem_unmap = nullptr;
  PFN_cuMemSetAccess_v10020 mem_set_access = nullptr;
  PFN_cuMemExportToShareableHandle_v10020 mem_export = nullptr;
  PFN_cuMemImportFromShareableHandle_v10020 mem_import = nullptr;
  std::string missing;  // the first entry point the driver did not give, if any
};

template <typename F>
void entry_point(Driver& d, const char* symbol, F& fn) {
  void* p = nullptr;
  cudaDriverEntryPointQueryResult status{};
  // 12010: the multicast API's first version; older functions resolve to their newest ABI at or below it.
  if (cudaGetDriverEntryPointByVersion(symbol, &p, 12010, cudaEnableDefault, &status) != cudaSuccess ||
      status != cudaDriverEntryPointSuccess || !p) {
    (void)cudaGetLastError();
    if (d.missing.empty()) d.missing = symbol;
    return;
  }
  fn = reinterpret_cast<F>(p);
}

const Driver& driver() {
  static const Driver d = [] {
    Driver d;
    entry_point(d, "cuGetErrorString", d.get_error_string);
    entry_point(d, "cuDeviceGet", d.device_get);
    entry_point(d, "cuDeviceGetAttribute", d.device_get_attribute);
    entry_point(d, "cuMulticastCreate", d.multicast_create);
    entry_point(d, "cuMulticastGetGranularity", d.multicast_get_granularity);
    entry_point(d, "cuMulticastAddDevice", d.multicast_add_device);
    entry_point(d, "cuMulticastBindMem", d.multicast_bind_mem);
    entry_point(d, "cuMulticastUnbind", d.multicast_unbind);
    entry_point(d, "cuMemCreate", d.mem_create);
    entry_point(d, "cuMemRelease", d.mem_release);
    entry_point(d, "cuMemGetAllocationGranularity", d.mem_get_allocation_granularity);
    entry_point(d, "cuMemAddressReserve", d.mem_address_reserve);
    entry_point(d, "cuMemAddressFree", d.mem_address_free);
    entry_point(d, "cuMemMap", d.mem_map);
    entry_point(d, "cuMemUnmap", d.mem_unmap);
    entry_point(d, "cuMemSetAccess", d.mem_set_access);
    entry_point(d, "cuMemExportToShareableHandle", d.mem_export);
    entry_point(d, "cuMemImportFromShareableHandle", d.mem_import);
    return d;
  }();
  return d;
}

void check_cu(CUresult result, const char* call, const char* file, int line) {
  if (result == CUDA_SUCCESS) return;
  const char* text = nullptr;
  if (driver().get_error_string) driver().get_error_string(result, &text);
  throw_cuda_error("CUDA driver", text ? text : ("error " + std::to_string(result)), call, file, line);
}

}  // namespace
}  // namespace aicbench::collectives

// One error-check macro for the driver API, as CUDA_CHECK for the runtime (harness/cuda_check.hpp).
#define CU_CHECK(call) ::aicbench::collectives::check_cu((call), #call, __FILE__, __LINE__)

namespace aicbench::collectives {

namespace {

// ---- passing a file descriptor to the node's other ranks ---------------------------------------------

constexpr auto kSocketTimeout = std::chrono::seconds(30);

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

[[noreturn]] void throw_errno(const std::string& what) {
  throw std::runtime_error(what + ": " + std::strerror(errno));
}

// An abstract-namespace Unix socket address (no file in the file system; gone with its socket).
socklen_t socket_address(const std::string& name, sockaddr_un* addr) {
  std::memset(addr, 0, sizeof *addr);
  addr->sun_family = AF_UNIX;
  const size_t n = std::min(name.size(), sizeof addr->sun_path - 2);
  std::memcpy(addr->sun_path + 1, name.data(), n);  // sun_path[0] == '\0': abstract
  return static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + n);
}

void send_fd(int socket, int fd) {
  char byte = 0;
  iovec iov{&byte, 1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(c), &fd, sizeof(int));
  if (::sendmsg(socket, &msg, 0) != 1) throw_errno("sending the multicast handle to a peer");
}

int receive_fd(int socket) {
  char byte = 0;
  iovec iov{&byte, 1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  if (::recvmsg(socket, &msg, 0) != 1) throw_errno("receiving the multicast handle from rank 0");
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  if (!c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
    throw std::runtime_error("rank 0 sent no file descriptor for the multicast handle");
  }
  int fd = -1;
  std::memcpy(&fd, CMSG_DATA(c), sizeof(int));
  return fd;
}

// Rank 0 gives `fd` to every other rank of the node; they return their copy of it (rank 0: -1).
int share_fd_from_rank0(int fd) {
#if AICBENCH_WITH_MPI
  const Job& job = Job::current();
  const int rank = job.layout().world_rank, ranks = job.layout().world_size;
  static std::atomic<int> serial{0};
  std::string name;
  Fd listener(rank == 0 ? ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0) : -1);
  on_every_rank([&] {
    if (rank != 0) return;
    if (listener.get() < 0) throw_errno("making a Unix socket for the multicast handle");
    name = "aicbench-multicast-" + std::to_string(::getpid()) + "-" + std::to_string(serial++);
    sockaddr_un addr;
    const socklen_t len = socket_address(name, &addr);
    if (::bind(listener.get(), reinterpret_cast<sockaddr*>(&addr), len) != 0) throw_errno("binding " + name);
    if (::listen(listener.get(), ranks) != 0) throw_errno("listening on " + name);
  });
  int length = static_cast<int>(name.size());
  MPI_Bcast(&length, 1, MPI_INT, 0, job.world());
  name.resize(static_cast<size_t>(length));
  MPI_Bcast(name.data(), length, MPI_CHAR, 0, job.world());

  int received = -1;
  on_every_rank([&] {
    const auto deadline = std::chrono::steady_clock::now() + kSocketTimeout;
    if (rank == 0) {
      for (int peer = 1; peer < ranks; ++peer) {
        pollfd p{listener.get(), POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(kSocketTimeout.count() * 1000)) != 1) {
          throw std::runtime_error("waited " + std::to_string(kSocketTimeout.count()) +
                                   " s for the other ranks to fetch the multicast handle");
        }
        Fd connection(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
        if (connection.get() < 0) throw_errno("accepting a peer on " + name);
        send_fd(connection.get(), fd);
      }
      return;
    }
    Fd connection(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (connection.get() < 0) throw_errno("making a Unix socket for the multicast handle");
    sockaddr_un addr;
    const socklen_t len = socket_address(name, &addr);
    while (::connect(connection.get(), reinterpret_cast<sockaddr*>(&addr), len) != 0) {
      if (std::chrono::steady_clock::now() > deadline) throw_errno("connecting to rank 0 on " + name);
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    received = receive_fd(connection.get());
  });
  return received;
#else
  (void)fd;
  return -1;
#endif
}

}  // namespace

// ---- the workspace ---------------------------------------------------------------------------------------

MulticastWorkspace::MulticastWorkspace(int64_t bytes) {
  const Job& job = Job::current();
  const JobLayout& layout = job.layout();
  rank_ = layout.world_rank;
  ranks_ = layout.world_size;
  if (!AICBENCH_WITH_MPI) throw Unsupported("needs MPI to share the multicast object; this build has none");
  if (ranks_ < 2 || !job.uses_mpi()) {
    throw Unsupported("needs at least 2 ranks (one process per GPU under mpirun or srun); this job has " +
                      std::to_string(ranks_));
  }
  if (layout.nodes > 1 || layout.local_size != ranks_) {
    throw Unsupported("multicast objects span the GPUs of one NVLink domain; this job spans " +
                      std::to_string(layout.nodes) + " nodes");
  }
  if (auto shared = ranks_sharing_a_gpu()) throw Unsupported("multicast needs one GPU per rank: " + *shared);

#if AICBENCH_WITH_MPI
  const Driver& d = driver();
  CUmulticastObjectProp mc_prop{};
  mc_prop.numDevices = static_cast<unsigned>(ranks_);
  mc_prop.handleTypes = CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR;
  CUmemAllocationProp mem_prop{};
  mem_prop.type = CU_MEM_ALLOCATION_TYPE_PINNED;
  mem_prop.location.type = CU_MEM_LOCATION_TYPE_DEVICE;
  mem_prop.requestedHandleTypes = CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR;
  size_t granularity = 0;  // of the multicast object and of this GPU's allocations, the larger
  try {
    on_every_rank([&] {
      if (!d.missing.empty()) {
        throw Unsupported("the CUDA driver offers no " + d.missing + " (multicast objects need driver 535 or newer)");
      }
      int ordinal = 0;
      CUDA_CHECK(cudaGetDevice(&ordinal));
      CUdevice dev = 0;
      CU_CHECK(d.device_get(&dev, ordinal));
      device_ = dev;
      int supported = 0;
      CU_CHECK(d.device_get_attribute(&supported, CU_DEVICE_ATTRIBUTE_MULTICAST_SUPPORTED, dev));
      if (!supported) {
        throw Unsupported(
            "this GPU and driver offer no multicast objects (CU_DEVICE_ATTRIBUTE_MULTICAST_SUPPORTED is 0; NVLink "
            "SHARP needs NVSwitch-connected GPUs with the fabric manager running)");
      }
      if (!multimem_kernel_built_for_device()) {
        throw Unsupported("the multimem kernel needs sm_90 or newer, and this build has none for this GPU");
      }
      mem_prop.location.id = dev;
      size_t mc_granularity = 0, uc_granularity = 0;
      mc_prop.size = static_cast<size_t>(bytes);
      CU_CHECK(d.multicast_get_granularity(&mc_granularity, &mc_prop, CU_MULTICAST_GRANULARITY_MINIMUM));
      CU_CHECK(d.mem_get_allocation_granularity(&uc_granularity, &mem_prop, CU_MEM_ALLOC_GRANULARITY_MINIMUM));
      granularity = std::max(mc_granularity, uc_granularity);  // powers of two
      size_ = (static_cast<size_t>(bytes) + granularity - 1) / granularity * granularity;
    });
    unsigned long long size = size_, largest = 0;
    MPI_Allreduce(&size, &largest, 1, MPI_UNSIGNED_LONG_LONG, MPI_MAX, job.world());
    size_ = largest;
    mc_prop.size = size_;

    // Rank 0 makes the object and hands it to the others as a file descriptor.
    int exported = -1;
    on_every_rank([&] {
      if (rank_ != 0) return;
      CUmemGenericAllocationHandle mc = 0;
      const CUresult made = d.multicast_create(&mc, &mc_prop);
      if (made == CUDA_ERROR_NOT_SUPPORTED || made == CUDA_ERROR_NOT_PERMITTED) {
        // The attribute said yes, the driver says no: the fabric (NVSwitch, fabric manager) is not
        // ready for a team of this size. Nothing to measure here, not a defect of ours.
        const char* text = nullptr;
        if (d.get_error_string) d.get_error_string(made, &text);
        throw Unsupported(std::string("the driver made no multicast object for ") + std::to_string(ranks_) +
                          " GPUs (" + (text ? text : "error " + std::to_string(made)) + ")");
      }
      CU_CHECK(made);
      mc_handle_ = mc;
      CU_CHECK(d.mem_export(&exported, mc, CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR, 0));
    });
    const Fd own_export(exported);
    const Fd imported(share_fd_from_rank0(exported));
    on_every_rank([&] {
      if (rank_ != 0) {
        CUmemGenericAllocationHandle mc = 0;
        CU_CHECK(d.mem_import(&mc, reinterpret_cast<void*>(static_cast<uintptr_t>(imported.get())),
                              CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR));
        mc_handle_ = mc;
      }
      CU_CHECK(d.multicast_add_device(mc_handle_, device_));
    });
    // Every device is in the team (the agreement above is a barrier): memory may be bound now.
    on_every_rank([&] {
      CUmemGenericAllocationHandle mem = 0;
      CU_CHECK(d.mem_create(&mem, size_, &mem_prop, 0));
      mem_handle_ = mem;
      CU_CHECK(d.multicast_bind_mem(mc_handle_, 0, mem_handle_, 0, size_, 0));
      bound_ = true;
      CUmemAccessDesc access{};
      access.location.type = CU_MEM_LOCATION_TYPE_DEVICE;
      access.location.id = device_;
      access.flags = CU_MEM_ACCESS_FLAGS_PROT_READWRITE;
      CUdeviceptr uc = 0, mc = 0;
      CU_CHECK(d.mem_address_reserve(&uc, size_, granularity, 0, 0));
      uc_ptr_ = uc;
      CU_CHECK(d.mem_map(uc, size_, 0, mem_handle_, 0));
      CU_CHECK(d.mem_set_access(uc, size_, &access, 1));
      CU_CHECK(d.mem_address_reserve(&mc, size_, granularity, 0, 0));
      mc_ptr_ = mc;
      CU_CHECK(d.mem_map(mc, size_, 0, mc_handle_, 0));
      CU_CHECK(d.mem_set_access(mc, size_, &access, 1));
      CUDA_CHECK(cudaMemset(reinterpret_cast<void*>(uc), 0, size_));  // the barrier counters start at 0
      CUDA_CHECK(cudaDeviceSynchronize());
    });
  } catch (...) {
    release();
    throw;
  }
  max_blocks_ = std::clamp(smallest_sm_count(), 1, kMultimemMaxBlocks);
#else
  (void)bytes;
#endif
}

MulticastWorkspace::~MulticastWorkspace() {
#if AICBENCH_WITH_MPI
  int finalized = 1;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Barrier(Job::current().world());  // no GPU still reads or writes through it
#endif
  release();
}

// What was made, undone in reverse; the mapping of an address before its reservation is freed.
void MulticastWorkspace::release() noexcept {
  const Driver& d = driver();
  auto unmap = [&](unsigned long long& ptr) {
    if (!ptr) return;
    if (d.mem_unmap) d.mem_unmap(ptr, size_);
    if (d.mem_address_free) d.mem_address_free(ptr, size_);
    ptr = 0;
  };
  unmap(mc_ptr_);
  unmap(uc_ptr_);
  if (bound_ && d.multicast_unbind) d.multicast_unbind(mc_handle_, device_, 0, size_);
  bound_ = false;
  if (mem_handle_ && d.mem_release) d.mem_release(mem_handle_);
  if (mc_handle_ && d.mem_release) d.mem_release(mc_handle_);
  mem_handle_ = mc_handle_ = 0;
}

}  // namespace aicbench::collectives
