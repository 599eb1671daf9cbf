#pragma once
// Result files as data for other tools: CSV for spreadsheets and scripts, JUnit XML for CI
// servers. Both are pure: files in, text out.
//
// CSV (RFC 4180: CRLF line ends, fields with a comma, quote or line break quoted, quotes doubled)
// has one row per entry of benchmarks[] (measurements, repetitions and Google Benchmark's
// aggregates alike), with the columns of kCsvColumns and, between mode and status, one
// `param:<name>` column per parameter that any row has. Times are in seconds. Where a row ran is
// its RowOrigin: `host` the node, `rank`, `local_rank`, `gpu_index`, `gpu_uuid`, `gpu_name`, and
// for a job-wide collective `span_ranks` and `span_nodes`. Against formula
// injection, OWASP's rule: a text cell that starts with = + - @, a tab, CR or LF gets a leading
// apostrophe (spreadsheets show it as text) and is quoted; numbers are written as numbers.
//
// JUnit: one <testsuite> per result file (properties: host, GPU, backend, suite, commit, start,
// complete); a node's file of several GPUs gets one per GPU (rank), named "FILE GPU 3 (GPU-...)"
// with its rank, index and UUID, and one for its job-wide collectives. One <testcase> per
// benchmark (with repetitions: its median aggregate), classname
// family/impl/dtype and name the benchmark's full name. A failed validation is a <failure> with
// the measured error and the tolerance, a status of error (or any unknown status) an <error>, a
// skipped benchmark <skipped>; an unstable ok result passes and says UNSTABLE in <system-out>.
// A run that stopped early gets one more testcase, "run complete", in error. Text is
// XML-escaped, and characters XML 1.0 forbids (NUL, other controls, U+FFFE, U+FFFF) replaced by
// U+FFFD.

#include <string>
#include <vector>

#include "reports/result_file.hpp"

namespace aicbench::reports {

// The fixed CSV columns, in order; the param:<name> columns go after "mode".
extern const std::vector<std::string> kCsvColumns;

std::string render_csv(const std::vector<ResultFile>& files);

std::string render_junit(const std::vector<ResultFile>& files);

// One CSV field: quoted when RFC 4180 needs it, formula-looking text defused (see above).
std::string csv_text_field(const std::string& text);

}  // namespace aicbench::reports
