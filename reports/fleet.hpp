#pragma once
// aicbench fleet: the GPUs and nodes that stand out from the rest of a fleet, and why.
//
// The decision is apart from its rendering (reports/fleet_render.hpp): FleetCollector takes result
// files one at a time and keeps a compact record of each measurement (the file's JSON is dropped,
// so memory grows with GPUs x benchmarks, not with bytes read); analyse_fleet() turns the records
// into a FleetReport of plain structs that the tests check directly.
//
// Statistics (docs/fleet.md), per benchmark (name and mode) and GPU model, over the GPUs:
//   a GPU's value  = the median over its repetitions of the throughput (TFLOP/s, bus GB/s, GB/s),
//                    or of the median time where the benchmark has no throughput;
//   median, MAD, P5, P95 of the GPUs' values;
//   sigma          = max(1.4826 MAD, sigma_floor x |median|): the robust standard deviation, never
//                    zero, so identical values do not make the smallest difference an outlier;
//   z              = (value - median) / sigma, signed so that negative is slower (for a time the
//                    sign is flipped): Iglewicz and Hoaglin's modified z-score.
// Outlier reasons, each also settable through FleetOptions:
//   slow           z < -k and more than slow_fraction below the median (a time: above it); and a
//                  node, besides its GPUs: its median over its GPUs slow in the same terms against
//                  the other nodes' medians, or every one of its GPUs slow (a node-wide cause);
//   failing        a row failed validation or errored;
//   hot            the GPU's maximum temperature is above max_temp_c, or above its model's median
//                  by k sigma and by temp_margin_c;
//   throttled      SM clock on a benchmark below its median by k sigma and by clock_fraction, or a
//                  throttle reason that is thermal or a hardware slowdown, or one that fewer than
//                  half of the model's GPUs show;
//   missing        a node with fewer GPUs than most nodes, or a GPU without a benchmark that most
//                  GPUs of its model ran (or one it skipped where they ran it);
//   odd provenance the driver, CUDA runtime, cuBLAS or NCCL version, GPU model, power limit, clock
//                  policy or backend (environment_of) unlike the value a strict majority of GPUs has.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "reports/result_file.hpp"
#include "reports/result_rows.hpp"

