#include "reports/accept.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>

#include "reports/json_input.hpp"
#include "reports/schemas.hpp"
#include "reports/text_format.hpp"

namespace aicbench::accept {

namespace {

using json = nlohmann::json;

// The rules in the order a spec's schema lists them; the key is the clause's field for the rule.
constexpr std::pair<Rule, const char*> kRules[] = {
    {Rule::sku, "sku"},
    {Rule::gpus_per_node, "gpus_per_node"},
    {Rule::suite_complete, "suite_complete"},
    {Rule::validation_passed, "validation_passed"},
    {Rule::no_errors, "no_errors"},
    {Rule::min_throughput, "min_throughput"},
    {Rule::max_temperature, "max_temperature"},
    {Rule::min_sm_clock, "min_sm_clock"},
    {Rule::health_clean, "health_clean"},
    {Rule::health_min, "health_min"},
    {Rule::burnin, "burnin"},
};

// The clock-limiting reasons a burn-in's `throttle_reasons` defaults to: the hardware's own
// (thermal, slowdown, power brake), not power management's (harness/families/burnin.hpp).
const std::vector<std::string> kHardwareThrottleReasons = {"hw_slowdown", "hw_thermal_slowdown", "sw_thermal_slowdown",
                                                           "hw_power_brake_slowdown"};

// min_throughput's units: the field that gives the threshold, and the row's value it holds.
constexpr std::pair<Unit, const char*> kThroughputUnits[] = {
    {Unit::tflops, "tflops"}, {Unit::gbps, "gbps"}, {Unit::pct_of_peak, "pct_of_peak"}};

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

std::string number_text(double v) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.4g", v);
  return buffer;
}

std::string quantity(double v, Unit unit) {
  const std::string text = unit_text(unit);
  return number_text(v) + (text.empty() ? "" : " " + text);
}

// ---------------------------------------------------------------------------------------------
// Reading a spec
// ---------------------------------------------------------------------------------------------

class SpecReader {
 public:
  SpecReader(const json& j, const std::string& origin) : j_(j), origin_(origin) {}

  Spec read() {
    acceptance_spec_schema().validate(j_, origin_);
    spec_.path = origin_;
    spec_.name = j_["name"].get<std::string>();
    spec_.description = j_["description"].get<std::string>();
    if (j_.contains("sources")) spec_.sources = j_["sources"].get<std::vector<std::string>>();
    const json& sku = j_["sku"];
    spec_.sku_name = sku["name"].get<std::string>();
    spec_.backend = sku["backend"].get<std::string>();
    if (sku.contains("match")) spec_.sku_match = sku["match"].get<std::vector<std::string>>();
    if (sku.contains("exclude")) spec_.sku_exclude = sku["exclude"].get<std::vector<std::string>>();
    const json& suite = j_["suite"];
    spec_.suite = suite["name"].get<std::string>();
    spec_.suite_version = suite["version"].get<int>();
    spec_.suite_benchmarks = suite["benchmarks"].get<std::vector<std::string>>();
    for (size_t i = 0; i < spec_.suite_benchmarks.size(); ++i) {
      for (size_t k = 0; k < i; ++k) {
        if (spec_.suite_benchmarks[k] == spec_.suite_benchmarks[i]) {
          fail(json_path_index("suite.benchmarks", i),
               "repeats '" + spec_.suite_benchmarks[i] + "' (suite.benchmarks[" + std::to_string(k) + "]); list each benchmark once");
        }
      }
    }
    const json& clauses = j_["clauses"];
    for (size_t i = 0; i < clauses.size(); ++i) spec_.clauses.push_back(read_clause(clauses[i], json_path_index("clauses", i)));
    return spec_;
  }

 private:
  [[noreturn]] void fail(const std::string& field, const std::string& what) const {
    throw InputError(origin_ + ": field '" + field + "' " + what);
  }

  // The suite's benchmarks that `pattern` selects; none is an error: a typo would otherwise make
  // a clause that checks nothing.
  std::vector<std::string> selected(const std::string& pattern, const std::string& field) const {
    std::vector<std::string> names;
    for (const std::string& name : spec_.suite_benchmarks) {
      if (benchmark_matches(pattern, name)) names.push_back(name);
    }
    if (names.empty()) {
      const std::string nearest = nearest_word(pattern, spec_.suite_benchmarks);
      fail(field, "is '" + pattern + "', which selects none of suite.benchmarks" +
                      (nearest.empty() ? "" : "; did you mean '" + nearest + "'?") +
                      " (a benchmark name, or a prefix of names that ends at a '/')");
    }
    return names;
  }

