// `aicbench history trend` written out: Markdown (the default), CSV, and an HTML page with one
// gnuplot chart per benchmark. Everything shown is decided in history.cpp (Trend); this file only
// formats it.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>
#include <sstream>

#include "reports/exports.hpp"
#include "reports/gnuplot.hpp"
#include "reports/history.hpp"
#include "reports/text_format.hpp"

namespace aicbench::history {
namespace {

using reports::human_time;
using reports::markdown_escape;
using reports::markup_escape;
using reports::printf_double;
using reports::sig3;

// "2026-11-30T07:51:33Z" -> "2026-11-30 07:51:33"
std::string readable_time(const std::string& iso) {
  std::string out = iso;
  if (out.size() > 10 && out[10] == 'T') out[10] = ' ';
  if (!out.empty() && out.back() == 'Z') out.pop_back();
  return out;
}

// ==== What every output shows of a point

std::string status_text(const TrendPoint& p) {
  std::string text = p.status;
  if (p.status != kStatusOk && !p.reason.empty()) text += ": " + p.reason;
  if (p.status == kStatusOk && p.unstable) text += ", unstable";
  if (!p.complete) text += " (incomplete run)";
  return text;
}

// The median time against the previous point's that has one: "+3.1 %" is slower.
std::string time_change(const TrendSeries& series, size_t i) {
  const TrendPoint& p = series.points[i];
  if (!p.median_s) return "";
  for (size_t j = i; j-- > 0;) {
    if (const auto& before = series.points[j].median_s; before && *before > 0) {
      return printf_double("%+.1f %%", 100 * (*p.median_s / *before - 1));
    }
  }
  return "";
}

std::string spread_text(const TrendPoint& p) {
  if (!p.q1_s || !p.q3_s) return "";
  return human_time(*p.q1_s) + " – " + human_time(*p.q3_s);
}

std::string changes_note(const Trend& trend) {
  return trend.changes_marked
             ? "marked where aicbench compare finds one between a run and the previous run of the benchmark on the same GPU"
             : "not marked: this build has no aicbench compare decision yet";
}

size_t point_count(const Trend& trend) {
  size_t n = 0;
  for (const auto& s : trend.series) n += s.points.size();
  return n;
}

size_t benchmark_count(const Trend& trend) {
  std::set<std::string> names;
  for (const auto& s : trend.series) names.insert(s.benchmark);
  return names.size();
}

// Series grouped by benchmark, in the trend's order.
std::vector<std::vector<const TrendSeries*>> by_benchmark(const Trend& trend) {
  std::vector<std::vector<const TrendSeries*>> groups;
  for (const auto& s : trend.series) {
    if (groups.empty() || groups.back().front()->benchmark != s.benchmark) groups.emplace_back();
    groups.back().push_back(&s);
  }
  return groups;
}

struct Column {
  const char* header;
  bool numeric;
};

std::vector<Column> columns(const TrendSeries& s) {
  return {{"Start (UTC)", false}, {"Run", true}, {"Reps", true}, {"Median time", true}, {"Q1 – Q3", true},
          {s.throughput_unit.empty() ? "Throughput" : s.throughput_unit.c_str(), true},
          {"Time vs previous", true}, {"Status", false}, {"Change", false}};
}

std::vector<std::string> cells(const TrendSeries& s, size_t i) {
  const TrendPoint& p = s.points[i];
  return {readable_time(p.start_time), std::to_string(p.run_id), std::to_string(p.repetitions),
          p.median_s ? human_time(*p.median_s) : "", spread_text(p), p.throughput ? sig3(*p.throughput) : "",
          time_change(s, i), status_text(p), change_label(p.change)};
}

// ==== Charts

constexpr size_t kMaxSeriesPerChart = 12;

// One benchmark's series over time: throughput where it has one, else the median time.
std::string chart_script(const std::vector<const TrendSeries*>& group) {
  const bool throughput = std::any_of(group.begin(), group.end(), [](auto* s) { return !s->throughput_unit.empty(); });
  std::string unit = throughput ? group.front()->throughput_unit : "median time (ms)";
  for (auto* s : group) if (!s->throughput_unit.empty()) { unit = s->throughput_unit; break; }
  auto y_of = [&](const TrendPoint& p) -> std::optional<double> {
    if (throughput) return p.throughput;
    if (p.median_s) return *p.median_s * 1e3;
    return std::nullopt;
  };
  std::ostringstream gp, plots;
  gp << "set terminal svg size 760,380 dynamic noenhanced font 'sans,12' background '#ffffff'\n"
     << "set xdata time\nset timefmt '%Y-%m-%dT%H:%M:%SZ'\nset format x \"%m-%d\\n%H:%M\"\n"
     << "set ylabel " << reports::gnuplot_quote(unit) << "\nset yrange [0:*]\nset grid\nset border 3\nset tics nomirror\n"
     << "set key below\nset offsets graph 0.03, graph 0.03, 0, 0\n";
  std::map<Change, std::ostringstream> marks;
  std::ostringstream not_ok;  // failed, skipped or erred runs: a cross on the time axis
  size_t index = 0;
  for (auto* s : group) {
    if (index == kMaxSeriesPerChart) break;
    gp << "$s" << index << " << EOD\n";
    for (const TrendPoint& p : s->points) {
      if (p.start_time.size() != 20) continue;  // a time gnuplot cannot read
      if (p.status != kStatusOk) not_ok << p.start_time << " 0\n";
      auto y = y_of(p);
      if (!y) continue;
      gp << p.start_time << ' ' << printf_double("%.9g", *y) << '\n';
      if (p.change != Change::none) marks[p.change] << p.start_time << ' ' << printf_double("%.9g", *y) << '\n';
    }
    gp << "EOD\n";
    plots << (index ? ", \\\n     " : "") << "$s" << index << " using 1:2 with linespoints lw 2 pt 7 ps 0.6 title "
          << reports::gnuplot_quote(s->label());
    ++index;
  }
  // Changes drawn over the lines: red down for slower, green up for faster, amber for the machine.
  const std::map<Change, std::string> style = {{Change::slower, "pt 11 ps 1.8 lc rgb '#c0392b'"},
                                                {Change::faster, "pt 9 ps 1.8 lc rgb '#1e8449'"},
                                                {Change::environment_changed, "pt 13 ps 1.8 lc rgb '#d68910'"}};
  for (auto& [change, data] : marks) {
    gp << "$m" << static_cast<int>(change) << " << EOD\n" << data.str() << "EOD\n";
    plots << ", \\\n     $m" << static_cast<int>(change) << " using 1:2 with points " << style.at(change) << " title "
          << reports::gnuplot_quote(change_label(change));
  }
  if (!not_ok.str().empty()) {
    gp << "$failed << EOD\n" << not_ok.str() << "EOD\n";
    plots << ", \\\n     $failed using 1:2 with points pt 2 ps 1.6 lw 2 lc rgb '#b00020' title 'not ok (no number)'";
  }
  gp << "plot " << plots.str() << "\n";
  return gp.str();
}

constexpr const char* kStyle = R"(
body { font-family: system-ui, sans-serif; color: #222; max-width: 1400px; margin: 2rem auto; padding: 0 1rem; }
h1 { font-size: 1.6rem; }  h2 { font-size: 1.15rem; margin-top: 2.2rem; border-bottom: 1px solid #ddd; word-break: break-all; }
h3 { font-size: 1rem; margin-bottom: .3rem; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; font-size: .9rem; }
dt { font-weight: 600; color: #555; }  dd { margin: 0; }
.note { background: #fff3cd; border: 1px solid #d9a400; border-radius: 4px; padding: .5rem 1rem; }
table { border-collapse: collapse; font-size: .85rem; margin-bottom: 1rem; }
th, td { padding: .25rem .6rem; border-bottom: 1px solid #e6e6e6; text-align: left; white-space: nowrap; }
td.status { white-space: normal; min-width: 12rem; }
th { background: #f3f4f6; }  td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.failed td, tr.error td { color: #b00020; background: #fdecee; }  tr.skipped td { color: #888; }
td.SLOWER { color: #c0392b; font-weight: 700; }  td.FASTER { color: #1e8449; font-weight: 700; }
td.ENVIRONMENT { color: #9a6700; font-weight: 700; }
figure { margin: .5rem 0; max-width: 800px; }  figure svg { width: 100%; height: auto; }
)";

}  // namespace

std::string render_trend_markdown(const Trend& trend) {
  std::ostringstream md;
  md << "# aicbench history trend\n\n"
     << "- **Database**: " << markdown_escape(trend.db.string()) << "\n"
     << "- **Filter**: " << markdown_escape(trend.query.filter) << "; **node**: "
     << markdown_escape(trend.query.node.value_or("all")) << "\n"
     << "- **Shown**: " << benchmark_count(trend) << " benchmark(s), " << trend.series.size() << " series (benchmark × GPU), "
     << point_count(trend) << " point(s)\n"
     << "- **Changes**: " << changes_note(trend) << "\n";
  for (const auto& group : by_benchmark(trend)) {
    md << "\n## " << markdown_escape(group.front()->benchmark) << "\n";
    for (const TrendSeries* s : group) {
      md << "\n### " << markdown_escape(s->label()) << "\n\n|";
      const auto cols = columns(*s);
      for (const Column& c : cols) md << " " << c.header << " |";
      md << "\n|";
      for (const Column& c : cols) md << (c.numeric ? "---:|" : "---|");
      md << "\n";
      for (size_t i = 0; i < s->points.size(); ++i) {
        md << "|";
        for (const std::string& cell : cells(*s, i)) md << " " << markdown_escape(cell) << " |";
        md << "\n";
      }
    }
  }
  return md.str();
}

// RFC 4180 with CRLF line ends and formula-looking text defused, as `report --csv` writes it.
std::string render_trend_csv(const Trend& trend) {
  using reports::csv_text_field;
  std::ostringstream csv;
  csv << "benchmark,device,gpu_uuid,host,run_id,start_time,suite,complete,repetitions,status,reason,unstable,"
         "median_s,q1_s,q3_s,throughput,throughput_unit,change,rank,gpu_index,span_ranks\r\n";
  auto number = [](const std::optional<double>& v) { return v ? printf_double("%.9g", *v) : std::string(); };
  for (const TrendSeries& s : trend.series) {
    for (const TrendPoint& p : s.points) {
      csv << csv_text_field(s.benchmark) << ',' << csv_text_field(s.device_name) << ',' << csv_text_field(s.gpu_uuid)
          << ',' << csv_text_field(p.host) << ',' << p.run_id << ',' << csv_text_field(p.start_time) << ','
          << csv_text_field(p.suite) << ',' << (p.complete ? 1 : 0) << ',' << p.repetitions << ','
          << csv_text_field(p.status) << ',' << csv_text_field(p.reason) << ',' << (p.unstable ? 1 : 0) << ','
          << number(p.median_s) << ',' << number(p.q1_s) << ',' << number(p.q3_s) << ',' << number(p.throughput) << ','
          << csv_text_field(p.throughput ? s.throughput_unit : "") << ',' << csv_text_field(change_label(p.change)) << ','
          << (s.span_ranks ? "" : std::to_string(s.rank)) << ',' << (s.gpu_index ? std::to_string(*s.gpu_index) : "") << ','
          << (s.span_ranks ? std::to_string(s.span_ranks) : "") << "\r\n";
    }
  }
  return csv.str();
}

std::string render_trend_html(const Trend& trend) { return render_trend_html(trend, reports::gnuplot_drawer()); }

std::string render_trend_html(const Trend& trend, const reports::ChartDrawer& drawer) {
  std::ostringstream html;
  html << reports::html_page_head("aicbench history trend", kStyle)
       << "<h1>aicbench history trend</h1>\n<dl>\n"
       << "<dt>Database</dt><dd>" << markup_escape(trend.db.string()) << "</dd>\n"
       << "<dt>Filter</dt><dd><code>" << markup_escape(trend.query.filter) << "</code></dd>\n"
       << "<dt>Node</dt><dd>" << markup_escape(trend.query.node.value_or("all")) << "</dd>\n"
       << "<dt>Shown</dt><dd>" << benchmark_count(trend) << " benchmark(s), " << trend.series.size()
       << " series (benchmark × GPU), " << point_count(trend) << " point(s)</dd>\n"
       << "<dt>Changes</dt><dd>" << markup_escape(changes_note(trend)) << "</dd>\n</dl>\n";
  const bool charts = drawer.draw && drawer.unavailable.empty();
  if (!charts) {
    html << "<p class=\"note\">Charts are not drawn: "
         << markup_escape(drawer.unavailable.empty() ? "no chart drawer" : drawer.unavailable)
         << ". The tables below hold every point.</p>\n";
  }
  size_t chart_index = 0;
  for (const auto& group : by_benchmark(trend)) {
    const std::string& name = group.front()->benchmark;
    html << "<section>\n<h2>" << markup_escape(name) << "</h2>\n";
    if (charts) {
      html << "<figure>\n";
      try {
        std::string id_prefix = "t";
        id_prefix += std::to_string(chart_index++);
        id_prefix += '-';
        html << reports::inline_svg(drawer.draw(chart_script(group)), name, id_prefix);
      } catch (const std::exception& e) {
        std::string why = e.what();
        if (why.size() > 600) why = why.substr(0, 600) + "…";
        html << "<p class=\"note\">This chart was not drawn: " << markup_escape(why) << "</p>\n";
      }
      if (group.size() > kMaxSeriesPerChart) {
        html << "<figcaption>The first " << kMaxSeriesPerChart << " of " << group.size()
             << " GPUs are drawn; every one is in the tables. Narrow with --node.</figcaption>\n";
      }
      html << "</figure>\n";
    }
    for (const TrendSeries* s : group) {
      html << "<h3>" << markup_escape(s->label()) << "</h3>\n<table>\n<thead><tr>";
      const auto cols = columns(*s);
      for (const Column& c : cols) html << "<th>" << markup_escape(c.header) << "</th>";
      html << "</tr></thead>\n<tbody>\n";
      for (size_t i = 0; i < s->points.size(); ++i) {
        const auto row = cells(*s, i);
        html << "<tr class=\"" << markup_escape(s->points[i].status) << "\">";
        for (size_t c = 0; c < row.size(); ++c) {
          std::string css = cols[c].numeric ? "num" : c + 2 == row.size() ? "status" : "";
          if (c + 1 == row.size() && !row[c].empty()) css = row[c].substr(0, row[c].find(' '));  // SLOWER, ...
          html << (css.empty() ? "<td>" : "<td class=\"" + css + "\">") << markup_escape(row[c]) << "</td>";
        }
        html << "</tr>\n";
      }
      html << "</tbody>\n</table>\n";
    }
    html << "</section>\n";
  }
  html << "</body>\n</html>\n";
  return html.str();
}

}  // namespace aicbench::history
