#include "harness/result_writer.hpp"

#include "harness/clock.hpp"
#include "reports/result_file.hpp"

namespace aicbench {

namespace {

std::string utc_now_iso8601() { return format_time_now("%Y-%m-%dT%H:%M:%SZ"); }

bool same_problem(const BenchmarkSpec& a, const BenchmarkSpec& b) {
  if (a.family != b.family || a.dtype != b.dtype || a.mode != b.mode || a.backend != b.backend ||
      a.params.size() != b.params.size()) {
    return false;
  }
  for (size_t i = 0; i < a.params.size(); ++i) {
    if (a.params[i].name != b.params[i].name || a.params[i].value != b.params[i].value) return false;
  }
  return true;
}

// The same row of the same run: a repetition matches its repetition, an aggregate its aggregate.
bool same_row(const nlohmann::json& a, const nlohmann::json& b) {
  return a.value("run_type", "") == b.value("run_type", "") &&
         a.value("aggregate_name", "") == b.value("aggregate_name", "") &&
         a.value("repetition_index", -1) == b.value("repetition_index", -1);
}

}  // namespace

ResultWriter::ResultWriter(std::filesystem::path path, nlohmann::json provenance,
                           std::map<std::string, double> peak_tflops)
    : path_(std::move(path)), provenance_(std::move(provenance)), peak_tflops_(std::move(peak_tflops)) {
  provenance_["format_version"] = kResultFormatVersion;
  provenance_["start_time"] = utc_now_iso8601();
}

void ResultWriter::set_benchmark_context(nlohmann::json context) { gbench_context_ = std::move(context); }


void ResultWriter::add(const BenchmarkSpec& spec, nlohmann::json entry, const std::string& status,
                       const std::optional<std::string>& reason, const nlohmann::json& validation,
                       const nlohmann::json& details) {
  nlohmann::json info = {{"family", spec.family},   {"impl", spec.impl},
                         {"dtype", spec.dtype},     {"backend", to_string(spec.backend)},
                         {"vendor", spec.vendor},   {"params", spec.params_json()},
                         {"mode", to_string(spec.mode)}, {"status", status}};
  if (reason) info["reason"] = *reason;
  if (!validation.is_null()) info["validation"] = validation;
  if (details.is_object()) {
    for (const auto& [key, value] : details.items()) info[key] = value;
    if (details.contains("measurement")) info["unstable"] = details["measurement"]["unstable"];
  }
  entry["name"] = spec.name();
  if (!entry.contains("run_name")) entry["run_name"] = spec.name();
  if (status != kStatusOk) {
    // Google Benchmark's own convention for a result that must not be read as a number.
    entry["error_occurred"] = true;
    entry["error_message"] = reason.value_or(status);
  }
  entry["aicbench"] = info;
  entries_.emplace_back(spec, std::move(entry));
}

// Counts measurements, not Google Benchmark's aggregates over repetitions.
size_t ResultWriter::count_unstable() const {
  size_t n = 0;
  for (const auto& [spec, entry] : entries_) {
    n += entry.value("run_type", "") != "aggregate" && entry["aicbench"].value("unstable", false);
  }
  return n;
}

size_t ResultWriter::count(const std::string& status) const {
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
  // Context for the number (DESIGN.md rule 3): fraction of the datasheet peak, and of the
  // vendor library on the same problem in the same run.
  const double tflops = entry["tflops"].get<double>();
  if (auto peak = peak_tflops_.find(spec.dtype); peak != peak_tflops_.end() && peak->second > 0) {
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
  if (entries_.empty()) return "";
  const nlohmann::json doc_entry = decorated(entries_.size() - 1);  // with derived counters
  const nlohmann::json& info = doc_entry["aicbench"];
  char buf[512];
  std::string line = doc_entry["name"].get<std::string>();
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
    std::snprintf(buf, sizeof buf, "  median %.4g ms +-%.2f%% (%d samples)", 1e3 * m.value("median_s", 0.0),
                  100 * m.value("rel_stddev", 0.0), m.value("samples", 0));
    line += buf;
  } else {
    std::snprintf(buf, sizeof buf, "  %.4g %s", doc_entry.value("real_time", 0.0),
                  doc_entry.value("time_unit", "ms").c_str());
    line += buf;
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
  write_file_atomically(path_, document(complete).dump(2) + "\n");
}

}  // namespace aicbench
