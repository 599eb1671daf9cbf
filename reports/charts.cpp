#include "reports/charts.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <tuple>

#include "reports/gnuplot.hpp"
#include "reports/result_fields.hpp"
#include "reports/text_format.hpp"

namespace aicbench::reports {

using nlohmann::json;

namespace {

// ==== Where a result goes: on a sweep's size axis, or as a named shape

// Sizes beyond these are not a problem anyone ran; plotting them would only break the axis.
constexpr double kSmallestSize = 1.0 / 1024, kLargestSize = 0x1p60;

struct Placement {
  bool sweep = true;
  std::string axis;      // sweep: what x is ("M = N = K"); shapes: "shape"
  double x = 0;          // sweep: the size
  std::string category;  // shapes: the shape's name
  double order = 0;      // shapes: sorted by problem volume (sum of log params), then name
  std::string variant;   // sweep over bytes: the other params ("in_place=1"), a series of their own
};

std::optional<Placement> place(const ReportRow& row) {
  const json& params = *row.params;
  if (!params.is_object() || params.empty()) return std::nullopt;
  auto m = number(params, "M"), n = number(params, "N"), k = number(params, "K");
  std::optional<double> x;
  std::string axis;
  std::string variant;
  if (m && n && k && params.size() == 3) {
    if (*m == *n && *n == *k) { x = *m; axis = "M = N = K"; }
  } else if (params.size() == 1 && params.begin()->is_number()) {
    x = number(params, params.begin().key().c_str());
    axis = params.begin().key();
  } else if (auto bytes = number(params, "bytes")) {
    // Collectives and memory: a sweep over sizes; the rest (in_place) tells series apart.
    x = bytes;
    axis = "bytes";
    std::vector<std::string> rest;
    for (const auto& [key, value] : params.items()) {
      if (key != "bytes") rest.push_back(key + "=" + text(params, key.c_str()));
    }
    variant = join(rest, " ");
  }
  if (x) {
    if (!(*x >= kSmallestSize && *x <= kLargestSize)) return std::nullopt;
    return Placement{true, axis, *x, "", 0, variant};
  }
  double order = 0;
  for (const auto& [key, value] : params.items()) {
    if (auto v = number(params, key.c_str()); v && *v > 0) order += std::log(*v);
  }
  return Placement{false, "shape", 0, shape_of(params), order, ""};
}

// Throughput at the third and first quartile of the sample times, around the median's.
ChartPoint point_with_spread(const ReportRow& row, double x, double y) {
  ChartPoint p{x, y, y, y};
  if (row.time_s && row.q1_s && row.q3_s && *row.q1_s > 0 && *row.q3_s > 0) {
    const double low = y * (*row.time_s / *row.q3_s), high = y * (*row.time_s / *row.q1_s);
    if (std::isfinite(low) && std::isfinite(high) && low <= y && y <= high) {
      p.low = low;
      p.high = high;
    }
  }
  return p;
}

std::string series_label(const ReportRow& row, bool modes_differ, const std::string& variant, const std::string& run) {
  return join({row.impl, modes_differ ? row.mode : "", variant, run.empty() ? "" : "· " + run}, " ");
}

// One chart's worth of rows: same family, dtype and axis.
struct Group {
  std::string family, dtype, axis;
  bool sweep = true;
  std::vector<std::pair<const ReportRow*, Placement>> rows;
};

ChartSpec plan_chart(const Group& group, const std::vector<RunSummary>& runs, bool compact) {
  std::vector<const ReportRow*> group_rows;
  for (const auto& [row, placement] : group.rows) group_rows.push_back(row);
  const Metric metric = choose_metric(group_rows);
  ChartSpec chart;
  if (!metric.counter) return chart;  // no throughput to draw
  chart.sweep = group.sweep;
  chart.y_label = metric.label;
  const bool gemm = group.family == "gemm";
  chart.title = group.family + " · " + group.dtype + " · " +
                (group.sweep ? (gemm ? "square sizes" : "by " + group.axis) : (gemm ? "other shapes" : "shapes"));
  chart.x_label = group.sweep ? group.axis + " (log2 scale)" : (gemm ? "shape (M x N x K)" : "shape");

  // Categories in order of problem volume, so a model's layers read from small to large.
  std::map<std::string, size_t> category_index;
  if (!group.sweep) {
    std::vector<std::pair<double, std::string>> shapes;
    for (const auto& [row, placement] : group.rows) shapes.emplace_back(placement.order, placement.category);
    std::sort(shapes.begin(), shapes.end());
    shapes.erase(std::unique(shapes.begin(), shapes.end()), shapes.end());
    for (const auto& [order, name] : shapes) {
      if (category_index.try_emplace(name, chart.categories.size()).second) chart.categories.push_back(name);
    }
  }
  auto x_of = [&](const Placement& p) { return group.sweep ? p.x : static_cast<double>(category_index[p.category]); };

  std::set<std::string> modes;
  std::set<size_t> files;
  std::set<std::pair<size_t, int>> units;  // GPUs (ranks) of the files
  for (const auto& [row, placement] : group.rows) {
    modes.insert(row->mode);
    files.insert(row->file);
    units.insert({row->file, row->origin.rank});
  }
  const bool modes_differ = modes.size() > 1;
  const bool per_gpu = units.size() > files.size();

  // One series per (run, GPU, impl, mode, variant), in a stable order.
  using LineKey = std::tuple<std::string, std::string, std::string, size_t, int>;  // impl, mode, variant, file, rank
  std::map<LineKey, std::vector<std::pair<const ReportRow*, double>>> lines;
  size_t plotted = 0;
  for (const auto& [row, placement] : group.rows) {
    auto y = metric_value(*row, metric);
    if (!y) continue;
    lines[{row->impl, row->mode, placement.variant, row->file, row->origin.rank}].emplace_back(row, x_of(placement));
    ++plotted;
  }
  const size_t not_plotted = group.rows.size() - plotted;
  if (lines.empty()) return chart;

  if (!compact && lines.size() <= kMaxSeriesPerChart) {
    for (const auto& [key, points] : lines) {
      const ReportRow& first = *points.front().first;
      const std::string unit = join({files.size() > 1 ? runs.at(first.file).label : "", per_gpu ? gpu_cell(first.origin) : ""}, " ");
      LineSeries series{series_label(first, modes_differ, std::get<2>(key), unit), first.mode == "hot", {}};
      for (const auto& [row, x] : points) series.points.push_back(point_with_spread(*row, x, *metric_value(*row, metric)));
      std::sort(series.points.begin(), series.points.end(), [](const auto& a, const auto& b) { return a.x < b.x; });
      chart.lines.push_back(std::move(series));
    }
    chart.caption = "Points: median " + std::string(metric.label) +
                    "; bars: the same at the first and third quartile of the sample times"
                    " (with repetitions, over all of them).";
  } else {
    // Distributions across runs (and their GPUs): per (impl, mode, variant), one box per size.
    std::map<std::tuple<std::string, std::string, std::string>, std::map<double, std::vector<double>>> boxes;
    for (const auto& [key, points] : lines) {
      for (const auto& [row, x] : points) {
        boxes[{row->impl, row->mode, std::get<2>(key)}][x].push_back(*metric_value(*row, metric));
      }
    }
    for (const auto& [key, by_x] : boxes) {
      const auto& [impl, mode, variant] = key;
      BoxSeries series{join({impl, modes_differ ? mode : "", variant}, " "), mode == "hot", {}};
      for (const auto& [x, values] : by_x) series.boxes.push_back({x, *quantiles(values)});
      chart.boxes.push_back(std::move(series));
    }
    const std::string across = per_gpu ? std::to_string(units.size()) + " GPUs (ranks)" +
                                             (files.size() > 1 ? " of " + std::to_string(files.size()) + " runs" : "")
                                       : std::to_string(files.size()) + " runs";
    chart.caption = "Per size, across " + across + ": box from the first to the third quartile of the " +
                    "median " + metric.label + ", bar at the median, whiskers at the minimum and maximum.";
  }
  if (not_plotted > 0) chart.caption += " " + std::to_string(not_plotted) + " result(s) without a " + metric.label + " not plotted.";
  return chart;
}

// ==== The gnuplot script

// Tableau 10: distinguishable colours, also in print.
constexpr const char* kColors[] = {"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
                                   "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#79706e"};
constexpr int kPointTypes[] = {7, 5, 9, 11, 13};  // filled circle, square, triangle, diamond, pentagon

std::string num(double v) { return printf_double("%.9g", v); }

// Tick labels at powers of two: 512, 1024, ... 32768, then 64K, 1M, 1G.
std::string power_of_two_label(int exponent) {
  if (exponent < 16) return printf_double("%g", std::ldexp(1.0, exponent));
  if (exponent >= 30) return printf_double("%g", std::ldexp(1.0, exponent - 30)) + "G";
  if (exponent >= 20) return printf_double("%g", std::ldexp(1.0, exponent - 20)) + "M";
  return printf_double("%g", std::ldexp(1.0, exponent - 10)) + "K";
}

std::vector<std::string> series_labels(const ChartSpec& chart) {
  std::vector<std::string> labels;
  for (const auto& s : chart.lines) labels.push_back(s.label);
  for (const auto& s : chart.boxes) labels.push_back(s.label);
  return labels;
}

// Dodge: series at one size sit side by side, not on top of each other. In octaves for a
// sweep (multiplicative), in category widths for shapes.
double dodge(size_t index, size_t count, double spread) {
  if (count <= 1) return 0;
  return spread * (static_cast<double>(index) / static_cast<double>(count - 1) - 0.5);
}

}  // namespace

std::vector<ChartSpec> plan_charts(const std::vector<ReportRow>& rows, const std::vector<RunSummary>& runs, bool compact) {
  std::map<std::tuple<std::string, std::string, bool, std::string>, Group> groups;  // family, dtype, !sweep, axis
  for (const ReportRow& row : rows) {
    if (!row.ok()) continue;  // failed, skipped and errored results are never plotted
    // Peer-to-peer results are a GPU x GPU matrix (reports/p2p_matrix.hpp), not a curve.
    if (row.family == "p2p" || row.family == "p2p_latency") continue;
    auto placement = place(row);
    if (!placement) continue;
    Group& group = groups[{row.family, row.dtype, !placement->sweep, placement->axis}];
    if (group.rows.empty()) group = {row.family, row.dtype, placement->axis, placement->sweep, {}};
    group.rows.emplace_back(&row, *placement);
  }
  std::vector<ChartSpec> charts;
  for (const auto& [key, group] : groups) {
    ChartSpec chart = plan_chart(group, runs, compact);
    if (chart.series_count() > 0) charts.push_back(std::move(chart));
  }
  return charts;
}

std::string gnuplot_script(const ChartSpec& chart) {
  const std::vector<std::string> labels = series_labels(chart);
  size_t longest = 0;
  for (const auto& label : labels) longest = std::max(longest, std::min<size_t>(label.size(), 60));
  const size_t columns = longest <= 26 ? 3 : longest <= 42 ? 2 : 1;
  const size_t key_rows = (labels.size() + columns - 1) / columns;
  const size_t categories = chart.categories.size();
  const int width = chart.sweep ? 720 : static_cast<int>(std::max<size_t>(720, 140 + 34 * categories));
  const int height = 400 + static_cast<int>(22 * key_rows) + (chart.sweep ? 0 : 110);

  std::ostringstream gp;
  gp << "set terminal svg size " << width << "," << height << " dynamic noenhanced font 'sans,12' background '#ffffff'\n"
     << "set xlabel " << gnuplot_quote(chart.x_label) << "\nset ylabel " << gnuplot_quote(chart.y_label) << "\n"
     << "set key bmargin center horizontal Left reverse maxcols " << columns << " samplen 2\n"
     << "set grid\nset border 3\nset tics nomirror\nset yrange [0:*]\nset bars small\n";

  const size_t series_total = chart.series_count();
  if (chart.sweep) {
    double lo = INFINITY, hi = 0;
    for (const auto& s : chart.lines) for (const auto& p : s.points) { lo = std::min(lo, p.x); hi = std::max(hi, p.x); }
    for (const auto& s : chart.boxes) for (const auto& b : s.boxes) { lo = std::min(lo, b.x); hi = std::max(hi, b.x); }
    int e_lo = static_cast<int>(std::floor(std::log2(lo))), e_hi = static_cast<int>(std::ceil(std::log2(hi)));
    if (e_lo == e_hi) { --e_lo; ++e_hi; }
    const int step = std::max(1, (e_hi - e_lo + 11) / 12);  // at most about a dozen ticks
    std::vector<std::string> ticks;
    for (int e = e_lo; e <= e_hi; e += step) ticks.push_back("\"" + power_of_two_label(e) + "\" " + printf_double("%.17g", std::ldexp(1.0, e)));
    gp << "set logscale x 2\nset xrange [" << num(std::ldexp(1.0, e_lo) / 1.25) << ":" << num(std::ldexp(1.0, e_hi) * 1.25) << "]\n"
       << "set xtics (" << join(ticks, ", ") << ")\n";
  } else {
    std::vector<std::string> ticks;
    for (size_t i = 0; i < categories; ++i) ticks.push_back(gnuplot_quote(chart.categories[i], 40) + " " + std::to_string(i));
    gp << "set xrange [-0.6:" << num(static_cast<double>(categories) - 0.4) << "]\n"
       << "set xtics (" << join(ticks, ", ") << ") rotate by -40 left\n";
  }

  // Data: one datablock per series. Lines: x y low high. Boxes: x q1 min max q3 width median.
  std::vector<std::string> plots;
  size_t index = 0;
  auto style = [&](size_t i, bool hot) {
    return std::string(" lc rgb '") + kColors[i % 10] + "' dt " + (hot ? "2" : "1");
  };
  for (const auto& series : chart.lines) {
    // Lines: just enough to keep error bars apart; unconnected shape points: a bit more.
    const double offset = dodge(index, series_total, std::min(chart.sweep ? 0.15 : 0.6, (chart.sweep ? 0.04 : 0.12) * (series_total - 1.0)));
    gp << "$s" << index << " << EOD\n";
    for (const auto& p : series.points) {
      const double x = chart.sweep ? p.x * std::exp2(offset) : p.x + offset;
      gp << num(x) << ' ' << num(p.y) << ' ' << num(p.low) << ' ' << num(p.high) << '\n';
    }
    gp << "EOD\n";
    plots.push_back("$s" + std::to_string(index) + " using 1:2:3:4 with " + (chart.sweep ? "yerrorlines lw 2" : "yerrorbars lw 1.5") +
                    style(index, series.hot) + " pt " + std::to_string(kPointTypes[index / 10 % 5]) + (chart.sweep ? " ps 0.8" : " ps 1.1") + " title " +
                    gnuplot_quote(series.label));
    ++index;
  }
  for (const auto& series : chart.boxes) {
    // Boxes side by side with a small gap: half-widths in octaves (sweep) or categories (shapes).
    const double half = std::min((chart.sweep ? 0.3 : 0.38) / static_cast<double>(series_total), chart.sweep ? 0.15 : 0.3);
    const double offset = dodge(index, series_total, 2.2 * half * (series_total - 1.0));
    gp << "$s" << index << " << EOD\n";
    for (const auto& b : series.boxes) {
      const double x = chart.sweep ? b.x * std::exp2(offset) : b.x + offset;
      const double w = chart.sweep ? x * (std::exp2(half) - std::exp2(-half)) : 2 * half;
      const Quantiles& q = b.spread;
      gp << num(x) << ' ' << num(q.q1) << ' ' << num(q.min) << ' ' << num(q.max) << ' ' << num(q.q3) << ' ' << num(w) << ' '
         << num(q.median) << '\n';
    }
    gp << "EOD\n";
    const std::string s = "$s" + std::to_string(index);
    plots.push_back(s + " using 1:2:3:4:5:6 with candlesticks whiskerbars 0.6 fs solid 0.3 border lw 1.5" + style(index, series.hot) +
                    " title " + gnuplot_quote(series.label));
    plots.push_back(s + " using 1:7:7:7:7:6 with candlesticks lw 2.5" + style(index, false) + " notitle");
    ++index;
  }
  gp << "plot " << join(plots, ", \\\n     ") << "\n";
  return gp.str();
}

}  // namespace aicbench::reports
