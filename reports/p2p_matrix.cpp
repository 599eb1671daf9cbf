#include "reports/p2p_matrix.hpp"

#include <algorithm>
#include <map>
#include <optional>
#include <tuple>

#include "reports/result_fields.hpp"
#include "reports/text_format.hpp"

namespace aicbench::reports {

namespace {

std::string bytes_text(double bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (bytes >= 1024 && u < 4) {
    bytes /= 1024;
    ++u;
  }
  return (bytes == static_cast<double>(static_cast<long long>(bytes)) ? whole_number(bytes) : sig3(bytes)) + " " + units[u];
}

std::string impl_text(const std::string& impl) {
  if (impl == "ce") return "ce (copy engines, cudaMemcpyPeerAsync)";
  if (impl == "sm_write") return "sm_write (kernel on the source stores to the peer)";
  if (impl == "sm_read") return "sm_read (kernel on the destination loads from the peer)";
  if (impl == "chase") return "chase (dependent loads, one thread)";
  return impl;
}

struct Key {
  size_t file;
  int family_order;  // bandwidth before latency
  std::string family, impl;
  bool vendor_first;
  double directions, bytes;
  std::string mode, dtype;
  auto tie() const { return std::tie(file, family_order, vendor_first, impl, directions, bytes, mode, dtype); }
  bool operator<(const Key& o) const { return tie() < o.tie(); }
};

}  // namespace

std::vector<P2pMatrix> p2p_matrices(const std::vector<ReportRow>& rows) {
  std::map<Key, std::vector<const ReportRow*>> groups;
  for (const ReportRow& row : rows) {
    if (row.family != "p2p" && row.family != "p2p_latency") continue;
    if (!row.params) continue;
    auto src = number(*row.params, "src"), dst = number(*row.params, "dst");
    if (!src || !dst || *src < 0 || *dst < 0 || *src > 1023 || *dst > 1023) continue;
    const bool latency = row.family == "p2p_latency";
    Key key{row.file,
            latency ? 1 : 0,
            row.family,
            row.impl,
            !(field(*row.entry, "aicbench").value("vendor", false)),
            number(*row.params, "directions").value_or(1),
            number(*row.params, "bytes").value_or(0),
            row.mode,
            row.dtype};
    groups[key].push_back(&row);
  }
  std::vector<P2pMatrix> out;
  for (const auto& [key, members] : groups) {
    const bool latency = key.family == "p2p_latency";
    P2pMatrix m;
    m.file = key.file;
    m.family = key.family;
    m.unit = latency ? "time per access" : "GB/s";
    for (const ReportRow* row : members) {
      m.gpus = std::max<size_t>(m.gpus, 1 + static_cast<size_t>(std::max(*number(*row->params, "src"), *number(*row->params, "dst"))));
    }
    m.cells.assign(m.gpus, std::vector<std::string>(m.gpus));
    if (!latency) {
      for (size_t i = 0; i < m.gpus; ++i) m.cells[i][i] = "–";
    }
    std::optional<std::pair<double, std::string>> lo, hi;
    for (const ReportRow* row : members) {
      const size_t src = static_cast<size_t>(*number(*row->params, "src"));
      const size_t dst = static_cast<size_t>(*number(*row->params, "dst"));
      std::string& cell = m.cells[src][dst];
      if (!row->ok()) {
        cell = row->status.empty() ? "error" : row->status;
        continue;
      }
      std::optional<double> value = latency ? row->time_s : ok_metric(*row, "gbps");
      if (!value) continue;
      cell = latency ? human_time(*value) : sig3(*value);
      const std::string pair = std::to_string(src) + " → " + std::to_string(dst);
      // Better is higher bandwidth, lower latency: "min" names the worst pair either way.
      const double score = latency ? -*value : *value;
      if (!lo || score < lo->first) lo = {score, pair + ": " + cell};
      if (!hi || score > hi->first) hi = {score, pair + ": " + cell};
    }
    if (lo && hi) m.summary = "worst pair " + lo->second + (latency ? "" : " GB/s") + ", best " + hi->second + (latency ? "" : " GB/s");
    const std::string mode = key.mode == "hot" ? " · hot" : "";
    if (latency) {
      m.title = "p2p_latency · " + impl_text(key.impl) + " · " + bytes_text(key.bytes) + " chain" + mode;
      m.axes = "rows: the reading GPU, columns: the GPU whose memory is read";
    } else {
      m.title = "p2p · " + impl_text(key.impl) + " · " + (key.directions == 2 ? "both directions at once" : "one direction") +
                " · " + bytes_text(key.bytes) + " per direction" + mode;
      m.axes = "rows: from GPU, columns: to GPU";
    }
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace aicbench::reports
