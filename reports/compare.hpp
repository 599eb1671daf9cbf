#pragma once
// `aicbench compare BASELINE... -- CURRENT...`: the nightly regression gate, as a decision apart
// from its rendering (reports/compare_render.hpp). compare() turns measurement rows into one
// Verdict per benchmark; nothing here prints or parses output text, so every rule is tested on
// the structures (docs/compare.md states the rules and their measured error rates).
//
// Per benchmark (paired by name and mode, by device model when a side holds several models, and
// by GPU position, the world rank, when both sides hold rows of several ranks; a job-wide
// collective by its rank count):
//   samples     one time per measurement row (median_s of each repetition, of every file of a side)
//   statistic   ratio of median times current / baseline, a percentile bootstrap interval of it,
//               and the two-sided Mann-Whitney U p-value (Google Benchmark's compare.py's test)
//   test or     the U test decides when the sample sizes can reach significance at all among this
//   noise rule  many benchmarks (smallest attainable p <= fdr / benchmarks); otherwise nvbench's
//               rule: a change inside the runs' own noise is the same, and the verdict says so
//   false alarms Benjamini-Hochberg over every benchmark the U test decides
//   SLOWER      significant (after BH) AND beyond the threshold AND outside the noise
//   environment a slowdown that comes with a changed machine (versions, GPU, clock policy, power
//               limit; per benchmark SM clock, temperature, throttle reasons) is ENVIRONMENT
//               CHANGED, labelled with what changed, not a code regression
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "reports/result_file.hpp"
#include "reports/result_rows.hpp"
#include "reports/stats.hpp"

namespace aicbench::compare {

enum class State {
  now_failing,          // ok (or absent) in the baseline, failed or error now: fails the gate
  slower,               // a code regression: fails the gate
  environment_changed,  // slower, and the machine changed too: fails only with fail_on_environment
  still_failing,
  gone,                 // in the baseline, not in the current results
  new_benchmark,        // in the current results, not (or only skipped) in the baseline
  fixed,                // failing in the baseline, ok now
  faster,
  skipped,              // skipped in the current results
  same,
};

// "NOW FAILING", "SLOWER", "ENVIRONMENT CHANGED", ... as printed and written to JSON and JUnit.
std::string_view state_name(State state);
inline constexpr State kAllStates[] = {State::now_failing, State::slower,        State::environment_changed,
                                       State::still_failing, State::gone,       State::new_benchmark,
                                       State::fixed,         State::faster,     State::skipped,
                                       State::same};

enum class Method {
  none,        // nothing measured to compare (new, gone, failing, skipped)
  u_test,      // Mann-Whitney U, Benjamini-Hochberg adjusted
  noise_rule,  // too few samples for the test among this many benchmarks: nvbench's rule
};
std::string_view method_name(Method method);  // "U test", "noise rule", ""

// --threshold-for PATTERN=PCT: a pattern without '*' or '?' is a name prefix that ends at a '/'
// (gemm/simt matches gemm/simt/fp32/... but not gemm/simt2/...); with them it is a glob over the
// whole name ('*' any run of characters, '/' included; '?' one character).
struct ThresholdRule {
  std::string pattern;
  double threshold = 0;  // a fraction: 0.05 for 5 %
};

// Parses "PATTERN=PCT" (PCT in percent, 0 <= PCT < 1000). Throws InputError (exit 2).
ThresholdRule parse_threshold_rule(std::string_view text);
bool pattern_matches(std::string_view pattern, std::string_view name);

struct Options {
  double threshold = 0.03;             // --threshold: a change smaller than this is SAME
  std::vector<ThresholdRule> thresholds;  // --threshold-for; the longest matching pattern wins
  double fdr = 0.05;                   // --fdr: Benjamini-Hochberg's q
  bool fail_on_environment = false;    // --fail-on-environment
  // Machine-state rules: what makes a slowdown an environment change.
  double clock_drop = 0.03;            // median SM clock lower by more than this fraction
  double hotter_c = 5.0;               // median temperature higher by more than this
  double power_change = 0.10;          // average power drawn: reported, not decisive (docs)
  // The interval.
  double interval_level = 0.95;
  int resamples = 2000;               // 0: no interval (the simulations, which need only verdicts)
  uint64_t seed = 0x6169636265ULL;     // mixed with each benchmark's name: order does not matter
};

// The threshold that applies to a benchmark: the longest matching --threshold-for pattern's
// (the later one on a tie), else options.threshold.
double threshold_for(std::string_view name, const Options& options);

// One side of one benchmark: what its rows say.
struct Side {
  size_t rows = 0, ok = 0, failing = 0, skipped = 0;
  std::vector<double> times_s;           // median_s of every ok measurement row
  std::optional<double> median_s;        // of times_s
  std::optional<double> within_noise;    // median of the rows' own relative noise (rel_stddev, else IQR)
  std::optional<double> between_noise;   // robust relative spread of times_s (2 or more samples)
  std::optional<double> noise;           // the larger of the two
  std::optional<double> throughput;      // median headline throughput of the ok rows
  std::string throughput_unit;
  std::optional<double> sm_clock_mhz, power_w, temp_c;  // medians over rows with telemetry
  std::set<std::string> throttle_reasons;
  std::string failure;                   // "failed: <reason>" of the first failing row
  std::string skip_reason;
  std::set<size_t> files;                // which files (RowOrigin::file) gave rows
  std::set<std::string> devices;         // RowOrigin::device_name
  std::set<std::string> gpus;            // RowOrigin::label() of each GPU (rank) that gave rows, UUIDs shortened
};

// Something about the machine that differs between the sides. Decisive changes turn a slowdown
// into ENVIRONMENT CHANGED; the others are shown for context only.
struct EnvironmentChange {
  std::string what;  // "driver 570.1 -> 575.2", "SM clock -8 % (1980 -> 1822 MHz)"
  bool decisive = true;
};

struct Verdict {
  std::string name, mode;
  std::string device;  // the model when pairing is per model, else empty
  // The position when pairing is per GPU, "rank 3"; "16 ranks" for a job-wide collective (always
  // paired by its rank count); empty when the rows of every GPU of a side are pooled.
  std::string position;
  std::string gpu;     // at a position: the GPU's label on the current side, else the baseline's
  bool job_wide = false;  // a job-wide collective
  State state = State::same;
  Method method = Method::none;
  std::optional<double> ratio;              // current / baseline median time: > 1 is slower
  std::optional<stats::Interval> interval;  // bootstrap interval of the ratio (2+ samples a side)
  std::optional<double> p, p_adjusted;      // U test only
  double threshold = 0;
  std::optional<double> noise;              // the band: the smaller of the sides' noise (nvbench)
  Side baseline, current;
  std::vector<EnvironmentChange> environment;
  std::string reason;

