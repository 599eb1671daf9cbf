#include "reports/score_render.hpp"

#include <cmath>
#include <sstream>

#include <nlohmann/json.hpp>

#include "reports/text_format.hpp"

namespace aicbench::score {

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using State = Measurement::State;
using reports::join;
using reports::printf_double;

constexpr size_t kRowsNamed = 4;  // rows named in a benchmark's cell before "+N"

// ==== Numbers as the tables print them

std::string fixed(double v, int digits) {
  if (!std::isfinite(v)) return "-";
  return printf_double(("%." + std::to_string(digits) + "f").c_str(), v);
}

// 1234567 -> "1,234,567"
std::string grouped(double v) {
  if (!std::isfinite(v) || std::fabs(v) >= 1e15) return reports::sig3(v);
  std::string digits = printf_double("%.0f", std::fabs(v));
  for (int at = static_cast<int>(digits.size()) - 3; at > 0; at -= 3) digits.insert(static_cast<size_t>(at), ",");
  return (v < 0 ? "-" : "") + digits;
}

// Won, in millions where large: "56.8M won", "1,000,000M won", "950,000 won".
std::string won(double v) {
  if (std::fabs(v) >= 1e9) return grouped(v / 1e6) + "M won";
  if (std::fabs(v) >= 1e6) return reports::sig3(v / 1e6) + "M won";
  return grouped(v) + " won";
}

std::string ratio_text(double r) { return fixed(r, 2) + "x"; }

std::string index_text(double v) { return fixed(v, 3); }

std::string shown_value(const Operation& op, const Measurement& m) {
  return op.time_only ? reports::human_time(m.shown) : reports::sig3(m.shown);
}

std::string unit_label(const Operation& op) { return op.time_only ? "time (lower is better)" : op.unit; }

// F1, F2, ... : a candidate's files, numbered from 1 in the order of CandidateSpec::files.
std::string file_id(size_t file) { return "F" + std::to_string(file + 1); }

std::string rows_text(const Measurement& m) {
  std::vector<std::string> refs;
  for (size_t i = 0; i < m.rows.size() && i < kRowsNamed; ++i) {
    refs.push_back(file_id(m.rows[i].file) + "#" + std::to_string(m.rows[i].entry));
  }
  if (m.rows.size() > kRowsNamed) refs.push_back("+" + std::to_string(m.rows.size() - kRowsNamed));
  return join(refs, " ");
}

// A result file as the candidates file names it: relative to that file where it was found there.
std::string display_path(const Scorecard& card, const fs::path& path) {
  const fs::path base = card.input.path.parent_path();
  const std::string full = path.string(), prefix = (base / "").string();
  if (!base.empty() && full.size() > prefix.size() && full.compare(0, prefix.size(), prefix) == 0) return full.substr(prefix.size());
  return full;
}

std::string candidate_label(const Scorecard& card, size_t c) {
  std::string label = card.candidates[c].name;
  if (c == card.reference) label += " (reference)";
  if (card.candidates[c].fixture) label += " FIXTURE";
  return label;
}

std::string group_selects(const Group& g) {
  return g.family + (g.dtypes.empty() ? std::string() : " (" + join(g.dtypes, ", ") + ")");
}

bool has_training_column(const Scorecard& card) { return !card.input.training_model.empty(); }

std::string training_text(const CandidateScore& s) {
  if (!s.training) return "not available: " + s.training_unavailable;
  std::string text = reports::sig3(s.training->tokens_per_day) + " tokens/day of " + s.training->model;
  if (s.training->mfu) text += ", MFU " + fixed(100 * *s.training->mfu, 1) + " %";
  return text;
}

std::string budget_text(const CandidateScore& s) {
  std::string text = grouped(static_cast<double>(s.budget.gpus)) + " GPUs";
  if (s.budget.nodes) text += " (" + grouped(static_cast<double>(*s.budget.nodes)) + " nodes)";
  return text;
}

std::string power_text(const Power& p) { return fixed(p.watts, 0) + " W " + (p.measured ? "measured" : "STATED"); }

// ==== The document, once, for both Markdown and HTML

struct Cell {
  std::string text;
  std::string title;  // HTML tooltip: what the cell leaves out (the other implementations)
  bool number = false;
};
struct Table {
  std::vector<std::string> header;
  std::vector<std::vector<Cell>> rows;
};
struct Block {
  enum class Kind { heading, subheading, paragraph, bullets, table, charts } kind;
  std::string text;
  std::vector<std::string> items;
  Table table;
};

Cell text_cell(std::string text) { return {std::move(text), "", false}; }
Cell number_cell(std::string text) { return {std::move(text), "", true}; }

std::string scope_line(const Scorecard& card) {
  size_t used = 0;
  for (const GroupScore& g : card.groups) used += g.used;
  return std::to_string(card.scored_operations()) + " benchmarks in " + std::to_string(used) + " of " +
         std::to_string(card.groups.size()) + " groups, each valid on every candidate";
}

std::string impl_rule_text(ImplRule rule) {
  return rule == ImplRule::best
             ? "best: per benchmark the fastest valid implementation the candidate ran, ours or the vendor library's "
               "(the other implementations are listed in the JSON and the HTML's tooltips)"
             : "vendor: per benchmark the vendor library's result only (cuBLAS/cuBLASLt, cuDNN, NCCL, cudaMemcpy, ...)";
}

std::vector<Block> document(const Scorecard& card) {
  const CandidatesFile& in = card.input;
  const Centre& centre = in.centre;
  const size_t n = card.candidates.size();
  std::vector<Block> doc;
  auto heading = [&](std::string text) { doc.push_back({Block::Kind::heading, std::move(text), {}, {}}); };
  auto subheading = [&](std::string text) { doc.push_back({Block::Kind::subheading, std::move(text), {}, {}}); };
  auto paragraph = [&](std::string text) { doc.push_back({Block::Kind::paragraph, std::move(text), {}, {}}); };
  auto bullets = [&](std::vector<std::string> items) {
    if (!items.empty()) doc.push_back({Block::Kind::bullets, "", std::move(items), {}});
  };
  auto table = [&](Table t) { doc.push_back({Block::Kind::table, "", {}, std::move(t)}); };

  // ---- Inputs
  Table inputs{{"", ""}, {}};
  auto kv = [&](std::string k, std::string v) { inputs.rows.push_back({text_cell(std::move(k)), text_cell(std::move(v))}); };
  kv("Candidates file", in.path.string() + (in.description.empty() ? "" : ": " + in.description));
  kv("Profile", in.profile.name + " (" + in.profile.path.string() + "): " + in.profile.description);
  kv("Reference", card.candidates[card.reference].name + ": its index is 1.000, every ratio is against its result");
  kv("Implementations", impl_rule_text(card.impls));
  kv("Budget", won(centre.budget_won) + (centre.budget_covers_tco ? ", covering purchase and electricity over the service years (tco)"
                                                                  : ", covering the purchase (GPUs, nodes, node costs)"));
  kv("Running", fixed(centre.electricity_won_per_kwh, 1) + " won/kWh, PUE " + fixed(centre.pue, 2) + ", " +
                    reports::sig3(centre.service_years) + " years of service, utilisation " +
                    fixed(100 * centre.utilisation, 0) + " %");
  kv("Index over", scope_line(card));
  kv("Ranked by", "the performance the budget buys: GPUs bought x index (reference-GPU equivalents)");
  doc.push_back({Block::Kind::heading, "Procurement scorecard: " + in.name, {}, {}});
  table(std::move(inputs));
  bullets(card.notes);

  // ---- Ranking
  heading("Ranking");
  Table ranking;
  ranking.header = {"Rank", "Candidate", "SKU", "Index", "Power per GPU", "Perf per kW", "Purchase per GPU", "TCO per GPU",
                    "Perf per 100M won (purchase)", "Perf per 100M won (TCO)", "The budget buys", "Reference-GPU equivalents"};
  if (has_training_column(card)) ranking.header.push_back("Training capacity (" + in.training_model + ")");
  const CandidateScore& ref = card.candidates[card.reference];
  for (size_t c : card.ranking()) {
    const CandidateScore& s = card.candidates[c];
    std::vector<Cell> row = {
        number_cell(std::to_string(s.rank)),
        text_cell(candidate_label(card, c)),
        text_cell(in.candidates[c].sku),
        number_cell(index_text(s.index)),
        number_cell(power_text(s.power)),
        number_cell(fixed(s.perf_per_kw, 3) + " (" + ratio_text(s.perf_per_kw / ref.perf_per_kw) + ")"),
        number_cell(won(s.costs.purchase_per_gpu)),
        number_cell(won(s.costs.tco_per_gpu)),
        number_cell(fixed(s.perf_per_100m_won_purchase, 3) + " (" + ratio_text(s.perf_per_100m_won_purchase / ref.perf_per_100m_won_purchase) + ")"),
        number_cell(fixed(s.perf_per_100m_won_tco, 3) + " (" + ratio_text(s.perf_per_100m_won_tco / ref.perf_per_100m_won_tco) + ")"),
        number_cell(budget_text(s)),
        number_cell(grouped(s.fleet_performance)),
    };
    if (has_training_column(card)) row.push_back(text_cell(training_text(s)));
    ranking.rows.push_back(std::move(row));
  }
  table(std::move(ranking));
  paragraph("Index: weighted geometric mean over the profile's groups of each group's geometric mean of per-benchmark ratios "
            "to the reference. Perf per kW: index per kW of GPU power under load. Per 100M won: index per 100,000,000 won "
            "spent per GPU. In parentheses: against the reference. STATED power comes from the candidates file, not from a "
            "measurement. How each figure was computed is below.");
  doc.push_back({Block::Kind::charts, "", {}, {}});

  // ---- Groups
  heading("Index by group");
  Table groups;
  groups.header = {"Group", "Selects", "Weight", "Weight used", "Benchmarks scored"};
  for (size_t c = 0; c < n; ++c) groups.header.push_back(candidate_label(card, c));
  for (const GroupScore& gs : card.groups) {
    const Group& g = in.profile.groups[gs.group];
    std::vector<Cell> row = {text_cell(g.name), text_cell(group_selects(g)), number_cell(reports::sig3(g.weight)),
                             gs.used ? number_cell(fixed(gs.weight, 3)) : text_cell("left out: " + gs.left_out),
                             number_cell(std::to_string(gs.scored))};
    row.back().title = g.why;
    for (size_t c = 0; c < n; ++c) row.push_back(gs.used ? number_cell(index_text(gs.geomean[c])) : text_cell("-"));
    groups.rows.push_back(std::move(row));
  }
  std::vector<Cell> total = {text_cell("Index"), text_cell("weighted geometric mean"), text_cell(""), number_cell("1.000"),
                             number_cell(std::to_string(card.scored_operations()))};
  for (size_t c = 0; c < n; ++c) total.push_back(number_cell(index_text(card.candidates[c].index)));
  groups.rows.push_back(std::move(total));
  table(std::move(groups));

  // ---- Each candidate's figures, traced
  heading("How each figure was computed");
  for (size_t c = 0; c < n; ++c) {
    const CandidateSpec& spec = in.candidates[c];
    const CandidateScore& s = card.candidates[c];
    const Costs& k = s.costs;
    subheading(candidate_label(card, c) + ": " + spec.sku);
    std::vector<std::string> items;
    std::vector<std::string> files;
    for (size_t f = 0; f < spec.files.size(); ++f) files.push_back(file_id(f) + " " + display_path(card, spec.files[f]));
    items.push_back("Result files (" + join(spec.result_patterns, ", ") + "): " + join(files, "; "));
    if (!s.devices.empty()) items.push_back("Devices in the files: " + join(s.devices, "; "));
    std::vector<std::string> terms;
    for (const GroupScore& gs : card.groups) {
      if (gs.used) terms.push_back(fixed(gs.weight, 3) + " x ln " + index_text(gs.geomean[c]));
    }
    items.push_back("Index = exp(" + join(terms, " + ") + ") = " + index_text(s.index));
    items.push_back("Power per GPU: " + fixed(s.power.watts, 0) + " W, " + s.power.detail);
    items.push_back("Perf per kW = " + index_text(s.index) + " / " + fixed(s.power.watts / 1000, 3) + " kW = " + fixed(s.perf_per_kw, 3));
    std::string node_costs;
    for (const auto& [name, v] : spec.node_costs_won) node_costs += " + " + name + " " + won(v);
    const std::string source = spec.price.source.empty() ? "" : " [" + spec.price.source + "]";
    if (spec.gpus_per_node) {
      const std::string gpn = std::to_string(*spec.gpus_per_node);
      const std::string price = spec.price.per_node_won ? won(*spec.price.per_node_won) + " per node"
                                                        : won(*spec.price.per_gpu_won) + " per GPU x " + gpn;
      items.push_back("Purchase per GPU = (" + price + node_costs + ") / " + gpn + " GPUs per node = " + won(k.purchase_per_node) +
                      " / " + gpn + " = " + won(k.purchase_per_gpu) + source);
    } else {
      items.push_back("Purchase per GPU = " + won(k.purchase_per_gpu) + source);
    }
    std::string draw = fixed(centre.utilisation, 2) + " x " + fixed(s.power.watts, 0) + " W";
    if (spec.idle_power_per_gpu_w > 0 || centre.utilisation < 1) {
      draw += " + " + fixed(1 - centre.utilisation, 2) + " x " + fixed(spec.idle_power_per_gpu_w, 0) + " W idle";
    }
    if (spec.gpus_per_node && spec.node_power_w > 0) {
      draw += " + " + fixed(spec.node_power_w, 0) + " W per node / " + std::to_string(*spec.gpus_per_node);
    }
    items.push_back("Energy per GPU = (" + draw + ") = " + fixed(k.average_draw_w, 0) + " W average x " +
                    grouped(kHoursPerYear) + " h x " + reports::sig3(centre.service_years) + " years x PUE " +
                    fixed(centre.pue, 2) + " = " + grouped(k.energy_kwh_per_gpu) + " kWh x " +
                    fixed(centre.electricity_won_per_kwh, 1) + " won/kWh = " + won(k.energy_won_per_gpu));
    items.push_back("TCO per GPU = " + won(k.purchase_per_gpu) + " + " + won(k.energy_won_per_gpu) + " = " + won(k.tco_per_gpu));
    items.push_back("Perf per 100M won: purchase " + index_text(s.index) + " / " + fixed(k.purchase_per_gpu / kWonPerUnit, 4) +
                    " = " + fixed(s.perf_per_100m_won_purchase, 3) + "; TCO " + index_text(s.index) + " / " +
                    fixed(k.tco_per_gpu / kWonPerUnit, 4) + " = " + fixed(s.perf_per_100m_won_tco, 3));
    const std::string basis = centre.budget_covers_tco ? "TCO" : "purchase";
    if (s.budget.nodes) {
      const double per_node = (centre.budget_covers_tco ? k.tco_per_gpu : k.purchase_per_gpu) * static_cast<double>(*spec.gpus_per_node);
      items.push_back("The budget buys floor(" + won(centre.budget_won) + " / " + won(per_node) + " " + basis + " per node) = " +
                      grouped(static_cast<double>(*s.budget.nodes)) + " nodes = " + grouped(static_cast<double>(s.budget.gpus)) +
                      " GPUs, " + won(s.budget.left_won) + " left");
    } else {
      const double per_gpu = centre.budget_covers_tco ? k.tco_per_gpu : k.purchase_per_gpu;
      items.push_back("The budget buys floor(" + won(centre.budget_won) + " / " + won(per_gpu) + " " + basis + " per GPU) = " +
                      grouped(static_cast<double>(s.budget.gpus)) + " GPUs, " + won(s.budget.left_won) + " left");
    }
    items.push_back("Reference-GPU equivalents = " + grouped(static_cast<double>(s.budget.gpus)) + " x " + index_text(s.index) +
                    " = " + grouped(s.fleet_performance));
    if (has_training_column(card)) {
      items.push_back("Training capacity: " + (s.training ? training_text(s) + (s.training->detail.empty() ? "" : " (" + s.training->detail + ")")
                                                          : "not available: " + s.training_unavailable));
    }
    for (const std::string& note : s.notes) items.push_back("Note: " + note);
    bullets(std::move(items));
  }

  // ---- Benchmarks
  auto benchmark_table = [&](bool scored) {
    Table t;
    t.header = {"Benchmark", "Group", scored ? "Unit" : "Left out because"};
    for (size_t c = 0; c < n; ++c) t.header.push_back(candidate_label(card, c));
    for (const Operation& op : card.operations) {
      if (op.scored != scored) continue;
      std::vector<Cell> row = {text_cell(op.key), text_cell(op.group ? in.profile.groups[*op.group].name : "(none)"),
                               text_cell(scored ? unit_label(op) : op.left_out)};
      for (size_t c = 0; c < n; ++c) {
        const Measurement& m = op.candidates[c];
        Cell cell;
        if (m.state == State::ok) {
          cell.text = shown_value(op, m) + (scored ? " (" + ratio_text(op.ratio[c]) + ")" : "") + " " + m.impl +
                      (m.unstable ? " UNSTABLE" : "") + " " + rows_text(m);
          cell.number = true;
        } else {
          cell.text = state_name(m.state) + (m.reason.empty() || m.state == State::not_measured ? "" : ": " + m.reason);
        }
        cell.title = join(m.others, "; ");
        row.push_back(std::move(cell));
      }
      t.rows.push_back(std::move(row));
    }
    return t;
  };
  heading("Benchmarks in the index");
  paragraph("Each cell: the candidate's median (over repetitions, GPUs and files) of the chosen implementation, its ratio to "
            "the reference in parentheses, the implementation, and the rows it came from (F2#7: the candidate's file F2, "
            "benchmarks[7]). Throughput for computing, bandwidth and collective benchmarks; time for those measured only as a "
            "time (the ratio is then the reference's time over the candidate's).");
  table(benchmark_table(true));
  heading("Left out of the index");
  size_t left = card.operations.size() - card.scored_operations();
  if (left == 0) {
    paragraph("Nothing: every benchmark in the result files is in the index.");
  } else {
    paragraph(std::to_string(left) + " benchmarks: not valid on every candidate, or not weighted by the profile. A candidate "
              "that lacks a benchmark says so here; nobody scores zero for it.");
    table(benchmark_table(false));
  }
  return doc;
}

// ==== Markdown

std::string md(const std::string& s) { return reports::markdown_escape(s); }

std::string markdown_of(const std::vector<Block>& doc) {
  std::ostringstream out;
  bool first = true;
  for (const Block& b : doc) {
    switch (b.kind) {
      case Block::Kind::heading:
        out << (first ? "# " : "## ") << b.text << "\n\n";
        first = false;
        break;
      case Block::Kind::subheading:
        out << "### " << b.text << "\n\n";
        break;
      case Block::Kind::paragraph:
        out << b.text << "\n\n";
        break;
      case Block::Kind::bullets:
        for (const std::string& item : b.items) out << "- " << md(item) << "\n";
        out << "\n";
        break;
      case Block::Kind::table: {
        out << "|";
        for (const std::string& h : b.table.header) out << " " << md(h) << " |";
        out << "\n|";
        for (size_t i = 0; i < b.table.header.size(); ++i) out << "---|";
        out << "\n";
        for (const auto& row : b.table.rows) {
          out << "|";
          for (const Cell& cell : row) out << " " << md(cell.text) << " |";
          out << "\n";
        }
        out << "\n";
        break;
      }
      case Block::Kind::charts:
        break;
    }
  }
  return out.str();
}

// ==== Charts

std::string series_label(const Scorecard& card, size_t c) {
  std::string label = card.candidates[c].name;
  if (!card.candidates[c].power.measured) label += " (power stated)";
  return label;
}

}  // namespace

