#include "reports/model_collective.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

namespace aicbench::model {

namespace {

// 1e9 bytes per GB: nccl-tests' unit for algbw and busbw.
constexpr double kBytesPerGB = 1e9;

// Seconds per byte for a bandwidth in GB/s.
constexpr double per_byte(double gb_per_s) { return 1.0 / (gb_per_s * kBytesPerGB); }

// The one phase of an algorithm as a latency and a bandwidth part.
struct Cost {
  double latency = 0, bandwidth = 0;
  double total() const { return latency + bandwidth; }
};

// Per byte through the slowest link a ring or tree path uses: the node's fabric between ranks of
// one node, and across nodes the group's g NICs on each node, one per GPU.
double path_beta(const Span& span, const Terms& t) {
  double beta = 0;
  if (span.per_node > 1) beta = std::max(beta, t.intra_beta.value);
  if (span.nodes > 1) beta = std::max(beta, t.inter_beta.value / static_cast<double>(span.per_node));
  return beta;
}

// NCCL's ring step counts (src/graph/tuning.cc: nsteps, nInterSteps) and the bytes each rank sends
// over the whole operation.
struct RingSteps {
  double steps = 0, inter_steps = 0, bytes = 0;
};
RingSteps ring_steps(CollectiveOp op, const Span& span, double bytes) {
  const double p = static_cast<double>(span.ranks), n = static_cast<double>(span.nodes);
  switch (op) {
    case CollectiveOp::all_reduce: return {2 * (p - 1), 2 * (n - 1), 2 * (p - 1) / p * bytes};
    case CollectiveOp::all_gather:
    case CollectiveOp::reduce_scatter:
    case CollectiveOp::all_to_all: return {p - 1, n - 1, (p - 1) / p * bytes};
    // A pipelined chain: p-1 hops, the whole buffer through each (the chunks' own latency is
    // folded into alpha).
    case CollectiveOp::broadcast: return {p - 1, n - 1, bytes};
  }
  return {};
}

Cost ring_cost(CollectiveOp op, const Span& span, double bytes, const Terms& t) {
  const RingSteps r = ring_steps(op, span, bytes);
  return {(r.steps - r.inter_steps) * t.intra_alpha.value + r.inter_steps * t.inter_alpha.value,
          r.bytes * path_beta(span, t)};
}

// All-reduce across N nodes of `bytes` per rank, one rank per node (one rail): ring or tree,
// whichever is faster; `chose` says which.
Cost inter_node_all_reduce(int64_t nodes, double bytes, const Terms& t, std::string& chose) {
  const double n = static_cast<double>(nodes);
  const Cost ring{2 * (n - 1) * t.inter_alpha.value, 2 * (n - 1) / n * bytes * t.inter_beta.value};
  const Cost tree{2 * static_cast<double>(ceil_log2(nodes)) * t.inter_alpha.value, 2 * bytes * t.inter_beta.value};
  const bool use_tree = tree.total() < ring.total();
  chose = use_tree ? "tree" : "ring";
  return use_tree ? tree : ring;
}

Prediction finish(CollectiveOp op, Algorithm algorithm, const Span& span, double bytes, Cost cost,
                  std::string note = "") {
  Prediction p;
  p.algorithm = algorithm;
  p.note = std::move(note);
  p.latency_s = cost.latency;
  p.bandwidth_s = cost.bandwidth;
  p.time_s = cost.total();
  if (p.time_s > 0) {
    p.algbw_gbps = bytes / p.time_s / kBytesPerGB;
    p.busbw_gbps = p.algbw_gbps * busbw_factor(op, static_cast<int>(std::min<int64_t>(span.ranks, 1 << 30)));
  }
  return p;
}

Prediction not_applicable(Algorithm algorithm, std::string why) {
  Prediction p;
  p.algorithm = algorithm;
  p.applicable = false;
  p.note = std::move(why);
  return p;
}

}  // namespace

std::string_view to_string(Origin origin) {
  switch (origin) {
    case Origin::fitted: return "fitted";
    case Origin::option: return "option";
    case Origin::assumed: return "assumed";
  }
  return "";
}

std::string_view to_string(Algorithm algorithm) {
  switch (algorithm) {
    case Algorithm::ring: return "ring";
    case Algorithm::tree: return "tree";
    case Algorithm::hierarchical: return "hierarchical";
    case Algorithm::nvls: return "nvls";
    case Algorithm::pairwise: return "pairwise";
  }
  return "";
}

std::string_view to_string(Shape shape) {
  switch (shape) {
    case Shape::ring: return "ring";
    case Shape::rhd: return "rhd";
    case Shape::oneshot: return "oneshot";
    case Shape::twoshot: return "twoshot";
    case Shape::nvls: return "nvls";
  }
  return "";
}

bool parse_shape(std::string_view name, Shape& shape) {
  for (Shape s : {Shape::ring, Shape::rhd, Shape::oneshot, Shape::twoshot, Shape::nvls}) {
    if (to_string(s) == name) {
      shape = s;
      return true;
    }
  }
  return false;
}

int64_t ceil_log2(int64_t n) {
  int64_t bits = 0;
  while ((int64_t{1} << bits) < n) ++bits;
  return bits;
}

std::optional<double> parse_bytes(std::string_view text) {
  uint64_t number = 0;
  const char* end = text.data() + text.size();
  const auto [rest, error] = std::from_chars(text.data(), end, number);
  if (error != std::errc() || rest == text.data()) return std::nullopt;
  const std::string_view suffix(rest, static_cast<size_t>(end - rest));
  static constexpr std::pair<std::string_view, int> kSuffixes[] = {
      {"", 0}, {"B", 0}, {"K", 10}, {"KiB", 10}, {"M", 20}, {"MiB", 20}, {"G", 30}, {"GiB", 30}, {"T", 40}, {"TiB", 40}};
  for (const auto& [name, shift] : kSuffixes) {
    if (suffix != name) continue;
    if (number == 0 || number > (uint64_t{1} << 53) >> shift) return std::nullopt;
    return std::ldexp(static_cast<double>(number), shift);
  }
  return std::nullopt;
}

std::string format_bytes(double bytes) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  int unit = 0;
  while (bytes >= 1024 && unit < 5) {
    bytes /= 1024;
    ++unit;
  }
  char buffer[48];
  if (bytes == std::floor(bytes)) std::snprintf(buffer, sizeof buffer, "%.0f %s", bytes, kUnits[unit]);
  else std::snprintf(buffer, sizeof buffer, "%.3g %s", bytes, kUnits[unit]);
  return buffer;
}

