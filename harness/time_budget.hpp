#pragma once
// A suite's time budget (`time_budget_s` in the suite file; the acceptance suite's: 10 minutes a
// node). Before anything runs, `aicbench run` adds up what each benchmark that runs here may take
// by the stopping rule in force (its warm-up and sampling limits, per repetition, plus a case's own
// setup time such as a burn-in's duration) and refuses a suite that cannot fit (exit 2, naming the
// biggest parts). While it runs, a benchmark that would start after the budget is spent is recorded
// as not run, with the reason, and the run exits 1 (docs/result-format.md, docs/acceptance.md).
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/benchmark.hpp"
#include "harness/measurement.hpp"

namespace aicbench {

// Building a case's inputs and validating its first output, counted once per benchmark: it is not
// bounded by the stopping rule (a float64 check of an 8192^3 GEMM takes about a second).
inline constexpr double kSetupAllowanceS = 1.0;

// The most one benchmark may take: its setup (kSetupAllowanceS and the implementation's
// setup_seconds), then per repetition the warm-up (at most the shorter of warmup_max_s and the
// timeout) and the sampling (the timeout).
double estimated_seconds(const BenchmarkSpec& spec, const MeasureConfig& config, int repetitions);

struct TimeBudget {
  double budget_s = 0;
  double estimate_s = 0;  // the sum of estimated_seconds over the benchmarks that run here
  int benchmarks = 0;
  nlohmann::json to_json() const;  // context.aicbench.time_budget, before the run
};

// The plan for `runnable` (the benchmarks that run here) under `budget_s`. Throws InputError
// (exit 2) when the estimate exceeds the budget, with the largest parts and what to change.
TimeBudget plan_time_budget(const std::string& suite, double budget_s, const std::vector<BenchmarkSpec>& runnable,
                            const MeasureConfig& config, int repetitions);

// "not run: the suite's time budget of 600 s was spent (612.4 s since the run began) before it started"
std::string budget_spent_reason(double budget_s, double elapsed_s);

}  // namespace aicbench
