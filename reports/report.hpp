#pragma once
// Human-readable reports of result files: a Markdown summary and a self-contained HTML page.
//
// Up to kMaxDetailedRuns files, both show per file where the numbers came from (host, GPUs or why
// there are none, backend, versions, suite, git commit, start time, complete or not), then one
// table of every benchmark. With more files they take the compact view: one table row per run,
// and per benchmark its distribution across the runs (count, median, min, quartiles, max and the
// worst run), plus the results that failed or were unstable. A row whose status is not "ok" never
// shows a throughput number: it shows the status, the reason, and the measured error against the
// tolerance; an unstable result is never shown as plain "ok".
//
// The HTML page adds charts (charts.hpp says what they show), SVG drawn by gnuplot and inlined,
// so the page opens offline with nothing external. Without gnuplot, or where gnuplot fails on a
// chart, the page is still written and says so where the charts would be.
//
// Bad values that pass the reader (huge numbers, control characters in names, empty strings)
// never stop a report: every render function here returns text for any loaded file.

#include <string>
#include <vector>

#include "reports/gnuplot.hpp"
#include "reports/result_file.hpp"

namespace aicbench::reports {

std::string render_markdown(const std::vector<ResultFile>& files);

// The HTML page, charts drawn by `drawer`; the one-argument form uses gnuplot_drawer().
std::string render_html(const std::vector<ResultFile>& files, const ChartDrawer& drawer);
std::string render_html(const std::vector<ResultFile>& files);

}  // namespace aicbench::reports
