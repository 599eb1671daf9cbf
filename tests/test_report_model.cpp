// What the report decides, tested on its structures (no output text parsed): rows with
// repetitions in both aggregate forms, times in any unit, run labels, the CPU methodology line,
// the view for many runs and the distributions across runs.

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "reports/report_model.hpp"
#include "tests/report_fixtures.hpp"

namespace {

using namespace aicbench::testing;
using aicbench::ResultFile;
using aicbench::reports::report_rows;
using aicbench::reports::ReportRow;
using aicbench::reports::status_text;

// Rows point into their files, so both are kept together.
struct Loaded {
  std::vector<ResultFile> files;
  std::vector<ReportRow> rows;
};
Loaded rows_of(std::vector<ResultFile> files) {
  Loaded loaded{std::move(files), {}};
  loaded.rows = report_rows(loaded.files);
  return loaded;
}

const std::vector<Repetition> kThreeRepetitions = {{1.0, 0.004, 30, false}, {1.2, 0.020, 50, true}, {1.1, 0.003, 20, false}};

// ---------------------------------------------------------------------------------------------
// Repetitions: the median aggregate, with noise, samples and stability from its repetitions
// ---------------------------------------------------------------------------------------------

void expect_folded_repetitions(const std::vector<ReportRow>& rows) {
  ASSERT_EQ(rows.size(), 1u) << "repetitions and aggregates fold into one row";
  const ReportRow& row = rows[0];
  EXPECT_EQ(row.name, "gemm/cublas/fp32/M:1024/N:1024/K:1024");
  EXPECT_EQ(row.entry->at("aggregate_name"), "median");
  ASSERT_TRUE(row.time_s);
  EXPECT_DOUBLE_EQ(*row.time_s, 1.1e-3);
  EXPECT_EQ(row.repetitions, 3);
  ASSERT_TRUE(row.samples);
  EXPECT_DOUBLE_EQ(*row.samples, 100);  // all repetitions' samples
  ASSERT_TRUE(row.noise);
  EXPECT_DOUBLE_EQ(*row.noise, 0.020);  // the noisiest repetition
  ASSERT_TRUE(row.repetition_cv);
  EXPECT_DOUBLE_EQ(*row.repetition_cv, 0.09);
  ASSERT_TRUE(row.q1_s && row.q3_s);
  EXPECT_DOUBLE_EQ(*row.q1_s, 0.98e-3);  // the widest quartiles over the repetitions
  EXPECT_DOUBLE_EQ(*row.q3_s, 1.2 * 1.03e-3);
  EXPECT_TRUE(row.unstable);
  EXPECT_EQ(row.unstable_repetitions, 1);
  EXPECT_NE(status_text(row), "ok");
  EXPECT_NE(status_text(row).find("UNSTABLE: 1 of 3 repetitions noisy"), std::string::npos) << status_text(row);
}

TEST(ReportRows, RepetitionsWithAggregatesUnderTheBenchmarkName) {
  auto file = in_memory("old.json", result(provenance(true), repeated(gemm("cublas", "fp32", 1024, 5.0), kThreeRepetitions, 1.1, 0.09, false)));
  expect_folded_repetitions(rows_of({file}).rows);
}

TEST(ReportRows, RepetitionsWithGoogleBenchmarkAggregateNames) {
  auto file = in_memory("gbench.json", result(provenance(true), repeated(gemm("cublas", "fp32", 1024, 5.0), kThreeRepetitions, 1.1, 0.09, true)));
  expect_folded_repetitions(rows_of({file}).rows);
}

TEST(ReportRows, AggregateNamesWithoutRunNameStillFold) {
  auto entries = repeated(gemm("cublas", "fp32", 1024, 5.0), kThreeRepetitions, 1.1, 0.09, true);
  for (auto& e : entries) e.erase("run_name");
  expect_folded_repetitions(rows_of({in_memory("no-run-name.json", result(provenance(true), entries))}).rows);
}

TEST(ReportRows, TheRunnersRepetitionsSummaryOnTheAggregateIsRead) {
  // As the runner writes format 2: the aggregate carries aicbench.repetitions; here the
  // repetition rows are left out, so only the summary can give the numbers.
  std::vector<json> entries;
  for (json e : repeated(gemm("cublas", "fp32", 1024, 5.0), kThreeRepetitions, 1.1, 0.09, true)) {
    if (e["run_type"] != "aggregate") continue;
    e["aicbench"]["repetitions"] = {{"count", 3}, {"measured", 3}, {"unstable", 2}, {"timed_out", 1}, {"samples", 90},
                                    {"discarded_throttled", 4}, {"max_rel_stddev", 0.031}};
    e["aicbench"]["unstable"] = true;
    entries.push_back(e);
  }
  auto loaded = rows_of({unchecked("summary.json", result(provenance(true), entries))});
  ASSERT_EQ(loaded.rows.size(), 1u);
  const ReportRow& row = loaded.rows[0];
  EXPECT_EQ(row.repetitions, 3);
  EXPECT_EQ(row.unstable_repetitions, 2);
  EXPECT_DOUBLE_EQ(*row.samples, 90);
  EXPECT_DOUBLE_EQ(*row.noise, 0.031);
  EXPECT_TRUE(row.timed_out);
  EXPECT_EQ(status_text(row), "ok, UNSTABLE: 2 of 3 repetitions noisy, timed out; 4 throttled samples discarded");
}

TEST(ReportRows, UnstableFlagOnTheAggregateIsNeverPlainOk) {
  // No repetition flagged, but the run flagged the benchmark (the aggregate's own aicbench.unstable).
  const std::vector<Repetition> steady = {{1.0, 0.001, 30, false}, {1.0, 0.001, 30, false}, {1.0, 0.001, 30, false}};
  auto file = in_memory("flag.json", result(provenance(true), repeated(gemm("cublas", "fp32", 1024, 5.0), steady, 1.0, 0.001, true, true)));
  auto loaded = rows_of({file});
  const auto& rows = loaded.rows;
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_TRUE(rows[0].unstable);
  EXPECT_EQ(status_text(rows[0]), "ok, UNSTABLE: flagged by the run");
}

TEST(ReportRows, SteadyRepetitionsAreOk) {
  const std::vector<Repetition> steady = {{1.0, 0.001, 30, false}, {1.0, 0.001, 30, false}};
  auto file = in_memory("steady.json", result(provenance(true), repeated(gemm("cublas", "fp32", 1024, 5.0), steady, 1.0, 0.001, true, false)));
  auto loaded = rows_of({file});
  const auto& rows = loaded.rows;
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(status_text(rows[0]), "ok");
}

TEST(ReportRows, TimeIsReadThroughItsUnit) {
  for (auto [unit, value] : std::vector<std::pair<std::string, double>>{{"ns", 1.5e6}, {"us", 1.5e3}, {"ms", 1.5}, {"s", 1.5e-3}}) {
    json b = gemm("cublas", "fp32", 1024, 5.0);
    b["time_unit"] = unit;
    b["real_time"] = value;
    auto loaded = rows_of({in_memory("unit.json", result(provenance(true), {b}))});
  const auto& rows = loaded.rows;
    ASSERT_EQ(rows.size(), 1u);
    ASSERT_TRUE(rows[0].time_s) << unit;
    EXPECT_NEAR(*rows[0].time_s, 1.5e-3, 1e-15) << unit;
  }
}

TEST(ReportRows, OneSampleHasNoNoise) {
  json b = gemm("cublas", "fp32", 1024, 5.0);
  b["aicbench"]["measurement"] = {{"samples", 1}, {"rel_stddev", 0.0}};
  auto loaded = rows_of({in_memory("one.json", result(provenance(true), {b}))});
  const auto& rows = loaded.rows;
  EXPECT_FALSE(rows.at(0).noise);
}

TEST(ReportRows, FailedRowHasNoMetricAndSaysWhy) {
  json failed = gemm("simt", "fp32", 1000, 987.6, "failed", "validation failed");
  failed["aicbench"]["validation"]["max_rel_err"] = 0.3;
  auto loaded = rows_of({in_memory("f.json", result(provenance(true), {failed}))});
  const auto& rows = loaded.rows;
  EXPECT_FALSE(aicbench::reports::ok_metric(rows.at(0), "tflops"));
  EXPECT_EQ(status_text(rows[0]), "failed: validation failed (measured max_rel_err 3.0e-01, tolerance 1.0e-05)");
}

// ---------------------------------------------------------------------------------------------
// Runs and provenance
// ---------------------------------------------------------------------------------------------

TEST(ReportRuns, LabelsNameWhatDiffers) {
  json later = provenance(true);
  later["start_time"] = "2026-11-25T09:30:00Z";
  auto a = in_memory("a.json", result(provenance(true), {}));
  auto b = in_memory("b.json", result(later, {}));
  auto runs = aicbench::reports::summarize_runs({a, b});
  EXPECT_EQ(runs[0].label, "#1 11-24 22:00");  // same host: the host is not repeated
  EXPECT_EQ(runs[1].label, "#2 11-25 09:30");
  EXPECT_EQ(aicbench::reports::summarize_runs({a})[0].label, "#1");
}

std::string methodology_of(const ResultFile& file) {
  for (const auto& [label, value] : aicbench::reports::provenance_items(file)) {
    if (label == "Methodology") return value;
  }
  return "";
}

TEST(ReportRuns, CpuMethodologySaysNothingAboutSmClocks) {
  json cpu = provenance(false);
  cpu["methodology"] = methodology();
  json gpu = provenance(true);
  gpu["methodology"] = methodology();
  const std::string cpu_line = methodology_of(in_memory("cpu.json", result(cpu, {})));
  const std::string gpu_line = methodology_of(in_memory("gpu.json", result(gpu, {})));
  EXPECT_NE(cpu_line.find("until the noise is under 0.5 %"), std::string::npos) << cpu_line;
  EXPECT_EQ(cpu_line.find("SM clock"), std::string::npos) << cpu_line;
  EXPECT_NE(gpu_line.find("samples below 75 % of max SM clock discarded"), std::string::npos) << gpu_line;
}

TEST(ReportRuns, MeasuredGpuFollowsTheDeviceField) {
  json p = provenance(true);
  p["gpus"].push_back({{"index", 1}, {"name", "second"}, {"uuid", "GPU-2"}});
  EXPECT_EQ(aicbench::reports::measured_gpu(in_memory("a.json", result(p, {})))["uuid"], "GPU-1");
  p["device"] = 1;
  EXPECT_EQ(aicbench::reports::measured_gpu(in_memory("b.json", result(p, {})))["uuid"], "GPU-2");
}

// ---------------------------------------------------------------------------------------------
// View and distributions
// ---------------------------------------------------------------------------------------------

TEST(ReportView, CompactAboveEightRuns) {
  EXPECT_FALSE(aicbench::reports::choose_view(1).compact);
  EXPECT_FALSE(aicbench::reports::choose_view(aicbench::reports::kMaxDetailedRuns).compact);
  auto many = aicbench::reports::choose_view(aicbench::reports::kMaxDetailedRuns + 1);
  EXPECT_TRUE(many.compact);
  EXPECT_NE(many.why.find("9 result files"), std::string::npos) << many.why;
}

TEST(ReportView, QuantilesInterpolateLikeR) {
  auto q = aicbench::reports::quantiles({4, 1, 3, 2, 5});
  ASSERT_TRUE(q);
  EXPECT_EQ(q->count, 5u);
  EXPECT_DOUBLE_EQ(q->min, 1);
  EXPECT_DOUBLE_EQ(q->q1, 2);
  EXPECT_DOUBLE_EQ(q->median, 3);
  EXPECT_DOUBLE_EQ(q->q3, 4);
  EXPECT_DOUBLE_EQ(q->max, 5);
  auto even = aicbench::reports::quantiles({1, 2, 3, 4});
  EXPECT_DOUBLE_EQ(even->q1, 1.75);
  EXPECT_DOUBLE_EQ(even->median, 2.5);
  auto huge = aicbench::reports::quantiles({1e308, 1.5e308});
  EXPECT_TRUE(std::isfinite(huge->median));
  EXPECT_FALSE(aicbench::reports::quantiles({}));
}

TEST(ReportView, FleetIsValid) {
  for (const ResultFile& file : fleet(3, 6)) EXPECT_NO_THROW(aicbench::check_result_json(file.json, file.path.string()));
}

TEST(ReportView, DistributionPerBenchmarkAcrossRunsNamesTheWorstNode) {
  auto files = fleet(12, 4);
  json failed = gemm("cublaslt", "bf16", 256, 1.0, "failed", "validation failed");
  files[5].json["benchmarks"][0] = failed;
  files[7].json["benchmarks"][0]["aicbench"]["unstable"] = true;
  const auto rows = report_rows(files);
  const auto ds = aicbench::reports::distributions(rows);
  ASSERT_EQ(ds.size(), 4u);  // one per benchmark, not one per run
  const auto& d = ds[0];
  EXPECT_EQ(d.name, "gemm/cublaslt/bf16/M:256/N:256/K:256");
  EXPECT_EQ(d.results, 12u);
  EXPECT_EQ(d.ok, 11u);
  EXPECT_EQ(d.failed, 1u);
  EXPECT_EQ(d.unstable, 1u);
  EXPECT_STREQ(d.metric.counter, "tflops");
  ASSERT_TRUE(d.spread);
  EXPECT_EQ(d.spread->count, 11u);
  ASSERT_NE(d.worst, nullptr);
  EXPECT_EQ(d.worst->file, 2u);  // node-0003 is the slow one
  EXPECT_DOUBLE_EQ(d.spread->min, 80.0 * 1.002);
}

}  // namespace
