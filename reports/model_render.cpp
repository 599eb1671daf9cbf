#include "reports/model_render.hpp"

#include <cmath>
#include <sstream>

#include "reports/text_format.hpp"

namespace aicbench::model {

namespace {

using json = nlohmann::json;
using reports::human_time;
using reports::markdown_escape;
using reports::sig3;

std::string gbps(double beta_s_per_byte) { return beta_s_per_byte > 0 ? sig3(1e-9 / beta_s_per_byte) + " GB/s" : "unbounded"; }

// Errors below 1e-6 % are rounding in the arithmetic, not the model.
std::string percent(double fraction) {
  return std::fabs(fraction) < 1e-8 ? std::string("0 %") : reports::sig3(100 * fraction) + " %";
}
std::string signed_percent(double fraction) {
  if (std::fabs(fraction) < 1e-8) return "0 %";
  std::string text = fraction >= 0 ? "+" : "";
  return text.append(sig3(100 * fraction)).append(" %");
}

// Sizes are whole bytes up to 2^53: JSON integers, not 1048576.0.
int64_t whole(double bytes) { return static_cast<int64_t>(bytes); }

std::string op_impl(CollectiveOp op, const std::string& impl) { return std::string(to_string(op)) + "/" + impl; }

std::string ranks_text(const std::vector<int64_t>& ranks) {
  std::vector<std::string> parts;
  for (int64_t r : ranks) parts.push_back(std::to_string(r));
  return reports::join(parts, ",");
}

// ---------------------------------------------------------------------------------------------
// Terms and fits

struct TermRow {
  const char* name;
  const char* key;
  const Term* term;
  bool bandwidth;
};

std::vector<TermRow> term_rows(const Terms& t) {
  return {{"intra-node step latency (alpha_intra)", "intra_alpha", &t.intra_alpha, false},
          {"intra-node bandwidth per rank (1/beta_intra)", "intra_beta", &t.intra_beta, true},
          {"inter-node step latency (alpha_inter)", "inter_alpha", &t.inter_alpha, false},
          {"NIC bandwidth per GPU (1/beta_inter)", "inter_beta", &t.inter_beta, true},
          {"NVLS phase latency (alpha_nvls)", "nvls_alpha", &t.nvls_alpha, false},
          {"NVLS bandwidth per GPU link (1/beta_nvls)", "nvls_beta", &t.nvls_beta, true}};
}

std::string term_value(const TermRow& row) {
  if (!row.bandwidth) return human_time(row.term->value);
  std::string text = gbps(row.term->value);
  if (std::string(row.key) == "inter_beta" && row.term->value > 0) {
    text += " (" + sig3(8e-9 / row.term->value) + " Gb/s)";
  }
  return text;
}

void render_terms(std::ostringstream& os, const Terms& terms) {
  size_t assumed = 0;
  os << "| term | value | origin | source |\n|---|---|---|---|\n";
  for (const TermRow& row : term_rows(terms)) {
    const bool is_assumed = row.term->origin == Origin::assumed;
    assumed += is_assumed;
    os << "| " << row.name << " | " << term_value(row) << " | "
       << (is_assumed ? "**ASSUMED**" : std::string(to_string(row.term->origin))) << " | "
       << markdown_escape(row.term->source) << " |\n";
  }
  os << "\n";
  if (assumed) {
    os << "**" << assumed << " of 6 terms are assumed, datasheet-like defaults, not measurements**: the figures "
       << "that use them are estimates until calibrated (--calibrate RESULTS, --nic-gbps, ...).\n\n";
  }
}

void render_fit(std::ostringstream& os, const Fit& fit) {
  os << "- " << markdown_escape(fit.describe()) << ": alpha " << human_time(fit.intra.alpha_s) << ", 1/beta "
     << gbps(fit.intra.beta_s_per_byte);
  if (fit.inter) {
    os << "; across nodes alpha " << human_time(fit.inter->alpha_s) << ", 1/beta " << gbps(fit.inter->beta_s_per_byte)
       << " per NIC";
  }
  os << "\n\n  | file | ranks | nodes | rows | sizes | first row | last row |\n  |---|---|---|---|---|---|---|\n";
  auto sources = fit.intra.sources;
  if (fit.inter) sources.insert(sources.end(), fit.inter->sources.begin(), fit.inter->sources.end());
  for (const FitSource& s : sources) {
    os << "  | " << markdown_escape(s.file) << " | " << s.ranks << " | " << s.nodes << " | " << s.rows << " | "
       << format_bytes(s.min_bytes) << ".." << format_bytes(s.max_bytes) << " | " << markdown_escape(s.first_row)
       << " | " << markdown_escape(s.last_row) << " |\n";
  }
  for (const std::string& note : fit.notes) os << "\n  note: " << markdown_escape(note) << "\n";
  os << "\n";
}

json term_json(const Term& t, bool bandwidth) {
  json j = {{"value", t.value}, {"origin", to_string(t.origin)}, {"source", t.source}};
  if (bandwidth && t.value > 0) j["gbps"] = 1e-9 / t.value;
  return j;
}

json linear_fit_json(const LinearFit& f) {
  json sources = json::array();
  for (const FitSource& s : f.sources) {
    sources.push_back({{"file", s.file},
                       {"ranks", s.ranks},
                       {"nodes", s.nodes},
                       {"rows", s.rows},
                       {"min_bytes", whole(s.min_bytes)},
                       {"max_bytes", whole(s.max_bytes)},
                       {"first_row", s.first_row},
                       {"last_row", s.last_row}});
  }
  return {{"alpha_s", f.alpha_s},
          {"beta_s_per_byte", f.beta_s_per_byte},
          {"bandwidth_gbps", f.bandwidth_gbps()},
          {"points", f.points},
          {"ranks", f.ranks},
          {"min_bytes", whole(f.min_bytes)},
          {"max_bytes", whole(f.max_bytes)},
          {"rms_rel_residual", f.rms_rel_residual},
          {"sources", sources}};
}

json fit_json(const Fit& fit) {
  return {{"op", to_string(fit.op)},
          {"impl", fit.impl},
          {"dtype", fit.dtype},
          {"shape", to_string(fit.shape)},
          {"description", fit.describe()},
          {"intra_node", linear_fit_json(fit.intra)},
          {"inter_node", fit.inter ? linear_fit_json(*fit.inter) : json(nullptr)},
          {"notes", fit.notes}};
}

void render_list(std::ostringstream& os, const char* title, const std::vector<std::string>& items) {
  if (items.empty()) return;
  os << title << "\n\n";
  for (const std::string& item : items) os << "- " << markdown_escape(item) << "\n";
  os << "\n";
}

// ---------------------------------------------------------------------------------------------
// Questions

std::string where(const CollectiveQuestion& q) {
  std::ostringstream os;
  os << q.span.ranks << " ranks on " << q.span.nodes << (q.span.nodes == 1 ? " node" : " nodes") << " ("
     << q.span.per_node << " per node)";
  return os.str();
}

void render_question(std::ostringstream& os, const CollectiveQuestion& q) {
  os << "### " << to_string(q.op) << " over " << (q.group == "job" ? "the whole job" : q.group + " groups") << ": "
     << where(q) << ", " << format_bytes(q.bytes) << "\n\n";
  if (q.group != "job") os << q.concurrent << " such groups run it at once, each GPU on its own NIC.\n\n";
  os << "| algorithm | time | algbw | busbw | latency part | bandwidth part | note |\n|---|---|---|---|---|---|---|\n";
  const Prediction& best = fastest(q.predictions);
  for (const Prediction& p : q.predictions) {
    if (!p.applicable) {
      os << "| " << to_string(p.algorithm) << " | n/a | | | | | " << markdown_escape(p.note) << " |\n";
      continue;
    }
    os << "| " << to_string(p.algorithm) << (&p == &best ? " (fastest)" : "") << " | " << human_time(p.time_s) << " | "
       << sig3(p.algbw_gbps) << " GB/s | " << sig3(p.busbw_gbps) << " GB/s | " << human_time(p.latency_s) << " | "
       << human_time(p.bandwidth_s) << " | " << markdown_escape(p.note) << " |\n";
  }
  os << "\n";
}

json question_json(const CollectiveQuestion& q) {
  json algorithms = json::array();
  for (const Prediction& p : q.predictions) {
    json a = {{"algorithm", to_string(p.algorithm)}, {"applicable", p.applicable}, {"note", p.note}};
    if (p.applicable) {
      a["time_s"] = p.time_s;
      a["latency_s"] = p.latency_s;
      a["bandwidth_s"] = p.bandwidth_s;
      a["algbw_gbps"] = p.algbw_gbps;
      a["busbw_gbps"] = p.busbw_gbps;
    }
    algorithms.push_back(a);
  }
  return {{"group", q.group},
          {"group_size", q.group_size},
          {"concurrent_groups", q.concurrent},
          {"op", to_string(q.op)},
          {"bytes", whole(q.bytes)},
          {"ranks", q.span.ranks},
          {"nodes", q.span.nodes},
          {"ranks_per_node", q.span.per_node},
          {"algorithms", algorithms},
          {"fastest", to_string(fastest(q.predictions).algorithm)}};
}

// ---------------------------------------------------------------------------------------------
// Validation

json summary_json(const ErrorSummary& s) {
  return {{"count", s.count}, {"median_abs_rel_err", s.median_abs}, {"max_abs_rel_err", s.max_abs}};
}

std::string summary_cells(const ErrorSummary& s) {
  if (!s.count) return "0 | | ";
  return std::to_string(s.count) + " | " + percent(s.median_abs) + " | " + percent(s.max_abs);
}

std::string holdout_text(const ValidationOptions& o) {
  std::vector<int64_t> ranks(o.fit_ranks.begin(), o.fit_ranks.end());
  std::string text = "fitted on ranks ";
  text += ranks_text(ranks);
  if (o.fit_bytes_min || o.fit_bytes_max) {
    text += ", sizes " + (o.fit_bytes_min ? format_bytes(*o.fit_bytes_min) : std::string("any")) + ".." +
            (o.fit_bytes_max ? format_bytes(*o.fit_bytes_max) : std::string("any"));
  }
  if (o.holdout_every >= 2) {
    text += ", leaving out every " + std::to_string(o.holdout_every) + (o.holdout_every == 2 ? "nd" : o.holdout_every == 3 ? "rd" : "th") +
            " size from the 2nd";
  }
  return text + "; every other row is held out and predicted";
}

}  // namespace

std::string render_markdown(const PredictionReport& r) {
  std::ostringstream os;
  os << "# Collective model: " << r.ranks << " ranks, " << r.ranks / r.gpus_per_node << " nodes x "
     << r.gpus_per_node << " GPUs\n\n";
  os << "Alpha-beta model (docs/collective-model.md): a step that moves m bytes costs alpha + m * beta; busbw is "
        "nccl-tests' (algbw times 2(n-1)/n for all_reduce, (n-1)/n for all_gather, reduce_scatter and all_to_all, 1 "
        "for broadcast).\n\n";
  os << "## Terms\n\n";
  render_terms(os, r.terms);
  render_list(os, "**Warnings:**", r.warnings);

  if (!r.layout.empty()) {
    os << "## Parallel groups: " << r.layout << " (the first varies fastest over the ranks)\n\n";
    os << "| group | ranks per group | groups at once | nodes per group | ranks per node | op | size | fastest | time | "
          "busbw |\n|---|---|---|---|---|---|---|---|---|---|\n";
    for (const CollectiveQuestion& q : r.questions) {
      if (q.group == "job") continue;
      const Prediction& best = fastest(q.predictions);
      os << "| " << q.group << " | " << q.group_size << " | " << q.concurrent << " | " << q.span.nodes << " | "
         << q.span.per_node << " | " << to_string(q.op) << " | " << format_bytes(q.bytes) << " | "
         << to_string(best.algorithm) << " | " << human_time(best.time_s) << " | " << sig3(best.busbw_gbps)
         << " GB/s |\n";
    }
    os << "\n";
  }
  os << "## Predictions\n\n";
  for (const CollectiveQuestion& q : r.questions) render_question(os, q);

  if (!r.fits.empty()) {
    os << "## Fits (which rows fitted which term)\n\n";
    for (const Fit& fit : r.fits) render_fit(os, fit);
  }
  render_list(os, "Rows left out of the calibration:", r.notes);
  return os.str();
}

json to_json(const PredictionReport& r) {
  json terms = json::object();
  for (const TermRow& row : term_rows(r.terms)) {
    terms[std::string(row.key) + (row.bandwidth ? "_s_per_byte" : "_s")] = term_json(*row.term, row.bandwidth);
  }
  json fits = json::array();
  for (const Fit& fit : r.fits) fits.push_back(fit_json(fit));
  json questions = json::array();
  for (const CollectiveQuestion& q : r.questions) questions.push_back(question_json(q));
  return {{"model", "aicbench collective alpha-beta model (docs/collective-model.md)"},
          {"ranks", r.ranks},
          {"gpus_per_node", r.gpus_per_node},
          {"nodes", r.ranks / r.gpus_per_node},
          {"layout", r.layout},
          {"terms", terms},
          {"calibration_files", r.calibration_files},
          {"fits", fits},
          {"collectives", questions},
          {"warnings", r.warnings},
          {"notes", r.notes}};
}

std::string render_markdown(const Validation& v) {
  std::ostringstream os;
  os << "# Collective model validation\n\n"
     << holdout_text(v.options) << ". Error = (predicted - measured) / measured, of the median time of each row.\n\n";
  os << "| op/impl | shape | dtype | alpha | 1/beta | fitted rows | fit rms residual | held-out ranks: rows | median "
        "error | max error | held-out sizes: rows | median error | max error |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|\n";
  for (const ValidationGroup& g : v.groups) {
    os << "| " << op_impl(g.op, g.impl) << " | ";
    if (!g.fit) {
      os << " | " << g.dtype << " | not fitted: " << markdown_escape(g.skipped) << " | | | | | | | | | |\n";
      continue;
    }
    os << to_string(g.fit->shape) << " | " << g.dtype << " | " << human_time(g.fit->intra.alpha_s) << " | "
       << gbps(g.fit->intra.beta_s_per_byte) << " | " << g.fit->intra.points + (g.fit->inter ? g.fit->inter->points : 0)
       << " | " << percent(g.fit->intra.rms_rel_residual) << " | " << summary_cells(g.held_out_ranks) << " | "
       << summary_cells(g.held_out_sizes) << " |\n";
  }
  os << "| **all** | | | | | | | " << summary_cells(v.held_out_ranks) << " | " << summary_cells(v.held_out_sizes)
     << " |\n\n";

  for (const ValidationGroup& g : v.groups) {
    if (!g.fit || g.checks.empty()) continue;
    os << "## " << op_impl(g.op, g.impl) << " (" << g.dtype << ")\n\n";
    os << "Fit: " << markdown_escape(g.fit->describe()) << ".\n\n";
    os << "| ranks | nodes | size | measured | predicted | error | held out | row |\n|---|---|---|---|---|---|---|---|\n";
    for (const Check& c : g.checks) {
      os << "| " << c.point.ranks << " | " << c.point.nodes << " | " << format_bytes(c.point.bytes) << " | "
         << human_time(c.point.time_s) << " | " << human_time(c.predicted_s) << " | " << signed_percent(c.rel_err)
         << " | " << (c.kind == Holdout::ranks ? "ranks" : "size") << " | " << markdown_escape(c.point.file) << ": "
         << markdown_escape(c.point.row) << " |\n";
    }
    for (const std::string& note : g.fit->notes) os << "\nnote: " << markdown_escape(note) << "\n";
    os << "\n";
  }
  render_list(os, "Rows left out:", v.notes);
  return os.str();
}

json to_json(const Validation& v) {
  json groups = json::array();
  for (const ValidationGroup& g : v.groups) {
    json checks = json::array();
    for (const Check& c : g.checks) {
      checks.push_back({{"file", c.point.file},
                        {"row", c.point.row},
                        {"ranks", c.point.ranks},
                        {"nodes", c.point.nodes},
                        {"bytes", whole(c.point.bytes)},
                        {"measured_s", c.point.time_s},
                        {"predicted_s", c.predicted_s},
                        {"rel_err", c.rel_err},
                        {"held_out", c.kind == Holdout::ranks ? "ranks" : "size"}});
    }
    groups.push_back({{"op", to_string(g.op)},
                      {"impl", g.impl},
                      {"dtype", g.dtype},
                      {"fit", g.fit ? fit_json(*g.fit) : json(nullptr)},
                      {"skipped", g.skipped},
                      {"held_out_ranks", summary_json(g.held_out_ranks)},
                      {"held_out_sizes", summary_json(g.held_out_sizes)},
                      {"all", summary_json(g.all)},
                      {"checks", checks}});
  }
  const ValidationOptions& o = v.options;
  json options = {{"fit_ranks", std::vector<int64_t>(o.fit_ranks.begin(), o.fit_ranks.end())},
                  {"fit_bytes_min", o.fit_bytes_min ? json(whole(*o.fit_bytes_min)) : json(nullptr)},
                  {"fit_bytes_max", o.fit_bytes_max ? json(whole(*o.fit_bytes_max)) : json(nullptr)},
                  {"holdout_every", o.holdout_every},
                  {"op", o.op ? json(to_string(*o.op)) : json(nullptr)},
                  {"impls", std::vector<std::string>(o.impls.begin(), o.impls.end())}};
  return {{"model", "aicbench collective alpha-beta model (docs/collective-model.md)"},
          {"validation", options},
          {"summary",
           {{"held_out_ranks", summary_json(v.held_out_ranks)},
            {"held_out_sizes", summary_json(v.held_out_sizes)},
            {"all", summary_json(v.all)}}},
          {"groups", groups},
          {"notes", v.notes}};
}

}  // namespace aicbench::model
