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

// The acceptance suite's CUDA benchmarks (specs/suites/acceptance.json, version 6) in a job of
// 8 ranks: the p2p ring is node-level and the all-reduce job-wide, but a file of one GPU's may hold
// them as a run of format 2 would (accept pools node-level rows per node).
inline const std::vector<std::string>& cuda_acceptance_benchmarks() {
  static const std::vector<std::string> names = {
      "gemm/cublas/fp32/M:8192/N:8192/K:8192",     "gemm/cublaslt/bf16/M:8192/N:8192/K:8192",
      "gemm/wgmma_sm90_multicast/bf16/M:8192/N:8192/K:8192", "gemm/cublaslt/fp8/M:8192/N:8192/K:8192",
      "gemm/wgmma_sm90_multicast/fp8/M:8192/N:8192/K:8192", "memory/memcpy/fp64/bytes:1073741824",
      "memory/copy/fp64/bytes:1073741824", "memory/triad/fp64/bytes:1073741824",
      "host_link/h2d_pinned/u8/bytes:268435456", "host_link/d2h_pinned/u8/bytes:268435456",
      "host_link/bidir_pinned/u8/bytes:268435456", "launch/stream/none/batch:1", "launch/graph/none/batch:1",
      "p2p/ce/u8/src:0/dst:1/directions:2/bytes:67108864", "p2p/ce/u8/src:1/dst:2/directions:2/bytes:67108864",
      "p2p/ce/u8/src:2/dst:3/directions:2/bytes:67108864", "p2p/ce/u8/src:3/dst:4/directions:2/bytes:67108864",
      "p2p/ce/u8/src:4/dst:5/directions:2/bytes:67108864", "p2p/ce/u8/src:5/dst:6/directions:2/bytes:67108864",
      "p2p/ce/u8/src:6/dst:7/directions:2/bytes:67108864", "p2p/ce/u8/src:7/dst:0/directions:2/bytes:67108864",
      "all_reduce/nccl/bf16/bytes:268435456/in_place:0", "burnin/cublaslt/bf16/M:8192/N:8192/K:8192/seconds:180"};
  return names;
}

// A healthy Hopper GPU's health, as NVML reports it (harness/health.cpp): ECC clean, rows remapped
// instead of pages retired (so retired pages are not recorded, with NVML's answer), persistence
// mode on, a x16 link.
inline json healthy_health() {
  json h = {{"available", true}, {"source", "NVML"}, {"read_at", "run end"}, {"driver_version", "570.86.15"},
            {"vbios_version", "96.00.99.00.01"}, {"serial", "1654922012345"}, {"persistence_mode", true},
            {"ecc_mode", true}, {"ecc_corrected_volatile", 0}, {"ecc_uncorrected_volatile", 0},
            {"ecc_corrected_aggregate", 2}, {"ecc_uncorrected_aggregate", 0}, {"retired_pages_single_bit", nullptr},
            {"retired_pages_double_bit", nullptr}, {"retired_pages_pending", nullptr}, {"remapped_rows_correctable", 1},
            {"remapped_rows_uncorrectable", 0}, {"remapped_rows_pending", false}, {"remapped_rows_failure", false},
            {"clocks_event_reasons", json::array({"gpu_idle"})}, {"hw_slowdown", false}, {"hw_thermal_slowdown", false},
            {"sw_thermal_slowdown", false}, {"hw_power_brake_slowdown", false}, {"pcie_link_gen_current", 5},
            {"pcie_link_gen_max", 5}, {"pcie_link_width_current", 16}, {"pcie_link_width_max", 16},
            {"pcie_replay_counter", 0}};
  const std::string why = "NVML nvmlDeviceGetRetiredPages: Not Supported";
  h["unavailable"] = {{"retired_pages_single_bit", why}, {"retired_pages_double_bit", why},
                      {"retired_pages_pending", "NVML nvmlDeviceGetRetiredPagesPendingStatus: Not Supported"}};
  return h;
}