  bool fails_gate(const Options& options) const;
};

struct Comparison {
  Options options;
  std::vector<Verdict> verdicts;  // gate failures first, then by state, then by name
  std::map<State, size_t> counts;
  size_t compared = 0;            // benchmarks with times on both sides
  size_t tested = 0;              // of which decided by the U test
  size_t samples_for_test = 0;    // samples per side the U test needs among `compared` benchmarks
  bool pair_by_device = false;    // a side holds more than one device model
  bool pair_by_gpu = false;       // both sides hold rows of several ranks: paired by rank
  std::vector<EnvironmentChange> environment;  // all baseline files against all current files
  std::vector<std::string> baseline_files, current_files;

  size_t count(State state) const;
  bool passed() const;
  int exit_code() const { return passed() ? 0 : 1; }
};

// The decision on rows, without files: measurement rows of each side, and each side's files'
// environment_of() indexed by RowOrigin::file (missing entries count as empty). A row whose origin
// names a GPU (gpu_index) adds that GPU's gpu.name, gpu.uuid and gpu.power_limit_w to its file's.
struct Input {
  std::vector<ResultRow> baseline, current;
  std::vector<std::map<std::string, std::string>> baseline_environment, current_environment;
};

Comparison compare(const Input& input, const Options& options);

// Where a row sits for pairing: "16 ranks" for a job-wide collective; "rank 3" when `per_gpu`;
// else empty (the side's GPUs pooled). What Verdict::position holds.
std::string pairing_position(const RowOrigin& origin, bool per_gpu);

// The same from loaded result files (measurement_rows and environment_of of each side).
Comparison compare_files(const std::vector<ResultFile>& baseline, const std::vector<ResultFile>& current,
                         const Options& options);

}  // namespace aicbench::compare
