#include "reports/json_schema.hpp"

#include <cmath>
#include <set>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "reports/json_input.hpp"
#include "reports/result_file.hpp"

namespace aicbench {

namespace {

using json = nlohmann::json;

const std::set<std::string, std::less<>> kAnnotations = {
    "$schema", "$id", "$comment", "title", "description", "examples", "default", "$defs"};
const std::set<std::string, std::less<>> kAssertions = {
    "type", "properties", "required", "additionalProperties", "items", "minItems", "maxItems", "enum",
    "const", "minimum", "maximum", "exclusiveMinimum", "minLength", "maxLength", "$ref", "format"};

// A value as a message shows it: short, valid UTF-8, on one line.
std::string shown(const json& value) {
  std::string text = value.dump(-1, ' ', false, json::error_handler_t::replace);
  if (text.size() > 80) text = text.substr(0, 77) + "...";
  return text;
}

bool has_type(const json& value, const std::string& type) {
  if (type == "object") return value.is_object();
  if (type == "array") return value.is_array();
  if (type == "string") return value.is_string();
  if (type == "boolean") return value.is_boolean();
  if (type == "null") return value.is_null();
  if (type == "number") return value.is_number();
  // JSON Schema's integer is a number with no fractional part: 3.0 is one, 3.7 is not.
  if (type == "integer") {
    return value.is_number_integer() ||
           (value.is_number_float() && std::trunc(value.get<double>()) == value.get<double>());
  }
  return false;
}

std::string type_phrase(const std::string& type) {
  if (type == "object") return "an object";
  if (type == "array") return "an array";
  if (type == "integer") return "an integer";
  if (type == "null") return "null";
  return "a " + type;
}

// The shortest of 15 or 17 significant digits that reads back as `v`: 0.6, 2147483647.
std::string number_text(double v) {
  std::ostringstream s;
  s.precision(15);
  s << v;
  if (std::stod(s.str()) != v) {
    s.str("");
    s.precision(17);
    s << v;
  }
  return s.str();
}

std::string value_type_name(const json& value) {
  if (value.is_number_integer()) return "integer";
  if (value.is_number_float()) return "number";
  return value.type_name();
}

bool identifier_ok(const std::string& s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) return false;
  }
  return true;
}

}  // namespace

JsonSchema::JsonSchema(json schema, std::string name) : schema_(std::move(schema)), name_(std::move(name)) {
  check_keywords(schema_, "#");
}

void JsonSchema::check_keywords(const json& schema, const std::string& where) const {
  if (schema.is_boolean()) return;
  if (!schema.is_object()) throw std::logic_error(name_ + ": schema at " + where + " is not an object");
  for (const auto& [key, value] : schema.items()) {
    if (kAnnotations.count(key) == 0 && kAssertions.count(key) == 0) {
      throw std::logic_error(name_ + ": schema keyword '" + key + "' at " + where +
                             " is not implemented by aicbench's validator");
    }
    if (key == "format" && value != "identifier") {
      throw std::logic_error(name_ + ": format '" + shown(value) + "' at " + where + " is not implemented");
    }
    if (key == "$ref") resolve(schema);  // fails early on a dangling reference
  }
  if (schema.contains("properties")) {
    for (const auto& [key, sub] : schema["properties"].items()) check_keywords(sub, where + "/properties/" + key);
  }
  if (schema.contains("$defs")) {
    for (const auto& [key, sub] : schema["$defs"].items()) check_keywords(sub, where + "/$defs/" + key);
  }
  for (const char* key : {"items", "additionalProperties"}) {
    if (schema.contains(key)) check_keywords(schema[key], where + "/" + key);
  }
}

const json& JsonSchema::resolve(const json& schema) const {
  const std::string ref = schema["$ref"].get<std::string>();
  const std::string prefix = "#/$defs/";
  if (ref.rfind(prefix, 0) != 0 || !schema_.contains("$defs") || !schema_["$defs"].contains(ref.substr(prefix.size()))) {
    throw std::logic_error(name_ + ": $ref '" + ref + "' does not name an entry of $defs");
  }
  return schema_["$defs"][ref.substr(prefix.size())];
}

void JsonSchema::validate(const json& document, const std::string& origin) const {
  validate_at(schema_, document, "", origin);
}

