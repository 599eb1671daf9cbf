#include "reports/compare_render.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <sstream>

#include "reports/text_format.hpp"

namespace aicbench::compare {

namespace {

using json = nlohmann::json;
// The escaping and time formats every report shares (reports/text_format.hpp).
using reports::human_time;
using reports::markdown_escape;
using reports::markup_escape;
using reports::xml_escape;

std::string format(const char* fmt, double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, fmt, value);
  return buffer;
}

std::string percent(double fraction) { return format("%.1f %%", 100.0 * fraction); }

// The text of every table cell, shared by Markdown and HTML.
struct Row {
  std::string benchmark, state, ratio, interval, p, baseline, current, noise, reason;
};

std::string benchmark_label(const Verdict& v) {
  std::string label = v.name;
  // Hot-mode names end in /mode:hot already; say the mode only where the name does not.
  if (v.mode != "cold" && label.find("mode:" + v.mode) == std::string::npos) label += " (" + v.mode + ")";
  if (!v.device.empty()) label += " [" + v.device + "]";
  // The GPU it was paired at: "[rank 3: node-a GPU 3 (GPU-...)]", or the job a collective spanned.
  if (!v.position.empty()) {
    const bool says_position = v.job_wide || v.gpu.ends_with(" " + v.position);  // "cpu-node-b rank 2" says it
    label += " [" + (v.gpu.empty() ? v.position : says_position ? v.gpu : v.position + ": " + v.gpu) + "]";
  }
  return label;
}

std::string side_cell(const Side& side) {
  if (!side.median_s) return side.rows ? "-" : "";
  return human_time(*side.median_s) + " (n=" + std::to_string(side.times_s.size()) + ")";
}

Row row_of(const Verdict& v) {
  Row row;
  row.benchmark = benchmark_label(v);
  row.state = std::string(state_name(v.state));
  if (v.ratio) row.ratio = format("%.3f", *v.ratio) + " (" + format("%+.1f %%", 100.0 * (*v.ratio - 1)) + ")";
  if (v.interval) row.interval = format("[%.3f, ", v.interval->low) + format("%.3f]", v.interval->high);
  if (v.p_adjusted) row.p = format("%.2g", *v.p_adjusted);
  else if (v.method == Method::noise_rule) row.p = "noise rule";
  row.baseline = side_cell(v.baseline);
  row.current = side_cell(v.current);
  if (v.noise) row.noise = percent(*v.noise);
  row.reason = v.reason;
  return row;
}

const char* const kHeaders[] = {"benchmark", "state", "ratio", "95 % interval", "p (BH)",
                                "baseline median", "current median", "noise", "reason"};

std::string verdict_line(const Comparison& c) {
  if (c.passed()) {
    const size_t environment = c.count(State::environment_changed);
    return environment ? "PASS (" + std::to_string(environment) + " ENVIRONMENT CHANGED, not failing the gate)" : "PASS";
  }
  std::vector<std::string> parts;
  for (State s : {State::slower, State::now_failing, State::environment_changed}) {
    const size_t n = c.count(s);
    if (n && (s != State::environment_changed || c.options.fail_on_environment)) {
      parts.push_back(std::to_string(n) + " " + std::string(state_name(s)));
    }
  }
  std::string out = "FAIL (";
  for (size_t i = 0; i < parts.size(); ++i) out += (i ? ", " : "") + parts[i];
  return out + ")";
}

// The rule in words, with this comparison's numbers.
std::vector<std::string> rule_lines(const Comparison& c) {
  std::vector<std::string> lines;
  const Options& o = c.options;
  lines.push_back("Ratio = current / baseline median time (above 1 is slower), with a " +
                  format("%.0f %%", 100 * o.interval_level) + " bootstrap interval (" +
                  std::to_string(o.resamples) + " resamples, fixed seed).");
  lines.push_back("A change counts only when significant, beyond the threshold (" + percent(o.threshold) +
                  (o.thresholds.empty() ? "" : ", or per --threshold-for") +
                  ") and outside the runs' own noise (the smaller side's, as nvbench).");
  const std::string n = std::to_string(c.compared);
  if (c.tested) {
    lines.push_back((c.tested == c.compared ? "All " + n : std::to_string(c.tested) + " of " + n) +
                    " benchmarks compared decided by the Mann-Whitney U test (two-sided) over repetitions, "
                    "Benjamini-Hochberg at q = " + format("%.2g", o.fdr) + " over the " + std::to_string(c.tested) +
                    " tested.");
  }
  if (c.tested < c.compared) {
    lines.push_back((c.tested ? std::to_string(c.compared - c.tested) + " of " + n : "All " + n) +
                    " decided by nvbench's noise rule: too few samples for the U test to reach significance "
                    "among " + n + " benchmarks (it needs " + std::to_string(c.samples_for_test) +
                    " a side). The noise rule does not control false alarms: see docs/compare.md.");
  }
  if (c.pair_by_device) lines.push_back("Several device models in a set: benchmarks paired per model.");
  if (c.pair_by_gpu) {
    lines.push_back("Both sets hold rows of several GPUs: benchmarks paired GPU by GPU, by world rank (rank 3 against rank 3).");
  }
  if (std::any_of(c.verdicts.begin(), c.verdicts.end(), [](const Verdict& v) { return v.job_wide; })) lines.push_back("Job-wide collectives paired by name and rank count.");
  lines.push_back(std::string("Slowdowns with a changed environment ") +
                  (o.fail_on_environment ? "fail the gate (--fail-on-environment)." : "do not fail the gate."));
  return lines;
}

std::vector<const Verdict*> environment_slowdowns(const Comparison& c) {
  std::vector<const Verdict*> out;
  for (const Verdict& v : c.verdicts) {
    if (v.state == State::environment_changed) out.push_back(&v);
  }
  return out;
}

std::string state_class(State s) {
  std::string name(state_name(s));
  for (char& ch : name) ch = ch == ' ' ? '-' : static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return name;
}

json optional_number(const std::optional<double>& v) { return v ? json(*v) : json(nullptr); }

json side_json(const Side& s) {
  return {{"rows", s.rows},
          {"ok", s.ok},
          {"failing", s.failing},
          {"skipped", s.skipped},
          {"times_s", s.times_s},
          {"median_s", optional_number(s.median_s)},
          {"noise", optional_number(s.noise)},
          {"within_noise", optional_number(s.within_noise)},
          {"between_noise", optional_number(s.between_noise)},
          {"throughput", optional_number(s.throughput)},
          {"throughput_unit", s.throughput_unit},
          {"sm_clock_mhz", optional_number(s.sm_clock_mhz)},
          {"power_w", optional_number(s.power_w)},
          {"temp_c", optional_number(s.temp_c)},
          {"throttle_reasons", s.throttle_reasons},
          {"failure", s.failure},
          {"skip_reason", s.skip_reason},
          {"devices", s.devices},
          {"gpus", s.gpus}};
}

json changes_json(const std::vector<EnvironmentChange>& changes) {
  json out = json::array();
  for (const EnvironmentChange& c : changes) out.push_back({{"what", c.what}, {"decisive", c.decisive}});
  return out;
}

}  // namespace

