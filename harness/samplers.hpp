#pragma once
// The two backends' Samplers (harness/measurement.hpp): CUDA events around device work on the
// GPU, a steady clock on the CPU; each flushes caches before a cold sample.
#include <cstddef>
#include <memory>
#include <optional>
#include <vector>

#include <cuda_runtime.h>

#include "harness/benchmark.hpp"
#include "harness/measurement.hpp"
#include "harness/telemetry.hpp"

namespace aicbench {

// Device resources shared by every benchmark of a run: the flush buffer (allocated once, twice
// the L2) and the host-mapped release flag of the blocking kernel.
class CudaMeasureResources {
 public:
  // `blocking_kernel`: hold the stream while a sample is queued (see stream_blocker.hpp). Off for
  // tools that run every launch to completion before returning (compute-sanitizer), where the
  // blocker could only time out.
  CudaMeasureResources(size_t l2_bytes, bool blocking_kernel);
  ~CudaMeasureResources();
  CudaMeasureResources(const CudaMeasureResources&) = delete;
  CudaMeasureResources& operator=(const CudaMeasureResources&) = delete;

  bool blocking_kernel() const { return blocking_kernel_; }
  void* flush_buffer() const { return flush_; }
  size_t flush_bytes() const { return flush_bytes_; }
  volatile int* release_host() const { return release_host_; }
  const volatile int* release_device() const { return release_device_; }
  int* timed_out_host() const { return timed_out_host_; }
  int* timed_out_device() const { return timed_out_device_; }

 private:
  bool blocking_kernel_;
  void* flush_ = nullptr;
  size_t flush_bytes_ = 0;
  int* release_host_ = nullptr;
  int* release_device_ = nullptr;
  int* timed_out_host_ = nullptr;
  int* timed_out_device_ = nullptr;
};

// Reads the throttle guard's clock from a telemetry sampler; nullopt without telemetry.
class ClockWatch {
 public:
  ClockWatch(const TelemetrySampler* sampler, std::optional<double> max_sm_clock_mhz)
      : sampler_(sampler), max_(max_sm_clock_mhz) {}
  std::optional<double> fraction() const;

 private:
  const TelemetrySampler* sampler_;
  std::optional<double> max_;
};

class CudaSampler final : public Sampler {
 public:
  CudaSampler(BenchmarkCase& bench, CudaMeasureResources& resources, MeasureMode mode,
              ClockWatch clock);
  ~CudaSampler() override;
  double sample() override;
  void set_batch(int runs) override { batch_ = runs; }
  std::optional<double> clock_fraction() override { return clock_.fraction(); }
  // Samples whose blocking kernel gave up before the host released it: host launch latency may
  // be in their time.
  int blocker_timeouts() const { return blocker_timeouts_; }

 private:
  BenchmarkCase& bench_;
  CudaMeasureResources& resources_;
  MeasureMode mode_;
  ClockWatch clock_;
  cudaEvent_t start_ = nullptr, stop_ = nullptr;
  int batch_ = 1;
  int blocker_timeouts_ = 0;
  unsigned char flush_value_ = 0;
};

// A case that times itself (BenchmarkCase::times_itself: several GPUs, host threads, copies that
// synchronise with the host): a sample is its time_runs(), on either backend.
class SelfTimedSampler final : public Sampler {
 public:
  SelfTimedSampler(BenchmarkCase& bench, MeasureMode mode, ClockWatch clock)
      : bench_(bench), mode_(mode), clock_(clock) {}
  double sample() override { return bench_.time_runs(batch_, mode_); }
  void set_batch(int runs) override { batch_ = runs; }
  std::optional<double> clock_fraction() override { return clock_.fraction(); }

 private:
  BenchmarkCase& bench_;
  MeasureMode mode_;
  ClockWatch clock_;
  int batch_ = 1;
};

class CpuSampler final : public Sampler {
 public:
  CpuSampler(BenchmarkCase& bench, MeasureMode mode);
  double sample() override;
  void set_batch(int runs) override { batch_ = runs; }
  std::optional<double> clock_fraction() override { return std::nullopt; }

 private:
  BenchmarkCase& bench_;
  MeasureMode mode_;
  int batch_ = 1;
  std::vector<unsigned char> flush_;  // twice the last-level cache
  unsigned char flush_value_ = 0;      // changes every sample, so every line is really written
};

}  // namespace aicbench
