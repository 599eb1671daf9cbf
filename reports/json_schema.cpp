#include "reports/json_schema.hpp"

#include <cmath>
#include <map>
#include <optional>
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
  root_ = compile(schema_);
}

JsonSchema::~JsonSchema() = default;

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

// ==== Compiled form

// Kinds of JSON value, as bits, for the "type" keyword.
enum TypeBit : unsigned {
  kObject = 1, kArray = 2, kString = 4, kBoolean = 8, kNull = 16, kNumber = 32, kInteger = 64,
};

struct JsonSchema::Node {
  const json* schema = nullptr;  // the schema object (after $ref), for messages; null: boolean schema
  bool allows_all = false;       // the boolean schema true (or an object without assertions)
  bool allows_none = false;      // the boolean schema false
  bool has_types = false;        // a "type" keyword; `types` is then its TypeBit mask
  unsigned types = 0;
  const json* const_value = nullptr;
  const json* enum_values = nullptr;
  std::optional<double> minimum, exclusive_minimum, maximum;
  std::optional<size_t> min_length, max_length, min_items, max_items;
  bool identifier = false;
  std::vector<std::string> required;
  bool has_properties = false;
  std::map<std::string, const Node*, std::less<>> properties;
  const Node* items = nullptr;
  const Node* additional = nullptr;   // additionalProperties as a schema
  bool no_additional = false;         // additionalProperties: false
  std::string description;            // empty when the schema has none
  bool has_description = false;
};

// The path of the value being validated, one link per level on the stack; spelled out only for a
// message.
struct JsonSchema::PathLink {
  const PathLink* parent;
  const std::string* key;  // null: an array index
  size_t index;
};

namespace {

unsigned type_bit(const std::string& type) {
  if (type == "object") return kObject;
  if (type == "array") return kArray;
  if (type == "string") return kString;
  if (type == "boolean") return kBoolean;
  if (type == "null") return kNull;
  if (type == "number") return kNumber;
  if (type == "integer") return kInteger;
  return 0;
}

bool has_type_bits(const json& value, unsigned types) {
  switch (value.type()) {
    case json::value_t::object: return types & kObject;
    case json::value_t::array: return types & kArray;
    case json::value_t::string: return types & kString;
    case json::value_t::boolean: return types & kBoolean;
    case json::value_t::null: return types & kNull;
    case json::value_t::number_integer:
    case json::value_t::number_unsigned: return types & (kNumber | kInteger);
    case json::value_t::number_float:
      // JSON Schema's integer is a number with no fractional part: 3.0 is one, 3.7 is not.
      return (types & kNumber) || ((types & kInteger) && std::trunc(value.get<double>()) == value.get<double>());
    default: return false;
  }
}

}  // namespace

const JsonSchema::Node* JsonSchema::compile(const json& schema_in) {
  if (schema_in.is_boolean()) {
    nodes_.push_back(std::make_unique<Node>());
    Node& node = *nodes_.back();
    node.allows_all = schema_in.get<bool>();
    node.allows_none = !schema_in.get<bool>();
    return &node;
  }
  // As the validator always did: a schema with $ref is its target, and the target's own keywords
  // (a $ref of the target is not followed further).
  const json& schema = schema_in.contains("$ref") ? resolve(schema_in) : schema_in;
  if (auto it = compiled_.find(&schema); it != compiled_.end()) return it->second;
  nodes_.push_back(std::make_unique<Node>());
  Node& node = *nodes_.back();
  compiled_[&schema] = &node;  // before the children: a schema may refer to itself
  node.schema = &schema;
  if (schema.contains("type")) {
    node.has_types = true;
    if (schema["type"].is_array()) {
      for (const auto& t : schema["type"]) node.types |= type_bit(t.get<std::string>());
    } else {
      node.types = type_bit(schema["type"].get<std::string>());
    }
  }
  if (schema.contains("const")) node.const_value = &schema["const"];
  if (schema.contains("enum")) node.enum_values = &schema["enum"];
  if (schema.contains("minimum")) node.minimum = schema["minimum"].get<double>();
  if (schema.contains("exclusiveMinimum")) node.exclusive_minimum = schema["exclusiveMinimum"].get<double>();
  if (schema.contains("maximum")) node.maximum = schema["maximum"].get<double>();
  if (schema.contains("minLength")) node.min_length = schema["minLength"].get<size_t>();
  if (schema.contains("maxLength")) node.max_length = schema["maxLength"].get<size_t>();
  if (schema.contains("minItems")) node.min_items = schema["minItems"].get<size_t>();
  if (schema.contains("maxItems")) node.max_items = schema["maxItems"].get<size_t>();
  node.identifier = schema.contains("format");
  if (schema.contains("required")) {
    for (const auto& key : schema["required"]) node.required.push_back(key.get<std::string>());
  }
  if (schema.contains("description")) {
    node.description = schema["description"].get<std::string>();
    node.has_description = true;
  }
  if (schema.contains("properties")) {
    node.has_properties = true;
    for (const auto& [key, sub] : schema["properties"].items()) node.properties.emplace(key, compile(sub));
  }
  if (schema.contains("items")) node.items = compile(schema["items"]);
  if (schema.contains("additionalProperties")) {
    const json& extra = schema["additionalProperties"];
    if (extra.is_boolean() && !extra.get<bool>()) {
      node.no_additional = true;
    } else {
      node.additional = compile(extra);
    }
  }
  return &node;
}

