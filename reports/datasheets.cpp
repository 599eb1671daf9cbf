#include "reports/datasheets.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <vector>

#include <nlohmann/json.hpp>
#include <unistd.h>

#include "reports/json_input.hpp"
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

// Reads json[key] as T, or throws an InputError naming the file, the field and the expected type.
template <typename T>
T field(const nlohmann::json& json, const std::string& key, const fs::path& path, const char* expected) {
  if (!json.is_object() || !json.contains(key)) {
    throw InputError(path.string() + ": missing field '" + key + "' (expected " + expected + ")");
  }
  try {
    return json.at(key).get<T>();
  } catch (const nlohmann::json::exception&) {
    throw InputError(path.string() + ": field '" + key + "' is " + json.at(key).type_name() + ", expected " + expected);
  }
}

std::optional<double> positive(const nlohmann::json& json, const std::string& key, const fs::path& path) {
  if (!json.contains(key)) return std::nullopt;
  const double value = field<double>(json, key, path, "a number above 0");
  if (!(value > 0)) throw InputError(path.string() + ": field '" + key + "' is " + json.at(key).dump() + ", expected a number above 0");
  return value;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

}  // namespace

std::optional<Datasheet> find_datasheet(const std::string& gpu_name) {
  fs::path dir = specs_dir() / "gpus";
  if (!fs::is_directory(dir)) return std::nullopt;
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() == ".json") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  // The longest pattern found in the name wins, so the most specific sheet is chosen whatever the
  // files are called: "NVIDIA GB200" contains both "B200" and "GB200", and is a GB200.
  const std::string name = lower(gpu_name);
  std::optional<fs::path> best;
  nlohmann::json best_json;
  size_t best_length = 0;
  for (const fs::path& path : files) {
    nlohmann::json json = read_json_file(path, "GPU datasheet", kSpecFileLimits);
    const auto patterns = field<std::vector<std::string>>(json, "match", path, "an array of device-name substrings");
    for (const std::string& pattern : patterns) {
      if (pattern.size() > best_length && name.find(lower(pattern)) != std::string::npos) {
        best = path;
        best_json = json;
        best_length = pattern.size();
      }
    }
  }
  if (!best) return std::nullopt;
  Datasheet sheet;
  sheet.sku = field<std::string>(best_json, "sku", *best, "a string");
  sheet.source = field<std::string>(best_json, "source", *best, "a string");
  sheet.peak_tflops = field<std::map<std::string, double>>(best_json, "peak_tflops", *best,
                                                           "an object of dtype -> dense TFLOP/s");
  sheet.memory_gb = positive(best_json, "memory_gb", *best);
  sheet.tdp_w = positive(best_json, "tdp_w", *best);
  if (best_json.contains("board_source")) sheet.board_source = field<std::string>(best_json, "board_source", *best, "a string");
  return sheet;
}

}  // namespace aicbench
