#include <set>
#include <sstream>

#include "reports/exports.hpp"
#include "reports/report_model.hpp"
#include "reports/result_fields.hpp"
#include "reports/result_rows.hpp"
#include "reports/text_format.hpp"

namespace aicbench::reports {

using nlohmann::json;

const std::vector<std::string> kCsvColumns = {
    "file", "host", "rank", "local_rank", "gpu_index", "gpu_uuid", "gpu_name", "span_ranks", "span_nodes", "backend", "suite",
    "name", "run_name", "family", "impl", "dtype", "mode",
    // param:<name> columns here
    "status", "reason", "real_time_s", "median_s", "q1_s", "q3_s", "min_s", "max_s", "rel_stddev", "samples", "unstable",
    "tflops", "gbps", "algbw_gbps", "busbw_gbps", "pct_of_peak", "pct_of_vendor", "sm_clock_mhz", "power_w", "energy_j",
    "temp_c", "max_rel_err", "tolerance", "wrong_elements", "run_type", "aggregate_name", "repetition_index"};

std::string csv_text_field(const std::string& raw) {
  std::string text = replace_control_characters(raw);
  const bool formula = !text.empty() && std::string_view("=+-@\t\r\n").find(text[0]) != std::string_view::npos;
  if (formula) text = std::string(1, '\'').append(text);
  const bool quote = formula || text.find_first_of(",\"\r\n") != std::string::npos;
  if (!quote) return text;
  replace_all(text, "\"", "\"\"");
  return "\"" + text + "\"";
}

namespace {

// A JSON number as the file has it (shortest round-trip form), or nothing.
std::string number_field(const json& j, const char* key) {
  const json& v = field(j, key);
  return v.is_number() && number(j, key) ? v.dump() : "";
}
std::string number_field(std::optional<double> v) { return v ? json(*v).dump() : ""; }

std::string boolean_field(const json& j, const char* key) {
  const json& v = field(j, key);
  return v.is_boolean() ? (v.get<bool>() ? "true" : "false") : "";
}

// A counter at the entry's top level (where Google Benchmark puts counters), else in the
// telemetry summary; only on rows that are ok, as the reader guarantees.
std::string counter_field(const json& entry, const char* key) {
  std::string v = number_field(entry, key);
  return v.empty() ? number_field(field(field(entry, "aicbench"), "telemetry"), key) : v;
}

}  // namespace

std::string render_csv(const std::vector<ResultFile>& files) {
  // The params of every row: GEMM's M, N, K in that order, then any other in name order.
  std::set<std::string> names;
  for (const ResultFile& file : files) {
    const json& benchmarks = field(file.json, "benchmarks");
    if (!benchmarks.is_array()) continue;
    for (const json& entry : benchmarks) {
      const json& p = field(field(entry, "aicbench"), "params");
      if (p.is_object()) for (const auto& [key, value] : p.items()) names.insert(key);
    }
  }
  std::vector<std::string> params;
  for (const char* gemm_param : {"M", "N", "K"}) {
    if (names.erase(gemm_param)) params.push_back(gemm_param);
  }
  params.insert(params.end(), names.begin(), names.end());
  std::ostringstream csv;
  auto write_row = [&](const std::vector<std::string>& cells) {
    for (size_t i = 0; i < cells.size(); ++i) csv << (i ? "," : "") << cells[i];
    csv << "\r\n";
  };
  std::vector<std::string> header;
  for (const std::string& column : kCsvColumns) {
    header.push_back(csv_text_field(column));
    if (column == "mode") for (const std::string& p : params) header.push_back(csv_text_field("param:" + p));
  }
  write_row(header);

  for (size_t f = 0; f < files.size(); ++f) {
    const json& benchmarks = field(files[f].json, "benchmarks");
    if (!benchmarks.is_array()) continue;
    const OriginReader origins(files[f], f);
    const json& provenance = field(field(files[f].json, "context"), ResultFile::kProvenanceKey);
    for (const json& entry : benchmarks) {
      const RowOrigin origin = origins.of(entry);
      const json& info = field(entry, "aicbench");
      const json& m = field(info, "measurement");
      const json& validation = field(info, "validation");
      const json& p = field(info, "params");
      std::string reason = text(info, "reason");
      if (reason.empty()) reason = text(entry, "error_message");
      // real_time in seconds; a percentage aggregate (cv) is a ratio, which goes to rel_stddev.
      const bool ratio = text(entry, "aggregate_unit") == "percentage";
      std::optional<double> real_time_s, rel_stddev = number(m, "rel_stddev");
      if (auto t = number(entry, "real_time"); t && ratio) {
        rel_stddev = t;
      } else if (auto unit = seconds_per_time_unit(text(entry, "time_unit")); t && unit) {
        real_time_s = *t * *unit;
      }
      std::vector<std::string> row;
      auto add_text = [&](const std::string& s) { row.push_back(csv_text_field(s)); };
      auto add_int = [&](std::optional<int> v) { row.push_back(v ? std::to_string(*v) : ""); };
      add_text(files[f].path.string());
      add_text(origin.host);  // the node the row ran on
      add_int(origin.rank);
      add_int(origin.local_rank);
      add_int(origin.gpu_index);
      add_text(origin.gpu_uuid);
      add_text(origin.backend == "cuda" && origins.gpu_count() > 0 ? origin.device_name : "");
      add_int(origin.spans ? std::optional<int>(origin.spans->ranks) : std::nullopt);
      add_int(origin.spans ? std::optional<int>(origin.spans->nodes) : std::nullopt);
      add_text(text(provenance, "backend"));
      add_text(text(provenance, "suite"));
      add_text(text(entry, "name"));
      add_text(text(entry, "run_name"));
      for (const char* key : {"family", "impl", "dtype", "mode"}) add_text(text(info, key));
      for (const std::string& param : params) {
        const json& v = field(p, param.c_str());
        row.push_back(v.is_number() ? number_field(p, param.c_str()) : csv_text_field(text(p, param.c_str())));
      }
      add_text(text(info, "status"));
      add_text(reason);
      row.push_back(number_field(real_time_s));
      for (const char* key : {"median_s", "q1_s", "q3_s", "min_s", "max_s"}) row.push_back(number_field(m, key));
      row.push_back(number_field(rel_stddev));
      row.push_back(number_field(m, "samples"));
      row.push_back(field(info, "unstable").is_boolean() ? boolean_field(info, "unstable") : boolean_field(m, "unstable"));
      for (const char* key : {"tflops", "gbps", "algbw_gbps", "busbw_gbps", "pct_of_peak", "pct_of_vendor"}) {
        row.push_back(number_field(entry, key));
      }
      for (const char* key : {"sm_clock_mhz", "power_w", "energy_j", "temp_c"}) row.push_back(counter_field(entry, key));
      std::string err = number_field(validation, "max_rel_err");
      row.push_back(err.empty() ? number_field(entry, "max_rel_err") : err);
      row.push_back(number_field(validation, "tolerance"));
      row.push_back(number_field(field(info, "collective"), "wrong_elements"));
      add_text(text(entry, "run_type"));
      add_text(text(entry, "aggregate_name"));
      row.push_back(number_field(entry, "repetition_index"));
      write_row(row);
    }
  }
  return csv.str();
}

}  // namespace aicbench::reports
