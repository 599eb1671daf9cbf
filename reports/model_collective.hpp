#pragma once
// The collective model behind `aicbench model collective` (docs/collective-model.md): the time of
// a collective from latency-bandwidth terms (Hockney's alpha-beta: a step that moves m bytes
// costs alpha + m * beta), per algorithm, with each algorithm's step count and bytes per step,
// for one group of ranks laid out over nodes. Nothing here reads files or prints: the terms come
// in (reports/model_fit.hpp fits them to result files), predictions go out (model_render.hpp).
//
//   ring          NCCL's ring: 2(p-1) steps of S/p for all_reduce, of which 2(N-1) cross nodes
//   tree          NCCL's double binary tree: a chain inside each node, two binary trees across
//                 nodes, each carrying half the data; 2((g-1) + ceil(log2 N)) steps, 2S per rank
//   hierarchical  three collectives one after another: reduce-scatter inside each node, an
//                 all-reduce of S/g across nodes (one per GPU rail; ring or tree, the faster),
//                 all-gather inside each node
//   nvls          NVLink SHARP: the NVSwitch reduces (multimem.ld_reduce) and multicasts
//                 (multimem.st); per GPU S out and S/g in for the reduction, S/g out and S in for
//                 the multicast, pipelined; across nodes the same with an all-reduce of S/g per
//                 rail in the pipeline (NCCL's NVLS tree)
//   pairwise      all_to_all: p-1 exchanges, (g-1) inside the node and p-g across nodes
//
// p ranks, N nodes, g = p/N ranks of the group per node, S = nccl-tests' size (the `bytes`
// parameter: per-rank buffer for all_reduce and broadcast, the whole gathered/scattered buffer
// for all_gather, reduce_scatter and all_to_all).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "collectives/collective_ops.hpp"

