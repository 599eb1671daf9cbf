#include "harness/benchmark.hpp"

#include <stdexcept>

namespace aicbench {

std::string to_string(Backend backend) { return backend == Backend::cuda ? "cuda" : "cpu"; }

std::string BenchmarkSpec::name() const {
  std::string out = family + "/" + impl + "/" + dtype;
  for (const Param& p : params) out += "/" + p.name + ":" + std::to_string(p.value);
  if (mode == MeasureMode::hot) out += "/mode:hot";
  return out;
}

int64_t BenchmarkSpec::param(std::string_view key) const {
  for (const Param& p : params) {
    if (p.name == key) return p.value;
  }
  throw std::out_of_range("benchmark " + name() + " has no parameter " + std::string(key));
}

nlohmann::json BenchmarkSpec::params_json() const {
  nlohmann::json out = nlohmann::json::object();
  for (const Param& p : params) out[p.name] = p.value;
  return out;
}

namespace {
std::vector<Implementation>& registry() {
  static std::vector<Implementation> all = [] {
    std::vector<Implementation> v;
    for (auto& impl : gemm_implementations()) v.push_back(std::move(impl));
    for (auto& impl : attention_implementations()) v.push_back(std::move(impl));
    return v;
  }();
  return all;
}
}  // namespace

const std::vector<Implementation>& implementations() { return registry(); }

void register_implementation(Implementation impl) { registry().push_back(std::move(impl)); }

const Implementation* find_implementation(std::string_view family, std::string_view impl) {
  for (const Implementation& i : implementations()) {
    if (i.family == family && i.impl == impl) return &i;
  }
  return nullptr;
}

std::vector<std::string> family_params(std::string_view family) {
  if (family == "gemm") return {"M", "N", "K"};
  // kernels/attention/attention_shape.hpp: batch, query heads, key/value heads, query and key
  // lengths, head dimension, causal mask (0 or 1). Decode has one query per sequence, no mask.
  if (family == "attention") return {"B", "H", "KVH", "Sq", "Sk", "D", "causal"};
  if (family == "attention_decode") return {"B", "H", "KVH", "Sk", "D"};
  return {};
}

int64_t family_param_minimum(std::string_view family, std::string_view param) {
  return family == "attention" && param == "causal" ? 0 : 1;
}

}  // namespace aicbench
