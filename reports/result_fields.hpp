#pragma once
// Reading fields of a result file that may be absent or of an unexpected type: the report reads
// what is there and shows nothing for what is not, so none of these throws.

#include <cmath>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace aicbench::reports {

// j[key], or a null value when j is not an object or has no such key.
inline const nlohmann::json& field(const nlohmann::json& j, const char* key) {
  static const nlohmann::json kNull;
  if (!j.is_object()) return kNull;
  auto it = j.find(key);
  return it == j.end() ? kNull : *it;
}

// A field as text: strings as they are, booleans as yes/no, numbers as JSON writes them.
inline std::string text(const nlohmann::json& j, const char* key) {
  const nlohmann::json& v = field(j, key);
  if (v.is_null()) return "";
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "yes" : "no";
  return v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// A finite number, or nullopt.
inline std::optional<double> number(const nlohmann::json& j, const char* key) {
  const nlohmann::json& v = field(j, key);
  if (!v.is_number()) return std::nullopt;
  const double d = v.get<double>();
  return std::isfinite(d) ? std::optional<double>(d) : std::nullopt;
}

inline bool is_true(const nlohmann::json& j, const char* key) { return field(j, key) == true; }

}  // namespace aicbench::reports