// A healthy burn-in's block (harness/families/burnin.cpp), summarised: 180 intervals at 1755 MHz
// at the power cap, 71 °C at most.
inline json healthy_burnin(bool telemetry = true) {
  json summary = {{"gemms", 126000}, {"tflops", 760.5}};
  if (telemetry) {
    summary["min_sm_clock_mhz"] = 1710;
    summary["min_sm_clock_t_s"] = 97;
    summary["mean_sm_clock_mhz"] = 1755;
    summary["max_temp_c"] = 71;
    summary["mean_power_w"] = 690;
    summary["throttle_reasons"] = {{"sw_power_cap", {{"intervals", 180}, {"first_t_s", 1}, {"fails", false}}}};
  }
  return {{"device", "GPU 0"},
          {"seconds", 180},
          {"elapsed_s", 180.4},
          {"interval_s", 1},
          {"intervals", 180},
          {"check", "bitwise"},
          {"mismatched_elements", 0},
          {"mismatched_intervals", 0},
          {"first_mismatch", nullptr},
          {"telemetry", telemetry ? "NVML every 100 ms" : "unavailable: NVML not found"},
          {"summary", summary},
          {"verdict", {{"passed", true}, {"reasons", json::array()}}},
          {"samples", json::array()}};
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
  double hbm_pct_of_peak = 91;   // memory rows: % of the datasheet's HBM bandwidth (3350 GB/s)
  double host_link_gbps = 53;    // host_link rows: GB/s per direction
  std::string suite = "acceptance";
  int suite_version = 6;
  bool telemetry = true;
  std::optional<json> health = healthy_health();  // gpus[0].health
  std::optional<json> burnin;  // the burn-in row's aicbench.burnin (default: healthy_burnin(telemetry))
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
    const size_t impl_at = name.find('/') + 1;
    const std::string family = name.substr(0, impl_at - 1);
    const std::string impl = name.substr(impl_at, name.find('/', impl_at) - impl_at);
    const size_t dtype_at = name.find('/', impl_at) + 1;
    const std::string dtype = name.substr(dtype_at, name.find('/', dtype_at) - dtype_at);
    for (int rep = 0; rep < run.repetitions; ++rep) {
      json row = row_template;
      row["name"] = name;
      row["run_name"] = name;
      row["repetitions"] = run.repetitions;
      row["repetition_index"] = rep;
      json& info = row["aicbench"];
      info["family"] = family;
      info["impl"] = impl;
      info["dtype"] = dtype;
      info["backend"] = "cuda";
      info["vendor"] = impl.rfind("cublas", 0) == 0;
      // The parameters from the name: "family/impl/dtype/k:v/k:v".
      info["params"] = json::object();
      for (size_t at = name.find('/', dtype_at); at != std::string::npos;) {
        const size_t next = name.find('/', at + 1);
        const std::string part = name.substr(at + 1, next == std::string::npos ? std::string::npos : next - at - 1);
        info["params"][part.substr(0, part.find(':'))] = std::stoll(part.substr(part.find(':') + 1));
        at = next;
      }
      if (family == "burnin") info["burnin"] = run.burnin ? *run.burnin : healthy_burnin(run.telemetry);
      double pct = run.pct.count(name) ? run.pct.at(name) : run.pct_of_peak;
      if (run.pct_per_repetition.count(name)) pct = run.pct_per_repetition.at(name).at(rep);
      row.erase("gbps");
      row.erase("tflops");
      row.erase("pct_of_peak");
      if (family == "gemm" || family == "burnin") {
        row["pct_of_peak"] = pct;
        row["tflops"] = pct / 100 * dense_peak(run, dtype);
      } else if (family == "memory") {
        const double hbm = run.pct.count(name) ? pct : run.hbm_pct_of_peak;
        row["pct_of_peak"] = hbm;
        row["gbps"] = hbm / 100 * 3350;
      } else if (family == "host_link") {
        const double gbps = run.pct.count(name) ? pct : run.host_link_gbps;
        row["gbps"] = name.find("bidir") != std::string::npos ? 2 * gbps : gbps;
      } else if (family == "p2p") {  // both directions of an NVLink of 450 GB/s each
        row["pct_of_peak"] = pct;
        row["gbps"] = pct / 100 * 900;
      } else if (family == "all_reduce") {  // bus bandwidth, above every spec's floor (600 GB/s at most)
        row["gbps"] = run.pct.count(name) ? pct : 700.0;
      }
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