  Clause read_clause(const json& c, const std::string& where) {
    Clause clause;
    clause.id = c["id"].get<std::string>();
    clause.contract = c["contract"].get<std::string>();
    for (size_t k = 0; k < spec_.clauses.size(); ++k) {
      if (spec_.clauses[k].id == clause.id) {
        fail(where + ".id", "is '" + clause.id + "', the id of clauses[" + std::to_string(k) +
                                "] too; each clause has an id of its own");
      }
    }
    std::vector<std::string> given, all;
    for (const auto& [rule, key] : kRules) {
      all.push_back(key);
      if (c.contains(key)) {
        given.push_back(key);
        clause.rule = rule;
      }
    }
    if (given.empty()) fail(where, "(clause '" + clause.id + "') gives no rule; expected one of " + reports::join(all, ", "));
    if (given.size() > 1) {
      fail(where, "(clause '" + clause.id + "') gives " + std::to_string(given.size()) + " rules (" + reports::join(given, ", ") +
                      "); a clause enforces exactly one: give each its own clause");
    }
    const std::string field = json_path_join(where, given.front());
    const json& p = c[given.front()];
    if (p.contains("benchmark")) clause.benchmark = p["benchmark"].get<std::string>();
    const std::vector<std::string> scope =
        clause.benchmark.empty() ? std::vector<std::string>{} : selected(clause.benchmark, json_path_join(field, "benchmark"));

    switch (clause.rule) {
      case Rule::sku:
      case Rule::no_errors:
        break;
      case Rule::gpus_per_node:
        clause.threshold = p["count"].get<double>();
        clause.unit = Unit::gpus;
        break;
      case Rule::suite_complete: {
        if (p.contains("except")) clause.except = p["except"].get<std::vector<std::string>>();
        for (size_t e = 0; e < clause.except.size(); ++e) selected(clause.except[e], json_path_index(json_path_join(field, "except"), e));
        for (const std::string& name : spec_.suite_benchmarks) {
          const bool excepted = std::any_of(clause.except.begin(), clause.except.end(),
                                            [&](const std::string& pattern) { return benchmark_matches(pattern, name); });
          if (!excepted) clause.required.push_back(name);
        }
        break;
      }
      case Rule::validation_passed:
        clause.required = scope;
        break;
      case Rule::min_throughput: {
        std::vector<std::string> units;
        for (const auto& [unit, key] : kThroughputUnits) {
          if (p.contains(key)) {
            units.push_back(key);
            clause.unit = unit;
            clause.threshold = p[key].get<double>();
          }
        }
        if (units.size() != 1) {
          fail(field, units.empty() ? "gives no minimum; expected one of tflops, gbps, pct_of_peak"
                                    : "gives " + reports::join(units, " and ") + "; a clause holds one minimum: tflops, gbps or pct_of_peak");
        }
        clause.required = scope;
        break;
      }
      case Rule::max_temperature:
        clause.threshold = p["celsius"].get<double>();
        clause.unit = Unit::celsius;
        break;
      case Rule::min_sm_clock:
        clause.threshold = p["mhz"].get<double>();
        clause.unit = Unit::mhz;
        break;
      case Rule::health_clean:
        clause.fields = p["fields"].get<std::vector<std::string>>();
        break;
      case Rule::health_min:
        clause.minimums = p["values"].get<std::map<std::string, double>>();
        if (clause.minimums.empty()) fail(json_path_join(field, "values"), "names no health field; expected at least one, e.g. {\"persistence_mode\": 1}");
        for (const auto& [name, minimum] : clause.minimums) {
          const bool plain = !name.empty() && name.size() <= 64 &&
                             std::all_of(name.begin(), name.end(), [](unsigned char c) { return std::isalnum(c) || c == '_'; });
          if (!plain) fail(json_path_join(field, "values"), "names '" + name + "', which is not a health field's name (letters, digits, '_')");
        }
        break;
      case Rule::burnin:
        if (p.contains("min_sm_clock_mhz")) clause.burnin_min_sm_clock_mhz = p["min_sm_clock_mhz"].get<double>();
        if (p.contains("max_temp_c")) clause.burnin_max_temp_c = p["max_temp_c"].get<double>();
        clause.throttle_reasons = p.contains("throttle_reasons") ? p["throttle_reasons"].get<std::vector<std::string>>()
                                                                 : kHardwareThrottleReasons;
        clause.required = scope;
        break;
    }
    return clause;
  }

