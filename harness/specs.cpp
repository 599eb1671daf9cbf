#include "harness/specs.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "collectives/collective_ops.hpp"
#include "harness/file_names.hpp"
#include "reports/json_input.hpp"
#include "reports/result_file.hpp"
#include "reports/schemas.hpp"

namespace aicbench {

namespace fs = std::filesystem;

namespace {

nlohmann::json read_spec_json(const fs::path& path, const std::string& what) {
  return read_json_file(path, what, kSpecFileLimits);
}

// "measurement": {"modes": ["cold", "hot"], "cpu": {<stopping rule>}, "cuda": {<stopping rule>}},
// every part optional; a stopping rule names only the fields it changes. Types, ranges and names
// were checked by the schema.
void parse_measurement(const nlohmann::json& m, Suite& suite) {
  if (m.contains("modes")) {
    suite.modes.clear();
    for (const auto& mode : m["modes"]) {
      const MeasureMode parsed = *parse_measure_mode(mode.get<std::string>());
      if (std::find(suite.modes.begin(), suite.modes.end(), parsed) == suite.modes.end()) suite.modes.push_back(parsed);
    }
  }
  for (const auto& [backend, name] : {std::pair{Backend::cpu, "cpu"}, std::pair{Backend::cuda, "cuda"}}) {
    if (!m.contains(name)) continue;
    const nlohmann::json& given = m[name];
    StoppingRule& rule = suite.rules[backend];
    if (given.contains("min_samples")) rule.min_samples = given["min_samples"].get<int>();
    if (given.contains("min_time_s")) rule.min_time_s = given["min_time_s"].get<double>();
    if (given.contains("max_noise")) rule.max_noise = given["max_noise"].get<double>();
    if (given.contains("timeout_s")) rule.timeout_s = given["timeout_s"].get<double>();
  }
}

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

// A suite name becomes part of a path (specs/suites/<name>.json) and of result file names.
constexpr size_t kMaxSuiteName = 64;

// A shape stands for the product of its parameters' values; this many at most (a suite that
// expands past it is a typo, and would never finish).
constexpr double kMaxShapeCombinations = 100000;

std::string shown_count(double n) {
  std::ostringstream os;
  os << n;
  return os.str();
}

// One parameter of a shape: an integer, a list of integers, or a range {"from", "to", "factor"}
// (types and bounds checked by the schema), each value at least `least` (family_param_minimum:
// 1 for a size, 0 for a flag such as in_place or a GPU index).
template <typename Fail>
Suite::ParamValues parse_param_values(const std::string& name, const nlohmann::json& value, int64_t least,
                                      const std::string& where, Fail fail) {
  Suite::ParamValues pv;
  pv.name = name;
  if (value.is_object()) {
    pv.from = value["from"].get<int64_t>();
    pv.to = value["to"].get<int64_t>();
    pv.factor = value.value("factor", int64_t{2});
    if (pv.to < pv.from) fail(where + ".to", "is " + std::to_string(pv.to) + ", expected at least 'from' (" + std::to_string(pv.from) + ")");
  } else if (value.is_array()) {
    for (const auto& v : value) pv.values.push_back(v.get<int64_t>());
  } else {
    pv.values.push_back(value.get<int64_t>());
  }
  for (int64_t v : pv.factor ? std::vector<int64_t>{pv.from} : pv.values) {
    if (v < least) fail(where, "is " + std::to_string(v) + ", expected at least " + std::to_string(least));
  }
  return pv;
}

}  // namespace

StoppingRule Suite::rule(Backend backend) const {
  auto it = rules.find(backend);
  return it == rules.end() ? StoppingRule{} : it->second;
}

std::vector<std::string> available_suites() {
  std::vector<std::string> names;
  fs::path dir = specs_dir() / "suites";
  if (fs::is_directory(dir)) {
    for (const auto& entry : fs::directory_iterator(dir)) {
      if (entry.path().extension() == ".json") names.push_back(entry.path().stem().string());
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

Suite load_suite(const std::string& name) {
  const std::vector<std::string> valid = available_suites();
  const fs::path path = specs_dir() / "suites" / (name + ".json");
  if (!is_plain_name(name, kMaxSuiteName) || !fs::exists(path)) {
    const std::string shown = name.size() > 80 ? name.substr(0, 77) + "..." : name;
    const std::string nearest = nearest_word(name, valid);
    throw InputError("unknown suite '" + shown + "'" + (nearest.empty() ? "" : " (did you mean '" + nearest + "'?)") +
                     "; valid suites: " +
                     (valid.empty() ? "(none found in " + specs_dir().string() + "/suites)" : joined(valid)));
  }
  Suite suite = load_suite_file(path);
  if (suite.name != name) {
    throw InputError(path.string() + ": field 'name' is '" + suite.name + "', expected '" + name +
                     "', the name of its file");
  }
  return suite;
}

namespace {
std::vector<std::vector<Param>> combinations(const Suite::ShapeSpec& shape, const std::optional<int64_t>& max_bytes);
}  // namespace

Suite load_suite_argument(const std::string& argument) {
  const bool is_path = argument.find('/') != std::string::npos ||
                       (argument.size() > 5 && argument.compare(argument.size() - 5, 5, ".json") == 0);
  if (!is_path) return load_suite(argument);
  std::error_code ec;
  if (!fs::exists(argument, ec)) {
    const std::string shown = argument.size() > 200 ? argument.substr(0, 197) + "..." : argument;
    throw InputError("no suite file '" + shown + "' (a --suite with a '/' or ending in .json is a path); suites by name: " +
                     joined(available_suites()));
  }
  const fs::path absolute = fs::absolute(argument, ec);
  Suite suite = load_suite_file(ec ? fs::path(argument) : absolute.lexically_normal());
  suite.user_file = true;
  return suite;
}

Suite load_suite_file(const fs::path& path) {
  const nlohmann::json json = read_spec_json(path, "suite file");
  suite_format_schema().validate(json, path.string());
  auto fail = [&](const std::string& where, const std::string& what) {
    throw InputError(path.string() + ": field '" + where + "' " + what);
  };
  Suite suite;
  suite.path = path;
  suite.name = json["name"].get<std::string>();
  if (!is_plain_name(suite.name, kMaxSuiteName)) {
    fail("name", "is '" + suite.name + "', expected a plain name: letters, digits, '_', '-' and '.', not starting with '.'");
  }
  suite.version = json["version"].get<int>();
  suite.description = json.value("description", "");
  if (json.contains("measurement")) parse_measurement(json["measurement"], suite);
  if (json.contains("time_budget_s")) suite.time_budget_s = json["time_budget_s"].get<double>();
  const nlohmann::json& groups = json["groups"];
  for (size_t g = 0; g < groups.size(); ++g) {
    const std::string where = "groups[" + std::to_string(g) + "]";
    const nlohmann::json& jg = groups[g];
    Suite::Group group;
    group.family = jg["family"].get<std::string>();
    group.dtypes = jg["dtypes"].get<std::vector<std::string>>();
    group.impls = jg["impls"].get<std::vector<std::string>>();
    const std::vector<std::string> params = family_params(group.family);
    if (params.empty()) {
      std::vector<std::string> families;
      for (const auto& i : implementations()) {
        if (std::find(families.begin(), families.end(), i.family) == families.end()) families.push_back(i.family);
      }
      const std::string nearest = nearest_word(group.family, families);
      fail(where + ".family", "names '" + group.family + "', which is not a benchmark family" +
                                  (nearest.empty() ? "" : "; did you mean '" + nearest + "'?") + " (valid: " +
                                  joined(families) + ")");
    }
    for (const std::string& impl : group.impls) {
      const Implementation* found = find_implementation(group.family, impl);
      if (!found) {
        std::vector<std::string> valid;
        for (const auto& i : implementations()) {
          if (i.family == group.family) valid.push_back(i.impl);
        }
        const std::string nearest = nearest_word(impl, valid);
        fail(where + ".impls", "names '" + impl + "', which is not an implementation of family '" + group.family + "'" +
                                   (nearest.empty() ? "" : "; did you mean '" + nearest + "'?") + " (valid: " +
                                   joined(valid) + ")");
      }
      // A group may list dtypes that only some of its implementations provide (e.g. fp8 is not
      // on mma_sm80); each implementation runs the ones it has, and must have at least one.
      const bool any = std::any_of(group.dtypes.begin(), group.dtypes.end(),
                                   [&](const std::string& d) { return found->provides(d); });
      if (!any) {
        fail(where + ".dtypes", "names none of the dtypes that implementation '" + impl + "' provides (" +
                                    joined(found->dtypes) + ")");
      }
    }
    for (const std::string& dtype : group.dtypes) {
      const bool provided = std::any_of(group.impls.begin(), group.impls.end(), [&](const std::string& impl) {
        return find_implementation(group.family, impl)->provides(dtype);
      });
      if (!provided) fail(where + ".dtypes", "names '" + dtype + "', which none of the group's implementations provides");
    }
    group.min_ranks = jg.value("min_ranks", 1);
    for (const auto& [backend_name, list] : jg["shapes"].items()) {
      const Backend backend = backend_name == "cuda" ? Backend::cuda : Backend::cpu;
      for (size_t s = 0; s < list.size(); ++s) {
        const std::string swhere = where + ".shapes." + backend_name + "[" + std::to_string(s) + "]";
        // Exactly the family's parameters, in the family's order (M, N, K for GEMM), whatever
        // order the object lists them in.
        Suite::ShapeSpec shape;
        double count = 1;  // combinations of the shape's values
        for (const std::string& param : params) {
          if (!list[s].contains(param)) {
            const bool vowel = std::string_view("aeiou").find(group.family.front()) != std::string_view::npos;
            fail(swhere, "has no '" + param + "'; " + (vowel ? "an " : "a ") + group.family + " shape gives " + joined(params));
          }
          shape.push_back(parse_param_values(param, list[s][param], family_param_minimum(group.family, param),
                                             swhere + "." + param, fail));
          count *= static_cast<double>(shape.back().expanded(std::nullopt).size());
        }
        if (count > kMaxShapeCombinations) {
          fail(swhere, "stands for " + shown_count(count) + " combinations of its values, more than " +
                           std::to_string(kMaxShapeCombinations));
        }
        for (const auto& [key, value] : list[s].items()) {
          if (std::find(params.begin(), params.end(), key) == params.end()) {
            const std::string nearest = nearest_word(key, params);
            fail(swhere + "." + key, "is not a parameter of family '" + group.family + "'" +
                                         (nearest.empty() ? "" : "; did you mean '" + nearest + "'?") +
                                         " (valid: " + joined(params) + ")");
          }
        }
        // A shape no machine can run is the suite's mistake, said now rather than as a skipped row.
        for (const std::vector<Param>& combination : combinations(shape, std::nullopt)) {
          if (auto problem = family_shape_problem(group.family, combination)) fail(swhere, "gives a shape no machine can run: " + *problem);
        }
        group.shapes[backend].push_back(std::move(shape));
      }
    }
    suite.groups.push_back(std::move(group));
  }
  return suite;
}

std::vector<int64_t> Suite::ParamValues::expanded(const std::optional<int64_t>& max_bytes) const {
  const bool bytes = name == "bytes";  // the caller passes max_bytes only for a collective's shapes
  std::vector<int64_t> out;
  if (factor > 0) {
    const int64_t last = bytes && max_bytes ? *max_bytes : to;
    for (int64_t v = from; v <= last; v *= factor) {
      out.push_back(v);
      if (v > last / factor) break;  // the next would pass `last` (or overflow)
    }
  } else {
    for (int64_t v : values) {
      if (!(bytes && max_bytes && v > *max_bytes)) out.push_back(v);
    }
  }
  return out;
}

namespace {

// Every combination of the shape's values, the first parameter varying slowest.
std::vector<std::vector<Param>> combinations(const Suite::ShapeSpec& shape, const std::optional<int64_t>& max_bytes) {
  std::vector<std::vector<Param>> out = {{}};
  for (const Suite::ParamValues& pv : shape) {
    std::vector<std::vector<Param>> next;
    const std::vector<int64_t> values = pv.expanded(max_bytes);
    for (const auto& prefix : out) {
      for (int64_t v : values) {
        next.push_back(prefix);
        next.back().push_back({pv.name, v});
      }
    }
    out = std::move(next);
  }
  return out;
}

}  // namespace

std::vector<BenchmarkSpec> Suite::benchmarks(Backend backend) const {
  std::vector<BenchmarkSpec> out;
  for (const Group& group : groups) {
    auto shapes = group.shapes.find(backend);
    if (shapes == group.shapes.end()) continue;
    // Vendor baselines first, whatever order the file lists implementations in.
    std::vector<const Implementation*> impls;
    for (const std::string& name : group.impls) {
      const Implementation* impl = find_implementation(group.family, name);
      if (impl && impl->backend == backend) impls.push_back(impl);
    }
    std::stable_partition(impls.begin(), impls.end(), [](auto* i) { return i->vendor; });
    if (parse_collective_op(group.family)) {
      // Collectives in nccl-tests' order: each implementation's sweep of sizes in turn, out of
      // place and in place side by side, so that `--console nccl-tests` prints one table per
      // implementation and dtype. Always timed back to back (harness/collective_measurement.hpp).
      for (const Implementation* impl : impls) {
        for (const std::string& dtype : group.dtypes) {
          if (!impl->provides(dtype)) continue;
          for (const auto& shape : shapes->second) {
            for (const auto& params : combinations(shape, max_bytes)) {  // --max-bytes: collectives only
              out.push_back({group.family, impl->impl, dtype, backend, impl->vendor, params, MeasureMode::hot,
                             group.min_ranks});
            }
          }
        }
      }
      continue;
    }
    for (const std::string& dtype : group.dtypes) {
      for (const auto& shape : shapes->second) {
        for (const auto& params : combinations(shape, std::nullopt)) {
          for (MeasureMode mode : modes) {
            for (const Implementation* impl : impls) {
              if (!impl->provides(dtype)) continue;
              out.push_back({group.family, impl->impl, dtype, backend, impl->vendor, params, mode, group.min_ranks});
            }
          }
        }
      }
    }
  }
  return out;
}

}  // namespace aicbench