std::string value_chart_script(const Scorecard& card) {
  const size_t n = card.candidates.size();
  std::ostringstream purchase, tco, labels;
  double max_x = 0, max_y = 0;
  for (size_t c = 0; c < n; ++c) {
    const CandidateScore& s = card.candidates[c];
    const double x = s.costs.purchase_per_gpu / 1e6, xt = s.costs.tco_per_gpu / 1e6;
    purchase << printf_double("%.6g", x) << ' ' << printf_double("%.6g", s.index) << '\n';
    tco << printf_double("%.6g", xt) << ' ' << printf_double("%.6g", s.index) << '\n';
    labels << "set label " << c + 1 << ' ' << reports::gnuplot_quote(card.candidates[c].name, 60) << " at "
           << printf_double("%.6g", x) << ',' << printf_double("%.6g", s.index) << " center offset 0,1.3 font 'sans,12'\n";
    max_x = std::max({max_x, x, xt});
    max_y = std::max(max_y, s.index);
  }
  const CandidateScore& ref = card.candidates[card.reference];
  const double slope = ref.index / (ref.costs.purchase_per_gpu / 1e6);
  std::ostringstream gp;
  gp << "set terminal svg size 760,520 dynamic noenhanced font 'sans,12' background '#ffffff'\n"
     << "$purchase << EOD\n" << purchase.str() << "EOD\n"
     << "$tco << EOD\n" << tco.str() << "EOD\n"
     << "set title " << reports::gnuplot_quote("Performance index against cost per GPU", 100) << "\n"
     << "set xlabel 'cost per GPU (million won)'\nset ylabel " << reports::gnuplot_quote("performance index (" + ref.name + " = 1)", 100) << "\n"
     << "set xrange [0:" << printf_double("%.6g", max_x * 1.25) << "]\nset yrange [0:" << printf_double("%.6g", max_y * 1.2) << "]\n"
     << "set grid\nset border 3\nset tics nomirror\nset key inside bottom right reverse Left samplen 2 box opaque\n"
     << labels.str()
     << "plot " << printf_double("%.9g", slope) << " * x with lines dt 2 lc rgb '#888888' title "
     << reports::gnuplot_quote("same performance per won of purchase as " + ref.name, 100) << ", \\\n"
     << "     $tco using 1:2 with points pt 6 ps 1.6 lc rgb '#e45756' title 'TCO per GPU (purchase + energy)', \\\n"
     << "     $purchase using 1:2 with points pt 7 ps 1.6 lc rgb '#4c78a8' title 'purchase per GPU'\n";
  return gp.str();
}

