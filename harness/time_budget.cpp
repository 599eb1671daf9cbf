#include "harness/time_budget.hpp"

#include <algorithm>
#include <cstdio>

#include "reports/result_file.hpp"

namespace aicbench {

namespace {

std::string seconds_text(double s) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.4g s", s);
  return buffer;
}

}  // namespace

double estimated_seconds(const BenchmarkSpec& spec, const MeasureConfig& config, int repetitions) {
  double setup = kSetupAllowanceS;
  if (const Implementation* impl = find_implementation(spec.family, spec.impl); impl && impl->setup_seconds) {
    setup += impl->setup_seconds(spec);
  }
  const double timeout = config.rule.timeout_s;
  const double warmup = std::min(config.warmup_max_s, timeout);
  return setup + std::max(1, repetitions) * (warmup + timeout);
}

nlohmann::json TimeBudget::to_json() const {
  return {{"budget_s", budget_s}, {"estimate_s", estimate_s}, {"benchmarks", benchmarks}};
}

TimeBudget plan_time_budget(const std::string& suite, double budget_s, const std::vector<BenchmarkSpec>& runnable,
                            const MeasureConfig& config, int repetitions) {
  TimeBudget plan;
  plan.budget_s = budget_s;
  plan.benchmarks = static_cast<int>(runnable.size());
  std::vector<std::pair<double, std::string>> parts;
  for (const BenchmarkSpec& spec : runnable) {
    const double s = estimated_seconds(spec, config, repetitions);
    plan.estimate_s += s;
    parts.emplace_back(s, spec.name());
  }
  if (plan.estimate_s <= budget_s) return plan;
  std::stable_sort(parts.begin(), parts.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  std::string largest;
  for (size_t i = 0; i < std::min<size_t>(parts.size(), 3); ++i) {
    largest += (i ? ", " : "") + parts[i].second + " up to " + seconds_text(parts[i].first);
  }
  throw InputError("suite '" + suite + "' cannot run within its time budget of " + seconds_text(budget_s) + ": its " +
                   std::to_string(runnable.size()) + " benchmarks that run here may take up to " +
                   seconds_text(plan.estimate_s) + " by the stopping rule in force (each: " +
                   seconds_text(kSetupAllowanceS) + " to set up and validate, its own setup such as a burn-in's " +
                   "duration, and per repetition a warm-up of at most " +
                   seconds_text(std::min(config.warmup_max_s, config.rule.timeout_s)) + " and sampling of at most " +
                   seconds_text(config.rule.timeout_s) + "); the largest: " + largest +
                   ". Lower the suite's measurement timeout_s (or --timeout), run fewer with --filter, or raise "
                   "time_budget_s");
}

std::string budget_spent_reason(double budget_s, double elapsed_s) {
  char elapsed[32];
  std::snprintf(elapsed, sizeof elapsed, "%.1f s", elapsed_s);
  return "not run: the suite's time budget of " + seconds_text(budget_s) + " was spent (" + elapsed +
         " since the run began) before it started";
}

}  // namespace aicbench
