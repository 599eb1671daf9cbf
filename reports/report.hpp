#pragma once
// Human-readable reports of result files: a Markdown summary and a self-contained HTML page.
//
// Both show, per result file, where the numbers came from (host, GPUs or why there are none,
// backend, versions, suite, git commit, start time, complete or not), then one table of every
// benchmark. A row whose status is not "ok" never shows a throughput number: it shows the status,
// the reason, and the measured error against the tolerance.
//
// The HTML page adds one chart per (family, dtype): throughput against problem size, one series
// per implementation (per implementation @ device when the files come from different machines).
// Charts are SVG drawn by gnuplot and inlined, so the page opens offline with nothing external.

#include <string>
#include <vector>

#include "reports/result_file.hpp"

namespace aicbench::reports {

// Markdown summary: per file a provenance block, then one table of all benchmarks: name, impl,
// dtype, shape (params as MxNxK or k=v), median/real time with unit, TFLOP/s, % of peak,
// % of vendor, max rel err, status (failed/skipped rows show the reason).
std::string render_markdown(const std::vector<ResultFile>& files);

// One self-contained HTML page (inline CSS, inline SVG charts, no external references): the same
// provenance and table, plus one chart per (family, dtype). Failed/skipped entries are not plotted.
// Throws InputError(..., 3) when gnuplot is needed for a chart and is missing or fails.
std::string render_html(const std::vector<ResultFile>& files);

// Runs gnuplot on `gnuplot_script` and returns what it wrote to stdout (the script sets the
// terminal, e.g. svg). The binary is $AICBENCH_GNUPLOT if set, else `gnuplot` on PATH. Throws
// InputError(message, 3) when gnuplot is not installed (the message says to install gnuplot-nox)
// or when it fails (the message includes its stderr).
std::string render_svg_with_gnuplot(const std::string& gnuplot_script);

}  // namespace aicbench::reports
