#pragma once
// The transformer `aicbench size` sizes (docs/sizing.md, "The model"): its shapes, read from a
// model description (specs/models/<name>.json or a user's file, docs/model-spec.schema.json), and
// what one training step asks of one GPU: every GEMM at its real shape, attention at its sequence
// length, the parameters and activations a GPU holds. Pure arithmetic on shapes: no hardware here
// (reports/sizing_hardware.hpp), no timing (reports/sizing.hpp).
//
// Conventions (Megatron-LM's, Narayanan et al. 2021; Korthikanti et al. 2022):
//   tensor parallel t: column-parallel GEMMs split N, row-parallel GEMMs split K, with sequence
//     parallelism (the tokens between them are sharded over t, so norms and activations are too);
//   expert parallel e: the routed experts spread over e ranks folded into the t x d ranks of a
//     stage (Megatron-Core's "MoE parallel folding"), experts not tensor-split; a GPU holds E/e
//     experts and its share of the tokens, (b s / t) e k / E per expert;
//   attention FLOPs: 2 B H Sq Sk (d_qk + d_v) per forward, halved for a causal mask (the
//     FlashAttention convention of the attention family: 4 B H S S D with d_qk = d_v = D).
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace aicbench::sizing {

// Multi-head latent attention (DeepSeek-V2/V3), as training computes it: low-rank query and
// key/value projections, keys and values decompressed per head.
struct Mla {
  int64_t q_lora_rank = 0, kv_lora_rank = 0, qk_nope_head_dim = 0, qk_rope_head_dim = 0, v_head_dim = 0;
};

struct Moe {
  int64_t dense_layers = 0;       // the first blocks keep a dense MLP
  int64_t routed_experts = 0;     // E
  int64_t shared_experts = 0;     // every token passes through these
  int64_t experts_per_token = 0;  // k
  int64_t expert_ffn_hidden = 0;  // inner width of one expert
  int64_t max_nodes_per_token = 0;  // node-limited routing (DeepSeek-V3: 4); 0: no limit
};

struct ModelSpec {
  std::string name, description, source;
  std::string origin;  // the file it was read from
  int64_t layers = 0, hidden = 0, heads = 0, kv_heads = 0, head_dim = 0, ffn_hidden = 0, vocab = 0, seq_len = 0;
  bool gated_mlp = true;  // SwiGLU (three matrices) or GELU (two)
  bool tied_embeddings = false;
  std::optional<int64_t> global_batch;  // sequences per step in the published recipe
  std::string global_batch_source;
  std::optional<double> published_total, published_active;
  std::string published_source;
  std::optional<Mla> mla;
  std::optional<Moe> moe;

  int64_t moe_layers() const { return moe ? layers - moe->dense_layers : 0; }
  int64_t dense_mlp_layers() const { return layers - moe_layers(); }
  int64_t qk_head_dim() const { return mla ? mla->qk_nope_head_dim + mla->qk_rope_head_dim : head_dim; }
  int64_t v_head_dim() const { return mla ? mla->v_head_dim : head_dim; }
};

// The presets, specs/models/*.json, by name.
std::vector<std::string> model_presets();
// A preset's name, or a path to a model file (anything with a '/' or ending in .json). Throws
// InputError (exit 2) naming --model and the presets for an unknown name, or the file and field
// for a malformed file (schema docs/model-spec.schema.json, then the checks it cannot say).
ModelSpec load_model(const std::string& name_or_path);
ModelSpec parse_model(const nlohmann::json& json, const std::string& origin);

// ---------------------------------------------------------------------------------------------
// Parameters

struct ParamCount {
  double attention = 0;     // per block
  double dense_mlp = 0;     // per dense block
  double shared_experts = 0;  // per MoE block
  double one_expert = 0;    // one routed expert
  double router = 0;        // per MoE block
  double embedding = 0;     // the input embedding
  double lm_head = 0;       // 0 when tied to the embedding
  double norms = 0;         // per block
  double total = 0;
  double active = 0;        // what one token passes through (routed experts: k of E)
};
ParamCount count_params(const ModelSpec& model);

// ---------------------------------------------------------------------------------------------
// Work: the GEMMs and attention of one block, or of the LM head, on one GPU for one micro-batch.

struct Gemm {
  std::string name;  // "qkv", "attn_out", "mlp_up_gate", "expert_down", ...
  double m = 0, n = 0, k = 0;  // C[m,n] = A[m,k] B[k,n]; m may be fractional for an expert's tokens
  double count = 1;            // how many of this GEMM (experts on this GPU)
  bool low_precision = true;   // runs at the training dtype (fp8 when chosen); false: stays bf16
  double flops() const { return 2.0 * m * n * k * count; }
};

struct AttentionWork {
  int64_t batch = 0, heads = 0, kv_heads = 0, seq = 0, qk_dim = 0, v_dim = 0;
  bool causal = true;
  double forward_flops() const;  // 2 B H S S (d_qk + d_v), halved for causal
};

// How one GPU's share of the model is cut: tensor-parallel t, expert-parallel e (MoE only), and
// the micro-batch of b sequences.
struct Cut {
  int64_t tp = 1, ep = 1, micro_batch = 1;
};

enum class BlockKind { dense, moe };

struct BlockWork {
  BlockKind kind = BlockKind::dense;
  std::vector<Gemm> gemms;  // forward; backward does each GEMM twice (dgrad, wgrad)
  AttentionWork attention;
  double forward_flops() const;  // GEMMs + attention, this GPU
};

BlockWork block_work(const ModelSpec& model, BlockKind kind, const Cut& cut);
// The LM head (vocabulary-parallel over t), on the last pipeline stage; stays bf16.
Gemm lm_head_gemm(const ModelSpec& model, const Cut& cut);

// Model FLOPs per token, forward, the whole model (no parallel split): every GEMM with its
// weights (routed experts: k of them, shared experts, router), attention at the model's
// sequence length with the causal halving, and the LM head. Training: 3x (forward + backward
// twice), never counting recomputation (the MFU convention of PaLM, Chowdhery et al. 2022).
double forward_flops_per_token(const ModelSpec& model);
// The 6 N rule of thumb per token, N the active parameters without the embedding: a cross-check.
double six_n_flops_per_token(const ModelSpec& model);

// ---------------------------------------------------------------------------------------------
// Memory of one GPU (docs/sizing.md, "Memory")

// Bytes of activations one block keeps for the backward pass per token of a micro-batch, before
// the split over t (sequence parallelism divides all of it by t): bf16, no dropout, FlashAttention
// (no S x S scores kept). With full recomputation a block keeps only its input: 2 h bytes.
double activation_bytes_per_token(const ModelSpec& model, BlockKind kind, bool full_recompute);

}  // namespace aicbench::sizing
