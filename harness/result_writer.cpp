#include "harness/result_writer.hpp"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>

#include <fcntl.h>
#include <unistd.h>

#include "harness/clock.hpp"
#include "harness/file_names.hpp"
#include "reports/result_file.hpp"

namespace aicbench {

std::string ResultFileName::stem() const {
  // Suite and host names are cut to 64 characters each, so the whole name stays far below the
  // 255 bytes a file name may have.
  constexpr size_t kMaxPart = 64;
  std::string name = "aicbench-" + plain_name_part(suite, kMaxPart) + "-" + plain_name_part(backend, kMaxPart) +
                     "-" + plain_name_part(host, kMaxPart) + "-" + plain_name_part(utc_time, kMaxPart);
  if (node) name += "-node" + std::to_string(*node);
  name += "-rank" + std::to_string(rank);
  if (gpu) name += "-gpu" + std::to_string(*gpu);
  return name + "-pid" + std::to_string(pid);
}

std::filesystem::path reserve_result_file(const std::filesystem::path& dir, const std::string& stem) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw InputError("cannot create the output directory " + dir.string() + ": " + ec.message());
  // Another process with the same stem is a process of the same rank and pid on the same host in
  // the same second (containers share pids): rare, so a short walk of suffixes settles it.
  constexpr int kMaxAttempts = 1000;
  for (int attempt = 1; attempt <= kMaxAttempts; ++attempt) {
    const std::filesystem::path path =
        dir / (stem + (attempt == 1 ? "" : "-" + std::to_string(attempt)) + ".json");
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd >= 0) {
      ::close(fd);
      return path;
    }
    if (errno != EEXIST) {
      throw InputError("cannot create a result file in " + dir.string() + ": " + path.filename().string() +
                       ": " + std::strerror(errno));
    }
  }
  throw InputError("cannot create a result file in " + dir.string() + ": " + stem + ".json and " +
                   std::to_string(kMaxAttempts - 1) + " numbered variants exist already");
}

namespace {

std::string utc_now_iso8601() { return format_time_now("%Y-%m-%dT%H:%M:%SZ"); }

// A duration in the unit that suits it: "812 ns", "1.532 ms", "2.5 s".
std::string format_seconds(double seconds) {
  struct Unit { double scale; const char* name; };
  static constexpr Unit kUnits[] = {{1, "s"}, {1e-3, "ms"}, {1e-6, "us"}, {1e-9, "ns"}};
  for (const Unit& unit : kUnits) {
    if (std::abs(seconds) >= unit.scale || unit.scale == 1e-9) {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%.4g %s", seconds / unit.scale, unit.name);
      return buf;
    }
  }
  return "";
}

// Seconds in one `time_unit` of a result row.
double seconds_per(const std::string& time_unit) {
  if (time_unit == "ns") return 1e-9;
  if (time_unit == "us") return 1e-6;
  if (time_unit == "ms") return 1e-3;
  return 1;
}

bool same_problem(const BenchmarkSpec& a, const BenchmarkSpec& b) {
  // Parameters compared by name, whatever their order (rows gathered from other ranks come back
  // with them sorted).
  return a.family == b.family && a.dtype == b.dtype && a.mode == b.mode && a.backend == b.backend &&
         a.params_json() == b.params_json();
}

// The world rank a row was measured on (aicbench.origin.rank; 0 where the row has no origin).
int origin_rank(const nlohmann::json& row) {
  const auto info = row.find("aicbench");
  if (info == row.end() || !info->contains("origin")) return 0;
  return (*info)["origin"].value("rank", 0);
}

// The same row of the same run on the same rank: a repetition matches its repetition, an
// aggregate its aggregate.
bool same_row(const nlohmann::json& a, const nlohmann::json& b) {
  return a.value("run_type", "") == b.value("run_type", "") &&
         a.value("aggregate_name", "") == b.value("aggregate_name", "") &&
         a.value("repetition_index", -1) == b.value("repetition_index", -1) && origin_rank(a) == origin_rank(b);
}

}  // namespace

ResultWriter::ResultWriter(std::filesystem::path path, nlohmann::json provenance,
                           std::map<std::string, double> peak_tflops)
    : path_(std::move(path)), provenance_(std::move(provenance)), peak_tflops_(std::move(peak_tflops)) {
  provenance_["format_version"] = kWrittenResultFormatVersion;
  provenance_["start_time"] = utc_now_iso8601();
}

void ResultWriter::set_benchmark_context(nlohmann::json context) {
  std::lock_guard lock(mutex_);
  gbench_context_ = std::move(context);
}

void ResultWriter::set_peak_tflops_for_rank(int rank, std::map<std::string, double> peak_tflops) {
  std::lock_guard lock(mutex_);
  peak_tflops_by_rank_[rank] = std::move(peak_tflops);
}

