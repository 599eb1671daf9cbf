#include "reports/report.hpp"

#include <algorithm>
#include <sstream>

#include "reports/charts.hpp"
#include "reports/collective_versus.hpp"
#include "reports/model_collective.hpp"
#include "reports/p2p_matrix.hpp"
#include "reports/report_model.hpp"
#include "reports/result_fields.hpp"
#include "reports/text_format.hpp"

namespace aicbench::reports {
namespace {

using nlohmann::json;

// ==== Tables as plain text, written out as Markdown or HTML

struct TextTable {
  struct Column {
    Column(const char* header, bool numeric = false, bool always = false, const char* flag = "")
        : header(header), numeric(numeric), always(always), flag(flag) {}
    std::string header;
    bool numeric;          // right-aligned
    bool always;           // kept even when no row has a value in it
    std::string flag;      // HTML only: a CSS class for the column's non-empty cells (bad, warn)
  };
  std::vector<Column> columns;
  std::vector<std::vector<std::string>> cells;
  std::vector<std::string> row_classes;  // HTML only: failed, skipped, unstable, ...
  size_t name_column = SIZE_MAX;         // HTML only: long benchmark names may break after '/'

  // The columns no row has a value in (a CPU run has no telemetry or peak) are left out.
  void drop_empty_columns() {
    std::vector<size_t> keep;
    for (size_t c = 0; c < columns.size(); ++c) {
      if (columns[c].always || std::any_of(cells.begin(), cells.end(), [&](const auto& row) { return !row[c].empty(); })) {
        keep.push_back(c);
      }
    }
    auto pick = [&](auto& v) {
      std::remove_reference_t<decltype(v)> kept;
      for (size_t c : keep) kept.push_back(v[c]);
      v = std::move(kept);
    };
    size_t new_name_column = SIZE_MAX;
    for (size_t i = 0; i < keep.size(); ++i) if (keep[i] == name_column) new_name_column = i;
    name_column = new_name_column;
    pick(columns);
    for (auto& row : cells) pick(row);
  }
};

std::string markdown_table(const TextTable& table) {
  std::ostringstream md;
  md << "|";
  for (const auto& c : table.columns) md << " " << markdown_escape(c.header) << " |";
  md << "\n|";
  for (const auto& c : table.columns) md << (c.numeric ? "---:|" : "---|");
  md << "\n";
  for (const auto& row : table.cells) {
    md << "|";
    for (const auto& cell : row) md << " " << markdown_escape(cell) << " |";
    md << "\n";
  }
  return md.str();
}

std::string html_table(const TextTable& table) {
  std::ostringstream html;
  html << "<div class=\"scroll\"><table>\n<thead><tr>";
  for (const auto& c : table.columns) html << "<th>" << markup_escape(c.header) << "</th>";
  html << "</tr></thead>\n<tbody>\n";
  for (size_t r = 0; r < table.cells.size(); ++r) {
    const std::string& css = r < table.row_classes.size() ? table.row_classes[r] : "";
    html << (css.empty() ? "<tr>" : "<tr class=\"" + css + "\">");
    for (size_t c = 0; c < table.columns.size(); ++c) {
      std::string cell = markup_escape(table.cells[r][c]);
      if (c == table.name_column) replace_all(cell, "/", "/<wbr>");
      std::vector<std::string> css = {c == table.name_column ? "name" : table.columns[c].numeric ? "num" : "",
                                      cell.empty() ? "" : table.columns[c].flag};
      const std::string classes = join(css, " ");
      html << (classes.empty() ? "<td>" : "<td class=\"" + classes + "\">") << cell << "</td>";
    }
    html << "</tr>\n";
  }
  html << "</tbody>\n</table></div>\n";
  return html.str();
}

// A CSS class for a row: only known words, whatever the file's status says.
std::string row_class(const ReportRow& row) {
  std::string css = row.status == kStatusOk || row.status == kStatusFailed || row.status == kStatusSkipped ||
                            row.status == kStatusError
                        ? row.status
                        : "error";
  if (row.ok() && row.unstable) css += " unstable";
  return css;
}

std::string percent(double v) { return printf_double("%.1f", v); }
std::string percent_of_ratio(double v) { return sig3(100 * v) + " %"; }

// ==== Detailed view: every result

TextTable results_table(const std::vector<ReportRow>& rows, const std::vector<RunSummary>& runs) {
  const bool many = runs.size() > 1;
  const bool per_gpu = names_gpus(rows);
  TextTable t;
  t.columns = {{"Run", false, many, "nowrap"}, {"GPU", false, false, "nowrap"}, {"Benchmark", false, true}, {"Impl"}, {"Dtype"}, {"Shape"}, {"Mode"},
               {"Median", true}, {"Noise", true}, {"Samples", true}, {"Repetitions", true},
               {"TFLOP/s", true}, {"GB/s", true}, {"Bus GB/s", true}, {"% of peak", true}, {"% of vendor", true}, {"SM MHz", true},
               {"Power W", true}, {"Energy J", true}, {"TFLOP/s/W", true}, {"Max rel err", true}, {"Status", false, true}};
  t.name_column = 2;
  for (const ReportRow& row : rows) {
    const json& b = *row.entry;
    auto metric = [&](const char* key, auto format) { auto v = ok_metric(row, key); return v ? format(*v) : std::string(); };
    const json& info = field(b, "aicbench");
    auto err = number(field(info, "validation"), "max_rel_err");
    if (!err) err = number(b, "max_rel_err");
    std::string time, noise, samples, repetitions;
    if (row.ok()) {
      if (row.time_s) time = human_time(*row.time_s);
      if (row.noise) noise = printf_double("%.2f", 100 * *row.noise) + " %";
      if (row.samples) samples = whole_number(*row.samples);
      // The spread of the repetitions' means (Google Benchmark's cv), beside the per-sample noise.
      if (row.repetitions > 1) repetitions = std::to_string(row.repetitions) + (row.repetition_cv ? ", cv " + percent_of_ratio(*row.repetition_cv) : "");
    }
    // A gbps beside a tflops is derived from it; only a family without tflops shows its GB/s (a
    // collective: its algorithm bandwidth, beside the bus bandwidth).
    std::string gbps = ok_metric(row, "tflops") ? "" : ok_metric(row, "algbw_gbps") ? metric("algbw_gbps", sig3) : metric("gbps", sig3);
    t.cells.push_back({many ? runs.at(row.file).label : "", per_gpu ? gpu_cell(row.origin) : "", row.name, row.impl, row.dtype,
                       shape_of(*row.params), row.mode, time, noise, samples, repetitions, metric("tflops", sig3), gbps,
                       metric("busbw_gbps", sig3), metric("pct_of_peak", percent), metric("pct_of_vendor", percent),
                       metric("sm_clock_mhz", whole_number), metric("power_w", whole_number), metric("energy_j", sig3),
                       metric("tflops_per_w", sig3), err ? printf_double("%.1e", *err) : "", status_text(row)});
    t.row_classes.push_back(row_class(row));
  }
  t.drop_empty_columns();
  return t;
}

// ==== Compact view: runs as rows, benchmarks as distributions, and the results to look at

TextTable runs_table(const std::vector<RunSummary>& runs) {
  TextTable t;
  t.columns = {{"Run", false, true}, {"File", false, true}, {"Host"}, {"GPU"}, {"Backend"}, {"Suite"}, {"Started"},
               {"Complete", false, true}, {"aicbench commit"}};
  for (const RunSummary& run : runs) {
    t.cells.push_back({run.tag(), run.file, run.host, run.gpu, run.backend, run.suite,
                       run.start, run.complete, run.commit});
    t.row_classes.push_back(run.complete == "no" ? "incomplete" : "");
  }
  t.drop_empty_columns();
  return t;
}

std::string format_metric(const Metric& metric, double v) { return metric.counter ? sig3(v) : human_time(v); }

TextTable distribution_table(const std::vector<Distribution>& distributions, const std::vector<RunSummary>& runs, bool per_gpu) {
  TextTable t;
  // The name says impl, dtype and mode; the shape is easier read as MxNxK.
  t.columns = {{"Benchmark", false, true}, {"Shape"}, {"Metric", false, true},
               {"Results", true, true}, {"ok", true, true}, {"Median", true, true}, {"Min", true}, {"Q1", true}, {"Q3", true},
               {"Max", true}, {"Worst run", false, false, "nowrap"}, {"Not ok", false, false, "bad nowrap"}, {"Unstable", true, false, "warn"}};
  t.name_column = 0;
  for (const Distribution& d : distributions) {
    std::vector<std::string> spread(5);
    if (d.spread) {
      const Quantiles& q = *d.spread;
      spread = {format_metric(d.metric, q.median), format_metric(d.metric, q.min), format_metric(d.metric, q.q1),
                format_metric(d.metric, q.q3), format_metric(d.metric, q.max)};
    }
    std::string worst;
    if (d.worst) {
      const RunSummary& run = runs.at(d.worst->file);
      // The GPU by node, index and UUID where files hold several; else the run's host.
      const std::string where = per_gpu ? d.worst->origin.label(/*short_uuid=*/true) : run.host;
      worst = format_metric(d.metric, *metric_value(*d.worst, d.metric)) + " · " + join({where, run.tag()}, " ");
    }
    std::vector<std::string> not_ok;
    if (d.failed) not_ok.push_back(std::to_string(d.failed) + " failed");
    if (d.errors) not_ok.push_back(std::to_string(d.errors) + " error");
    if (d.skipped) not_ok.push_back(std::to_string(d.skipped) + " skipped");
    const ReportRow& first = *d.first;
    t.cells.push_back({d.name, shape_of(*first.params), d.metric.label,
                       std::to_string(d.results), std::to_string(d.ok), spread[0], spread[1], spread[2], spread[3], spread[4],
                       worst, join(not_ok, ", "), d.unstable ? std::to_string(d.unstable) : ""});
  }
  t.drop_empty_columns();
  return t;
}

// The results someone must look at: failed or errored first, then unstable; at most `limit`.
constexpr size_t kMaxProblemRows = 200;

struct Problems {
  TextTable table;
  size_t total = 0;
};

Problems problems_table(const std::vector<ReportRow>& rows, const std::vector<RunSummary>& runs) {
  std::vector<const ReportRow*> picked;
  for (int pass = 0; pass < 2; ++pass) {
    for (const ReportRow& row : rows) {
      const bool broken = !row.ok() && row.status != kStatusSkipped;
      if ((pass == 0 && broken) || (pass == 1 && row.ok() && row.unstable)) picked.push_back(&row);
    }
  }
  Problems p;
  p.total = picked.size();
  const bool per_gpu = names_gpus(rows);
  p.table.columns = {{"Run", false, true}, {"Host"}, {"GPU", false, false, "nowrap"}, {"Benchmark", false, true}, {"Status", false, true}};
  p.table.name_column = 3;
  for (size_t i = 0; i < picked.size() && i < kMaxProblemRows; ++i) {
    const ReportRow& row = *picked[i];
    const RunSummary& run = runs.at(row.file);
    p.table.cells.push_back({run.tag(), per_gpu ? row.origin.host : run.host, per_gpu ? row.origin.unit_label(/*short_uuid=*/true) : "", row.name,
                             status_text(row)});
    p.table.row_classes.push_back(row_class(row));
  }
  p.table.drop_empty_columns();
  return p;
}

std::string problems_heading(const Problems& p) {
  if (p.total == 0) return "No result failed, errored or was unstable.";
  std::string shown = p.total > kMaxProblemRows ? "the first " + std::to_string(kMaxProblemRows) + " of " : "";
  return "Results that failed, errored or were unstable (" + shown + std::to_string(p.total) + "; every result is in the CSV export):";
}

std::string run_title(size_t index, const ResultFile& file) {
  return "Run " + std::to_string(index + 1) + ": " + file.path.filename().string();
}

constexpr const char* kIncompleteNote = "Incomplete run: the run stopped before finishing every benchmark.";

// ==== Peer-to-peer: a GPU x GPU matrix per run and kind of measurement

TextTable matrix_table(const P2pMatrix& m) {
  TextTable t;
  t.columns.emplace_back("from ↓ to →", false, true);
  for (size_t dst = 0; dst < m.gpus; ++dst) t.columns.emplace_back(("GPU " + std::to_string(dst)).c_str(), true, true);
  for (size_t src = 0; src < m.gpus; ++src) {
    std::vector<std::string> row = {"GPU " + std::to_string(src)};
    row.insert(row.end(), m.cells[src].begin(), m.cells[src].end());
    t.cells.push_back(std::move(row));
  }
  return t;
}

std::string matrix_heading(const P2pMatrix& m, const std::vector<RunSummary>& runs) {
  std::string run = runs.size() > 1 ? runs.at(m.file).label + " · " : "";
  return run + m.title + ", " + m.unit;
}

std::string matrix_caption(const P2pMatrix& m) { return join({m.axes, m.summary}, "; "); }

TextTable versus_table(const CollectiveVersus& v) {
  TextTable t;
  t.columns = {{"Size", true, true}, {"Vendor", false, true}, {"Vendor time", true, true}, {"Our best", false, true},
               {"Our time", true, true}, {"Speed-up", true, true}};
  for (const CollectiveVersus::Size& s : v.sizes) {
    const std::optional<double> speedup = s.speedup();
    t.cells.push_back({model::format_bytes(s.bytes), s.vendor_impl, s.vendor_s ? human_time(*s.vendor_s) : "–",
                       s.ours_impl, s.ours_s ? human_time(*s.ours_s) : "–",
                       speedup ? printf_double(*speedup >= 10 ? "%.0fx" : "%.2fx", *speedup) : ""});
    t.row_classes.push_back("");
  }
  return t;
}

std::string versus_heading(const CollectiveVersus& v, const std::vector<RunSummary>& runs) {
  return (runs.size() > 1 ? runs.at(v.file).label + " · " : "") + v.title;
}

std::string versus_caption(const CollectiveVersus& v) {
  return join({v.lead.empty() ? "" : "Crossover: " + v.lead + ".", v.our_best.empty() ? "" : "Our best: " + v.our_best + "."}, " ");
}

constexpr const char* kVersusIntro =
    "Per size, the vendor's best time (NCCL in its best mode, plain or symmetric; MPI_Allreduce and friends on the CPU) "
    "beside our best hand-written implementation's, ok rows only; speed-up is the vendor's time over ours, above 1 when "
    "ours is faster.";

// The section in either view: a job's collectives are few rows (rank 0's file has them once),
// and a job of more than 8 GPUs, which the compact view shows, is where they matter most. A fleet
// of node files that each ran their own would give a table per file: the compact view shows the
// first kMaxDetailedRuns and says how many more there are.
std::vector<CollectiveVersus> versus_shown(const std::vector<ReportRow>& rows, bool compact, std::string& left_out) {
  std::vector<CollectiveVersus> versus = collective_comparisons(rows);
  if (compact && versus.size() > kMaxDetailedRuns) {
    left_out = std::to_string(versus.size() - kMaxDetailedRuns) + " more comparisons (one per run, operation and "
               "dtype) are left out of this view: run aicbench report on fewer files to see them.";
    versus.resize(kMaxDetailedRuns);
  }
  return versus;
}

std::string versus_markdown(const std::vector<ReportRow>& rows, const std::vector<RunSummary>& runs, bool compact) {
  std::string left_out;
  const std::vector<CollectiveVersus> versus = versus_shown(rows, compact, left_out);
  if (versus.empty()) return "";
  std::ostringstream md;
  md << "\n## Collectives: ours against the vendor\n\n" << kVersusIntro << "\n";
  if (!left_out.empty()) md << "\n> " << left_out << "\n";
  for (const CollectiveVersus& v : versus) {
    md << "\n**" << markdown_escape(versus_heading(v, runs)) << "**";
    if (const std::string caption = versus_caption(v); !caption.empty()) md << " " << markdown_escape(caption);
    md << "\n\n" << markdown_table(versus_table(v));
  }
  return md.str();
}

std::string versus_html(const std::vector<ReportRow>& rows, const std::vector<RunSummary>& runs, bool compact) {
  std::string left_out;
  const std::vector<CollectiveVersus> versus = versus_shown(rows, compact, left_out);
  if (versus.empty()) return "";
  std::ostringstream html;
  html << "<h2>Collectives: ours against the vendor</h2>\n<p>" << markup_escape(kVersusIntro) << "</p>\n";
  if (!left_out.empty()) html << "<p class=\"note\">" << markup_escape(left_out) << "</p>\n";
  for (const CollectiveVersus& v : versus) {
    html << "<h3>" << markup_escape(versus_heading(v, runs)) << "</h3>\n<p class=\"caption\">"
         << markup_escape(versus_caption(v)) << "</p>\n" << html_table(versus_table(v));
  }
  return html.str();
}

constexpr const char* kP2pIntro =
    "One matrix per run and kind of copy: every number a pair's row holds (GB/s, or the time per access for latency); "
    "a pair far below the others in its row and column is a missing or degraded NVLink.";

}  // namespace

std::string render_markdown(const std::vector<ResultFile>& files) {
  const std::vector<ReportRow> rows = report_rows(files);
  const std::vector<RunSummary> runs = summarize_runs(files);
  const ViewChoice view = choose_view(files.size(), count_units(rows));
  std::ostringstream md;
  md << "# aicbench report\n";
  if (view.compact) {
    // Most useful first: the distributions and what to look at; the list of runs is reference.
    md << "\n> " << markdown_escape(view.why) << "\n\n" << markdown_escape(summarize_fleet(runs)) << "\n";
    md << "\n## Benchmarks across runs\n\n" << markdown_table(distribution_table(distributions(rows), runs, names_gpus(rows)));
    const Problems problems = problems_table(rows, runs);
    md << "\n## Results to look at\n\n" << problems_heading(problems) << "\n";
    if (problems.total) md << "\n" << markdown_table(problems.table);
    md << versus_markdown(rows, runs, true);
    md << "\n## Runs\n\n" << markdown_table(runs_table(runs));
    return md.str();
  }
  for (size_t f = 0; f < files.size(); ++f) {
    md << "\n## " << markdown_escape(run_title(f, files[f])) << "\n\n";
    if (incomplete(files[f])) md << "> **" << kIncompleteNote << "**\n\n";
    for (const auto& [label, value] : provenance_items(files[f])) md << "- **" << label << "**: " << markdown_escape(value) << "\n";
  }
  md << "\n## Results\n\n" << markdown_table(results_table(rows, runs));
  if (const std::vector<P2pMatrix> matrices = p2p_matrices(rows); !matrices.empty()) {
    md << "\n## Peer-to-peer\n\n" << kP2pIntro << "\n";
    for (const P2pMatrix& m : matrices) {
      md << "\n**" << markdown_escape(matrix_heading(m, runs)) << "** (" << markdown_escape(matrix_caption(m)) << ")\n\n"
         << markdown_table(matrix_table(m));
    }
  }
  md << versus_markdown(rows, runs, false);
  return md.str();
}

namespace {

// ==== HTML: charts

std::string charts_section(const std::vector<ChartSpec>& charts, const ChartDrawer& drawer) {
  if (charts.empty()) return "";
  std::ostringstream html;
  html << "<h2>Charts</h2>\n";
  if (!drawer.unavailable.empty() || !drawer.draw) {
    html << "<p class=\"note\">Charts are not drawn: " << markup_escape(drawer.unavailable.empty() ? "no chart drawer" : drawer.unavailable)
         << ". The tables above hold every number.</p>\n";
    return html.str();
  }
  html << "<div class=\"charts\">\n";
  for (size_t i = 0; i < charts.size(); ++i) {
    const ChartSpec& chart = charts[i];
    const bool wide = !chart.sweep && chart.categories.size() > 12;
    html << (wide ? "<figure class=\"wide\">\n" : "<figure>\n") << "<figcaption>" << markup_escape(chart.title) << "</figcaption>\n";
    try {
      html << inline_svg(drawer.draw(gnuplot_script(chart)), chart.title, "c" + std::to_string(i) + "-");
    } catch (const std::exception& e) {
      std::string why = e.what();
      if (why.size() > 600) why = why.substr(0, 600) + "…";
      html << "<p class=\"note\">This chart was not drawn: " << markup_escape(why) << "</p>\n";
    }
    html << "<p class=\"caption\">" << markup_escape(chart.caption) << "</p>\n</figure>\n";
  }
  html << "</div>\n";
  return html.str();
}

// After kPageBaseStyle.
constexpr const char* kStyle = R"(
.scroll { overflow-x: auto; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; font-size: .9rem; }
dt { font-weight: 600; color: #555; }  dd { margin: 0; overflow-wrap: anywhere; }
.banner, .note { background: #fff3cd; border: 1px solid #d9a400; border-radius: 4px; padding: .5rem 1rem; }
.banner { font-weight: 600; }
table { border-collapse: collapse; font-size: .85rem; width: 100%; }
th, td { padding: .3rem .5rem; border-bottom: 1px solid #e6e6e6; text-align: left; vertical-align: top; }
th { background: #f3f4f6; }  td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.name { min-width: 14rem; overflow-wrap: anywhere; }
tr.failed td, tr.error td { color: #b00020; background: #fdecee; }  tr.skipped td { color: #888; }
tr.unstable td:last-child { color: #8a5a00; background: #fff3cd; font-weight: 600; }
tr.incomplete td { background: #fff3cd; }
td.bad { color: #b00020; background: #fdecee; font-weight: 600; }  td.warn { color: #8a5a00; background: #fff3cd; font-weight: 600; }
td.nowrap { white-space: nowrap; }  summary { cursor: pointer; margin: .5rem 0; }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(560px, 1fr)); gap: 1rem; }
figure { margin: 0; border: 1px solid #e6e6e6; border-radius: 4px; padding: .5rem; }
figure.wide { grid-column: 1 / -1; }
figcaption { font-weight: 600; }  figure svg { width: 100%; height: auto; }
.caption { font-size: .8rem; color: #555; margin: .2rem 0 0; }
h3 { font-size: 1rem; margin: 1.2rem 0 .2rem; }  .matrix table { width: auto; min-width: 40%; }
)";

}  // namespace

std::string render_html(const std::vector<ResultFile>& files) { return render_html(files, gnuplot_drawer()); }

std::string render_html(const std::vector<ResultFile>& files, const ChartDrawer& drawer) {
  const std::vector<ReportRow> rows = report_rows(files);
  const std::vector<RunSummary> runs = summarize_runs(files);
  const ViewChoice view = choose_view(files.size(), count_units(rows));
  std::ostringstream html;
  html << html_page_head("aicbench report", std::string(kPageBaseStyle) + kStyle) << "<h1>aicbench report</h1>\n";
  if (view.compact) {
    html << "<p class=\"note\">" << markup_escape(view.why) << "</p>\n<p>" << markup_escape(summarize_fleet(runs)) << "</p>\n";
    html << "<h2>Benchmarks across runs</h2>\n" << html_table(distribution_table(distributions(rows), runs, names_gpus(rows)));
  } else {
    for (size_t f = 0; f < files.size(); ++f) {
      html << "<section>\n<h2>" << markup_escape(run_title(f, files[f])) << "</h2>\n";
      if (incomplete(files[f])) html << "<p class=\"banner\">" << kIncompleteNote << "</p>\n";
      html << "<dl>\n";
      for (const auto& [label, value] : provenance_items(files[f])) {
        html << "<dt>" << markup_escape(label) << "</dt><dd>" << markup_escape(value) << "</dd>\n";
      }
      html << "</dl>\n</section>\n";
    }
    html << "<h2>Results</h2>\n" << html_table(results_table(rows, runs));
    if (const std::vector<P2pMatrix> matrices = p2p_matrices(rows); !matrices.empty()) {
      html << "<h2>Peer-to-peer</h2>\n<p>" << markup_escape(kP2pIntro) << "</p>\n";
      for (const P2pMatrix& m : matrices) {
        html << "<h3>" << markup_escape(matrix_heading(m, runs)) << "</h3>\n<p class=\"caption\">"
             << markup_escape(matrix_caption(m)) << "</p>\n<div class=\"matrix\">" << html_table(matrix_table(m)) << "</div>\n";
      }
    }
    html << versus_html(rows, runs, false);
  }
  html << charts_section(plan_charts(rows, runs, view.compact), drawer);
  if (view.compact) {
    const Problems problems = problems_table(rows, runs);
    html << "<h2>Results to look at</h2>\n<p>" << markup_escape(problems_heading(problems)) << "</p>\n";
    if (problems.total) html << html_table(problems.table);
    html << versus_html(rows, runs, true);
    // One row per run: reference, folded away so that it does not push the rest down the page.
    html << "<h2>Runs</h2>\n<details>\n<summary>" << runs.size() << " runs, one row each</summary>\n" << html_table(runs_table(runs))
         << "</details>\n";
  }
  html << "</body>\n</html>\n";
  return html.str();
}

}  // namespace aicbench::reports