  const json& j_;
  const std::string& origin_;
  Spec spec_;
};

// ---------------------------------------------------------------------------------------------
// Evaluating
// ---------------------------------------------------------------------------------------------

const char* kUnknownHost = "(unknown host)";

std::optional<double> row_value(const ResultRow& row, Unit unit) {
  switch (unit) {
    case Unit::tflops: return row.tflops;
    case Unit::gbps: return row.gbps;
    case Unit::pct_of_peak: return row.pct_of_peak;
    default: return std::nullopt;
  }
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

// Why a benchmark that has rows did not produce a number: its first row that is not ok.
std::optional<Violation> not_ok(const std::string& name, const std::vector<ResultRow>& rows) {
  for (const ResultRow& row : rows) {
    if (row.ok()) continue;
    Violation v;
    v.benchmark = name;
    v.detail = row.reason;
    if (row.status == kStatusFailed) {
      v.problem = Problem::failed_validation;
      v.value = row.max_rel_err;
      v.threshold = row.tolerance;
    } else if (row.status == kStatusSkipped) {
      v.problem = Problem::not_run;
    } else {
      v.problem = Problem::error;
    }
    return v;
  }
  return std::nullopt;
}

}  // namespace

const char* rule_name(Rule rule) {
  for (const auto& [r, key] : kRules) {
    if (r == rule) return key;
  }
  return "?";
}

const char* unit_text(Unit unit) {
  switch (unit) {
    case Unit::tflops: return "TFLOP/s";
    case Unit::gbps: return "GB/s";
    case Unit::pct_of_peak: return "% of peak";
    case Unit::celsius: return "°C";
    case Unit::mhz: return "MHz";
    case Unit::gpus: return "GPUs";
    case Unit::none: break;
  }
  return "";
}

const char* problem_name(Problem problem) {
  switch (problem) {
    case Problem::missing: return "missing";
    case Problem::not_run: return "not_run";
    case Problem::failed_validation: return "failed_validation";
    case Problem::error: return "error";
    case Problem::below_minimum: return "below_minimum";
    case Problem::above_maximum: return "above_maximum";
    case Problem::not_recorded: return "not_recorded";
    case Problem::wrong_count: return "wrong_count";
    case Problem::wrong_device: return "wrong_device";
    case Problem::wrong_suite: return "wrong_suite";
    case Problem::incomplete: return "incomplete";
    case Problem::nonzero: return "nonzero";
    case Problem::throttled: return "throttled";
  }
  return "?";
}

std::string Clause::summary() const {
  std::string s = rule_name(rule);
  if (!benchmark.empty()) s += " " + benchmark;
  switch (rule) {
    case Rule::gpus_per_node: s += " = " + number_text(*threshold); break;
    case Rule::min_throughput:
    case Rule::min_sm_clock: s += " >= " + quantity(*threshold, unit); break;
    case Rule::max_temperature: s += " <= " + quantity(*threshold, unit); break;
    case Rule::suite_complete:
      if (!except.empty()) s += " except " + reports::join(except, ", ");
      break;
    case Rule::health_clean: s += " " + reports::join(fields, ", "); break;
    case Rule::health_min: {
      std::vector<std::string> parts;
      for (const auto& [name, minimum] : minimums) parts.push_back(name + " >= " + number_text(minimum));
      s += " " + reports::join(parts, ", ");
      break;
    }
    case Rule::burnin:
      if (burnin_min_sm_clock_mhz) s += ", SM clock >= " + quantity(*burnin_min_sm_clock_mhz, Unit::mhz);
      if (burnin_max_temp_c) s += ", temperature <= " + quantity(*burnin_max_temp_c, Unit::celsius);
      if (!throttle_reasons.empty()) s += ", never " + reports::join(throttle_reasons, ", ");
      break;
    default: break;
  }
  return s;
}

bool benchmark_matches(std::string_view pattern, std::string_view name) {
  if (pattern.empty()) return true;
  if (name.substr(0, pattern.size()) != pattern) return false;
  return name.size() == pattern.size() || pattern.back() == '/' || name[pattern.size()] == '/';
}

bool sku_matches(const Spec& spec, std::string_view device_name) {
  const std::string name = lower(device_name);
  auto contains = [&](const std::string& pattern) { return name.find(lower(pattern)) != std::string::npos; };
  return (spec.sku_match.empty() || std::any_of(spec.sku_match.begin(), spec.sku_match.end(), contains)) &&
         std::none_of(spec.sku_exclude.begin(), spec.sku_exclude.end(), contains);
}

Spec parse_spec(const json& j, const std::string& origin) { return SpecReader(j, origin).read(); }

Spec load_spec(const std::filesystem::path& path) {
  return parse_spec(read_json_file(path, "acceptance spec", kSpecFileLimits), path.string());
}

std::string describe(const Violation& v) {
  const std::string at = v.benchmark.empty() ? "" : v.benchmark + ": ";
  auto detail = [&](const std::string& before) { return v.detail.empty() ? std::string() : before + v.detail; };
  switch (v.problem) {
    case Problem::missing: return at + "missing: no result" + detail("; ");
    case Problem::not_run: return at + "skipped, not run" + detail(": ");
    case Problem::failed_validation:
      // The error against the tolerance where that is why; otherwise (a burn-in whose later output
      // differed, or that throttled) the reason the run gave.
      return at + "failed validation" +
             (v.value && v.threshold && *v.value > *v.threshold
                  ? ": max_rel_err " + number_text(*v.value) + " above its tolerance " + number_text(*v.threshold)
                  : detail(": "));
    case Problem::error: return at + "error" + detail(": ");
    case Problem::below_minimum:
      return at + quantity(*v.value, v.unit) + ", below the minimum " + quantity(*v.threshold, v.unit);
    case Problem::above_maximum:
      return at + quantity(*v.value, v.unit) + ", above the maximum " + quantity(*v.threshold, v.unit);
    case Problem::not_recorded: return at + "not recorded" + detail(": ");
    case Problem::wrong_count:
      return number_text(*v.value) + (*v.value == 1 ? " GPU" : " GPUs") + " reported results, expected exactly " +
             number_text(*v.threshold);
    case Problem::wrong_device: return "wrong device: " + v.detail;
    case Problem::wrong_suite: return "wrong suite: " + v.detail;
    case Problem::incomplete: return "incomplete run: " + v.detail;
    case Problem::nonzero:
      return "health counter " + v.detail + " is " + number_text(*v.value) + ", expected " + number_text(v.threshold.value_or(0));
    case Problem::throttled: return at + "throttled: " + v.detail;
  }
  return at + problem_name(v.problem);
}

bool GpuVerdict::passed() const {
  return std::all_of(outcomes.begin(), outcomes.end(), [](const Outcome& o) { return o.passed(); });
}

bool NodeVerdict::passed() const {
  return std::all_of(outcomes.begin(), outcomes.end(), [](const Outcome& o) { return o.passed(); }) &&
         failed_gpus() == 0;
}

size_t NodeVerdict::failed_gpus() const {
  return std::count_if(gpus.begin(), gpus.end(), [](const GpuVerdict& g) { return !g.passed(); });
}

size_t Verdict::passed_nodes() const {
  return std::count_if(nodes.begin(), nodes.end(), [](const NodeVerdict& n) { return n.passed(); });
}

// The clauses applied to one GPU's measurements: a function per rule, one switch choosing.
struct Evaluation {
  const Spec& spec;
  const std::vector<std::filesystem::path>& paths;