void ResultWriter::set_aborted_reason(const std::string& reason) {
  std::lock_guard lock(mutex_);
  provenance_["aborted_reason"] = reason;
}

nlohmann::json make_result_row(const BenchmarkSpec& spec, nlohmann::json entry, const std::string& status,
                               const std::optional<std::string>& reason, const nlohmann::json& validation,
                               const nlohmann::json& details, const nlohmann::json& origin) {
  nlohmann::json info = {{"family", spec.family},   {"impl", spec.impl},
                         {"dtype", spec.dtype},     {"backend", to_string(spec.backend)},
                         {"vendor", spec.vendor},   {"params", spec.params_json()},
                         {"mode", to_string(spec.mode)}, {"status", status}};
  if (reason) info["reason"] = *reason;
  if (!validation.is_null()) info["validation"] = validation;
  if (details.is_object()) {
    for (const auto& [key, value] : details.items()) info[key] = value;
    if (details.contains("measurement")) info["unstable"] = details["measurement"]["unstable"];
    // An aggregate is as unstable as its least stable repetition.
    if (details.contains("repetitions")) info["unstable"] = details["repetitions"]["unstable"] > 0;
  }
  if (!entry.contains("name")) entry["name"] = spec.name();
  if (!entry.contains("run_name")) entry["run_name"] = spec.name();
  if (status != kStatusOk) {
    // Google Benchmark's own convention for a result that must not be read as a number.
    entry["error_occurred"] = true;
    entry["error_message"] = reason.value_or(status);
  }
  if (origin.is_object()) info["origin"] = origin;
  entry["aicbench"] = info;
  return entry;
}

BenchmarkSpec spec_of_row(const nlohmann::json& row) {
  const nlohmann::json& info = row.at("aicbench");
  BenchmarkSpec spec;
  spec.family = info.value("family", "");
  spec.impl = info.value("impl", "");
  spec.dtype = info.value("dtype", "");
  spec.backend = info.value("backend", "") == "cuda" ? Backend::cuda : Backend::cpu;
  spec.vendor = info.value("vendor", false);
  spec.mode = info.value("mode", "") == "hot" ? MeasureMode::hot : MeasureMode::cold;
  if (info.contains("params")) {
    for (const auto& [name, value] : info["params"].items()) spec.params.push_back({name, value.get<int64_t>()});
  }
  return spec;
}

void ResultWriter::add(const BenchmarkSpec& spec, nlohmann::json entry, const std::string& status,
                       const std::optional<std::string>& reason, const nlohmann::json& validation,
                       const nlohmann::json& details) {
  nlohmann::json row = make_result_row(spec, std::move(entry), status, reason, validation, details);
  std::lock_guard lock(mutex_);
  entries_.emplace_back(spec, std::move(row));
}

void ResultWriter::add_row(nlohmann::json row) {
  BenchmarkSpec spec = spec_of_row(row);
  std::lock_guard lock(mutex_);
  nlohmann::json& info = row["aicbench"];
  if (info.contains("origin") && info["origin"].contains("gpu_uuid") && provenance_.contains("gpus")) {
    const nlohmann::json& gpus = provenance_["gpus"];
    for (size_t i = 0; i < gpus.size(); ++i) {
      if (gpus[i].value("uuid", "") == info["origin"]["gpu_uuid"]) info["origin"]["gpu_index"] = i;
    }
  }
  entries_.emplace_back(std::move(spec), std::move(row));
}

size_t ResultWriter::size() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

// Counts measurements, not Google Benchmark's aggregates over repetitions.
size_t ResultWriter::count_unstable() const {
  std::lock_guard lock(mutex_);
  size_t n = 0;
  for (const auto& [spec, entry] : entries_) {
    n += entry.value("run_type", "") != "aggregate" && entry["aicbench"].value("unstable", false);
  }
  return n;
}

size_t ResultWriter::count(const std::string& status) const {
  std::lock_guard lock(mutex_);
  size_t n = 0;
  for (const auto& [spec, entry] : entries_) {
    n += entry.value("run_type", "") != "aggregate" && entry["aicbench"]["status"] == status;
  }
  return n;
}

nlohmann::json ResultWriter::document(bool complete) const {
  nlohmann::json context = gbench_context_;
  nlohmann::json prov = provenance_;
  prov["complete"] = complete;
  if (complete) prov["end_time"] = utc_now_iso8601();
  context[ResultFile::kProvenanceKey] = prov;

  nlohmann::json benchmarks = nlohmann::json::array();
  for (size_t i = 0; i < entries_.size(); ++i) benchmarks.push_back(decorated(i));
  return {{"context", context}, {"benchmarks", benchmarks}};
}

