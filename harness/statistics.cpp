#include "harness/statistics.hpp"

#include <algorithm>
#include <cmath>

namespace aicbench {

namespace {

double quantile_sorted(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  const double position = q * static_cast<double>(sorted.size() - 1);
  const size_t below = static_cast<size_t>(std::floor(position));
  const size_t above = std::min(below + 1, sorted.size() - 1);
  const double fraction = position - static_cast<double>(below);
  return sorted[below] + fraction * (sorted[above] - sorted[below]);
}

}  // namespace

SampleStats summarize(std::span<const double> samples) {
  SampleStats s;
  s.count = static_cast<int64_t>(samples.size());
  if (samples.empty()) return s;
  std::vector<double> sorted(samples.begin(), samples.end());
  std::sort(sorted.begin(), sorted.end());
  s.min = sorted.front();
  s.max = sorted.back();
  s.median = quantile_sorted(sorted, 0.5);
  s.q1 = quantile_sorted(sorted, 0.25);
  s.q3 = quantile_sorted(sorted, 0.75);
  double sum = 0;
  for (double x : sorted) sum += x;
  s.mean = sum / static_cast<double>(sorted.size());
  if (sorted.size() > 1 && s.mean != 0) {
    double ss = 0;
    for (double x : sorted) ss += (x - s.mean) * (x - s.mean);
    s.rel_stddev = std::sqrt(ss / static_cast<double>(sorted.size() - 1)) / std::abs(s.mean);
  }
  return s;
}

double StoppingCriterion::current_noise() const {
  const size_t n = samples_.size();
  if (n < 2 || mean_ == 0) return INFINITY;
  return std::sqrt(m2_ / static_cast<double>(n - 1)) / std::abs(mean_);
}

bool StoppingCriterion::add(double seconds, double wall_elapsed_s) {
  if (reason_ != Reason::not_stopped) return true;
  samples_.push_back(seconds);
  total_ += seconds;
  const double delta = seconds - mean_;
  mean_ += delta / static_cast<double>(samples_.size());
  m2_ += delta * (seconds - mean_);
  const double noise = current_noise();
  noise_history_.push_back(noise);

  const int n = static_cast<int>(samples_.size());
  if (wall_elapsed_s >= rule_.timeout_s) {
    reason_ = Reason::timed_out;
    return true;
  }
  if (n < rule_.min_samples || total_ < rule_.min_time_s) return false;
  if (noise < rule_.max_noise) {
    reason_ = Reason::converged_below_target;
    return true;
  }
  // Noisy, but is the estimate of the noise still moving? Compare with a quarter ago.
  if (n >= 3 * rule_.min_samples) {
    const double earlier = noise_history_[static_cast<size_t>(n - 1 - n / 4)];
    if (std::abs(noise - earlier) <= rule_.noise_convergence * noise) {
      reason_ = Reason::noise_stopped_changing;
      return true;
    }
  }
  return false;
}

const char* to_string(StoppingCriterion::Reason reason) {
  switch (reason) {
    case StoppingCriterion::Reason::not_stopped: return "not_stopped";
    case StoppingCriterion::Reason::converged_below_target: return "noise_below_target";
    case StoppingCriterion::Reason::noise_stopped_changing: return "noise_stopped_changing";
    case StoppingCriterion::Reason::timed_out: return "timeout";
  }
  return "unknown";
}

}  // namespace aicbench
