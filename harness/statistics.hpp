#pragma once
// Sample statistics and the stopping rule (docs/methodology.md).
//
// A benchmark is sampled until it has at least `min_samples` samples and `min_time_s` of
// measured time, then until its relative standard deviation is under `max_noise`, or its noise
// estimate has stopped changing (more samples would not make it more precise, only more certain
// of its spread), or `timeout_s` of wall-clock time has passed. A result whose noise is still
// above `max_noise` when it stops is flagged unstable. This is nvbench's "stdrel" criterion.
#include <cstdint>
#include <span>
#include <vector>

namespace aicbench {

struct StoppingRule {
  int min_samples = 10;
  double min_time_s = 0.5;   // accumulated measured time (device time on the GPU)
  double max_noise = 0.005;  // relative standard deviation: 0.5 %
  double timeout_s = 15.0;   // wall clock of sampling, per benchmark (warm-up comes before)
  // The noise estimate has "stopped changing" when it moved by less than this fraction of
  // itself over the last quarter of the samples (and there are at least 3 * min_samples).
  double noise_convergence = 0.05;
};

struct SampleStats {
  int64_t count = 0;
  double median = 0, mean = 0, min = 0, max = 0, q1 = 0, q3 = 0;
  double rel_stddev = 0;  // sample standard deviation / mean
};

// Quartiles by linear interpolation between order statistics (type 7, as numpy and R default).
SampleStats summarize(std::span<const double> samples);

// Feeds on samples one at a time and says when to stop.
class StoppingCriterion {
 public:
  explicit StoppingCriterion(StoppingRule rule) : rule_(rule) {}

  // Adds a sample of `seconds`; `wall_elapsed_s` is the wall-clock time since sampling began.
  // Returns true when sampling should stop.
  bool add(double seconds, double wall_elapsed_s);

  enum class Reason { not_stopped, converged_below_target, noise_stopped_changing, timed_out };
  Reason reason() const { return reason_; }
  bool timed_out() const { return reason_ == Reason::timed_out; }
  // Stopped with noise above the target: the result is flagged unstable.
  bool unstable() const { return reason_ != Reason::not_stopped && current_noise() > rule_.max_noise; }
  double current_noise() const;
  const std::vector<double>& samples() const { return samples_; }

 private:
  StoppingRule rule_;
  std::vector<double> samples_;
  std::vector<double> noise_history_;  // rel. stddev after each sample
  double total_ = 0;
  // Welford's running mean and variance.
  double mean_ = 0, m2_ = 0;
  Reason reason_ = Reason::not_stopped;
};

const char* to_string(StoppingCriterion::Reason reason);

}  // namespace aicbench
