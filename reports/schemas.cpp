#include "reports/schemas.hpp"

#include "reports/json_input.hpp"

namespace aicbench {

namespace {

// The compiled-in schema is ours: a parse failure here is a build defect, not bad input.
JsonSchema load(std::string_view text, const char* name) {
  return JsonSchema(nlohmann::json::parse(text), name);
}

}  // namespace

const JsonSchema& result_format_schema() {
  static const JsonSchema schema = load(result_format_schema_text(), "docs/result-format.schema.json");
  return schema;
}

const JsonSchema& suite_format_schema() {
  static const JsonSchema schema = load(suite_format_schema_text(), "docs/suite-format.schema.json");
  return schema;
}

const JsonSchema& acceptance_spec_schema() {
  static const JsonSchema schema = load(acceptance_spec_schema_text(), "docs/acceptance-spec.schema.json");
  return schema;
}

const JsonSchema& model_spec_schema() {
  static const JsonSchema schema = load(model_spec_schema_text(), "docs/model-spec.schema.json");
  return schema;
}

const JsonSchema& candidates_schema() {
  static const JsonSchema schema = load(candidates_schema_text(), "docs/candidates.schema.json");
  return schema;
}

const JsonSchema& procurement_profile_schema() {
  // The profile's definition as a schema of its own: the candidates schema's $defs, entered at
  // #/$defs/profile, so one documented file holds both contracts.
  static const JsonSchema schema = [] {
    nlohmann::json whole = nlohmann::json::parse(candidates_schema_text());
    nlohmann::json entry = {{"$defs", whole["$defs"]}, {"$ref", "#/$defs/profile"}};
    return JsonSchema(std::move(entry), "docs/candidates.schema.json#/$defs/profile");
  }();
  return schema;
}

}  // namespace aicbench
