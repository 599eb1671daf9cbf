#include "reports/accept_render.hpp"

#include <sstream>

#include <nlohmann/json.hpp>

#include "reports/text_format.hpp"

namespace aicbench::accept {

namespace {

using json = nlohmann::json;

// Text from result files (device names, error messages) escaped for each language: text_format.hpp.
std::string markup(const std::string& s) { return reports::markup_escape(s); }  // HTML
std::string xml(const std::string& s) { return reports::xml_escape(s); }
std::string md(const std::string& s) { return reports::markdown_escape(s); }

std::string plural(size_t n, const std::string& one, const std::string& many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

// What the per-GPU verdicts are about: GPUs, or on the cpu backend the ranks that stand for them.
std::string devices(const Spec& spec, size_t n) {
  return spec.backend == "cpu" ? plural(n, "rank", "ranks") : plural(n, "GPU", "GPUs");
}

// ---------------------------------------------------------------------------------------------
// What every format shows, gathered once
// ---------------------------------------------------------------------------------------------

struct Failure {
  const NodeVerdict* node;
  const GpuVerdict* gpu;  // null for a node-level clause
  const Clause* clause;
  const Violation* violation;
};

struct ClauseTally {
  size_t gpus_failed = 0, nodes_failed = 0, gpus_noted = 0;
  std::string note;  // one of the notes, for the reader to see what "noted" means
};

struct Digest {
  std::vector<Failure> failures;                 // in node, GPU, clause order
  std::vector<ClauseTally> tally;                // per clause
  std::vector<std::string> failed_clauses_of;    // per node: "A.3.1 (2 GPUs), A.4.1"
  std::vector<std::string> failed_gpus_of;       // per node: "GPU 3, GPU 5"
  size_t gpus = 0, gpus_failed = 0;
};

Digest digest(const Spec& spec, const Verdict& verdict) {
  Digest d;
  d.tally.resize(spec.clauses.size());
  d.failed_clauses_of.resize(verdict.nodes.size());
  d.failed_gpus_of.resize(verdict.nodes.size());
  for (size_t n = 0; n < verdict.nodes.size(); ++n) {
    const NodeVerdict& node = verdict.nodes[n];
    std::vector<size_t> gpus_failing(spec.clauses.size(), 0);
    std::vector<bool> node_failing(spec.clauses.size(), false);
    auto take = [&](const Outcome& o, const GpuVerdict* gpu) {
      const Clause& clause = spec.clauses[o.clause];
      if (!o.note.empty()) {
        ++d.tally[o.clause].gpus_noted;
        d.tally[o.clause].note = o.note;
      }
      if (o.passed()) return;
      node_failing[o.clause] = true;
      if (gpu) ++gpus_failing[o.clause];
      for (const Violation& v : o.violations) d.failures.push_back({&node, gpu, &clause, &v});
    };
    for (const Outcome& o : node.outcomes) take(o, nullptr);
    std::vector<std::string> failed_gpus;
    for (const GpuVerdict& gpu : node.gpus) {
      ++d.gpus;
      if (!gpu.passed()) {
        ++d.gpus_failed;
        failed_gpus.push_back(gpu.gpu_index ? "GPU " + std::to_string(*gpu.gpu_index) : gpu.label);
      }
      for (const Outcome& o : gpu.outcomes) take(o, &gpu);
    }
    std::vector<std::string> failed;
    for (size_t c = 0; c < spec.clauses.size(); ++c) {
      if (!node_failing[c]) continue;
      ++d.tally[c].nodes_failed;
      d.tally[c].gpus_failed += gpus_failing[c];
      failed.push_back(spec.clauses[c].id +
                       (gpus_failing[c] ? " (" + devices(spec, gpus_failing[c]) + ")" : std::string()));
    }
    d.failed_clauses_of[n] = reports::join(failed, ", ");
    // Every GPU of a node failing (a node-wide fault, or a spec for another layout) is said once,
    // not as a list of eight UUIDs.
    d.failed_gpus_of[n] = failed_gpus.size() > 1 && failed_gpus.size() == node.gpus.size()
                              ? "all " + std::to_string(failed_gpus.size())
                              : reports::join(failed_gpus, ", ");
  }
  return d;
}

std::string headline(const Verdict& verdict) {
  if (verdict.nodes.empty()) return "FAILED: no node reported results";
  if (verdict.passed()) return "PASSED: " + std::string(verdict.nodes.size() == 1 ? "the node passes" : "all " + std::to_string(verdict.nodes.size()) + " nodes pass");
  return "FAILED: " + std::to_string(verdict.failed_nodes()) + " of " + plural(verdict.nodes.size(), "node", "nodes") +
         (verdict.failed_nodes() == 1 ? " fails" : " fail") + " (" + std::to_string(verdict.passed_nodes()) + " pass)";
}

std::string gpu_label(const Failure& f) { return f.gpu ? f.gpu->label : "(node)"; }

std::vector<std::string> passed_hosts(const Verdict& verdict) {
  std::vector<std::string> hosts;
  for (const NodeVerdict& node : verdict.nodes) {
    if (node.passed()) hosts.push_back(node.host);
  }
  return hosts;
}

// What failed, for a table whose own column names the benchmark.
std::string without_benchmark(Violation v) {
  v.benchmark.clear();
  return describe(v);
}

// A failure as a line of a JUnit failure's text: clause, GPU and what was measured.
std::string failure_line(const Clause& clause, const std::string& gpu, const Violation& v) {
  return clause.id + " on " + gpu + ": " + describe(v);
}

}  // namespace

std::string summary_line(const Spec& spec, const Verdict& verdict) {
  return headline(verdict) + " acceptance against " + spec.name + " (" + plural(verdict.files, "result file", "result files") + ")";
}

// ==== Markdown

std::string render_markdown(const Spec& spec, const Verdict& verdict) {
  const Digest d = digest(spec, verdict);
  std::ostringstream out;
  out << "# Acceptance: " << md(spec.name) << "\n\n"
      << "Spec `" << spec.path.string() << "`: " << md(spec.sku_name) << ", suite " << md(spec.suite) << " version "
      << spec.suite_version << ", " << plural(spec.clauses.size(), "clause", "clauses") << "; "
      << plural(verdict.files, "result file", "result files") << ".\n\n"
      << "**" << headline(verdict) << "**; " << devices(spec, d.gpus) << ", " << d.gpus_failed << " failing.\n";

  out << "\n## Nodes\n\n";
  if (verdict.failed_nodes()) {
    out << "| node | GPUs | verdict | failing GPUs | failed clauses |\n|---|---:|---|---|---|\n";
    for (size_t n = 0; n < verdict.nodes.size(); ++n) {
      const NodeVerdict& node = verdict.nodes[n];
      if (node.passed()) continue;
      out << "| " << md(node.host) << " | " << node.gpus.size() << " | FAIL | " << md(d.failed_gpus_of[n]) << " | "
          << md(d.failed_clauses_of[n]) << " |\n";
    }
    out << "\n";
  }
  const std::vector<std::string> passed = passed_hosts(verdict);
  out << "Passed (" << passed.size() << "): " << (passed.empty() ? "none" : md(reports::join(passed, ", "))) << "\n";

  if (!d.failures.empty()) {
    out << "\n## Failures\n\n| node | GPU | clause | failure |\n|---|---|---|---|\n";
    for (const Failure& f : d.failures) {
      out << "| " << md(f.node->host) << " | " << md(gpu_label(f)) << " | " << md(f.clause->id) << " | "
          << md(describe(*f.violation)) << " |\n";
    }
  }

  out << "\n## Clauses\n\n| clause | rule | GPUs failing | nodes failing | contract |\n|---|---|---:|---:|---|\n";
  for (size_t c = 0; c < spec.clauses.size(); ++c) {
    const Clause& clause = spec.clauses[c];
    const ClauseTally& t = d.tally[c];
    out << "| " << md(clause.id) << " | " << md(clause.summary()) << " | "
        << (clause.node_level() ? "-" : std::to_string(t.gpus_failed)) << " | " << t.nodes_failed << " | "
        << md(clause.contract) << (t.gpus_noted ? md(" (passed on " + devices(spec, t.gpus_noted) + " with " + t.note + ")") : "")
        << " |\n";
  }
  return out.str();
}

// ==== HTML

namespace {

// After kPageBaseStyle.
constexpr const char* kStyle = R"(
.verdict { border-radius: 4px; padding: .6rem 1rem; font-weight: 600; font-size: 1.1rem; }
.verdict.pass { background: #e6f4ea; border: 1px solid #1e8e3e; color: #0d652d; }
.verdict.fail { background: #fdecee; border: 1px solid #b00020; color: #b00020; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; font-size: .85rem; width: 100%; }
th, td { padding: .3rem .5rem; border-bottom: 1px solid #e6e6e6; text-align: left; vertical-align: top; }
th { background: #f3f4f6; }  td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.fail { color: #b00020; font-weight: 600; }  code { font-size: .85rem; }  td.id { white-space: nowrap; }
p.hosts { font-size: .85rem; color: #444; word-break: break-word; }
)";

}  // namespace

std::string render_html(const Spec& spec, const Verdict& verdict) {
  const Digest d = digest(spec, verdict);
  std::ostringstream out;
  out << reports::html_page_head("aicbench acceptance: " + spec.name, std::string(reports::kPageBaseStyle) + kStyle)
      << "<h1>Acceptance: " << markup(spec.name) << "</h1>\n"
      << "<p>Spec <code>" << markup(spec.path.string()) << "</code>: " << markup(spec.sku_name) << ", suite "
      << markup(spec.suite) << " version " << spec.suite_version << ", " << plural(spec.clauses.size(), "clause", "clauses")
      << "; " << plural(verdict.files, "result file", "result files") << ".</p>\n"
      << "<p>" << markup(spec.description) << "</p>\n"
      << "<div class=\"verdict " << (verdict.passed() && !verdict.nodes.empty() ? "pass" : "fail") << "\">"
      << markup(headline(verdict)) << "; " << devices(spec, d.gpus) << ", " << d.gpus_failed << " failing</div>\n";

  out << "<h2>Nodes</h2>\n";
  if (verdict.failed_nodes()) {
    out << "<div class=\"scroll\"><table>\n<tr><th>node</th><th>GPUs</th><th>verdict</th><th>failing GPUs</th><th>failed clauses</th></tr>\n";
    for (size_t n = 0; n < verdict.nodes.size(); ++n) {
      const NodeVerdict& node = verdict.nodes[n];
      if (node.passed()) continue;
      out << "<tr><td>" << markup(node.host) << "</td><td class=\"num\">" << node.gpus.size()
          << "</td><td class=\"fail\">FAIL</td><td>" << markup(d.failed_gpus_of[n]) << "</td><td>" << markup(d.failed_clauses_of[n])
          << "</td></tr>\n";
    }
    out << "</table></div>\n";
  }
  const std::vector<std::string> passed = passed_hosts(verdict);
  out << "<p class=\"hosts\"><b>Passed (" << passed.size() << "):</b> " << (passed.empty() ? "none" : markup(reports::join(passed, ", ")))
      << "</p>\n";

  if (!d.failures.empty()) {
    out << "<h2>Failures</h2>\n<div class=\"scroll\"><table>\n"
        << "<tr><th>node</th><th>GPU</th><th>clause</th><th>benchmark</th><th>failure</th></tr>\n";
    for (const Failure& f : d.failures) {
      out << "<tr><td class=\"id\">" << markup(f.node->host) << "</td><td class=\"id\">" << markup(gpu_label(f)) << "</td><td title=\""
          << markup(f.clause->contract) << "\">" << markup(f.clause->id) << "</td><td>" << markup(f.violation->benchmark)
          << "</td><td>" << markup(without_benchmark(*f.violation)) << "</td></tr>\n";
    }
    out << "</table></div>\n";
  }

  out << "<h2>Clauses</h2>\n<div class=\"scroll\"><table>\n"
      << "<tr><th>clause</th><th>rule</th><th>GPUs failing</th><th>nodes failing</th><th>contract</th></tr>\n";
  for (size_t c = 0; c < spec.clauses.size(); ++c) {
    const Clause& clause = spec.clauses[c];
    const ClauseTally& t = d.tally[c];
    out << "<tr><td>" << markup(clause.id) << "</td><td>" << markup(clause.summary()) << "</td><td class=\"num\">"
        << (clause.node_level() ? "-" : std::to_string(t.gpus_failed)) << "</td><td class=\"num\">" << t.nodes_failed
        << "</td><td>" << markup(clause.contract)
        << (t.gpus_noted ? markup(" (passed on " + devices(spec, t.gpus_noted) + " with " + t.note + ")") : "")
        << "</td></tr>\n";
  }
  out << "</table></div>\n";
  if (!spec.sources.empty()) {
    out << "<h2>Sources of the thresholds</h2>\n<ul>\n";
    for (const std::string& source : spec.sources) out << "<li>" << markup(source) << "</li>\n";
    out << "</ul>\n";
  }
  out << "</body>\n</html>\n";
  return out.str();
}

// ==== JSON

namespace {

json violation_json(const Violation& v) {
  json j = {{"problem", problem_name(v.problem)}, {"message", describe(v)}};
  if (!v.benchmark.empty()) j["benchmark"] = v.benchmark;
  if (v.value) j["value"] = *v.value;
  if (v.threshold) j["threshold"] = *v.threshold;
  if (v.unit != Unit::none) j["unit"] = unit_text(v.unit);
  if (!v.detail.empty()) j["detail"] = v.detail;
  return j;
}

json outcomes_json(const Spec& spec, const std::vector<Outcome>& outcomes) {
  json list = json::array();
  for (const Outcome& o : outcomes) {
    json j = {{"clause", spec.clauses[o.clause].id}, {"passed", o.passed()}};
    if (!o.note.empty()) j["note"] = o.note;
    if (!o.passed()) {
      j["violations"] = json::array();
      for (const Violation& v : o.violations) j["violations"].push_back(violation_json(v));
    }
    list.push_back(std::move(j));
  }
  return list;
}

}  // namespace

std::string render_json(const Spec& spec, const Verdict& verdict) {
  const Digest d = digest(spec, verdict);
  json out;
  out["spec"] = {{"name", spec.name},       {"path", spec.path.string()}, {"sku", spec.sku_name},
                 {"backend", spec.backend}, {"suite", spec.suite},        {"suite_version", spec.suite_version}};
  out["passed"] = verdict.passed() && !verdict.nodes.empty();
  out["files"] = verdict.files;
  out["nodes_total"] = verdict.nodes.size();
  out["nodes_passed"] = verdict.passed_nodes();
  out["nodes_failed"] = verdict.failed_nodes();
  out["gpus_total"] = d.gpus;
  out["gpus_failed"] = d.gpus_failed;
  out["clauses"] = json::array();
  for (size_t c = 0; c < spec.clauses.size(); ++c) {
    const Clause& clause = spec.clauses[c];
    json j = {{"id", clause.id},
              {"contract", clause.contract},
              {"rule", rule_name(clause.rule)},
              {"summary", clause.summary()},
              {"nodes_failed", d.tally[c].nodes_failed}};
    if (!clause.node_level()) j["gpus_failed"] = d.tally[c].gpus_failed;
    if (!clause.benchmark.empty()) j["benchmark"] = clause.benchmark;
    if (clause.threshold) j["threshold"] = *clause.threshold;
    if (clause.unit != Unit::none) j["unit"] = unit_text(clause.unit);
    out["clauses"].push_back(std::move(j));
  }
  out["nodes"] = json::array();
  for (const NodeVerdict& node : verdict.nodes) {
    json n = {{"host", node.host}, {"passed", node.passed()}, {"gpus_failed", node.failed_gpus()},
              {"clauses", outcomes_json(spec, node.outcomes)}, {"gpus", json::array()}};
    for (const GpuVerdict& gpu : node.gpus) {
      json g = {{"id", gpu.id}, {"label", gpu.label}, {"rank", gpu.rank}, {"device", gpu.device}, {"passed", gpu.passed()},
                {"clauses", outcomes_json(spec, gpu.outcomes)}};
      if (gpu.gpu_index) g["gpu_index"] = *gpu.gpu_index;
      n["gpus"].push_back(std::move(g));
    }
    out["nodes"].push_back(std::move(n));
  }
  // Result files are valid UTF-8 (the reader checks), so the dump cannot fail; replace anyway.
  return out.dump(1, ' ', false, json::error_handler_t::replace) + "\n";
}

// ==== JUnit XML

std::string render_junit(const Spec& spec, const Verdict& verdict) {
  std::ostringstream body;
  size_t tests = 0, failures = 0;
  for (const NodeVerdict& node : verdict.nodes) {
    std::ostringstream cases;
    size_t node_tests = 0, node_failures = 0;
    auto testcase = [&](const Outcome& o, const GpuVerdict* gpu) {
      const Clause& clause = spec.clauses[o.clause];
      const std::string where = gpu ? node.host + " " + gpu->label : node.host;
      ++node_tests;
      cases << "    <testcase classname=\"" << xml(gpu ? node.host + "." + gpu->id : node.host) << "\" name=\""
            << xml(clause.id + " " + clause.summary()) << "\"";
      if (o.passed() && o.note.empty()) {
        cases << "/>\n";
        return;
      }
      cases << ">\n";
      if (!o.passed()) {
        ++node_failures;
        std::string text;
        for (const Violation& v : o.violations) text += failure_line(clause, where, v) + "\n";
        const std::string first = failure_line(clause, where, o.violations.front());
        const std::string message =
            o.violations.size() == 1 ? first : first + " (and " + std::to_string(o.violations.size() - 1) + " more)";
        cases << "      <failure message=\"" << xml(message) << "\" type=\"" << problem_name(o.violations.front().problem)
              << "\">" << xml(text + "contract: " + clause.contract) << "</failure>\n";
      } else {
        cases << "      <system-out>" << xml(clause.id + " on " + where + ": passed, " + o.note) << "</system-out>\n";
      }
      cases << "    </testcase>\n";
    };
    for (const Outcome& o : node.outcomes) testcase(o, nullptr);
    for (const GpuVerdict& gpu : node.gpus) {
      for (const Outcome& o : gpu.outcomes) testcase(o, &gpu);
    }
    body << "  <testsuite name=\"" << xml(node.host) << "\" tests=\"" << node_tests << "\" failures=\"" << node_failures
         << "\" errors=\"0\" skipped=\"0\">\n"
         << cases.str() << "  </testsuite>\n";
    tests += node_tests;
    failures += node_failures;
  }
  std::ostringstream out;
  out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      << "<testsuites name=\"" << xml("aicbench accept " + spec.name) << "\" tests=\"" << tests << "\" failures=\""
      << failures << "\" errors=\"0\">\n"
      << body.str() << "</testsuites>\n";
  return out.str();
}

}  // namespace aicbench::accept
