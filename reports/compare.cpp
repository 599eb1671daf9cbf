#include "reports/compare.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iterator>
#include <tuple>

namespace aicbench::compare {

namespace {

std::string format(const char* fmt, double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, fmt, value);
  return buffer;
}

// "+5.2 %": a relative change with its sign.
std::string signed_percent(double fraction) { return format("%+.1f %%", 100.0 * fraction); }
std::string percent(double fraction) { return format("%.1f %%", 100.0 * fraction); }

std::string join(const std::set<std::string>& values, std::string_view separator) {
  std::string out;
  for (const std::string& v : values) {
    if (!out.empty()) out += separator;
    out += v.empty() ? "none" : v;
  }
  return out;
}

// Names people know for environment_of's keys.
std::string display_name(const std::string& key) {
  static const std::map<std::string, std::string> names = {
      {"versions.driver", "driver"},        {"versions.cuda_runtime", "CUDA runtime"},
      {"versions.cublas", "cuBLAS"},        {"versions.nccl", "NCCL"},
      {"gpu.uuid", "GPU UUID"},             {"gpu.name", "GPU"},
      {"gpu.power_limit_w", "power limit W"}, {"telemetry.clock_policy", "clock policy"},
      {"backend", "backend"}};
  const auto it = names.find(key);
  return it == names.end() ? key : it->second;
}

using Environment = std::map<std::string, std::string>;

const Environment& environment_at(const std::vector<Environment>& environments, size_t file) {
  static const Environment kEmpty;
  return file < environments.size() ? environments[file] : kEmpty;
}

// The environment a row was measured in: its file's, with its GPU's own facts where the row names
// its GPU (a node's file of several GPUs).
Environment row_environment(const std::vector<Environment>& environments, const RowOrigin& origin) {
  Environment env = environment_at(environments, origin.file);
  add_gpu_environment(env, origin);
  return env;
}

// The environments behind some rows, once per file and GPU.
std::vector<Environment> environments_of(const std::vector<Environment>& environments,
                                         const std::vector<const ResultRow*>& rows) {
  std::set<std::pair<size_t, int>> seen;
  std::vector<Environment> out;
  for (const ResultRow* row : rows) {
    if (seen.insert({row->origin.file, row->origin.gpu_index.value_or(-1)}).second) {
      out.push_back(row_environment(environments, row->origin));
    }
  }
  return out;
}

// Keys whose values differ between two sets of environments, as "driver 570.1 -> 575.2". The
// GPU's name is left out: the device each row was measured on says it (for the CPU backend too).
std::vector<EnvironmentChange> environment_changes(const std::vector<Environment>& before_envs,
                                                   const std::vector<Environment>& after_envs) {
  std::set<std::string> keys;
  for (const Environment& e : before_envs) for (const auto& [k, v] : e) keys.insert(k);
  for (const Environment& e : after_envs) for (const auto& [k, v] : e) keys.insert(k);
  keys.erase("gpu.name");
  std::vector<EnvironmentChange> changes;
  for (const std::string& key : keys) {
    auto values = [&](const std::vector<Environment>& envs) {
      std::set<std::string> out;
      for (const Environment& e : envs) {
        const auto it = e.find(key);
        out.insert(it == e.end() ? "" : it->second);
      }
      return out;
    };
    const std::set<std::string> before = values(before_envs);
    const std::set<std::string> after = values(after_envs);
    if (before != after) changes.push_back({display_name(key) + " " + join(before, ", ") + " -> " + join(after, ", ")});
  }
  return changes;
}

std::optional<double> median_of(const std::vector<double>& values) {
  if (values.empty()) return std::nullopt;
  return stats::median(values);
}

// A row's own relative noise: its samples' relative standard deviation, else the interquartile
// range as a standard deviation (IQR / 1.349 for normal data) over the median.
std::optional<double> row_noise(const ResultRow& row) {
  if (row.rel_stddev) return row.rel_stddev;
  if (row.q1_s && row.q3_s && row.median_s && *row.median_s > 0) {
    return (*row.q3_s - *row.q1_s) / 1.349 / *row.median_s;
  }
  return std::nullopt;
}

Side summarize(const std::vector<const ResultRow*>& rows) {
  Side side;
  std::vector<double> noises, throughputs, clocks, powers, temps;
  for (const ResultRow* row : rows) {
    ++side.rows;
    side.files.insert(row->origin.file);
    if (!row->origin.device_name.empty()) side.devices.insert(row->origin.device_name);
    side.gpus.insert(row->origin.label(/*short_uuid=*/true));
    if (row->status == kStatusSkipped) {
      ++side.skipped;
      if (side.skip_reason.empty()) side.skip_reason = row->reason;
      continue;
    }
    if (!row->ok()) {
      ++side.failing;
      if (side.failure.empty()) side.failure = row->status + (row->reason.empty() ? "" : ": " + row->reason);
      continue;
    }
    ++side.ok;
    if (row->median_s && *row->median_s > 0) side.times_s.push_back(*row->median_s);
    if (auto n = row_noise(*row)) noises.push_back(*n);
    if (auto t = row->throughput()) {
      throughputs.push_back(*t);
      side.throughput_unit = row->throughput_unit();
    }
    if (row->sm_clock_mhz) clocks.push_back(*row->sm_clock_mhz);
    if (row->power_w) powers.push_back(*row->power_w);
    if (row->temp_c) temps.push_back(*row->temp_c);
    side.throttle_reasons.insert(row->throttle_reasons.begin(), row->throttle_reasons.end());
  }
  // Sorted: the bootstrap draws by index, so the same samples in another order give the same interval.
  std::sort(side.times_s.begin(), side.times_s.end());
  side.median_s = median_of(side.times_s);
  side.within_noise = median_of(noises);
  side.between_noise = stats::robust_relative_spread(side.times_s);
  if (side.within_noise || side.between_noise) {
    side.noise = std::max(side.within_noise.value_or(0), side.between_noise.value_or(0));
  }
  side.throughput = median_of(throughputs);
  side.sm_clock_mhz = median_of(clocks);
  side.power_w = median_of(powers);
  side.temp_c = median_of(temps);
  return side;
}

// The machine state while measuring, compared per benchmark.
std::vector<EnvironmentChange> telemetry_changes(const Side& b, const Side& c, const Options& options) {
  std::vector<EnvironmentChange> changes;
  if (b.sm_clock_mhz && c.sm_clock_mhz && *b.sm_clock_mhz > 0) {
    const double change = *c.sm_clock_mhz / *b.sm_clock_mhz - 1;
    if (change < -options.clock_drop) {
      changes.push_back({"SM clock " + signed_percent(change) + " (" + format("%.0f", *b.sm_clock_mhz) + " -> " +
                         format("%.0f", *c.sm_clock_mhz) + " MHz)"});
    }
  }
  if (b.temp_c && c.temp_c && *c.temp_c - *b.temp_c > options.hotter_c) {
    changes.push_back({"temperature " + format("%+.0f C", *c.temp_c - *b.temp_c) + " (" + format("%.0f", *b.temp_c) +
                       " -> " + format("%.0f C", *c.temp_c) + ")"});
  }
  std::set<std::string> new_reasons;
  std::set_difference(c.throttle_reasons.begin(), c.throttle_reasons.end(), b.throttle_reasons.begin(),
                      b.throttle_reasons.end(), std::inserter(new_reasons, new_reasons.end()));
  if (!new_reasons.empty()) changes.push_back({"new throttle reasons: " + join(new_reasons, ", ")});
  if (b.devices != c.devices && !b.devices.empty() && !c.devices.empty()) {
    changes.push_back({"device " + join(b.devices, ", ") + " -> " + join(c.devices, ", ")});
  }
  // Slower code draws less power on the same machine, so power drawn alone never explains a
  // slowdown: shown, not decisive. A changed power limit (provenance) is decisive.
  if (b.power_w && c.power_w && *b.power_w > 0) {
    const double change = *c.power_w / *b.power_w - 1;
    if (std::abs(change) > options.power_change) {
      changes.push_back({"power drawn " + signed_percent(change) + " (" + format("%.0f", *b.power_w) + " -> " +
                             format("%.0f W", *c.power_w) + ")",
                         false});
    }
  }
  return changes;
}

std::string environment_label(const std::vector<EnvironmentChange>& changes) {
  std::string label;
  for (const EnvironmentChange& c : changes) {
    if (!c.decisive) continue;
    label += label.empty() ? "environment changed: " : ", ";
    label += c.what;
  }
  return label;
}

bool has_decisive(const std::vector<EnvironmentChange>& changes) {
  return std::any_of(changes.begin(), changes.end(), [](const EnvironmentChange& c) { return c.decisive; });
}

// position_rank: the rank when paired per GPU, else -1; span_ranks: a job-wide row's rank count, else 0.
struct Key {
  std::string device, name, mode;
  int span_ranks = 0, position_rank = -1;
  auto operator<=>(const Key&) const = default;
};

std::string position_text(int span_ranks, int rank) {
  if (span_ranks > 0) return std::to_string(span_ranks) + (span_ranks == 1 ? " rank" : " ranks");
  return rank >= 0 ? "rank " + std::to_string(rank) : "";
}

// Whether some rows come from more than one rank (job-wide rows aside).
bool several_ranks(const std::vector<ResultRow>& rows) {
  std::optional<int> first;
  for (const ResultRow& row : rows) {
    if (row.origin.job_wide()) continue;
    if (first && *first != row.origin.rank) return true;
    first = row.origin.rank;
  }
  return false;
}

// The label of the GPU at a position: the current side's, else the baseline's.
std::string position_gpu(const Side& current, const Side& baseline) {
  const std::set<std::string>& gpus = current.gpus.empty() ? baseline.gpus : current.gpus;
  return join(gpus, "; ");
}

struct Pair {
  std::vector<const ResultRow*> baseline, current;
};

// Whether `name` starts with `prefix` at a component boundary.
bool prefix_matches(std::string_view prefix, std::string_view name) {
  if (prefix.empty()) return true;
  if (!name.starts_with(prefix)) return false;
  return name.size() == prefix.size() || prefix.back() == '/' || name[prefix.size()] == '/';
}

bool glob_matches(std::string_view pattern, std::string_view text) {
  // Iterative matcher with one backtrack point for the last '*': linear in practice.
  size_t p = 0, t = 0, star = std::string_view::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t])) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

}  // namespace