std::string render_markdown(const Comparison& c) {
  std::ostringstream md;
  md << "# aicbench compare: " << verdict_line(c) << "\n\n";
  md << "| state | benchmarks |\n|---|---:|\n";
  for (State s : kAllStates) {
    if (c.count(s)) md << "| " << state_name(s) << " | " << c.count(s) << " |\n";
  }
  md << "\nBaseline: " << c.baseline_files.size() << " file(s); current: " << c.current_files.size()
     << " file(s).\n\n";
  for (const std::string& line : rule_lines(c)) md << "- " << markdown_escape(line) << "\n";

  if (!c.environment.empty()) {
    md << "\n## Environment: what differs between the baseline and the current files\n\n";
    for (const EnvironmentChange& e : c.environment) md << "- " << markdown_escape(e.what) << "\n";
  }
  const auto slowdowns = environment_slowdowns(c);
  if (!slowdowns.empty()) {
    md << "\n## Slower, with a changed environment (" << slowdowns.size() << "): check the machine before the code\n\n";
    for (const Verdict* v : slowdowns) {
      md << "- **" << markdown_escape(benchmark_label(*v)) << "**: " << markdown_escape(v->reason) << "\n";
    }
  }

  md << "\n## Benchmarks\n\n|";
  for (const char* h : kHeaders) md << " " << h << " |";
  md << "\n|---|---|---:|---|---:|---:|---:|---:|---|\n";
  for (const Verdict& v : c.verdicts) {
    const Row r = row_of(v);
    for (const std::string* cell : {&r.benchmark, &r.state, &r.ratio, &r.interval, &r.p, &r.baseline, &r.current,
                                    &r.noise, &r.reason}) {
      md << "| " << markdown_escape(*cell) << " ";
    }
    md << "|\n";
  }
  return md.str();
}