std::string relative_chart_script(const Scorecard& card) {
  const size_t n = card.candidates.size();
  const CandidateScore& ref = card.candidates[card.reference];
  std::ostringstream data, xtics;
  double max_y = 0;
  for (size_t c = 0; c < n; ++c) {
    const CandidateScore& s = card.candidates[c];
    const double values[] = {s.index / ref.index, s.perf_per_kw / ref.perf_per_kw,
                             s.perf_per_100m_won_purchase / ref.perf_per_100m_won_purchase,
                             s.perf_per_100m_won_tco / ref.perf_per_100m_won_tco,
                             ref.fleet_performance > 0 ? s.fleet_performance / ref.fleet_performance : 0};
    data << c;
    for (double v : values) {
      data << ' ' << printf_double("%.6g", v);
      max_y = std::max(max_y, v);
    }
    data << '\n';
    xtics << (c ? ", " : "") << reports::gnuplot_quote(series_label(card, c), 60) << ' ' << c;
  }
  std::ostringstream gp;
  gp << "set terminal svg size 760,520 dynamic noenhanced font 'sans,12' background '#ffffff'\n"
     << "$data << EOD\n" << data.str() << "EOD\n"
     << "set title " << reports::gnuplot_quote("Against " + ref.name + " (= 1)", 100) << "\n"
     << "set style data histograms\nset style histogram clustered gap 1\nset style fill solid 0.85 border -1\n"
     << "set boxwidth 0.9\nset yrange [0:" << printf_double("%.6g", max_y * 1.15) << "]\n"
     << "set xtics (" << xtics.str() << ")\n"
     << "set grid ytics\nset border 3\nset tics nomirror\nset key outside bottom center horizontal\n"
     << "set arrow from graph 0, first 1 to graph 1, first 1 nohead dt 2 lc rgb '#444444'\n"
     << "plot $data using 2 title 'index' lc rgb '#4c78a8', \\\n"
     << "     '' using 3 title 'perf per kW' lc rgb '#72b7b2', \\\n"
     << "     '' using 4 title 'perf per won (purchase)' lc rgb '#f58518', \\\n"
     << "     '' using 5 title 'perf per won (TCO)' lc rgb '#e45756', \\\n"
     << "     '' using 6 title 'performance the budget buys' lc rgb '#54a24b'\n";
  return gp.str();
}

