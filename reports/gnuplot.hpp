#pragma once
// Drawing charts with gnuplot: a script in, an SVG document out. gnuplot is optional: without
// it the HTML report is written without charts and says why, so the drawer carries that reason.

#include <cstddef>
#include <functional>
#include <string>

namespace aicbench::reports {

struct ChartDrawer {
  // Draws one gnuplot script; throws std::runtime_error saying why when it cannot.
  std::function<std::string(const std::string& gnuplot_script)> draw;
  // Non-empty when no chart can be drawn at all (no gnuplot): why, and how to get charts.
  std::string unavailable;
};

// gnuplot as $AICBENCH_GNUPLOT names it, else `gnuplot` on PATH; `unavailable` when neither is
// an executable file.
ChartDrawer gnuplot_drawer();

// Runs the gnuplot binary on a script (stdin closed) and returns what it wrote to stdout.
// Throws std::runtime_error with gnuplot's stderr when it fails, writes nothing, or runs longer
// than `timeout_s` (then it is killed).
std::string run_gnuplot(const std::string& binary, const std::string& gnuplot_script, double timeout_s = 60);

// A string as a gnuplot single-quoted literal: control characters replaced, quotes doubled, cut
// to `max_chars` bytes at a character boundary (with an ellipsis).
std::string gnuplot_quote(const std::string& s, size_t max_chars = 60);

// The <svg> element of a gnuplot SVG document, for inlining in an HTML page: the XML prolog
// dropped, every id (and reference to one) prefixed with `id_prefix` (every gnuplot SVG defines
// the same ids, and a page's must be unique for its <use> references to be right), gnuplot's
// <title> replaced by `title`. Throws std::runtime_error when there is no <svg> element.
std::string inline_svg(std::string svg, const std::string& title, const std::string& id_prefix);

}  // namespace aicbench::reports
