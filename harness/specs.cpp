#include "harness/specs.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

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
    for (const auto& [backend_name, list] : jg["shapes"].items()) {
      const Backend backend = backend_name == "cuda" ? Backend::cuda : Backend::cpu;
      for (size_t s = 0; s < list.size(); ++s) {
        const std::string swhere = where + ".shapes." + backend_name + "[" + std::to_string(s) + "]";
        // Exactly the family's parameters, in the family's order (M, N, K for GEMM), whatever
        // order the object lists them in.
        std::vector<Param> shape;
        for (const std::string& param : params) {
          if (!list[s].contains(param)) {
            const bool vowel = std::string_view("aeiou").find(group.family.front()) != std::string_view::npos;
            fail(swhere, "has no '" + param + "'; " + (vowel ? "an " : "a ") + group.family + " shape gives " + joined(params));
          }
          const int64_t value = list[s][param].get<int64_t>();
          const int64_t minimum = family_param_minimum(group.family, param);
          if (value < minimum) {
            fail(swhere + "." + param, "is " + std::to_string(value) + ", expected at least " + std::to_string(minimum));
          }
          shape.push_back({param, value});
        }
        for (const auto& [key, value] : list[s].items()) {
          if (std::find(params.begin(), params.end(), key) == params.end()) {
            const std::string nearest = nearest_word(key, params);
            fail(swhere + "." + key, "is not a parameter of family '" + group.family + "'" +
                                         (nearest.empty() ? "" : "; did you mean '" + nearest + "'?") +
                                         " (valid: " + joined(params) + ")");
          }
        }
        group.shapes[backend].push_back(std::move(shape));
      }
    }
    suite.groups.push_back(std::move(group));
  }
  return suite;
}

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
    for (const std::string& dtype : group.dtypes) {
      for (const auto& params : shapes->second) {
        for (MeasureMode mode : modes) {
          for (const Implementation* impl : impls) {
            if (!impl->provides(dtype)) continue;
            out.push_back({group.family, impl->impl, dtype, backend, impl->vendor, params, mode});
          }
        }
      }
    }
  }
  return out;
}

}  // namespace aicbench
