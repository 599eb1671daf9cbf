#pragma once
// A FleetReport (reports/fleet.hpp) for people and for programs: Markdown (the summary the command
// prints), a self-contained HTML page with a distribution chart per GPU model, CSV (one row per GPU
// and benchmark) and JSON (everything). Rendering only: every verdict was made by analyse_fleet.
#include <string>

#include "reports/fleet.hpp"
#include "reports/gnuplot.hpp"

namespace aicbench::fleet {

// Fleet size, the rules applied, notes, the outlier nodes with every reason, then one row per
// benchmark and model: GPUs, median, MAD, sigma, P5, P95, min, max, GPUs called slow.
std::string render_markdown(const FleetReport& report);

// The Markdown's content as HTML, plus per GPU model one chart: a row per benchmark with its
// distribution against the median (box P25-P75, whiskers P5-P95, median bar), the GPUs outside
// the whiskers as points, the slow ones in red and the worst of them named. Without a drawer
// (no gnuplot), or where drawing fails, the page is written without that chart and says why.
std::string render_html(const FleetReport& report, const reports::ChartDrawer& drawer);

// The gnuplot script of one model's chart (pure; what render_html draws), empty when the model has
// no distribution with values.
std::string chart_script(const FleetReport& report, const std::string& model);

// One row per GPU and benchmark, the benchmarks most GPUs of its model ran but it did not
// included (status "missing"): node, GPU, UUID, model, benchmark, mode, unit, status,
// repetitions, value, fleet median, relative, z, SM clock and its z, the GPU's max temperature,
// this cell's flags (slow, failing, missing, low clock) and the GPU's reasons overall.
std::string render_csv(const FleetReport& report);

// Everything: the fleet, the options, notes, outliers with their findings, distributions, and
// per GPU its values and z-scores. Numbers that do not exist are null.
std::string render_json(const FleetReport& report);

}  // namespace aicbench::fleet
