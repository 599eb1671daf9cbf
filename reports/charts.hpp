#pragma once
// Charts of throughput against problem size: what each chart shows (planned from the rows, pure)
// and the gnuplot script that draws it (pure). Drawing the script is gnuplot.hpp's business.
//
// Choices, and why:
// - One series per run (result file), GPU (a node's file holds several), implementation and mode;
//   one chart per family and dtype. Two runs on one host, two GPUs of a node or `--mode both` are
//   two series, never one zig-zag line.
// - A sweep over `bytes` (collectives, memory) is drawn like a square GEMM's sizes; its other
//   params (in_place) make series of their own.
// - Square GEMMs (M = N = K) form a sweep and are drawn as lines over a log2 size axis. Every
//   other shape (500x300x101, a model's linear layers) goes on a separate chart with one named
//   category per shape, drawn as unconnected points: a shape's cube root on the sweep's axis
//   would put it between sizes it has nothing to do with, and only its name says what it is.
// - The spread is drawn: a point's bar runs from the throughput at the third quartile of its
//   sample times to that at the first (throughput is inversely proportional to time).
// - Legends sit below the plot, never over the data; the picture grows to hold them.
// - Peer-to-peer rows (families p2p, p2p_latency) get no chart: their picture is the GPU x GPU
//   matrix (reports/p2p_matrix.hpp).
// - More series than a chart can hold (kMaxSeriesPerChart), or the compact view of many runs:
//   per implementation and mode, a box per size across the runs (quartiles, whiskers at min and
//   max, a bar at the median) instead of one line per run.

#include <cstddef>
#include <string>
#include <vector>

#include "reports/report_model.hpp"

namespace aicbench::reports {

inline constexpr size_t kMaxSeriesPerChart = 10;

struct ChartPoint {
  double x = 0;                   // size (sweep) or category index (shapes)
  double y = 0, low = 0, high = 0;  // throughput, and at the third and first quartile of the times
};

struct LineSeries {
  std::string label;
  bool hot = false;               // hot-mode series are dashed
  std::vector<ChartPoint> points;
};

struct BoxPoint {
  double x = 0;
  Quantiles spread;
};

struct BoxSeries {
  std::string label;
  bool hot = false;
  std::vector<BoxPoint> boxes;
};

struct ChartSpec {
  std::string title;              // "gemm · bf16 · square sizes"
  std::string caption;            // what the bars or boxes mean, and what was left out
  bool sweep = true;              // a numeric log2 size axis; else one category per shape
  std::string x_label, y_label;
  std::vector<std::string> categories;  // shape names, x = index (not a sweep)
  std::vector<LineSeries> lines;        // one per run, impl and mode
  std::vector<BoxSeries> boxes;         // one per impl and mode: distributions across runs
  size_t series_count() const { return lines.size() + boxes.size(); }
};

// The charts of a page, in a stable order (family, dtype, sweep before shapes). Only ok results
// with a positive, finite throughput are plotted. `compact` draws every chart as distributions.
std::vector<ChartSpec> plan_charts(const std::vector<ReportRow>& rows, const std::vector<RunSummary>& runs, bool compact);

// A self-contained gnuplot script (data inlined as datablocks) that writes the chart as SVG to
// stdout. Every string in it is quoted for gnuplot and free of control characters.
std::string gnuplot_script(const ChartSpec& chart);

}  // namespace aicbench::reports
