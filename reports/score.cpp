// The scorecard (reports/score.hpp; formulas in docs/score.md).
#include "reports/score.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "reports/json_input.hpp"
#include "reports/result_rows.hpp"
#include "reports/stats.hpp"
#include "reports/text_format.hpp"

namespace aicbench::score {

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using State = Measurement::State;

constexpr const char* kTimeUnit = "s";

// Every row of one candidate for one implementation of one operation.
struct ImplRows {
  std::vector<double> values;   // ok rows: higher is better
  std::vector<double> shown;    // ok rows: throughput, or median seconds
  std::vector<RowRef> rows;     // ok rows
  std::vector<double> power_w;  // ok rows that recorded it
  std::string unit;
  bool vendor = false;
  bool unstable = false;
  size_t failed = 0, error = 0, skipped = 0, unusable = 0;
  std::string reason;           // the first not-ok row's
};

struct OperationRows {
  std::string family, dtype;
  std::map<std::string, ImplRows> impls;  // by implementation
};

// A row's value, higher is better, and what a table shows: the throughput where the row has one,
// else the reciprocal of its median time (launch latency, pointer chase).
struct RowValue {
  double value = 0, shown = 0;
  std::string unit;
};
std::optional<RowValue> value_of(const ResultRow& row) {
  if (auto t = row.throughput(); t && *t > 0 && std::isfinite(*t)) return RowValue{*t, *t, row.throughput_unit()};
  if (row.median_s && *row.median_s > 0 && std::isfinite(*row.median_s)) {
    return RowValue{1 / *row.median_s, *row.median_s, kTimeUnit};
  }
  return std::nullopt;
}

double median_of(std::vector<double> v) { return stats::median(v); }

std::string shown_text(double shown, const std::string& unit) {
  return unit == kTimeUnit ? reports::human_time(shown) : reports::sig3(shown) + " " + unit;
}

// The measurement of one candidate for one operation under the rule.
Measurement measure(const OperationRows& op, ImplRule rule) {
  Measurement m;
  if (op.impls.empty()) return m;
  std::string best;
  double best_value = -1;
  bool any_ok = false;
  for (const auto& [impl, r] : op.impls) {
    if (r.values.empty()) continue;
    any_ok = true;
    if (rule == ImplRule::vendor && !r.vendor) continue;
    const double v = median_of(r.values);
    if (v > best_value) {
      best_value = v;
      best = impl;
    }
  }
  if (!best.empty()) {
    const ImplRows& r = op.impls.at(best);
    m.state = State::ok;
    m.value = best_value;
    m.shown = median_of(r.shown);
    m.impl = best;
    m.vendor = r.vendor;
    m.unstable = r.unstable;
    m.rows = r.rows;
    if (!r.power_w.empty()) m.power_w = median_of(r.power_w);
    m.power_rows = r.power_w.size();
  } else if (any_ok) {
    m.state = State::no_vendor;
    m.reason = "no vendor-library row (the vendor rule); valid rows of another implementation";
  } else {
    // Nothing valid: the worst state says what happened.
    size_t failed = 0, error = 0;
    for (const auto& [impl, r] : op.impls) {
      failed += r.failed;
      error += r.error;
      if (m.reason.empty()) m.reason = r.reason;
    }
    m.state = failed ? State::failed : error ? State::error : State::skipped;
    for (const auto& [impl, r] : op.impls) {
      if ((m.state == State::failed && r.failed) || (m.state == State::error && r.error && !r.failed)) {
        m.reason = r.reason;
        break;
      }
    }
  }
  for (const auto& [impl, r] : op.impls) {
    if (impl == m.impl) continue;
    std::string text = impl + (r.vendor ? " (vendor)" : "");
    if (!r.values.empty()) {
      text += " " + shown_text(median_of(r.shown), r.unit);
    } else if (r.failed) {
      text += " failed validation";
    } else if (r.error) {
      text += " error";
    } else if (r.skipped) {
      text += " skipped";
    } else {
      text += " no value";
    }
    m.others.push_back(text);
  }
  return m;
}

std::string money(double won) {
  // Won in eok (100,000,000) where large: what a Korean budget line reads.
  if (std::abs(won) >= kWonPerUnit) return reports::sig3(won / kWonPerUnit) + " x 100M won";
  return reports::whole_number(won) + " won";
}

std::string number(double v) { return reports::sig3(v); }

}  // namespace

