#pragma once
// `aicbench history`: the record of every run, in an SQLite database (docs/history.md).
//
//   add       every result file becomes a row of `runs` (its bytes kept verbatim, its SHA-256 its
//             identity) and its benchmark entries rows of `results`. Adding a file again adds
//             nothing. Many processes may add at once: WAL journal, a busy timeout, one
//             transaction per add, and the UNIQUE hash (INSERT OR IGNORE) make it safe.
//   trend     a time series per benchmark and GPU, with the points where comparing a run with the
//             one before it on the same GPU finds a change.
//   baseline  the last N complete runs of each GPU, exported as their original result files: the
//             baseline `aicbench compare` reads.
//
// Decisions (what is recorded, which points and marks a trend has, which runs a baseline takes)
// are computed here into structs; rendering them is history_render.cpp's business.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "reports/gnuplot.hpp"
#include "reports/result_file.hpp"

namespace re2 {
class RE2;
}

namespace aicbench::history {

// The version of docs/history-schema.sql. A database of a newer version is refused (exit 2); one
// of version 1 is upgraded by the next `history add` and read as it is until then.
inline constexpr int kSchemaVersion = 2;

// docs/history-schema.sql, compiled in.
extern const char* const kSchemaSql;

// How long a writer waits for another writer's transaction before giving up (exit 3).
inline constexpr double kDefaultBusyTimeoutS = 600;

// ==== add

struct AddedRun {
  std::filesystem::path path;
  int64_t run_id = 0;
  bool added = false;     // false: the same file (same SHA-256) was already recorded
  std::string sha256;
  size_t results = 0;     // rows in `results` for this run
};

struct AddReport {
  std::vector<AddedRun> runs;  // one per file given, in order
  std::string journal_mode;    // wal; delete on a network file system
  bool network_file_system = false;
};

struct AddOptions {
  double busy_timeout_s = kDefaultBusyTimeoutS;
};

// Records `files` in the database at `db` (created when missing) in one transaction: all of them,
// or, when any cannot be read or checked (InputError, exit 2), none. Files are read through
// load_result_file, one at a time, so memory stays bounded by the largest file.
AddReport add_runs(const std::filesystem::path& db, const std::vector<std::filesystem::path>& files,
                   const AddOptions& options = {});

// ==== --filter

// RE2's memory for one compiled filter; a pattern that needs more is refused.
inline constexpr int64_t kMaxFilterMemory = 8 << 20;

// The filter as RE2 compiles it, with its memory bounded; throws InputError (exit 2) when the
// pattern is not valid RE2 or too large.
class NameFilter {
 public:
  explicit NameFilter(const std::string& pattern);
  ~NameFilter();
  NameFilter(const NameFilter&) = delete;
  NameFilter& operator=(const NameFilter&) = delete;
  bool matches(const std::string& name) const;

 private:
  std::unique_ptr<re2::RE2> re_;
};

// ==== trend

// What comparing a run with the previous run on the same GPU says about one benchmark. Only
// changes are marked; "same", "new" and "gone" are not.
enum class Change { none, faster, slower, environment_changed };
std::string change_label(Change change);  // "", "FASTER", "SLOWER", "ENVIRONMENT CHANGED"

// Compares two runs of one GPU (or node): change_key(benchmark, position) -> change, the position
// as compare pairs it ("rank 3" GPU by GPU, "16 ranks" for a job-wide collective; empty when
// pooled). Given the runs' result files as they were added, so it can be `aicbench compare`'s own
// decision function. A detector may key by the bare benchmark name: that applies at any position.
using ChangeDetector = std::function<std::map<std::string, Change>(const ResultFile& before, const ResultFile& after)>;
std::string change_key(const std::string& benchmark, const std::string& position);

// compare's decision, as a ChangeDetector; empty (no marks) while compare is not in this build.
ChangeDetector compare_change_detector();

struct TrendPoint {
  int64_t run_id = 0;
  std::string start_time, host, suite, git_commit;
  bool complete = true;
  std::string status;              // ok, or the worst status among the repetitions
  std::string reason;              // of the first repetition that is not ok
  int repetitions = 0;             // repetition rows of this benchmark in the run
  bool unstable = false;           // any repetition flagged unstable
  // Medians over the repetitions (one repetition: its own numbers). Empty when not ok.
  std::optional<double> median_s, q1_s, q3_s, throughput;
  Change change = Change::none;    // against the previous point of this series
};

// One benchmark on one GPU (on the cpu backend: one rank of one CPU model on one host), or a
// job-wide collective over a number of ranks.
struct TrendSeries {
  std::string benchmark;           // the benchmark's name (run_name)
  std::string device_name, gpu_uuid, host;
  std::optional<int> gpu_index;    // in its node's file (result format 3)
  int rank = 0;                    // its world rank (in its latest run)
  bool rank_named = false;         // a rank of a multi-rank run without GPU UUIDs: the rank tells series apart
  int span_ranks = 0, span_nodes = 0;  // a job-wide collective
  std::string throughput_unit;     // empty when no point has a throughput
  std::vector<TrendPoint> points;  // by start time
  // "NVIDIA H200 GPU-1234abcd on node17", "NVIDIA H200 GPU 3 (GPU-1234abcd) on node17",
  // "AMD EPYC rank 2 on vm", "job: 16 ranks on 2 nodes of NVIDIA H200 (from node17)"
  std::string label() const;
  std::string position() const;    // as compare pairs it: "rank 3", "16 ranks"
};

struct TrendQuery {
  std::string filter;                  // RE2 over benchmark names, matched anywhere in the name
  std::optional<std::string> node;     // only runs of this host
};

struct Trend {
  std::filesystem::path db;
  TrendQuery query;
  std::vector<TrendSeries> series;     // by benchmark, then device and host
  bool changes_marked = false;         // false: no change detector in this build
};

Trend history_trend(const std::filesystem::path& db, const TrendQuery& query, const ChangeDetector& detect);

// ==== baseline

struct BaselineQuery {
  std::optional<std::string> filter;   // runs with at least one benchmark matching (RE2)
  std::optional<std::string> node;     // host
  std::optional<std::string> suite;
  std::optional<std::string> before;   // start_time strictly before this (UTC, ISO 8601)
  int last = 0;                        // runs per GPU, most recent first
};

struct BaselineRun {
  int64_t run_id = 0;
  std::string host, device_name, gpu_uuid, start_time, suite;
};

// The runs a baseline takes: complete runs matching the query, the last `last` of each GPU,
// returned by GPU and start time. Throws InputError (exit 2) when none matches.
std::vector<BaselineRun> select_baseline(const std::filesystem::path& db, const BaselineQuery& query);

struct ExportedRun {
  BaselineRun run;
  std::filesystem::path path;
};

// Writes each run's result file, byte for byte as it was added, into `out_dir` (created when
// missing) under a new name: never over an existing file.
std::vector<ExportedRun> export_runs(const std::filesystem::path& db, const std::vector<BaselineRun>& runs,
                                     const std::filesystem::path& out_dir);

// ==== rendering (history_render.cpp)

std::string render_trend_markdown(const Trend& trend);
std::string render_trend_csv(const Trend& trend);
// Self-contained HTML: per benchmark a chart of its series over time, drawn by `drawer`, and the
// tables. Without gnuplot the page has the tables and says why there are no charts; a chart that
// fails says so in its place. The one-argument form draws with reports::gnuplot_drawer().
std::string render_trend_html(const Trend& trend, const reports::ChartDrawer& drawer);
std::string render_trend_html(const Trend& trend);

}  // namespace aicbench::history
