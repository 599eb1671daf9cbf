#pragma once
// `aicbench compare`'s verdicts rendered: Markdown (stdout and --md), a self-contained HTML page,
// machine-readable JSON and JUnit XML. Only presentation: every decision is in the Comparison
// (reports/compare.hpp), so these functions choose no state and compute no statistic.
#include <string>

#include <nlohmann/json.hpp>

#include "reports/compare.hpp"

namespace aicbench::compare {

// Summary counts and the gate's outcome first, then the rule in words, the environment that
// changed between the sets, the slowdowns that came with a changed environment (prominently),
// and one table row per benchmark: benchmark, state, ratio, interval, p (BH-adjusted), baseline
// and current medians, noise, reason.
std::string render_markdown(const Comparison& comparison);

// The same as one self-contained HTML page (inline CSS, no external reference), states coloured,
// every text from a file escaped.
std::string render_html(const Comparison& comparison);

// Every verdict with its numbers, for machines (docs/compare.md describes the fields).
nlohmann::json to_json(const Comparison& comparison);

// JUnit XML: one testcase per benchmark; <failure> for the states that fail the gate (SLOWER,
// NOW FAILING, and ENVIRONMENT CHANGED with --fail-on-environment), <skipped> for GONE and
// SKIPPED. Text is escaped, and characters XML 1.0 forbids replaced by U+FFFD (reports/text_format).
std::string render_junit(const Comparison& comparison);

}  // namespace aicbench::compare
