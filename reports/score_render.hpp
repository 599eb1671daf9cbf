#pragma once
// A Scorecard (reports/score.hpp) for people and for programs: Markdown (what the command prints),
// a self-contained HTML page with charts (performance against price per GPU; the figures per watt
// and per won against the reference), and JSON (everything, every row traced). Rendering only:
// every figure was computed by compute_scorecard.
#include <string>

#include "reports/gnuplot.hpp"
#include "reports/score.hpp"

namespace aicbench::score {

// The one line the command prints when it writes files: "ranking: 1 B200-class, 2 H200-class, ...".
std::string summary_line(const Scorecard& card);

// The assumptions, notes, the ranking table, the index by group, how each candidate's figures were
// computed (files, power, costs, budget), every benchmark per group with each candidate's value,
// ratio, implementation and rows, and what was left out of the index and why.
std::string render_markdown(const Scorecard& card);

// The Markdown's content as HTML, with two charts drawn by `drawer` (gnuplot): the index against
// the price per GPU (purchase and TCO, with the reference's performance per won as a line), and
// each candidate's index, performance per kW, per won (purchase, TCO) and the performance the
// budget buys, against the reference. Without gnuplot the page says so and keeps every table.
std::string render_html(const Scorecard& card, const reports::ChartDrawer& drawer);

// The gnuplot scripts of the two charts (pure; what render_html draws).
std::string value_chart_script(const Scorecard& card);
std::string relative_chart_script(const Scorecard& card);

// Everything, each candidate's figures with their inputs and each benchmark's rows (file and
// entry). Numbers that do not exist are null.
std::string render_json(const Scorecard& card);

}  // namespace aicbench::score
