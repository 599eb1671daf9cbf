#include <map>
#include <set>
#include <sstream>
#include <tuple>

#include "reports/exports.hpp"
#include "reports/report_model.hpp"
#include "reports/result_fields.hpp"
#include "reports/text_format.hpp"

namespace aicbench::reports {

using nlohmann::json;

namespace {

std::string xml(const std::string& s) { return xml_escape(s); }

enum class Outcome { passed, failure, error, skipped };

Outcome outcome_of(const ReportRow& row) {
  if (row.ok()) return Outcome::passed;
  if (row.status == kStatusFailed) return Outcome::failure;
  if (row.status == kStatusSkipped) return Outcome::skipped;
  return Outcome::error;  // error, and any status this version does not know
}

// What an ok result measured, for <system-out>.
std::string measured_text(const ReportRow& row) {
  std::vector<std::string> parts;
  if (row.time_s) parts.push_back("median " + human_time(*row.time_s));
  if (auto tflops = ok_metric(row, "tflops")) parts.push_back(sig3(*tflops) + " TFLOP/s");
  if (row.noise) parts.push_back("noise " + printf_double("%.2f", 100 * *row.noise) + " %");
  if (row.samples) parts.push_back(whole_number(*row.samples) + " samples");
  if (row.repetitions > 1) parts.push_back(std::to_string(row.repetitions) + " repetitions");
  return join(parts, ", ") + "\n" + status_text(row);
}

struct Counts {
  size_t tests = 0, failures = 0, errors = 0, skipped = 0;
  void add(Outcome o) {
    ++tests;
    failures += o == Outcome::failure;
    errors += o == Outcome::error;
    skipped += o == Outcome::skipped;
  }
  std::string attributes() const {
    return "tests=\"" + std::to_string(tests) + "\" failures=\"" + std::to_string(failures) + "\" errors=\"" +
           std::to_string(errors) + "\" skipped=\"" + std::to_string(skipped) + "\"";
  }
};

}  // namespace

std::string render_junit(const std::vector<ResultFile>& files) {
  const std::vector<ReportRow> rows = report_rows(files);
  const std::vector<RunSummary> runs = summarize_runs(files);

  // A testsuite per file; a node's file of several GPUs gets one per GPU (rank), and its job-wide
  // collectives one of their own, so that a CI front end shows which GPU failed.
  struct Suite {
    size_t file = 0;
    const ReportRow* first = nullptr;  // null: a file without rows
    std::vector<const ReportRow*> rows;
  };
  std::vector<Suite> suites;
  std::map<std::tuple<size_t, int, bool>, size_t> suite_of;
  std::vector<std::set<std::pair<int, bool>>> units(files.size());
  for (const ReportRow& row : rows) units[row.file].insert({row.origin.rank, row.origin.job_wide()});
  size_t r = 0;  // rows come in file order
  for (size_t f = 0; f < files.size(); ++f) {
    if (units[f].empty()) suites.push_back({f, nullptr, {}});
    for (; r < rows.size() && rows[r].file == f; ++r) {
      const ReportRow& row = rows[r];
      const bool split = units[f].size() > 1;
      const auto key = split ? std::make_tuple(f, row.origin.rank, row.origin.job_wide()) : std::make_tuple(f, 0, false);
      auto [it, fresh] = suite_of.try_emplace(key, suites.size());
      if (fresh) suites.push_back({f, &row, {}});
      suites[it->second].rows.push_back(&row);
    }
  }

  Counts total;
  std::ostringstream out;
  std::set<size_t> told_incomplete;
  for (const Suite& suite : suites) {
    const RunSummary& run = runs[suite.file];
    const bool split = units[suite.file].size() > 1;
    Counts counts;
    std::ostringstream cases;
    for (const ReportRow* row : suite.rows) {
      const Outcome outcome = outcome_of(*row);
      counts.add(outcome);
      cases << "    <testcase classname=\"" << xml(join({row->family, row->impl, row->dtype}, "/")) << "\" name=\"" << xml(row->name)
            << "\"";
      // JUnit's time is a decimal without exponent; a time past 1e9 s is no real measurement.
      if (row->ok() && row->time_s && *row->time_s >= 0 && *row->time_s < 1e9) cases << " time=\"" << printf_double("%.9f", *row->time_s) << "\"";
      cases << ">\n";
      const std::string why = xml(status_text(*row));
      switch (outcome) {
        case Outcome::failure:
          cases << "      <failure type=\"validation\" message=\"" << why << "\">" << why << "</failure>\n";
          break;
        case Outcome::error:
          cases << "      <error type=\"" << xml(row->status.empty() ? "unknown status" : row->status) << "\" message=\"" << why
                << "\">" << why << "</error>\n";
          break;
        case Outcome::skipped:
          cases << "      <skipped message=\"" << why << "\"/>\n";
          break;
        case Outcome::passed:
          cases << "      <system-out>" << xml(measured_text(*row)) << "</system-out>\n";
          break;
      }
      cases << "    </testcase>\n";
    }
    // A run that stopped early: said once, in its file's first suite.
    if (run.complete == "no" && told_incomplete.insert(suite.file).second) {
      counts.add(Outcome::error);
      cases << "    <testcase classname=\"aicbench\" name=\"run complete\">\n"
            << "      <error type=\"incomplete\" message=\"the run stopped before finishing every benchmark\"/>\n"
            << "    </testcase>\n";
    }
    total.tests += counts.tests;
    total.failures += counts.failures;
    total.errors += counts.errors;
    total.skipped += counts.skipped;
    const RowOrigin* origin = split && suite.first ? &suite.first->origin : nullptr;
    const std::string host = origin ? origin->host : run.host;
    out << "  <testsuite name=\"" << xml(origin ? run.file + " " + origin->unit_label() : run.file) << "\" " << counts.attributes();
    if (!host.empty()) out << " hostname=\"" << xml(host) << "\"";
    if (!run.start.empty()) out << " timestamp=\"" << xml(run.start) << "\"";
    out << ">\n    <properties>\n";
    const json& gpu = measured_gpu(files[suite.file]);
    std::vector<std::pair<const char*, std::string>> properties = {{"host", host}};
    if (origin) {
      properties.push_back({"rank", origin->job_wide() ? "" : std::to_string(origin->rank)});
      properties.push_back({"gpu_index", origin->gpu_index ? std::to_string(*origin->gpu_index) : ""});
      properties.push_back({"gpu_name", origin->gpu_index || origin->job_wide() ? origin->device_name : ""});
      properties.push_back({"gpu_uuid", origin->gpu_uuid});
      properties.push_back({"spans", origin->job_wide() ? origin->label() : ""});
    } else {
      properties.push_back({"gpu_name", text(gpu, "name")});
      properties.push_back({"gpu_uuid", text(gpu, "uuid")});
    }
    for (const auto& item : std::vector<std::pair<const char*, std::string>>{
             {"gpus", run.gpu}, {"backend", run.backend}, {"suite", run.suite}, {"aicbench_commit", run.commit},
             {"start_time", run.start}, {"complete", run.complete}}) {
      properties.push_back(item);
    }
    for (const auto& [name, value] : properties) {
      if (!value.empty()) out << "      <property name=\"" << name << "\" value=\"" << xml(value) << "\"/>\n";
    }
    out << "    </properties>\n" << cases.str() << "  </testsuite>\n";
  }
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"aicbench\" " + total.attributes() + ">\n" + out.str() +
         "</testsuites>\n";
}

}  // namespace aicbench::reports
