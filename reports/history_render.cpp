// `aicbench history trend` written out: Markdown (the default), CSV, and an HTML page with one
// gnuplot chart per benchmark. Everything shown is decided in history.cpp (Trend); this file only
// formats it.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>
#include <sstream>

#include "reports/history.hpp"
#include "reports/report.hpp"

namespace aicbench::history {
namespace {

// ==== Text

std::string printf_double(const char* format, double v) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, format, v);
  return buffer;
}

// Three significant digits, no exponent in the usual range.
std::string sig3(double v) {
  const double a = std::fabs(v);
  if (a == 0) return "0";
  if (a >= 100 && a < 1e7) return printf_double("%.0f", v);
  if (a >= 1e-4 && a < 100) return printf_double("%#.3g", v);
  return printf_double("%.2e", v);
}

std::string human_time(double seconds) {
  const double a = std::fabs(seconds);
  if (a >= 1) return sig3(seconds) + " s";
  if (a >= 1e-3) return sig3(seconds * 1e3) + " ms";
  if (a >= 1e-6) return sig3(seconds * 1e6) + " µs";
  return sig3(seconds * 1e9) + " ns";
}

// Control characters (illegal in XML 1.0, breaking tables and CSV lines) become spaces.
std::string printable(const std::string& s) {
  std::string out;
  for (char c : s) out += static_cast<unsigned char>(c) < 0x20 || c == 0x7f ? ' ' : c;
  return out;
}

