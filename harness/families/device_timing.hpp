#pragma once
// What the families that time themselves (BenchmarkCase::times_itself) share: a guard for the
// current GPU, CUDA-event timing of work queued on streams of one or more GPUs behind a blocking
// kernel, and where a GPU and the host thread sit (PCI bus id, NUMA nodes).
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <cuda_runtime.h>
#include <nlohmann/json.hpp>

namespace aicbench {

// Makes `device` current for its lifetime and restores the one before.
class DeviceGuard {
 public:
  explicit DeviceGuard(int device);
  ~DeviceGuard();
  DeviceGuard(const DeviceGuard&) = delete;
  DeviceGuard& operator=(const DeviceGuard&) = delete;

 private:
  int previous_ = 0;
  bool changed_ = false;
};

int current_device();

// Times work queued on one or more streams (of one GPU or several) as the harness times one
// stream (harness/samplers.cpp): a blocking kernel holds the first stream while the work is
// queued, so that no host launch latency is timed; the other streams wait for the start event
// on the first and the first waits for theirs at the end, so the time runs from the moment all
// may start to the moment the last is done, measured by CUDA events on the first stream's GPU.
class StreamTimer {
 public:
  struct Stream {
    int device;
    cudaStream_t stream;
  };
  explicit StreamTimer(std::vector<Stream> streams);
  ~StreamTimer();
  StreamTimer(const StreamTimer&) = delete;
  StreamTimer& operator=(const StreamTimer&) = delete;

  // Seconds from start to end of what `queue` puts on the streams (it must queue asynchronous
  // work only: a call that waits for the device would wait for the blocking kernel).
  template <typename Queue>
  double time(Queue&& queue) {
    begin();
    queue();
    return end();
  }
  // Samples whose blocking kernel gave up before the host released it (host launch latency may
  // be in their time).
  int blocker_timeouts() const { return blocker_timeouts_; }

 private:
  void begin();
  double end();
  std::vector<Stream> streams_;
  cudaEvent_t start_ = nullptr, stop_ = nullptr;
  std::vector<cudaEvent_t> done_;  // one per stream after the first, on its GPU
  int* flags_host_ = nullptr;      // [0] release, [1] timed out: host-mapped, every GPU sees it
  int* flags_device_ = nullptr;
  int blocker_timeouts_ = 0;
};

// The PCI bus id of a GPU as CUDA gives it ("0000:3B:00.0").
std::string pci_bus_id(int device);

// Where the host thread and a GPU sit: {"gpu_node": <the GPU's NUMA node from sysfs, or null
// where the machine does not say>, "host_node": <the NUMA node of the CPU this thread runs on>,
// "host_cpu": <that CPU>}. A host link measured from a thread on another node than its GPU's
// crosses the link between the sockets.
nlohmann::json numa_placement(int device);

}  // namespace aicbench
