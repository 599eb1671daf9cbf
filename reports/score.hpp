#pragma once
// The procurement scorecard behind `aicbench score --candidates FILE` (docs/score.md): candidate
// GPUs side by side on performance, performance per watt, per won of purchase and of total cost of
// ownership, and how many GPUs a fixed budget buys.
//
//   the candidates file (docs/candidates.schema.json): offers, prices, the centre's money and a
//     weight profile (specs/procurement/profiles/) -> load_candidates();
//   each offer's result files -> compute_scorecard() -> Scorecard, the whole verdict, every
//     figure with the rows and assumptions it came from;
//   rendering (Markdown, HTML with charts, JSON) is reports/score_render.hpp.
//
// The performance index is SPEC's: per benchmark the ratio of a candidate's result to the
// reference candidate's on the same benchmark, a geometric mean of the ratios within each group of
// the profile (a family, or a family's dtypes), and a weighted geometric mean across groups. Only
// benchmarks every candidate has a valid result for are scored; the others are listed with who
// lacks them, never counted as zero.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "reports/result_file.hpp"

namespace aicbench::score {

// ---------------------------------------------------------------------------------------------
// The candidates file and its profile
// ---------------------------------------------------------------------------------------------

struct Centre {
  double budget_won = 0;
  bool budget_covers_tco = false;  // else the budget pays for the hardware only
  double electricity_won_per_kwh = 0;
  double pue = 1;
  double service_years = 0;
  double utilisation = 0;
};

struct Price {
  std::optional<double> per_gpu_won, per_node_won;  // exactly one
  std::string source;
};

struct CandidateSpec {
  std::string name, sku, description;
  std::vector<std::string> result_patterns;       // as written: globs relative to the candidates file
  std::vector<std::filesystem::path> files;       // what they matched: sorted, each once
  std::optional<int64_t> gpus_per_node;
  Price price;
  std::map<std::string, double> node_costs_won;   // per node, by name
  std::optional<double> power_per_gpu_w;          // stated: used when no row records power
  double idle_power_per_gpu_w = 0;
  double node_power_w = 0;
};

// One weighted group of a profile: a family's benchmarks, or those of some of its dtypes.
struct Group {
  std::string name, family;
  std::vector<std::string> dtypes;  // empty: every dtype
  double weight = 0;
  std::string why;
  bool selects(const std::string& family, const std::string& dtype) const;
};

struct Profile {
  std::filesystem::path path;
  std::string name, description;
  std::vector<Group> groups;
  // The index of the group a benchmark of this family and dtype belongs to; nullopt: none.
  std::optional<size_t> group_of(const std::string& family, const std::string& dtype) const;
};

struct CandidatesFile {
  std::filesystem::path path;
  std::string name, description;
  Centre centre;
  std::string profile_as_given;  // the file's "profile", or --profile
  Profile profile;
  std::string reference;         // a candidate's name; empty: the first
  std::string training_model;    // "training.model"; empty: no training capacity asked for
  std::vector<CandidateSpec> candidates;
};

// Reads a candidates file: the bounded JSON reader, docs/candidates.schema.json, the rules the
// schema cannot say, every results glob expanded (relative to the file), the profile found and
// read. `profile_override` (--profile) replaces the file's profile. Throws InputError (exit 2)
// naming the file, the field and what was expected.
CandidatesFile load_candidates(const std::filesystem::path& path, const std::string& profile_override = "");

// A profile by name or path, as the candidates file at `candidates_path` gives it: a path (it
// contains a '/' or ends in .json) is relative to that file; a name is looked up in profiles/
// beside the file, then in the shipped specs/procurement/profiles/. `field` names the option or
// field in messages.
std::filesystem::path find_profile(const std::string& profile, const std::filesystem::path& candidates_path,
                                   const std::string& field);
Profile load_profile(const std::filesystem::path& path);
Profile parse_profile(const nlohmann::json& json, const std::string& origin);

// The profile names shipped in specs/procurement/profiles/ (for messages and --help).
std::vector<std::string> shipped_profiles();

// ---------------------------------------------------------------------------------------------
// The scorecard
// ---------------------------------------------------------------------------------------------

// Which implementation's result stands for an operation (a benchmark less its implementation).
enum class ImplRule {
  best,    // the fastest valid implementation the candidate ran: ours or the vendor library's
  vendor,  // the vendor library's only (cuBLAS/cuBLASLt, cuDNN, NCCL, cudaMemcpy, ...)
};
const char* impl_rule_name(ImplRule rule);

// A row of a result file: which file of the candidate (index into CandidateSpec::files) and
// which entry of its benchmarks[].
struct RowRef {
  size_t file = 0;
  size_t entry = 0;
};

// One candidate's result for one operation.
struct Measurement {
  enum class State {
    ok,            // a valid result: value
    not_measured,  // no row for the operation
    failed,        // every row failed validation
    error,         // every row ended in an error
    skipped,       // every row was skipped (not runnable on this GPU)
    no_vendor,     // vendor rule: rows, but none from the vendor library
  };
  State state = State::not_measured;
  double value = 0;            // higher is better: the throughput, or 1 / median time
  double shown = 0;            // what a table prints: the throughput, or the median time (s)
  std::string impl;            // the implementation chosen
  bool vendor = false;
  bool unstable = false;       // a row of it was flagged unstable
  std::vector<RowRef> rows;    // the rows whose median is `value` (repetitions, GPUs, files)
  std::optional<double> power_w;  // median power_w of those rows, where recorded
  size_t power_rows = 0;          // how many of them recorded it
  std::string reason;          // why not ok: the first row's reason
  // The other implementations the candidate ran, with their median or why they do not count:
  // "mma_sm80 612 TFLOP/s", "wgmma_sm90 failed validation".
  std::vector<std::string> others;
};
const char* state_name(Measurement::State state);

struct Operation {
  std::string key;      // the benchmark name less its implementation: gemm/bf16/M:8192/N:8192/K:8192
  std::string family, dtype;
  std::string unit;     // TFLOP/s, GB/s, GB/s (bus), or "s" for operations timed only (lower is better)
  bool time_only = false;
  std::optional<size_t> group;          // the profile's group; none: not weighted
  std::vector<Measurement> candidates;  // one per candidate
  bool scored = false;                  // in the index: weighted, valid on every candidate
  std::vector<double> ratio;            // scored: per candidate, value / the reference's value
  std::string left_out;                 // not scored: why ("not measured: B200-class")
};

struct GroupScore {
  size_t group = 0;
  size_t scored = 0;                 // operations of the group in the index
  bool used = false;                 // scored > 0 and weight > 0
  double weight = 0;                 // normalised over the groups used (they add up to 1)
  std::vector<double> geomean;       // per candidate, over the group's scored ratios
  std::string left_out;              // not used: why
};

// Watts per GPU under load, and where the figure came from.
struct Power {
  double watts = 0;
  bool measured = false;  // from the rows' power_w; else the stated power_per_gpu_w (flagged)
  size_t rows = 0;        // measured: rows that recorded power
  std::string detail;     // "median power_w of 14 rows in 5 groups, weighted by the profile"
};

struct Costs {
  double purchase_per_gpu = 0;  // won: the price and the node costs, per GPU
  double purchase_per_node = 0; // won; 0 without gpus_per_node
  double node_costs_per_node = 0;
  double average_draw_w = 0;    // per GPU over every hour: utilisation x load + the rest x idle + the node's share
  double energy_kwh_per_gpu = 0;  // over the service years, PUE included
  double energy_won_per_gpu = 0;
  double tco_per_gpu = 0;       // purchase + energy
};

struct BudgetBuys {
  std::optional<int64_t> nodes;  // whole nodes, where gpus_per_node is known
  int64_t gpus = 0;
  double spent_won = 0;          // purchase, or TCO when the budget covers it
  double left_won = 0;
};

// What the sizing model makes of the GPUs a budget buys (reports/sizing.hpp, wired by
// score_command.cpp): filled through ScoreOptions::training_capacity.
struct TrainingCapacity {
  std::string model;               // the model trained: llama3-70b
  double tokens_per_day = 0;       // on every GPU the budget buys
  std::optional<double> mfu;       // model FLOPs utilisation, against the dense datasheet peak
  std::string detail;              // the layout, the step time, what was measured or assumed
};

struct CandidateScore {
  std::string name;
  std::vector<std::string> devices;  // what the files report: "NVIDIA H100 80GB HBM3 (cuda)"
  bool fixture = false;              // a file says context.aicbench.fixture: true
  std::string fixture_note;
  double index = 0;                  // performance index; the reference's is 1
  Power power;
  double perf_per_kw = 0;            // index per kW of GPU power under load
  Costs costs;
  double perf_per_100m_won_purchase = 0;  // index per 100,000,000 won of purchase per GPU
  double perf_per_100m_won_tco = 0;
  BudgetBuys budget;
  double fleet_performance = 0;      // budget.gpus x index: reference-GPU equivalents
  std::optional<TrainingCapacity> training;
  std::string training_unavailable;  // why there is no training capacity
  size_t rank = 0;                   // 1 = best, by fleet performance
  std::vector<std::string> notes;    // per candidate: rows left out, unstable rows, flags
};

struct Scorecard {
  CandidatesFile input;
  ImplRule impls = ImplRule::best;
  size_t reference = 0;
  std::vector<Operation> operations;  // sorted by group, then key
  std::vector<GroupScore> groups;     // one per profile group, in the profile's order
  std::vector<CandidateScore> candidates;  // in the file's order; `rank` orders them
  std::vector<std::string> notes;     // for the whole card: fixtures, groups left out, ...
  size_t scored_operations() const;
  std::vector<size_t> ranking() const;  // candidate indices, best first
};

struct TrainingRequest {
  const CandidateSpec& candidate;
  const std::vector<ResultFile>& files;  // the candidate's result files, loaded and checked
  int64_t gpus = 0;                      // what the budget buys
  std::string model;                     // CandidatesFile::training_model
};
// Returns the capacity, or throws std::exception saying why it cannot (the cell says so; the
// scorecard goes on).
using TrainingCapacityFn = std::function<TrainingCapacity(const TrainingRequest&)>;

struct ScoreOptions {
  ImplRule impls = ImplRule::best;
  std::string reference;  // overrides the file's; empty: the file's, else the first candidate
  // The sizing model. Unset: the column says "sizing model not wired into score".
  TrainingCapacityFn training_capacity;
};

// The scorecard of `input`'s candidates, `results[i]` being candidate i's files (loaded in the
// order of CandidateSpec::files). Throws InputError (exit 2) for an unknown --reference, a
// candidate with no power figure at all, or no benchmark that every candidate has and the
// profile weights (nothing to compare).
Scorecard compute_scorecard(const CandidatesFile& input, const std::vector<std::vector<ResultFile>>& results,
                            const ScoreOptions& options = {});

// The operation a benchmark name stands for: its name less the implementation
// ("gemm/cublaslt/bf16/M:8/N:8/K:8" -> "gemm/bf16/M:8/N:8/K:8"), with "/ranks:N" appended for a
// collective row (busbw at 4 and at 8 ranks are not one benchmark).
std::string operation_key(const std::string& name, std::optional<int64_t> collective_ranks);

// Hours in a year of service: 365.25 days.
inline constexpr double kHoursPerYear = 8766;
// Won per unit of the per-won columns: 100,000,000 won (1 eok).
inline constexpr double kWonPerUnit = 1e8;

}  // namespace aicbench::score