nlohmann::json ResultWriter::decorated(size_t index) const {
  const auto& [spec, stored] = entries_[index];
  nlohmann::json entry = stored;
  // Only where tflops is a throughput: a measurement, or the mean or median of repetitions (on
  // a stddev or cv row it is a spread, and ratios of it mean nothing).
  const std::string aggregate = entry.value("aggregate_name", "");
  const bool throughput = entry.value("run_type", "") != "aggregate" || aggregate == "mean" ||
                          aggregate == "median";
  if (!throughput || entry["aicbench"]["status"] != kStatusOk || !entry.contains("tflops")) {
    return entry;
  }
  // Context for the number (docs/architecture.md, rule 3): fraction of the datasheet peak, and of the
  // vendor library on the same problem in the same run.
  const double tflops = entry["tflops"].get<double>();
  const auto rank_peaks = peak_tflops_by_rank_.find(origin_rank(entry));
  const std::map<std::string, double>& peaks =
      rank_peaks != peak_tflops_by_rank_.end() ? rank_peaks->second : peak_tflops_;
  if (auto peak = peaks.find(spec.dtype); peak != peaks.end() && peak->second > 0) {
    entry["pct_of_peak"] = 100.0 * tflops / peak->second;
  }
  // Efficiency: throughput per watt of mean board power while measuring.
  if (entry.contains("power_w") && entry["power_w"].get<double>() > 0) {
    entry["tflops_per_w"] = tflops / entry["power_w"].get<double>();
    if (entry.contains("gbps")) entry["gbps_per_w"] = entry["gbps"].get<double>() / entry["power_w"].get<double>();
  }
  for (const auto& [other, other_entry] : entries_) {
    if (other.vendor && same_problem(other, spec) && same_row(other_entry, entry) &&
        other_entry["aicbench"]["status"] == kStatusOk && other_entry.contains("tflops") &&
        other_entry["tflops"].get<double>() > 0) {
      entry["pct_of_vendor"] = 100.0 * tflops / other_entry["tflops"].get<double>();
      break;
    }
  }
  return entry;
}

std::string ResultWriter::last_entry_summary() const {
  const size_t n = size();
  return n ? entry_summary(n - 1) : std::string();
}

std::string ResultWriter::entry_summary(size_t index) const {
  std::lock_guard lock(mutex_);
  if (index >= entries_.size()) return "";
  const nlohmann::json doc_entry = decorated(index);  // with derived counters
  const nlohmann::json& info = doc_entry["aicbench"];
  char buf[512];
  std::string line = doc_entry["run_name"].get<std::string>();
  if (doc_entry.value("run_type", "") == "aggregate") {
    line += " [" + doc_entry.value("aggregate_name", "") + " of " +
            std::to_string(doc_entry.value("repetitions", 0)) + " repetitions]";
    if (doc_entry.value("aggregate_unit", "") == "percentage") {
      std::snprintf(buf, sizeof buf, "  %.2f%%", 100 * doc_entry.value("real_time", 0.0));
      return line + buf;
    }
  }
  if (info["status"] != kStatusOk) {
    return line + "  " + info["status"].get<std::string>() + ": " + info.value("reason", "");
  }
  if (info.contains("measurement")) {
    const auto& m = info["measurement"];
    std::snprintf(buf, sizeof buf, "  median %s +-%.2f%% (%d samples)", format_seconds(m.value("median_s", 0.0)).c_str(),
                  100 * m.value("rel_stddev", 0.0), m.value("samples", 0));
    line += buf;
  } else {
    line += "  " + format_seconds(doc_entry.value("real_time", 0.0) * seconds_per(doc_entry.value("time_unit", "")));
    if (info.contains("repetitions")) {
      const auto& r = info["repetitions"];
      std::snprintf(buf, sizeof buf, " (%d samples, noise up to %.2f%%)", r.value("samples", 0),
                    100 * r.value("max_rel_stddev", 0.0));
      line += buf;
    }
  }
  if (doc_entry.contains("tflops")) {
    std::snprintf(buf, sizeof buf, "  %.4g TFLOP/s", doc_entry["tflops"].get<double>());
    line += buf;
  }
  for (const char* pct : {"pct_of_peak", "pct_of_vendor"}) {
    if (doc_entry.contains(pct)) {
      std::snprintf(buf, sizeof buf, "  %.1f%% of %s", doc_entry[pct].get<double>(),
                    std::string(pct) == "pct_of_peak" ? "peak" : "vendor");
      line += buf;
    }
  }
  if (doc_entry.contains("power_w")) {
    std::snprintf(buf, sizeof buf, "  %.0f W", doc_entry["power_w"].get<double>());
    line += buf;
  }
  if (info.value("unstable", false)) line += "  UNSTABLE";
  return line;
}

void ResultWriter::write(bool complete) {
  std::lock_guard lock(mutex_);
  write_file_atomically(path_, document(complete).dump(2) + "\n");
}

}  // namespace aicbench
