#pragma once
// The JSON Schemas of aicbench's input files, as documented in docs/ and compiled in.
#include <string_view>

#include "reports/json_schema.hpp"

namespace aicbench {

std::string_view result_format_schema_text();  // docs/result-format.schema.json
std::string_view suite_format_schema_text();   // docs/suite-format.schema.json
std::string_view acceptance_spec_schema_text();  // docs/acceptance-spec.schema.json
std::string_view model_spec_schema_text();        // docs/model-spec.schema.json
std::string_view candidates_schema_text();       // docs/candidates.schema.json

// Parsed once, on first use.
const JsonSchema& result_format_schema();
const JsonSchema& suite_format_schema();
const JsonSchema& acceptance_spec_schema();
const JsonSchema& model_spec_schema();
const JsonSchema& candidates_schema();
// A weight profile (specs/procurement/profiles/*.json): #/$defs/profile of the candidates schema.
const JsonSchema& procurement_profile_schema();

}  // namespace aicbench
