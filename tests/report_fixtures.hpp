#pragma once
// Result files built in memory for the report tests: provenance, gemm entries, repetitions in
// both forms of aggregate names, and a fleet of many runs.

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "reports/result_file.hpp"

namespace aicbench::testing {

using nlohmann::json;

inline json provenance(bool with_gpu, bool complete = true) {
  json p = {{"format_version", 1}, {"aicbench_version", "0.1.0"}, {"git_commit", "abc1234"},
            {"git_dirty", true}, {"command_line", "aicbench run --suite quick"},
            {"start_time", "2026-11-24T22:00:00Z"}, {"complete", complete}, {"suite", "quick"},
            {"suite_version", 1}, {"rank", 0}, {"ranks", 1},
            {"host", {{"hostname", "node-a"}, {"os", "Linux 6.1 x86_64"}, {"cpu_model", "Xeon 8480"},
                      {"cpu_cores", 2}, {"memory_bytes", 25000000000.0}}},
            {"versions", {{"driver", "13.0"}, {"cuda_runtime", "13.0"}, {"cublas", "13.1.0"}}}};
  if (complete) p["end_time"] = "2026-11-24T22:05:00Z";
  if (with_gpu) {
    p["backend"] = "cuda";
    p["gpus"] = json::array({{{"index", 0}, {"name", "NVIDIA H100 80GB HBM3"}, {"uuid", "GPU-1"},
                              {"compute_capability", "9.0"}, {"sm_count", 132},
                              {"memory_bytes", 85000000000.0}, {"ecc_enabled", true}}});
  } else {
    p["backend"] = "cpu";
    p["backend_reason"] = "no CUDA device";
    p["gpus"] = json::array();
    p["gpu_unavailable_reason"] = "cudaGetDeviceCount: CUDA driver version is insufficient";
  }
  return p;
}

inline json methodology() {
  return {{"min_samples", 10}, {"min_time_s", 0.5}, {"max_noise", 0.005}, {"timeout_s", 15},
          {"throttle_threshold", 0.75}, {"repetitions", 1}, {"timer", "CUDA events"}};
}

// A gemm entry of shape MxNxK; status "ok" carries time (0.41 ms), counters and the quartiles
// of its samples, other statuses carry a reason.
inline json gemm_shape(const std::string& impl, const std::string& dtype, int m, int n, int k, double tflops,
                       const std::string& status = "ok", const std::string& reason = "") {
  std::string name = "gemm/" + impl + "/" + dtype + "/M:" + std::to_string(m) + "/N:" + std::to_string(n) +
                     "/K:" + std::to_string(k);
  json b = {{"name", name}, {"run_name", name}, {"run_type", "iteration"}, {"repetitions", 1},
            {"iterations", 1}, {"real_time", 0.41}, {"cpu_time", 0.40}, {"time_unit", "ms"},
            {"tflops", tflops}, {"max_rel_err", 1.2e-7},
            {"aicbench", {{"family", "gemm"}, {"impl", impl}, {"dtype", dtype}, {"backend", "cuda"}, {"mode", "cold"},
                          {"params", {{"M", m}, {"N", n}, {"K", k}}}, {"status", status},
                          {"validation", {{"max_rel_err", 1.2e-7}, {"tolerance", 1e-5}}},
                          {"measurement", {{"samples", 40}, {"median_s", 0.41e-3}, {"q1_s", 0.40e-3}, {"q3_s", 0.45e-3},
                                           {"min_s", 0.39e-3}, {"max_s", 0.5e-3}, {"rel_stddev", 0.01}}}}}};
  if (status != "ok") {
    // As aicbench writes it: no counters on a row that is not ok (the reader rejects such a row).
    b.erase("tflops");
    b.erase("max_rel_err");
    b["error_occurred"] = true;
    b["error_message"] = reason;
    b["aicbench"]["reason"] = reason;
  }
  return b;
}

inline json gemm(const std::string& impl, const std::string& dtype, int size, double tflops,
                 const std::string& status = "ok", const std::string& reason = "") {
  return gemm_shape(impl, dtype, size, size, size, tflops, status, reason);
}

inline json hot(json entry) {
  entry["name"] = entry["name"].get<std::string>() + "/mode:hot";
  entry["run_name"] = entry["name"];
  entry["aicbench"]["mode"] = "hot";
  return entry;
}

inline json result(const json& provenance, const std::vector<json>& benchmarks) {
  return {{"context", {{"date", "2026-11-24"}, {"host_name", "node-a"}, {"aicbench", provenance}}},
          {"benchmarks", benchmarks}};
}

// A result file in memory as it is, unchecked: renderers must cope with any JSON at all.
inline ResultFile unchecked(const std::string& name, json content) { return ResultFile{name, std::move(content)}; }

// A result file in memory, as load_result_file would return it.
inline ResultFile in_memory(const std::string& name, json content) {
  check_result_json(content, name);
  return ResultFile{name, std::move(content)};
}

// `--repetitions 3` of one benchmark: three measured repetitions (times in ms; noise, samples and
// unstable flags per repetition) and Google Benchmark's four aggregates. `gbench_names` names the
// aggregates `<name>_mean` ..., as Google Benchmark does; otherwise they carry the bare name.
struct Repetition {
  double time_ms, rel_stddev, samples;
  bool unstable;
};
inline std::vector<json> repeated(const json& base, const std::vector<Repetition>& reps, double median_ms, double cv,
                                  bool gbench_names, std::optional<bool> aggregate_unstable = std::nullopt) {
  std::vector<json> out;
  const std::string name = base["name"];
  for (size_t i = 0; i < reps.size(); ++i) {
    json r = base;
    r["repetitions"] = reps.size();
    r["repetition_index"] = i;
    r["real_time"] = reps[i].time_ms;
    r["aicbench"]["unstable"] = reps[i].unstable;
    r["aicbench"]["measurement"] = {{"samples", reps[i].samples}, {"rel_stddev", reps[i].rel_stddev},
                                    {"median_s", reps[i].time_ms * 1e-3}, {"q1_s", reps[i].time_ms * 0.98e-3},
                                    {"q3_s", reps[i].time_ms * 1.03e-3}, {"unstable", reps[i].unstable}};
    out.push_back(r);
  }
  for (const char* aggregate : {"mean", "median", "stddev", "cv"}) {
    json a = base;
    a["name"] = gbench_names ? name + "_" + aggregate : name;
    a["run_name"] = name;
    a["run_type"] = "aggregate";
    a["aggregate_name"] = aggregate;
    a["repetitions"] = reps.size();
    a["repetition_index"] = -1;
    a["real_time"] = std::string(aggregate) == "cv" ? cv : median_ms;
    a["aggregate_unit"] = std::string(aggregate) == "cv" ? "percentage" : "time";
    a["aicbench"].erase("measurement");
    if (aggregate_unstable) a["aicbench"]["unstable"] = *aggregate_unstable;
    out.push_back(a);
  }
  return out;
}

// A fleet: `runs` files on hosts node-0001..., each with the same `per_run` square gemm
// benchmarks (sizes 256 * (i+1)); node-0003 is 20 % slower than the rest.
inline std::vector<ResultFile> fleet(size_t runs, size_t per_run) {
  std::vector<ResultFile> files;
  for (size_t r = 0; r < runs; ++r) {
    json p = provenance(true);
    char host[32];
    std::snprintf(host, sizeof host, "node-%04zu", r + 1);
    p["host"]["hostname"] = host;
    std::vector<json> benchmarks;
    for (size_t b = 0; b < per_run; ++b) {
      const double tflops = (100.0 + static_cast<double>(b)) * (r == 2 ? 0.8 : 1.0) * (1 + 0.001 * static_cast<double>(r % 7));
      benchmarks.push_back(gemm(b % 2 ? "wgmma_sm90" : "cublaslt", "bf16", 256 * static_cast<int>(b / 2 + 1), tflops));
    }
    // Unchecked, for speed: FleetIsValid checks a small one through the reader.
    files.push_back(unchecked(std::string(host) + ".json", result(p, benchmarks)));
  }
  return files;
}

inline bool gnuplot_available() {
  if (const char* env = std::getenv("AICBENCH_GNUPLOT"); env && *env) return std::filesystem::exists(env);
  return std::system("command -v gnuplot >/dev/null 2>&1") == 0;
}

// Sets (or with nullptr unsets) an environment variable for one scope, restoring it after.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    value ? ::setenv(name, value, 1) : ::unsetenv(name);
  }
  ~ScopedEnv() { old_ ? ::setenv(name_, old_->c_str(), 1) : ::unsetenv(name_); }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

inline size_t count_of(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (size_t at = haystack.find(needle); at != std::string::npos; at = haystack.find(needle, at + 1)) ++n;
  return n;
}

}  // namespace aicbench::testing
