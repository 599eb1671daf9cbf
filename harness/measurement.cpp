#include "harness/measurement.hpp"

#include "harness/clock.hpp"

#include <algorithm>
#include <chrono>
#include <thread>

namespace aicbench {

const char* to_string(MeasureMode mode) { return mode == MeasureMode::hot ? "hot" : "cold"; }

std::optional<MeasureMode> parse_measure_mode(const std::string& text) {
  if (text == "cold") return MeasureMode::cold;
  if (text == "hot") return MeasureMode::hot;
  return std::nullopt;
}

MeasureHooks MeasureHooks::real() {
  return {steady_seconds,
          [](double s) { std::this_thread::sleep_for(std::chrono::duration<double>(s)); },
          nullptr};
}

nlohmann::json Measurement::to_json() const {
  return {{"mode", to_string(mode)},
          {"samples", stats.count},
          {"median_s", stats.median},
          {"mean_s", stats.mean},
          {"min_s", stats.min},
          {"max_s", stats.max},
          {"q1_s", stats.q1},
          {"q3_s", stats.q3},
          {"rel_stddev", stats.rel_stddev},
          {"timed_out", timed_out()},
          {"unstable", unstable},
          {"stop_reason", stop_reason},
          {"discarded_throttled", discarded_throttled},
          {"warmup_runs", warmup_runs},
          {"batch", batch},
          {"blocker_timeouts", blocker_timeouts}};
}

Measurement measure(Sampler& sampler, const MeasureConfig& config, const MeasureHooks& hooks) {
  Measurement result;
  result.mode = config.mode;
  const double start = hooks.now();

  // ---- Warm-up: at least one untimed run, then until the SM clock has settled (three readings
  // within 1 % of each other and above the throttle threshold), at most warmup_max_s. Without a
  // clock reading, until 3 runs or 0.1 s have passed.
  sampler.set_batch(1);
  double single_run_s = sampler.sample();
  result.warmup_runs = 1;
  std::vector<double> clocks;
  // Warm-up never outlasts the benchmark's own time limit.
  const double warmup_limit_s = std::min(config.warmup_max_s, config.rule.timeout_s);
  while (hooks.now() - start < warmup_limit_s) {
    std::optional<double> clock = sampler.clock_fraction();
    if (!clock) {
      if (result.warmup_runs >= 3 || hooks.now() - start >= 0.1) break;
    } else {
      clocks.push_back(*clock);
      if (clocks.size() >= 3) {
        auto [lo, hi] = std::minmax_element(clocks.end() - 3, clocks.end());
        if (*hi - *lo <= 0.01 * *hi && *lo >= config.throttle_threshold) break;
      }
    }
    single_run_s = std::min(single_run_s, sampler.sample());
    ++result.warmup_runs;
  }

  if (config.mode == MeasureMode::hot) {
    // Enough runs per sample that the sample is long against the timer's resolution, capped so
    // the queue of launches held behind the blocking kernel stays short.
    result.batch = static_cast<int>(std::clamp(config.hot_batch_s / std::max(single_run_s, 1e-9), 1.0, 100.0));
  }
  sampler.set_batch(result.batch);
  if (hooks.warmed_up) hooks.warmed_up();

  // ---- Sampling under the stopping rule, with the throttle guard.
  StoppingCriterion criterion(config.rule);
  const double sampling_start = hooks.now();
  while (true) {
    const double seconds = sampler.sample();
    std::optional<double> clock = sampler.clock_fraction();
    const double elapsed = hooks.now() - sampling_start;
    if (clock && *clock < config.throttle_threshold && elapsed < config.rule.timeout_s) {
      ++result.discarded_throttled;
      hooks.sleep(config.throttle_backoff_s);
      continue;
    }
    if (criterion.add(seconds, elapsed)) break;
  }
  result.stats = summarize(criterion.samples());
  result.unstable = criterion.unstable();
  result.stop_reason = to_string(criterion.reason());
  return result;
}

}  // namespace aicbench