void JsonSchema::validate(const json& document, const std::string& origin) const {
  validate_node(*root_, document, nullptr, origin);
}

void JsonSchema::validate_node(const Node& node, const json& value, const PathLink* link,
                               const std::string& origin) const {
  // The path is spelled out only when a message needs it.
  auto path_of = [](const PathLink* l) {
    std::vector<const PathLink*> links;
    for (; l; l = l->parent) links.push_back(l);
    std::string path;
    for (auto it = links.rbegin(); it != links.rend(); ++it) {
      path = (*it)->key ? json_path_join(path, *(*it)->key) : json_path_index(path, (*it)->index);
    }
    return path;
  };
  if (node.allows_all) return;
  if (node.allows_none) throw InputError(origin + ": field '" + path_of(link) + "' is not allowed here");
  const json& schema = *node.schema;
  auto field = [&] {
    const std::string path = path_of(link);
    return path.empty() ? std::string("the document") : "field '" + path + "'";
  };
  auto fail = [&](const std::string& expected) {
    std::string message = origin + ": " + field() + " is " + shown(value) + ", expected " + expected;
    if (node.has_description) message += " (" + node.description + ")";
    throw InputError(message);
  };

  if (node.has_types && !has_type_bits(value, node.types)) {
    std::vector<std::string> types;
    if (schema["type"].is_array()) {
      for (const auto& t : schema["type"]) types.push_back(t.get<std::string>());
    } else {
      types.push_back(schema["type"].get<std::string>());
    }
    std::string expected;
    for (const std::string& t : types) expected += (expected.empty() ? "" : " or ") + type_phrase(t);
    throw InputError(origin + ": " + field() + " is " + value_type_name(value) +
                     (value.is_primitive() && !value.is_null() ? " " + shown(value) : std::string()) + ", expected " +
                     expected + (node.has_description ? " (" + node.description + ")" : ""));
  }
  if (node.const_value && value != *node.const_value) fail(shown(*node.const_value));
  if (node.enum_values) {
    bool found = false;
    for (const auto& option : *node.enum_values) found = found || value == option;
    if (!found) {
      std::string options;
      for (const auto& option : *node.enum_values) {
        options += (options.empty() ? "" : ", ") + (option.is_string() ? option.get<std::string>() : shown(option));
      }
      fail("one of " + options);
    }
  }
  switch (value.type()) {
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float: {
      const double x = value.get<double>();
      if (node.minimum && !(x >= *node.minimum)) fail("a number >= " + number_text(*node.minimum));
      if (node.exclusive_minimum && !(x > *node.exclusive_minimum)) fail("a number > " + number_text(*node.exclusive_minimum));
      if (node.maximum && !(x <= *node.maximum)) fail("a number <= " + number_text(*node.maximum));
      break;
    }
    case json::value_t::string: {
      const auto& s = value.get_ref<const std::string&>();
      if (node.min_length && s.size() < *node.min_length) {
        fail("a string of at least " + std::to_string(*node.min_length) + " characters");
      }
      // Bytes, not code points: an upper bound on the characters either way.
      if (node.max_length && s.size() > *node.max_length) {
        fail("a string of at most " + std::to_string(*node.max_length) + " characters");
      }
      if (node.identifier && !identifier_ok(s)) fail("a name without control characters");
      break;
    }
    case json::value_t::array: {
      if (node.min_items && value.size() < *node.min_items) {
        fail("an array of at least " + std::to_string(*node.min_items) + " item(s)");
      }
      if (node.max_items && value.size() > *node.max_items) {
        fail("an array of at most " + std::to_string(*node.max_items) + " items");
      }
      if (node.items) {
        const auto& elements = value.get_ref<const json::array_t&>();
        for (size_t i = 0; i < elements.size(); ++i) {
          const PathLink child{link, nullptr, i};
          validate_node(*node.items, elements[i], &child, origin);
        }
      }
      break;
    }
    case json::value_t::object: {
      const auto& members = value.get_ref<const json::object_t&>();
      for (const std::string& key : node.required) {
        if (members.find(key) == members.end()) {
          const json& sub = schema.contains("properties") && schema["properties"].contains(key)
                                ? schema["properties"][key]
                                : json();
          std::string what = sub.is_object() && sub.contains("description")
                                 ? " (" + sub["description"].get<std::string>() + ")" : "";
          throw InputError(origin + ": missing field '" + json_path_join(path_of(link), key) + "'" + what);
        }
      }
      for (const auto& [key, member] : members) {
        const PathLink child{link, &key, 0};
        if (auto property = node.properties.find(key); property != node.properties.end()) {
          validate_node(*property->second, member, &child, origin);
        } else if (node.no_additional) {
          std::vector<std::string> known;
          for (const auto& [name, unused] : node.properties) known.push_back(name);
          const std::string path = path_of(link);
          const std::string nearest = nearest_word(key, known);
          std::string list;
          for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
          throw InputError(origin + ": field '" + json_path_join(path, key) + "' is unknown" +
                           (nearest.empty() ? "" : "; did you mean '" + json_path_join(path, nearest) + "'?") +
                           " (valid fields here: " + list + ")");
        } else if (node.additional) {
          validate_node(*node.additional, member, &child, origin);
        }
      }
      break;
    }
    default:
      break;
  }
}

}  // namespace aicbench
