#pragma once
// A JSON Schema validator for the subset of JSON Schema (2020-12) that aicbench's own schemas use,
// so the schemas in docs/ are the contract the readers enforce, not a description beside them.
//
// Keywords: type, properties, required, additionalProperties (false or a schema), items,
// minItems, maxItems, enum, const, minimum, maximum, exclusiveMinimum, minLength, maxLength,
// $ref to "#/$defs/<name>", and format "identifier" (no control characters: such names end up
// in file names, HTML, CSV and gnuplot scripts). Annotations ($schema, $id, $comment, title,
// description, examples, default, $defs) are skipped. A schema using any other keyword is refused
// when it is loaded, so a schema can never claim a rule that the reader does not apply.
//
// validate() stops at the first violation and throws InputError (exit 2) naming the origin, the
// field path, the value found and what was expected; an unknown field under
// "additionalProperties": false is named with the nearest known one ("did you mean ...?").
#include <string>

#include <nlohmann/json.hpp>

namespace aicbench {

class JsonSchema {
 public:
  // `name` identifies the schema in the logic_error thrown for an unsupported keyword.
  JsonSchema(nlohmann::json schema, std::string name);

  void validate(const nlohmann::json& document, const std::string& origin) const;

  const nlohmann::json& document() const { return schema_; }

 private:
  void check_keywords(const nlohmann::json& schema, const std::string& where) const;
  void validate_at(const nlohmann::json& schema, const nlohmann::json& value, const std::string& path,
                   const std::string& origin) const;
  const nlohmann::json& resolve(const nlohmann::json& schema) const;

  nlohmann::json schema_;
  std::string name_;
};

}  // namespace aicbench