Terms assumed_terms() {
  Terms t;
  t.intra_alpha = {1.0e-6, Origin::assumed,
                   "assumed: 1 us per NVLink step (NCCL's own tuning model puts one NVLink ring step at 0.5 to "
                   "4 us by protocol, src/graph/tuning.cc hwLat)"};
  t.intra_beta = {per_byte(370), Origin::assumed,
                  "assumed: 370 GB/s per GPU, nccl-tests' ring busbw on 8x H100 SXM (issue 10's target; NVLink 4 "
                  "is 450 GB/s per direction on the datasheet)"};
  t.inter_alpha = {5.0e-6, Origin::assumed,
                   "assumed: 5 us per step across nodes (InfiniBand NDR through NCCL's proxy; NCCL's tuning model "
                   "uses a few us to 14 us per network step)"};
  t.inter_beta = {per_byte(400.0 / 8.0), Origin::assumed,
                  "assumed: 400 Gb/s NDR InfiniBand per GPU (50 GB/s, line rate), rail-optimised non-blocking fat "
                  "tree"};
  t.nvls_alpha = {2.0e-6, Origin::assumed, "assumed: 2 us per NVLS phase (reduction or multicast)"};
  t.nvls_beta = {per_byte(309), Origin::assumed,
                 "assumed: 309 GB/s per GPU link to the NVSwitch, which makes 480 GB/s NVLS busbw on 8x H100 "
                 "(issue 10's target)"};
  return t;
}

