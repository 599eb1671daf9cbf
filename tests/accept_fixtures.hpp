#pragma once
// Node result files for the acceptance tests, made from a real result file of
// `aicbench run --backend cpu --suite acceptance` (tests/data/result-cpu-acceptance.json):
//   - CPU nodes: the real file with its host, rank and rows changed where a test plants a fault;
//   - GPU nodes: the same file turned into a CUDA run of the acceptance suite on one GPU, with
//     provenance (gpus[] with name and UUID, NVML telemetry) and rows for the suite's CUDA
//     benchmarks, each with a throughput, a temperature and an SM clock.
// Every file made here must pass the result reader's checks: a planted fault is a fault a real
// run can have, never a malformed file.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace aicbench::testing {

using json = nlohmann::json;

inline json read_json(const std::filesystem::path& path) {
  std::ifstream in(path);
  return json::parse(std::string((std::istreambuf_iterator<char>(in)), {}));
}

inline void write_json(const std::filesystem::path& path, const json& j) {
  std::ofstream(path) << j.dump(1);
}

// The real CPU run of the acceptance suite.
inline const json& cpu_acceptance_result() {
  static const json j = read_json(std::filesystem::path(AICBENCH_TEST_DATA_DIR) / "result-cpu-acceptance.json");
  return j;
}

// The acceptance suite's CUDA benchmarks (specs/suites/acceptance.json, version 3).
inline const std::vector<std::string>& cuda_acceptance_benchmarks() {
  static const std::vector<std::string> names = {
      "gemm/cublas/fp32/M:8192/N:8192/K:8192",     "gemm/cublaslt/bf16/M:8192/N:8192/K:8192",
      "gemm/wgmma_sm90_multicast/bf16/M:8192/N:8192/K:8192", "gemm/cublaslt/fp8/M:8192/N:8192/K:8192",
      "gemm/wgmma_sm90_multicast/fp8/M:8192/N:8192/K:8192"};
  return names;
}

// Counters that carry a throughput: a row that is not ok never has them (the reader refuses it).
inline void drop_throughput(json& row) {
  for (const char* key : {"tflops", "gbps", "pct_of_peak", "pct_of_vendor", "tflops_per_w", "gbps_per_w"}) row.erase(key);
}

// Turns an ok row into one whose status is `status` (failed, error, skipped), as the runner writes it.
inline void set_status(json& row, const std::string& status, const std::string& reason) {
  drop_throughput(row);
  json& info = row["aicbench"];
  info["status"] = status;
  info["reason"] = reason;
  row["error_occurred"] = true;
  row["error_message"] = reason;
  if (status == "failed") {
    info["validation"]["max_rel_err"] = 0.5;
    info["validation"]["tolerance"] = 0.01;
    row["max_rel_err"] = 0.5;
  } else {
    info.erase("validation");
    row.erase("max_rel_err");
  }
  if (status == "skipped") {
    info.erase("measurement");
    info["telemetry"] = {{"unavailable", "not run"}};
    for (const char* key : {"temp_c", "sm_clock_mhz", "power_w", "energy_j"}) row.erase(key);
  }
}

// What one GPU of one node measured, and the faults planted in it.
struct GpuRun {
  std::string host = "node-0001";
  int rank = 0;
  std::string uuid = "GPU-00000000-0000-0000-0000-000000000000";
  std::string gpu_name = "NVIDIA H100 80GB HBM3";
  double peak_bf16 = 989.4;  // dense TFLOP/s per dtype below, from specs/gpus/h100_sxm.json
  double pct_of_peak = 78;   // every benchmark's, unless `pct` says otherwise
  std::map<std::string, double> pct;
  double temp_c = 71;
  double sm_clock_mhz = 1755;
  std::map<std::string, double> temp_of, clock_of;                   // per benchmark
  std::map<std::string, std::pair<std::string, std::string>> status; // benchmark -> (status, reason)
  std::set<std::string> omit;                                        // benchmarks left out
  bool complete = true;
  std::string suite = "acceptance";
  int suite_version = 3;
  bool telemetry = true;
  std::optional<json> health;  // gpus[0].health
  int repetitions = 1;
  std::map<std::string, std::vector<double>> pct_per_repetition;  // overrides pct for those
};

inline double dense_peak(const GpuRun& run, const std::string& dtype) {
  // H100 SXM ratios: fp8 twice bf16, fp32 67 of 989.4.
  if (dtype == "fp8") return 2 * run.peak_bf16;
  if (dtype == "fp32") return run.peak_bf16 * 67.0 / 989.4;
  return run.peak_bf16;
}

