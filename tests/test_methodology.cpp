// The measurement methodology on the CPU: statistics and the stopping rule against synthetic
// sample streams, the warm-up and throttle guard against a fake clock, telemetry against a fake
// NVML, and NVML missing.
#include <cmath>
#include <deque>
#include <random>

#include <gtest/gtest.h>

#include "harness/measurement.hpp"
#include "harness/statistics.hpp"
#include "harness/telemetry.hpp"

namespace aicbench {
namespace {

// ---- statistics ------------------------------------------------------------------------------

TEST(Statistics, QuartilesAndSpread) {
  std::vector<double> s = {5, 1, 4, 2, 3};
  SampleStats st = summarize(s);
  EXPECT_EQ(st.count, 5);
  EXPECT_DOUBLE_EQ(st.median, 3);
  EXPECT_DOUBLE_EQ(st.q1, 2);
  EXPECT_DOUBLE_EQ(st.q3, 4);
  EXPECT_DOUBLE_EQ(st.min, 1);
  EXPECT_DOUBLE_EQ(st.max, 5);
  EXPECT_DOUBLE_EQ(st.mean, 3);
  EXPECT_NEAR(st.rel_stddev, std::sqrt(2.5) / 3, 1e-12);
  std::vector<double> even = {1, 2, 3, 4};
  EXPECT_DOUBLE_EQ(summarize(even).median, 2.5);
  EXPECT_DOUBLE_EQ(summarize(even).q1, 1.75);
}

// Feeds a stream of samples (each also advancing a fake wall clock by its length plus a fixed
// overhead) until the criterion stops; returns it.
template <typename Next>
StoppingCriterion run_stream(StoppingRule rule, Next next, int max = 1000000) {
  StoppingCriterion c(rule);
  double wall = 0;
  for (int i = 0; i < max; ++i) {
    double s = next(i);
    wall += s + 1e-4;
    if (c.add(s, wall)) break;
  }
  return c;
}

TEST(StoppingRule, SteadyStreamStopsAtTheMinimumsAndIsStable) {
  std::mt19937 rng(1);
  std::normal_distribution<double> noise(0, 0.001);  // 0.1 % noise
  auto c = run_stream({}, [&](int) { return 0.01 * (1 + noise(rng)); });
  EXPECT_EQ(c.reason(), StoppingCriterion::Reason::converged_below_target);
  EXPECT_NEAR(double(c.samples().size()), 50, 2) << "0.5 s of 10 ms samples";
  EXPECT_FALSE(c.unstable());
  EXPECT_FALSE(c.timed_out());
}

TEST(StoppingRule, LongSamplesStillNeedTenOfThem) {
  auto c = run_stream({}, [](int) { return 1.0; });
  EXPECT_EQ(c.samples().size(), 10u);
  EXPECT_FALSE(c.unstable());
}

TEST(StoppingRule, NoisyStreamStopsWhenTheNoiseEstimateSettlesAndIsFlagged) {
  std::mt19937 rng(2);
  std::normal_distribution<double> noise(0, 0.03);  // 3 % noise: never under 0.5 %
  auto c = run_stream({}, [&](int) { return 0.01 * (1 + noise(rng)); });
  EXPECT_EQ(c.reason(), StoppingCriterion::Reason::noise_stopped_changing);
  EXPECT_TRUE(c.unstable());
  EXPECT_NEAR(c.current_noise(), 0.03, 0.012);
  EXPECT_LT(c.samples().size(), 1500u) << "stops long before the 15 s timeout";
}

TEST(StoppingRule, DriftingStreamRunsToTheTimeoutAndIsFlagged) {
  // A device that keeps slowing down (heating up): the spread keeps growing, never settles.
  auto c = run_stream({}, [](int i) { return 0.01 * std::exp(i * 2e-3); });
  EXPECT_TRUE(c.timed_out());
  EXPECT_TRUE(c.unstable());
}

TEST(StoppingRule, BimodalStreamIsFlaggedUnstable) {
  std::mt19937 rng(3);
  std::bernoulli_distribution coin(0.5);
  auto c = run_stream({}, [&](int) { return coin(rng) ? 0.010 : 0.013; });
  EXPECT_TRUE(c.unstable());
  EXPECT_FALSE(c.timed_out());
  SampleStats st = summarize(c.samples());
  EXPECT_DOUBLE_EQ(st.min, 0.010);
  EXPECT_DOUBLE_EQ(st.max, 0.013);
}

TEST(StoppingRule, DefaultsAndOverrides) {
  StoppingRule defaults;
  EXPECT_EQ(defaults.min_samples, 10);
  EXPECT_DOUBLE_EQ(defaults.min_time_s, 0.5);
  EXPECT_DOUBLE_EQ(defaults.max_noise, 0.005);
  EXPECT_DOUBLE_EQ(defaults.timeout_s, 15.0);
  StoppingRule quick{3, 0.0001, 0.5, 1.0};
  auto c = run_stream(quick, [](int i) { return 0.001 * (1 + 0.1 * (i % 2)); });
  EXPECT_EQ(c.samples().size(), 3u);
}

// ---- measure(): warm-up, throttle guard, hot batches, on a fake clock ---------------------------

class FakeSampler : public Sampler {
 public:
  double now = 0;
  std::deque<std::optional<double>> clocks;  // clock fraction reported after each sample
  std::optional<double> steady_clock_after;  // once the queue is empty
  double run_seconds = 0.01;
  int batch = 1, samples_taken = 0;
  double sample() override {
    ++samples_taken;
    now += run_seconds * batch;
    return run_seconds;
  }
  void set_batch(int runs) override { batch = runs; }
  std::optional<double> clock_fraction() override {
    if (clocks.empty()) return steady_clock_after;
    auto c = clocks.front();
    clocks.pop_front();
    return c;
  }
};

MeasureHooks fake_hooks(FakeSampler& s, double* slept) {
  return {[&s] { return s.now; }, [&s, slept](double t) { s.now += t; *slept += t; }, nullptr};
}

TEST(Measure, ThrottledSamplesAreDiscardedAndCounted) {
  FakeSampler s;
  // Warm-up sees three settled readings at full clock; then two samples at 60 % are thrown away.
  s.clocks = {1.0, 1.0, 1.0, 0.6, 0.6};
  s.steady_clock_after = 0.98;
  double slept = 0;
  MeasureConfig config;
  Measurement m = measure(s, config, fake_hooks(s, &slept));
  EXPECT_EQ(m.discarded_throttled, 2);
  EXPECT_DOUBLE_EQ(slept, 2 * config.throttle_backoff_s);
  EXPECT_EQ(m.stats.count, 50);
  EXPECT_FALSE(m.unstable);
  EXPECT_EQ(m.to_json()["discarded_throttled"], 2);
}

TEST(Measure, WarmUpWaitsForTheClockToSettle) {
  FakeSampler s;
  s.clocks = {0.4, 0.6, 0.8, 0.95, 1.0, 1.0, 1.0};  // boosting up
  s.steady_clock_after = 1.0;
  double slept = 0;
  Measurement m = measure(s, MeasureConfig{}, fake_hooks(s, &slept));
  EXPECT_GE(m.warmup_runs, 7);
  EXPECT_EQ(m.discarded_throttled, 0);
}

TEST(Measure, WithoutAClockWarmUpIsShortAndNothingIsDiscarded) {
  FakeSampler s;  // no telemetry: clock_fraction() is always nullopt
  double slept = 0;
  Measurement m = measure(s, MeasureConfig{}, fake_hooks(s, &slept));
  EXPECT_EQ(m.warmup_runs, 3);
  EXPECT_EQ(m.discarded_throttled, 0);
  EXPECT_EQ(m.mode, MeasureMode::cold);
  EXPECT_EQ(m.batch, 1);
}

TEST(Measure, PermanentThrottlingEndsAtTheTimeoutFlagged) {
  FakeSampler s;
  s.steady_clock_after = 0.5;
  double slept = 0;
  MeasureConfig config;
  config.warmup_max_s = 0.1;
  Measurement m = measure(s, config, fake_hooks(s, &slept));
  EXPECT_TRUE(m.timed_out());
  EXPECT_TRUE(m.unstable);
  EXPECT_GT(m.discarded_throttled, 100);
}

TEST(Measure, HotModeBatchesShortRuns) {
  FakeSampler s;
  s.run_seconds = 1e-5;
  double slept = 0;
  MeasureConfig config;
  config.mode = MeasureMode::hot;
  Measurement m = measure(s, config, fake_hooks(s, &slept));
  EXPECT_EQ(m.batch, 100) << "2 ms / 10 us = 200, capped at 100";
  EXPECT_EQ(s.batch, 100);
  EXPECT_DOUBLE_EQ(m.stats.median, 1e-5);
  EXPECT_EQ(m.to_json()["mode"], "hot");
}

// ---- telemetry -------------------------------------------------------------------------------

class FakeNvml : public TelemetrySource {
 public:
  double t = 0;
  bool energy_counter = true;
  TelemetryReading read() override {
    TelemetryReading r;
    r.time_s = t;
    r.sm_clock_mhz = 1980;
    r.mem_clock_mhz = 2619;
    r.power_w = 500;
    r.temp_c = 60 + t;
    if (energy_counter) r.energy_j = 1000 + 500 * t;
    r.throttle_reasons = t > 1 ? 0x4 : 0x1;  // idle at first, then software power cap
    t += 0.5;
    return r;
  }
  std::optional<double> max_sm_clock_mhz() override { return 1980; }
  std::optional<double> power_limit_w() override { return 700; }
  std::string clock_policy() override { return "default boost"; }
};

TEST(Telemetry, SummaryUsesTheEnergyCounter) {
  FakeNvml nvml;
  std::vector<TelemetryReading> readings;
  for (int i = 0; i < 5; ++i) readings.push_back(nvml.read());  // t = 0 .. 2 s
  TelemetrySummary s = summarize(readings);
  EXPECT_EQ(s.readings, 5);
  EXPECT_DOUBLE_EQ(*s.energy_j, 1000.0);  // 500 W for 2 s
  EXPECT_EQ(s.energy_source, "energy_counter");
  EXPECT_DOUBLE_EQ(*s.power_w, 500);
  EXPECT_DOUBLE_EQ(*s.temp_c, 62);  // the maximum
  EXPECT_EQ(throttle_reason_names(s.throttle_reasons), std::vector<std::string>{"sw_power_cap"})
      << "idle is not a throttle reason";
}

TEST(Telemetry, WithoutAnEnergyCounterPowerIsIntegrated) {
  FakeNvml nvml;
  nvml.energy_counter = false;
  std::vector<TelemetryReading> readings;
  for (int i = 0; i < 5; ++i) readings.push_back(nvml.read());
  TelemetrySummary s = summarize(readings);
  EXPECT_DOUBLE_EQ(*s.energy_j, 1000.0);
  EXPECT_EQ(s.energy_source, "power_integration");
  auto j = s.to_json();
  EXPECT_EQ(j["energy_source"], "power_integration");
}

TEST(Telemetry, ThrottleReasonNames) {
  EXPECT_EQ(throttle_reason_names(0x4 | 0x40),
            (std::vector<std::string>{"sw_power_cap", "hw_thermal_slowdown"}));
  EXPECT_EQ(throttle_reason_names(0x1000).front(), "other(0x1000)");
  EXPECT_TRUE(throttle_reason_names(0).empty());
}

TEST(Telemetry, SamplerReadsInTheBackground) {
  FakeNvml nvml;
  TelemetrySampler sampler(nvml, std::chrono::milliseconds(1));
  sampler.start();
  // Wait for the first reading (at most 2 s: a loaded CI machine may be slow to schedule the
  // sampler's thread), then give it time for a few more.
  for (int waited_ms = 0; !sampler.latest() && waited_ms < 2000; ++waited_ms) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_TRUE(sampler.latest().has_value());
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  auto readings = sampler.stop();
  EXPECT_GE(readings.size(), 3u);
  for (size_t i = 1; i < readings.size(); ++i) EXPECT_GT(readings[i].time_s, readings[i - 1].time_s);
}

TEST(Telemetry, MissingNvmlIsReportedNotFatal) {
  std::string why;
  auto nvml = open_nvml("0000:00:00.0", &why, "libnvidia-ml-that-does-not-exist.so.1");
  EXPECT_EQ(nvml, nullptr);
  EXPECT_NE(why.find("NVML not available"), std::string::npos) << why;
}

}  // namespace
}  // namespace aicbench
