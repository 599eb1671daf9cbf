#include "reports/report_model.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <tuple>
#include <set>
#include <unordered_map>

#include "reports/result_fields.hpp"
#include "reports/text_format.hpp"

namespace aicbench::reports {

using nlohmann::json;

namespace {

// ==== Rows

// The benchmark an entry belongs to. Google Benchmark writes run_name on every entry; without
// it, an aggregate's name loses its `_<aggregate_name>` suffix.
std::string run_name_of(const json& entry) {
  std::string run_name = text(entry, "run_name");
  if (!run_name.empty()) return run_name;
  std::string name = text(entry, "name");
  const std::string suffix = "_" + text(entry, "aggregate_name");
  if (text(entry, "run_type") == "aggregate" && suffix.size() > 1 && name.size() > suffix.size() &&
      name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
    name.erase(name.size() - suffix.size());
  }
  return name;
}

bool is_aggregate(const json& entry) { return text(entry, "run_type") == "aggregate"; }

// real_time in seconds, read through its time_unit; the measurement's median where that fails.
std::optional<double> time_in_seconds(const json& entry) {
  const auto time = number(entry, "real_time");
  const auto unit = seconds_per_time_unit(text(entry, "time_unit"));
  if (time && unit && text(entry, "aggregate_unit") != "percentage") return *time * *unit;
  return number(field(field(entry, "aicbench"), "measurement"), "median_s");
}

ReportRow row_of(size_t file, const json& entry, std::string name) {
  const json& info = field(entry, "aicbench");
  const json& m = field(info, "measurement");
  ReportRow row;
  row.file = file;
  row.entry = &entry;
  row.name = std::move(name);
  row.family = text(info, "family");
  row.impl = text(info, "impl");
  row.dtype = text(info, "dtype");
  row.mode = text(info, "mode");
  if (row.mode.empty()) row.mode = text(m, "mode");
  row.status = text(info, "status");
  row.reason = text(info, "reason");
  if (row.reason.empty()) row.reason = text(entry, "error_message");
  row.params = &field(info, "params");
  row.time_s = time_in_seconds(entry);
  row.q1_s = number(m, "q1_s");
  row.q3_s = number(m, "q3_s");
  row.min_s = number(m, "min_s");
  row.max_s = number(m, "max_s");
  row.samples = number(m, "samples");
  // One sample has no spread: a rel_stddev of 0 there would read as a perfectly steady result.
  if (!row.samples || *row.samples >= 2) row.noise = number(m, "rel_stddev");
  row.discarded_throttled = number(m, "discarded_throttled");
  row.timed_out = is_true(m, "timed_out");
  row.unstable = is_true(info, "unstable") || is_true(m, "unstable");
  return row;
}

void keep_min(std::optional<double>& into, std::optional<double> v) { if (v && (!into || *v < *into)) into = v; }
void keep_max(std::optional<double>& into, std::optional<double> v) { if (v && (!into || *v > *into)) into = v; }
void add_to(std::optional<double>& into, std::optional<double> v) { if (v) into = into.value_or(0) + *v; }

// The median aggregate's row, completed from its repetitions where the aggregate itself does
// not say: the widest quartiles, the largest per-sample noise, the total samples, and how many
// repetitions were unstable or not ok.
void fold_repetitions(ReportRow& row, const std::vector<const json*>& repetitions, const json* cv) {
  const json& own = field(field(*row.entry, "aicbench"), "measurement");
  ReportRow folded;
  for (const json* rep : repetitions) {
    ReportRow r = row_of(row.file, *rep, row.name);
    keep_min(folded.q1_s, r.q1_s);
    keep_max(folded.q3_s, r.q3_s);
    keep_min(folded.min_s, r.min_s);
    keep_max(folded.max_s, r.max_s);
    keep_max(folded.noise, r.noise);
    add_to(folded.samples, r.samples);
    add_to(folded.discarded_throttled, r.discarded_throttled);
    row.timed_out = row.timed_out || r.timed_out;
    row.unstable_repetitions += r.unstable;
    row.failed_repetitions += r.status != kStatusOk;
  }
  if (!own.is_object()) {
    row.q1_s = folded.q1_s;
    row.q3_s = folded.q3_s;
    row.min_s = folded.min_s;
    row.max_s = folded.max_s;
    row.noise = folded.noise;
    row.samples = folded.samples;
    row.discarded_throttled = folded.discarded_throttled;
  }
  const auto declared = number(*row.entry, "repetitions");
  row.repetitions = !repetitions.empty() ? static_cast<int>(repetitions.size())
                    : declared && *declared >= 1 && *declared < 1e9 ? static_cast<int>(*declared) : 1;
  if (cv) row.repetition_cv = number(*cv, "real_time");
  // The runner's summary on the aggregate (aicbench.repetitions), where there is one, is the
  // authority: it counts the repetitions even where their rows are gone.
  const json& summary = field(field(*row.entry, "aicbench"), "repetitions");
  if (summary.is_object()) {
    auto count = [&](const char* key, int fallback) {
      auto v = number(summary, key);
      return v && *v >= 0 && *v < 1e9 ? static_cast<int>(*v) : fallback;
    };
    row.repetitions = std::max(1, count("count", row.repetitions));
    row.unstable_repetitions = count("unstable", row.unstable_repetitions);
    row.timed_out = row.timed_out || count("timed_out", 0) > 0;
    if (auto v = number(summary, "samples")) row.samples = v;
    if (auto v = number(summary, "discarded_throttled")) row.discarded_throttled = v;
    if (auto v = number(summary, "max_rel_stddev")) row.noise = v;
  }
  row.unstable = row.unstable || row.unstable_repetitions > 0;
}

}  // namespace

std::vector<ReportRow> report_rows(const std::vector<ResultFile>& files) {
  std::vector<ReportRow> rows;
  for (size_t f = 0; f < files.size(); ++f) {
    const json& benchmarks = field(files[f].json, "benchmarks");  // a reference: rows point into it
    if (!benchmarks.is_array()) continue;
    const OriginReader origins(files[f], f);
    struct Group {
      std::vector<const json*> runs;  // entries that are not aggregates, in file order
      const json* median = nullptr;
      const json* cv = nullptr;
    };
    // A benchmark per GPU (rank): its repetitions fold together, never with another GPU's.
    struct Key {
      std::string name;
      RowOrigin origin;
    };
    std::vector<Key> order;
    std::unordered_map<std::string, Group> groups;
    for (const json& entry : benchmarks) {
      if (!entry.is_object() || !field(entry, "aicbench").is_object()) continue;
      std::string name = run_name_of(entry);
      RowOrigin origin = origins.of(entry);
      const std::string key = name + '\n' + std::to_string(origin.rank) + (origin.job_wide() ? "\njob" : "");
      auto [it, inserted] = groups.try_emplace(key);
      if (inserted) order.push_back({name, std::move(origin)});
      Group& group = it->second;
      if (!is_aggregate(entry)) {
        group.runs.push_back(&entry);
      } else if (text(entry, "aggregate_name") == "median" && !group.median) {
        group.median = &entry;
      } else if (text(entry, "aggregate_name") == "cv" && !group.cv) {
        group.cv = &entry;
      }
    }
    for (const Key& key : order) {
      const Group& group = groups[key.name + '\n' + std::to_string(key.origin.rank) + (key.origin.job_wide() ? "\njob" : "")];
      if (group.median) {
        ReportRow row = row_of(f, *group.median, key.name);
        fold_repetitions(row, group.runs, group.cv);
        row.origin = key.origin;
        rows.push_back(std::move(row));
      } else {
        for (const json* entry : group.runs) {
          rows.push_back(row_of(f, *entry, key.name));
          rows.back().origin = key.origin;
        }
      }
    }
  }
  return rows;
}

bool names_gpus(const std::vector<ReportRow>& rows) {
  std::optional<std::pair<size_t, int>> first;
  for (const ReportRow& row : rows) {
    if (row.origin.job_wide()) return true;
    const std::pair<size_t, int> unit{row.file, row.origin.rank};
    if (row.origin.explicit_origin && first && first->first == unit.first && first->second != unit.second) return true;
    if (!first || first->first != unit.first) first = unit;
  }
  return false;
}

std::string gpu_cell(const RowOrigin& origin) {
  if (origin.job_wide()) return origin.unit_label();
  if (origin.gpu_index) return "GPU " + std::to_string(*origin.gpu_index);
  return "rank " + std::to_string(origin.rank);
}

size_t count_units(const std::vector<ReportRow>& rows) {
  std::set<std::tuple<size_t, int, bool>> units;
  for (const ReportRow& row : rows) {
    if (!row.origin.job_wide()) units.insert({row.file, row.origin.rank, false});
  }
  return units.size();
}

std::optional<double> ok_metric(const ReportRow& row, const char* counter) {
  if (!row.ok() || !row.entry) return std::nullopt;
  return number(*row.entry, counter);
}

std::string shape_of(const json& params) {
  if (!params.is_object() || params.empty()) return "";
  if (params.size() == 3 && params.contains("M") && params.contains("N") && params.contains("K")) {
    return text(params, "M") + "x" + text(params, "N") + "x" + text(params, "K");
  }
  // GPU indices first (src, dst: a pair reads as a pair), then the rest in name order.
  std::vector<std::string> parts;
  for (const char* key : {"src", "dst"}) {
    if (params.contains(key)) parts.push_back(std::string(key) + "=" + text(params, key));
  }
  for (const auto& [key, value] : params.items()) {
    if (key != "src" && key != "dst") parts.push_back(key + "=" + text(params, key.c_str()));
  }
  return join(parts, " ");
}

std::string status_text(const ReportRow& row) {
  if (!row.ok()) {
    std::string out = row.status.empty() ? "unknown status" : row.status;
    std::string reason = row.reason;
    const json& validation = field(field(*row.entry, "aicbench"), "validation");
    auto err = number(validation, "max_rel_err");
    auto tol = number(validation, "tolerance");
    if (row.status == kStatusFailed && err && tol) {
      reason += " (measured max_rel_err " + printf_double("%.1e", *err) + ", tolerance " + printf_double("%.1e", *tol) + ")";
    }
    return reason.empty() ? out : out + ": " + reason;
  }
  std::string out = "ok";
  if (row.unstable) {
    out += ", UNSTABLE: ";
    if (row.repetitions > 1) {
      out += row.unstable_repetitions > 0
                 ? std::to_string(row.unstable_repetitions) + " of " + std::to_string(row.repetitions) + " repetitions noisy"
                 : "flagged by the run";
    } else {
      out += "noise above target";
    }
    if (row.timed_out) out += ", timed out";
  }
  if (row.failed_repetitions > 0) {
    out += "; " + std::to_string(row.failed_repetitions) + " of " + std::to_string(row.repetitions) + " repetitions not ok";
  }
  if (row.discarded_throttled && *row.discarded_throttled > 0) {
    out += "; " + whole_number(*row.discarded_throttled) + " throttled samples discarded";
  }
  return out;
}

// ==== Runs

namespace {

std::string describe_gpu(const json& gpu) {
  std::vector<std::string> details;
  if (auto cc = text(gpu, "compute_capability"); !cc.empty()) details.push_back("CC " + cc);
  if (auto sms = number(gpu, "sm_count")) details.push_back(whole_number(*sms) + " SMs");
  if (auto mem = number(gpu, "memory_bytes")) details.push_back(sig3(*mem / (1024.0 * 1024.0 * 1024.0)) + " GiB");
  if (auto clk = number(gpu, "max_sm_clock_mhz")) details.push_back(whole_number(*clk) + " MHz");
  if (field(gpu, "ecc_enabled").is_boolean()) details.push_back(is_true(gpu, "ecc_enabled") ? "ECC on" : "ECC off");
  std::string name = text(gpu, "name");
  return (name.empty() ? "unnamed GPU" : name) + (details.empty() ? "" : " (" + join(details, ", ") + ")");
}

// Identical items counted, not repeated: a node has eight of the same GPU.
std::string count_alike(const std::vector<std::string>& items) {
  std::vector<std::pair<std::string, int>> counted;
  for (const auto& item : items) {
    auto it = std::find_if(counted.begin(), counted.end(), [&](const auto& c) { return c.first == item; });
    if (it == counted.end()) counted.emplace_back(item, 1); else ++it->second;
  }
  std::vector<std::string> out;
  for (const auto& [item, count] : counted) out.push_back((count > 1 ? std::to_string(count) + " × " : "") + item);
  return join(out, "; ");
}

const json& provenance_of(const ResultFile& file) {
  return field(field(file.json, "context"), ResultFile::kProvenanceKey);
}

// "2026-11-24T22:00:05Z" -> "11-24 22:00"; anything else as it is, shortened.
std::string short_time(const std::string& iso) {
  if (iso.size() >= 16 && iso[4] == '-' && iso[10] == 'T') return iso.substr(5, 5) + " " + iso.substr(11, 5);
  return iso.substr(0, 20);
}

std::string complete_text(const json& p) {
  const json& complete = field(p, "complete");
  return complete.is_boolean() ? (complete.get<bool>() ? "yes" : "no") : "not recorded";
}

}  // namespace

const json& measured_gpu(const ResultFile& file) {
  static const json kNull;
  const json& p = provenance_of(file);
  const json& gpus = field(p, "gpus");
  if (!gpus.is_array() || gpus.empty()) return kNull;
  if (auto device = number(p, "device")) {
    for (const json& gpu : gpus) {
      if (number(gpu, "index") == device) return gpu;
    }
  }
  return gpus.front();
}

bool incomplete(const ResultFile& file) { return field(provenance_of(file), "complete") == false; }

std::vector<RunSummary> summarize_runs(const std::vector<ResultFile>& files) {
  std::vector<RunSummary> runs;
  std::set<std::string> hosts, starts;
  for (const ResultFile& file : files) {
    const json& p = provenance_of(file);
    RunSummary run;
    run.number = runs.size() + 1;
    run.file = replace_control_characters(file.path.filename().string());
    run.host = text(field(p, "host"), "hostname");
    std::vector<std::string> gpus;
    if (field(p, "gpus").is_array()) {
      for (const json& gpu : field(p, "gpus")) gpus.push_back(text(gpu, "name").empty() ? "unnamed GPU" : text(gpu, "name"));
    }
    run.gpu = gpus.empty() ? "none" : count_alike(gpus);
    run.backend = text(p, "backend");
    run.suite = text(p, "suite");
    run.start = text(p, "start_time");
    run.commit = text(p, "git_commit").substr(0, 12) + (is_true(p, "git_dirty") ? " (dirty)" : "");
    run.complete = complete_text(p);
    hosts.insert(run.host);
    starts.insert(short_time(run.start));
    runs.push_back(std::move(run));
  }
  for (size_t i = 0; i < runs.size(); ++i) {
    runs[i].label = join({runs[i].tag(), hosts.size() > 1 ? runs[i].host.substr(0, 24) : "",
                          starts.size() > 1 ? short_time(runs[i].start) : ""},
                         " ");
  }
  return runs;
}

std::string summarize_fleet(const std::vector<RunSummary>& runs) {
  std::set<std::string> hosts;
  std::vector<std::string> gpus, backends, suites;
  size_t incomplete_runs = 0;
  for (const RunSummary& run : runs) {
    hosts.insert(run.host);
    gpus.push_back(run.gpu);
    backends.push_back(run.backend);
    suites.push_back(run.suite);
    incomplete_runs += run.complete == "no";
  }
  return std::to_string(runs.size()) + " runs on " + std::to_string(hosts.size()) + " hosts. GPUs per run: " + count_alike(gpus) +
         ". Backend: " + count_alike(backends) + ". Suite: " + count_alike(suites) + ". " +
         (incomplete_runs ? std::to_string(incomplete_runs) + " incomplete (stopped early)." : "All complete.");
}

std::vector<std::pair<std::string, std::string>> provenance_items(const ResultFile& file) {
  const json& p = provenance_of(file);
  std::vector<std::pair<std::string, std::string>> items;
  const json& host = field(p, "host");
  std::vector<std::string> cpu = {text(host, "cpu_model")};
  if (auto cores = number(host, "cpu_cores")) cpu.push_back(whole_number(*cores) + " hardware threads");
  if (auto mem = number(host, "memory_bytes")) cpu.push_back(sig3(*mem / (1024.0 * 1024.0 * 1024.0)) + " GiB");
  items.emplace_back("Host", join({text(host, "hostname"), text(host, "os"), join(cpu, ", ")}, " · "));

  std::vector<std::string> gpus;
  if (field(p, "gpus").is_array()) {
    for (const auto& gpu : field(p, "gpus")) gpus.push_back(describe_gpu(gpu));
  }
  std::string no_gpu = text(p, "gpu_unavailable_reason");
  items.emplace_back("GPUs", gpus.empty() ? "none: " + (no_gpu.empty() ? "no reason recorded" : no_gpu) : count_alike(gpus));
  const json& job = field(p, "job");
  if (job.is_object()) {
    // A node's file (format 3): which job, and which of its ranks this file holds.
    std::vector<std::string> ranks;
    if (field(job, "node_ranks").is_array()) {
      for (const json& r : field(job, "node_ranks")) ranks.push_back(r.is_number() ? r.dump() : "?");
    }
    const std::string launcher = text(job, "launcher");
    auto counted = [](const std::string& n, const char* one, const char* many) { return n + " " + (n == "1" ? one : many); };
    const std::string spans = counted(text(job, "ranks"), "rank", "ranks") + " on " + counted(text(job, "nodes"), "node", "nodes");
    items.emplace_back("Job", join({launcher.empty() ? "" : launcher + ":", spans + ";",
                                    "this file: node " + text(job, "node") +
                                        (text(job, "node_index").empty() ? "" : " (node index " + text(job, "node_index") + ")") +
                                        (ranks.size() == 1 ? ", rank " : ", ranks ") + join(ranks, ", ")},
                                   " "));
    if (field(p, "gpus").is_array() && field(p, "gpus").size() > 1) {
      std::vector<std::string> uuids;
      size_t i = 0;
      for (const json& gpu : field(p, "gpus")) uuids.push_back("GPU " + std::to_string(i++) + ": " + text(gpu, "uuid"));
      items.emplace_back("GPU UUIDs", join(uuids, ", "));
    }
  }
  const std::string backend = text(p, "backend");
  std::string backend_reason = text(p, "backend_reason");
  items.emplace_back("Backend", backend + (backend_reason.empty() ? "" : " (" + backend_reason + ")"));
  std::vector<std::string> versions;
  if (field(p, "versions").is_object()) {
    for (const auto& [name, value] : field(p, "versions").items()) versions.push_back(name + " " + text(field(p, "versions"), name.c_str()));
  }
  items.emplace_back("Versions", join(versions, ", "));
  std::string suite_version = text(p, "suite_version");
  const std::string suite_file = text(p, "suite_file");
  items.emplace_back("Suite", text(p, "suite") + (suite_version.empty() ? "" : " (version " + suite_version + ")") +
                                  (suite_file.empty() ? "" : ", from the file " + suite_file));
  std::string dirty = is_true(p, "git_dirty") ? " (dirty tree)" : "";
  items.emplace_back("aicbench", join({text(p, "aicbench_version"), "commit " + text(p, "git_commit") + dirty}, ", "));
  items.emplace_back("Command", text(p, "command_line"));
  if (const json& m = field(p, "methodology"); m.is_object()) {
    std::string rule = "at least " + text(m, "min_samples") + " samples and " + text(m, "min_time_s") +
                       " s measured, until the noise is under " + printf_double("%.2g", 100 * number(m, "max_noise").value_or(0)) +
                       " % or it stops changing, at most " + text(m, "timeout_s") + " s; ";
    // The throttle threshold is about SM clocks, which only a GPU run reads.
    if (backend != "cpu") {
      rule += "samples below " + printf_double("%.0f", 100 * std::clamp(number(m, "throttle_threshold").value_or(0), 0.0, 1e6)) +
              " % of max SM clock discarded; ";
    }
    rule += text(m, "repetitions") + " repetition(s); " + text(m, "timer");
    items.emplace_back("Methodology", rule);
  }
  if (const json& t = field(p, "telemetry"); t.is_object()) {
    items.emplace_back("Telemetry", is_true(t, "available") ? text(t, "source") + ", clock policy: " + text(t, "clock_policy")
                                                            : "unavailable: " + text(t, "reason"));
  }
  if (auto ranks = number(p, "ranks"); ranks && *ranks > 1 && !job.is_object()) {
    items.emplace_back("Rank", text(p, "rank") + " of " + text(p, "ranks"));
  }
  items.emplace_back("Started", text(p, "start_time"));
  items.emplace_back("Ended", text(p, "end_time").empty() ? "not recorded" : text(p, "end_time"));
  const std::string complete = complete_text(p);
  items.emplace_back("Complete", complete == "no" ? "no: the run stopped early" : complete);
  std::erase_if(items, [](const auto& item) { return item.second.empty(); });
  return items;
}

// ==== View

ViewChoice choose_view(size_t file_count, size_t gpu_count) {
  if (file_count <= kMaxDetailedRuns && gpu_count <= kMaxDetailedRuns) return {};
  if (file_count <= kMaxDetailedRuns) {
    return {true, std::to_string(gpu_count) + " GPUs (ranks) in " + std::to_string(file_count) + " result file" +
                      (file_count == 1 ? "" : "s") + " (more than " + std::to_string(kMaxDetailedRuns) +
                      " GPUs): one row per run, and each benchmark as its distribution across the GPUs. "
                      "Every single result is in the CSV export (report --csv)."};
  }
  return {true, std::to_string(file_count) + " result files (more than " + std::to_string(kMaxDetailedRuns) +
                    "): one row per run, and each benchmark as its distribution across the runs" +
                    (gpu_count > file_count ? " and their GPUs" : "") +
                    ". Every single result is in the CSV export (report --csv)."};
}

// ==== Distributions

std::optional<Quantiles> quantiles(std::vector<double> values) {
  std::erase_if(values, [](double v) { return !std::isfinite(v); });
  if (values.empty()) return std::nullopt;
  std::sort(values.begin(), values.end());
  auto at = [&](double p) {
    const double position = p * static_cast<double>(values.size() - 1);
    const size_t below = static_cast<size_t>(std::floor(position));
    const size_t above = std::min(below + 1, values.size() - 1);
    const double fraction = position - static_cast<double>(below);
    // Written so that huge values (1e300) do not overflow: a + f*(b - a) may, this may not.
    return values[below] * (1 - fraction) + values[above] * fraction;
  };
  return Quantiles{values.size(), values.front(), at(0.25), at(0.5), at(0.75), values.back()};
}

std::optional<double> metric_value(const ReportRow& row, const Metric& metric) {
  std::optional<double> v = metric.counter ? ok_metric(row, metric.counter) : row.ok() ? row.time_s : std::nullopt;
  return v && *v > 0 ? v : std::nullopt;
}

Metric choose_metric(const std::vector<const ReportRow*>& rows) {
  static const Metric kThroughputs[] = {{"tflops", "TFLOP/s"}, {"busbw_gbps", "bus bandwidth (GB/s)"}, {"gbps", "GB/s"}};
  for (const Metric& metric : kThroughputs) {
    if (std::any_of(rows.begin(), rows.end(), [&](const ReportRow* r) { return metric_value(*r, metric).has_value(); })) {
      return metric;
    }
  }
  return {nullptr, "time"};
}

std::vector<Distribution> distributions(const std::vector<ReportRow>& rows) {
  std::vector<std::string> order;
  std::unordered_map<std::string, std::vector<const ReportRow*>> by_name;
  for (const ReportRow& row : rows) {
    auto [it, inserted] = by_name.try_emplace(row.name);
    if (inserted) order.push_back(row.name);
    it->second.push_back(&row);
  }
  std::vector<Distribution> out;
  for (const std::string& name : order) {
    const auto& group = by_name[name];
    Distribution d;
    d.name = name;
    d.first = group.front();
    d.metric = choose_metric(group);
    std::vector<double> values;
    std::optional<double> worst_value;
    for (const ReportRow* row : group) {
      ++d.results;
      d.ok += row->ok();
      d.failed += row->status == kStatusFailed;
      d.errors += !row->ok() && row->status != kStatusFailed && row->status != kStatusSkipped;
      d.skipped += row->status == kStatusSkipped;
      d.unstable += row->ok() && row->unstable;
      auto v = metric_value(*row, d.metric);
      if (!v) continue;
      values.push_back(*v);
      const bool worse = !worst_value || (d.metric.higher_is_better() ? *v < *worst_value : *v > *worst_value);
      if (worse) {
        worst_value = v;
        d.worst = row;
      }
    }
    d.spread = quantiles(std::move(values));
    out.push_back(std::move(d));
  }
  return out;
}

}  // namespace aicbench::reports
