#include "reports/fleet_render.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "reports/exports.hpp"
#include "reports/stats.hpp"
#include "reports/text_format.hpp"

namespace aicbench::fleet {
namespace {

using nlohmann::json;

constexpr size_t kNamedPerRow = 5;       // slow GPUs named on one chart row, the worst first
constexpr size_t kAllPointsBelow = 400;  // GPUs on a row up to which every one is drawn as a point

using reports::gnuplot_quote;
using reports::join;
using reports::printf_double;

std::string format(const char* spec, double v) { return printf_double(spec, v); }

// Three significant digits (text_format's sig3); "-" where there is no number.
std::string number(double v) { return std::isfinite(v) ? reports::sig3(v) : "-"; }

std::string percent(double fraction) { return format("%.1f", 100 * fraction) + " %"; }

std::string benchmark_label(const Distribution& d) {
  if (d.mode.empty() || d.mode == "cold" || d.benchmark.find("mode:" + d.mode) != std::string::npos) return d.benchmark;
  return d.benchmark + " (" + d.mode + ")";
}

std::string md(const std::string& s) { return reports::markdown_escape(s); }
std::string html(const std::string& s) { return reports::markup_escape(s); }
std::string csv(const std::string& s) { return reports::csv_text_field(s); }
std::string csv_number(double v) { return std::isfinite(v) ? format("%.9g", v) : ""; }

json json_number(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

std::string models_text(const FleetReport& r) {
  std::vector<std::string> parts;
  for (const auto& [model, n] : r.models) parts.push_back(model + " × " + std::to_string(n));
  return join(parts, ", ");
}

// The rules as applied, in one line each: what the summary says before any verdict.
std::vector<std::pair<std::string, std::string>> rules(const FleetOptions& o) {
  const std::string k = format("%g", o.k_sigma);
  return {
      {"slow", "z < -" + k + " and more than " + percent(o.slow_fraction) +
                   " below the median of its benchmark and GPU model; a node also when its median over its GPUs is so "
                   "against the other nodes', or when every one of its GPUs is slow"},
      {"failing", "a benchmark failed validation or errored"},
      {"hot", "max temperature above " + format("%g", o.max_temp_c) + " C, or z > " + k + " and more than " +
                  format("%g", o.temp_margin_c) + " C above its model's median"},
      {"throttled", "SM clock z < -" + k + " and more than " + percent(o.clock_fraction) +
                        " below the median on a benchmark, or a thermal or hardware-slowdown throttle reason, or one fewer than half the GPUs show"},
      {"missing", "fewer GPUs than most nodes report, or a benchmark most GPUs of its model ran"},
      {"odd provenance", "driver, CUDA, cuBLAS or NCCL version, GPU model, power limit, clock policy or backend unlike a strict majority"},
      {"sigma", "max(1.4826 MAD, " + percent(o.sigma_floor) + " of the median); temperatures at least " +
                    format("%g", o.temp_floor_c) + " C; verdicts need " + std::to_string(o.min_gpus) + " GPUs"},
  };
}

std::string reasons_text(const NodeVerdict& v) {
  std::vector<std::string> parts;
  for (Reason r : v.reasons()) parts.push_back(reason_name(r));
  return join(parts, ", ");
}

// "node-0042 GPU 3 (GPU-...)", "node-0042:3", or "all 8 GPUs", or "node".
std::string who(const FleetReport& r, const Finding& f, const NodeVerdict& v) {
  if (f.gpus.empty()) return "node";
  if (f.gpus.size() > 1 && f.gpus.size() == v.gpus) return "all " + std::to_string(v.gpus) + " GPUs";
  std::vector<std::string> named;
  for (const std::string& label : f.gpus) {
    // The UUID beside the slot: what a technician checks before pulling a GPU.
    auto gpu = std::find_if(r.gpus.begin(), r.gpus.end(), [&](const Gpu& g) { return g.label == label; });
    named.push_back(gpu != r.gpus.end() && gpu->gpu_index && !gpu->uuid.empty() ? label + " (" + gpu->uuid + ")" : label);
  }
  return join(named, ", ");
}

// Which reasons each GPU (by label) has, for the CSV.
std::map<std::string, std::set<Reason>> reasons_by_gpu(const FleetReport& r) {
  std::map<std::string, std::set<Reason>> out;
  for (const NodeVerdict& v : r.outliers) {
    for (const Finding& f : v.findings) {
      for (const std::string& gpu : f.gpus) out[gpu].insert(f.reason);
    }
  }
  return out;
}

std::string summary_title(const FleetReport& r) {
  return "Fleet: " + std::to_string(r.nodes.size()) + " nodes, " + std::to_string(r.gpus.size()) + " GPUs, " +
         std::to_string(r.files) + " result files";
}

std::string outliers_line(const FleetReport& r) {
  return std::to_string(r.outliers.size()) + " of " + std::to_string(r.nodes.size()) + " nodes (" +
         std::to_string(r.outlier_gpus()) + " GPUs named)";
}

std::string environment_text(const FleetReport& r) {
  std::vector<std::string> parts;
  for (const auto& [key, value] : r.majority_environment) {
    if (key != "gpu.name") parts.push_back(key + " " + (value.empty() ? "(none)" : value));
  }
  return join(parts, ", ");
}

// Relative performance in percent against the median (negative is slower) of a distribution's
// ok cells, sorted, with the cell index.
std::vector<std::pair<double, size_t>> relatives(const FleetReport& r, size_t distribution,
                                                 const std::vector<std::vector<size_t>>& cells_of) {
  std::vector<std::pair<double, size_t>> out;
  for (size_t c : cells_of[distribution]) {
    if (std::isfinite(r.cells[c].relative)) out.emplace_back(100 * (r.cells[c].relative - 1), c);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// A stable jitter in [-0.22, 0.22] for a GPU, so points of one row do not sit on one line.
double jitter(size_t gpu) {
  uint64_t x = gpu * 0x9E3779B97F4A7C15ull;
  x ^= x >> 29;
  x *= 0xBF58476D1CE4E5B9ull;
  x ^= x >> 32;
  return (static_cast<double>(x % 10000) / 9999.0 - 0.5) * 0.44;
}

}  // namespace

// ==== Markdown

std::string render_markdown(const FleetReport& r) {
  std::ostringstream out;
  out << "# " << summary_title(r) << "\n\n";
  out << "| | |\n|---|---|\n";
  out << "| GPU models | " << md(models_text(r)) << " |\n";
  out << "| GPUs per node | " << r.usual_gpus_per_node << " on most nodes |\n";
  out << "| Environment (majority) | " << md(environment_text(r)) << " |\n";
  out << "| Outliers | " << outliers_line(r) << " |\n";
  for (const auto& [name, rule] : rules(r.options)) out << "| Rule: " << name << " | " << md(rule) << " |\n";
  if (!r.notes.empty()) {
    out << "\nNotes:\n\n";
    for (const std::string& note : r.notes) out << "- " << md(note) << "\n";
  }
  out << "\n## Outlier nodes\n\n";
  if (r.outliers.empty()) {
    out << "None: no node stands out.\n";
  } else {
    out << "| Node | Reasons | GPUs | Details |\n|---|---|---|---|\n";
    for (const NodeVerdict& v : r.outliers) {
      std::vector<std::string> details;
      for (const Finding& f : v.findings) {
        details.push_back(std::string("**") + reason_name(f.reason) + "** " + md(who(r, f, v) + ": " + f.detail));
      }
      out << "| " << md(v.node) << " | " << reasons_text(v) << " | " << v.gpus << " | " << join(details, "; ") << " |\n";
    }
  }
  out << "\n## Distributions per benchmark and GPU model\n\n";
  out << "Value: a GPU's median over its repetitions; z = (value - median) / sigma, negative is slower.\n\n";
  out << "| Benchmark | GPU model | Unit | GPUs | Median | MAD | Sigma | P5 | P95 | Min | Max | Slow |\n";
  out << "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  for (const Distribution& d : r.distributions) {
    out << "| " << md(benchmark_label(d)) << " | " << md(d.model) << " | " << md(d.unit)
        << (d.higher_is_better ? "" : " (time)") << " | " << d.count << " | " << number(d.median) << " | "
        << number(d.mad) << " | " << number(d.sigma) << " | " << number(d.p5) << " | " << number(d.p95) << " | "
        << number(d.min) << " | " << number(d.max) << " | " << (d.judged ? std::to_string(d.slow) : "not judged") << " |\n";
  }
  return out.str();
}

// ==== Chart

std::string chart_script(const FleetReport& r, const std::string& model) {
  std::vector<std::vector<size_t>> cells_of(r.distributions.size());
  for (size_t c = 0; c < r.cells.size(); ++c) cells_of[r.cells[c].distribution].push_back(c);
  std::vector<size_t> rows;
  for (size_t d = 0; d < r.distributions.size(); ++d) {
    if (r.distributions[d].model == model && r.distributions[d].count > 0) rows.push_back(d);
  }
  if (rows.empty()) return "";

  std::ostringstream boxes, whiskers, medians, points, slow, labels, ytics;
  size_t labelled = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    const double y = static_cast<double>(i);
    const auto rel = relatives(r, rows[i], cells_of);
    if (rel.empty()) continue;
    std::vector<double> x(rel.size());
    for (size_t k = 0; k < rel.size(); ++k) x[k] = rel[k].first;
    const double q5 = stats::quantile(x, 0.05), q25 = stats::quantile(x, 0.25), q50 = stats::quantile(x, 0.5),
                 q75 = stats::quantile(x, 0.75), q95 = stats::quantile(x, 0.95);
    boxes << format("%.6g", (q25 + q75) / 2) << ' ' << y << ' ' << format("%.6g", q25) << ' ' << format("%.6g", q75)
          << ' ' << y - 0.3 << ' ' << y + 0.3 << '\n';
    whiskers << format("%.6g", q5) << ' ' << y << ' ' << format("%.6g", q25 - q5) << " 0\n"
             << format("%.6g", q75) << ' ' << y << ' ' << format("%.6g", q95 - q75) << " 0\n";
    medians << format("%.6g", q50) << ' ' << y - 0.3 << " 0 0.6\n";
    std::vector<std::pair<double, size_t>> named;
    for (const auto& [x, c] : rel) {
      const Cell& cell = r.cells[c];
      const double py = y + jitter(cell.gpu);
      if (cell.slow) {
        slow << format("%.6g", x) << ' ' << format("%.4f", py) << '\n';
        named.emplace_back(x, c);
      } else if (rel.size() <= kAllPointsBelow || x < q5 || x > q95) {
        points << format("%.6g", x) << ' ' << format("%.4f", py) << '\n';
      }
    }
    // The worst slow GPUs of the row by name (rel is sorted, slowest first).
    for (size_t n = 0; n < named.size() && n < kNamedPerRow; ++n) {
      const Cell& cell = r.cells[named[n].second];
      // Above and below their points in turn, so that neighbours do not print over each other.
      const double label_y = y + jitter(cell.gpu) + (n % 2 ? 0.3 : -0.14);
      labels << "set label " << ++labelled << ' ' << gnuplot_quote(r.gpus[cell.gpu].label) << " at "
             << format("%.6g", named[n].first) << ',' << format("%.4f", label_y)
             << " right offset -0.6,0 font 'sans,9' textcolor rgb '#b00020'\n";
    }
    if (named.size() > kNamedPerRow) {
      labels << "set label " << ++labelled << ' ' << gnuplot_quote("+" + std::to_string(named.size() - kNamedPerRow) + " more slow")
             << " at " << format("%.6g", named.back().first) << ',' << y + 0.42 << " left font 'sans,9' textcolor rgb '#b00020'\n";
    }
    ytics << (i ? ", " : "") << gnuplot_quote(benchmark_label(r.distributions[rows[i]]), 100) << ' ' << i;
  }
  auto block = [](const std::string& name, const std::string& data) {
    // An empty datablock cannot be plotted; a point far outside the range stands for nothing.
    return "$" + name + " << EOD\n" + (data.empty() ? "1e30 1e30 0 0 0 0\n" : data) + "EOD\n";
  };
  const double height = 190 + 34 * static_cast<double>(rows.size());
  const double slow_line = -100 * r.options.slow_fraction;
  std::ostringstream gp;
  gp << "set terminal svg size 1100," << height << " dynamic noenhanced font 'sans,11' background '#ffffff'\n"
     << block("box", boxes.str()) << block("whisker", whiskers.str()) << block("median", medians.str())
     << block("points", points.str()) << block("slow", slow.str())
     << "set title " << gnuplot_quote(model + ": performance of each GPU against the median of its benchmark", 200) << "\n"
     << "set xlabel 'performance against the median (%); left is slower'\n"
     << "set ytics (" << ytics.str() << ")\n"
     << "set yrange [" << static_cast<double>(rows.size()) - 0.5 << ":-0.5]\n"
     << "set xrange [*:*]\nset offsets graph 0.04, graph 0.04, 0, 0\n"
     << "set grid xtics\nset border 3\nset tics nomirror\nset key outside top center horizontal reverse Left samplen 2\n"
     << "set arrow from " << slow_line << ", graph 0 to " << slow_line << ", graph 1 nohead dt 2 lc rgb '#b00020'\n"
     << labels.str()
     << "plot $box using 1:2:3:4:5:6 with boxxyerror fill solid 0.35 lc rgb '#4c78a8' title 'P25-P75', \\\n"
     << "     $whisker using 1:2:3:4 with vectors nohead lw 1.5 lc rgb '#4c78a8' title 'P5-P95', \\\n"
     << "     $median using 1:2:3:4 with vectors nohead lw 2.5 lc rgb '#1f3b5c' title 'median', \\\n"
     << "     $points using 1:2 with points pt 7 ps 0.35 lc rgb '#6b6b6b' title 'GPU', \\\n"
     << "     $slow using 1:2 with points pt 7 ps 0.7 lc rgb '#b00020' title 'slow (outlier)'\n";
  return gp.str();
}

// ==== HTML

namespace {

// After kPageBaseStyle.
constexpr const char* kStyle = R"(
table { border-collapse: collapse; font-size: .85rem; margin: .5rem 0; }
th, td { border: 1px solid #ddd; padding: .25rem .5rem; text-align: left; vertical-align: top; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
td.node { white-space: nowrap; }
th { background: #f4f4f4; }
.reason { display: inline-block; padding: 0 .4rem; border-radius: .6rem; background: #fde2e4; color: #8a1020; margin-right: .3rem; font-size: .8rem; }
.note { background: #fff8e1; border-left: 4px solid #f0b400; padding: .4rem .8rem; margin: .6rem 0; }
.scroll { overflow-x: auto; }
)";

}  // namespace

std::string render_html(const FleetReport& r, const reports::ChartDrawer& drawer) {
  std::ostringstream out;
  out << reports::html_page_head(summary_title(r), std::string(reports::kPageBaseStyle) + kStyle);
  out << "<h1>" << html(summary_title(r)) << "</h1>\n<table>\n";
  out << "<tr><th>GPU models</th><td>" << html(models_text(r)) << "</td></tr>\n";
  out << "<tr><th>GPUs per node</th><td>" << r.usual_gpus_per_node << " on most nodes</td></tr>\n";
  out << "<tr><th>Environment (majority)</th><td>" << html(environment_text(r)) << "</td></tr>\n";
  out << "<tr><th>Outliers</th><td>" << html(outliers_line(r)) << "</td></tr>\n";
  for (const auto& [name, rule] : rules(r.options)) out << "<tr><th>Rule: " << html(name) << "</th><td>" << html(rule) << "</td></tr>\n";
  out << "</table>\n";
  for (const std::string& note : r.notes) out << "<p class=\"note\">" << html(note) << "</p>\n";

  out << "<h2>Outlier nodes</h2>\n";
  if (r.outliers.empty()) {
    out << "<p>None: no node stands out.</p>\n";
  } else {
    out << "<div class=\"scroll\"><table><tr><th>Node</th><th>Reasons</th><th>GPUs</th><th>Details</th></tr>\n";
    for (const NodeVerdict& v : r.outliers) {
      out << "<tr><td class=\"node\">" << html(v.node) << "</td><td>";
      for (Reason reason : v.reasons()) out << "<span class=\"reason\">" << reason_name(reason) << "</span>";
      out << "</td><td class=\"n\">" << v.gpus << "</td><td>";
      for (size_t i = 0; i < v.findings.size(); ++i) {
        const Finding& f = v.findings[i];
        out << (i ? "<br>" : "") << "<b>" << reason_name(f.reason) << "</b> " << html(who(r, f, v)) << ": " << html(f.detail);
      }
      out << "</td></tr>\n";
    }
    out << "</table></div>\n";
  }

  out << "<h2>Distributions</h2>\n";
  size_t drawn = 0;
  if (!drawer.unavailable.empty() || !drawer.draw) {
    out << "<p class=\"note\">Charts are not drawn: " << html(drawer.unavailable.empty() ? "no chart drawer" : drawer.unavailable)
        << ". The tables hold every number.</p>\n";
  } else {
    for (const auto& [model, n] : r.models) {
      const std::string script = chart_script(r, model);
      if (script.empty()) continue;
      try {
        out << "<div class=\"scroll\">" << reports::inline_svg(drawer.draw(script), model, "fleet" + std::to_string(drawn) + "-")
            << "</div>\n";
        ++drawn;
      } catch (const std::exception& e) {
        std::string why = e.what();
        if (why.size() > 600) why = why.substr(0, 600) + "…";
        out << "<p class=\"note\">The chart of " << html(model) << " was not drawn: " << html(why) << "</p>\n";
      }
    }
  }
  if (drawn > 0) {
    out << "<p>Each row is a benchmark; the box spans P25 to P75 of the GPUs' performance against the median, the "
           "whiskers P5 to P95, the bar is the median. Points are GPUs: all of them on rows of up to "
        << kAllPointsBelow << " GPUs, else those outside the whiskers. Red points are slow outliers, the worst "
        << kNamedPerRow << " of a row named; the dashed line is the slow threshold (" << percent(r.options.slow_fraction)
        << " below the median).</p>\n";
  }
  out << "<p>Value: a GPU's median over its repetitions; z = (value - median) / sigma, negative is slower.</p>\n";
  out << "<div class=\"scroll\"><table><tr><th>Benchmark</th><th>GPU model</th><th>Unit</th><th>GPUs</th><th>Median</th>"
         "<th>MAD</th><th>Sigma</th><th>P5</th><th>P95</th><th>Min</th><th>Max</th><th>Slow</th></tr>\n";
  for (const Distribution& d : r.distributions) {
    out << "<tr><td>" << html(benchmark_label(d)) << "</td><td>" << html(d.model) << "</td><td>" << html(d.unit)
        << (d.higher_is_better ? "" : " (time)") << "</td><td class=\"n\">" << d.count << "</td>";
    for (double v : {d.median, d.mad, d.sigma, d.p5, d.p95, d.min, d.max}) out << "<td class=\"n\">" << number(v) << "</td>";
    out << "<td class=\"n\">" << (d.judged ? std::to_string(d.slow) : "not judged") << "</td></tr>\n";
  }
  out << "</table></div>\n</body></html>\n";
  return out.str();
}

// ==== CSV

std::string render_csv(const FleetReport& r) {
  const auto gpu_reasons = reasons_by_gpu(r);
  std::ostringstream out;
  out << "node,gpu,uuid,model,benchmark,mode,unit,status,repetitions,value,fleet_median,relative,z,"
         "sm_clock_mhz,clock_z,max_temp_c,flags,gpu_reasons,rank,gpu_index\n";
  for (const Cell& c : r.cells) {
    const Gpu& g = r.gpus[c.gpu];
    const Distribution& d = r.distributions[c.distribution];
    std::vector<std::string> flags;
    if (c.slow) flags.push_back("slow");
    if (c.status == CellStatus::failed || c.status == CellStatus::error) flags.push_back("failing");
    if (c.status == CellStatus::missing) flags.push_back("missing");
    if (c.clock_low) flags.push_back("low clock");
    std::vector<std::string> reasons;
    if (auto it = gpu_reasons.find(g.label); it != gpu_reasons.end()) {
      for (Reason reason : it->second) reasons.push_back(reason_name(reason));
    }
    out << csv(g.node) << ',' << csv(g.label) << ',' << csv(g.uuid) << ',' << csv(g.model) << ',' << csv(d.benchmark)
        << ',' << csv(d.mode) << ',' << csv(d.unit) << ',' << cell_status_name(c.status) << ',' << c.repetitions << ','
        << csv_number(c.value) << ',' << csv_number(d.median) << ',' << csv_number(c.relative) << ',' << csv_number(c.z)
        << ',' << csv_number(c.clock_mhz) << ',' << csv_number(c.clock_z) << ',' << csv_number(g.max_temp_c) << ','
        << csv(join(flags, ";")) << ',' << csv(join(reasons, ";")) << ',' << g.rank << ','
        << (g.gpu_index ? std::to_string(*g.gpu_index) : "") << '\n';
  }
  return out.str();
}

// ==== JSON

std::string render_json(const FleetReport& r) {
  const FleetOptions& o = r.options;
  json doc;
  doc["fleet"] = {{"files", r.files},
                  {"nodes", r.nodes.size()},
                  {"gpus", r.gpus.size()},
                  {"models", r.models},
                  {"usual_gpus_per_node", r.usual_gpus_per_node},
                  {"majority_environment", r.majority_environment},
                  {"outlier_nodes", r.outliers.size()},
                  {"outlier_gpus", r.outlier_gpus()},
                  {"job_wide_rows", r.job_wide_rows}};
  doc["options"] = {{"k_sigma", o.k_sigma},           {"slow_fraction", o.slow_fraction},
                    {"clock_fraction", o.clock_fraction}, {"sigma_floor", o.sigma_floor},
                    {"temp_floor_c", o.temp_floor_c}, {"max_temp_c", o.max_temp_c},
                    {"temp_margin_c", o.temp_margin_c}, {"min_gpus", o.min_gpus}};
  doc["notes"] = r.notes;
  json outliers = json::array();
  for (const NodeVerdict& v : r.outliers) {
    json findings = json::array();
    for (const Finding& f : v.findings) {
      findings.push_back({{"reason", reason_name(f.reason)},
                          {"gpus", f.gpus},
                          {"benchmark", f.benchmark},
                          {"value", json_number(f.value)},
                          {"fleet", json_number(f.fleet)},
                          {"z", json_number(f.z)},
                          {"detail", f.detail}});
    }
    std::vector<std::string> reasons;
    for (Reason reason : v.reasons()) reasons.push_back(reason_name(reason));
    outliers.push_back({{"node", v.node}, {"gpus", v.gpus}, {"reasons", reasons}, {"findings", findings}});
  }
  doc["outliers"] = std::move(outliers);
  json distributions = json::array();
  for (const Distribution& d : r.distributions) {
    distributions.push_back({{"benchmark", d.benchmark}, {"mode", d.mode}, {"model", d.model}, {"unit", d.unit},
                             {"higher_is_better", d.higher_is_better}, {"count", d.count},
                             {"median", json_number(d.median)}, {"mad", json_number(d.mad)},
                             {"sigma", json_number(d.sigma)}, {"p5", json_number(d.p5)}, {"p95", json_number(d.p95)},
                             {"min", json_number(d.min)}, {"max", json_number(d.max)}, {"judged", d.judged},
                             {"slow", d.slow}, {"clock_median_mhz", json_number(d.clock_median_mhz)}});
  }
  doc["distributions"] = std::move(distributions);
  // Per GPU its values: the bulk of the document, written one GPU at a time so that 10,000 GPUs
  // never stand as one JSON tree in memory.
  std::string text = doc.dump(1);
  text.erase(text.rfind('}'));
  text += ",\n \"gpus\": [";
  size_t c = 0;
  for (size_t g = 0; g < r.gpus.size(); ++g) {
    const Gpu& gpu = r.gpus[g];
    json entry = {{"label", gpu.label}, {"node", gpu.node}, {"uuid", gpu.uuid}, {"model", gpu.model}, {"rank", gpu.rank},
                  {"gpu_index", gpu.gpu_index ? json(*gpu.gpu_index) : json(nullptr)},
                  {"files", gpu.files}, {"max_temp_c", json_number(gpu.max_temp_c)},
                  {"temp_z", json_number(gpu.temp_z)}, {"throttle_reasons", gpu.throttle_reasons},
                  {"values", json::array()}};
    for (; c < r.cells.size() && r.cells[c].gpu == g; ++c) {  // cells are ordered by GPU
      const Cell& cell = r.cells[c];
      entry["values"].push_back({{"distribution", cell.distribution},
                                 {"status", cell_status_name(cell.status)},
                                 {"value", json_number(cell.value)},
                                 {"relative", json_number(cell.relative)},
                                 {"z", json_number(cell.z)},
                                 {"slow", cell.slow},
                                 {"sm_clock_mhz", json_number(cell.clock_mhz)},
                                 {"clock_z", json_number(cell.clock_z)},
                                 {"clock_low", cell.clock_low}});
    }
    text += (g ? ",\n  " : "\n  ") + entry.dump();
  }
  text += "\n ]\n}\n";
  return text;
}

}  // namespace aicbench::fleet
