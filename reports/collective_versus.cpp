#include "reports/collective_versus.hpp"

#include <algorithm>
#include <map>
#include <tuple>

#include "collectives/collective_ops.hpp"
#include "reports/model_collective.hpp"
#include "reports/result_fields.hpp"

namespace aicbench::reports {

namespace {

struct Key {
  size_t file;
  std::string family, dtype;
  int in_place;
  std::string place, mode;
  auto tie() const { return std::tie(file, family, dtype, in_place, place, mode); }
  bool operator<(const Key& o) const { return tie() < o.tie(); }
};

std::string join_runs(const std::vector<std::pair<std::string, std::string>>& runs) {
  std::string text;
  for (const auto& [what, span] : runs) text += (text.empty() ? "" : "; ") + what + " " + span;
  return text;
}

// Consecutive sizes with the same label, as "label from A to B" (or "at A" for one size).
std::vector<std::pair<std::string, std::string>> runs_of(const std::vector<std::pair<double, std::string>>& labelled) {
  std::vector<std::pair<std::string, std::string>> runs;
  size_t begin = 0;
  for (size_t i = 1; i <= labelled.size(); ++i) {
    if (i < labelled.size() && labelled[i].second == labelled[begin].second) continue;
    const double lo = labelled[begin].first, hi = labelled[i - 1].first;
    runs.emplace_back(labelled[begin].second, lo == hi ? "at " + model::format_bytes(lo)
                                                       : "from " + model::format_bytes(lo) + " to " + model::format_bytes(hi));
    begin = i;
  }
  return runs;
}

}  // namespace

std::vector<CollectiveVersus> collective_comparisons(const std::vector<ReportRow>& rows) {
  std::map<Key, std::map<double, CollectiveVersus::Size>> groups;
  for (const ReportRow& row : rows) {
    if (!parse_collective_op(row.family) || !row.ok() || !row.time_s || !row.params) continue;
    const std::optional<double> bytes = number(*row.params, "bytes");
    if (!bytes) continue;
    const bool vendor = is_true(field(*row.entry, "aicbench"), "vendor");
    const Key key{row.file, row.family, row.dtype, static_cast<int>(number(*row.params, "in_place").value_or(0)),
                  gpu_cell(row.origin), row.mode};
    CollectiveVersus::Size& size = groups[key][*bytes];
    size.bytes = *bytes;
    std::optional<double>& best = vendor ? size.vendor_s : size.ours_s;
    if (!best || *row.time_s < *best) {
      best = row.time_s;
      (vendor ? size.vendor_impl : size.ours_impl) = row.impl;
    }
  }

  std::vector<CollectiveVersus> out;
  for (const auto& [key, by_size] : groups) {
    const bool has_ours = std::any_of(by_size.begin(), by_size.end(), [](const auto& s) { return s.second.ours_s.has_value(); });
    if (!has_ours) continue;
    CollectiveVersus v;
    v.file = key.file;
    v.title = key.family + " · " + key.dtype + " · " + (key.in_place ? "in place" : "out of place") +
              (key.place.empty() ? "" : " · " + key.place) + (key.mode.empty() || key.mode == "hot" ? "" : " · " + key.mode);
    std::vector<std::pair<double, std::string>> leader, best_impl;
    for (const auto& [bytes, size] : by_size) {
      v.sizes.push_back(size);
      if (const auto s = size.speedup()) leader.emplace_back(bytes, *s > 1 ? "ours faster" : "the vendor faster");
      if (size.ours_s) best_impl.emplace_back(bytes, size.ours_impl);
    }
    v.lead = join_runs(runs_of(leader));
    v.our_best = join_runs(runs_of(best_impl));
    out.push_back(std::move(v));
  }
  return out;
}

}  // namespace aicbench::reports
