#include "harness/benchmark.hpp"

#include <stdexcept>

#include "collectives/collective_ops.hpp"

namespace aicbench {

std::string to_string(Backend backend) { return backend == Backend::cuda ? "cuda" : "cpu"; }

std::string BenchmarkSpec::name() const {
  std::string out = family + "/" + impl + "/" + dtype;
  for (const Param& p : params) out += "/" + p.name + ":" + std::to_string(p.value);
  if (mode == MeasureMode::hot && !parse_collective_op(family)) out += "/mode:hot";
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
    for (auto family : {gemm_implementations, burnin_implementations, attention_implementations,
                        memory_implementations, host_link_implementations, p2p_implementations,
                        launch_implementations, collective_implementations}) {
      for (auto& impl : family()) v.push_back(std::move(impl));
    }
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
  if (family == "burnin") return {"M", "N", "K", "seconds"};
  // kernels/attention/attention_shape.hpp: batch, query heads, key/value heads, query and key
  // lengths, head dimension, causal mask (0 or 1). Decode has one query per sequence, no mask.
  if (family == "attention") return {"B", "H", "KVH", "Sq", "Sk", "D", "causal"};
  if (family == "attention_decode") return {"B", "H", "KVH", "Sk", "D"};
  if (family == "memory") return {"bytes"};                    // bytes of each array
  if (family == "host_link") return {"bytes"};                 // bytes each way
  if (family == "p2p") return {"src", "dst", "directions", "bytes"};  // GPUs, 1 or 2 ways, bytes each way
  if (family == "p2p_latency") return {"src", "dst", "bytes"};  // reader GPU, memory's GPU, chain footprint
  if (family == "launch") return {"batch"};                    // launches per synchronisation
  // nccl-tests' size (collectives/collective_ops.hpp), and 1 for the output in the input's buffer.
  if (parse_collective_op(family)) return {"bytes", "in_place"};
  return {};
}

int64_t family_param_minimum(std::string_view family, std::string_view param) {
  if (family == "attention" && param == "causal") return 0;
  if (parse_collective_op(family) && param == "in_place") return 0;
  if ((family == "p2p" || family == "p2p_latency") && (param == "src" || param == "dst")) return 0;
  return 1;
}

std::optional<std::string> family_shape_problem(std::string_view family, const std::vector<Param>& params) {
  auto value = [&](std::string_view name) -> std::optional<int64_t> {
    for (const Param& p : params) {
      if (p.name == name) return p.value;
    }
    return std::nullopt;
  };
  auto flag = [&](std::string_view name, const char* meaning) -> std::optional<std::string> {
    const std::optional<int64_t> v = value(name);
    if (v && *v != 0 && *v != 1) return std::string(name) + " is " + std::to_string(*v) + ", expected 0 or 1 (" + meaning + ")";
    return std::nullopt;
  };
  if (family == "attention" || family == "attention_decode") {
    const std::optional<int64_t> h = value("H"), kvh = value("KVH");
    if (h && kvh && *kvh > 0 && *h % *kvh != 0) {
      return "KVH = " + std::to_string(*kvh) + " must divide H = " + std::to_string(*h) +
             " (grouped-query attention shares each key/value head among H/KVH query heads)";
    }
    if (family == "attention") return flag("causal", "1 for a causal mask");
  }
  if (parse_collective_op(family)) return flag("in_place", "1 for the output in the input's buffer");
  if (family == "p2p") {
    const std::optional<int64_t> directions = value("directions");
    if (directions && *directions != 1 && *directions != 2) {
      return "directions is " + std::to_string(*directions) + ", expected 1 (src to dst) or 2 (both at once)";
    }
  }
  return std::nullopt;
}

}  // namespace aicbench
