#pragma once
// GPU telemetry through NVML, loaded at run time (dlopen), so aicbench runs where NVML is absent
// and says that telemetry is unavailable. A background sampler reads clocks, power, energy,
// temperature and clock-limiting ("throttle") reasons while a benchmark runs.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/clock.hpp"

namespace aicbench {

// One reading of one GPU. Any field may be missing (an older driver, a GPU without the counter).
struct TelemetryReading {
  double time_s = 0;  // steady clock, seconds
  std::optional<double> sm_clock_mhz, mem_clock_mhz, power_w, temp_c;
  std::optional<double> energy_j;  // the driver's cumulative energy counter
  std::optional<uint64_t> throttle_reasons;  // NVML clocks-event-reason bits
};

// Where readings come from: NVML in production, a scripted fake in tests.
class TelemetrySource {
 public:
  virtual ~TelemetrySource() = default;
  virtual TelemetryReading read() = 0;
  virtual std::optional<double> max_sm_clock_mhz() = 0;
  virtual std::optional<double> power_limit_w() = 0;
  // "default boost", or what the operator set beforehand (locked or application clocks).
  virtual std::string clock_policy() = 0;
};

// NVML for the GPU with this PCI bus id. Returns nullptr and sets `why_not` when NVML cannot be
// loaded or does not know the device. `library` is the shared object to load (tests name one
// that does not exist).
std::unique_ptr<TelemetrySource> open_nvml(const std::string& pci_bus_id, std::string* why_not,
                                           const char* library = "libnvidia-ml.so.1");

// NVML opened for one GPU, with what result files and `aicbench info` record about it:
// {"available": true, "source": "NVML", "clock_policy", "max_sm_clock_mhz", "power_limit_w"},
// or {"available": false, "reason", "clock_policy": "unknown (no NVML)"}.
struct GpuTelemetry {
  std::unique_ptr<TelemetrySource> source;  // null when unavailable
  std::string unavailable_reason;
  nlohmann::json provenance;
};
GpuTelemetry open_gpu_telemetry(const std::string& pci_bus_id);
// No telemetry, and why (no GPU, the cpu backend).
GpuTelemetry no_gpu_telemetry(const std::string& reason);
// Records `t` in a provenance document: provenance["telemetry"], and the power limit of
// provenance["gpus"][gpu] (the GPU whose telemetry `t` is).
void record_telemetry(nlohmann::json& provenance, const GpuTelemetry& t, size_t gpu = 0);

// Names of the bits set in an NVML clocks-event-reason mask, e.g. {"sw_power_cap"}.
std::vector<std::string> throttle_reason_names(uint64_t mask);

// What a benchmark's readings add up to.
struct TelemetrySummary {
  int readings = 0;
  std::optional<double> sm_clock_mhz, mem_clock_mhz, power_w, temp_c;  // mean; temp_c is the max
  std::optional<double> energy_j;  // from the energy counter when present, else power integrated
  std::string energy_source;       // "energy_counter" or "power_integration"
  uint64_t throttle_reasons = 0;   // every reason seen, excluding idle
  nlohmann::json to_json() const;
};

TelemetrySummary summarize(const std::vector<TelemetryReading>& readings);

// Reads `source` every `interval` on its own thread between start() and stop().
class TelemetrySampler {
 public:
  TelemetrySampler(TelemetrySource& source, std::chrono::milliseconds interval);
  ~TelemetrySampler();
  void start();
  // Stops and returns what was read since start().
  std::vector<TelemetryReading> stop();
  // The newest reading (for the throttle guard), or nothing before the first.
  std::optional<TelemetryReading> latest() const;

 private:
  void loop();
  TelemetrySource& source_;
  std::chrono::milliseconds interval_;
  mutable std::mutex mutex_;
  std::vector<TelemetryReading> readings_;
  std::atomic<bool> running_{false};
  std::thread thread_;
};


}  // namespace aicbench
