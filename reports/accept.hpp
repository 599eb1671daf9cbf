#pragma once
// Node acceptance: does every delivered node meet the contract? The contract's thresholds are
// data, an acceptance spec (specs/acceptance/*.json, docs/acceptance.md); this file is the one
// evaluator that applies any spec to the result files of any number of nodes, and the verdict it
// returns, per GPU and per node. Rendering (Markdown, HTML, JSON, JUnit) is in accept_render.hpp.
//
// Clauses as data, one evaluator: every rule below is a kind of clause a spec may state any number
// of times with its own threshold, and every failure names the clause that fired, the GPU, the
// benchmark, the value measured and the threshold.
#include <cstddef>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "reports/result_file.hpp"
#include "reports/result_rows.hpp"

namespace aicbench::accept {

// ---------------------------------------------------------------------------------------------
// The spec
// ---------------------------------------------------------------------------------------------

enum class Rule {
  sku,                // every GPU is the contracted device, on the spec's backend
  gpus_per_node,      // exactly N GPUs report from each node (a node-level clause)
  suite_complete,     // the acceptance suite ran to the end, and every benchmark of it is there
  validation_passed,  // no result failed validation (scoped: every matching one ran and passed)
  no_errors,          // no benchmark ended in an error
  min_throughput,     // TFLOP/s, GB/s or % of the datasheet peak at least
  max_temperature,    // degrees C while measuring at most
  min_sm_clock,       // mean SM clock while measuring at least
  health_clean,       // the GPU's health counters are zero where recorded
  health_min,         // the GPU's health values are at least a minimum (persistence mode on: 1)
  burnin,             // the burn-in gave right answers, without hardware throttling, above a clock floor
};
// The rule's name as a spec spells it: "min_throughput".
const char* rule_name(Rule rule);

// What a clause's threshold counts.
enum class Unit { none, tflops, gbps, pct_of_peak, celsius, mhz, gpus };
// As a message writes it after a number: "TFLOP/s", "% of peak", "°C".
const char* unit_text(Unit unit);

struct Clause {
  std::string id;        // the contract's number for it: "A.3.1"
  std::string contract;  // the clause's text
  Rule rule = Rule::sku;
  // A benchmark name, or a prefix of names ending at a '/'; empty: every benchmark.
  std::string benchmark;
  std::optional<double> threshold;  // the minimum or maximum, in `unit`
  Unit unit = Unit::none;
  std::vector<std::string> except;  // suite_complete: benchmarks this SKU need not have
  std::vector<std::string> fields;  // health_clean: the counters that must be zero
  std::map<std::string, double> minimums;  // health_min: field -> the least it may be
  // burnin: the lowest interval clock and the highest temperature allowed (unset: no limit), and
  // the clock-limiting reasons that fail a GPU.
  std::optional<double> burnin_min_sm_clock_mhz, burnin_max_temp_c;
  std::vector<std::string> throttle_reasons;
  // The benchmarks of the suite this clause needs a result for on every GPU (computed when the
  // spec is read): suite_complete's list less `except`; every match of `benchmark` for
  // min_throughput and a scoped validation_passed; empty for the other rules.
  std::vector<std::string> required;