  Outcome gpu_outcome(size_t index, const Measurements::Gpu& gpu) const {
    const Clause& clause = spec.clauses[index];
    Outcome outcome;
    outcome.clause = index;
    switch (clause.rule) {
      case Rule::sku: sku(gpu, outcome); break;
      case Rule::suite_complete: suite_complete(clause, gpu, outcome); break;
      case Rule::validation_passed: validation_passed(clause, gpu, outcome); break;
      case Rule::no_errors: no_errors(clause, gpu, outcome); break;
      case Rule::min_throughput: min_throughput(clause, gpu, outcome); break;
      case Rule::max_temperature:
        telemetry_limit(clause, gpu, outcome, &ResultRow::temp_c, Problem::above_maximum, "temperature");
        break;
      case Rule::min_sm_clock:
        telemetry_limit(clause, gpu, outcome, &ResultRow::sm_clock_mhz, Problem::below_minimum, "SM clock");
        break;
      case Rule::health_clean: health_clean(clause, gpu, outcome); break;
      case Rule::health_min: health_min(clause, gpu, outcome); break;
      case Rule::burnin: burnin(clause, gpu, outcome); break;
      case Rule::gpus_per_node: break;  // node-level
    }
    return outcome;
  }

  void sku(const Measurements::Gpu& gpu, Outcome& outcome) const {
    for (const auto& [backend, device] : gpu.devices) {
      Violation v;
      v.problem = Problem::wrong_device;
      if (backend != spec.backend) {
        v.detail = "results from the " + backend + " backend (" + device + "), expected the " + spec.backend + " backend";
      } else if (!sku_matches(spec, device)) {
        auto quoted = [](const std::vector<std::string>& patterns) {
          std::vector<std::string> q;
          for (const auto& p : patterns) q.push_back("'" + p + "'");
          return reports::join(q, " or ");
        };
        v.detail = "'" + device + "', expected " + spec.sku_name + " (a name containing " + quoted(spec.sku_match) +
                   (spec.sku_exclude.empty() ? "" : ", without " + quoted(spec.sku_exclude)) + ")";
      } else {
        continue;
      }
      outcome.violations.push_back(std::move(v));
    }
  }