inline json gpu_result(const GpuRun& run) {
  json result = cpu_acceptance_result();
  json& p = result["context"]["aicbench"];
  p["backend"] = "cuda";
  p["backend_reason"] = "a CUDA device is usable";
  p.erase("gpu_unavailable_reason");
  p["host"]["hostname"] = run.host;
  p["rank"] = run.rank;
  p["ranks"] = 8;
  p["suite"] = run.suite;
  p["suite_version"] = run.suite_version;
  p["complete"] = run.complete;
  json gpu = {{"index", 0},           {"name", run.gpu_name}, {"uuid", run.uuid}, {"pci_bus_id", "00000000:19:00.0"},
              {"sm_count", 132},      {"memory_bytes", 85520809984.0}, {"max_sm_clock_mhz", 1980},
              {"ecc_enabled", true},  {"power_limit_w", 700}};
  if (run.health) gpu["health"] = *run.health;
  p["gpus"] = json::array({gpu});
  p["telemetry"] = run.telemetry ? json{{"available", true}, {"source", "NVML"}, {"clock_policy", "default"}}
                                 : json{{"available", false}, {"reason", "NVML not found"}};

  // Our kernel's row (not OpenBLAS's), without what only a CPU row carries: the thread count and
  // a percentage of OpenBLAS.
  json row_template;
  for (const json& b : result["benchmarks"]) {
    if (b["aicbench"]["impl"] == "cpu_blocked") {
      row_template = b;
      break;
    }
  }
  row_template["aicbench"]["validation"].erase("threads");
  row_template.erase("pct_of_vendor");
  result["benchmarks"] = json::array();
  for (const std::string& name : cuda_acceptance_benchmarks()) {
    if (run.omit.count(name)) continue;
    const std::string impl = name.substr(5, name.find('/', 5) - 5);
    const size_t dtype_at = name.find('/', 5) + 1;
    const std::string dtype = name.substr(dtype_at, name.find('/', dtype_at) - dtype_at);
    for (int rep = 0; rep < run.repetitions; ++rep) {
      json row = row_template;
      row["name"] = name;
      row["run_name"] = name;
      row["repetitions"] = run.repetitions;
      row["repetition_index"] = rep;
      json& info = row["aicbench"];
      info["impl"] = impl;
      info["dtype"] = dtype;
      info["backend"] = "cuda";
      info["vendor"] = impl.rfind("cublas", 0) == 0;
      info["params"] = {{"M", 8192}, {"N", 8192}, {"K", 8192}};
      double pct = run.pct.count(name) ? run.pct.at(name) : run.pct_of_peak;
      if (run.pct_per_repetition.count(name)) pct = run.pct_per_repetition.at(name).at(rep);
      row["pct_of_peak"] = pct;
      row["tflops"] = pct / 100 * dense_peak(run, dtype);
      row.erase("gbps");
      if (run.telemetry) {
        const double temp = run.temp_of.count(name) ? run.temp_of.at(name) : run.temp_c;
        const double clock = run.clock_of.count(name) ? run.clock_of.at(name) : run.sm_clock_mhz;
        info["telemetry"] = {{"readings", 40}, {"sm_clock_mhz", clock}, {"temp_c", temp}, {"power_w", 650}};
        row["temp_c"] = temp;
        row["sm_clock_mhz"] = clock;
      }
      if (auto s = run.status.find(name); s != run.status.end()) set_status(row, s->second.first, s->second.second);
      result["benchmarks"].push_back(std::move(row));
    }
  }
  return result;
}

// A CPU node: the real file, moved to `host` (and rank), with faults planted by the caller.
inline json cpu_result(const std::string& host, int rank = 0) {
  json result = cpu_acceptance_result();
  result["context"]["aicbench"]["host"]["hostname"] = host;
  result["context"]["aicbench"]["rank"] = rank;
  return result;
}

// The 8 GPUs of a healthy node, GPU i with UUID GPU-<host>-<i>.
inline std::vector<GpuRun> healthy_node(const std::string& host, int gpus = 8) {
  std::vector<GpuRun> node;
  for (int i = 0; i < gpus; ++i) {
    GpuRun run;
    run.host = host;
    run.rank = i;
    run.uuid = "GPU-" + host + "-" + std::to_string(i);
    node.push_back(run);
  }
  return node;
}

}  // namespace aicbench::testing