std::string render_html(const Comparison& c) {
  std::ostringstream html;
  html << reports::html_page_head("aicbench compare: " + verdict_line(c),
                         "body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}\n"
                         "table{border-collapse:collapse;font-size:13px}\n"
                         "th,td{border:1px solid #ccc;padding:3px 6px;text-align:left;vertical-align:top}\n"
                         "td.num{text-align:right;white-space:nowrap}\n"
                         "th{background:#f0f0f0}\n"
                         ".verdict{font-size:1.4em;font-weight:bold;padding:.3em .6em;display:inline-block;border-radius:4px}\n"
                         ".pass{background:#d8f0d8;color:#145214}.fail{background:#f8d0d0;color:#8a1010}\n"
                         "td.state{font-weight:bold;white-space:nowrap}\n"
                         "tr.now-failing td.state,tr.slower td.state{background:#f8d0d0;color:#8a1010}\n"
                         "tr.environment-changed td.state{background:#ffe2b8;color:#7a4300}\n"
                         "tr.still-failing td.state{background:#f0d8d8;color:#6a2020}\n"
                         "tr.gone td.state,tr.skipped td.state{background:#eee;color:#555}\n"
                         "tr.new td.state{background:#dde8fb;color:#173f8a}\n"
                         "tr.fixed td.state,tr.faster td.state{background:#d8f0d8;color:#145214}\n"
                         ".envbox{border:2px solid #e0a040;background:#fff6e6;padding:.5em 1em;margin:1em 0}\n");
  html << "<h1>aicbench compare</h1>\n<p class=\"verdict " << (c.passed() ? "pass" : "fail") << "\">"
       << markup_escape(verdict_line(c)) << "</p>\n";
  html << "<table>\n<tr><th>state</th><th>benchmarks</th></tr>\n";
  for (State s : kAllStates) {
    if (c.count(s)) {
      html << "<tr class=\"" << state_class(s) << "\"><td class=\"state\">" << state_name(s)
           << "</td><td class=\"num\">" << c.count(s) << "</td></tr>\n";
    }
  }
  html << "</table>\n<p>Baseline: " << c.baseline_files.size() << " file(s); current: " << c.current_files.size()
       << " file(s).</p>\n<ul>\n";
  for (const std::string& line : rule_lines(c)) html << "<li>" << markup_escape(line) << "</li>\n";
  html << "</ul>\n";
  if (!c.environment.empty()) {
    html << "<h2>Environment: what differs between the baseline and the current files</h2>\n<ul>\n";
    for (const EnvironmentChange& e : c.environment) html << "<li>" << markup_escape(e.what) << "</li>\n";
    html << "</ul>\n";
  }
  const auto slowdowns = environment_slowdowns(c);
  if (!slowdowns.empty()) {
    html << "<div class=\"envbox\"><h2>Slower, with a changed environment (" << slowdowns.size()
         << "): check the machine before the code</h2>\n<ul>\n";
    for (const Verdict* v : slowdowns) {
      html << "<li><b>" << markup_escape(benchmark_label(*v)) << "</b>: " << markup_escape(v->reason) << "</li>\n";
    }
    html << "</ul></div>\n";
  }
  html << "<h2>Benchmarks</h2>\n<table>\n<tr>";
  for (const char* h : kHeaders) html << "<th>" << h << "</th>";
  html << "</tr>\n";
  for (const Verdict& v : c.verdicts) {
    const Row r = row_of(v);
    html << "<tr class=\"" << state_class(v.state) << "\"><td>" << markup_escape(r.benchmark) << "</td><td class=\"state\">"
         << markup_escape(r.state) << "</td>";
    for (const std::string* cell : {&r.ratio, &r.interval, &r.p, &r.baseline, &r.current, &r.noise}) {
      html << "<td class=\"num\">" << markup_escape(*cell) << "</td>";
    }
    html << "<td>" << markup_escape(r.reason) << "</td></tr>\n";
  }
  html << "</table>\n</body>\n</html>\n";
  return html.str();
}