  void suite_complete(const Clause& clause, const Measurements::Gpu& gpu, Outcome& outcome) const {
    for (const RunFacts& run : gpu.runs) {
      const std::string file = paths[run.origin.file].string();
      if (run.suite != spec.suite || run.suite_version != spec.suite_version) {
        Violation v;
        v.problem = Problem::wrong_suite;
        v.detail = run.suite != spec.suite
                       ? file + " ran suite '" + run.suite + "', expected '" + spec.suite + "'"
                       : file + " ran version " + std::to_string(run.suite_version) + " of suite '" + run.suite +
                             "', the spec is for version " + std::to_string(spec.suite_version);
        outcome.violations.push_back(std::move(v));
      }
      if (!run.suite_file.empty() && run.suite == spec.suite) {
        // Its own file may carry the suite's name and version and still change what is measured.
        Violation v;
        v.problem = Problem::wrong_suite;
        v.detail = file + " ran suite '" + run.suite + "' from its own file " + run.suite_file +
                   ", not the installed specs/suites/" + run.suite + ".json";
        outcome.violations.push_back(std::move(v));
      }
      if (!run.complete) {
        outcome.violations.push_back({Problem::incomplete, "", std::nullopt, std::nullopt, Unit::none,
                                      file + " stopped before the end of its run (complete: false)"});
      }
    }
    for (const std::string& name : clause.required) {
      const auto rows = gpu.rows.find(name);
      if (rows == gpu.rows.end()) {
        outcome.violations.push_back({Problem::missing, name, std::nullopt, std::nullopt, Unit::none, ""});
      } else if (std::all_of(rows->second.begin(), rows->second.end(),
                             [](const ResultRow& r) { return r.status == kStatusSkipped; })) {
        outcome.violations.push_back(
            {Problem::not_run, name, std::nullopt, std::nullopt, Unit::none, rows->second.front().reason});
      }
    }
  }

  void validation_passed(const Clause& clause, const Measurements::Gpu& gpu, Outcome& outcome) const {
    for (const auto& [name, rows] : gpu.rows) {
      if (!benchmark_matches(clause.benchmark, name)) continue;
      const auto failed = std::find_if(rows.begin(), rows.end(), [](const ResultRow& r) { return r.status == kStatusFailed; });
      if (failed != rows.end()) outcome.violations.push_back(*not_ok(name, {*failed}));
    }
    // Scoped to some benchmarks, the clause asks that they were validated at all: run, not
    // skipped, not lost to an error.
    for (const std::string& name : clause.required) {
      const auto rows = gpu.rows.find(name);
      if (rows == gpu.rows.end()) {
        outcome.violations.push_back({Problem::missing, name, std::nullopt, std::nullopt, Unit::none, ""});
        continue;
      }
      const bool validated = std::any_of(rows->second.begin(), rows->second.end(), [](const ResultRow& r) {
        return r.status == kStatusOk || r.status == kStatusFailed;
      });
      if (!validated) outcome.violations.push_back(*not_ok(name, rows->second));
    }
  }

  void no_errors(const Clause& clause, const Measurements::Gpu& gpu, Outcome& outcome) const {
    for (const auto& [name, rows] : gpu.rows) {
      if (!benchmark_matches(clause.benchmark, name)) continue;
      const auto error = std::find_if(rows.begin(), rows.end(), [](const ResultRow& r) { return r.status == kStatusError; });
      if (error != rows.end()) outcome.violations.push_back(*not_ok(name, {*error}));
    }
  }

  // The benchmarks a clause holds a GPU to: the suite's that match, which must be there, and any
  // others of the GPU's that match (a newer suite's), held to the same terms.
  std::set<std::string> names_in_scope(const Clause& clause, const Measurements::Gpu& gpu) const {
    std::set<std::string> names(clause.required.begin(), clause.required.end());
    for (const auto& [name, rows] : gpu.rows) {
      if (benchmark_matches(clause.benchmark, name)) names.insert(name);
    }
    return names;
  }

