#pragma once
// The sizing model behind `aicbench size` (docs/sizing.md): the time of one training step of a
// transformer (reports/sizing_model.hpp) on N GPUs of a candidate (reports/sizing_hardware.hpp),
// built from the candidate's own measured rates, and what follows from it: MFU, days to train D
// tokens, GPUs needed for a deadline, energy. This header is the library API: `aicbench size`
// renders what it returns (reports/sizing_render.hpp), and `aicbench score` asks it for the
// training capacity a budget buys (training_capacity below).
//
// Step time of a layout (tensor-parallel t, pipeline-parallel p, data-parallel d, expert-parallel
// e, micro-batch b sequences, m micro-batches per step, v interleaved stages):
//
//   per micro-batch on a stage: its blocks' forward and backward GEMMs at the GEMM rate measured
//     at (or interpolated to) each GEMM's shape, attention at the measured fused-attention rate
//     (backward 2.5x the forward FLOPs: FlashAttention recomputes the scores), "other" kernels
//     (norms, activations, optimizer) as a stated fraction, the exposed share of the
//     tensor-parallel all-reduces (measured on the node) and of the expert all-to-alls
//     (collective model), the pipeline sends; with full recomputation one more forward;
//   pipeline (1F1B, Narayanan et al. 2021): (m + (p-1)/v) x the slowest stage's micro-batch time;
//   data parallel (ZeRO-1: reduce-scatter of gradients, all-gather of parameters, collective
//     model at the data-parallel group's span): what the last backward and first forward do not hide.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "reports/model_collective.hpp"
#include "reports/sizing_hardware.hpp"
#include "reports/sizing_model.hpp"

