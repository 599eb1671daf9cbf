#pragma once
// The burn-in (issue 12 item 5), its parts that do not depend on the backend: the loop that keeps
// the device busy for a duration in intervals, and the verdict on what the intervals and the
// telemetry showed. The backends' loads are in burnin.cpp; everything here is tested on the CPU
// with scripted intervals and readings (tests/test_burnin.cpp).
//
// A burn-in runs GEMMs back to back for `seconds`, in intervals of about one second (longer for
// burn-ins of more than 600 s, so that a row holds at most 600 samples). Every GEMM's output is
// compared, bit for bit, with the first output of the same inputs, which was validated against a
// float64 reference before the burn-in started. Its verdict fails the device when:
//   - any output differed from the first (the interval, the GEMM and the element are named);
//   - any interval saw a clock-limiting reason that is the hardware's, not power management's:
//     hw_slowdown, hw_thermal_slowdown, sw_thermal_slowdown, hw_power_brake_slowdown;
//   - any interval's mean SM clock (readings while the GPU was busy) fell below the clock floor,
//     kClockFloorFraction of the GPU's maximum SM clock (the throttle guard's threshold, 75 %).
// sw_power_cap (running at the power limit) is what a full tensor-core load is meant to reach and
// is recorded, not failed; an acceptance spec may hold the clock to a floor of its own (rule
// `burnin`, docs/acceptance.md).
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/telemetry.hpp"

namespace aicbench::burnin {

inline constexpr int kMaxSamples = 600;        // intervals (samples) a row holds at most
inline constexpr double kIntervalS = 1.0;      // an interval's length for burn-ins up to 600 s
inline constexpr double kClockFloorFraction = 0.75;
inline constexpr int kTelemetryPeriodMs = 100;  // NVML readings, summarised per interval
// The clocks-event reasons that fail a burn-in (NVML's bits: telemetry.cpp's names).
inline constexpr uint64_t kFailingThrottleMask = 0x8 | 0x20 | 0x40 | 0x80;

// An interval's length for a burn-in of `seconds`.
double interval_seconds(double seconds);

// One element that differed from the reference.
struct Mismatch {
  int64_t gemm = 0;     // the burn-in's GEMM, counted from 0
  int64_t element = 0;  // index into C, row-major
  uint32_t got = 0, expected = 0;  // the element's bits
};

// What one interval did: its GEMMs, each checked.
struct Interval {
  double start_s = 0, end_s = 0;  // seconds since the burn-in began
  int64_t first_gemm = 0, gemms = 0;
  int64_t mismatched_elements = 0;  // over all its GEMMs
  std::optional<Mismatch> first;    // one of them, when any
};

// A backend's load: queues or runs an interval's GEMMs, each followed by its check.
class Load {
 public:
  virtual ~Load() = default;
  // True when start() queues the work and returns at once (a GPU): the loop keeps one interval
  // queued ahead of the one it waits for, so the device never waits for the host.
  virtual bool asynchronous() const = 0;
  virtual void start(int index, int64_t first_gemm, int64_t gemms) = 0;
  // Waits for interval `index` and returns what it found; end_s on the load's own clock, in
  // seconds since the burn-in began.
  virtual Interval finish(int index) = 0;
};

// Runs `load` for at least `seconds` (an asynchronous load at most two intervals more), with
// `gemms_per_interval` GEMMs per interval. `now` is seconds since the burn-in began.
std::vector<Interval> run(Load& load, double seconds, int64_t gemms_per_interval, const std::function<double()>& now);

// Who ran the burn-in, for the verdict's messages and the row.
struct Device {
  std::string description;  // "GPU 0 (GPU-5f1c..., PCI 00000000:3B:00.0)", or "the CPU (host, model)"
  std::optional<int> gpu_index;
  std::string gpu_uuid;
  std::optional<double> max_sm_clock_mhz;  // from NVML; no clock floor without it
};

struct Settings {
  double seconds = 0;
  double interval_s = kIntervalS;
  int64_t gemms_per_interval = 0;
  double flops_per_gemm = 0;
  int64_t rows = 0, columns = 0;  // C's shape, to name a wrong element by row and column
  int element_bytes = 4;
  std::string check;              // how outputs were compared, for the row
  std::string telemetry;          // "NVML every 100 ms ..." or "unavailable: ..."
};

struct Verdict {
  bool passed = true;
  std::vector<std::string> reasons;  // each names the device
  std::string message() const;       // the reasons joined, for the row's status reason
  nlohmann::json block;              // the row's aicbench.burnin (docs/result-format.md)
};

// The verdict on `intervals`, with `readings` (telemetry; their time_s in seconds since the burn-in
// began; empty without telemetry) summarised per interval into the row's samples.
Verdict evaluate(const Device& device, const Settings& settings, const std::vector<Interval>& intervals,
                 const std::vector<TelemetryReading>& readings);

// A wrong answer planted in the burn-in's output, for the tests that show it is caught: after
// GEMM `gemm`, bit `bit` of element `element` of C is flipped before C is checked. Applies to
// every burn-in started while it is set.
struct PlantedFault {
  int64_t gemm = 0;
  int64_t element = 0;
  int bit = 0;
};
void plant_fault_for_testing(std::optional<PlantedFault> fault);
std::optional<PlantedFault> planted_fault();

}  // namespace aicbench::burnin
