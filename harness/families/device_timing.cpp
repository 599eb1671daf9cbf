#include "harness/families/device_timing.hpp"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <fstream>

#include <sys/syscall.h>
#include <unistd.h>

#include "harness/cuda_check.hpp"
#include "harness/stream_blocker.hpp"

namespace aicbench {

namespace {
// As the harness's own sampler: long enough for any batch, short enough that a stuck release is
// noticed.
constexpr unsigned long long kBlockerTimeoutNs = 2'000'000'000ULL;
}  // namespace

int current_device() {
  int device = 0;
  CUDA_CHECK(cudaGetDevice(&device));
  return device;
}

DeviceGuard::DeviceGuard(int device) {
  CUDA_CHECK(cudaGetDevice(&previous_));
  if (device != previous_) {
    CUDA_CHECK(cudaSetDevice(device));
    changed_ = true;
  }
}

DeviceGuard::~DeviceGuard() {
  if (changed_) cudaSetDevice(previous_);
}

StreamTimer::StreamTimer(std::vector<Stream> streams) : streams_(std::move(streams)) {
  if (streams_.empty()) throw std::logic_error("StreamTimer needs at least one stream");
  {
    DeviceGuard guard(streams_[0].device);
    CUDA_CHECK(cudaEventCreate(&start_));
    CUDA_CHECK(cudaEventCreate(&stop_));
    // Portable and mapped: every GPU of the process reads the same flags (one address under UVA).
    CUDA_CHECK(cudaHostAlloc(reinterpret_cast<void**>(&flags_host_), 2 * sizeof(int),
                             cudaHostAllocMapped | cudaHostAllocPortable));
    CUDA_CHECK(cudaHostGetDevicePointer(reinterpret_cast<void**>(&flags_device_), flags_host_, 0));
    // Load the blocker now: with lazy module loading a kernel's first launch may wait for the
    // device to go idle, which it never does behind a spinning blocker.
    flags_host_[0] = 1;
    flags_host_[1] = 0;
    CUDA_CHECK(launch_stream_blocker(flags_device_, flags_device_ + 1, kBlockerTimeoutNs, streams_[0].stream));
    CUDA_CHECK(cudaStreamSynchronize(streams_[0].stream));
  }
  for (size_t i = 1; i < streams_.size(); ++i) {
    DeviceGuard guard(streams_[i].device);
    cudaEvent_t done = nullptr;
    CUDA_CHECK(cudaEventCreate(&done));
    done_.push_back(done);
  }
}

StreamTimer::~StreamTimer() {
  cudaEventDestroy(start_);
  cudaEventDestroy(stop_);
  for (cudaEvent_t e : done_) cudaEventDestroy(e);
  cudaFreeHost(flags_host_);
}

void StreamTimer::begin() {
  {
    DeviceGuard guard(streams_[0].device);
    flags_host_[0] = 0;
    flags_host_[1] = 0;
    CUDA_CHECK(launch_stream_blocker(flags_device_, flags_device_ + 1, kBlockerTimeoutNs, streams_[0].stream));
    CUDA_CHECK(cudaEventRecord(start_, streams_[0].stream));
  }
  for (size_t i = 1; i < streams_.size(); ++i) {
    DeviceGuard guard(streams_[i].device);
    CUDA_CHECK(cudaStreamWaitEvent(streams_[i].stream, start_, 0));  // an event of another GPU is fine
  }
}

double StreamTimer::end() {
  for (size_t i = 1; i < streams_.size(); ++i) {
    DeviceGuard guard(streams_[i].device);
    CUDA_CHECK(cudaEventRecord(done_[i - 1], streams_[i].stream));
  }
  DeviceGuard guard(streams_[0].device);
  for (cudaEvent_t done : done_) CUDA_CHECK(cudaStreamWaitEvent(streams_[0].stream, done, 0));
  CUDA_CHECK(cudaEventRecord(stop_, streams_[0].stream));
  std::atomic_thread_fence(std::memory_order_seq_cst);
  reinterpret_cast<volatile int*>(flags_host_)[0] = 1;  // the blocker sees it and exits
  CUDA_CHECK(cudaEventSynchronize(stop_));
  if (reinterpret_cast<volatile int*>(flags_host_)[1]) ++blocker_timeouts_;
  float ms = 0;
  CUDA_CHECK(cudaEventElapsedTime(&ms, start_, stop_));
  return ms * 1e-3;
}

std::string pci_bus_id(int device) {
  char bus[32] = {};
  CUDA_CHECK(cudaDeviceGetPCIBusId(bus, sizeof bus, device));
  return bus;
}

nlohmann::json numa_placement(int device) {
  nlohmann::json out = {{"gpu_node", nullptr}, {"host_node", nullptr}, {"host_cpu", nullptr}};
  // sysfs names PCI devices in lower case with a 4-digit domain: 0000:3b:00.0.
  std::string bus = pci_bus_id(device);
  std::transform(bus.begin(), bus.end(), bus.begin(), [](unsigned char c) { return std::tolower(c); });
  std::ifstream numa("/sys/bus/pci/devices/" + bus + "/numa_node");
  int node = -1;
  if (numa >> node && node >= 0) out["gpu_node"] = node;  // -1: the machine has one node, or does not say
  unsigned cpu = 0, host_node = 0;
  if (::syscall(SYS_getcpu, &cpu, &host_node, nullptr) == 0) {
    out["host_cpu"] = cpu;
    out["host_node"] = host_node;
  }
  return out;
}

}  // namespace aicbench
