#include "reports/sizing_render.hpp"

#include <cmath>
#include <sstream>

#include "reports/text_format.hpp"

namespace aicbench::sizing {

namespace {

using json = nlohmann::json;
using reports::sig3;

// ---------------------------------------------------------------------------------------------
// The page as a list of elements, written once and rendered as Markdown or HTML.

struct Element {
  enum Kind { h1, h2, h3, paragraph, warning, bullets, table } kind = paragraph;
  std::string text;
  std::vector<std::string> items;                   // bullets
  std::vector<std::string> headers;                 // table
  std::vector<std::vector<std::string>> rows;       // table
};
using Page = std::vector<Element>;

void heading(Page& p, Element::Kind k, std::string text) { p.push_back({k, std::move(text), {}, {}, {}}); }
void para(Page& p, std::string text) { p.push_back({Element::paragraph, std::move(text), {}, {}, {}}); }
void warn(Page& p, std::string text) { p.push_back({Element::warning, std::move(text), {}, {}, {}}); }
void bullets(Page& p, std::vector<std::string> items) {
  if (!items.empty()) p.push_back({Element::bullets, "", std::move(items), {}, {}});
}
void table(Page& p, std::vector<std::string> headers, std::vector<std::vector<std::string>> rows) {
  p.push_back({Element::table, "", {}, std::move(headers), std::move(rows)});
}

std::string markdown(const Page& page) {
  std::ostringstream out;
  for (const Element& e : page) {
    switch (e.kind) {
      case Element::h1: out << "# " << e.text << "\n\n"; break;
      case Element::h2: out << "## " << e.text << "\n\n"; break;
      case Element::h3: out << "### " << e.text << "\n\n"; break;
      case Element::paragraph: out << e.text << "\n\n"; break;
      case Element::warning: out << "**" << e.text << "**\n\n"; break;
      case Element::bullets:
        for (const std::string& item : e.items) out << "- " << item << "\n";
        out << "\n";
        break;
      case Element::table:
        out << "|";
        for (const std::string& h : e.headers) out << " " << reports::markdown_escape(h) << " |";
        out << "\n|";
        for (size_t i = 0; i < e.headers.size(); ++i) out << "---|";
        out << "\n";
        for (const auto& row : e.rows) {
          out << "|";
          for (const std::string& cell : row) out << " " << reports::markdown_escape(cell) << " |";
          out << "\n";
        }
        out << "\n";
        break;
    }
  }
  return out.str();
}

constexpr const char* kStyle = R"(
table { border-collapse: collapse; font-size: .85rem; margin: .5rem 0; }
th, td { border: 1px solid #ddd; padding: .25rem .5rem; text-align: left; vertical-align: top; }
th { background: #f4f4f4; }
.warning { background: #fff4d6; border-left: 4px solid #e0a800; padding: .4rem .6rem; }
)";

std::string html_page(const Page& page, const std::string& title) {
  auto h = [](const std::string& s) { return reports::markup_escape(s); };
  std::ostringstream out;
  out << reports::html_page_head(title, std::string(reports::kPageBaseStyle) + kStyle);
  for (const Element& e : page) {
    switch (e.kind) {
      case Element::h1: out << "<h1>" << h(e.text) << "</h1>\n"; break;
      case Element::h2: out << "<h2>" << h(e.text) << "</h2>\n"; break;
      case Element::h3: out << "<h3>" << h(e.text) << "</h3>\n"; break;
      case Element::paragraph: out << "<p>" << h(e.text) << "</p>\n"; break;
      case Element::warning: out << "<p class=\"warning\">" << h(e.text) << "</p>\n"; break;
      case Element::bullets:
        out << "<ul>\n";
        for (const std::string& item : e.items) out << "<li>" << h(item) << "</li>\n";
        out << "</ul>\n";
        break;
      case Element::table:
        out << "<table>\n<tr>";
        for (const std::string& head : e.headers) out << "<th>" << h(head) << "</th>";
        out << "</tr>\n";
        for (const auto& row : e.rows) {
          out << "<tr>";
          for (const std::string& cell : row) out << "<td>" << h(cell) << "</td>";
          out << "</tr>\n";
        }
        out << "</table>\n";
        break;
    }
  }
  out << "</body>\n</html>\n";
  return out.str();
}

// ---------------------------------------------------------------------------------------------
// Numbers as a buyer reads them

std::string pct(double fraction) { return sig3(100 * fraction) + " %"; }
std::string gb(double bytes) { return sig3(bytes / 1e9) + " GB"; }
std::string count(double n) { return reports::whole_number(n); }
std::string tokens_text(double t) {
  if (t >= 1e12) return sig3(t / 1e12) + "T";
  if (t >= 1e9) return sig3(t / 1e9) + "B";
  return sig3(t);
}
std::string rate_text(const Rate& r) {
  return sig3(r.value) + " (" + std::string(to_string(r.source)) + ")";
}
std::string shape(const Gemm& g) {
  auto one = [](double v) { return v == std::floor(v) ? count(v) : sig3(v); };
  return one(g.m) + " x " + one(g.n) + " x " + one(g.k);
}
std::string title_of(const SizeReport& r) {
  return "aicbench size: " + r.model.name + ", " + tokens_text(r.tokens) + " tokens";
}

std::string layout_text(const Layout& l) { return l.describe(); }

std::vector<std::string> assumption_lines(const SizeReport& r) {
  const Assumptions& a = r.assumptions;
  std::vector<std::string> out = {
      "GEMM dtype " + a.dtype + " for the blocks' linear layers (--dtype); the LM head, router and attention stay bf16",
      std::to_string(a.gpus_per_node) + " GPUs per node (--gpus-per-node); tensor parallel stays inside a node",
      "other kernels (norms, activations, rotary embedding, residuals, optimizer step): " + pct(a.other_fraction) +
          " of GEMM + attention time (--other-pct; an assumption)",
      "attention backward executes " + sig3(a.attention_backward) +
          "x the forward FLOPs (FlashAttention recomputes the scores: 5 matmuls against 2), at the forward's rate",
      "attention without attention rows: " + pct(a.attention_fallback) + " of the fastest bf16 GEMM rate (--attention-fraction)",
      "tensor-parallel communication hidden: " + pct(a.tp_overlap) + " (--tp-overlap); expert all-to-all hidden: " +
          pct(a.ep_overlap) + " (--ep-overlap)",
      std::string("data-parallel reduce-scatter hidden under the last micro-batch's backward and all-gather under the first "
                  "forward: ") +
          (a.dp_overlap ? "yes" : "no (--no-dp-overlap)"),
      "gradients reduce-scattered as " + sig3(a.grad_bytes) + "-byte values (--grad-bytes; fp32 main gradients); "
          "parameters all-gathered in bf16",
      "memory: bf16 weights, " + sig3(a.grad_bytes) + "-byte gradients, fp32 master weights + Adam moments (12 bytes) "
          "sharded over data parallel (ZeRO-1, Megatron's distributed optimizer); 1F1B activations; " +
          pct(a.memory_reserve) + " of each GPU kept free (--memory-reserve-pct)",
      "global batch may move by up to " + pct(a.batch_tolerance) + " to a multiple of dp x micro-batch (--batch-tolerance-pct)",
      "energy: GPU power x time x PUE " + sig3(r.energy.pue) + " (--pue); CPUs, NICs, switches and storage are not counted",
  };
  return out;
}

std::vector<std::vector<std::string>> breakdown_rows(const StepEstimate& e) {
  const Breakdown& b = e.breakdown;
  const double total = e.step_time_s;
  auto line = [&](const std::string& name, double s) {
    return std::vector<std::string>{name, reports::human_time(s), pct(s / total)};
  };
  std::vector<std::vector<std::string>> rows = {
      line("GEMM", b.gemm),
      line("attention", b.attention),
      line("other kernels", b.other),
      line("tensor-parallel communication (exposed)", b.tp_comm),
      line("expert all-to-all (exposed)", b.ep_comm),
      line("pipeline sends", b.pp_comm),
      line("data-parallel communication (exposed)", b.dp_comm),
      line("pipeline bubble", b.bubble),
      {"step", reports::human_time(total), "100 %"},
  };
  if (b.recompute > 0) rows.push_back(line("of which recomputation (in the rows above)", b.recompute));
  return rows;
}

void candidate_section(Page& p, const SizeReport& r, const CandidateSizing& cs) {
  const Candidate& c = cs.candidate;
  heading(p, Element::h2, "Candidate " + c.name);
  para(p, "GPU " + c.gpu_name + "; files " + reports::join(c.files, ", ") + "; peak " + c.peak_source +
              "; memory " + gb(c.memory_bytes.value) + " (" + std::string(to_string(c.memory_bytes.source)) + ")");
  if (c.fixture) warn(p, "FIXTURE: these result files stand in for measurements: " + c.fixture_note);
  if (cs.at_gpus) {
    const Training& t = *cs.at_gpus;
    const StepEstimate& e = t.search.best;
    heading(p, Element::h3, "On " + count(static_cast<double>(t.gpus)) + " GPUs");
    para(p, "Layout " + layout_text(e.layout) + " (the fastest of " + std::to_string(t.search.fit) + " layouts that fit, of " +
                std::to_string(t.search.valid) + " valid; " + std::to_string(e.micro_batches) + " micro-batches per step, " +
                "global batch " + count(static_cast<double>(e.global_batch)) + " sequences, " +
                tokens_text(e.tokens_per_step) + " tokens; blocks per stage " +
                [&] {
                  std::vector<std::string> s;
                  for (int64_t n : e.stage_layers) s.push_back(std::to_string(n));
                  return reports::join(s, ",");
                }() + ")");
    std::vector<std::vector<std::string>> answers = {
        {"step time", reports::human_time(e.step_time_s)},
        {"tokens per second", sig3(e.tokens_per_s)},
        {"MFU (" + r.assumptions.dtype + " dense peak)", pct(e.mfu)},
        {"days to train " + tokens_text(t.tokens) + " tokens", sig3(t.days)},
        {"GPU-hours", sig3(t.gpu_hours)},
    };
    if (r.assumptions.dtype != "bf16") answers.insert(answers.begin() + 3, {"MFU (bf16 dense peak)", pct(e.mfu_bf16)});
    if (t.energy) {
      answers.push_back({"energy", sig3(t.energy->mwh) + " MWh (power " + sig3(t.energy->power_w.value) + " W per GPU, " +
                                       std::string(to_string(t.energy->power_w.source)) + ")"});
      if (t.energy->cost_won) answers.push_back({"energy cost", count(*t.energy->cost_won) + " won"});
    } else {
      answers.push_back({"energy", "unknown: no power_w rows and no datasheet TDP"});
    }
    table(p, {"answer", "value"}, answers);
    heading(p, Element::h3, "Where the step time goes");
    table(p, {"part", "time per step", "share"}, breakdown_rows(e));
    heading(p, Element::h3, "Memory per GPU (the fullest pipeline stage)");
    table(p, {"weights", "gradients", "optimizer", "activations", "logits", "total", "usable"},
          {{gb(e.memory.weights), gb(e.memory.grads), gb(e.memory.optimizer), gb(e.memory.activations), gb(e.memory.logits),
            gb(e.memory.total), gb(e.memory.usable)}});
    heading(p, Element::h3, "GEMMs of one micro-batch (TFLOP/s and their source)");
    std::vector<std::vector<std::string>> gemm_rows;
    for (const GemmUse& u : e.gemms) {
      gemm_rows.push_back({u.block, u.gemm.name, shape(u.gemm), sig3(u.gemm.count), u.dtype, rate_text(u.forward),
                           rate_text(u.dgrad), rate_text(u.wgrad), reports::human_time(u.time_s)});
    }
    table(p, {"block", "GEMM", "M x N x K", "count", "dtype", "forward", "dgrad", "wgrad", "fwd + bwd time"}, gemm_rows);
    para(p, "Attention: " + rate_text(e.attention) + " TFLOP/s: " + e.attention.detail);
    if (!e.comms.empty()) {
      heading(p, Element::h3, "Communication");
      std::vector<std::vector<std::string>> rows;
      for (const CommUse& u : e.comms) {
        rows.push_back({u.name, u.group, model::format_bytes(u.bytes), reports::human_time(u.time_s), sig3(u.per_step),
                        reports::human_time(u.exposed_s), std::string(to_string(u.source)), u.detail});
      }
      table(p, {"collective", "group", "size", "one call", "calls per step", "exposed per step", "source", "from"}, rows);
    }
    if (!e.flags.empty()) {
      heading(p, Element::h3, "Figures that are not measurements of this point");
      bullets(p, e.flags);
    }
  }
  if (cs.deadline) {
    const Deadline& d = *cs.deadline;
    heading(p, Element::h3, "GPUs needed to finish in " + sig3(d.days) + " days");
    if (d.needed) {
      const Training& t = *d.needed;
      para(p, count(static_cast<double>(t.gpus)) + " GPUs (" + count(static_cast<double>(t.gpus / r.assumptions.gpus_per_node)) +
                  " nodes): " + sig3(t.days) + " days at " + layout_text(t.search.best.layout) + ", MFU " +
                  pct(t.search.best.mfu) + (t.energy ? ", " + sig3(t.energy->mwh) + " MWh" : ""));
    } else {
      para(p, "Not reachable: " + d.why_not);
    }
  }
  std::vector<std::string> notes = c.notes;
  for (const std::string& n : cs.network.notes) notes.push_back(n);
  if (!notes.empty()) {
    heading(p, Element::h3, "Notes");
    bullets(p, notes);
  }
}

Page page_of(const SizeReport& r) {
  Page p;
  heading(p, Element::h1, title_of(r));
  const ModelSpec& m = r.model;
  const ParamCount params = count_params(m);
  std::string model_line = "Model " + m.name + " (" + m.origin + "): " + m.description + ". Parameters from the shapes: " +
                           sig3(params.total / 1e9) + "B" +
                           (m.moe ? ", " + sig3(params.active / 1e9) + "B active" : "");
  if (m.published_total) {
    model_line += " (published " + sig3(*m.published_total / 1e9) + "B" +
                  (m.published_active ? ", " + sig3(*m.published_active / 1e9) + "B active" : "") + ")";
  }
  model_line += ". Model FLOPs per token " + sig3(3 * forward_flops_per_token(m)) + " (6N rule: " +
                sig3(six_n_flops_per_token(m)) + "); global batch " + count(static_cast<double>(r.global_batch)) +
                " sequences of " + count(static_cast<double>(m.seq_len)) + " (" + r.global_batch_source + ").";
  para(p, model_line);
  if (m.mla) {
    para(p, "Attention is multi-head latent attention, approximated as training computes it: the low-rank projections as "
            "GEMMs, keys and values decompressed per head, attention FLOPs 2 B H S S (d_qk + d_v) with d_qk = " +
                std::to_string(m.qk_head_dim()) + ", d_v = " + std::to_string(m.v_head_dim()) + ".");
  }

  // One line per candidate.
  std::vector<std::vector<std::string>> summary;
  for (const CandidateSizing& cs : r.candidates) {
    std::vector<std::string> row = {cs.candidate.name + (cs.candidate.fixture ? " (FIXTURE)" : "")};
    if (cs.at_gpus) {
      const StepEstimate& e = cs.at_gpus->search.best;
      row.insert(row.end(), {layout_text(e.layout), reports::human_time(e.step_time_s), pct(e.mfu), sig3(cs.at_gpus->days),
                             cs.at_gpus->energy ? sig3(cs.at_gpus->energy->mwh) : "?"});
      if (r.energy.won_per_kwh) {
        row.push_back(cs.at_gpus->energy && cs.at_gpus->energy->cost_won ? count(*cs.at_gpus->energy->cost_won) : "?");
      }
    }
    if (cs.deadline) {
      row.push_back(cs.deadline->needed ? count(static_cast<double>(cs.deadline->needed->gpus)) : "not reachable");
    }
    summary.push_back(row);
  }
  std::vector<std::string> headers = {"candidate"};
  if (r.gpus) {
    headers.insert(headers.end(), {"layout on " + count(static_cast<double>(*r.gpus)) + " GPUs", "step", "MFU", "days",
                                   "energy MWh"});
    if (r.energy.won_per_kwh) headers.push_back("energy cost (won)");
  }
  if (r.deadline_days) headers.push_back("GPUs for " + sig3(*r.deadline_days) + " days");
  heading(p, Element::h2, "Summary");
  table(p, headers, summary);
  for (const CandidateSizing& cs : r.candidates) candidate_section(p, r, cs);
  heading(p, Element::h2, "Assumptions");
  bullets(p, assumption_lines(r));
  para(p, "The model, its formulas and what it leaves out: docs/sizing.md; its error against published runs: "
          "docs/sizing-validation.md.");
  return p;
}

// ---------------------------------------------------------------------------------------------
// JSON

json rate_json(const Rate& r) { return {{"value", r.value}, {"source", to_string(r.source)}, {"detail", r.detail}}; }

json layout_json(const Layout& l) {
  return {{"tp", l.tp}, {"pp", l.pp}, {"dp", l.dp}, {"ep", l.ep}, {"micro_batch", l.micro_batch},
          {"virtual_stages", l.virtual_stages}, {"recompute", to_string(l.recompute)},
          {"recompute_share", l.recompute == Recompute::none ? 0.0 : l.recompute == Recompute::full ? 1.0 : l.recompute_share}};
}

json step_json(const StepEstimate& e) {
  const Breakdown& b = e.breakdown;
  json gemms = json::array();
  for (const GemmUse& u : e.gemms) {
    gemms.push_back({{"block", u.block}, {"name", u.gemm.name}, {"m", u.gemm.m}, {"n", u.gemm.n}, {"k", u.gemm.k},
                     {"count", u.gemm.count}, {"dtype", u.dtype}, {"forward_tflops", rate_json(u.forward)},
                     {"dgrad_tflops", rate_json(u.dgrad)}, {"wgrad_tflops", rate_json(u.wgrad)}, {"time_s", u.time_s}});
  }
  json comms = json::array();
  for (const CommUse& u : e.comms) {
    comms.push_back({{"name", u.name}, {"group", u.group}, {"bytes", u.bytes}, {"time_s", u.time_s},
                     {"calls_per_step", u.per_step}, {"exposed_s_per_step", u.exposed_s}, {"source", to_string(u.source)},
                     {"detail", u.detail}});
  }
  return {{"layout", layout_json(e.layout)},
          {"global_batch", e.global_batch},
          {"micro_batches", e.micro_batches},
          {"stage_blocks", e.stage_layers},
          {"step_time_s", e.step_time_s},
          {"tokens_per_step", e.tokens_per_step},
          {"tokens_per_s", e.tokens_per_s},
          {"model_flops_per_step", e.model_flops_per_step},
          {"mfu", e.mfu},
          {"mfu_bf16", e.mfu_bf16},
          {"breakdown_s", {{"gemm", b.gemm}, {"attention", b.attention}, {"other", b.other}, {"tp_comm", b.tp_comm},
                           {"ep_comm", b.ep_comm}, {"pp_comm", b.pp_comm}, {"dp_comm", b.dp_comm}, {"bubble", b.bubble},
                           {"recompute_included", b.recompute}}},
          {"memory_bytes", {{"weights", e.memory.weights}, {"grads", e.memory.grads}, {"optimizer", e.memory.optimizer},
                            {"activations", e.memory.activations}, {"logits", e.memory.logits}, {"total", e.memory.total},
                            {"usable", e.memory.usable}}},
          {"gemms", gemms},
          {"attention_tflops", rate_json(e.attention)},
          {"communication", comms},
          {"flags", e.flags}};
}

json training_json(const Training& t) {
  json j = {{"gpus", t.gpus}, {"tokens", t.tokens}, {"days", t.days}, {"gpu_hours", t.gpu_hours},
            {"layouts", {{"tried", t.search.tried}, {"valid", t.search.valid}, {"fit", t.search.fit}}},
            {"step", step_json(t.search.best)}};
  if (t.energy) {
    j["energy"] = {{"power_w", rate_json(t.energy->power_w)}, {"pue", t.energy->pue}, {"mwh", t.energy->mwh}};
    if (t.energy->cost_won) j["energy"]["cost_won"] = *t.energy->cost_won;
  }
  return j;
}

}  // namespace

std::string render_markdown(const SizeReport& report) { return markdown(page_of(report)); }

std::string render_html(const SizeReport& report) { return html_page(page_of(report), title_of(report)); }

json to_json(const SizeReport& r) {
  const ParamCount params = count_params(r.model);
  json candidates = json::array();
  for (const CandidateSizing& cs : r.candidates) {
    const Candidate& c = cs.candidate;
    json peaks = json::object();
    for (const auto& [dtype, v] : c.peak_tflops) peaks[dtype] = v;
    json j = {{"name", c.name}, {"gpu", c.gpu_name}, {"files", c.files}, {"fixture", c.fixture},
              {"peak_tflops", peaks}, {"peak_source", c.peak_source}, {"memory_bytes", rate_json(c.memory_bytes)},
              {"notes", c.notes}, {"network_notes", cs.network.notes}};
    if (c.fixture) j["fixture_note"] = c.fixture_note;
    if (cs.at_gpus) j["at_gpus"] = training_json(*cs.at_gpus);
    if (cs.deadline) {
      json d = {{"days", cs.deadline->days}};
      if (cs.deadline->needed) d["needed"] = training_json(*cs.deadline->needed);
      else d["why_not"] = cs.deadline->why_not;
      j["deadline"] = d;
    }
    candidates.push_back(j);
  }
  json out = {{"model", {{"name", r.model.name}, {"file", r.model.origin}, {"params_total", params.total},
                         {"params_active", params.active}, {"model_flops_per_token", 3 * forward_flops_per_token(r.model)},
                         {"six_n_flops_per_token", six_n_flops_per_token(r.model)}, {"seq_len", r.model.seq_len}}},
              {"tokens", r.tokens},
              {"global_batch", r.global_batch},
              {"global_batch_source", r.global_batch_source},
              {"assumptions", assumption_lines(r)},
              {"candidates", candidates}};
  if (r.gpus) out["gpus"] = *r.gpus;
  if (r.deadline_days) out["deadline_days"] = *r.deadline_days;
  if (r.energy.won_per_kwh) out["won_per_kwh"] = *r.energy.won_per_kwh;
  out["pue"] = r.energy.pue;
  return out;
}

}  // namespace aicbench::sizing