namespace aicbench::model {

// Where a term's value came from; every figure the command prints carries it.
enum class Origin { fitted, option, assumed };
std::string_view to_string(Origin origin);  // "fitted", "option", "assumed"

struct Term {
  double value = 0;  // seconds (alpha) or seconds per byte (beta)
  Origin origin = Origin::assumed;
  std::string source;  // what fitted it, the option that set it, or the assumption and its source
};

// The machine a prediction runs on. Betas are per byte one rank sends or receives over its own
// link: the node's fabric (NVLink through NVSwitch, or a CPU node's shared memory), one NIC per
// GPU (a rail-optimised, non-blocking fat tree: every GPU's NIC at full rate at once), and one
// GPU's link to the NVSwitch when the switch reduces (NVLS).
struct Terms {
  Term intra_alpha, intra_beta;  // one step between two ranks of one node
  Term inter_alpha, inter_beta;  // one step across nodes; beta through one GPU's NIC
  Term nvls_alpha, nvls_beta;    // one NVLS phase (reduction or multicast)
};

// Datasheet-like values for an H100/H200 SXM node with 400 Gb/s NDR InfiniBand per GPU, each
// flagged `assumed` with its source (docs/collective-model.md, "Defaults").
Terms assumed_terms();

// How a group of ranks sits on the machine: `nodes` nodes with `per_node` of the group's ranks
// each (ranks = nodes * per_node).
struct Span {
  int64_t ranks = 0;
  int64_t nodes = 1;
  int64_t per_node = 0;
};

enum class Algorithm { ring, tree, hierarchical, nvls, pairwise };
std::string_view to_string(Algorithm algorithm);

struct Prediction {
  Algorithm algorithm = Algorithm::ring;
  bool applicable = true;
  std::string note;  // why it does not apply, or what it chose (the inter-node phase's algorithm)
  double time_s = 0;
  double latency_s = 0;    // the alpha part
  double bandwidth_s = 0;  // the beta part (time = latency + bandwidth)
  double algbw_gbps = 0;   // bytes / time, 1e9 bytes per GB as nccl-tests
  double busbw_gbps = 0;   // algbw * busbw_factor(op, ranks)
};

// The algorithms modelled for an operation: all_reduce ring, tree, hierarchical, nvls;
// all_to_all pairwise; all_gather, reduce_scatter, broadcast ring.
std::vector<Algorithm> algorithms_for(CollectiveOp op);

// One algorithm's prediction; `applicable` false (with the reason) where it does not exist for
// this op or span. Requires span.ranks >= 2, bytes > 0.
Prediction predict(CollectiveOp op, Algorithm algorithm, const Span& span, double bytes, const Terms& terms);
std::vector<Prediction> predict_all(CollectiveOp op, const Span& span, double bytes, const Terms& terms);
// The fastest applicable prediction (there is always one: ring or pairwise).
const Prediction& fastest(const std::vector<Prediction>& predictions);

// ---------------------------------------------------------------------------------------------
// Fitting shapes: the step structure of an implementation measured on one node, as the two
// coefficients of time = alpha_steps * alpha + beta_bytes * beta. Linear in alpha and beta, so a
// least-squares fit recovers them (reports/model_fit.hpp).

enum class Shape {
  ring,     // the op's ring: as Algorithm::ring (pairwise for all_to_all, a pipelined chain for broadcast)
  rhd,      // Thakur et al. 2005: recursive halving and doubling (all_reduce: Rabenseifner's, with
            // the extra step in and out for a rank count that is not a power of two); recursive
            // doubling all_gather, recursive halving reduce_scatter; binomial-tree broadcast
  oneshot,  // all_reduce: every rank copies its S into a shared buffer and reads the p-1 others
  twoshot,  // all_reduce: reduce-scatter then all-gather through shared buffers, 2 synchronisations
  nvls,     // all_reduce: as Algorithm::nvls on one node
};
std::string_view to_string(Shape shape);
bool parse_shape(std::string_view name, Shape& shape);

// The shape an implementation's rows are fitted with (docs/collective-model.md, "Shapes"):
// ring, nccl, nccl_symmetric, mpi -> ring; rhd -> rhd; oneshot_* -> oneshot; twoshot_* -> twoshot;
// multimem -> nvls; anything else -> ring.
Shape shape_of_impl(CollectiveOp op, std::string_view impl);
// Whether `shape` describes `op` (oneshot, twoshot and nvls are all_reduce only; rhd has no
// all_to_all).
bool shape_supports(CollectiveOp op, Shape shape);

struct Coefficients {
  double alpha_steps = 0;  // how many alphas
  double beta_bytes = 0;   // how many betas (bytes through the busiest link)
};
// On one node of `ranks` ranks (ranks >= 2).
Coefficients single_node_coefficients(CollectiveOp op, Shape shape, int64_t ranks, double bytes);

// The op's ring (pairwise for all_to_all) across nodes, for fitting the inter-node terms with the
// intra-node ones known: time = intra_steps * intra_alpha + inter_steps * inter_alpha +
// intra_beta_bytes * intra_beta + inter_beta_bytes * inter_beta. For a ring this assumes the NIC
// is the bottleneck (beta_inter / g >= beta_intra), as a multi-node fit must; all_to_all moves
// its intra- and inter-node bytes one after the other.
struct RingAcrossNodes {
  double intra_steps = 0, inter_steps = 0, inter_beta_bytes = 0, intra_beta_bytes = 0;
};
RingAcrossNodes ring_across_nodes(CollectiveOp op, const Span& span, double bytes);

// ceil(log2(n)) for n >= 1.
int64_t ceil_log2(int64_t n);

// Sizes as nccl-tests writes them: a whole number of bytes with an optional binary suffix, K, M,
// G, T or KiB, MiB, GiB, TiB (1K = 1024), or B. nullopt for anything else, for 0 or less, and
// past 2^53 (where doubles stop counting bytes exactly).
std::optional<double> parse_bytes(std::string_view text);
// "8 B", "64 KiB", "1.5 MiB", "8 GiB".
std::string format_bytes(double bytes);

}  // namespace aicbench::model
