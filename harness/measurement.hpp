#pragma once
// How one benchmark is measured (docs/methodology.md): warm-up, then samples until the stopping
// rule says stop, with samples taken while the GPU ran below its clock threshold thrown away.
//
// Two modes, named in every result:
//   cold  caches flushed before every sample (an async memset over twice the L2 on the GPU, a
//         write over twice the last-level cache on the CPU); one run per sample.
//   hot   runs back to back, the sample's time divided by the batch.
// On the GPU, launch overhead stays out of the timings: a small kernel holds the stream until
// the whole sample is queued (nvbench's "blocking kernel"), then the CUDA events time only the
// device work.
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/statistics.hpp"

namespace aicbench {

enum class MeasureMode { cold, hot };
const char* to_string(MeasureMode mode);
std::optional<MeasureMode> parse_measure_mode(const std::string& text);

struct MeasureConfig {
  MeasureMode mode = MeasureMode::cold;
  StoppingRule rule;
  // Samples taken while the SM clock is below this fraction of its maximum are discarded.
  double throttle_threshold = 0.75;
  double throttle_backoff_s = 0.05;  // pause before retrying a discarded sample
  double warmup_max_s = 2.0;         // warm-up ends when the clock is stable, or after this
  double hot_batch_s = 0.002;        // a hot sample queues enough runs to last about this long
};

// The clock and the pause, injectable so tests can run the loop on a fake clock.
struct MeasureHooks {
  std::function<double()> now;            // seconds, monotonic
  std::function<void(double)> sleep;      // seconds
  std::function<void()> warmed_up;        // optional: called between warm-up and sampling
  static MeasureHooks real();
};

// What measure() needs from a backend.
class Sampler {
 public:
  virtual ~Sampler() = default;
  // One sample: the seconds per run of the benchmark, measured on the device (CPU: steady clock).
  virtual double sample() = 0;
  // Runs per hot sample; the sampler divides the time by it.
  virtual void set_batch(int runs) = 0;
  // The SM clock as a fraction of its maximum right now, or nullopt when unknown (no telemetry).
  virtual std::optional<double> clock_fraction() = 0;
};

struct Measurement {
  MeasureMode mode = MeasureMode::cold;
  SampleStats stats;  // seconds per run
  bool unstable = false;
  std::string stop_reason;  // "noise_below_target", "noise_stopped_changing" or "timeout"
  int discarded_throttled = 0;  // samples thrown away by the throttle guard
  int warmup_runs = 0;
  int batch = 1;
  int blocker_timeouts = 0;  // GPU: samples whose blocking kernel timed out (see samplers.hpp)

  bool timed_out() const { return stop_reason == "timeout"; }
  nlohmann::json to_json() const;  // benchmarks[i].aicbench.measurement
};

Measurement measure(Sampler& sampler, const MeasureConfig& config,
                    const MeasureHooks& hooks = MeasureHooks::real());

}  // namespace aicbench
