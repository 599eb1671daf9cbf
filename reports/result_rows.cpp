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

// A rank, an index or a count that fits an int; nothing for anything else (the report reads
// unchecked JSON too).
std::optional<int> small_int(const json& object, const char* key) {
  const auto v = number(object, key);
  if (!v || !(*v >= 0 && *v <= 2147483647.0)) return std::nullopt;
  return static_cast<int>(*v);
}

ResultRow row_of(const json& b, const OriginReader& origins, size_t entry) {
  const json& info = b["aicbench"];
  ResultRow row;
  row.origin = origins.of(b);
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
    row.algbw_gbps = number(b, "algbw_gbps");
    row.busbw_gbps = number(b, "busbw_gbps");
    row.pct_of_peak = number(b, "pct_of_peak");
    row.pct_of_vendor = number(b, "pct_of_vendor");
  }
  if (auto wrong = number(member(info, "collective"), "wrong_elements")) row.wrong_elements = static_cast<int64_t>(*wrong);
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

// ==== Where a row was measured

namespace {

// "GPU-3f9a2c10-5b7e-4d21-9c8a-1e2f3a4b5c62" -> "GPU-3f9a2c10…"
std::string uuid_text(const std::string& uuid, bool short_uuid) {
  constexpr size_t kShown = 12;  // "GPU-" and 8 hex digits: unique enough to find it in the CSV
  return short_uuid && uuid.size() > kShown + 3 ? uuid.substr(0, kShown) + "…" : uuid;
}

}  // namespace

std::string RowOrigin::unit_label(bool short_uuid) const {
  if (spans) {
    return std::to_string(spans->ranks) + (spans->ranks == 1 ? " rank" : " ranks") + " on " + std::to_string(spans->nodes) +
           (spans->nodes == 1 ? " node" : " nodes");
  }
  if (gpu_index) return "GPU " + std::to_string(*gpu_index) + (gpu_uuid.empty() ? "" : " (" + uuid_text(gpu_uuid, short_uuid) + ")");
  if (!gpu_uuid.empty()) return uuid_text(gpu_uuid, short_uuid);
  return "rank " + std::to_string(rank);
}

std::string RowOrigin::label(bool short_uuid) const {
  if (spans) {
    std::string hosts;
    for (const std::string& h : spans->hosts) hosts += (hosts.empty() ? "" : ", ") + h;
    return "job: " + unit_label() + (hosts.empty() ? "" : " (" + hosts + ")");
  }
  return (host.empty() ? "(no hostname)" : host) + " " + unit_label(short_uuid);
}

OriginReader::OriginReader(const ResultFile& file, size_t index) {
  // Defensive throughout: the report reads files that never passed the reader.
  const json& p = member(member(file.json, "context"), ResultFile::kProvenanceKey);
  const json& job = member(p, "job");
  RowOrigin base;
  base.file = index;
  // The node as the job names it (what its rows' origin.node say), else the host's name.
  base.host = text(job, "node");
  if (base.host.empty()) base.host = text(member(p, "host"), "hostname");
  base.backend = text(p, "backend");
  base.rank = small_int(p, "rank").value_or(0);
  if (const json& gpus = member(p, "gpus"); gpus.is_array()) gpus_ = &gpus;
  const bool cuda = base.backend == "cuda" && gpus_ && !gpus_->empty();
  if (!cuda) base.device_name = text(member(p, "host"), "cpu_model");

  // The v2 meaning: the process's GPU, gpus[] at context.aicbench.device, else the first.
  size_t measured = 0;
  if (auto device = number(p, "device"); cuda && device) {
    for (size_t i = 0; i < gpus_->size(); ++i) {
      if (number((*gpus_)[i], "index") == device) measured = i;
    }
  }
  default_ = cuda ? gpu_origin(base, measured) : base;
  default_.gpu_index.reset();  // named by its UUID: its index is its own process's view
  file_ = default_;
  // A node's file of several GPUs (format 3) is the node's, not one GPU's.
  if (job.is_object() && cuda && gpus_->size() > 1) {
    file_ = base;
    file_.device_name = default_.device_name;
  }
}

RowOrigin OriginReader::gpu_origin(RowOrigin origin, size_t gpu) const {
  if (!gpus_ || gpu >= gpus_->size()) return origin;
  const json& g = (*gpus_)[gpu];
  origin.gpu_index = static_cast<int>(gpu);
  origin.device_name = text(g, "name");
  origin.gpu_uuid = text(g, "uuid");
  origin.power_limit_w = number(g, "power_limit_w");
  return origin;
}