std::string summary_line(const Scorecard& card) {
  std::vector<std::string> parts;
  for (size_t c : card.ranking()) {
    parts.push_back(std::to_string(card.candidates[c].rank) + " " + card.candidates[c].name + " (index " +
                    index_text(card.candidates[c].index) + ", " + grouped(card.candidates[c].fleet_performance) +
                    " reference-GPU equivalents)");
  }
  return "aicbench score: " + join(parts, ", ") + "; " + scope_line(card);
}

std::string render_markdown(const Scorecard& card) { return markdown_of(document(card)); }

// ==== HTML

namespace {

constexpr const char* kStyle = R"(
table { border-collapse: collapse; font-size: .85rem; margin: .5rem 0; }
th, td { border: 1px solid #ddd; padding: .25rem .5rem; text-align: left; vertical-align: top; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
th { background: #f4f4f4; }
td[title] { text-decoration: underline dotted #999; }
ul.notes li { background: #fff8e1; }
.note { background: #fff8e1; border-left: 4px solid #f0b400; padding: .4rem .8rem; margin: .6rem 0; }
.scroll { overflow-x: auto; }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(560px, 1fr)); gap: 1rem; }
figure { margin: 0; border: 1px solid #e6e6e6; border-radius: 4px; padding: .5rem; }
figcaption { font-weight: 600; }  figure svg { width: 100%; height: auto; }
)";

std::string html(const std::string& s) { return reports::markup_escape(s); }

std::string charts_html(const Scorecard& card, const reports::ChartDrawer& drawer) {
  if (!drawer.unavailable.empty() || !drawer.draw) {
    return "<p class=\"note\">Charts are not drawn: " + html(drawer.unavailable.empty() ? "no chart drawer" : drawer.unavailable) +
           ". The tables hold every number.</p>\n";
  }
  std::string out = "<div class=\"charts\">\n";
  const std::pair<std::string, std::string> charts[] = {
      {"Performance against cost per GPU", value_chart_script(card)},
      {"Every figure against the reference", relative_chart_script(card)},
  };
  size_t i = 0;
  for (const auto& [title, script] : charts) {
    try {
      out += "<figure><figcaption>" + html(title) + "</figcaption>\n" +
             reports::inline_svg(drawer.draw(script), title, "score" + std::to_string(i++) + "-") + "</figure>\n";
    } catch (const std::exception& e) {
      std::string why = e.what();
      if (why.size() > 600) why = why.substr(0, 600) + "…";
      out += "<p class=\"note\">The chart of " + html(title) + " was not drawn: " + html(why) + "</p>\n";
    }
  }
  return out + "</div>\n<p>Left: each candidate's index against its cost per GPU, filled at purchase and open at TCO; "
               "points above the dashed line give more performance per won of purchase than the reference. Right: the "
               "index, performance per kW, per won of purchase and of TCO, and the performance the budget buys, each "
               "against the reference's (= 1).</p>\n";
}

}  // namespace

std::string render_html(const Scorecard& card, const reports::ChartDrawer& drawer) {
  const std::vector<Block> doc = document(card);
  std::ostringstream out;
  const std::string title = "Procurement scorecard: " + card.input.name;
  out << reports::html_page_head(title, std::string(reports::kPageBaseStyle) + kStyle);
  bool first = true;
  for (const Block& b : doc) {
    switch (b.kind) {
      case Block::Kind::heading:
        out << (first ? "<h1>" : "<h2>") << html(b.text) << (first ? "</h1>\n" : "</h2>\n");
        first = false;
        break;
      case Block::Kind::subheading:
        out << "<h3>" << html(b.text) << "</h3>\n";
        break;
      case Block::Kind::paragraph:
        out << "<p>" << html(b.text) << "</p>\n";
        break;
      case Block::Kind::bullets:
        out << "<ul>\n";
        for (const std::string& item : b.items) out << "<li>" << html(item) << "</li>\n";
        out << "</ul>\n";
        break;
      case Block::Kind::table: {
        out << "<div class=\"scroll\"><table>\n";
        bool blank_header = true;
        for (const std::string& h : b.table.header) blank_header = blank_header && h.empty();
        if (!blank_header) {
          out << "<tr>";
          for (const std::string& h : b.table.header) out << "<th>" << html(h) << "</th>";
          out << "</tr>\n";
        }
        for (const auto& row : b.table.rows) {
          out << "<tr>";
          for (size_t i = 0; i < row.size(); ++i) {
            const Cell& cell = row[i];
            const bool key = blank_header && i == 0;
            out << (key ? "<th" : "<td") << (cell.number ? " class=\"n\"" : "")
                << (cell.title.empty() ? "" : " title=\"" + html(cell.title) + "\"") << ">" << html(cell.text)
                << (key ? "</th>" : "</td>");
          }
          out << "</tr>\n";
        }
        out << "</table></div>\n";
        break;
      }
      case Block::Kind::charts:
        out << charts_html(card, drawer);
        break;
    }
  }
  out << "</body></html>\n";
  return out.str();
}

// ==== JSON

namespace {

json number_or_null(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }
template <typename T>
json optional_json(const std::optional<T>& v) {
  return v ? json(*v) : json(nullptr);
}

}  // namespace

std::string render_json(const Scorecard& card) {
  const CandidatesFile& in = card.input;
  const size_t n = card.candidates.size();
  const CandidateScore& ref = card.candidates[card.reference];
  json doc;
  json groups = json::array();
  for (const Group& g : in.profile.groups) {
    groups.push_back({{"group", g.name}, {"family", g.family}, {"dtypes", g.dtypes}, {"weight", g.weight}, {"why", g.why}});
  }
  doc["input"] = {
      {"candidates_file", in.path.string()},
      {"name", in.name},
      {"description", in.description},
      {"centre",
       {{"budget_won", in.centre.budget_won},
        {"budget_covers", in.centre.budget_covers_tco ? "tco" : "purchase"},
        {"electricity_won_per_kwh", in.centre.electricity_won_per_kwh},
        {"pue", in.centre.pue},
        {"service_years", in.centre.service_years},
        {"utilisation", in.centre.utilisation},
        {"hours_per_year", kHoursPerYear}}},
      {"profile", {{"as_given", in.profile_as_given}, {"name", in.profile.name}, {"path", in.profile.path.string()},
                   {"description", in.profile.description}, {"groups", groups}}},
      {"reference", ref.name},
      {"implementations", impl_rule_name(card.impls)},
      {"training_model", in.training_model.empty() ? json(nullptr) : json(in.training_model)},
  };
  doc["notes"] = card.notes;
  doc["scored_benchmarks"] = card.scored_operations();

  json candidates = json::array();
  for (size_t c = 0; c < n; ++c) {
    const CandidateSpec& spec = in.candidates[c];
    const CandidateScore& s = card.candidates[c];
    json files = json::array();
    for (size_t f = 0; f < spec.files.size(); ++f) files.push_back({{"id", file_id(f)}, {"path", spec.files[f].lexically_normal().string()}});
    json training = nullptr;
    if (s.training) {
      training = {{"model", s.training->model}, {"tokens_per_day", s.training->tokens_per_day},
                  {"mfu", optional_json(s.training->mfu)}, {"detail", s.training->detail}};
    }
    candidates.push_back({
        {"name", s.name},
        {"sku", spec.sku},
        {"rank", s.rank},
        {"reference", c == card.reference},
        {"fixture", s.fixture},
        {"fixture_note", s.fixture_note},
        {"results", spec.result_patterns},
        {"files", files},
        {"devices", s.devices},
        {"index", s.index},
        {"power", {{"watts", s.power.watts}, {"measured", s.power.measured}, {"rows", s.power.rows}, {"detail", s.power.detail}}},
        {"perf_per_kw", s.perf_per_kw},
        {"price", {{"per_gpu_won", optional_json(spec.price.per_gpu_won)}, {"per_node_won", optional_json(spec.price.per_node_won)},
                   {"source", spec.price.source}}},
        {"gpus_per_node", optional_json(spec.gpus_per_node)},
        {"node_costs_won", spec.node_costs_won},
        {"node_power_w", spec.node_power_w},
        {"idle_power_per_gpu_w", spec.idle_power_per_gpu_w},
        {"stated_power_per_gpu_w", optional_json(spec.power_per_gpu_w)},
        {"costs", {{"purchase_per_gpu_won", s.costs.purchase_per_gpu}, {"purchase_per_node_won", s.costs.purchase_per_node},
                   {"node_costs_per_node_won", s.costs.node_costs_per_node}, {"average_draw_w", s.costs.average_draw_w},
                   {"energy_kwh_per_gpu", s.costs.energy_kwh_per_gpu}, {"energy_won_per_gpu", s.costs.energy_won_per_gpu},
                   {"tco_per_gpu_won", s.costs.tco_per_gpu}}},
        {"perf_per_100m_won_purchase", s.perf_per_100m_won_purchase},
        {"perf_per_100m_won_tco", s.perf_per_100m_won_tco},
        {"budget", {{"nodes", optional_json(s.budget.nodes)}, {"gpus", s.budget.gpus}, {"spent_won", s.budget.spent_won},
                    {"left_won", s.budget.left_won}}},
        {"fleet_performance", s.fleet_performance},
        {"relative_to_reference",
         {{"index", s.index / ref.index}, {"perf_per_kw", s.perf_per_kw / ref.perf_per_kw},
          {"perf_per_won_purchase", s.perf_per_100m_won_purchase / ref.perf_per_100m_won_purchase},
          {"perf_per_won_tco", s.perf_per_100m_won_tco / ref.perf_per_100m_won_tco},
          {"fleet_performance", ref.fleet_performance > 0 ? number_or_null(s.fleet_performance / ref.fleet_performance) : json(nullptr)}}},
        {"training_capacity", training},
        {"training_unavailable", s.training ? json(nullptr) : json(s.training_unavailable)},
        {"notes", s.notes},
    });
  }
  doc["candidates"] = std::move(candidates);

  json group_scores = json::array();
  for (const GroupScore& gs : card.groups) {
    group_scores.push_back({{"group", in.profile.groups[gs.group].name}, {"used", gs.used}, {"weight_used", gs.weight},
                            {"scored", gs.scored}, {"geomean", gs.used ? json(gs.geomean) : json(nullptr)},
                            {"left_out", gs.used ? json(nullptr) : json(gs.left_out)}});
  }
  doc["groups"] = std::move(group_scores);

  json operations = json::array();
  for (const Operation& op : card.operations) {
    json per = json::array();
    for (size_t c = 0; c < n; ++c) {
      const Measurement& m = op.candidates[c];
      json rows = json::array();
      for (const RowRef& r : m.rows) {
        const std::vector<fs::path>& files = in.candidates[c].files;
        rows.push_back({{"file", file_id(r.file)}, {"path", r.file < files.size() ? files[r.file].lexically_normal().string() : ""}, {"entry", r.entry}});
      }
      per.push_back({{"candidate", card.candidates[c].name},
                     {"state", state_name(m.state)},
                     {"value", m.state == State::ok ? json(m.shown) : json(nullptr)},
                     {"ratio", op.scored ? json(op.ratio[c]) : json(nullptr)},
                     {"impl", m.impl},
                     {"vendor", m.vendor},
                     {"unstable", m.unstable},
                     {"power_w", optional_json(m.power_w)},
                     {"reason", m.reason},
                     {"other_implementations", m.others},
                     {"rows", rows}});
    }
    operations.push_back({{"benchmark", op.key},
                          {"family", op.family},
                          {"dtype", op.dtype},
                          {"unit", op.time_only ? "s (time, lower is better)" : op.unit},
                          {"group", op.group ? json(in.profile.groups[*op.group].name) : json(nullptr)},
                          {"scored", op.scored},
                          {"left_out", op.scored ? json(nullptr) : json(op.left_out)},
                          {"candidates", per}});
  }
  doc["benchmarks"] = std::move(operations);
  return doc.dump(1) + "\n";
}

}  // namespace aicbench::score