void JsonSchema::validate_at(const json& schema_in, const json& value, const std::string& path,
                             const std::string& origin) const {
  if (schema_in.is_boolean()) {
    if (!schema_in.get<bool>()) throw InputError(origin + ": field '" + path + "' is not allowed here");
    return;
  }
  const json& schema = schema_in.contains("$ref") ? resolve(schema_in) : schema_in;
  const std::string field = path.empty() ? "the document" : "field '" + path + "'";
  auto fail = [&](const std::string& expected) {
    std::string message = origin + ": " + field + " is " + shown(value) + ", expected " + expected;
    if (schema.contains("description")) message += " (" + schema["description"].get<std::string>() + ")";
    throw InputError(message);
  };

  if (schema.contains("type")) {
    std::vector<std::string> types;
    if (schema["type"].is_array()) {
      for (const auto& t : schema["type"]) types.push_back(t.get<std::string>());
    } else {
      types.push_back(schema["type"].get<std::string>());
    }
    bool matched = false;
    std::string expected;
    for (const std::string& t : types) {
      matched = matched || has_type(value, t);
      expected += (expected.empty() ? "" : " or ") + type_phrase(t);
    }
    if (!matched) {
      throw InputError(origin + ": " + field + " is " + value_type_name(value) +
                       (value.is_primitive() && !value.is_null() ? " " + shown(value) : std::string()) + ", expected " + expected +
                       (schema.contains("description") ? " (" + schema["description"].get<std::string>() + ")" : ""));
    }
  }
  if (schema.contains("const") && value != schema["const"]) fail(shown(schema["const"]));
  if (schema.contains("enum")) {
    bool found = false;
    std::string options;
    for (const auto& option : schema["enum"]) {
      found = found || value == option;
      options += (options.empty() ? "" : ", ") + (option.is_string() ? option.get<std::string>() : shown(option));
    }
    if (!found) fail("one of " + options);
  }
  if (value.is_number()) {
    const double x = value.get<double>();
    if (schema.contains("minimum") && !(x >= schema["minimum"].get<double>())) {
      fail("a number >= " + number_text(schema["minimum"].get<double>()));
    }
    if (schema.contains("exclusiveMinimum") && !(x > schema["exclusiveMinimum"].get<double>())) {
      fail("a number > " + number_text(schema["exclusiveMinimum"].get<double>()));
    }
    if (schema.contains("maximum") && !(x <= schema["maximum"].get<double>())) {
      fail("a number <= " + number_text(schema["maximum"].get<double>()));
    }
  }
  if (value.is_string()) {
    const auto& s = value.get_ref<const std::string&>();
    if (schema.contains("minLength") && s.size() < schema["minLength"].get<size_t>()) {
      fail("a string of at least " + std::to_string(schema["minLength"].get<size_t>()) + " characters");
    }
    // Bytes, not code points: an upper bound on the characters either way.
    if (schema.contains("maxLength") && s.size() > schema["maxLength"].get<size_t>()) {
      fail("a string of at most " + std::to_string(schema["maxLength"].get<size_t>()) + " characters");
    }
    if (schema.contains("format") && !identifier_ok(s)) fail("a name without control characters");
  }
  if (value.is_array()) {
    if (schema.contains("minItems") && value.size() < schema["minItems"].get<size_t>()) {
      fail("an array of at least " + std::to_string(schema["minItems"].get<size_t>()) + " item(s)");
    }
    if (schema.contains("maxItems") && value.size() > schema["maxItems"].get<size_t>()) {
      fail("an array of at most " + std::to_string(schema["maxItems"].get<size_t>()) + " items");
    }
    if (schema.contains("items")) {
      for (size_t i = 0; i < value.size(); ++i) validate_at(schema["items"], value[i], json_path_index(path, i), origin);
    }
  }
  if (value.is_object()) {
    if (schema.contains("required")) {
      for (const auto& key : schema["required"]) {
        if (!value.contains(key.get<std::string>())) {
          const json& sub = schema.contains("properties") && schema["properties"].contains(key.get<std::string>())
                                ? schema["properties"][key.get<std::string>()]
                                : json();
          std::string what = sub.is_object() && sub.contains("description")
                                 ? " (" + sub["description"].get<std::string>() + ")" : "";
          throw InputError(origin + ": missing field '" + json_path_join(path, key.get<std::string>()) + "'" + what);
        }
      }
    }
    const json* properties = schema.contains("properties") ? &schema["properties"] : nullptr;
    for (const auto& [key, member] : value.items()) {
      const std::string member_path = json_path_join(path, key);
      if (properties && properties->contains(key)) {
        validate_at((*properties)[key], member, member_path, origin);
      } else if (schema.contains("additionalProperties")) {
        const json& extra = schema["additionalProperties"];
        if (extra.is_boolean() && !extra.get<bool>()) {
          std::vector<std::string> known;
          if (properties) for (const auto& [name, unused] : properties->items()) known.push_back(name);
          const std::string nearest = nearest_word(key, known);
          std::string list;
          for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
          throw InputError(origin + ": field '" + member_path + "' is unknown" +
                           (nearest.empty() ? "" : "; did you mean '" + json_path_join(path, nearest) + "'?") +
                           " (valid fields here: " + list + ")");
        }
        validate_at(extra, member, member_path, origin);
      }
    }
  }
}

}  // namespace aicbench