namespace aicbench::fleet {

inline constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

struct FleetOptions {
  double k_sigma = 3.5;          // robust sigmas beyond which a value stands out
  double slow_fraction = 0.05;   // and by more than this fraction of the median, to be slow
  double clock_fraction = 0.05;  // and by more than this fraction of the median SM clock, to be throttled
  double sigma_floor = 0.005;    // sigma is at least this fraction of |median| (throughput, time, clock)
  double temp_floor_c = 1;       // and at least this for temperatures (NVML reads whole degrees)
  double max_temp_c = 85;        // hotter than this is hot, whatever the fleet
  double temp_margin_c = 5;      // hot against the fleet: also this many degrees above its median
  size_t min_gpus = 5;           // fewer GPUs with a value: the distribution is shown, nobody judged
};

enum class Reason { slow, failing, hot, throttled, missing, odd_provenance };
inline constexpr Reason kReasons[] = {Reason::slow, Reason::failing, Reason::hot, Reason::throttled,
                                      Reason::missing, Reason::odd_provenance};
const char* reason_name(Reason reason);  // "slow", ..., "odd provenance"

// One GPU: every row of one device (its UUID; without one, its host and rank), all repetitions.
// A node's file of several GPUs (format 3) gives one Gpu per rank it holds rows of.
struct Gpu {
  std::string node;   // the hostname
  std::string label;  // what tables and messages call it: "node-a GPU 3" (format 3), else node:rank
  std::string uuid, model;
  int rank = 0;
  std::optional<int> gpu_index;  // in its node's file (format 3)
  size_t files = 0;
  bool complete = true;  // false: one of its runs stopped early
  std::map<std::string, std::string> environment;  // environment_of its first file, less gpu.uuid
  // From analyse_fleet:
  double max_temp_c = kNaN, temp_z = kNaN;
  std::vector<std::string> throttle_reasons;  // every reason any of its rows recorded
};

// A benchmark's distribution over the GPUs of one model.
struct Distribution {
  std::string benchmark, mode, model;
  std::string unit;              // "TFLOP/s", "GB/s (bus)", "GB/s", or "s" for a time
  bool higher_is_better = true;  // false for a time
  size_t count = 0;              // GPUs with a value
  double median = kNaN, mad = kNaN, sigma = kNaN, p5 = kNaN, p95 = kNaN, min = kNaN, max = kNaN;
  bool judged = false;           // count >= min_gpus: slow and clock verdicts given
  size_t slow = 0;               // GPUs called slow on it
  double clock_median_mhz = kNaN, clock_sigma_mhz = kNaN;
};

enum class CellStatus { ok, failed, error, skipped, missing };
const char* cell_status_name(CellStatus status);

// One GPU on one benchmark.
struct Cell {
  size_t gpu = 0, distribution = 0;
  CellStatus status = CellStatus::ok;
  size_t repetitions = 0;        // measurements with a value
  double value = kNaN;           // median over repetitions, in the distribution's unit
  double relative = kNaN;        // performance against the median: 0.9 is 10 % slower (also for times)
  double z = kNaN;               // negative is slower
  double clock_mhz = kNaN, clock_relative = kNaN, clock_z = kNaN;
  bool slow = false, clock_low = false;
  std::string reason;            // failed, error, skipped: what the row says
};

struct Finding {
  Reason reason;
  std::vector<std::string> gpus;  // GPU labels; empty when it is about the node (GPUs missing)
  std::string benchmark;          // the benchmark it concerns, or the worst of several
  double value = kNaN, fleet = kNaN, z = kNaN;  // the GPU's number, the fleet's median, its z
  std::string detail;             // one line for people
};

struct NodeVerdict {
  std::string node;
  size_t gpus = 0;                // GPUs it reported
  std::vector<Finding> findings;  // in the order of kReasons
  bool has(Reason reason) const;
  std::set<Reason> reasons() const;
};

struct FleetReport {
  FleetOptions options;
  size_t files = 0;
  std::vector<Gpu> gpus;                  // in the order first seen
  std::vector<std::string> nodes;         // every node, sorted
  std::map<std::string, size_t> models;   // GPU model -> GPUs
  size_t usual_gpus_per_node = 0;         // what most nodes report
  std::map<std::string, std::string> majority_environment;  // key -> the value a strict majority has
  std::vector<Distribution> distributions;  // by model, then benchmark name and mode
  std::vector<Cell> cells;                  // by GPU, then distribution; missing benchmarks included
  std::vector<NodeVerdict> outliers;        // nodes with a finding, by node name
  std::vector<std::string> notes;           // what a reader should know: splits, groups too small
  size_t job_wide_rows = 0;                 // collectives over several nodes: not a GPU's, not judged here

  size_t outlier_gpus() const;              // GPUs named in some finding
  const NodeVerdict* outlier(const std::string& node) const;
};

// Keeps what the fleet verdicts need of each result file, one file at a time.
class FleetCollector {
 public:
  // Reads what the verdicts need from one file; the caller can drop the file's JSON afterwards.
  void add(const ResultFile& file);
  size_t files() const { return files_; }

 private:
  friend FleetReport analyse_fleet(const FleetCollector& data, const FleetOptions& options);

  struct Benchmark {
    std::string name, mode;
    std::string unit;               // of the first row with a throughput
    size_t with_throughput = 0, ok_without = 0;
  };
  // One measurement row, compact: 10,000 GPUs x a suite's rows must fit in memory easily.
  struct Observation {
    uint32_t gpu, benchmark;
    CellStatus status;
    double throughput, time_s, clock_mhz, temp_c;  // NaN where absent
    uint64_t throttle;                               // bits: indices into throttle_names_
    uint32_t reason;                                 // index into reasons_ (0: none)
  };

  uint32_t gpu_of(const RowOrigin& origin, const ResultFile& file);
  uint32_t intern_reason(const std::string& text);
  size_t throttle_bit(const std::string& reason);

  size_t files_ = 0;
  size_t job_wide_rows_ = 0;
  std::vector<Gpu> gpus_;
  std::unordered_map<std::string, uint32_t> gpu_index_;
  std::vector<Benchmark> benchmarks_;
  std::unordered_map<std::string, uint32_t> benchmark_index_;
  std::vector<Observation> observations_;
  std::vector<std::string> throttle_names_;  // bit i of Observation::throttle; at most 64, the last "other"
  std::vector<std::string> reasons_{""};
  std::unordered_map<std::string, uint32_t> reason_index_;
};

FleetReport analyse_fleet(const FleetCollector& data, const FleetOptions& options = {});

}  // namespace aicbench::fleet