  bool node_level() const { return rule == Rule::gpus_per_node; }
  // "min_throughput gemm/cublaslt/bf16/M:8192/N:8192/K:8192 >= 70 % of peak"
  std::string summary() const;
};

struct Spec {
  std::filesystem::path path;
  std::string name, description;
  std::vector<std::string> sources;
  std::string sku_name;                // "NVIDIA H100 SXM5 80GB"
  std::string backend;                 // cuda or cpu
  std::vector<std::string> sku_match;    // device-name substrings; empty: any device of the backend
  std::vector<std::string> sku_exclude;  // substrings that rule a matching name out ("NVL")
  std::string suite;
  int suite_version = 0;
  std::vector<std::string> suite_benchmarks;
  std::vector<Clause> clauses;
};

// Reads and checks a spec: the bounded JSON reader, docs/acceptance-spec.schema.json, then the
// rules a schema cannot say. Throws InputError (exit 2) naming the file, the field and what was
// expected.
Spec load_spec(const std::filesystem::path& path);
Spec parse_spec(const nlohmann::json& json, const std::string& origin);

// Whether `pattern` (a name, or a prefix ending at a '/') selects benchmark `name`:
// "gemm/wgmma_sm90" selects "gemm/wgmma_sm90/bf16/M:8192/N:8192/K:8192" but not
// "gemm/wgmma_sm90_multicast/bf16/...". An empty pattern selects every name.
bool benchmark_matches(std::string_view pattern, std::string_view name);

// Whether a device name is the spec's SKU: it contains one of sku_match and none of sku_exclude
// (case-insensitive substrings, as specs/gpus/*.json match names).
bool sku_matches(const Spec& spec, std::string_view device_name);

// ---------------------------------------------------------------------------------------------
// The verdict
// ---------------------------------------------------------------------------------------------

enum class Problem {
  missing,            // no result for a benchmark the clause needs
  not_run,            // the benchmark was skipped (its reason in `detail`)
  failed_validation,  // value = max_rel_err, threshold = tolerance
  error,              // the benchmark ended in an error (its message in `detail`)
  below_minimum,
  above_maximum,
  not_recorded,       // the result does not carry the value the clause checks
  wrong_count,        // gpus_per_node
  wrong_device,       // sku: the device or backend (in `detail`)
  wrong_suite,        // another suite, or another version of it
  incomplete,         // the run stopped before the end (complete: false)
  nonzero,            // a health counter (named in `detail`)
  throttled,          // burnin: a clock-limiting reason the clause forbids (named in `detail`)
};
const char* problem_name(Problem problem);  // "below_minimum"

struct Violation {
  Problem problem = Problem::missing;
  std::string benchmark;            // empty when the failure is not about one benchmark
  std::optional<double> value;      // what was measured, when there is a number
  std::optional<double> threshold;  // the limit it was held to
  Unit unit = Unit::none;
  std::string detail;               // what a number cannot say: a reason, a device, a counter
};
// One line: "gemm/cublaslt/bf16/M:8192/N:8192/K:8192: 61.2 % of peak, below the minimum 70 % of peak".
std::string describe(const Violation& violation);

// One clause on one GPU, or on a node for a node-level clause.
struct Outcome {
  size_t clause = 0;  // index into Spec::clauses
  std::vector<Violation> violations;
  std::string note;   // on a pass, what the reader should know: "not recorded: retired_pages"
  bool passed() const { return violations.empty(); }
};

struct GpuVerdict {
  std::string id;      // the GPU's UUID; "rank N" on the cpu backend or without a UUID
  std::string label;   // as reports name it: "GPU 3 (GPU-...)" (with its index), "rank 3" on the cpu backend
  int rank = 0;
  std::optional<int> gpu_index;  // its index in the node's file (context.aicbench.gpus)
  std::string device;  // the GPU's name, or the CPU model on the cpu backend
  std::vector<Outcome> outcomes;  // one per GPU-level clause, in the spec's order
  bool passed() const;
};

struct NodeVerdict {
  std::string host;
  std::vector<Outcome> outcomes;  // one per node-level clause, in the spec's order
  std::vector<GpuVerdict> gpus;   // by rank, then id
  bool passed() const;
  size_t failed_gpus() const;
};

struct Verdict {
  std::vector<NodeVerdict> nodes;  // by host name
  size_t files = 0;
  size_t passed_nodes() const;
  size_t failed_nodes() const { return nodes.size() - passed_nodes(); }
  bool passed() const { return passed_nodes() == nodes.size(); }
};

// What the result files say about each GPU of each node, gathered one file at a time (the
// file's JSON can be dropped after add()), so that 1,250 node files need memory for their rows only.
class Measurements {
 public:
  void add(const ResultFile& file);
  Verdict evaluate(const Spec& spec) const;

 private:
  friend struct Evaluation;
  struct Gpu {
    std::string id, label;
    int rank = 0;
    std::optional<int> gpu_index;
    std::set<std::pair<std::string, std::string>> devices;  // (backend, device name)
    std::vector<RunFacts> runs;
    std::map<std::string, std::vector<ResultRow>> rows;  // by benchmark name, measurements only
  };
  std::map<std::string, std::map<std::string, Gpu>> nodes_;  // host -> GPU id -> what it measured
  // Job-wide collectives (written once, in world rank 0's file): evidence for every GPU of every
  // node they spanned, added to each of them when evaluated.
  std::vector<ResultRow> job_rows_;
  // Node-level rows (p2p: node_level_family), measured by the node's first rank for all its GPUs:
  // host -> rows, added to each GPU of that node when evaluated.
  std::map<std::string, std::vector<ResultRow>> node_rows_;
  std::vector<std::filesystem::path> paths_;
};

// The verdict on result files already in memory: Measurements::add for each, then evaluate.
Verdict evaluate(const Spec& spec, const std::vector<ResultFile>& files);

}  // namespace aicbench::accept
