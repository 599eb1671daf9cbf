#include <sstream>

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
  std::vector<std::vector<const ReportRow*>> by_file(files.size());
  for (const ReportRow& row : rows) by_file[row.file].push_back(&row);

  Counts total;
  std::ostringstream suites;
  for (size_t f = 0; f < files.size(); ++f) {
    const RunSummary& run = runs[f];
    Counts counts;
    std::ostringstream cases;
    for (const ReportRow* row : by_file[f]) {
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
    if (run.complete == "no") {
      counts.add(Outcome::error);
      cases << "    <testcase classname=\"aicbench\" name=\"run complete\">\n"
            << "      <error type=\"incomplete\" message=\"the run stopped before finishing every benchmark\"/>\n"
            << "    </testcase>\n";
    }
    total.tests += counts.tests;
    total.failures += counts.failures;
    total.errors += counts.errors;
    total.skipped += counts.skipped;
    suites << "  <testsuite name=\"" << xml(run.file) << "\" " << counts.attributes();
    if (!run.host.empty()) suites << " hostname=\"" << xml(run.host) << "\"";
    if (!run.start.empty()) suites << " timestamp=\"" << xml(run.start) << "\"";
    suites << ">\n    <properties>\n";
    const json& gpu = measured_gpu(files[f]);
    const std::vector<std::pair<const char*, std::string>> properties = {
        {"host", run.host}, {"gpu_name", text(gpu, "name")}, {"gpu_uuid", text(gpu, "uuid")}, {"gpus", run.gpu},
        {"backend", run.backend}, {"suite", run.suite}, {"aicbench_commit", run.commit}, {"start_time", run.start},
        {"complete", run.complete}};
    for (const auto& [name, value] : properties) {
      if (!value.empty()) suites << "      <property name=\"" << name << "\" value=\"" << xml(value) << "\"/>\n";
    }
    suites << "    </properties>\n" << cases.str() << "  </testsuite>\n";
  }
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"aicbench\" " + total.attributes() + ">\n" + suites.str() +
         "</testsuites>\n";
}

}  // namespace aicbench::reports
