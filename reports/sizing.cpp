#include "reports/sizing.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>

#include "reports/model_groups.hpp"
#include "reports/result_file.hpp"
#include "reports/text_format.hpp"

namespace aicbench::sizing {

using reports::sig3;

namespace {

constexpr double kBf16 = 2;          // bytes per activation, weight and parameter all-gathered
constexpr double kMasterAdam = 12;   // fp32 master weights, Adam's m and v: sharded over data parallel (ZeRO-1)
constexpr double kLogitBytes = 6;    // the LM head's logits in bf16 and their fp32 copy for the loss
constexpr double kSecondsPerDay = 86400;

std::string group_text(const model::Span& span) {
  return std::to_string(span.ranks) + " ranks on " + std::to_string(span.nodes) + " node" + (span.nodes == 1 ? "" : "s") +
         (span.nodes > 1 ? " (" + std::to_string(span.per_node) + " per node)" : "");
}

Source source_of_terms(const model::Terms& t, const model::Span& span) {
  const model::Term& beta = span.nodes > 1 ? t.inter_beta : t.intra_beta;
  switch (beta.origin) {
    case model::Origin::fitted: return Source::derived;
    case model::Origin::option: return Source::option;
    case model::Origin::assumed: return Source::assumed;
  }
  return Source::assumed;
}

std::string terms_text(const model::Terms& t, const model::Span& span) {
  const model::Term& beta = span.nodes > 1 ? t.inter_beta : t.intra_beta;
  return "collective model (docs/collective-model.md), " + std::string(span.nodes > 1 ? "inter" : "intra") +
         "-node bandwidth " + std::string(model::to_string(beta.origin)) + ": " + beta.source;
}

struct Timed {
  double time = 0;
  Source source = Source::derived;
  std::string detail;
};

// The fastest algorithm of the collective model, except that an algorithm resting on assumed
// terms (NVLS without multimem rows) never beats one resting on the candidate's fitted terms.
Timed collective_time(const Network& net, CollectiveOp op, const model::Span& span, double bytes) {
  if (span.ranks < 2 || bytes <= 0) return {0, Source::derived, "one rank: nothing to exchange"};
  std::vector<model::Prediction> all = model::predict_all(op, span, bytes, net.terms);
  if (net.terms.nvls_beta.origin == model::Origin::assumed && net.terms.intra_beta.origin != model::Origin::assumed) {
    for (model::Prediction& p : all) {
      if (p.algorithm == model::Algorithm::nvls) {
        p.applicable = false;
        p.note = "NVLS terms assumed while the node's own terms are fitted";
      }
    }
  }
  const model::Prediction& best = model::fastest(all);
  const bool nvls = best.algorithm == model::Algorithm::nvls;
  const model::Term& beta = nvls ? net.terms.nvls_beta : span.nodes > 1 ? net.terms.inter_beta : net.terms.intra_beta;
  Source source = Source::assumed;
  if (beta.origin == model::Origin::fitted) source = Source::derived;
  if (beta.origin == model::Origin::option) source = Source::option;
  return {best.time_s, source,
          std::string(model::to_string(best.algorithm)) + ", " +
              (nvls ? "collective model (docs/collective-model.md), NVLS bandwidth " + std::string(model::to_string(beta.origin)) +
                          ": " + beta.source
                    : terms_text(net.terms, span))};
}

// The tensor-parallel all-reduce on one node: the node's own measured times where it measured
// this many ranks, interpolated in log-log between sizes; else the collective model.
Timed tp_all_reduce(const Network& net, int64_t tp, double bytes) {
  std::map<double, std::vector<double>> by_size;
  std::string impl;
  for (const model::MeasuredPoint& p : net.node_all_reduce) {
    if (p.ranks != tp || p.nodes != 1) continue;
    by_size[p.bytes].push_back(p.time_s);
    impl = p.impl;
  }
  if (by_size.empty()) return collective_time(net, CollectiveOp::all_reduce, {tp, 1, tp}, bytes);
  auto time_at = [&](double size) {
    std::vector<double>& v = by_size[size];
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  const std::string what = "all_reduce/" + impl + " rows at " + std::to_string(tp) + " ranks on one node";
  if (by_size.count(bytes)) return {time_at(bytes), Source::measured, what + ", " + model::format_bytes(bytes)};
  const double lo_size = by_size.begin()->first, hi_size = by_size.rbegin()->first;
  if (bytes < lo_size) {
    return {time_at(lo_size), Source::clamped, what + ": below the smallest size, its time (" + model::format_bytes(lo_size) + ")"};
  }
  if (bytes > hi_size) {
    return {time_at(hi_size) * bytes / hi_size, Source::clamped,
            what + ": above the largest size, its bus bandwidth (" + model::format_bytes(hi_size) + ")"};
  }
  auto hi = by_size.lower_bound(bytes);
  auto lo = std::prev(hi);
  const double w = std::log(bytes / lo->first) / std::log(hi->first / lo->first);
  const double t = std::exp(std::log(time_at(lo->first)) + w * (std::log(time_at(hi->first)) - std::log(time_at(lo->first))));
  return {t, Source::interpolated,
          what + ", between " + model::format_bytes(lo->first) + " and " + model::format_bytes(hi->first) + " (log-log)"};
}

// One expert all-to-all (dispatch or combine) of `tokens` tokens per rank over the expert group:
// the collective model's pairwise all_to_all of k copies of each token. With node-limited
// routing (moe.max_nodes_per_token, DeepSeek-V3's M = 4) a token crosses the network once per
// destination node, at most M of them, and is forwarded inside the node over NVLink; the two
// links work in a pipeline, so the slower sets the time (DeepSeek-V3 section 3.2.2).
Timed expert_all_to_all(const Network& net, const ModelSpec& m, const model::Span& span, double tokens, double bytes_per_value) {
  const double k = static_cast<double>(m.moe->experts_per_token);
  const double copies = tokens * k * m.hidden * bytes_per_value;
  if (m.moe->max_nodes_per_token == 0 || span.nodes < 2) {
    return collective_time(net, CollectiveOp::all_to_all, span, copies);
  }
  const double nodes = static_cast<double>(span.nodes);
  const double p = static_cast<double>(span.ranks), g = static_cast<double>(span.per_node);
  const double remote_nodes = std::min({k, static_cast<double>(m.moe->max_nodes_per_token), nodes}) * (nodes - 1) / nodes;
  const double inter_bytes = tokens * remote_nodes * m.hidden * bytes_per_value;
  const double intra_bytes = copies * (g - 1) / g;
  const model::Terms& t = net.terms;
  const double latency = (g - 1) * t.intra_alpha.value + (p - g) * t.inter_alpha.value;
  const double time = latency + std::max(inter_bytes * t.inter_beta.value, intra_bytes * t.intra_beta.value);
  return {time, source_of_terms(t, span),
          "node-limited routing (at most " + std::to_string(m.moe->max_nodes_per_token) + " nodes per token): " +
              model::format_bytes(inter_bytes) + " across nodes, " + model::format_bytes(intra_bytes) +
              " inside the node, pipelined; " + terms_text(t, span)};
}

// Where one group of a dimension sits, laid out as Megatron-LM does (tensor parallel innermost);
// a layout the group model refuses falls back to one rank per node, the slowest place.
model::Span span_of(const std::vector<model::GroupDim>& dims, int64_t gpus_per_node, const std::string& name) {
  int64_t ranks = 1;
  for (const auto& d : dims) ranks *= d.size;
  try {
    for (const model::GroupLayout& g : model::lay_out_groups(dims, ranks, gpus_per_node)) {
      if (g.name == name) return g.span;
    }
  } catch (const InputError&) {
  }
  for (const auto& d : dims) {
    if (d.name == name) return {d.size, d.size, 1};
  }
  return {1, 1, 1};
}

// Per-block times of one micro-batch on one GPU.
struct BlockTime {
  double gemm_f = 0, gemm_b = 0, attn_f = 0, attn_b = 0, tp_f = 0, tp_b = 0, ep_f = 0, ep_b = 0;
  double other_fraction = 0;
  double other_f() const { return other_fraction * (gemm_f + attn_f); }
  double other_b() const { return other_fraction * (gemm_b + attn_b); }
  double forward() const { return gemm_f + attn_f + other_f() + tp_f + ep_f; }
  double backward() const { return gemm_b + attn_b + other_b() + tp_b + ep_b; }
};

// The slowest stage when `items` (block times, in order) are cut into at most `stages` contiguous
// groups of at least one block: the smallest bottleneck, by bisection with a greedy check.
std::vector<int64_t> partition(const std::vector<double>& items, int64_t stages) {
  auto groups_for = [&](double limit) {
    std::vector<int64_t> counts;
    double sum = 0;
    for (double t : items) {
      if (!counts.empty() && sum + t <= limit) {
        sum += t;
        ++counts.back();
      } else {
        counts.push_back(1);
        sum = t;
      }
    }
    return counts;
  };
  double lo = *std::max_element(items.begin(), items.end());
  double hi = std::accumulate(items.begin(), items.end(), 0.0);
  for (int i = 0; i < 100 && hi - lo > 1e-12 * hi; ++i) {
    const double mid = (lo + hi) / 2;
    if (static_cast<int64_t>(groups_for(mid).size()) <= stages) hi = mid;
    else lo = mid;
  }
  std::vector<int64_t> counts = groups_for(hi);
  // Fewer groups than stages: split the largest groups (never slower).
  while (static_cast<int64_t>(counts.size()) < stages) {
    auto largest = std::max_element(counts.begin(), counts.end());
    if (*largest < 2) break;
    const int64_t half = *largest / 2;
    *largest -= half;
    counts.insert(largest + 1, half);
  }
  return counts;
}

std::string refusal_option(const std::string& option, const std::string& why) { return option + ": " + why; }

// Empty when the layout can be; else why not, naming the option.
std::string invalid_layout(const ModelSpec& m, const Layout& l, const Assumptions& a) {
  const int64_t g = a.gpus_per_node;
  if (l.tp < 1 || l.pp < 1 || l.dp < 1 || l.ep < 1 || l.micro_batch < 1 || l.virtual_stages < 1) {
    return "every parallel size is at least 1";
  }
  if (l.tp > g || g % l.tp != 0) {
    return refusal_option("--tp " + std::to_string(l.tp), "tensor parallel stays inside a node: it must divide --gpus-per-node " +
                                                              std::to_string(g));
  }
  if (m.heads % l.tp != 0) {
    return refusal_option("--tp " + std::to_string(l.tp), "does not divide the model's " + std::to_string(m.heads) + " heads");
  }
  if (l.pp * l.virtual_stages > m.layers) {
    return refusal_option("--pp " + std::to_string(l.pp), "pipeline stages x virtual stages (" +
                                                              std::to_string(l.pp * l.virtual_stages) + ") exceed the model's " +
                                                              std::to_string(m.layers) + " blocks");
  }
  if (l.virtual_stages > 1 && l.pp < 2) {
    return refusal_option("--virtual-stages " + std::to_string(l.virtual_stages), "interleaving needs --pp 2 or more");
  }
  if (!m.moe && l.ep != 1) return refusal_option("--ep " + std::to_string(l.ep), "the model has no experts");
  if (m.moe) {
    if (m.moe->routed_experts % l.ep != 0) {
      return refusal_option("--ep " + std::to_string(l.ep), "does not divide the " + std::to_string(m.moe->routed_experts) +
                                                                " routed experts");
    }
    if ((l.tp * l.dp) % l.ep != 0) {
      return refusal_option("--ep " + std::to_string(l.ep), "expert parallel folds into the tp x dp = " +
                                                                std::to_string(l.tp * l.dp) + " ranks of a stage; it must divide them");
    }
    if (l.ep > g && l.ep % g != 0) {
      return refusal_option("--ep " + std::to_string(l.ep), "an expert group larger than a node must fill whole nodes");
    }
  }
  return "";
}

}  // namespace

std::string_view to_string(Recompute r) {
  switch (r) {
    case Recompute::none: return "none";
    case Recompute::partial: return "partial";
    case Recompute::full: return "full";
  }
  return "";
}

std::string Layout::describe() const {
  return "tp=" + std::to_string(tp) + " pp=" + std::to_string(pp) + " dp=" + std::to_string(dp) + " ep=" + std::to_string(ep) +
         " b=" + std::to_string(micro_batch) + " v=" + std::to_string(virtual_stages) + " recompute=" + std::string(to_string(recompute)) +
         (recompute == Recompute::partial ? "(" + sig3(100 * recompute_share) + " % of blocks)" : "");
}

int64_t global_batch_of(const ModelSpec& model, std::optional<int64_t> option) {
  if (option) return *option;
  if (model.global_batch) return *model.global_batch;
  throw InputError("--global-batch: the model " + model.name + " (" + model.origin +
                   ") gives no global_batch; say how many sequences a step trains on");
}

Network network_of(const Candidate& c, const Assumptions& a) {
  Network net;
  net.terms = model::assumed_terms();
  if (!c.collectives.points.empty()) {
    try {
      model::Calibration cal = model::calibrate(c.collectives, net.terms, {});
      net.terms = cal.terms;
      for (const model::Fit& fit : cal.fits) net.notes.push_back("collective model fitted: " + fit.describe());
      for (const std::string& w : cal.warnings) net.notes.push_back(w);
    } catch (const InputError& e) {
      net.notes.push_back(std::string("collective rows could not be fitted, the collective model's assumed terms are used: ") +
                          e.what());
    }
  } else {
    net.notes.push_back("no collective rows: every collective uses the collective model's ASSUMED terms");
  }
  if (a.nic_gbps) {
    net.terms.inter_beta = {1.0 / (*a.nic_gbps / 8 * 1e9), model::Origin::option,
                            "--nic-gbps " + sig3(*a.nic_gbps) + " Gb/s per GPU"};
  }
  if (a.nic_latency_us) {
    net.terms.inter_alpha = {*a.nic_latency_us * 1e-6, model::Origin::option, "--nic-latency-us " + sig3(*a.nic_latency_us)};
  }
  // The node's own all-reduce rows for tensor parallel: nccl where there are some.
  bool any_nccl = false;
  for (const model::MeasuredPoint& p : c.collectives.points) {
    any_nccl |= p.op == CollectiveOp::all_reduce && p.nodes == 1 && p.impl == "nccl";
  }
  for (const model::MeasuredPoint& p : c.collectives.points) {
    if (p.op == CollectiveOp::all_reduce && p.nodes == 1 && (!any_nccl || p.impl == "nccl")) net.node_all_reduce.push_back(p);
  }
  return net;
}

namespace {

// The step of a layout whose recomputed share is settled (recompute_share for partial).
StepEstimate step_with(const ModelSpec& m, const Candidate& c, const Network& net, const Layout& l, int64_t global_batch,
                       const Assumptions& a) {
  if (const std::string why = invalid_layout(m, l, a); !why.empty()) throw InputError(why);
  StepEstimate e;
  e.layout = l;
  const double per_step = static_cast<double>(l.dp) * l.micro_batch;
  e.micro_batches = std::max<int64_t>(1, std::llround(global_batch / per_step));
  e.global_batch = e.micro_batches * l.dp * l.micro_batch;
  if (std::abs(static_cast<double>(e.global_batch - global_batch)) > a.batch_tolerance * global_batch) {
    throw InputError("--global-batch " + std::to_string(global_batch) + ": dp " + std::to_string(l.dp) + " x micro-batch " +
                     std::to_string(l.micro_batch) + " x micro-batches gives at best " + std::to_string(e.global_batch) +
                     " sequences, more than " + sig3(100 * a.batch_tolerance) + " % away (--batch-tolerance)");
  }
  const Cut cut{l.tp, l.ep, l.micro_batch};
  const double tokens_mb = static_cast<double>(l.micro_batch) * m.seq_len;
  const double h = static_cast<double>(m.hidden);

  auto table_for = [&](bool low_precision) -> std::pair<const GemmTable*, std::string> {
    const std::string want = low_precision ? a.dtype : "bf16";
    auto it = c.gemm.find(want);
    if (it != c.gemm.end()) return {&it->second, want};
    if (low_precision) {
      throw InputError("--dtype " + a.dtype + ": candidate " + c.name + " has no " + a.dtype + " GEMM rows (it has " +
                       [&] {
                         std::vector<std::string> d;
                         for (const auto& [k, v] : c.gemm) d.push_back(k);
                         return reports::join(d, ", ");
                       }() + ")");
    }
    auto fallback = c.gemm.find(a.dtype);
    if (fallback == c.gemm.end()) fallback = c.gemm.begin();
    return {&fallback->second, fallback->first};
  };
  auto use_gemm = [&](const std::string& block, const Gemm& g) {
    const auto [table, dtype] = table_for(g.low_precision);
    GemmUse u{block, g, dtype, table->rate(g.m, g.n, g.k), table->rate(g.m, g.k, g.n), table->rate(g.k, g.n, g.m), 0};
    const double one = 2 * g.m * g.n * g.k * g.count * 1e-12;
    u.time_s = one / u.forward.value + one / u.dgrad.value + one / u.wgrad.value;
    return u;
  };
  auto forward_time = [](const GemmUse& u) { return 2 * u.gemm.m * u.gemm.n * u.gemm.k * u.gemm.count * 1e-12 / u.forward.value; };

  // Attention rate: one for the model's sequence length and query/key width.
  e.attention = attention_rate(c, m.seq_len, m.qk_head_dim(), a.attention_fallback);

  // Communication of one block, per micro-batch.
  const model::Span tp_span{l.tp, 1, l.tp};
  const double tp_bytes = tokens_mb * h * kBf16;
  Timed tp_call;
  if (l.tp > 1) {
    tp_call = tp_all_reduce(net, l.tp, tp_bytes);
    // Sequence parallel: an all-gather and a reduce-scatter around each of the two GEMM pairs,
    // the same bytes and steps as an all-reduce; two in the forward, two in the backward.
    e.comms.push_back({"tp all-reduce (sequence parallel all-gather + reduce-scatter)", group_text(tp_span), tp_bytes,
                       tp_call.time, 0, 0, tp_call.source, tp_call.detail});
  }
  const model::Span ep_span = l.ep > a.gpus_per_node ? model::Span{l.ep, l.ep / a.gpus_per_node, a.gpus_per_node}
                                                     : model::Span{l.ep, 1, l.ep};
  // Expert all-to-all: the dispatch sends each of a rank's tokens to its k experts, the combine
  // brings the results back. Dispatch in fp8 when the GEMMs are (DeepSeek-V3 section 3.3), the
  // combine in bf16.
  Timed dispatch, combine;
  if (m.moe && l.ep > 1) {
    const double dispatch_bytes = a.dtype == "fp8" ? 1 : kBf16;
    dispatch = expert_all_to_all(net, m, ep_span, tokens_mb / l.tp, dispatch_bytes);
    combine = expert_all_to_all(net, m, ep_span, tokens_mb / l.tp, kBf16);
    e.comms.push_back({"ep all-to-all dispatch", group_text(ep_span),
                       tokens_mb / l.tp * m.moe->experts_per_token * h * dispatch_bytes, dispatch.time, 0, 0, dispatch.source,
                       dispatch.detail});
    e.comms.push_back({"ep all-to-all combine", group_text(ep_span), tokens_mb / l.tp * m.moe->experts_per_token * h * kBf16,
                       combine.time, 0, 0, combine.source, combine.detail});
  }

  // Blocks: times of each kind.
  std::map<BlockKind, BlockTime> kinds;
  for (BlockKind kind : {BlockKind::dense, BlockKind::moe}) {
    if (kind == BlockKind::dense && m.dense_mlp_layers() == 0) continue;
    if (kind == BlockKind::moe && m.moe_layers() == 0) continue;
    const BlockWork work = block_work(m, kind, cut);
    BlockTime t;
    t.other_fraction = a.other_fraction;
    for (const Gemm& g : work.gemms) {
      GemmUse u = use_gemm(kind == BlockKind::dense ? "dense block" : "MoE block", g);
      t.gemm_f += forward_time(u);
      t.gemm_b += u.time_s - forward_time(u);
      e.gemms.push_back(std::move(u));
    }
    const double attn = work.attention.forward_flops() * 1e-12 / e.attention.value;
    t.attn_f = attn;
    t.attn_b = a.attention_backward * attn;
    const double tp_exposed = (1 - a.tp_overlap) * tp_call.time;
    t.tp_f = 2 * tp_exposed;
    t.tp_b = 2 * tp_exposed;
    if (kind == BlockKind::moe) {
      // Forward: dispatch and combine; backward: the same two exchanges of gradients (bf16).
      t.ep_f = (1 - a.ep_overlap) * (dispatch.time + combine.time);
      t.ep_b = (1 - a.ep_overlap) * 2 * combine.time;
    }
    kinds[kind] = t;
  }
  const GemmUse head = use_gemm("LM head", lm_head_gemm(m, cut));
  const double head_f = forward_time(head), head_b = head.time_s - head_f;
  e.gemms.push_back(head);
  // The share of blocks whose forward is recomputed in the backward (their activations dropped).
  const double share = l.recompute == Recompute::full ? 1 : l.recompute == Recompute::partial ? l.recompute_share : 0;

  // Pipeline stages: contiguous blocks, the LM head with the last.
  std::vector<BlockKind> order;
  for (int64_t i = 0; i < m.layers; ++i) {
    order.push_back(m.moe && i >= m.moe->dense_layers ? BlockKind::moe : BlockKind::dense);
  }
  auto block_total = [&](BlockKind k) {
    const BlockTime& t = kinds.at(k);
    return t.forward() + t.backward() + share * t.forward();
  };
  const double head_total = (1 + a.other_fraction) * (head_f + head_b);
  std::vector<double> items;
  for (BlockKind k : order) items.push_back(block_total(k));
  items.back() += head_total;
  e.stage_layers = partition(items, l.pp);

  // The bottleneck stage's parts, per micro-batch.
  struct Parts {
    double gemm = 0, attn = 0, other = 0, tp = 0, ep = 0, recompute = 0, forward = 0, backward = 0;
    double total() const { return gemm + attn + other + tp + ep; }
  };
  std::vector<Parts> stages;
  size_t next = 0;
  for (size_t s = 0; s < e.stage_layers.size(); ++s) {
    Parts p;
    for (int64_t i = 0; i < e.stage_layers[s]; ++i, ++next) {
      const BlockTime& t = kinds.at(order[next]);
      const double r = share;
      p.gemm += t.gemm_f * (1 + r) + t.gemm_b;
      p.attn += t.attn_f * (1 + r) + t.attn_b;
      p.other += t.other_f() * (1 + r) + t.other_b();
      p.tp += t.tp_f * (1 + r) + t.tp_b;
      p.ep += t.ep_f * (1 + r) + t.ep_b;
      p.recompute += r * t.forward();
      p.forward += t.forward();
      p.backward += t.backward() + r * t.forward();
    }
    if (s + 1 == e.stage_layers.size()) {
      p.gemm += head_f + head_b;
      p.other += a.other_fraction * (head_f + head_b);
      p.forward += (1 + a.other_fraction) * head_f;
      p.backward += (1 + a.other_fraction) * head_b;
    }
    stages.push_back(p);
  }
  const size_t slowest = static_cast<size_t>(std::max_element(stages.begin(), stages.end(), [](const Parts& x, const Parts& y) {
                                               return x.total() < y.total();
                                             }) - stages.begin());
  const Parts& bottleneck = stages[slowest];

  // Pipeline sends: each micro-batch's activations forward and gradients backward, 1/t of them per
  // GPU (Megatron's scatter/gather), once per chunk with interleaving.
  const std::vector<model::GroupDim> dims = {{"tp", l.tp}, {"dp", l.dp}, {"pp", l.pp}};
  double pp_per_mb = 0;
  if (l.pp > 1) {
    const model::Span pp_span = span_of(dims, a.gpus_per_node, "pp");
    const double bytes = tokens_mb * h * kBf16 / l.tp;
    const bool across = pp_span.nodes > 1;
    const double alpha = across ? net.terms.inter_alpha.value : net.terms.intra_alpha.value;
    const double beta = across ? net.terms.inter_beta.value : net.terms.intra_beta.value;
    const double one = alpha + bytes * beta;
    pp_per_mb = 2.0 * l.virtual_stages * one;
    e.comms.push_back({"pp send (activations or gradients)", group_text(pp_span), bytes, one,
                       2.0 * l.virtual_stages * e.micro_batches, pp_per_mb * e.micro_batches,
                       source_of_terms(net.terms, pp_span),
                       "one point-to-point step: " + terms_text(net.terms, pp_span)});
  }
  const double mb_time = bottleneck.total() + pp_per_mb;
  const double mbs = static_cast<double>(e.micro_batches);
  const double bubble = (l.pp - 1) / static_cast<double>(l.virtual_stages) * mb_time;

  // Parameters on each stage's GPU, for data-parallel traffic and memory.
  const ParamCount params = count_params(m);
  const double experts_here = m.moe ? static_cast<double>(m.moe->routed_experts) / l.ep : 0;
  const int64_t edp = m.moe ? l.tp * l.dp / l.ep : l.dp;
  struct StageParams {
    double dense = 0, expert = 0;
  };
  std::vector<StageParams> stage_params;
  next = 0;
  for (size_t s = 0; s < e.stage_layers.size(); ++s) {
    StageParams sp;
    for (int64_t i = 0; i < e.stage_layers[s]; ++i, ++next) {
      sp.dense += (params.attention + params.norms) / l.tp;
      if (order[next] == BlockKind::dense) {
        sp.dense += params.dense_mlp / l.tp;
      } else {
        sp.dense += (params.shared_experts + params.router) / l.tp;
        sp.expert += experts_here * params.one_expert;
      }
    }
    if (s == 0) sp.dense += params.embedding / l.tp;
    if (s + 1 == e.stage_layers.size()) sp.dense += (m.tied_embeddings && l.pp > 1 ? params.embedding : params.lm_head) / l.tp;
    stage_params.push_back(sp);
  }

  // Data parallel: reduce-scatter the gradients, all-gather the updated parameters (ZeRO-1).
  const StageParams& sp = stage_params[slowest];
  double dp_exposed = 0;
  auto dp_pair = [&](const std::string& what, double count, const model::Span& span) {
    if (span.ranks < 2 || count <= 0) return;
    const Timed rs = collective_time(net, CollectiveOp::reduce_scatter, span, count * a.grad_bytes);
    const Timed ag = collective_time(net, CollectiveOp::all_gather, span, count * kBf16);
    const double rs_exposed = a.dp_overlap ? std::max(0.0, rs.time - bottleneck.backward) : rs.time;
    const double ag_exposed = a.dp_overlap ? std::max(0.0, ag.time - bottleneck.forward) : ag.time;
    dp_exposed += rs_exposed + ag_exposed;
    e.comms.push_back({"dp reduce-scatter (" + what + " gradients)", group_text(span), count * a.grad_bytes, rs.time, 1,
                       rs_exposed, rs.source, rs.detail});
    e.comms.push_back({"dp all-gather (" + what + " parameters)", group_text(span), count * kBf16, ag.time, 1, ag_exposed,
                       ag.source, ag.detail});
  };
  dp_pair("dense", sp.dense, span_of(dims, a.gpus_per_node, "dp"));
  if (m.moe && sp.expert > 0) {
    const std::vector<model::GroupDim> expert_dims = {{"ep", l.ep}, {"edp", edp}, {"pp", l.pp}};
    dp_pair("expert", sp.expert, span_of(expert_dims, a.gpus_per_node, "edp"));
  }
  // Calls per step on the slowest stage: two per block in the forward, two in the backward, two
  // more when the forward is recomputed.
  {
    int64_t blocks = 0, moe_blocks = 0;
    size_t at = 0;
    for (size_t i = 0; i < slowest; ++i) at += static_cast<size_t>(e.stage_layers[i]);
    for (int64_t j = 0; j < e.stage_layers[slowest]; ++j, ++blocks) moe_blocks += order[at + static_cast<size_t>(j)] == BlockKind::moe;
    const double calls = (4.0 + 2.0 * share) * mbs;
    for (CommUse& u : e.comms) {
      if (u.name.starts_with("tp ")) {
        u.per_step = calls * static_cast<double>(blocks);
        u.exposed_s = mbs * bottleneck.tp;
      } else if (u.name.starts_with("ep ")) {
        // Per block: a dispatch and a combine forward (again when recomputed), two combines backward.
        const bool is_dispatch = u.name.ends_with("dispatch");
        const double per_block = is_dispatch ? 1 + share : 3 + share;
        u.per_step = per_block * mbs * static_cast<double>(moe_blocks);
        u.exposed_s = (1 - a.ep_overlap) * u.per_step * u.time_s;
      }
    }
  }

  e.step_time_s = (mbs + (l.pp - 1) / static_cast<double>(l.virtual_stages)) * mb_time + dp_exposed;
  Breakdown& b = e.breakdown;
  b.gemm = mbs * bottleneck.gemm;
  b.attention = mbs * bottleneck.attn;
  b.other = mbs * bottleneck.other;
  b.tp_comm = mbs * bottleneck.tp;
  b.ep_comm = mbs * bottleneck.ep;
  b.pp_comm = mbs * pp_per_mb;
  b.dp_comm = dp_exposed;
  b.bubble = bubble;
  b.recompute = mbs * bottleneck.recompute;

  e.tokens_per_step = static_cast<double>(e.global_batch) * m.seq_len;
  e.tokens_per_s = e.tokens_per_step / e.step_time_s;
  e.model_flops_per_step = 3 * forward_flops_per_token(m) * e.tokens_per_step;
  const double gpus = static_cast<double>(l.gpus());
  e.mfu = e.model_flops_per_step / (e.step_time_s * gpus * c.peak(a.dtype) * 1e12);
  e.mfu_bf16 = e.model_flops_per_step / (e.step_time_s * gpus * c.peak("bf16") * 1e12);

  // Memory of the fullest stage: weights (bf16), fp32 main gradients, the optimizer's shard, the
  // activations 1F1B keeps (stage s holds min(m, p - s) micro-batches), the logits on the last.
  const double act_tokens = tokens_mb / l.tp;
  e.memory.usable = c.memory_bytes.value * (1 - a.memory_reserve);
  next = 0;
  for (size_t s = 0; s < e.stage_layers.size(); ++s) {
    Memory mem;
    const StageParams& ps = stage_params[s];
    mem.weights = kBf16 * (ps.dense + ps.expert);
    mem.grads = a.grad_bytes * (ps.dense + ps.expert);
    mem.optimizer = kMasterAdam * (ps.dense / l.dp + ps.expert / edp);
    double per_mb = 0, largest_block = 0;
    for (int64_t i = 0; i < e.stage_layers[s]; ++i, ++next) {
      per_mb += ((1 - share) * activation_bytes_per_token(m, order[next], false) +
                 share * activation_bytes_per_token(m, order[next], true)) * act_tokens;
      largest_block = std::max(largest_block, activation_bytes_per_token(m, order[next], false) * act_tokens);
    }
    // 1F1B: stage s holds min(m, p - s) micro-batches; interleaving adds (p-1)/(p v) more on the
    // first stage (Korthikanti et al. 2022, section 4.2.3).
    double in_flight = std::min<double>(mbs, static_cast<double>(l.pp - static_cast<int64_t>(s)));
    if (l.virtual_stages > 1 && s == 0) {
      in_flight *= 1 + (l.pp - 1) / static_cast<double>(l.pp * l.virtual_stages);
    }
    mem.activations = in_flight * per_mb + (share > 0 ? largest_block : 0);
    if (s + 1 == e.stage_layers.size()) mem.logits = kLogitBytes * tokens_mb * m.vocab / l.tp;
    mem.total = mem.weights + mem.grads + mem.optimizer + mem.activations + mem.logits;
    if (mem.total > e.memory.total) {
      mem.usable = e.memory.usable;
      e.memory = mem;
    }
  }

  // What the figures stand on, when it is not a measurement of this point.
  auto flag = [&](const std::string& what, const Rate& r) {
    if (r.source == Source::measured || r.source == Source::interpolated) return;
    const std::string line = std::string(to_string(r.source)) + ": " + what + ": " + r.detail;
    if (std::find(e.flags.begin(), e.flags.end(), line) == e.flags.end()) e.flags.push_back(line);
  };
  for (const GemmUse& u : e.gemms) {
    flag(u.block + " " + u.gemm.name + " GEMM forward", u.forward);
    flag(u.block + " " + u.gemm.name + " GEMM dgrad", u.dgrad);
    flag(u.block + " " + u.gemm.name + " GEMM wgrad", u.wgrad);
  }
  flag("attention", e.attention);
  for (const CommUse& u : e.comms) flag(u.name, {u.time_s, u.source, u.detail});
  if (c.memory_bytes.source != Source::measured) flag("GPU memory", c.memory_bytes);
  return e;
}

}  // namespace

StepEstimate estimate_step(const ModelSpec& m, const Candidate& c, const Network& net, const Layout& l,
                           int64_t global_batch, const Assumptions& a) {
  if (l.recompute != Recompute::partial) return step_with(m, c, net, l, global_batch, a);
  // The fewest recomputed blocks that fit: a share k/K of each stage's blocks, K the most blocks
  // a stage holds, found by bisection (memory falls as k grows).
  Layout trial = l;
  trial.recompute_share = 0;
  StepEstimate none = step_with(m, c, net, trial, global_batch, a);
  if (none.memory.fits()) return none;
  const int64_t most = *std::max_element(none.stage_layers.begin(), none.stage_layers.end());
  trial.recompute_share = 1;
  StepEstimate fitting = step_with(m, c, net, trial, global_batch, a);
  if (!fitting.memory.fits()) return fitting;
  int64_t lo = 0, hi = most;
  while (hi - lo > 1) {
    const int64_t mid = (lo + hi) / 2;
    trial.recompute_share = static_cast<double>(mid) / static_cast<double>(most);
    StepEstimate e = step_with(m, c, net, trial, global_batch, a);
    if (e.memory.fits()) {
      hi = mid;
      fitting = std::move(e);
    } else {
      lo = mid;
    }
  }
  return fitting;
}

Search search_layout(const ModelSpec& m, const Candidate& c, const Network& net, int64_t gpus, int64_t global_batch,
                     const LayoutChoice& choice, const Assumptions& a) {
  Search out;
  std::vector<int64_t> tps, bs = {1, 2, 4, 8}, vs = {1, 2, 4}, eps = {1};
  for (int64_t t = 1; t <= a.gpus_per_node; t *= 2) tps.push_back(t);
  if (choice.tp) tps = {*choice.tp};
  if (choice.micro_batch) bs = {*choice.micro_batch};
  if (choice.virtual_stages) vs = {*choice.virtual_stages};
  if (m.moe) {
    eps.clear();
    for (int64_t e = 1; e <= m.moe->routed_experts; e *= 2) eps.push_back(e);
  }
  if (choice.ep) eps = {*choice.ep};
  std::vector<Recompute> recomputes = {Recompute::none, Recompute::partial, Recompute::full};
  if (choice.recompute) recomputes = {*choice.recompute};

  std::optional<StepEstimate> best;
  std::string last_refusal;
  StepEstimate fullest;  // the layout closest to fitting, for the refusal
  bool any_valid = false;
  for (int64_t tp : tps) {
    if (gpus % tp != 0) {
      last_refusal = "--tp " + std::to_string(tp) + " does not divide --gpus " + std::to_string(gpus);
      continue;
    }
    std::vector<int64_t> pps;
    if (choice.pp) {
      pps = {*choice.pp};
    } else {
      for (int64_t p = 1; p <= std::min<int64_t>(m.layers, gpus / tp); ++p) {
        if ((gpus / tp) % p == 0) pps.push_back(p);
      }
    }
    for (int64_t pp : pps) {
      if ((gpus / tp) % pp != 0) {
        last_refusal = "--pp " + std::to_string(pp) + " x --tp " + std::to_string(tp) + " does not divide --gpus " +
                       std::to_string(gpus);
        continue;
      }
      const int64_t dp = gpus / tp / pp;
      for (int64_t ep : eps)
        for (int64_t b : bs)
          for (int64_t v : vs)
            for (Recompute r : recomputes) {
              if (v > 1 && (pp < 2 || pp * v > m.layers) && !choice.virtual_stages) continue;
              const Layout l{tp, pp, dp, ep, b, v, r, r == Recompute::full ? 1.0 : 0.0};
              ++out.tried;
              StepEstimate e;
              try {
                e = estimate_step(m, c, net, l, global_batch, a);
              } catch (const InputError& refusal) {
                last_refusal = refusal.what();
                continue;
              }
              // A partial recomputation that needs no block is the layout without: counted once.
              if (r == Recompute::partial && e.layout.recompute_share == 0) continue;
              ++out.valid;
              if (!any_valid || e.memory.total - e.memory.usable < fullest.memory.total - fullest.memory.usable) fullest = e;
              any_valid = true;
              if (!e.memory.fits()) continue;
              ++out.fit;
              if (!best || e.tokens_per_s > best->tokens_per_s) best = std::move(e);
            }
    }
  }
  if (!any_valid) {
    throw InputError("no valid layout of " + std::to_string(gpus) + " GPUs for " + m.name + ": " +
                     (last_refusal.empty() ? std::string("none to try") : last_refusal));
  }
  if (!best) {
    throw InputError("no layout of " + std::to_string(gpus) + " GPUs fits " + m.name + " in " + c.name + "'s memory: the closest, " +
                     fullest.layout.describe() + ", needs " + sig3(fullest.memory.total / 1e9) + " GB per GPU of " +
                     sig3(fullest.memory.usable / 1e9) + " GB usable (--gpus, --tp, --pp, --recompute)");
  }
  out.best = std::move(*best);
  return out;
}

Training train(const ModelSpec& m, const Candidate& c, const Network& net, double tokens, int64_t gpus, int64_t global_batch,
               const LayoutChoice& choice, const Assumptions& a, const EnergyOptions& energy) {
  Training t;
  t.tokens = tokens;
  t.gpus = gpus;
  t.search = search_layout(m, c, net, gpus, global_batch, choice, a);
  const double seconds = tokens / t.search.best.tokens_per_s;
  t.days = seconds / kSecondsPerDay;
  t.gpu_hours = seconds / 3600 * static_cast<double>(gpus);
  if (const std::optional<Rate> power = c.power(a.dtype)) {
    Energy en;
    en.power_w = *power;
    en.pue = energy.pue;
    en.mwh = power->value * static_cast<double>(gpus) * seconds * energy.pue / 3.6e9;
    if (energy.won_per_kwh) en.cost_won = en.mwh * 1000 * *energy.won_per_kwh;
    t.energy = en;
  }
  return t;
}

Deadline gpus_for_deadline(const ModelSpec& m, const Candidate& c, const Network& net, double tokens, double days,
                           int64_t global_batch, const LayoutChoice& choice, const Assumptions& a,
                           const EnergyOptions& energy, int64_t max_gpus) {
  Deadline d;
  d.days = days;
  const int64_t g = a.gpus_per_node;
  auto attempt = [&](int64_t nodes) -> std::optional<Training> {
    try {
      Training t = train(m, c, net, tokens, nodes * g, global_batch, choice, a, energy);
      if (t.days <= days) return t;
    } catch (const InputError&) {
    }
    return std::nullopt;
  };
  const int64_t max_nodes = std::max<int64_t>(1, max_gpus / g);
  int64_t lo = 0, hi = 1;  // lo: known too few (0 trivially)
  std::optional<Training> found;
  while (hi <= max_nodes) {
    found = attempt(hi);
    if (found) break;
    lo = hi;
    hi *= 2;
  }
  if (!found) {
    hi = max_nodes;
    found = attempt(hi);
  }
  if (!found) {
    d.why_not = "no layout of up to " + std::to_string(max_nodes * g) + " GPUs trains " + sig3(tokens) + " tokens in " +
                sig3(days) + " days (the global batch of " + std::to_string(global_batch) +
                " sequences bounds data parallelism, and memory the smallest counts)";
    return d;
  }
  while (hi - lo > 1) {
    const int64_t mid = lo + (hi - lo) / 2;
    if (std::optional<Training> t = attempt(mid)) {
      hi = mid;
      found = std::move(t);
    } else {
      lo = mid;
    }
  }
  d.needed = std::move(found);
  return d;
}

Capacity training_capacity(const ModelSpec& m, const Candidate& c, int64_t gpus, const Assumptions& a,
                           const LayoutChoice& choice) {
  const Network net = network_of(c, a);
  const Search s = search_layout(m, c, net, gpus, global_batch_of(m, std::nullopt), choice, a);
  return {s.best.tokens_per_s, s.best.tokens_per_s * kSecondsPerDay, s.best.mfu, s.best};
}

}  // namespace aicbench::sizing