namespace aicbench::sizing {

// Activation recomputation (Chen et al. 2016; Megatron-LM's --recompute-granularity full): a block
// that recomputes keeps only its input and runs its forward again in the backward. partial: the
// fewest blocks of each stage that make the stage fit (Megatron's --recompute-method block
// --recompute-num-layers), as a share of its blocks.
enum class Recompute { none, partial, full };
std::string_view to_string(Recompute recompute);

struct Layout {
  int64_t tp = 1, pp = 1, dp = 1, ep = 1;
  int64_t micro_batch = 1;     // sequences
  int64_t virtual_stages = 1;  // interleaved 1F1B chunks per GPU (1: plain 1F1B)
  Recompute recompute = Recompute::none;
  double recompute_share = 0;  // partial: the share of blocks recomputed (chosen to fit), else 0 or 1
  int64_t gpus() const { return tp * pp * dp; }
  std::string describe() const;  // "tp=8 pp=8 dp=192 ep=1 b=1 v=1 recompute=none"
};

// The parts of the layout a user fixed; the others are searched.
struct LayoutChoice {
  std::optional<int64_t> tp, pp, ep, micro_batch, virtual_stages;
  std::optional<Recompute> recompute;
};

// Every stated assumption of the model, with its default; docs/sizing.md gives each one's reason.
struct Assumptions {
  std::string dtype = "bf16";            // the dtype of the blocks' GEMMs (bf16 or fp8); LM head and attention stay bf16
  int64_t gpus_per_node = 8;
  double other_fraction = 0.10;          // non-GEMM, non-attention kernel time, of GEMM + attention time
  double attention_fallback = 0.5;       // attention rate without attention rows, of the fastest bf16 GEMM rate
  double attention_backward = 2.5;       // backward / forward attention FLOPs actually executed
  double tp_overlap = 0;                 // share of tensor-parallel communication hidden under compute
  double ep_overlap = 0;                 // share of expert all-to-all hidden
  bool dp_overlap = true;                // reduce-scatter under the last backward, all-gather under the first forward
  double grad_bytes = 4;                 // bytes per gradient element reduce-scattered (fp32 main grads)
  double memory_reserve = 0.10;          // of each GPU's memory kept for the allocator, NCCL, workspaces
  double batch_tolerance = 0.10;         // how far the global batch may move to fit d x b x m
  std::optional<double> nic_gbps;        // Gb/s per GPU across nodes (else the collective model's assumption)
  std::optional<double> nic_latency_us;
};

// The network a candidate's step sees: the collective model's terms (fitted to its collective
// rows where there are some), and its measured all-reduce times on one node for tensor parallel.
struct Network {
  model::Terms terms;
  std::vector<model::MeasuredPoint> node_all_reduce;  // one implementation (nccl where present), one node
  std::vector<std::string> notes;
};
Network network_of(const Candidate& candidate, const Assumptions& assumptions);

// One collective of the step, as used.
struct CommUse {
  std::string name;     // "tp all-reduce", "ep all-to-all", "dp reduce-scatter", "pp send"
  std::string group;    // "8 ranks on 1 node", ...
  double bytes = 0;     // nccl-tests' size
  double time_s = 0;    // one call
  double per_step = 0;  // calls on the critical path per step
  double exposed_s = 0; // per step, after overlap
  Source source = Source::derived;
  std::string detail;
};

struct GemmUse {
  std::string block;  // "dense block", "MoE block", "LM head"
  Gemm gemm;
  std::string dtype;
  Rate forward, dgrad, wgrad;  // TFLOP/s at the forward shape and the two backward shapes
  double time_s = 0;           // forward + backward, one micro-batch
};

struct Memory {
  double weights = 0, grads = 0, optimizer = 0, activations = 0, logits = 0;
  double total = 0;   // the fullest stage
  double usable = 0;  // capacity less the reserve
  bool fits() const { return total <= usable; }
};

// Seconds per step on the critical path; the parts add up to the step time.
struct Breakdown {
  double gemm = 0, attention = 0, other = 0;      // compute, recomputation included
  double tp_comm = 0, ep_comm = 0, pp_comm = 0;   // exposed, per micro-batch times m
  double dp_comm = 0;                             // exposed after the step's compute
  double bubble = 0;                              // (p-1)/v micro-batch times
  double recompute = 0;                           // of gemm + attention + other + tp_comm: the extra forward
  double total() const { return gemm + attention + other + tp_comm + ep_comm + pp_comm + dp_comm + bubble; }
  double communication() const { return tp_comm + ep_comm + pp_comm + dp_comm; }
};

struct StepEstimate {
  Layout layout;
  int64_t global_batch = 0;   // sequences per step, d x b x m (may differ from the one asked for)
  int64_t micro_batches = 0;  // m
  std::vector<int64_t> stage_layers;  // blocks per pipeline stage
  double step_time_s = 0;
  Breakdown breakdown;
  double tokens_per_step = 0;
  double tokens_per_s = 0;
  double model_flops_per_step = 0;  // 3 x forward model FLOPs (no recomputation)
  double mfu = 0;                   // against the dense datasheet peak of the GEMMs' dtype
  double mfu_bf16 = 0;              // against the dense bf16 peak
  Memory memory;
  std::vector<GemmUse> gemms;       // one of each block kind and the LM head
  Rate attention;                   // the rate used for attention
  std::vector<CommUse> comms;
  std::vector<std::string> flags;   // every DATASHEET, ASSUMED or clamped figure used
};

// The step of one layout. Throws InputError (exit 2) naming the option for a layout that cannot
// be (tp not dividing the node or the heads, pp above the blocks, ep not dividing the experts, the
// global batch out of tolerance); a layout that does not fit memory is returned with
// memory.fits() false.
StepEstimate estimate_step(const ModelSpec& model, const Candidate& candidate, const Network& network,
                           const Layout& layout, int64_t global_batch, const Assumptions& assumptions);

// The fastest layout of `gpus` GPUs that fits, searched over what `choice` leaves open.
struct Search {
  StepEstimate best;
  size_t tried = 0, valid = 0, fit = 0;
};
// Throws InputError naming the options when no layout is valid or none fits.
Search search_layout(const ModelSpec& model, const Candidate& candidate, const Network& network, int64_t gpus,
                     int64_t global_batch, const LayoutChoice& choice, const Assumptions& assumptions);

// ---------------------------------------------------------------------------------------------
// Answers

struct Energy {
  Rate power_w;           // per GPU
  double pue = 1.0;
  double mwh = 0;         // whole run, facility (GPU power x PUE; the rest of the node left out)
  std::optional<double> cost_won;  // with a price per kWh
};

struct Training {
  double tokens = 0;
  int64_t gpus = 0;
  Search search;
  double days = 0;
  double gpu_hours = 0;
  std::optional<Energy> energy;  // absent without a power figure
};

struct EnergyOptions {
  double pue = 1.0;
  std::optional<double> won_per_kwh;
};

// D tokens on `gpus` GPUs: the fastest fitting layout, days, GPU-hours, energy.
Training train(const ModelSpec& model, const Candidate& candidate, const Network& network, double tokens, int64_t gpus,
               int64_t global_batch, const LayoutChoice& choice, const Assumptions& assumptions,
               const EnergyOptions& energy);

struct Deadline {
  double days = 0;
  std::optional<Training> needed;  // the fewest GPUs (whole nodes) found that finish in time
  std::string why_not;             // when none up to the search's limit does
};
// The fewest whole nodes of GPUs that train D tokens within `days`, by bisection over node counts
// (each with its own fastest layout) up to `max_gpus`.
Deadline gpus_for_deadline(const ModelSpec& model, const Candidate& candidate, const Network& network, double tokens,
                           double days, int64_t global_batch, const LayoutChoice& choice,
                           const Assumptions& assumptions, const EnergyOptions& energy, int64_t max_gpus = 1 << 20);

// For `aicbench score`: what `gpus` GPUs of a candidate deliver on a model, at the fastest
// layout that fits. Tokens per second, per day, MFU, the step and its breakdown.
struct Capacity {
  double tokens_per_s = 0;
  double tokens_per_day = 0;
  double mfu = 0;
  StepEstimate step;
};
Capacity training_capacity(const ModelSpec& model, const Candidate& candidate, int64_t gpus,
                           const Assumptions& assumptions = {}, const LayoutChoice& choice = {});

// The global batch a model trains with: the option, else the model file's, else refuse (exit 2).
int64_t global_batch_of(const ModelSpec& model, std::optional<int64_t> option);

}  // namespace aicbench::sizing
