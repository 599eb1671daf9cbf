#include "reports/sizing_model.hpp"

#include <algorithm>

#include "reports/datasheets.hpp"
#include "reports/json_input.hpp"
#include "reports/result_file.hpp"
#include "reports/schemas.hpp"
#include "reports/text_format.hpp"

namespace aicbench::sizing {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

fs::path models_dir() { return specs_dir() / "models"; }

// Bytes of one bf16 element: weights, activations and their gradients in flight.
constexpr double kBf16 = 2;

[[noreturn]] void refuse(const std::string& origin, const std::string& field, const std::string& why) {
  throw InputError(origin + ": field '" + field + "' " + why);
}

}  // namespace

std::vector<std::string> model_presets() {
  std::vector<std::string> names;
  if (fs::is_directory(models_dir())) {
    for (const auto& entry : fs::directory_iterator(models_dir())) {
      if (entry.path().extension() == ".json") names.push_back(entry.path().stem().string());
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

ModelSpec load_model(const std::string& name_or_path) {
  const bool is_path = name_or_path.find('/') != std::string::npos ||
                       (name_or_path.size() > 5 && name_or_path.ends_with(".json"));
  fs::path path = name_or_path;
  if (!is_path) {
    const std::vector<std::string> presets = model_presets();
    if (std::find(presets.begin(), presets.end(), name_or_path) == presets.end()) {
      const std::string shown = name_or_path.size() > 80 ? name_or_path.substr(0, 77) + "..." : name_or_path;
      const std::string nearest = nearest_word(name_or_path, presets);
      throw InputError("--model " + shown + ": unknown model" + (nearest.empty() ? "" : " (did you mean '" + nearest + "'?)") +
                       "; the presets are " +
                       (presets.empty() ? "(none found in " + models_dir().string() + ")" : reports::join(presets, ", ")) +
                       ", or give the path of a model file (docs/model-spec.schema.json)");
    }
    path = models_dir() / (name_or_path + ".json");
  }
  ModelSpec model = parse_model(read_json_file(path, "model file", kSpecFileLimits), path.string());
  if (!is_path && model.name != name_or_path) {
    refuse(path.string(), "name", "is '" + model.name + "', expected '" + name_or_path + "', the name of its file");
  }
  return model;
}

ModelSpec parse_model(const json& j, const std::string& origin) {
  model_spec_schema().validate(j, origin);
  ModelSpec m;
  m.origin = origin;
  m.name = j["name"].get<std::string>();
  m.description = j["description"].get<std::string>();
  m.source = j["source"].get<std::string>();
  m.layers = j["layers"].get<int64_t>();
  m.hidden = j["hidden"].get<int64_t>();
  m.heads = j["heads"].get<int64_t>();
  m.kv_heads = j["kv_heads"].get<int64_t>();
  m.head_dim = j["head_dim"].get<int64_t>();
  m.ffn_hidden = j["ffn_hidden"].get<int64_t>();
  m.gated_mlp = j["mlp"].get<std::string>() == "gated";
  m.vocab = j["vocab"].get<int64_t>();
  m.seq_len = j["seq_len"].get<int64_t>();
  m.tied_embeddings = j.value("tied_embeddings", false);
  if (j.contains("global_batch")) m.global_batch = j["global_batch"].get<int64_t>();
  m.global_batch_source = j.value("global_batch_source", "");
  if (j.contains("published_params")) {
    const json& p = j["published_params"];
    m.published_total = p["total"].get<double>();
    if (p.contains("active")) m.published_active = p["active"].get<double>();
    m.published_source = p["source"].get<std::string>();
  }
  if (j.contains("mla")) {
    const json& a = j["mla"];
    m.mla = Mla{a["q_lora_rank"].get<int64_t>(), a["kv_lora_rank"].get<int64_t>(), a["qk_nope_head_dim"].get<int64_t>(),
                a["qk_rope_head_dim"].get<int64_t>(), a["v_head_dim"].get<int64_t>()};
  }
  if (j.contains("moe")) {
    const json& e = j["moe"];
    m.moe = Moe{e["dense_layers"].get<int64_t>(), e["routed_experts"].get<int64_t>(), e["shared_experts"].get<int64_t>(),
                e["experts_per_token"].get<int64_t>(), e["expert_ffn_hidden"].get<int64_t>(),
                e.value("max_nodes_per_token", int64_t{0})};
  }
  // What the schema cannot say.
  if (m.heads % m.kv_heads != 0) {
    refuse(origin, "kv_heads", "is " + std::to_string(m.kv_heads) + ", which does not divide heads " + std::to_string(m.heads) +
                                   " (grouped-query attention shares each KV head among heads/kv_heads query heads)");
  }
  if (m.moe) {
    if (m.moe->dense_layers >= m.layers) {
      refuse(origin, "moe.dense_layers", "is " + std::to_string(m.moe->dense_layers) + ", expected below layers " +
                                             std::to_string(m.layers) + " (some blocks must have experts)");
    }
    if (m.moe->experts_per_token > m.moe->routed_experts) {
      refuse(origin, "moe.experts_per_token", "is " + std::to_string(m.moe->experts_per_token) +
                                                  ", more than moe.routed_experts " + std::to_string(m.moe->routed_experts));
    }
  }
  return m;
}

// ---------------------------------------------------------------------------------------------
// Parameters

ParamCount count_params(const ModelSpec& m) {
  ParamCount p;
  const double h = static_cast<double>(m.hidden);
  if (m.mla) {
    const Mla& a = *m.mla;
    const double heads = static_cast<double>(m.heads);
    p.attention = h * a.q_lora_rank + a.q_lora_rank * heads * (a.qk_nope_head_dim + a.qk_rope_head_dim) +
                  h * (a.kv_lora_rank + a.qk_rope_head_dim) + a.kv_lora_rank * heads * (a.qk_nope_head_dim + a.v_head_dim) +
                  heads * a.v_head_dim * h;
  } else {
    p.attention = h * (m.heads + 2.0 * m.kv_heads) * m.head_dim + static_cast<double>(m.heads) * m.head_dim * h;
  }
  const double matrices = m.gated_mlp ? 3 : 2;
  p.dense_mlp = matrices * h * m.ffn_hidden;
  if (m.moe) {
    p.one_expert = matrices * h * m.moe->expert_ffn_hidden;
    p.shared_experts = m.moe->shared_experts * p.one_expert;
    p.router = h * m.moe->routed_experts;
  }
  p.norms = 2 * h;
  p.embedding = static_cast<double>(m.vocab) * h;
  p.lm_head = m.tied_embeddings ? 0 : p.embedding;
  const double moe_layers = static_cast<double>(m.moe_layers());
  const double dense_layers = static_cast<double>(m.dense_mlp_layers());
  const double blocks = m.layers * (p.attention + p.norms) + dense_layers * p.dense_mlp;
  const double experts_all = m.moe ? moe_layers * (p.shared_experts + p.router + m.moe->routed_experts * p.one_expert) : 0;
  const double experts_active =
      m.moe ? moe_layers * (p.shared_experts + p.router + m.moe->experts_per_token * p.one_expert) : 0;
  p.total = blocks + experts_all + p.embedding + p.lm_head;
  p.active = blocks + experts_active + p.embedding + p.lm_head;
  return p;
}

// ---------------------------------------------------------------------------------------------
// Work

double AttentionWork::forward_flops() const {
  const double full = 2.0 * batch * heads * static_cast<double>(seq) * seq * (qk_dim + v_dim);
  return causal ? full / 2 : full;
}

double BlockWork::forward_flops() const {
  double flops = attention.forward_flops();
  for (const Gemm& g : gemms) flops += g.flops();
  return flops;
}

BlockWork block_work(const ModelSpec& m, BlockKind kind, const Cut& cut) {
  BlockWork w;
  w.kind = kind;
  const double t = static_cast<double>(cut.tp);
  const double tokens = static_cast<double>(cut.micro_batch) * m.seq_len;  // M of the TP GEMMs (sequence parallel gathers them)
  const double h = static_cast<double>(m.hidden);
  const double heads = static_cast<double>(m.heads);
  // Attention projections: column-parallel in, row-parallel out.
  if (m.mla) {
    const Mla& a = *m.mla;
    // The down-projections to the latents are small and not split over t (each rank computes them).
    w.gemms.push_back({"q_down", tokens, static_cast<double>(a.q_lora_rank), h});
    w.gemms.push_back({"q_up", tokens, heads * (a.qk_nope_head_dim + a.qk_rope_head_dim) / t, static_cast<double>(a.q_lora_rank)});
    w.gemms.push_back({"kv_down", tokens, static_cast<double>(a.kv_lora_rank + a.qk_rope_head_dim), h});
    w.gemms.push_back({"kv_up", tokens, heads * (a.qk_nope_head_dim + a.v_head_dim) / t, static_cast<double>(a.kv_lora_rank)});
    w.gemms.push_back({"attn_out", tokens, h, heads * a.v_head_dim / t});
  } else {
    // KV heads fewer than t are replicated: each rank still computes its query heads' keys and values.
    const double kv_per_rank = std::max(1.0, static_cast<double>(m.kv_heads) / t);
    w.gemms.push_back({"qkv", tokens, (heads / t + 2 * kv_per_rank) * m.head_dim, h});
    w.gemms.push_back({"attn_out", tokens, h, heads * m.head_dim / t});
  }
  w.attention = {cut.micro_batch, std::max<int64_t>(1, m.heads / cut.tp), std::max<int64_t>(1, m.kv_heads / cut.tp),
                 m.seq_len,       m.qk_head_dim(),                        m.v_head_dim(),
                 true};
  const bool gated = m.gated_mlp;
  if (kind == BlockKind::dense || !m.moe) {
    const double f = static_cast<double>(m.ffn_hidden) / t;
    w.gemms.push_back({gated ? "mlp_up_gate" : "mlp_up", tokens, (gated ? 2 : 1) * f, h});
    w.gemms.push_back({"mlp_down", tokens, h, f});
    return w;
  }
  const Moe& e = *m.moe;
  const double fe = static_cast<double>(e.expert_ffn_hidden);
  const double local_tokens = tokens / t;  // sequence parallel: a rank routes its shard of the tokens
  w.gemms.push_back({"router", local_tokens, static_cast<double>(e.routed_experts), h, 1, false});
  if (e.shared_experts > 0) {
    const double fs = e.shared_experts * fe / t;
    w.gemms.push_back({"shared_up_gate", tokens, (gated ? 2 : 1) * fs, h});
    w.gemms.push_back({"shared_down", tokens, h, fs});
  }
  const double experts_here = static_cast<double>(e.routed_experts) / cut.ep;
  const double tokens_per_expert = local_tokens * cut.ep * e.experts_per_token / e.routed_experts;
  w.gemms.push_back({"expert_up_gate", tokens_per_expert, (gated ? 2 : 1) * fe, h, experts_here});
  w.gemms.push_back({"expert_down", tokens_per_expert, h, fe, experts_here});
  return w;
}

Gemm lm_head_gemm(const ModelSpec& m, const Cut& cut) {
  return {"lm_head", static_cast<double>(cut.micro_batch) * m.seq_len, static_cast<double>(m.vocab) / cut.tp,
          static_cast<double>(m.hidden), 1, false};
}

double forward_flops_per_token(const ModelSpec& m) {
  // One sequence, no split: the micro-batch's FLOPs over its tokens. Experts: E/1 experts with
  // s k / E tokens each is s k expert passes, i.e. k experts per token.
  const Cut whole{1, 1, 1};
  const double tokens = static_cast<double>(m.seq_len);
  double flops = lm_head_gemm(m, whole).flops();
  flops += m.dense_mlp_layers() * block_work(m, BlockKind::dense, whole).forward_flops();
  if (m.moe) flops += m.moe_layers() * block_work(m, BlockKind::moe, whole).forward_flops();
  return flops / tokens;
}

double six_n_flops_per_token(const ModelSpec& m) {
  const ParamCount p = count_params(m);
  return 6 * (p.active - p.embedding);
}

// ---------------------------------------------------------------------------------------------
// Memory

double activation_bytes_per_token(const ModelSpec& m, BlockKind kind, bool full_recompute) {
  const double h = static_cast<double>(m.hidden);
  if (full_recompute) return kBf16 * h;
  // Attention: the norm's input, the projections' input, what the projections produce (Q, K, V;
  // with MLA the latents and the decompressed Q, K, V) and FlashAttention's output (its
  // softmax statistics are a few bytes per head and row, left out).
  double attention = 2 * h;
  if (m.mla) {
    const Mla& a = *m.mla;
    const double qk = static_cast<double>(a.qk_nope_head_dim + a.qk_rope_head_dim);
    attention += a.q_lora_rank + a.kv_lora_rank + a.qk_rope_head_dim + m.heads * (2 * qk + 2.0 * a.v_head_dim);
  } else {
    attention += (m.heads + 2.0 * m.kv_heads) * m.head_dim + static_cast<double>(m.heads) * m.head_dim;
  }
  // MLP: the norm's input, the first GEMM's input, its output (gate and up) and the activation's
  // output that the second GEMM reads.
  auto mlp = [&](double f) { return (m.gated_mlp ? 3 : 2) * f; };
  double ffn = 2 * h;
  if (kind == BlockKind::dense || !m.moe) {
    ffn += mlp(static_cast<double>(m.ffn_hidden));
  } else {
    const Moe& e = *m.moe;
    // Each token's copy sent to each of its k experts (the experts' input), and their inner
    // activations; the shared experts as a dense MLP; the router's scores are small.
    ffn += e.experts_per_token * (h + mlp(static_cast<double>(e.expert_ffn_hidden))) +
           mlp(static_cast<double>(e.shared_experts * e.expert_ffn_hidden));
  }
  return kBf16 * (attention + ffn);
}

}  // namespace aicbench::sizing
