#include "harness/specs.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>
#include <unistd.h>

#include "harness/file_names.hpp"
#include "reports/result_file.hpp"

#ifndef AICBENCH_SOURCE_SPECS_DIR
#define AICBENCH_SOURCE_SPECS_DIR "specs"
#endif

namespace aicbench {

namespace fs = std::filesystem;

fs::path specs_dir() {
  if (const char* env = std::getenv("AICBENCH_SPECS")) return env;
  char exe[4096] = {};
  ssize_t n = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n > 0) {
    fs::path installed = fs::path(exe).parent_path().parent_path() / "share" / "aicbench" / "specs";
    if (fs::is_directory(installed)) return installed;
  }
  return AICBENCH_SOURCE_SPECS_DIR;
}

namespace {

nlohmann::json read_json(const fs::path& path) {
  std::ifstream in(path);
  if (!in) throw InputError(path.string() + ": cannot open");
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::parse_error& e) {
    throw InputError(path.string() + ": not valid JSON (" + e.what() + ")");
  }
}

// Reads json[key] as T, or throws an InputError naming the file, the field and the expected type.
template <typename T>
T field(const nlohmann::json& json, const std::string& key, const fs::path& path,
        const std::string& where, const char* expected) {
  const std::string full = where.empty() ? key : where + "." + key;
  if (!json.is_object() || !json.contains(key)) {
    throw InputError(path.string() + ": missing field '" + full + "' (expected " + expected + ")");
  }
  try {
    return json.at(key).get<T>();
  } catch (const nlohmann::json::exception&) {
    throw InputError(path.string() + ": field '" + full + "' is " + json.at(key).type_name() +
                     ", expected " + expected);
  }
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// "measurement": {"modes": ["cold", "hot"], "cpu": {<stopping rule>}, "cuda": {<stopping rule>}},
// every part optional; a stopping rule names only the fields it changes.
void parse_measurement(const nlohmann::json& m, const fs::path& path, Suite& suite) {
  if (!m.is_object()) throw InputError(path.string() + ": field 'measurement' must be an object");
  for (const auto& [key, value] : m.items()) {
    if (key == "modes") {
      suite.modes.clear();
      for (const auto& mode : field<std::vector<std::string>>(m, "modes", path, "measurement",
                                                               "an array of \"cold\"/\"hot\"")) {
        auto parsed = parse_measure_mode(mode);
        if (!parsed) {
          throw InputError(path.string() + ": field 'measurement.modes' names '" + mode +
                           "'; expected cold or hot");
        }
        suite.modes.push_back(*parsed);
      }
      if (suite.modes.empty()) throw InputError(path.string() + ": field 'measurement.modes' is empty");
    } else if (key == "cpu" || key == "cuda") {
      const std::string where = "measurement." + key;
      StoppingRule& rule = suite.rules[key == "cuda" ? Backend::cuda : Backend::cpu];
      if (!value.is_object()) throw InputError(path.string() + ": field '" + where + "' must be an object");
      for (const auto& [name, v] : value.items()) {
        auto positive = [&](double x) {
          if (!(x > 0)) {
            throw InputError(path.string() + ": field '" + where + "." + name + "' must be positive, got " + v.dump());
          }
          return x;
        };
        if (name == "min_samples") rule.min_samples = static_cast<int>(positive(field<int>(value, name, path, where, "an integer")));
        else if (name == "min_time_s") rule.min_time_s = positive(field<double>(value, name, path, where, "a number of seconds"));
        else if (name == "max_noise") rule.max_noise = positive(field<double>(value, name, path, where, "a fraction, e.g. 0.005"));
        else if (name == "timeout_s") rule.timeout_s = positive(field<double>(value, name, path, where, "a number of seconds"));
        else {
          throw InputError(path.string() + ": field '" + where + "." + name +
                           "' is unknown; expected min_samples, min_time_s, max_noise or timeout_s");
        }
      }
    } else {
      throw InputError(path.string() + ": field 'measurement." + key +
                       "' is unknown; expected modes, cpu or cuda");
    }
  }
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
  // A suite is named, not given as a path: checked before the name touches the file system, so
  // "../x" or a 5000-character name is refused with the rule instead of a system error.
  if (!is_plain_name(name, kMaxSuiteNameLength)) {
    throw InputError("suite name " + quoted_excerpt(name) + " is not a plain name: expected 1 to " +
                     std::to_string(kMaxSuiteNameLength) +
                     " characters of A-Z a-z 0-9 . _ -, not starting with a dot");
  }
  fs::path path = specs_dir() / "suites" / (name + ".json");
  if (!fs::exists(path)) {
    std::string valid;
    for (const auto& s : available_suites()) valid += (valid.empty() ? "" : ", ") + s;
    throw InputError("unknown suite '" + name + "'; valid suites: " +
                     (valid.empty() ? "(none found in " + specs_dir().string() + "/suites)" : valid));
  }
  return load_suite_file(path);
}

Suite load_suite_file(const fs::path& path) {
  const nlohmann::json json = read_json(path);
  Suite suite;
  suite.path = path;
  suite.name = field<std::string>(json, "name", path, "", "a string");
  suite.version = field<int>(json, "version", path, "", "an integer");
  suite.description = json.value("description", "");
  if (json.contains("measurement")) parse_measurement(json["measurement"], path, suite);
  const auto groups = field<nlohmann::json>(json, "groups", path, "", "an array");
  if (!groups.is_array()) throw InputError(path.string() + ": field 'groups' must be an array");
  for (size_t g = 0; g < groups.size(); ++g) {
    const std::string where = "groups[" + std::to_string(g) + "]";
    const nlohmann::json& jg = groups[g];
    Suite::Group group;
    group.family = field<std::string>(jg, "family", path, where, "a string");
    group.dtypes = field<std::vector<std::string>>(jg, "dtypes", path, where, "an array of strings");
    group.impls = field<std::vector<std::string>>(jg, "impls", path, where, "an array of strings");
    for (const std::string& impl : group.impls) {
      const Implementation* found = find_implementation(group.family, impl);
      if (!found) {
        std::string valid;
        for (const auto& i : implementations()) {
          if (i.family == group.family) valid += (valid.empty() ? "" : ", ") + i.impl;
        }
        throw InputError(path.string() + ": field '" + where + ".impls' names '" + impl +
                         "', which is not an implementation of family '" + group.family +
                         "' (valid: " + (valid.empty() ? "none: unknown family" : valid) + ")");
      }
      // A group may list dtypes that only some of its implementations provide (e.g. fp8 is not
      // on mma_sm80); each implementation runs the ones it has, and must have at least one.
      const bool any = std::any_of(group.dtypes.begin(), group.dtypes.end(),
                                   [&](const std::string& d) { return found->provides(d); });
      if (!any) {
        std::string offered;
        for (const auto& d : found->dtypes) offered += (offered.empty() ? "" : ", ") + d;
        throw InputError(path.string() + ": field '" + where + ".dtypes' names none of the dtypes that implementation '" +
                         impl + "' provides (" + offered + ")");
      }
    }
    for (const std::string& dtype : group.dtypes) {
      const bool provided = std::any_of(group.impls.begin(), group.impls.end(), [&](const std::string& impl) {
        return find_implementation(group.family, impl)->provides(dtype);
      });
      if (!provided) {
        throw InputError(path.string() + ": field '" + where + ".dtypes' names '" + dtype +
                         "', which none of the group's implementations provides");
      }
    }
    const auto shapes = field<nlohmann::json>(jg, "shapes", path, where,
                                              "an object {\"cpu\": [...], \"cuda\": [...]}");
    for (const auto& [backend_name, list] : shapes.items()) {
      if (backend_name != "cpu" && backend_name != "cuda") {
        throw InputError(path.string() + ": field '" + where + ".shapes." + backend_name +
                         "' names an unknown backend; expected cpu or cuda");
      }
      Backend backend = backend_name == "cuda" ? Backend::cuda : Backend::cpu;
      for (size_t s = 0; s < list.size(); ++s) {
        const std::string swhere = where + ".shapes." + backend_name + "[" + std::to_string(s) + "]";
        if (!list[s].is_object() || list[s].empty()) {
          throw InputError(path.string() + ": field '" + swhere +
                           "' must be an object of sizes, e.g. {\"M\": 1024, \"N\": 1024, \"K\": 1024}");
        }
        std::vector<Param> params;
        for (const auto& [key, value] : list[s].items()) {
          if (!value.is_number_integer() || value.get<int64_t>() <= 0) {
            throw InputError(path.string() + ": field '" + swhere + "." + key +
                             "' must be a positive integer, got " + value.dump());
          }
          params.push_back({key, value.get<int64_t>()});
        }
        // JSON objects are unordered; keep the family's conventional order (M, N, K for GEMM).
        const std::vector<std::string> order = {"M", "N", "K"};
        std::stable_sort(params.begin(), params.end(), [&](const Param& a, const Param& b) {
          auto rank = [&](const std::string& n) {
            return std::find(order.begin(), order.end(), n) - order.begin();
          };
          return rank(a.name) < rank(b.name);
        });
        group.shapes[backend].push_back(params);
      }
    }
    suite.groups.push_back(group);
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

std::optional<Datasheet> find_datasheet(const std::string& gpu_name) {
  fs::path dir = specs_dir() / "gpus";
  if (!fs::is_directory(dir)) return std::nullopt;
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() == ".json") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  const std::string name = lower(gpu_name);
  for (const fs::path& path : files) {
    const nlohmann::json json = read_json(path);
    const auto patterns = field<std::vector<std::string>>(json, "match", path, "",
                                                          "an array of device-name substrings");
    for (const std::string& pattern : patterns) {
      if (name.find(lower(pattern)) != std::string::npos) {
        Datasheet sheet;
        sheet.sku = field<std::string>(json, "sku", path, "", "a string");
        sheet.source = field<std::string>(json, "source", path, "", "a string");
        sheet.peak_tflops = field<std::map<std::string, double>>(
            json, "peak_tflops", path, "", "an object of dtype -> dense TFLOP/s");
        return sheet;
      }
    }
  }
  return std::nullopt;
}

}  // namespace aicbench