std::vector<Algorithm> algorithms_for(CollectiveOp op) {
  switch (op) {
    case CollectiveOp::all_reduce:
      return {Algorithm::ring, Algorithm::tree, Algorithm::hierarchical, Algorithm::nvls};
    case CollectiveOp::all_to_all: return {Algorithm::pairwise};
    default: return {Algorithm::ring};
  }
}

Prediction predict(CollectiveOp op, Algorithm algorithm, const Span& span, double bytes, const Terms& t) {
  const double g = static_cast<double>(span.per_node);
  const bool all_reduce = op == CollectiveOp::all_reduce;
  switch (algorithm) {
    case Algorithm::ring:
      if (op == CollectiveOp::all_to_all) return not_applicable(algorithm, "all_to_all is modelled as pairwise");
      return finish(op, algorithm, span, bytes, ring_cost(op, span, bytes, t));

    case Algorithm::tree: {
      if (!all_reduce) return not_applicable(algorithm, "modelled for all_reduce only");
      // NCCL: latency 2((g-1) intraLat + log2(N) interLat), algbw busBw / 2, i.e. 2S per rank.
      const Cost cost{2 * ((g - 1) * t.intra_alpha.value +
                           static_cast<double>(ceil_log2(span.nodes)) * t.inter_alpha.value),
                      2 * bytes * path_beta(span, t)};
      return finish(op, algorithm, span, bytes, cost,
                    span.nodes == 1 ? "one node: NCCL's tree is a chain inside a node" : "");
    }

    case Algorithm::hierarchical: {
      if (!all_reduce) return not_applicable(algorithm, "modelled for all_reduce only");
      // Reduce-scatter and all-gather as rings inside the node, each (g-1) steps of S/g.
      const Cost intra{2 * (g - 1) * t.intra_alpha.value, 2 * (g - 1) / g * bytes * t.intra_beta.value};
      if (span.nodes == 1) {
        return finish(op, algorithm, span, bytes, intra, "one node: the same steps as ring");
      }
      std::string chose;
      const Cost inter = inter_node_all_reduce(span.nodes, bytes / g, t, chose);
      return finish(op, algorithm, span, bytes, {intra.latency + inter.latency, intra.bandwidth + inter.bandwidth},
                    "inter-node all-reduce of S/" + std::to_string(span.per_node) + ": " + chose);
    }

    case Algorithm::nvls: {
      if (!all_reduce) return not_applicable(algorithm, "modelled for all_reduce only");
      if (span.per_node < 2) {
        return not_applicable(algorithm, "NVLS reduces inside a node's NVSwitch; this group has one rank per node");
      }
      // Reduction: S out, S/g in per GPU; multicast: S/g out, S in; pipelined, so each direction
      // carries (g+1)/g S.
      const double switch_bytes = (g + 1) / g * bytes;
      Cost cost{2 * t.nvls_alpha.value, switch_bytes * t.nvls_beta.value};
      std::string note;
      if (span.nodes > 1) {
        std::string chose;
        const Cost inter = inter_node_all_reduce(span.nodes, bytes / g, t, chose);
        cost.latency += inter.latency;
        cost.bandwidth = std::max(cost.bandwidth, inter.bandwidth);
        note = "with an inter-node all-reduce of S/" + std::to_string(span.per_node) + " (" + chose +
               ") in the pipeline";
      }
      return finish(op, algorithm, span, bytes, cost, note);
    }

    case Algorithm::pairwise: {
      if (op != CollectiveOp::all_to_all) return not_applicable(algorithm, "modelled for all_to_all only");
      const double p = static_cast<double>(span.ranks);
      const Cost cost{(g - 1) * t.intra_alpha.value + (p - g) * t.inter_alpha.value,
                      (g - 1) / p * bytes * t.intra_beta.value + (p - g) / p * bytes * t.inter_beta.value};
      return finish(op, algorithm, span, bytes, cost);
    }
  }
  return not_applicable(algorithm, "unknown algorithm");
}