std::string md_escape(const std::string& s) {
  std::string out;
  for (char c : printable(s)) {
    if (std::string_view("\\|<*`").find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

std::string html_escape(const std::string& s) {
  std::string out;
  for (char c : printable(s)) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

// RFC 4180: quoted when it holds a comma, a quote or a line break; quotes doubled.
std::string csv_field(const std::string& s) {
  const std::string clean = printable(s);
  if (clean.find_first_of(",\"") == std::string::npos) return clean;
  std::string out = "\"";
  for (char c : clean) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string gnuplot_quote(const std::string& s) {
  std::string out = "'";
  for (char c : printable(s)) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

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
     << "set ylabel " << gnuplot_quote(unit) << "\nset yrange [0:*]\nset grid\nset border 3\nset tics nomirror\n"
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
          << gnuplot_quote(s->label());
    ++index;
  }
  // Changes drawn over the lines: red down for slower, green up for faster, amber for the machine.
  const std::map<Change, std::string> style = {{Change::slower, "pt 11 ps 1.8 lc rgb '#c0392b'"},
                                                {Change::faster, "pt 9 ps 1.8 lc rgb '#1e8449'"},
                                                {Change::environment_changed, "pt 13 ps 1.8 lc rgb '#d68910'"}};
  for (auto& [change, data] : marks) {
    gp << "$m" << static_cast<int>(change) << " << EOD\n" << data.str() << "EOD\n";
    plots << ", \\\n     $m" << static_cast<int>(change) << " using 1:2 with points " << style.at(change) << " title "
          << gnuplot_quote(change_label(change));
  }
  if (!not_ok.str().empty()) {
    gp << "$failed << EOD\n" << not_ok.str() << "EOD\n";
    plots << ", \\\n     $failed using 1:2 with points pt 2 ps 1.6 lw 2 lc rgb '#b00020' title 'not ok (no number)'";
  }
  gp << "plot " << plots.str() << "\n";
  return gp.str();
}

// gnuplot's SVG as an element of the page: no XML prolog, ids unique on the page (every chart
// gnuplot writes defines the same ids).
std::string inline_svg(std::string svg, size_t chart_index, const std::string& title) {
  const size_t start = svg.find("<svg");
  if (start == std::string::npos) throw InputError("gnuplot wrote no <svg> element", 3);
  svg.erase(0, start);
  const std::string prefix = std::string("t") + std::to_string(chart_index) + '-';
  for (const std::string id_start : {" id='", " id=\"", "href='#", "href=\"#", "url(#"}) {
    for (size_t at = svg.find(id_start); at != std::string::npos; at = svg.find(id_start, at + id_start.size() + prefix.size())) {
      svg.insert(at + id_start.size(), prefix);
    }
  }
  const std::string gnuplot_title = "<title>Gnuplot</title>";
  if (size_t at = svg.find(gnuplot_title); at != std::string::npos) {
    svg.replace(at, gnuplot_title.size(), "<title>" + html_escape(title) + "</title>");
  }
  return svg;
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
     << "- **Database**: " << md_escape(trend.db.string()) << "\n"
     << "- **Filter**: " << md_escape(trend.query.filter) << "; **node**: "
     << md_escape(trend.query.node.value_or("all")) << "\n"
     << "- **Shown**: " << benchmark_count(trend) << " benchmark(s), " << trend.series.size() << " series (benchmark × GPU), "
     << point_count(trend) << " point(s)\n"
     << "- **Changes**: " << changes_note(trend) << "\n";
  for (const auto& group : by_benchmark(trend)) {
    md << "\n## " << md_escape(group.front()->benchmark) << "\n";
    for (const TrendSeries* s : group) {
      md << "\n### " << md_escape(s->label()) << "\n\n|";
      const auto cols = columns(*s);
      for (const Column& c : cols) md << " " << c.header << " |";
      md << "\n|";
      for (const Column& c : cols) md << (c.numeric ? "---:|" : "---|");
      md << "\n";
      for (size_t i = 0; i < s->points.size(); ++i) {
        md << "|";
        for (const std::string& cell : cells(*s, i)) md << " " << md_escape(cell) << " |";
        md << "\n";
      }
    }
  }
  return md.str();
}

std::string render_trend_csv(const Trend& trend) {
  std::ostringstream csv;
  csv << "benchmark,device,gpu_uuid,host,run_id,start_time,suite,complete,repetitions,status,reason,unstable,"
         "median_s,q1_s,q3_s,throughput,throughput_unit,change\n";
  auto number = [](const std::optional<double>& v) { return v ? printf_double("%.9g", *v) : std::string(); };
  for (const TrendSeries& s : trend.series) {
    for (const TrendPoint& p : s.points) {
      csv << csv_field(s.benchmark) << ',' << csv_field(s.device_name) << ',' << csv_field(s.gpu_uuid) << ','
          << csv_field(p.host) << ',' << p.run_id << ',' << csv_field(p.start_time) << ',' << csv_field(p.suite) << ','
          << (p.complete ? 1 : 0) << ',' << p.repetitions << ',' << csv_field(p.status) << ',' << csv_field(p.reason) << ','
          << (p.unstable ? 1 : 0) << ',' << number(p.median_s) << ',' << number(p.q1_s) << ',' << number(p.q3_s) << ','
          << number(p.throughput) << ',' << csv_field(p.throughput ? s.throughput_unit : "") << ','
          << csv_field(change_label(p.change)) << '\n';
    }
  }
  return csv.str();
}

std::string render_trend_html(const Trend& trend) {
  std::ostringstream html;
  html << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
       << "<title>aicbench history trend</title>\n<style>" << kStyle << "</style>\n</head>\n<body>\n"
       << "<h1>aicbench history trend</h1>\n<dl>\n"
       << "<dt>Database</dt><dd>" << html_escape(trend.db.string()) << "</dd>\n"
       << "<dt>Filter</dt><dd><code>" << html_escape(trend.query.filter) << "</code></dd>\n"
       << "<dt>Node</dt><dd>" << html_escape(trend.query.node.value_or("all")) << "</dd>\n"
       << "<dt>Shown</dt><dd>" << benchmark_count(trend) << " benchmark(s), " << trend.series.size()
       << " series (benchmark × GPU), " << point_count(trend) << " point(s)</dd>\n"
       << "<dt>Changes</dt><dd>" << html_escape(changes_note(trend)) << "</dd>\n</dl>\n";

  std::ostringstream body;
  std::string no_charts;  // why, once charts cannot be drawn
  size_t chart_index = 0;
  for (const auto& group : by_benchmark(trend)) {
    const std::string& name = group.front()->benchmark;
    body << "<section>\n<h2>" << html_escape(name) << "</h2>\n";
    if (no_charts.empty()) {
      try {
        const std::string svg = inline_svg(reports::render_svg_with_gnuplot(chart_script(group)), chart_index++, name);
        body << "<figure>\n" << svg;
        if (group.size() > kMaxSeriesPerChart) {
          body << "<figcaption>The first " << kMaxSeriesPerChart << " of " << group.size()
               << " GPUs are drawn; every one is in the tables. Narrow with --node.</figcaption>\n";
        }
        body << "</figure>\n";
      } catch (const InputError& e) {
        no_charts = e.what();
      }
    }
    for (const TrendSeries* s : group) {
      body << "<h3>" << html_escape(s->label()) << "</h3>\n<table>\n<thead><tr>";
      const auto cols = columns(*s);
      for (const Column& c : cols) body << "<th>" << html_escape(c.header) << "</th>";
      body << "</tr></thead>\n<tbody>\n";
      for (size_t i = 0; i < s->points.size(); ++i) {
        const auto row = cells(*s, i);
        body << "<tr class=\"" << html_escape(s->points[i].status) << "\">";
        for (size_t c = 0; c < row.size(); ++c) {
          std::string css = cols[c].numeric ? "num" : c + 2 == row.size() ? "status" : "";
          if (c + 1 == row.size() && !row[c].empty()) css = row[c].substr(0, row[c].find(' '));
          body << (css.empty() ? "<td>" : "<td class=\"" + css + "\">") << html_escape(row[c]) << "</td>";
        }
        body << "</tr>\n";
      }
      body << "</tbody>\n</table>\n";
    }
    body << "</section>\n";
  }
  if (!no_charts.empty()) {
    html << "<p class=\"note\">Charts left out: " << html_escape(no_charts) << ". The tables below hold every point.</p>\n";
  }
  html << body.str() << "</body>\n</html>\n";
  return html.str();
}

}  // namespace aicbench::history