  void min_throughput(const Clause& clause, const Measurements::Gpu& gpu, Outcome& outcome) const {
    for (const std::string& name : names_in_scope(clause, gpu)) {
      const auto rows = gpu.rows.find(name);
      if (rows == gpu.rows.end()) {
        outcome.violations.push_back({Problem::missing, name, std::nullopt, std::nullopt, clause.unit, ""});
        continue;
      }
      if (auto v = not_ok(name, rows->second)) {
        outcome.violations.push_back(std::move(*v));
        continue;
      }
      std::vector<double> values;
      for (const ResultRow& row : rows->second) {
        if (auto value = row_value(row, clause.unit)) values.push_back(*value);
      }
      if (values.size() != rows->second.size()) {
        outcome.violations.push_back({Problem::not_recorded, name, std::nullopt, clause.threshold, clause.unit,
                                      std::string("the result has no ") + unit_text(clause.unit) +
                                          (clause.unit == Unit::pct_of_peak ? " (no datasheet matched the device when it ran)" : "")});
        continue;
      }
      // With repetitions, the median of them: one slow repetition of several is noise, not the GPU.
      const double value = median(values);
      if (value < *clause.threshold) {
        outcome.violations.push_back({Problem::below_minimum, name, value, clause.threshold, clause.unit, ""});
      }
    }
  }

  // max_temperature and min_sm_clock: the telemetry summary of every measured benchmark in
  // scope, each benchmark's worst repetition held to the limit.
  void telemetry_limit(const Clause& clause, const Measurements::Gpu& gpu, Outcome& outcome,
                       std::optional<double> ResultRow::*field, Problem beyond, const char* what) const {
    const bool is_max = beyond == Problem::above_maximum;
    bool recorded = false;
    for (const auto& [name, rows] : gpu.rows) {
      if (!benchmark_matches(clause.benchmark, name)) continue;
      std::optional<double> worst;
      for (const ResultRow& row : rows) {
        if (!(row.*field)) continue;
        const double v = *(row.*field);
        if (!worst || (is_max ? v > *worst : v < *worst)) worst = v;
      }
      if (!worst) continue;
      recorded = true;
      if (is_max ? *worst > *clause.threshold : *worst < *clause.threshold) {
        outcome.violations.push_back({beyond, name, *worst, clause.threshold, clause.unit, ""});
      }
    }
    if (!recorded) {
      outcome.violations.push_back({Problem::not_recorded, clause.benchmark, std::nullopt, clause.threshold, clause.unit,
                                    std::string("no ") + what + " was recorded while measuring (no GPU telemetry)"});
    }
  }

  // A health field's value over the GPU's files: the largest (counters only grow: a later file
  // knows more) or, with `lowest`, the smallest; nullopt when no file records it.
  std::optional<double> health_value(const Measurements::Gpu& gpu, const std::string& field, bool lowest) const {
    std::optional<double> value;
    for (const RunFacts& run : gpu.runs) {
      const auto counters = run.gpu_health.find(gpu.id);
      if (counters == run.gpu_health.end()) continue;
      const auto counter = counters->second.find(field);
      if (counter == counters->second.end()) continue;
      value = lowest ? std::min(value.value_or(counter->second), counter->second)
                     : std::max(value.value_or(counter->second), counter->second);
    }
    return value;
  }

  // Why no file records a health field: the reason a file gives (NVML's answer), else "no health
  // block" (a result from before health was recorded, or the cpu backend).
  std::string health_missing(const Measurements::Gpu& gpu, const std::string& field) const {
    for (const RunFacts& run : gpu.runs) {
      const auto notes = run.gpu_health_missing.find(gpu.id);
      if (notes == run.gpu_health_missing.end()) continue;
      if (auto why = notes->second.find(field); why != notes->second.end()) return why->second;
      if (auto why = notes->second.find(""); why != notes->second.end()) return "health unavailable: " + why->second;
    }
    return "the result records no health for this GPU";
  }

  void health_clean(const Clause& clause, const Measurements::Gpu& gpu, Outcome& outcome) const {
    // Fields not recorded, each run of fields with the same reason said once:
    // "not recorded: a, b (reason); c (another reason)".
    std::vector<std::pair<std::vector<std::string>, std::string>> unrecorded;
    for (const std::string& field : clause.fields) {
      const std::optional<double> value = health_value(gpu, field, /*lowest=*/false);
      if (!value) {
        const std::string why = health_missing(gpu, field);
        if (unrecorded.empty() || unrecorded.back().second != why) unrecorded.push_back({{}, why});
        unrecorded.back().first.push_back(field);
      } else if (*value != 0) {
        outcome.violations.push_back({Problem::nonzero, "", *value, 0.0, Unit::none, field});
      }
    }
    std::vector<std::string> parts;
    for (const auto& [fields, why] : unrecorded) parts.push_back(reports::join(fields, ", ") + " (" + why + ")");
    if (!parts.empty()) outcome.note = "not recorded: " + reports::join(parts, "; ");
  }