std::vector<Prediction> predict_all(CollectiveOp op, const Span& span, double bytes, const Terms& terms) {
  std::vector<Prediction> out;
  for (Algorithm a : algorithms_for(op)) out.push_back(predict(op, a, span, bytes, terms));
  return out;
}

const Prediction& fastest(const std::vector<Prediction>& predictions) {
  const Prediction* best = nullptr;
  for (const Prediction& p : predictions) {
    if (p.applicable && (!best || p.time_s < best->time_s)) best = &p;
  }
  return best ? *best : predictions.front();
}

Shape shape_of_impl(CollectiveOp op, std::string_view impl) {
  if (impl == "rhd" && shape_supports(op, Shape::rhd)) return Shape::rhd;
  if (op == CollectiveOp::all_reduce) {
    if (impl.starts_with("oneshot")) return Shape::oneshot;
    if (impl.starts_with("twoshot")) return Shape::twoshot;
    if (impl == "multimem") return Shape::nvls;
  }
  return Shape::ring;
}

bool shape_supports(CollectiveOp op, Shape shape) {
  switch (shape) {
    case Shape::ring: return true;
    case Shape::rhd: return op != CollectiveOp::all_to_all;
    case Shape::oneshot:
    case Shape::twoshot:
    case Shape::nvls: return op == CollectiveOp::all_reduce;
  }
  return false;
}

Coefficients single_node_coefficients(CollectiveOp op, Shape shape, int64_t ranks, double bytes) {
  const double p = static_cast<double>(ranks);
  switch (shape) {
    case Shape::ring: {
      const RingSteps r = ring_steps(op, {ranks, 1, ranks}, bytes);
      return {r.steps, r.bytes};
    }
    case Shape::rhd: {
      const double log_p = static_cast<double>(ceil_log2(ranks));
      switch (op) {
        case CollectiveOp::all_reduce: {
          // Rabenseifner: recursive halving reduce-scatter, recursive doubling all-gather over
          // p' = 2^floor(log2 p); the p - p' extra ranks hand their vector in first and get the
          // result last (Thakur, Rabenseifner and Gropp 2005, section 4.4).
          const int64_t floor_pow2 = ranks == (int64_t{1} << ceil_log2(ranks)) ? ranks
                                                                                 : int64_t{1} << (ceil_log2(ranks) - 1);
          const double q = static_cast<double>(floor_pow2);
          const bool extra = floor_pow2 != ranks;
          return {2 * std::log2(q) + (extra ? 2 : 0), 2 * (q - 1) / q * bytes + (extra ? 2 * bytes : 0)};
        }
        case CollectiveOp::all_gather:
        case CollectiveOp::reduce_scatter: return {log_p, (p - 1) / p * bytes};
        case CollectiveOp::broadcast: return {log_p, log_p * bytes};  // binomial tree
        case CollectiveOp::all_to_all: break;
      }
      return {};
    }
    case Shape::oneshot: return {1, (p - 1) * bytes};
    case Shape::twoshot: return {2, 2 * (p - 1) / p * bytes};
    case Shape::nvls: return {2, (p + 1) / p * bytes};
  }
  return {};
}

RingAcrossNodes ring_across_nodes(CollectiveOp op, const Span& span, double bytes) {
  const double g = static_cast<double>(span.per_node), p = static_cast<double>(span.ranks);
  if (op == CollectiveOp::all_to_all) {
    return {g - 1, p - g, (p - g) / p * bytes, (g - 1) / p * bytes};
  }
  const RingSteps r = ring_steps(op, span, bytes);
  return {r.steps - r.inter_steps, r.inter_steps, r.bytes / g, 0};
}

}  // namespace aicbench::model
