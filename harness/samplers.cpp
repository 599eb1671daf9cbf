#include "harness/samplers.hpp"

#include <atomic>
#include <cstring>

#include <unistd.h>

#include "harness/clock.hpp"
#include "harness/cuda_check.hpp"
#include "harness/stream_blocker.hpp"

namespace aicbench {

namespace {
// Long enough for any batch aicbench queues; short enough that a stuck release is noticed.
constexpr unsigned long long kBlockerTimeoutNs = 2'000'000'000ULL;
}  // namespace

CudaMeasureResources::CudaMeasureResources(size_t l2_bytes, bool blocking_kernel)
    : blocking_kernel_(blocking_kernel) {
  flush_bytes_ = std::max<size_t>(2 * l2_bytes, 64u << 20);
  CUDA_CHECK(cudaMalloc(&flush_, flush_bytes_));
  CUDA_CHECK(cudaHostAlloc(reinterpret_cast<void**>(&release_host_), sizeof(int), cudaHostAllocMapped));
  CUDA_CHECK(cudaHostGetDevicePointer(reinterpret_cast<void**>(&release_device_), release_host_, 0));
  CUDA_CHECK(cudaHostAlloc(reinterpret_cast<void**>(&timed_out_host_), sizeof(int), cudaHostAllocMapped));
  CUDA_CHECK(cudaHostGetDevicePointer(reinterpret_cast<void**>(&timed_out_device_), timed_out_host_, 0));
  // Load the memset and blocker kernels now: with CUDA's lazy module loading, a kernel's first
  // launch may wait for the device to go idle, which it never does behind a spinning blocker.
  *release_host_ = 1;
  *timed_out_host_ = 0;
  CUDA_CHECK(cudaMemset(flush_, 0, flush_bytes_));
  CUDA_CHECK(launch_stream_blocker(release_device_, timed_out_device_, kBlockerTimeoutNs, nullptr));
  CUDA_CHECK(cudaDeviceSynchronize());
  *release_host_ = 0;
}

CudaMeasureResources::~CudaMeasureResources() {
  cudaFree(flush_);
  cudaFreeHost(release_host_);
  cudaFreeHost(timed_out_host_);
}

std::optional<double> ClockWatch::fraction() const {
  if (!sampler_ || !max_ || *max_ <= 0) return std::nullopt;
  auto reading = sampler_->latest();
  if (!reading || !reading->sm_clock_mhz) return std::nullopt;
  return *reading->sm_clock_mhz / *max_;
}

CudaSampler::CudaSampler(BenchmarkCase& bench, CudaMeasureResources& resources, MeasureMode mode,
                         ClockWatch clock)
    : bench_(bench), resources_(resources), mode_(mode), clock_(clock) {
  CUDA_CHECK(cudaEventCreate(&start_));
  CUDA_CHECK(cudaEventCreate(&stop_));
}

CudaSampler::~CudaSampler() {
  cudaEventDestroy(start_);
  cudaEventDestroy(stop_);
}

double CudaSampler::sample() {
  cudaStream_t stream = bench_.stream();
  const bool block = resources_.blocking_kernel();
  if (block) {
    *resources_.release_host() = 0;
    *resources_.timed_out_host() = 0;
    CUDA_CHECK(launch_stream_blocker(resources_.release_device(), resources_.timed_out_device(),
                                     kBlockerTimeoutNs, stream));
  }
  if (mode_ == MeasureMode::cold) {
    // A different value each time, so no level of the memory system can treat it as a no-op.
    CUDA_CHECK(cudaMemsetAsync(resources_.flush_buffer(), ++flush_value_, resources_.flush_bytes(), stream));
  }
  CUDA_CHECK(cudaEventRecord(start_, stream));
  for (int i = 0; i < batch_; ++i) bench_.run();
  CUDA_CHECK(cudaEventRecord(stop_, stream));
  if (block) {
    std::atomic_thread_fence(std::memory_order_seq_cst);
    *resources_.release_host() = 1;  // host-mapped: the spinning kernel sees it and exits
  }
  CUDA_CHECK(cudaEventSynchronize(stop_));
  if (block && *resources_.timed_out_host()) ++blocker_timeouts_;
  float ms = 0;
  CUDA_CHECK(cudaEventElapsedTime(&ms, start_, stop_));
  return ms * 1e-3 / batch_;
}

namespace {
size_t last_level_cache_bytes() {
  long l3 = ::sysconf(_SC_LEVEL3_CACHE_SIZE);
  long l2 = ::sysconf(_SC_LEVEL2_CACHE_SIZE);
  long llc = l3 > 0 ? l3 : l2;
  return llc > 0 ? static_cast<size_t>(llc) : (32u << 20);
}
}  // namespace

CpuSampler::CpuSampler(BenchmarkCase& bench, MeasureMode mode) : bench_(bench), mode_(mode) {
  if (mode_ == MeasureMode::cold) flush_.resize(2 * last_level_cache_bytes());
}

double CpuSampler::sample() {
  if (mode_ == MeasureMode::cold) {
    // Write every cache line of a buffer twice the LLC: the benchmark's data is evicted.
    std::memset(flush_.data(), ++flush_value_, flush_.size());
  }
  const double t0 = steady_seconds();
  for (int i = 0; i < batch_; ++i) bench_.run();
  return (steady_seconds() - t0) / batch_;
}

}  // namespace aicbench