  // Each named value recorded and at least its minimum (a state: 1 for on). Unlike a counter that
  // must be zero, a minimum needs evidence: a value no file records fails.
  void health_min(const Clause& clause, const Measurements::Gpu& gpu, Outcome& outcome) const {
    for (const auto& [field, minimum] : clause.minimums) {
      const std::optional<double> value = health_value(gpu, field, /*lowest=*/true);
      if (!value) {
        outcome.violations.push_back({Problem::not_recorded, "", std::nullopt, minimum, Unit::none,
                                      "health " + field + ": " + health_missing(gpu, field)});
      } else if (*value < minimum) {
        outcome.violations.push_back({Problem::below_minimum, "", *value, minimum, Unit::none, "health " + field});
      }
    }
  }

  // The burn-in of every matching benchmark: there, with right answers, never limited by a reason
  // the clause forbids, and within its clock and temperature limits.
  void burnin(const Clause& clause, const Measurements::Gpu& gpu, Outcome& outcome) const {
    for (const std::string& name : names_in_scope(clause, gpu)) {
      const auto rows = gpu.rows.find(name);
      if (rows == gpu.rows.end()) {
        outcome.violations.push_back({Problem::missing, name, std::nullopt, std::nullopt, Unit::none, ""});
        continue;
      }
      for (const ResultRow& row : rows->second) {
        if (!row.burnin) {
          // No burn-in block: it never started (skipped, an error, a first output that failed
          // validation), or a row of another family the pattern matched.
          auto v = not_ok(name, {row});
          outcome.violations.push_back(v ? std::move(*v)
                                         : Violation{Problem::not_recorded, name, std::nullopt, std::nullopt, Unit::none,
                                                     "the row has no burn-in block (aicbench.burnin)"});
          continue;
        }
        const ResultRow::Burnin& b = *row.burnin;
        const size_t before = outcome.violations.size();
        if (b.mismatched_elements > 0) {
          outcome.violations.push_back({Problem::failed_validation, name, std::nullopt, std::nullopt, Unit::none,
                                        row.reason.empty() ? std::to_string(b.mismatched_elements) +
                                                                 " elements differed from the first output"
                                                           : row.reason});
        }
        for (const std::string& reason : clause.throttle_reasons) {
          const auto seen = b.throttle.find(reason);
          if (seen == b.throttle.end()) continue;
          outcome.violations.push_back({Problem::throttled, name, std::nullopt, std::nullopt, Unit::none,
                                        reason + " in " + std::to_string(seen->second.intervals) + " of " +
                                            std::to_string(b.intervals) + " intervals (first at t = " +
                                            number_text(seen->second.first_t_s) + " s)"});
        }
        if (clause.burnin_min_sm_clock_mhz) {
          if (!b.min_sm_clock_mhz) {
            outcome.violations.push_back({Problem::not_recorded, name, std::nullopt, clause.burnin_min_sm_clock_mhz,
                                          Unit::mhz, "no SM clock was recorded during the burn-in (no GPU telemetry)"});
          } else if (*b.min_sm_clock_mhz < *clause.burnin_min_sm_clock_mhz) {
            outcome.violations.push_back(
                {Problem::below_minimum, name, *b.min_sm_clock_mhz, clause.burnin_min_sm_clock_mhz, Unit::mhz,
                 b.min_sm_clock_t_s ? "lowest interval, at t = " + number_text(*b.min_sm_clock_t_s) + " s" : ""});
          }
        }
        if (clause.burnin_max_temp_c) {
          if (!b.max_temp_c) {
            outcome.violations.push_back({Problem::not_recorded, name, std::nullopt, clause.burnin_max_temp_c,
                                          Unit::celsius, "no temperature was recorded during the burn-in (no GPU telemetry)"});
          } else if (*b.max_temp_c > *clause.burnin_max_temp_c) {
            outcome.violations.push_back(
                {Problem::above_maximum, name, *b.max_temp_c, clause.burnin_max_temp_c, Unit::celsius, ""});
          }
        }
        // The run's own verdict failed for a reason none of the above names (its clock floor of
        // 75 % of the maximum): that reason.
        if (!b.passed && outcome.violations.size() == before) {
          outcome.violations.push_back({Problem::failed_validation, name, std::nullopt, std::nullopt, Unit::none, row.reason});
        }
      }
    }
  }
};

namespace {

// How a verdict names the GPU a row came from: its UUID, or its rank where none was recorded.
std::string gpu_id(const RowOrigin& origin) {
  return origin.gpu_uuid.empty() ? "rank " + std::to_string(origin.rank) : origin.gpu_uuid;
}

}  // namespace

void Measurements::add(const ResultFile& file) {
  const size_t index = paths_.size();
  paths_.push_back(file.path);
  auto gpu_of = [this](const RowOrigin& origin) -> Gpu& {
    const std::string id = gpu_id(origin);
    Gpu& gpu = nodes_[origin.host.empty() ? kUnknownHost : origin.host][id];
    gpu.id = id;
    gpu.label = origin.unit_label();
    gpu.rank = origin.rank;
    gpu.gpu_index = origin.gpu_index;
    gpu.devices.insert({origin.backend, origin.device_name});
    return gpu;
  };
  // The run's facts (suite, complete, health) belong to every GPU the file holds rows of; a file
  // without rows still places its process's GPU on its node.
  const RunFacts facts = run_facts(file, index);
  if (facts.units.empty()) gpu_of(facts.origin).runs.push_back(facts);
  for (const RowOrigin& unit : facts.units) gpu_of(unit).runs.push_back(facts);
  for (ResultRow& row : result_rows(file, index)) {
    if (row.aggregate) continue;  // the measurements are the evidence; aggregates restate them
    if (row.origin.job_wide()) {
      job_rows_.push_back(std::move(row));
    } else if (node_level_family(row.family)) {
      node_rows_[row.origin.host.empty() ? kUnknownHost : row.origin.host].push_back(std::move(row));
    } else {
      gpu_of(row.origin).rows[row.name].push_back(std::move(row));
    }
  }
}

Verdict Measurements::evaluate(const Spec& spec) const {
  const Evaluation evaluation{spec, paths_};
  Verdict verdict;
  verdict.files = paths_.size();
  verdict.nodes.reserve(nodes_.size());
  for (const auto& [host, gpus] : nodes_) {
    NodeVerdict node;
    node.host = host;
    // The job-wide collectives that ran on this node count for each of its GPUs.
    std::vector<const ResultRow*> job_rows;
    for (const ResultRow& row : job_rows_) {
      const std::vector<std::string>& hosts = row.origin.spans->hosts;
      if (std::find(hosts.begin(), hosts.end(), host) != hosts.end() || (hosts.empty() && host == row.origin.host)) {
        job_rows.push_back(&row);
      }
    }
    // So do the node-level ones (p2p), which the node's first rank measured for all of them; but
    // their telemetry is of the GPU that process watched, and says nothing of the others'.
    const auto node_rows = node_rows_.find(host);
    for (const auto& [id, measured] : gpus) {
      Gpu with_job;
      const bool borrows = !job_rows.empty() || node_rows != node_rows_.end();
      if (borrows) {
        with_job = measured;
        for (const ResultRow* row : job_rows) with_job.rows[row->name].push_back(*row);
        if (node_rows != node_rows_.end()) {
          for (const ResultRow& row : node_rows->second) {
            ResultRow& copy = with_job.rows[row.name].emplace_back(row);
            if (gpu_id(row.origin) == id) continue;
            copy.sm_clock_mhz = copy.power_w = copy.temp_c = copy.energy_j = std::nullopt;
            copy.throttle_reasons.clear();
          }
        }
      }
      const Gpu& gpu = borrows ? with_job : measured;
      GpuVerdict g;
      g.id = id;
      g.label = gpu.label;
      g.rank = gpu.rank;
      g.gpu_index = gpu.gpu_index;
      g.device = gpu.devices.empty() ? "" : gpu.devices.begin()->second;
      for (size_t c = 0; c < spec.clauses.size(); ++c) {
        if (!spec.clauses[c].node_level()) g.outcomes.push_back(evaluation.gpu_outcome(c, gpu));
      }
      node.gpus.push_back(std::move(g));
    }
    std::sort(node.gpus.begin(), node.gpus.end(),
              [](const GpuVerdict& a, const GpuVerdict& b) { return std::tie(a.rank, a.id) < std::tie(b.rank, b.id); });
    for (size_t c = 0; c < spec.clauses.size(); ++c) {
      const Clause& clause = spec.clauses[c];
      if (!clause.node_level()) continue;
      Outcome outcome;
      outcome.clause = c;
      const double count = static_cast<double>(node.gpus.size());
      if (count != *clause.threshold) {
        outcome.violations.push_back({Problem::wrong_count, "", count, clause.threshold, Unit::gpus, ""});
      }
      node.outcomes.push_back(std::move(outcome));
    }
    verdict.nodes.push_back(std::move(node));
  }
  return verdict;
}

Verdict evaluate(const Spec& spec, const std::vector<ResultFile>& files) {
  Measurements measurements;
  for (const ResultFile& file : files) measurements.add(file);
  return measurements.evaluate(spec);
}

}  // namespace aicbench::accept