json to_json(const Comparison& c) {
  json thresholds = json::array();
  for (const ThresholdRule& r : c.options.thresholds) thresholds.push_back({{"pattern", r.pattern}, {"threshold", r.threshold}});
  json counts = json::object();
  for (State s : kAllStates) counts[std::string(state_name(s))] = c.count(s);
  json benchmarks = json::array();
  for (const Verdict& v : c.verdicts) {
    benchmarks.push_back({{"name", v.name},
                          {"mode", v.mode},
                          {"device", v.device},
                          {"position", v.position},
                          {"gpu", v.gpu},
                          {"job_wide", v.job_wide},
                          {"state", state_name(v.state)},
                          {"fails_gate", v.fails_gate(c.options)},
                          {"method", method_name(v.method)},
                          {"ratio", optional_number(v.ratio)},
                          {"interval", v.interval ? json::array({v.interval->low, v.interval->high}) : json(nullptr)},
                          {"p", optional_number(v.p)},
                          {"p_adjusted", optional_number(v.p_adjusted)},
                          {"threshold", v.threshold},
                          {"noise", optional_number(v.noise)},
                          {"reason", v.reason},
                          {"environment", changes_json(v.environment)},
                          {"baseline", side_json(v.baseline)},
                          {"current", side_json(v.current)}});
  }
  return {{"tool", "aicbench compare"},
          {"format_version", 1},
          {"passed", c.passed()},
          {"exit_code", c.exit_code()},
          {"options",
           {{"threshold", c.options.threshold},
            {"thresholds", thresholds},
            {"fdr", c.options.fdr},
            {"fail_on_environment", c.options.fail_on_environment},
            {"clock_drop", c.options.clock_drop},
            {"hotter_c", c.options.hotter_c},
            {"interval_level", c.options.interval_level},
            {"resamples", c.options.resamples}}},
          {"counts", counts},
          {"compared", c.compared},
          {"tested", c.tested},
          {"samples_for_test", c.samples_for_test},
          {"pair_by_device", c.pair_by_device},
          {"pair_by_gpu", c.pair_by_gpu},
          {"environment", changes_json(c.environment)},
          {"baseline_files", c.baseline_files},
          {"current_files", c.current_files},
          {"benchmarks", benchmarks}};
}

std::string render_junit(const Comparison& c) {
  size_t failures = 0, skipped = 0;
  for (const Verdict& v : c.verdicts) {
    if (v.fails_gate(c.options)) ++failures;
    else if (v.state == State::gone || v.state == State::skipped) ++skipped;
  }
  std::ostringstream xml;
  xml << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      << "<testsuites name=\"aicbench compare\" tests=\"" << c.verdicts.size() << "\" failures=\"" << failures
      << "\" errors=\"0\" skipped=\"" << skipped << "\">\n"
      << "<testsuite name=\"aicbench compare\" tests=\"" << c.verdicts.size() << "\" failures=\"" << failures
      << "\" errors=\"0\" skipped=\"" << skipped << "\">\n";
  for (const Verdict& v : c.verdicts) {
    // classname: family/impl, so CI front ends group a family's benchmarks together.
    const size_t second = v.name.find('/', v.name.find('/') + 1);
    const std::string classname = v.name.substr(0, second);
    const Row r = row_of(v);
    xml << "<testcase classname=\"" << xml_escape(classname) << "\" name=\"" << xml_escape(benchmark_label(v))
        << "\" time=\"" << (v.current.median_s ? format("%.9g", *v.current.median_s) : "0") << "\">\n";
    const std::string message = r.state + ": " + v.reason;
    if (v.fails_gate(c.options)) {
      xml << "<failure type=\"" << xml_escape(r.state) << "\" message=\"" << xml_escape(message) << "\">"
          << xml_escape(message) << "</failure>\n";
    } else if (v.state == State::gone || v.state == State::skipped) {
      xml << "<skipped message=\"" << xml_escape(message) << "\"/>\n";
    }
    xml << "<system-out>" << xml_escape(r.state + "; ratio " + (r.ratio.empty() ? "-" : r.ratio) + "; interval " +
                                        (r.interval.empty() ? "-" : r.interval) + "; p (BH) " +
                                        (r.p.empty() ? "-" : r.p) + "; baseline " + r.baseline + "; current " +
                                        r.current + "; " + v.reason)
        << "</system-out>\n</testcase>\n";
  }
  xml << "</testsuite>\n</testsuites>\n";
  return xml.str();
}

}  // namespace aicbench::compare