const char* impl_rule_name(ImplRule rule) { return rule == ImplRule::best ? "best" : "vendor"; }

const char* state_name(State state) {
  switch (state) {
    case State::ok: return "ok";
    case State::not_measured: return "not measured";
    case State::failed: return "failed validation";
    case State::error: return "error";
    case State::skipped: return "skipped";
    case State::no_vendor: return "no vendor result";
  }
  return "?";
}

std::string operation_key(const std::string& name, std::optional<int64_t> collective_ranks) {
  std::string key;
  const size_t first = name.find('/');
  if (first == std::string::npos) {
    key = name;
  } else {
    const size_t second = name.find('/', first + 1);
    key = name.substr(0, first) + (second == std::string::npos ? "" : name.substr(second));
  }
  if (collective_ranks) key += "/ranks:" + std::to_string(*collective_ranks);
  return key;
}

size_t Scorecard::scored_operations() const {
  return static_cast<size_t>(std::count_if(operations.begin(), operations.end(), [](const Operation& o) { return o.scored; }));
}

std::vector<size_t> Scorecard::ranking() const {
  std::vector<size_t> order(candidates.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return candidates[a].rank < candidates[b].rank; });
  return order;
}

Scorecard compute_scorecard(const CandidatesFile& input, const std::vector<std::vector<ResultFile>>& results,
                            const ScoreOptions& options) {
  Scorecard card;
  card.input = input;
  card.impls = options.impls;
  const size_t n = input.candidates.size();
  if (results.size() != n) throw std::logic_error("compute_scorecard: one list of result files per candidate");

  // ---- The reference
  std::vector<std::string> names;
  for (const CandidateSpec& c : input.candidates) names.push_back(c.name);
  const std::string reference = !options.reference.empty() ? options.reference : input.reference;
  if (!reference.empty()) {
    auto it = std::find(names.begin(), names.end(), reference);
    if (it == names.end()) {
      const std::string nearest = nearest_word(reference, names);
      throw InputError("--reference is '" + reference + "', which names no candidate of " + input.path.string() +
                       (nearest.empty() ? "" : "; did you mean '" + nearest + "'?") + " (candidates: " +
                       reports::join(names, ", ") + ")");
    }
    card.reference = static_cast<size_t>(it - names.begin());
  }

  // ---- Every row of every candidate, by operation and implementation
  std::map<std::string, std::vector<OperationRows>> ops;  // key -> per candidate
  card.candidates.resize(n);
  for (size_t c = 0; c < n; ++c) {
    CandidateScore& score = card.candidates[c];
    score.name = input.candidates[c].name;
    std::set<std::string> devices;
    for (size_t f = 0; f < results[c].size(); ++f) {
      const ResultFile& file = results[c][f];
      const json& p = file.provenance();
      if (p.value("fixture", false) == true) {
        score.fixture = true;
        if (score.fixture_note.empty()) score.fixture_note = p.value("fixture_note", std::string());
      }
      const RunFacts facts = run_facts(file, f);
      if (!facts.origin.device_name.empty() || !facts.origin.backend.empty()) {
        devices.insert((facts.origin.device_name.empty() ? std::string("(unnamed device)") : facts.origin.device_name) +
                       " (" + facts.origin.backend + ")");
      }
      for (const ResultRow& row : result_rows(file, f)) {
        if (row.aggregate) continue;  // the repetitions are rows of their own; their median is taken here
        const std::string key = operation_key(row.name, row.collective_ranks);
        std::vector<OperationRows>& per = ops[key];
        if (per.empty()) per.resize(n);
        OperationRows& op = per[c];
        op.family = row.family;
        op.dtype = row.dtype;
        ImplRows& r = op.impls[row.impl];
        r.vendor = r.vendor || row.vendor;
        if (row.ok()) {
          if (auto v = value_of(row)) {
            if (!r.unit.empty() && r.unit != v->unit) {
              ++r.unusable;  // one implementation in two units: keep the first
              continue;
            }
            r.unit = v->unit;
            r.values.push_back(v->value);
            r.shown.push_back(v->shown);
            r.rows.push_back({f, row.entry});
            r.unstable = r.unstable || row.unstable;
            if (row.power_w && *row.power_w > 0) r.power_w.push_back(*row.power_w);
          } else {
            ++r.unusable;
          }
        } else {
          if (row.status == kStatusFailed) ++r.failed;
          else if (row.status == kStatusError) ++r.error;
          else ++r.skipped;
          if (r.reason.empty()) r.reason = row.reason.empty() ? row.status : row.reason;
        }
      }
    }
    score.devices.assign(devices.begin(), devices.end());
  }

  // ---- Operations: each candidate's measurement, the group, whether it is scored
  const Profile& profile = input.profile;
  for (auto& [key, per] : ops) {
    Operation op;
    op.key = key;
    for (const OperationRows& r : per) {
      if (!r.family.empty()) {
        op.family = r.family;
        op.dtype = r.dtype;
        break;
      }
    }
    op.group = profile.group_of(op.family, op.dtype);
    std::set<std::string> units;
    for (size_t c = 0; c < n; ++c) {
      op.candidates.push_back(measure(per[c], options.impls));
      if (op.candidates.back().state == State::ok) units.insert(per[c].impls.at(op.candidates.back().impl).unit);
    }
    op.unit = units.empty() ? "" : *units.begin();
    op.time_only = op.unit == kTimeUnit;

    std::map<State, std::vector<std::string>> lacking;
    for (size_t c = 0; c < n; ++c) {
      if (op.candidates[c].state != State::ok) lacking[op.candidates[c].state].push_back(input.candidates[c].name);
    }
    if (!op.group) {
      op.left_out = "not weighted: profile '" + profile.name + "' has no group for family " + op.family + ", dtype " + op.dtype;
    } else if (!(profile.groups[*op.group].weight > 0)) {
      op.left_out = "group " + profile.groups[*op.group].name + " has weight 0";
    } else if (!lacking.empty()) {
      std::vector<std::string> parts;
      for (const auto& [state, who] : lacking) parts.push_back(std::string(state_name(state)) + ": " + reports::join(who, ", "));
      op.left_out = reports::join(parts, "; ");
    } else if (units.size() > 1) {
      std::vector<std::string> u(units.begin(), units.end());
      op.left_out = "candidates report it in different units (" + reports::join(u, ", ") + ")";
    } else {
      op.scored = true;
      const double ref = op.candidates[card.reference].value;
      for (size_t c = 0; c < n; ++c) op.ratio.push_back(op.candidates[c].value / ref);
    }
    card.operations.push_back(std::move(op));
  }
  std::stable_sort(card.operations.begin(), card.operations.end(), [](const Operation& a, const Operation& b) {
    const size_t ga = a.group.value_or(SIZE_MAX), gb = b.group.value_or(SIZE_MAX);
    return ga != gb ? ga < gb : a.key < b.key;
  });

  // ---- Groups: geometric mean of ratios within, weights normalised over the groups used
  double used_weight = 0;
  for (size_t g = 0; g < profile.groups.size(); ++g) {
    GroupScore gs;
    gs.group = g;
    gs.geomean.assign(n, 0);
    std::vector<double> log_sum(n, 0);
    size_t seen = 0;
    for (const Operation& op : card.operations) {
      if (op.group != g) continue;
      ++seen;
      if (!op.scored) continue;
      ++gs.scored;
      for (size_t c = 0; c < n; ++c) log_sum[c] += std::log(op.ratio[c]);
    }
    const Group& group = profile.groups[g];
    if (!(group.weight > 0)) {
      gs.left_out = "weight 0";
    } else if (gs.scored == 0) {
      gs.left_out = seen == 0 ? "no result file has a benchmark of it"
                              : "no benchmark of it is valid on every candidate (" + std::to_string(seen) + " measured by some)";
    } else {
      gs.used = true;
      used_weight += group.weight;
      for (size_t c = 0; c < n; ++c) gs.geomean[c] = std::exp(log_sum[c] / static_cast<double>(gs.scored));
    }
    card.groups.push_back(std::move(gs));
  }
  if (!(used_weight > 0)) {
    std::vector<std::string> have;
    for (size_t c = 0; c < n; ++c) {
      size_t ok = 0;
      for (const Operation& op : card.operations) ok += op.candidates[c].state == State::ok;
      have.push_back(input.candidates[c].name + ": " + std::to_string(ok) + " valid benchmarks");
    }
    throw InputError(input.path.string() + ": nothing to compare: no benchmark that profile '" + profile.name + "' (" +
                     profile.path.string() + ") weights has a valid result on every candidate (" + reports::join(have, "; ") +
                     "); expected result files that share benchmarks of the profile's groups");
  }
  for (GroupScore& gs : card.groups) {
    if (gs.used) gs.weight = profile.groups[gs.group].weight / used_weight;
    else card.notes.push_back("group " + profile.groups[gs.group].name + " left out of the index: " + gs.left_out);
  }

  // ---- Per candidate: index, power, costs, budget
  const Centre& centre = input.centre;
  for (size_t c = 0; c < n; ++c) {
    const CandidateSpec& spec = input.candidates[c];
    CandidateScore& s = card.candidates[c];
    double log_index = 0;
    for (const GroupScore& gs : card.groups) {
      if (gs.used) log_index += gs.weight * std::log(gs.geomean[c]);
    }
    s.index = std::exp(log_index);

    // Power under the profile's mix: per group the median of its scored benchmarks' power, the
    // groups' powers averaged with the profile's weights (a weight is a share of the GPU's time).
    double weighted = 0, weights = 0;
    size_t groups_with_power = 0, used_groups = 0;
    for (const GroupScore& gs : card.groups) {
      if (!gs.used) continue;
      ++used_groups;
      std::vector<double> powers;
      for (const Operation& op : card.operations) {
        if (op.scored && op.group == gs.group && op.candidates[c].power_w) {
          powers.push_back(*op.candidates[c].power_w);
          s.power.rows += op.candidates[c].power_rows;
        }
      }
      if (powers.empty()) continue;
      ++groups_with_power;
      weighted += gs.weight * median_of(powers);
      weights += gs.weight;
    }
    if (weights > 0) {
      s.power.watts = weighted / weights;
      s.power.measured = true;
      s.power.detail = "measured: power_w of the scored benchmarks, median per group, averaged with the profile's weights (" +
                       std::to_string(groups_with_power) + " of " + std::to_string(used_groups) + " groups record power)";
      if (groups_with_power < used_groups) {
        s.notes.push_back("power measured in " + std::to_string(groups_with_power) + " of " + std::to_string(used_groups) +
                          " scored groups only");
      }
    } else if (spec.power_per_gpu_w) {
      s.power.watts = *spec.power_per_gpu_w;
      s.power.detail = "STATED: power_per_gpu_w of the candidates file (no scored result records power_w)";
      s.notes.push_back("power per GPU is the stated " + number(*spec.power_per_gpu_w) + " W, not measured");
    } else {
      throw InputError(input.path.string() + ": candidate '" + spec.name +
                       "' has no power figure: none of its scored results records power_w (NVML telemetry), and the "
                       "candidates file gives no power_per_gpu_w; expected field 'power_per_gpu_w' (watts per GPU under load)");
    }
    s.perf_per_kw = s.index / (s.power.watts / 1000);

    Costs& k = s.costs;
    for (const auto& [name, won] : spec.node_costs_won) k.node_costs_per_node += won;
    if (spec.gpus_per_node) {
      const double gpn = static_cast<double>(*spec.gpus_per_node);
      k.purchase_per_node = (spec.price.per_node_won ? *spec.price.per_node_won : *spec.price.per_gpu_won * gpn) +
                            k.node_costs_per_node;
      k.purchase_per_gpu = k.purchase_per_node / gpn;
      k.average_draw_w = spec.node_power_w / gpn;
    } else {
      k.purchase_per_gpu = *spec.price.per_gpu_won;
    }
    k.average_draw_w += centre.utilisation * s.power.watts + (1 - centre.utilisation) * spec.idle_power_per_gpu_w;
    k.energy_kwh_per_gpu = k.average_draw_w / 1000 * kHoursPerYear * centre.service_years * centre.pue;
    k.energy_won_per_gpu = k.energy_kwh_per_gpu * centre.electricity_won_per_kwh;
    k.tco_per_gpu = k.purchase_per_gpu + k.energy_won_per_gpu;
    s.perf_per_100m_won_purchase = s.index / (k.purchase_per_gpu / kWonPerUnit);
    s.perf_per_100m_won_tco = s.index / (k.tco_per_gpu / kWonPerUnit);

    // Whole nodes where the offer is nodes; what a unit costs depends on what the budget covers.
    const double per_gpu = centre.budget_covers_tco ? k.tco_per_gpu : k.purchase_per_gpu;
    if (spec.gpus_per_node) {
      const double gpn = static_cast<double>(*spec.gpus_per_node);
      const double per_node = per_gpu * gpn;
      const auto nodes = static_cast<int64_t>(std::floor(centre.budget_won / per_node * (1 + 1e-12)));
      s.budget.nodes = nodes;
      s.budget.gpus = nodes * *spec.gpus_per_node;
      s.budget.spent_won = static_cast<double>(nodes) * per_node;
      if (nodes == 0) s.notes.push_back("the budget buys no node: one costs " + money(per_node));
    } else {
      s.budget.gpus = static_cast<int64_t>(std::floor(centre.budget_won / per_gpu * (1 + 1e-12)));
      s.budget.spent_won = static_cast<double>(s.budget.gpus) * per_gpu;
    }
    s.budget.left_won = std::max(0.0, centre.budget_won - s.budget.spent_won);
    s.fleet_performance = static_cast<double>(s.budget.gpus) * s.index;

    // Notes that trace the figure: what was not used, and how much of it is unstable.
    size_t unstable = 0;
    for (const Operation& op : card.operations) unstable += op.scored && op.candidates[c].unstable;
    if (unstable) s.notes.push_back(std::to_string(unstable) + " scored results are flagged unstable (noisy)");
    if (s.fixture) s.notes.push_back("FIXTURE: its result files stand in for measurements" +
                                     (s.fixture_note.empty() ? std::string() : ": " + s.fixture_note));
    if (results[c].empty()) s.notes.push_back("no result files");
  }

  // ---- Training capacity: the sizing model, where wired and asked for
  for (size_t c = 0; c < n; ++c) {
    CandidateScore& s = card.candidates[c];
    if (input.training_model.empty()) {
      s.training_unavailable = "no training.model in the candidates file";
    } else if (!options.training_capacity) {
      s.training_unavailable = "the sizing model is not wired into score in this build";
    } else if (s.budget.gpus == 0) {
      s.training_unavailable = "the budget buys no GPU";
    } else {
      try {
        s.training = options.training_capacity(TrainingRequest{input.candidates[c], results[c], s.budget.gpus, input.training_model});
      } catch (const std::exception& e) {
        s.training_unavailable = e.what();
      }
    }
  }

  // ---- Rank: the performance the budget buys, then the index
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const CandidateScore &x = card.candidates[a], &y = card.candidates[b];
    if (x.fleet_performance != y.fleet_performance) return x.fleet_performance > y.fleet_performance;
    return x.index > y.index;
  });
  for (size_t r = 0; r < n; ++r) card.candidates[order[r]].rank = r + 1;

  // ---- Notes for the whole card
  size_t left_out = 0;
  for (const Operation& op : card.operations) left_out += !op.scored;
  if (left_out) {
    card.notes.insert(card.notes.begin(), std::to_string(left_out) + " of " + std::to_string(card.operations.size()) +
                                              " benchmarks are not in the index (listed under 'Left out of the index')");
  }
  std::vector<std::string> fixtures;
  for (const CandidateScore& s : card.candidates) {
    if (s.fixture) fixtures.push_back(s.name);
  }
  if (!fixtures.empty()) {
    card.notes.insert(card.notes.begin(), "FIXTURE data: the result files of " + reports::join(fixtures, ", ") +
                                              " are fixtures that stand in for measurements, not measured results");
  }
  return card;
}

}  // namespace aicbench::score