RowOrigin OriginReader::of(const json& entry) const {
  const json& o = member(member(entry, "aicbench"), "origin");
  if (!o.is_object()) return default_;
  RowOrigin origin = default_;
  origin.explicit_origin = true;
  if (const std::string node = text(o, "node"); !node.empty()) origin.host = node;
  if (auto rank = small_int(o, "rank")) origin.rank = *rank;
  origin.local_rank = small_int(o, "local_rank");
  const json& spans = member(o, "spans");
  if (spans.is_object()) {
    RowOrigin::Spans s;
    s.ranks = small_int(spans, "ranks").value_or(0);
    s.nodes = small_int(spans, "nodes").value_or(0);
    for (const json& host : member(spans, "hosts")) {
      if (host.is_string()) s.hosts.push_back(host.get<std::string>());
    }
    origin.spans = std::move(s);
  }
  const std::optional<int> index = small_int(o, "gpu_index");
  const std::string uuid = text(o, "gpu_uuid");
  std::optional<size_t> gpu;
  if (index) {
    gpu = static_cast<size_t>(*index);
  } else if (!uuid.empty() && gpus_) {
    for (size_t i = 0; i < gpus_->size(); ++i) {
      if (text((*gpus_)[i], "uuid") == uuid) gpu = i;
    }
  }
  if (gpu && gpus_ && *gpu < gpus_->size()) return gpu_origin(std::move(origin), *gpu);
  if (origin.spans) {
    // Every rank's GPU, none in particular; device_name stays the model they are.
    origin.gpu_index.reset();
    origin.gpu_uuid.clear();
    origin.power_limit_w.reset();
  }
  return origin;
}

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
  const OriginReader origins(file, index);
  const json& benchmarks = file.benchmarks();
  rows.reserve(benchmarks.size());
  for (size_t i = 0; i < benchmarks.size(); ++i) rows.push_back(row_of(benchmarks[i], origins, i));
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

namespace {

std::string limit_text(double limit) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%g", limit);
  return buffer;
}

// versions.*, the clock policy and the backend: what every GPU of a file shares.
std::map<std::string, std::string> file_environment(const json& p) {
  std::map<std::string, std::string> env;
  for (const auto& [name, version] : member(p, "versions").items()) {
    env["versions." + name] = version.is_string() ? version.get<std::string>() : version.dump();
  }
  env["telemetry.clock_policy"] = text(member(p, "telemetry"), "clock_policy");
  env["backend"] = text(p, "backend");
  return env;
}

// The first GPU's facts, for a file of one process (formats 1 and 2, or one GPU).
void add_first_gpu(std::map<std::string, std::string>& env, const json& p) {
  const json& gpus = member(p, "gpus");
  const bool node_file = member(p, "job").is_object() && gpus.is_array() && gpus.size() > 1;
  if (!gpus.is_array() || gpus.empty() || node_file) return;
  env["gpu.name"] = text(gpus[0], "name");
  env["gpu.uuid"] = text(gpus[0], "uuid");
  // A changed power limit explains a slower GPU as well as a changed driver does.
  if (auto limit = number(gpus[0], "power_limit_w")) env["gpu.power_limit_w"] = limit_text(*limit);
}

std::map<std::string, std::string> without_empty(std::map<std::string, std::string> env) {
  std::erase_if(env, [](const auto& item) { return item.second.empty(); });
  return env;
}

}  // namespace

void add_gpu_environment(std::map<std::string, std::string>& env, const RowOrigin& origin) {
  if (!origin.gpu_index) return;
  env["gpu.name"] = origin.device_name;
  env["gpu.uuid"] = origin.gpu_uuid;
  if (origin.power_limit_w) env["gpu.power_limit_w"] = limit_text(*origin.power_limit_w);
  else env.erase("gpu.power_limit_w");
}

std::map<std::string, std::string> environment_of(const ResultFile& file) {
  const json& p = file.provenance();
  std::map<std::string, std::string> env = file_environment(p);
  add_first_gpu(env, p);
  return without_empty(std::move(env));
}

std::map<std::string, std::string> environment_of(const ResultFile& file, const RowOrigin& origin) {
  const json& p = file.provenance();
  std::map<std::string, std::string> env = file_environment(p);
  if (origin.gpu_index) {
    add_gpu_environment(env, origin);
  } else if (!origin.explicit_origin) {
    add_first_gpu(env, p);
  } else if (origin.backend == "cuda") {
    env["gpu.name"] = origin.device_name;  // a job-wide row: the model of every GPU it ran on
  }
  return without_empty(std::move(env));
}

RunFacts run_facts(const ResultFile& file, size_t index) {
  const json& p = file.provenance();
  RunFacts facts;
  const OriginReader origins(file, index);
  facts.origin = origins.file_origin();
  std::map<int, RowOrigin> units;
  for (const json& entry : file.benchmarks()) {
    RowOrigin origin = origins.of(entry);
    if (!origin.job_wide()) units.try_emplace(origin.rank, std::move(origin));
  }
  for (auto& [rank, origin] : units) facts.units.push_back(std::move(origin));
  facts.ranks = small_int(p, "ranks").value_or(1);
  const json& job = member(p, "job");
  if (auto ranks = small_int(job, "ranks")) facts.ranks = *ranks;
  facts.nodes = small_int(job, "nodes").value_or(1);
  for (const json& rank : member(job, "node_ranks")) {
    if (rank.is_number_integer()) facts.node_ranks.push_back(rank.get<int>());
  }
  facts.gpu_count = member(p, "gpus").is_array() ? member(p, "gpus").size() : 0;
  facts.suite = text(p, "suite");
  facts.suite_version = static_cast<int>(number(p, "suite_version").value_or(0));
  facts.suite_file = text(p, "suite_file");
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
