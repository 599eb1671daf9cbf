#include "reports/model_groups.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <set>

#include "reports/result_file.hpp"
#include "reports/text_format.hpp"

namespace aicbench::model {

namespace {

constexpr int64_t kMaxGroupSize = int64_t{1} << 31;

[[noreturn]] void refuse(std::string_view text, const std::string& why) {
  throw InputError("--group " + std::string(text) + ": " + why);
}

bool valid_name(std::string_view name) {
  if (name.empty() || name.size() > 32) return false;
  for (char c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
  }
  return true;
}

}  // namespace

std::vector<GroupDim> parse_group_dims(std::string_view text) {
  std::vector<GroupDim> dims;
  std::set<std::string> seen;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t comma = std::min(text.find(',', start), text.size());
    const std::string_view item = text.substr(start, comma - start);
    const size_t equals = item.find('=');
    if (equals == std::string_view::npos) {
      std::string why = "'";
      refuse(text, why.append(item).append("' is not NAME=SIZE (e.g. tp=8,dp=1250)"));
    }
    const std::string name(item.substr(0, equals));
    const std::string_view size_text = item.substr(equals + 1);
    if (!valid_name(name)) refuse(text, "'" + name + "' is not a group name (letters, digits and _)");
    int64_t size = 0;
    const auto [end, error] = std::from_chars(size_text.data(), size_text.data() + size_text.size(), size);
    if (error != std::errc() || end != size_text.data() + size_text.size() || size < 1 || size > kMaxGroupSize) {
      refuse(text, "the size of " + name + " is '" + std::string(size_text) + "', expected a whole number from 1 to 2^31");
    }
    if (!seen.insert(name).second) refuse(text, name + " is given twice");
    dims.push_back({name, size});
    start = comma + 1;
  }
  return dims;
}

Span job_span(int64_t ranks, int64_t gpus_per_node) { return {ranks, ranks / gpus_per_node, gpus_per_node}; }

std::vector<GroupLayout> lay_out_groups(const std::vector<GroupDim>& dims, int64_t ranks, int64_t gpus_per_node) {
  std::vector<std::string> parts;
  for (const GroupDim& d : dims) parts.push_back(d.name + "=" + std::to_string(d.size));
  const std::string text = reports::join(parts, ",");
  // The product, checked step by step so that no product overflows.
  int64_t product = 1;
  for (const GroupDim& d : dims) {
    if (product > ranks / d.size) refuse(text, "the sizes multiply to more than --ranks " + std::to_string(ranks));
    product *= d.size;
  }
  if (product != ranks) {
    refuse(text, "the sizes multiply to " + std::to_string(product) + ", not --ranks " + std::to_string(ranks));
  }
  const int64_t g = gpus_per_node;
  std::vector<GroupLayout> layouts;
  int64_t stride = 1;
  for (const GroupDim& d : dims) {
    GroupLayout layout{d.name, d.size, stride, ranks / d.size, {}};
    const int64_t n = d.size;
    const std::string where = d.name + "=" + std::to_string(n) + " (stride " + std::to_string(stride) + " ranks, " +
                              std::to_string(g) + " GPUs per node)";
    if (stride * n <= g) {
      // Inside one node, provided no group straddles a node boundary.
      if (g % (stride * n) != 0) {
        refuse(text, where + ": a group spans " + std::to_string(stride * n) + " consecutive ranks, which does not divide " +
                         std::to_string(g) + ": some groups would straddle two nodes");
      }
      layout.span = {n, 1, n};
    } else if (stride >= g) {
      if (stride % g != 0) {
        refuse(text, where + ": the stride does not divide into whole nodes, so the members of a group would sit at "
                             "different places on their nodes");
      }
      layout.span = {n, n, 1};
    } else {
      if (g % stride != 0 || n % (g / stride) != 0) {
        refuse(text, where + ": its ranks do not fill whole nodes evenly, so some groups would straddle nodes");
      }
      const int64_t per_node = g / stride;
      layout.span = {n, n / per_node, per_node};
    }
    layouts.push_back(layout);
    stride *= n;
  }
  return layouts;
}

}  // namespace aicbench::model
