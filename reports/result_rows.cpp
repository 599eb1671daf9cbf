#include "reports/result_rows.hpp"

#include <cstdio>

namespace aicbench {

namespace {

using json = nlohmann::json;

std::optional<double> number(const json& object, const char* key) {
  if (!object.is_object() || !object.contains(key) || !object[key].is_number()) return std::nullopt;
  return object[key].get<double>();
}

std::string text(const json& object, const char* key) {
  if (!object.is_object() || !object.contains(key) || !object[key].is_string()) return "";
  return object[key].get<std::string>();
}

const json& member(const json& object, const char* key) {
  static const json kNull;
  return object.is_object() && object.contains(key) ? object[key] : kNull;
}

RowOrigin origin_of(const ResultFile& file, size_t index) {
  const json& p = file.provenance();
  RowOrigin origin;
  origin.file = index;
  origin.host = text(member(p, "host"), "hostname");
  origin.backend = text(p, "backend");
  origin.rank = static_cast<int>(number(p, "rank").value_or(0));
  const json& gpus = member(p, "gpus");
  if (origin.backend == "cuda" && gpus.is_array() && !gpus.empty()) {
    origin.device_name = text(gpus[0], "name");
    origin.gpu_uuid = text(gpus[0], "uuid");
  } else {
    origin.device_name = text(member(p, "host"), "cpu_model");
  }
  return origin;
}

ResultRow row_of(const json& b, const RowOrigin& origin, size_t entry) {
  const json& info = b["aicbench"];
  ResultRow row;
  row.origin = origin;
  row.entry = entry;
  row.name = b.contains("run_name") ? b["run_name"].get<std::string>() : b["name"].get<std::string>();
  row.family = text(info, "family");
  row.impl = text(info, "impl");
  row.dtype = text(info, "dtype");
  row.mode = text(info, "mode");
  if (row.mode.empty()) row.mode = "cold";
  row.status = text(info, "status");
  row.reason = text(info, "reason");
  if (row.reason.empty()) row.reason = text(b, "error_message");
  for (const auto& [key, value] : member(info, "params").items()) {
    if (value.is_number()) row.params[key] = value.get<int64_t>();
  }
  row.vendor = member(info, "vendor") == true;
  row.aggregate = text(b, "run_type") == "aggregate";
  row.aggregate_name = text(b, "aggregate_name");
  row.repetition_index = static_cast<int>(number(b, "repetition_index").value_or(row.aggregate ? -1 : 0));

  const json& m = member(info, "measurement");
  row.median_s = number(m, "median_s");
  row.mean_s = number(m, "mean_s");
  row.min_s = number(m, "min_s");
  row.q1_s = number(m, "q1_s");
  row.q3_s = number(m, "q3_s");
  row.max_s = number(m, "max_s");
  row.rel_stddev = number(m, "rel_stddev");
  row.samples = static_cast<int64_t>(number(m, "samples").value_or(0));
  row.timed_out = member(m, "timed_out") == true;
  row.unstable = member(info, "unstable") == true || member(m, "unstable") == true;

  if (row.ok()) {
    row.tflops = number(b, "tflops");
    row.gbps = number(b, "gbps");
    row.busbw_gbps = number(b, "busbw_gbps");
    row.pct_of_peak = number(b, "pct_of_peak");
    row.pct_of_vendor = number(b, "pct_of_vendor");
  }
  const json& validation = member(info, "validation");
  row.max_rel_err = number(validation, "max_rel_err");
  row.tolerance = number(validation, "tolerance");

  const json& telemetry = member(info, "telemetry");
  row.sm_clock_mhz = number(telemetry, "sm_clock_mhz");
  row.power_w = number(telemetry, "power_w");
  row.temp_c = number(telemetry, "temp_c");
  row.energy_j = number(telemetry, "energy_j");
  for (const auto& reason : member(telemetry, "throttle_reasons")) {
    if (reason.is_string()) row.throttle_reasons.push_back(reason.get<std::string>());
  }
  if (const json& b = member(info, "burnin"); b.is_object()) {
    ResultRow::Burnin burnin;
    burnin.passed = member(member(b, "verdict"), "passed") != false;
    burnin.mismatched_elements = static_cast<int64_t>(number(b, "mismatched_elements").value_or(0));
    burnin.intervals = static_cast<int>(number(b, "intervals").value_or(0));
    const json& summary = member(b, "summary");
    burnin.min_sm_clock_mhz = number(summary, "min_sm_clock_mhz");
    burnin.min_sm_clock_t_s = number(summary, "min_sm_clock_t_s");
    burnin.max_temp_c = number(summary, "max_temp_c");
    for (const auto& [name, seen] : member(summary, "throttle_reasons").items()) {
      burnin.throttle[name] = {static_cast<int>(number(seen, "intervals").value_or(0)), number(seen, "first_t_s").value_or(0)};
    }
    row.burnin = std::move(burnin);
  }

  const json& collective = member(info, "collective");
  if (auto ranks = number(collective, "ranks")) row.collective_ranks = static_cast<int64_t>(*ranks);
  if (auto nodes = number(collective, "nodes")) row.collective_nodes = static_cast<int64_t>(*nodes);
  return row;
}

}  // namespace

std::optional<double> ResultRow::throughput() const {
  if (tflops) return tflops;
  if (busbw_gbps) return busbw_gbps;
  return gbps;
}

std::string ResultRow::throughput_unit() const {
  if (tflops) return "TFLOP/s";
  if (busbw_gbps) return "GB/s (bus)";
  if (gbps) return "GB/s";
  return "";
}

std::vector<ResultRow> result_rows(const ResultFile& file, size_t index) {
  std::vector<ResultRow> rows;
  const RowOrigin origin = origin_of(file, index);
  const json& benchmarks = file.benchmarks();
  rows.reserve(benchmarks.size());
  for (size_t i = 0; i < benchmarks.size(); ++i) rows.push_back(row_of(benchmarks[i], origin, i));
  return rows;
}

std::vector<ResultRow> result_rows(const std::vector<ResultFile>& files) {
  std::vector<ResultRow> rows;
  for (size_t f = 0; f < files.size(); ++f) {
    std::vector<ResultRow> file_rows = result_rows(files[f], f);
    rows.insert(rows.end(), std::make_move_iterator(file_rows.begin()), std::make_move_iterator(file_rows.end()));
  }
  return rows;
}

std::vector<ResultRow> measurement_rows(const std::vector<ResultFile>& files) {
  std::vector<ResultRow> rows = result_rows(files);
  std::erase_if(rows, [](const ResultRow& row) { return row.aggregate; });
  return rows;
}

std::map<std::string, std::string> environment_of(const ResultFile& file) {
  const json& p = file.provenance();
  std::map<std::string, std::string> env;
  for (const auto& [name, version] : member(p, "versions").items()) {
    env["versions." + name] = version.is_string() ? version.get<std::string>() : version.dump();
  }
  const json& gpus = member(p, "gpus");
  if (gpus.is_array() && !gpus.empty()) {
    env["gpu.name"] = text(gpus[0], "name");
    env["gpu.uuid"] = text(gpus[0], "uuid");
    // A changed power limit explains a slower GPU as well as a changed driver does.
    if (auto limit = number(gpus[0], "power_limit_w")) {
      char buffer[32];
      std::snprintf(buffer, sizeof buffer, "%g", *limit);
      env["gpu.power_limit_w"] = buffer;
    }
  }
  env["telemetry.clock_policy"] = text(member(p, "telemetry"), "clock_policy");
  env["backend"] = text(p, "backend");
  std::erase_if(env, [](const auto& item) { return item.second.empty(); });
  return env;
}

RunFacts run_facts(const ResultFile& file, size_t index) {
  const json& p = file.provenance();
  RunFacts facts;
  facts.origin = origin_of(file, index);
  facts.ranks = static_cast<int>(number(p, "ranks").value_or(1));
  facts.gpu_count = member(p, "gpus").is_array() ? member(p, "gpus").size() : 0;
  facts.suite = text(p, "suite");
  facts.suite_version = static_cast<int>(number(p, "suite_version").value_or(0));
  facts.start_time = text(p, "start_time");
  facts.end_time = text(p, "end_time");
  facts.complete = member(p, "complete") == true;
  facts.format_version = static_cast<int>(number(p, "format_version").value_or(0));
  facts.aicbench_version = text(p, "aicbench_version");
  facts.git_commit = text(p, "git_commit");
  facts.command_line = text(p, "command_line");
  if (member(p, "git_dirty").is_boolean()) facts.git_dirty = member(p, "git_dirty").get<bool>();
  for (const auto& [name, version] : member(p, "versions").items()) {
    if (version.is_string()) facts.versions[name] = version.get<std::string>();
  }
  for (const json& gpu : member(p, "gpus")) {
    const json& health = member(gpu, "health");
    const std::string uuid = text(gpu, "uuid");
    if (!health.is_object() || uuid.empty()) continue;
    std::map<std::string, double>& counters = facts.gpu_health[uuid];
    for (const auto& [name, value] : health.items()) {
      if (value.is_number()) counters[name] = value.get<double>();
      if (value.is_boolean()) counters[name] = value.get<bool>() ? 1 : 0;
    }
    std::map<std::string, std::string>& missing = facts.gpu_health_missing[uuid];
    if (member(health, "available") == false) missing[""] = text(health, "reason");
    for (const auto& [name, why] : member(health, "unavailable").items()) {
      if (why.is_string()) missing[name] = why.get<std::string>();
    }
  }
  return facts;
}

}  // namespace aicbench
