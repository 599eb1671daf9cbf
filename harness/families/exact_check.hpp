#pragma once
// Validation for the families whose results are exact (memory, host_link, p2p, p2p_latency,
// launch): inputs are built so that every correct output is exactly representable, so a correct
// run has no wrong element at all and the tolerance is 0 (docs/validation.md).
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>

#include "harness/benchmark.hpp"

namespace aicbench {

struct ExactCheck {
  uint64_t elements = 0;        // how many were compared
  uint64_t wrong = 0;           // how many differed from the expected value
  std::optional<uint64_t> first_wrong;  // the index of the first that did
  double max_rel_err = 0;       // among the elements whose values the host saw (a NaN or infinity counts as 1)
  std::string what = "elements";  // what was compared: elements, bytes, hops
  std::string method;           // how, in a sentence

  // Relative error of one value the host compared, folded into max_rel_err.
  void note(double got, double expected) {
    double err = std::abs(got - expected) / std::max(std::abs(expected), 1e-300);
    if (!std::isfinite(got) || !std::isfinite(err)) err = 1;
    max_rel_err = std::max(max_rel_err, std::min(err, 1.0));
  }
};

// The Validation of an exact check: passed when nothing was wrong; the message names how many
// and the first. `settings` (threads, ...) are added to the block, as GEMM does.
inline Validation to_validation(const ExactCheck& check, const nlohmann::json& settings = nullptr) {
  Validation v;
  v.passed = check.wrong == 0;
  v.max_rel_err = check.max_rel_err;
  if (!v.passed) {
    v.message = std::to_string(check.wrong) + " of " + std::to_string(check.elements) + " " + check.what +
                " differ from the expected values" +
                (check.first_wrong ? " (the first at index " + std::to_string(*check.first_wrong) + ")" : "") +
                "; expected every one exact (tolerance 0)";
  }
  v.details = {{"method", check.method},
               {"max_rel_err", check.max_rel_err},
               {"tolerance", 0.0},
               {"samples", check.elements},
               {"wrong_elements", check.wrong}};
  if (check.first_wrong) v.details["first_wrong"] = *check.first_wrong;
  if (settings.is_object()) v.details.update(settings);
  return v;
}

}  // namespace aicbench
