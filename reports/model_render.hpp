#pragma once
// What `aicbench model collective` prints: its predictions and its validations as Markdown
// (the default, readable as text) and JSON (--json), apart from the decisions
// (model_collective.hpp, model_fit.hpp), so those are tested on their structures.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "reports/model_collective.hpp"
#include "reports/model_fit.hpp"

namespace aicbench::model {

// One collective asked for: over the whole job (group "job") or over one parallel group.
struct CollectiveQuestion {
  std::string group = "job";
  int64_t group_size = 0;
  int64_t concurrent = 1;  // groups of this kind running it at once
  CollectiveOp op = CollectiveOp::all_reduce;
  double bytes = 0;
  Span span;
  std::vector<Prediction> predictions;
};

struct PredictionReport {
  int64_t ranks = 0, gpus_per_node = 0;
  std::string layout;  // "tp=8,dp=1250", empty without --group
  Terms terms;
  std::vector<Fit> fits;
  std::vector<std::string> calibration_files;
  std::vector<std::string> warnings;  // assumptions that matter, CPU calibration, ...
  std::vector<std::string> notes;     // rows left out of the calibration
  std::vector<CollectiveQuestion> questions;
};

std::string render_markdown(const PredictionReport& report);
nlohmann::json to_json(const PredictionReport& report);

std::string render_markdown(const Validation& validation);
nlohmann::json to_json(const Validation& validation);

}  // namespace aicbench::model
