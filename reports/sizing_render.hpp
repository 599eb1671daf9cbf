#pragma once
// What `aicbench size` prints (docs/sizing.md, "Output"): per candidate the layout, step time and
// where it goes, MFU, days, GPUs for a deadline, energy, and every figure's source, as Markdown
// (the default), a self-contained HTML page (--html) and JSON (--json). Rendering only: the
// numbers are decided in reports/sizing.hpp, so they are tested on their structures.
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "reports/sizing.hpp"

namespace aicbench::sizing {

struct CandidateSizing {
  Candidate candidate;
  Network network;
  std::optional<Training> at_gpus;   // with --gpus
  std::optional<Deadline> deadline;  // with --deadline-days
};

struct SizeReport {
  ModelSpec model;
  double tokens = 0;
  int64_t global_batch = 0;
  std::string global_batch_source;
  std::optional<int64_t> gpus;
  std::optional<double> deadline_days;
  Assumptions assumptions;
  EnergyOptions energy;
  LayoutChoice choice;
  std::vector<CandidateSizing> candidates;
};

std::string render_markdown(const SizeReport& report);
std::string render_html(const SizeReport& report);
nlohmann::json to_json(const SizeReport& report);

}  // namespace aicbench::sizing
