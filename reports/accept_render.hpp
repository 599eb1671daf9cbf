#pragma once
// The acceptance verdict (reports/accept.hpp) written out: Markdown and HTML for people, JSON for
// programs, JUnit XML for CI dashboards. Nothing here decides anything; every function renders
// the Verdict it is given.
#include <string>

#include "reports/accept.hpp"

namespace aicbench::accept {

// One line for a terminal or a scheduler's log: "FAILED: 3 of 10 nodes fail acceptance (h100_sxm)".
std::string summary_line(const Spec& spec, const Verdict& verdict);

// The verdict (nodes passed and failed), then every failure (node, GPU, clause, what was measured
// against what threshold), then each clause with how many GPUs and nodes it failed.
std::string render_markdown(const Spec& spec, const Verdict& verdict);

// The same as one self-contained HTML page (inline CSS, nothing external).
std::string render_html(const Spec& spec, const Verdict& verdict);

// Every node, GPU and clause with its outcome; violations with their numbers. docs/acceptance.md
// describes the fields.
std::string render_json(const Spec& spec, const Verdict& verdict);

// JUnit XML: a <testsuite> per node, a <testcase> per clause and GPU (per clause for node-level
// clauses), a <failure> carrying every violation; passes with a note carry it in <system-out>.
std::string render_junit(const Spec& spec, const Verdict& verdict);

}  // namespace aicbench::accept
