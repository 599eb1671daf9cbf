// aicbench compare's statistics and decisions, on numbers and rows (no files): reports/stats.hpp
// against scipy's values, every state of reports/compare.hpp, the environment labelling, and the
// gate's own error rates measured by simulation (docs/compare.md quotes the printed table).
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "reports/compare.hpp"
#include "reports/compare_render.hpp"
#include "reports/stats.hpp"

namespace aicbench {
namespace {

using compare::Comparison;
using compare::Method;
using compare::Options;
using compare::State;
using compare::Verdict;

// ---------------------------------------------------------------------------------------------
// Statistics
// ---------------------------------------------------------------------------------------------

TEST(Stats, MedianAndQuantile) {
  const std::vector<double> odd{5, 1, 3}, even{4, 1, 3, 2};
  EXPECT_EQ(stats::median(odd), 3);
  EXPECT_EQ(stats::median(even), 2.5);
  EXPECT_DOUBLE_EQ(stats::quantile(even, 0.25), 1.75);  // numpy.quantile([1,2,3,4], .25)
  EXPECT_EQ(stats::quantile(even, 0), 1);
  EXPECT_EQ(stats::quantile(even, 1), 4);
}

TEST(Stats, RobustSpreadIgnoresOneWildValue) {
  const std::vector<double> calm{1.00, 1.01, 0.99, 1.00, 1.02}, wild{1.00, 1.01, 0.99, 1.00, 9.0};
  EXPECT_NEAR(*stats::robust_relative_spread(calm), *stats::robust_relative_spread(wild), 1e-12);
  EXPECT_FALSE(stats::robust_relative_spread(std::vector<double>{1.0}));
  EXPECT_NEAR(*stats::robust_relative_spread(std::vector<double>{1.0, 3.0}), std::sqrt(2.0) / 2.0, 1e-12);
}

// Reference values: scipy 1.10 mannwhitneyu(x, y, alternative='two-sided') (method 'auto').
TEST(Stats, MannWhitneyMatchesScipy) {
  struct Case {
    std::vector<double> x, y;
    double u, p;
    bool exact;
  };
  std::vector<double> thirty, shifted;
  for (int i = 1; i <= 30; ++i) {
    thirty.push_back(i);
    shifted.push_back(i + 10.5);
  }
  const std::vector<Case> cases = {
      {{1, 2, 3}, {4, 5, 6}, 0, 0.1, true},
      {{1.1, 2.2, 3.3, 4.4}, {0.5, 2.5, 3.5, 6, 7}, 7, 0.5555555555555556, true},
      // ties between the samples: normal approximation, tie-corrected variance
      {{3.1, 2.9, 3.0, 3.3, 3.2, 3.05, 2.95, 3.15, 3.12, 3.08},
       {3.4, 3.3, 3.5, 3.2, 3.6, 3.45, 3.55, 3.38, 3.41, 3.49}, 2, 0.0003264344499015525, false},
      {{1, 2, 2, 3, 4}, {2, 3, 3, 5, 6, 7}, 6, 0.11390314458853068, false},
      // 60 values: beyond the exact limit, normal approximation as scipy's 'auto'
      {thirty, shifted, 190, 0.00012477053789099933, false},
  };
  for (const Case& c : cases) {
    const stats::MannWhitney r = stats::mann_whitney_u(c.x, c.y);
    EXPECT_DOUBLE_EQ(r.u, c.u);
    EXPECT_NEAR(r.p, c.p, 1e-12 + 1e-9 * c.p) << "n1=" << c.x.size() << " n2=" << c.y.size();
    EXPECT_EQ(r.exact, c.exact);
  }
  // Symmetric in its samples, and 1 for identical ones.
  EXPECT_NEAR(stats::mann_whitney_u(cases[1].y, cases[1].x).p, cases[1].p, 1e-12);
  EXPECT_EQ(stats::mann_whitney_u(std::vector<double>{1, 1}, std::vector<double>{1, 1}).p, 1);
}

TEST(Stats, SmallestAttainablePValue) {
  EXPECT_DOUBLE_EQ(stats::smallest_attainable_p(3, 3), 0.1);       // 2 / C(6,3)
  EXPECT_DOUBLE_EQ(stats::smallest_attainable_p(9, 9), 2.0 / 48620);
  EXPECT_DOUBLE_EQ(stats::smallest_attainable_p(1, 1), 1);
  // It is what the exact test gives for samples that do not overlap.
  EXPECT_DOUBLE_EQ(stats::mann_whitney_u(std::vector<double>{1, 2, 3, 4, 5}, std::vector<double>{6, 7, 8, 9, 10}).p,
                   stats::smallest_attainable_p(5, 5));
}

TEST(Stats, BenjaminiHochbergAsTheTextbook) {
  // R: p.adjust(c(.01,.04,.03,.005,.5,.2), "BH") = 0.03 0.06 0.06 0.03 0.50 0.24
  const std::vector<double> p{0.01, 0.04, 0.03, 0.005, 0.5, 0.2};
  const std::vector<double> expected{0.03, 0.06, 0.06, 0.03, 0.5, 0.24};
  const std::vector<double> adjusted = stats::benjamini_hochberg(p);
  for (size_t i = 0; i < p.size(); ++i) EXPECT_NEAR(adjusted[i], expected[i], 1e-12) << i;
  EXPECT_TRUE(stats::benjamini_hochberg(std::vector<double>{}).empty());
  EXPECT_EQ(stats::benjamini_hochberg(std::vector<double>{0.9, 0.95})[1], 0.95);
}

TEST(Stats, BootstrapIntervalIsDeterministicAndCoversTheRatio) {
  const std::vector<double> b{1.00, 1.01, 0.99, 1.02, 0.98, 1.00, 1.01}, c{1.10, 1.11, 1.09, 1.12, 1.08, 1.10, 1.11};
  const stats::Interval a = stats::bootstrap_median_ratio(b, c, 0.95, 2000, 42);
  const stats::Interval again = stats::bootstrap_median_ratio(b, c, 0.95, 2000, 42);
  EXPECT_EQ(a.low, again.low);
  EXPECT_EQ(a.high, again.high);
  EXPECT_LT(a.low, 1.1);
  EXPECT_GT(a.high, 1.1);
  EXPECT_GT(a.low, 1.05);
  EXPECT_LT(a.high, 1.15);
}

TEST(Stats, GeneratorIsPortable) {
  // SplitMix64's reference output for seed 0 (Vigna's splitmix64.c): the simulations below
  // draw the same numbers on every compiler and standard library.
  stats::SplitMix64 rng(0);
  EXPECT_EQ(rng.next(), 0xE220A8397B1DCDAFULL);
  EXPECT_EQ(rng.next(), 0x6E789E6AA1B965F4ULL);
  for (int i = 0; i < 1000; ++i) EXPECT_LT(rng.below(7), 7u);
}

// ---------------------------------------------------------------------------------------------
// Decisions on rows
// ---------------------------------------------------------------------------------------------

ResultRow row(const std::string& name, double time_s, double noise = 0.01, size_t file = 0,
              const std::string& status = kStatusOk) {
  ResultRow r;
  r.name = name;
  const size_t slash = name.find('/');
  r.family = name.substr(0, slash);
  r.mode = "cold";
  r.status = status;
  r.origin.file = file;
  r.origin.device_name = "NVIDIA H100 80GB HBM3";
  r.origin.backend = "cuda";
  if (status == kStatusOk) {
    r.median_s = time_s;
    r.rel_stddev = noise;
  } else {
    r.reason = status == kStatusSkipped ? "not supported here" : "max_rel_err 0.5 > tolerance 0.001";
  }
  return r;
}

// `reps` rows of `name` around `time_s`, spread evenly by +-`spread` (a deterministic sample).
std::vector<ResultRow> rows(const std::string& name, double time_s, size_t reps, double spread = 0.005,
                            double noise = 0.01) {
  std::vector<ResultRow> out;
  for (size_t i = 0; i < reps; ++i) {
    const double offset = reps == 1 ? 0 : spread * (2.0 * i / (reps - 1) - 1.0);
    out.push_back(row(name, time_s * (1 + offset), noise, i));
  }
  return out;
}

void append(std::vector<ResultRow>& to, const std::vector<ResultRow>& more) { to.insert(to.end(), more.begin(), more.end()); }

const Verdict& verdict(const Comparison& c, const std::string& name) {
  for (const Verdict& v : c.verdicts) {
    if (v.name == name) return v;
  }
  static Verdict none;
  ADD_FAILURE() << "no verdict for " << name;
  return none;
}

Options quiet() {
  Options o;
  o.resamples = 200;
  return o;
}

TEST(CompareDecision, EveryPresenceAndStatusState) {
  compare::Input in;
  append(in.baseline, rows("gemm/a/fp32/same", 1e-3, 3));
  append(in.current, rows("gemm/a/fp32/same", 1e-3, 3));
  append(in.current, rows("gemm/a/fp32/new", 1e-3, 3));
  append(in.baseline, rows("gemm/a/fp32/gone", 1e-3, 3));
  append(in.baseline, rows("gemm/a/fp32/breaks", 1e-3, 3));
  in.current.push_back(row("gemm/a/fp32/breaks", 0, 0, 0, kStatusFailed));
  in.current.push_back(row("gemm/a/fp32/new_and_broken", 0, 0, 0, kStatusError));
  in.baseline.push_back(row("gemm/a/fp32/fixed", 0, 0, 0, kStatusFailed));
  append(in.current, rows("gemm/a/fp32/fixed", 1e-3, 3));
  in.baseline.push_back(row("gemm/a/fp32/still", 0, 0, 0, kStatusFailed));
  in.current.push_back(row("gemm/a/fp32/still", 0, 0, 0, kStatusFailed));
  append(in.baseline, rows("gemm/a/fp32/skipped", 1e-3, 3));
  in.current.push_back(row("gemm/a/fp32/skipped", 0, 0, 0, kStatusSkipped));
  in.baseline.push_back(row("gemm/a/fp32/unskipped", 0, 0, 0, kStatusSkipped));
  append(in.current, rows("gemm/a/fp32/unskipped", 1e-3, 3));
  // one failing repetition of three is a failing benchmark
  append(in.baseline, rows("gemm/a/fp32/flaky", 1e-3, 3));
  append(in.current, rows("gemm/a/fp32/flaky", 1e-3, 2));
  in.current.push_back(row("gemm/a/fp32/flaky", 0, 0, 2, kStatusFailed));

  const Comparison c = compare::compare(in, quiet());
  EXPECT_EQ(verdict(c, "gemm/a/fp32/same").state, State::same);
  EXPECT_EQ(verdict(c, "gemm/a/fp32/new").state, State::new_benchmark);
  EXPECT_EQ(verdict(c, "gemm/a/fp32/gone").state, State::gone);
  EXPECT_EQ(verdict(c, "gemm/a/fp32/breaks").state, State::now_failing);
  EXPECT_NE(verdict(c, "gemm/a/fp32/breaks").reason.find("max_rel_err"), std::string::npos);
  EXPECT_EQ(verdict(c, "gemm/a/fp32/new_and_broken").state, State::now_failing);
  EXPECT_EQ(verdict(c, "gemm/a/fp32/fixed").state, State::fixed);
  EXPECT_EQ(verdict(c, "gemm/a/fp32/still").state, State::still_failing);
  EXPECT_EQ(verdict(c, "gemm/a/fp32/skipped").state, State::skipped);
  EXPECT_EQ(verdict(c, "gemm/a/fp32/unskipped").state, State::new_benchmark);
  EXPECT_EQ(verdict(c, "gemm/a/fp32/flaky").state, State::now_failing);
  EXPECT_EQ(c.exit_code(), 1);
  // Gate failures come first.
  EXPECT_EQ(c.verdicts.front().state, State::now_failing);
  EXPECT_EQ(c.count(State::now_failing), 3u);

  // Without the newly failing ones the gate passes: GONE, STILL FAILING and SKIPPED do not fail it.
  std::erase_if(in.current, [](const ResultRow& r) { return r.status == kStatusFailed || r.status == kStatusError; });
  in.current.push_back(row("gemm/a/fp32/still", 0, 0, 0, kStatusFailed));
  const Comparison passing = compare::compare(in, quiet());
  EXPECT_EQ(passing.exit_code(), 0) << compare::render_markdown(passing);
}

TEST(CompareDecision, SlowerNeedsSignificanceThresholdAndNoise) {
  compare::Input in;
  // 10 repetitions a side, 1 benchmark: the U test decides.
  append(in.baseline, rows("gemm/a/fp32/slower", 1e-3, 10));
  append(in.current, rows("gemm/a/fp32/slower", 1.06e-3, 10));
  append(in.baseline, rows("gemm/a/fp32/faster", 1e-3, 10));
  append(in.current, rows("gemm/a/fp32/faster", 0.94e-3, 10));
  // significant but under the 3 % threshold
  append(in.baseline, rows("gemm/a/fp32/small", 1e-3, 10, 0.002));
  append(in.current, rows("gemm/a/fp32/small", 1.02e-3, 10, 0.002));
  // significant, beyond the threshold, but inside the runs' own noise (8 % on both sides)
  append(in.baseline, rows("gemm/a/fp32/noisy", 1e-3, 10, 0.005, 0.08));
  append(in.current, rows("gemm/a/fp32/noisy", 1.06e-3, 10, 0.005, 0.08));
  // nvbench takes the smaller side's noise: a noisy current run does not hide a slowdown
  append(in.baseline, rows("gemm/a/fp32/one_noisy_side", 1e-3, 10, 0.005, 0.01));
  append(in.current, rows("gemm/a/fp32/one_noisy_side", 1.06e-3, 10, 0.005, 0.08));
  // beyond the threshold but overlapping samples: not significant
  append(in.baseline, rows("gemm/a/fp32/overlap", 1e-3, 10, 0.2));
  append(in.current, rows("gemm/a/fp32/overlap", 1.05e-3, 10, 0.2));

  const Comparison c = compare::compare(in, quiet());
  const Verdict& slower = verdict(c, "gemm/a/fp32/slower");
  EXPECT_EQ(slower.state, State::slower) << slower.reason;
  EXPECT_EQ(slower.method, Method::u_test);
  EXPECT_NEAR(*slower.ratio, 1.06, 1e-9);
  ASSERT_TRUE(slower.interval);
  EXPECT_LE(slower.interval->low, 1.06);
  EXPECT_GE(slower.interval->high, 1.06);
  EXPECT_LT(*slower.p_adjusted, 0.05);
  EXPECT_EQ(verdict(c, "gemm/a/fp32/faster").state, State::faster);
  EXPECT_EQ(verdict(c, "gemm/a/fp32/small").state, State::same);
  EXPECT_NE(verdict(c, "gemm/a/fp32/small").reason.find("threshold"), std::string::npos);
  EXPECT_EQ(verdict(c, "gemm/a/fp32/noisy").state, State::same);
  EXPECT_NE(verdict(c, "gemm/a/fp32/noisy").reason.find("noise"), std::string::npos);
  EXPECT_EQ(verdict(c, "gemm/a/fp32/one_noisy_side").state, State::slower);
  EXPECT_EQ(verdict(c, "gemm/a/fp32/overlap").state, State::same);
  EXPECT_NE(verdict(c, "gemm/a/fp32/overlap").reason.find("not significant"), std::string::npos);
  EXPECT_EQ(c.exit_code(), 1);
}

TEST(CompareDecision, BenjaminiHochbergKeepsOneLuckyPValueFromFailingTheGate) {
  // Baseline 1..10 against a current shifted so that U = 15: raw p of about 0.01, beyond the
  // threshold. Alone it is a regression; among 200 benchmarks that did not change, BH says no.
  auto make = [](size_t others) {
    compare::Input in;
    for (int i = 0; i < 10; ++i) {
      in.baseline.push_back(row("gemm/a/fp32/lucky", 1e-3 * (1 + 0.01 * i), 0.0, i));
      in.current.push_back(row("gemm/a/fp32/lucky", 1e-3 * (1 + 0.01 * i + 0.055), 0.0, i));
    }
    for (size_t k = 0; k < others; ++k) {
      const std::string name = "gemm/b/fp32/n" + std::to_string(k);
      for (int i = 0; i < 10; ++i) {
        in.baseline.push_back(row(name, 1e-3 * (1 + 0.01 * i), 0.01, i));
        in.current.push_back(row(name, 1e-3 * (1 + 0.01 * i + 0.005), 0.01, i));
      }
    }
    return in;
  };
  Options o = quiet();
  o.resamples = 0;
  const Comparison alone = compare::compare(make(0), o);
  const Verdict& a = verdict(alone, "gemm/a/fp32/lucky");
  ASSERT_EQ(a.method, Method::u_test);
  EXPECT_LT(*a.p, 0.05);
  EXPECT_GT(*a.p, 0.001);
  EXPECT_EQ(a.state, State::slower) << a.reason;

  const Comparison crowd = compare::compare(make(200), o);
  const Verdict& b = verdict(crowd, "gemm/a/fp32/lucky");
  EXPECT_EQ(b.method, Method::u_test);
  EXPECT_DOUBLE_EQ(*b.p, *a.p);
  EXPECT_GT(*b.p_adjusted, 0.05);
  EXPECT_EQ(b.state, State::same) << b.reason;
  EXPECT_EQ(crowd.exit_code(), 0);
}

TEST(CompareDecision, TooFewSamplesForTheTestUseTheNoiseRuleAndSaySo) {
  compare::Input in;
  append(in.baseline, rows("gemm/a/fp32/one", 1e-3, 1));
  append(in.current, rows("gemm/a/fp32/one", 1.08e-3, 1));
  append(in.baseline, rows("gemm/a/fp32/three", 1e-3, 3));
  append(in.current, rows("gemm/a/fp32/three", 1.08e-3, 3));
  append(in.baseline, rows("gemm/a/fp32/inside", 1e-3, 1, 0, 0.10));
  append(in.current, rows("gemm/a/fp32/inside", 1.08e-3, 1, 0, 0.10));
  const Comparison c = compare::compare(in, quiet());
  for (const char* name : {"gemm/a/fp32/one", "gemm/a/fp32/three"}) {
    const Verdict& v = verdict(c, name);
    EXPECT_EQ(v.method, Method::noise_rule) << name;
    EXPECT_EQ(v.state, State::slower) << name;
    EXPECT_FALSE(v.p);
    EXPECT_NE(v.reason.find("noise rule"), std::string::npos) << v.reason;
  }
  EXPECT_FALSE(verdict(c, "gemm/a/fp32/one").interval);  // one sample a side: no interval
  EXPECT_EQ(verdict(c, "gemm/a/fp32/inside").state, State::same);
  EXPECT_EQ(c.tested, 0u);
  EXPECT_EQ(c.compared, 3u);
  EXPECT_EQ(c.samples_for_test, 5u);  // 2 / C(10, 5) <= 0.05 / 3 < 2 / C(8, 4)
}

TEST(CompareDecision, TheTestNeedsMoreSamplesAmongMoreBenchmarks) {
  // 5 repetitions a side reach p = 0.0079 at best: enough for 1 benchmark, not for 500.
  auto with = [](size_t benchmarks, size_t reps) {
    compare::Input in;
    for (size_t k = 0; k < benchmarks; ++k) {
      append(in.baseline, rows("gemm/a/fp32/n" + std::to_string(k), 1e-3, reps));
      append(in.current, rows("gemm/a/fp32/n" + std::to_string(k), 1e-3, reps));
    }
    Options o;
    o.resamples = 0;
    return compare::compare(in, o);
  };
  EXPECT_EQ(with(1, 5).tested, 1u);
  const Comparison many = with(500, 5);
  EXPECT_EQ(many.tested, 0u);
  EXPECT_EQ(many.samples_for_test, 9u);
  EXPECT_EQ(with(500, 9).tested, 500u);
  // Several baseline files are more samples: 3 files of 3 repetitions against 9 current.
  compare::Input in;
  for (size_t file = 0; file < 3; ++file) {
    for (const ResultRow& r : rows("gemm/a/fp32/x", 1e-3, 3)) {
      ResultRow copy = r;
      copy.origin.file = file;
      in.baseline.push_back(copy);
    }
  }
  append(in.current, rows("gemm/a/fp32/x", 1.1e-3, 9));
  const Comparison pooled = compare::compare(in, quiet());
  EXPECT_EQ(pooled.verdicts[0].baseline.times_s.size(), 9u);
  EXPECT_EQ(pooled.verdicts[0].method, Method::u_test);
  EXPECT_EQ(pooled.verdicts[0].state, State::slower);
}

TEST(CompareDecision, ThresholdsPerFamilyOrBenchmark) {
  EXPECT_TRUE(compare::pattern_matches("gemm/simt", "gemm/simt/fp32/M:1"));
  EXPECT_TRUE(compare::pattern_matches("gemm/simt/", "gemm/simt/fp32/M:1"));
  EXPECT_TRUE(compare::pattern_matches("gemm/simt/fp32/M:1", "gemm/simt/fp32/M:1"));
  EXPECT_FALSE(compare::pattern_matches("gemm/simt", "gemm/simt2/fp32/M:1"));
  EXPECT_TRUE(compare::pattern_matches("gemm/*/fp8/*", "gemm/wgmma_sm90/fp8/M:1"));
  EXPECT_FALSE(compare::pattern_matches("gemm/*/fp8/*", "gemm/wgmma_sm90/bf16/M:1"));
  EXPECT_TRUE(compare::pattern_matches("*M:4096*", "gemm/x/bf16/M:4096/N:1"));
  EXPECT_TRUE(compare::pattern_matches("gemm/???t/*", "gemm/simt/fp32"));

  Options o;
  o.thresholds = {compare::parse_threshold_rule("gemm=4"), compare::parse_threshold_rule("gemm/simt=10"),
                  compare::parse_threshold_rule("gemm/*/fp8/*=1.5")};
  EXPECT_DOUBLE_EQ(compare::threshold_for("gemm/simt/fp32/M:1", o), 0.10);  // the longest pattern
  EXPECT_DOUBLE_EQ(compare::threshold_for("gemm/cublas/fp32/M:1", o), 0.04);
  EXPECT_DOUBLE_EQ(compare::threshold_for("gemm/cublaslt/fp8/M:1", o), 0.015);
  EXPECT_DOUBLE_EQ(compare::threshold_for("attention/x/bf16", o), 0.03);
  for (const char* bad : {"gemm", "=5", "gemm=", "gemm=x", "gemm=-1", "gemm=5%"}) {
    EXPECT_THROW(compare::parse_threshold_rule(bad), InputError) << bad;
  }

  compare::Input in;
  append(in.baseline, rows("gemm/simt/fp32/M:1", 1e-3, 10));
  append(in.current, rows("gemm/simt/fp32/M:1", 1.06e-3, 10));
  append(in.baseline, rows("gemm/cublas/fp32/M:1", 1e-3, 10));
  append(in.current, rows("gemm/cublas/fp32/M:1", 1.06e-3, 10));
  const Comparison c = compare::compare(in, o);
  EXPECT_EQ(verdict(c, "gemm/simt/fp32/M:1").state, State::same);
  EXPECT_DOUBLE_EQ(verdict(c, "gemm/simt/fp32/M:1").threshold, 0.10);
  EXPECT_EQ(verdict(c, "gemm/cublas/fp32/M:1").state, State::slower);
}

// A slowdown with 10 repetitions a side, the given environment per side and telemetry per row.
compare::Input slowdown_with(const std::map<std::string, std::string>& before,
                             const std::map<std::string, std::string>& after, double clock_before = 1980,
                             double clock_after = 1980, double temp_before = 60, double temp_after = 60,
                             std::vector<std::string> throttle_after = {}, double power_after = 600) {
  compare::Input in;
  for (ResultRow r : rows("gemm/a/bf16/M:1", 1e-3, 10)) {
    r.sm_clock_mhz = clock_before;
    r.temp_c = temp_before;
    r.power_w = 600;
    r.origin.file = 0;
    in.baseline.push_back(r);
  }
  for (ResultRow r : rows("gemm/a/bf16/M:1", 1.08e-3, 10)) {
    r.sm_clock_mhz = clock_after;
    r.temp_c = temp_after;
    r.power_w = power_after;
    r.throttle_reasons = throttle_after;
    r.origin.file = 0;
    in.current.push_back(r);
  }
  in.baseline_environment = {before};
  in.current_environment = {after};
  return in;
}

TEST(CompareEnvironment, ASlowdownOnAChangedMachineIsLabelledNotBlamedOnTheCode) {
  const std::map<std::string, std::string> env{{"versions.driver", "570.1"}, {"gpu.uuid", "GPU-1"}};
  std::map<std::string, std::string> new_driver = env;
  new_driver["versions.driver"] = "575.2";

  const Comparison same_machine = compare::compare(slowdown_with(env, env), quiet());
  EXPECT_EQ(same_machine.verdicts[0].state, State::slower);

  const Comparison driver = compare::compare(slowdown_with(env, new_driver, 1980, 1822), quiet());
  const Verdict& v = driver.verdicts[0];
  EXPECT_EQ(v.state, State::environment_changed);
  EXPECT_EQ(v.reason.rfind("environment changed: driver 570.1 -> 575.2, SM clock -8.0 %", 0), 0u) << v.reason;
  EXPECT_EQ(driver.exit_code(), 0) << "an environment change alone does not fail the gate";
  ASSERT_EQ(driver.environment.size(), 1u);
  EXPECT_EQ(driver.environment[0].what, "driver 570.1 -> 575.2");
  Options strict = quiet();
  strict.fail_on_environment = true;
  EXPECT_EQ(compare::compare(slowdown_with(env, new_driver), strict).exit_code(), 1);

  // Machine state per benchmark, on the same software.
  EXPECT_EQ(compare::compare(slowdown_with(env, env, 1980, 1900), quiet()).verdicts[0].state,
            State::environment_changed);  // clock -4 %
  EXPECT_EQ(compare::compare(slowdown_with(env, env, 1980, 1950), quiet()).verdicts[0].state,
            State::slower);  // clock -1.5 %: within the rule
  const Comparison hot = compare::compare(slowdown_with(env, env, 1980, 1980, 60, 71), quiet());
  EXPECT_EQ(hot.verdicts[0].state, State::environment_changed);
  EXPECT_NE(hot.verdicts[0].reason.find("temperature +11 C"), std::string::npos) << hot.verdicts[0].reason;
  EXPECT_EQ(compare::compare(slowdown_with(env, env, 1980, 1980, 60, 64), quiet()).verdicts[0].state, State::slower);
  const Comparison throttled =
      compare::compare(slowdown_with(env, env, 1980, 1980, 60, 60, {"sw_thermal_slowdown"}), quiet());
  EXPECT_EQ(throttled.verdicts[0].state, State::environment_changed);
  EXPECT_NE(throttled.verdicts[0].reason.find("new throttle reasons: sw_thermal_slowdown"), std::string::npos);
  std::map<std::string, std::string> other_gpu = env;
  other_gpu["gpu.uuid"] = "GPU-2";
  EXPECT_EQ(compare::compare(slowdown_with(env, other_gpu), quiet()).verdicts[0].state, State::environment_changed);
  std::map<std::string, std::string> capped = env;
  capped["gpu.power_limit_w"] = "500";
  EXPECT_EQ(compare::compare(slowdown_with(env, capped), quiet()).verdicts[0].state, State::environment_changed);

  // Slower code draws less power: power drawn alone is shown, never decisive.
  const Comparison power = compare::compare(slowdown_with(env, env, 1980, 1980, 60, 60, {}, 480), quiet());
  EXPECT_EQ(power.verdicts[0].state, State::slower);
  ASSERT_EQ(power.verdicts[0].environment.size(), 1u);
  EXPECT_FALSE(power.verdicts[0].environment[0].decisive);
  EXPECT_NE(power.verdicts[0].environment[0].what.find("power drawn -20.0 %"), std::string::npos);
}

TEST(CompareEnvironment, DevicesArePairedByModelWhenASideHoldsSeveral) {
  auto on = [](std::vector<ResultRow> rs, const std::string& device, size_t file) {
    for (ResultRow& r : rs) {
      r.origin.device_name = device;
      r.origin.file = file;
    }
    return rs;
  };
  compare::Input in;
  append(in.baseline, on(rows("gemm/a/bf16/M:1", 1e-3, 3), "H100", 0));
  append(in.baseline, on(rows("gemm/a/bf16/M:1", 2e-3, 3), "H200", 1));
  append(in.current, on(rows("gemm/a/bf16/M:1", 1e-3, 3), "H100", 0));
  const Comparison c = compare::compare(in, quiet());
  EXPECT_TRUE(c.pair_by_device);
  ASSERT_EQ(c.verdicts.size(), 2u);
  EXPECT_EQ(c.count(State::same), 1u);
  EXPECT_EQ(c.count(State::gone), 1u);

  // One model a side, a different one: paired by name, and every slowdown is the machine's.
  compare::Input swap;
  append(swap.baseline, on(rows("gemm/a/bf16/M:1", 1e-3, 3), "H100", 0));
  append(swap.current, on(rows("gemm/a/bf16/M:1", 1.5e-3, 3), "H200", 0));
  const Comparison s = compare::compare(swap, quiet());
  EXPECT_FALSE(s.pair_by_device);
  ASSERT_EQ(s.verdicts.size(), 1u);
  EXPECT_EQ(s.verdicts[0].state, State::environment_changed);
  EXPECT_NE(s.verdicts[0].reason.find("device H100 -> H200"), std::string::npos) << s.verdicts[0].reason;
}

TEST(CompareDecision, SameInputSameVerdictsWhateverTheOrder) {
  compare::Input in;
  for (int k = 0; k < 20; ++k) {
    append(in.baseline, rows("gemm/a/fp32/n" + std::to_string(k), 1e-3, 4, 0.01));
    append(in.current, rows("gemm/a/fp32/n" + std::to_string(k), (1 + 0.01 * k) * 1e-3, 4, 0.01));
  }
  const nlohmann::json first = compare::to_json(compare::compare(in, Options{}));
  std::reverse(in.baseline.begin(), in.baseline.end());
  std::reverse(in.current.begin(), in.current.end());
  EXPECT_EQ(compare::to_json(compare::compare(in, Options{})).dump(), first.dump());
}

// ---------------------------------------------------------------------------------------------
// Rendering (structure and escaping only: the decisions are tested above)
// ---------------------------------------------------------------------------------------------

TEST(CompareRender, MarkdownHtmlJsonJunitCarryTheVerdicts) {
  compare::Input in = slowdown_with({{"versions.driver", "570.1"}}, {{"versions.driver", "575.2"}});
  for (std::vector<ResultRow>* side : {&in.baseline, &in.current}) {
    for (ResultRow r : rows("gemm/b/fp32/x|y", side == &in.baseline ? 1e-3 : 1.2e-3, 10)) {
      r.origin.file = 1;  // a second file a side, on the same driver
      side->push_back(r);
    }
  }
  in.baseline_environment.push_back({{"versions.driver", "570.1"}});
  in.current_environment.push_back({{"versions.driver", "570.1"}});
  in.current.push_back(row("gemm/c/fp32/<script>alert(1)</script>", 0, 0, 1, kStatusFailed));
  in.current.back().reason = "bad \x01 byte & <tag> \"quoted\"";
  in.baseline.push_back(row("gemm/d/fp32/gone", 1e-3, 0.01, 1));
  const Comparison c = compare::compare(in, quiet());

  const std::string md = compare::render_markdown(c);
  EXPECT_EQ(md.rfind("# aicbench compare: FAIL (1 SLOWER, 1 NOW FAILING)", 0), 0u) << md;
  EXPECT_LT(md.find("| SLOWER | 1 |"), md.find("## Benchmarks"));
  EXPECT_NE(md.find("gemm/b/fp32/x\\|y"), std::string::npos);
  EXPECT_NE(md.find("Slower, with a changed environment (1)"), std::string::npos);
  for (size_t at = md.find('<'); at != std::string::npos; at = md.find('<', at + 1)) {
    EXPECT_EQ(md[at - 1], '\\') << "an unescaped < in the Markdown: " << md.substr(at, 20);
  }
  EXPECT_NE(md.find("\\<script>"), std::string::npos);

  const std::string html = compare::render_html(c);
  EXPECT_EQ(html.find("<script>"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;"), std::string::npos);
  EXPECT_EQ(html.find('\x01'), std::string::npos);
  EXPECT_EQ(html.find("http"), std::string::npos) << "self-contained";
  EXPECT_NE(html.find("class=\"environment-changed\""), std::string::npos);

  const nlohmann::json j = compare::to_json(c);
  EXPECT_EQ(j["passed"], false);
  EXPECT_EQ(j["exit_code"], 1);
  EXPECT_EQ(j["counts"]["SLOWER"], 1);
  EXPECT_EQ(j["counts"]["ENVIRONMENT CHANGED"], 1);
  EXPECT_EQ(j["benchmarks"][0]["state"], "NOW FAILING");
  EXPECT_EQ(j["benchmarks"][1]["state"], "SLOWER");
  EXPECT_EQ(j["benchmarks"][1]["method"], "U test");
  EXPECT_TRUE(j["benchmarks"][1]["interval"].is_array());

  const std::string xml = compare::render_junit(c);
  EXPECT_NE(xml.find("tests=\"4\" failures=\"2\" errors=\"0\" skipped=\"1\""), std::string::npos) << xml;
  EXPECT_EQ(xml.find('\x01'), std::string::npos);
  EXPECT_EQ(xml.find("<script>"), std::string::npos);
  EXPECT_NE(xml.find("&quot;quoted&quot;"), std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// The gate's own error rates, by simulation
// ---------------------------------------------------------------------------------------------

struct Simulation {
  size_t benchmarks = 500;
  size_t reps = 3;
  size_t baseline_reps = 0;     // 0: as many as `reps`; more: several baseline nights pooled
  double noise = 0.01;          // log-normal sigma of a repetition's median time
  double outliers = 0.01;       // share of repetitions that come out 5-50 % slow
  double regression = 0;        // planted slowdown
  size_t planted_every = 10;    // every 10th benchmark carries it
  uint64_t seed = 1;
};

struct Rates {
  size_t false_alarms = 0;      // SLOWER or FASTER where nothing was planted
  size_t false_slower = 0;      // of which SLOWER: what fails the gate
  size_t failed_gates = 0;      // simulated nights whose gate failed on a benchmark that did not change
  size_t planted = 0, caught = 0;
  size_t raw_u_alarms = 0;      // U test p < 0.05 per benchmark, no BH, no threshold (reps >= 2)
  size_t tested = 0;
};

Rates simulate(const Simulation& s) {
  stats::SplitMix64 rng(s.seed);
  compare::Input in;
  std::vector<bool> planted(s.benchmarks);
  for (size_t k = 0; k < s.benchmarks; ++k) {
    const std::string name = "sim/impl/fp32/n:" + std::to_string(k);
    const double t0 = 1e-3 * std::exp(6.0 * rng.uniform() - 3.0);  // 50 us .. 20 ms
    planted[k] = s.regression > 0 && k % s.planted_every == 0;
    for (int side = 0; side < 2; ++side) {
      const size_t n = side == 0 && s.baseline_reps ? s.baseline_reps : s.reps;
      for (size_t r = 0; r < n; ++r) {
        double t = t0 * std::exp(s.noise * rng.normal());
        if (rng.uniform() < s.outliers) t *= 1.05 + 0.45 * rng.uniform();
        if (side == 1 && planted[k]) t *= 1 + s.regression;
        ResultRow row;
        row.name = name;
        row.family = "sim";
        row.mode = "cold";
        row.status = kStatusOk;
        row.origin.file = r;
        row.median_s = t;
        row.rel_stddev = s.noise * (0.5 + rng.uniform());  // the run's own sample noise
        (side ? in.current : in.baseline).push_back(row);
      }
    }
  }
  Options o;
  o.resamples = 0;
  const Comparison c = compare::compare(in, o);
  Rates rates;
  rates.tested = c.tested;
  for (const Verdict& v : c.verdicts) {
    const size_t k = std::stoul(v.name.substr(v.name.rfind(':') + 1));
    const bool changed = v.state == State::slower || v.state == State::faster;
    if (planted[k]) {
      ++rates.planted;
      if (v.state == State::slower) ++rates.caught;
    } else if (changed) {
      ++rates.false_alarms;
      if (v.state == State::slower) ++rates.false_slower;
    }
    if (!planted[k] && v.baseline.times_s.size() >= 2 && stats::mann_whitney_u(v.current.times_s, v.baseline.times_s).p < 0.05) {
      ++rates.raw_u_alarms;
    }
  }
  rates.failed_gates = rates.false_slower > 0;
  return rates;
}

// Sums over `trials` independent simulations (seeds 1..trials).
Rates simulate_trials(Simulation s, int trials) {
  Rates total;
  for (int t = 1; t <= trials; ++t) {
    s.seed = static_cast<uint64_t>(t) * 7919;
    const Rates r = simulate(s);
    total.false_alarms += r.false_alarms;
    total.false_slower += r.false_slower;
    total.failed_gates += r.failed_gates;
    total.planted += r.planted;
    total.caught += r.caught;
    total.raw_u_alarms += r.raw_u_alarms;
    total.tested += r.tested;
  }
  return total;
}

constexpr int kTrials = 10;
constexpr int kPlantedTrials = 4;

TEST(CompareErrorRates, AAComparisonsRaiseAlmostNoAlarm) {
  // 500 benchmarks, nothing changed, 1 % outlier repetitions; each trial is one simulated night.
  std::printf("A/A, 500 benchmarks, %d nights, 1 %% outlier repetitions, threshold 3 %%:\n", kTrials);
  std::printf("  noise  reps  method      SLOWER+FASTER/night  SLOWER/night  nights failed  raw U p<.05/night\n");
  for (double noise : {0.01, 0.02}) {
    for (size_t reps : {1, 3, 5, 10, 20}) {
      Simulation s;
      s.reps = reps;
      s.noise = noise;
      const Rates r = simulate_trials(s, kTrials);
      std::printf("  %4.0f%%  %4zu  %-10s  %19.2f  %12.2f  %8zu of %d  %17.1f\n", 100 * noise, reps,
                  r.tested ? "U test" : "noise rule", double(r.false_alarms) / kTrials,
                  double(r.false_slower) / kTrials, r.failed_gates, kTrials, double(r.raw_u_alarms) / kTrials);
      if (noise == 0.01 && reps >= 3) {
        EXPECT_LE(r.false_alarms, size_t(2 * kTrials)) << reps << " reps";
      }
      if (reps >= 10) {  // the U test with BH: no false alarm at all in these nights
        EXPECT_EQ(r.false_alarms, 0u) << reps << " reps, noise " << noise;
        EXPECT_EQ(r.tested, 500u * kTrials);
      }
    }
  }
}

TEST(CompareErrorRates, PlantedFivePercentRegressionsAreCaught) {
  std::printf("planted slowdowns in 50 of 500 benchmarks, %d nights, 1 %% outlier repetitions:\n", kPlantedTrials);
  std::printf("  slowdown  noise  reps  caught    false alarms/night\n");
  for (double regression : {0.05, 0.10}) {
    for (double noise : {0.01, 0.02}) {
      for (size_t reps : {1, 3, 5, 10, 20}) {
        Simulation s;
        s.reps = reps;
        s.noise = noise;
        s.regression = regression;
        const Rates r = simulate_trials(s, kPlantedTrials);
        const double caught = double(r.caught) / r.planted;
        std::printf("  %7.0f%%  %4.0f%%  %4zu  %5.1f %%  %18.2f\n", 100 * regression, 100 * noise, reps,
                    100 * caught, double(r.false_alarms) / kPlantedTrials);
        if (regression == 0.05 && noise == 0.01 && reps >= 3) {
          EXPECT_GE(caught, 0.9) << reps << " reps";
        }
        if (regression == 0.05 && noise == 0.01 && reps >= 10) {
          EXPECT_GE(caught, 0.99) << reps << " reps";
        }
      }
    }
  }
}

TEST(CompareErrorRates, APooledBaselineOfSeveralNightsNeedsFewerCurrentRepetitions) {
  // `history baseline` pools past nights: 5 nights of 3 repetitions against tonight's few.
  std::printf("baseline pooled from earlier nights, 500 benchmarks, 1 %% noise, 1 %% outliers:\n");
  std::printf("  baseline  current  method      A/A SLOWER+FASTER/night  nights failed  5 %% caught\n");
  for (auto [baseline, current] : {std::pair<size_t, size_t>{15, 3}, {15, 5}, {15, 6}, {30, 4}}) {
    Simulation s;
    s.baseline_reps = baseline;
    s.reps = current;
    const Rates aa = simulate_trials(s, kTrials);
    s.regression = 0.05;
    const Rates planted = simulate_trials(s, kPlantedTrials);
    std::printf("  %8zu  %7zu  %-10s  %23.2f  %8zu of %d  %9.1f %%\n", baseline, current,
                aa.tested ? "U test" : "noise rule", double(aa.false_alarms) / kTrials, aa.failed_gates, kTrials,
                100.0 * planted.caught / planted.planted);
    if (aa.tested) {
      EXPECT_EQ(aa.false_alarms, 0u);
      EXPECT_GE(double(planted.caught) / planted.planted, 0.97);
    }
  }
}

}  // namespace
}  // namespace aicbench