std::string_view state_name(State state) {
  switch (state) {
    case State::now_failing: return "NOW FAILING";
    case State::slower: return "SLOWER";
    case State::environment_changed: return "ENVIRONMENT CHANGED";
    case State::still_failing: return "STILL FAILING";
    case State::gone: return "GONE";
    case State::new_benchmark: return "NEW";
    case State::fixed: return "FIXED";
    case State::faster: return "FASTER";
    case State::skipped: return "SKIPPED";
    case State::same: return "SAME";
  }
  return "?";
}

std::string_view method_name(Method method) {
  switch (method) {
    case Method::u_test: return "U test";
    case Method::noise_rule: return "noise rule";
    case Method::none: return "";
  }
  return "";
}

std::string pairing_position(const RowOrigin& origin, bool per_gpu) {
  return position_text(origin.spans ? origin.spans->ranks : 0, per_gpu && !origin.spans ? origin.rank : -1);
}

bool pattern_matches(std::string_view pattern, std::string_view name) {
  if (pattern.find_first_of("*?") == std::string_view::npos) return prefix_matches(pattern, name);
  return glob_matches(pattern, name);
}

ThresholdRule parse_threshold_rule(std::string_view text) {
  const size_t eq = text.rfind('=');
  const std::string what = "--threshold-for '" + std::string(text) + "'";
  if (eq == std::string_view::npos || eq == 0 || eq + 1 == text.size()) {
    throw InputError(what + ": expected PATTERN=PCT, e.g. gemm/simt=5 or 'gemm/*/fp8/*=4'");
  }
  const std::string number(text.substr(eq + 1));
  size_t used = 0;
  double pct = 0;
  try {
    pct = std::stod(number, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != number.size() || !(pct >= 0 && pct < 1000)) {
    throw InputError(what + ": '" + number + "' is not a percentage from 0 to 1000");
  }
  return {std::string(text.substr(0, eq)), pct / 100.0};
}

double threshold_for(std::string_view name, const Options& options) {
  double threshold = options.threshold;
  size_t best = 0;
  bool found = false;
  for (const ThresholdRule& rule : options.thresholds) {
    if (pattern_matches(rule.pattern, name) && (!found || rule.pattern.size() >= best)) {
      threshold = rule.threshold;
      best = rule.pattern.size();
      found = true;
    }
  }
  return threshold;
}

bool Verdict::fails_gate(const Options& options) const {
  return state == State::now_failing || state == State::slower ||
         (state == State::environment_changed && options.fail_on_environment);
}

size_t Comparison::count(State state) const {
  const auto it = counts.find(state);
  return it == counts.end() ? 0 : it->second;
}

bool Comparison::passed() const {
  return std::none_of(verdicts.begin(), verdicts.end(), [&](const Verdict& v) { return v.fails_gate(options); });
}

Comparison compare(const Input& input, const Options& options) {
  Comparison result;
  result.options = options;

  std::set<std::string> baseline_models, current_models;
  for (const ResultRow& row : input.baseline) baseline_models.insert(row.origin.device_name);
  for (const ResultRow& row : input.current) current_models.insert(row.origin.device_name);
  result.pair_by_device = baseline_models.size() > 1 || current_models.size() > 1;
  // GPU by GPU where both sides have several: GPU 3 tonight against GPU 3 last night. One side of
  // one GPU (or of one process's files, which carry no position) is compared with the other pooled.
  result.pair_by_gpu = several_ranks(input.baseline) && several_ranks(input.current);

  std::map<Key, Pair> pairs;
  auto key_of = [&](const ResultRow& row) {
    const RowOrigin& o = row.origin;
    return Key{result.pair_by_device ? o.device_name : "", row.name, row.mode, o.spans ? o.spans->ranks : 0,
               result.pair_by_gpu && !o.spans ? o.rank : -1};
  };
  for (const ResultRow& row : input.baseline) pairs[key_of(row)].baseline.push_back(&row);
  for (const ResultRow& row : input.current) pairs[key_of(row)].current.push_back(&row);

  // First pass: what each side says, and which benchmarks have times on both sides.
  std::vector<Verdict> verdicts;
  std::vector<size_t> measured;  // indices into verdicts
  for (const auto& [key, pair] : pairs) {
    Verdict v;
    v.name = key.name;
    v.mode = key.mode;
    v.device = key.device;
    v.position = position_text(key.span_ranks, key.position_rank);
    v.job_wide = key.span_ranks > 0;
    v.threshold = threshold_for(key.name, options);
    v.baseline = summarize(pair.baseline);
    v.current = summarize(pair.current);
    const Side& b = v.baseline;
    const Side& c = v.current;
    if (!v.position.empty()) v.gpu = position_gpu(c, b);
    if (b.rows && c.rows) {
      v.environment = environment_changes(environments_of(input.baseline_environment, pair.baseline),
                                          environments_of(input.current_environment, pair.current));
      for (EnvironmentChange& change : telemetry_changes(b, c, options)) v.environment.push_back(std::move(change));
    }

    if (!b.rows) {
      if (c.failing) {
        v.state = State::now_failing;
        v.reason = "not in the baseline, " + c.failure;
      } else if (!c.ok) {
        v.state = State::skipped;
        v.reason = "skipped: " + c.skip_reason + " (not in the baseline)";
      } else {
        v.state = State::new_benchmark;
        v.reason = "not in the baseline";
      }
    } else if (!c.rows) {
      v.state = State::gone;
      v.reason = "not in the current results";
    } else if (c.failing) {
      v.state = b.failing ? State::still_failing : State::now_failing;
      v.reason = c.failure;
    } else if (!c.ok) {
      v.state = State::skipped;
      v.reason = "skipped: " + c.skip_reason;
    } else if (b.failing) {
      v.state = State::fixed;
      v.reason = "was " + b.failure;
    } else if (!b.ok) {
      v.state = State::new_benchmark;
      v.reason = "skipped in the baseline: " + b.skip_reason;
    } else if (b.times_s.empty() || c.times_s.empty()) {
      v.state = State::skipped;
      v.reason = "no time measured on the " + std::string(b.times_s.empty() ? "baseline" : "current") + " side";
    } else {
      measured.push_back(verdicts.size());
    }
    verdicts.push_back(std::move(v));
  }

  // The test applies where its smallest attainable p-value can pass BH's bar for the most
  // significant of `compared` benchmarks: fdr / compared. Below that it could never find
  // anything, so the noise rule decides instead, and says so.
  result.compared = measured.size();
  const double bar = options.fdr / static_cast<double>(std::max<size_t>(result.compared, 1));
  for (size_t n = 1; n <= 1000; ++n) {
    if (stats::smallest_attainable_p(n, n) <= bar) {
      result.samples_for_test = n;
      break;
    }
  }
  std::vector<size_t> tested;
  std::vector<double> p_values;
  for (size_t i : measured) {
    Verdict& v = verdicts[i];
    const Side& b = v.baseline;
    const Side& c = v.current;
    v.ratio = *c.median_s / *b.median_s;
    if (b.noise && c.noise) v.noise = std::min(*b.noise, *c.noise);  // nvbench: the smaller noise
    else if (b.noise) v.noise = b.noise;
    else if (c.noise) v.noise = c.noise;
    if (options.resamples > 0 && b.times_s.size() >= 2 && c.times_s.size() >= 2) {
      const uint64_t seed = options.seed ^ stats::fnv1a(v.device + "\n" + v.name + "\n" + v.mode +
                                                        (v.position.empty() ? "" : "\n" + v.position));
      v.interval = stats::bootstrap_median_ratio(b.times_s, c.times_s, options.interval_level, options.resamples, seed);
    }
    if (stats::smallest_attainable_p(b.times_s.size(), c.times_s.size()) <= bar) {
      v.method = Method::u_test;
      v.p = stats::mann_whitney_u(c.times_s, b.times_s).p;
      tested.push_back(i);
      p_values.push_back(*v.p);
    } else {
      v.method = Method::noise_rule;
    }
  }
  result.tested = tested.size();
  const std::vector<double> adjusted = stats::benjamini_hochberg(p_values);
  for (size_t k = 0; k < tested.size(); ++k) verdicts[tested[k]].p_adjusted = adjusted[k];

  for (size_t i : measured) {
    Verdict& v = verdicts[i];
    const double change = *v.ratio - 1;
    const bool significant = v.method == Method::noise_rule || *v.p_adjusted <= options.fdr;
    const bool beyond_threshold = std::abs(change) > v.threshold;
    const bool outside_noise = !v.noise || std::abs(change) > *v.noise;
    const std::string how =
        v.method == Method::u_test
            ? "U test p " + format("%.2g", *v.p) + ", BH " + format("%.2g", *v.p_adjusted)
            : "noise rule (" + std::to_string(v.baseline.times_s.size()) + " vs " +
                  std::to_string(v.current.times_s.size()) + " samples: too few for the U test among " +
                  std::to_string(result.compared) + " benchmarks, which needs " +
                  std::to_string(result.samples_for_test) + " a side)";
    const std::string noise_text = v.noise ? "noise " + percent(*v.noise) : "no noise measured";
    if (!significant) {
      v.state = State::same;
      v.reason = signed_percent(change) + " not significant (" + how + " > " + format("%.2g", options.fdr) + ")";
    } else if (!beyond_threshold) {
      v.state = State::same;
      v.reason = signed_percent(change) + " within the " + percent(v.threshold) + " threshold";
    } else if (!outside_noise) {
      v.state = State::same;
      v.reason = signed_percent(change) + " within the runs' own noise (" + percent(*v.noise) + ")";
    } else if (change > 0) {
      if (has_decisive(v.environment)) {
        v.state = State::environment_changed;
        v.reason = environment_label(v.environment) + "; " + signed_percent(change) + ", " + how;
      } else {
        v.state = State::slower;
        v.reason = signed_percent(change) + " beyond the " + percent(v.threshold) + " threshold and " + noise_text +
                   ", " + how;
      }
    } else {
      v.state = State::faster;
      v.reason = signed_percent(change) + " beyond the " + percent(v.threshold) + " threshold and " + noise_text +
                 ", " + how;
    }
  }

  std::stable_sort(verdicts.begin(), verdicts.end(), [](const Verdict& a, const Verdict& b) {
    return std::tie(a.state, a.name, a.mode, a.device) < std::tie(b.state, b.name, b.mode, b.device);
  });  // stable: the positions of a benchmark stay in rank order
  for (const Verdict& v : verdicts) ++result.counts[v.state];
  result.verdicts = std::move(verdicts);

  // Every GPU of every file against every one: the rows' environments, and a file without rows as itself.
  auto all_environments = [](const std::vector<Environment>& environments, const std::vector<ResultRow>& rows) {
    std::vector<const ResultRow*> pointers;
    std::set<size_t> with_rows;
    for (const ResultRow& row : rows) {
      pointers.push_back(&row);
      with_rows.insert(row.origin.file);
    }
    std::vector<Environment> out = environments_of(environments, pointers);
    for (size_t f = 0; f < environments.size(); ++f) {
      if (!with_rows.count(f)) out.push_back(environments[f]);
    }
    return out;
  };
  result.environment = environment_changes(all_environments(input.baseline_environment, input.baseline),
                                           all_environments(input.current_environment, input.current));
  if (baseline_models != current_models && !baseline_models.empty() && !current_models.empty()) {
    result.environment.push_back({"device " + join(baseline_models, ", ") + " -> " + join(current_models, ", ")});
  }
  return result;
}

Comparison compare_files(const std::vector<ResultFile>& baseline, const std::vector<ResultFile>& current,
                         const Options& options) {
  Input input;
  input.baseline = measurement_rows(baseline);
  input.current = measurement_rows(current);
  for (const ResultFile& f : baseline) input.baseline_environment.push_back(environment_of(f));
  for (const ResultFile& f : current) input.current_environment.push_back(environment_of(f));
  Comparison result = compare(input, options);
  for (const ResultFile& f : baseline) result.baseline_files.push_back(f.path.string());
  for (const ResultFile& f : current) result.current_files.push_back(f.path.string());
  return result;
}

}  // namespace aicbench::compare
