#pragma once
// Result files for the history tests, and reading back what they wrote: a nightly run of two GEMM benchmarks on one GPU (or on the
// CPU), made to order: host, GPU, start time, a slowdown, repetitions, a failing benchmark. Each
// passes load_result_file's checks like a file `aicbench run` writes (format version 2).
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sqlite3.h>

namespace aicbench::testing {

inline std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

// One number from the database, read with SQLite directly (not through the code under test).
inline int64_t query_int(const std::filesystem::path& db, const std::string& sql) {
  sqlite3* handle = nullptr;
  EXPECT_EQ(sqlite3_open_v2(db.c_str(), &handle, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(handle, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK) << sqlite3_errmsg(handle);
  int64_t value = -1;
  if (stmt && sqlite3_step(stmt) == SQLITE_ROW) value = sqlite3_column_int64(stmt, 0);
  sqlite3_finalize(stmt);
  sqlite3_close(handle);
  return value;
}

struct RunSpec {
  std::string host = "node-a";
  std::string gpu_uuid = "GPU-aaaa";    // empty: the cpu backend
  std::string gpu_name = "NVIDIA H200";
  std::string start = "2026-11-24T22:00:00Z";
  std::string suite = "nightly";
  std::string driver = "580.65";
  bool complete = true;
  double slowdown = 1.0;                // every time multiplied by this, throughputs divided
  int repetitions = 1;
  std::string failed_benchmark;         // this benchmark fails validation in every repetition
  std::string reason = "validation failed: max_rel_err 0.3 > tolerance 0.01";
};

inline const std::vector<std::pair<std::string, double>>& nightly_benchmarks() {
  // name, median seconds at slowdown 1
  static const std::vector<std::pair<std::string, double>> benchmarks = {
      {"gemm/cublaslt/bf16/M:4096/N:4096/K:4096", 2.0e-4},
      {"gemm/wgmma_sm90/bf16/M:4096/N:4096/K:4096", 2.5e-4}};
  return benchmarks;
}

inline nlohmann::json make_run(const RunSpec& spec) {
  using nlohmann::json;
  const bool gpu = !spec.gpu_uuid.empty();
  json provenance = {
      {"format_version", 2}, {"aicbench_version", "0.1.0"}, {"git_commit", "abc1234"}, {"git_dirty", false},
      {"command_line", "aicbench run --suite " + spec.suite}, {"start_time", spec.start},
      {"complete", spec.complete}, {"suite", spec.suite}, {"suite_version", 3}, {"rank", 0}, {"ranks", 1},
      {"backend", gpu ? "cuda" : "cpu"},
      {"host", {{"hostname", spec.host}, {"os", "Linux 6.1 x86_64"}, {"cpu_model", "AMD EPYC 9654"}, {"cpu_cores", 192}}},
      {"versions", {{"driver", spec.driver}, {"cuda_runtime", "13.0"}, {"cublas", "13.1.0"}, {"nccl", "2.28.9"}}}};
  if (spec.complete) provenance["end_time"] = spec.start;  // the same second is fine for a test
  if (gpu) {
    provenance["gpus"] = json::array({{{"index", 0}, {"name", spec.gpu_name}, {"uuid", spec.gpu_uuid}}});
  } else {
    provenance["gpus"] = json::array();
    provenance["gpu_unavailable_reason"] = "no NVIDIA driver";
  }
  json benchmarks = json::array();
  for (const auto& [name, base_s] : nightly_benchmarks()) {
    const std::string impl = name.substr(5, name.find('/', 5) - 5);
    const bool failed = name == spec.failed_benchmark;
    std::vector<double> medians;
    for (int r = 0; r < spec.repetitions; ++r) {
      const double median = base_s * spec.slowdown * (1 + 0.01 * r);
      medians.push_back(median);
      json b = {{"name", name}, {"run_name", name}, {"run_type", "iteration"}, {"repetitions", spec.repetitions},
                {"repetition_index", r}, {"iterations", 1}, {"real_time", median * 1e9}, {"cpu_time", median * 1e9},
                {"time_unit", "ns"},
                {"aicbench",
                 {{"family", "gemm"}, {"impl", impl}, {"dtype", "bf16"}, {"backend", gpu ? "cuda" : "cpu"},
                  {"vendor", impl == "cublaslt"}, {"mode", "cold"},
                  {"params", {{"M", 4096}, {"N", 4096}, {"K", 4096}}},
                  {"status", failed ? "failed" : "ok"},
                  {"measurement",
                   {{"samples", 50}, {"median_s", median}, {"q1_s", median * 0.98}, {"q3_s", median * 1.02},
                    {"min_s", median * 0.95}, {"max_s", median * 1.10}, {"mean_s", median}, {"rel_stddev", 0.01}}},
                  {"validation", {{"max_rel_err", failed ? 0.3 : 1e-3}, {"tolerance", 1e-2}}}}}};
      if (gpu) {
        b["aicbench"]["telemetry"] = {{"sm_clock_mhz", 1980}, {"power_w", 650.5}, {"temp_c", 61},
                                      {"throttle_reasons", json::array()}};
      }
      if (failed) {
        b["error_occurred"] = true;
        b["error_message"] = spec.reason;
        b["aicbench"]["reason"] = spec.reason;
      } else {
        b["tflops"] = 2.0 * std::pow(4096.0, 3) / median / 1e12;
      }
      benchmarks.push_back(b);
    }
  }
  return {{"context", {{"date", spec.start}, {"host_name", spec.host}, {"aicbench", provenance}}},
          {"benchmarks", benchmarks}};
}

}  // namespace aicbench::testing

namespace aicbench::testing {

// A real result file as if it had run at `start` and every benchmark had taken `slowdown` times
// as long: its sample times scaled up, its throughputs down, nothing else touched.
inline nlohmann::json shifted_run(nlohmann::json run, const std::string& start, double slowdown) {
  auto& provenance = run["context"]["aicbench"];
  provenance["start_time"] = start;
  if (provenance.contains("end_time")) provenance["end_time"] = start;
  for (auto& b : run["benchmarks"]) {
    for (const char* key : {"real_time", "cpu_time"}) {
      if (b.contains(key)) b[key] = b[key].get<double>() * slowdown;
    }
    for (const char* key : {"tflops", "gbps", "busbw_gbps"}) {
      if (b.contains(key)) b[key] = b[key].get<double>() / slowdown;
    }
    auto& m = b["aicbench"]["measurement"];
    for (const char* key : {"median_s", "mean_s", "min_s", "q1_s", "q3_s", "max_s"}) {
      if (m.contains(key)) m[key] = m[key].get<double>() * slowdown;
    }
  }
  return run;
}

}  // namespace aicbench::testing
