#pragma once
// Parallel groups of a training job, as `aicbench model collective --group tp=8,dp=1250` lays
// them out: the dimensions in the order written, the first varying fastest over the ranks
// (Megatron-LM's tp-cp-ep-dp-pp order puts tensor parallel innermost), ranks filling nodes in
// order, `gpus_per_node` at a time. A dimension of size n and stride s (the product of the sizes
// before it) makes ranks/n groups of n ranks each, r, r+s, ..., r+(n-1)s; the model needs where
// one such group sits: on how many nodes, with how many of its ranks per node.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "reports/model_collective.hpp"

namespace aicbench::model {

struct GroupDim {
  std::string name;
  int64_t size = 0;
};

struct GroupLayout {
  std::string name;
  int64_t size = 0;
  int64_t stride = 0;
  int64_t concurrent = 0;  // groups of this dimension at once: ranks / size
  Span span;               // where one group sits
};

// Parses "tp=8,dp=1250": names of letters, digits and '_', sizes 1 to 2^31, each name once.
// Throws InputError (exit 2) naming --group.
std::vector<GroupDim> parse_group_dims(std::string_view text);

// Lays out every dimension over ranks = product of the sizes. Throws InputError naming --group
// when the product is not `ranks`, or a group would sit unevenly on nodes (a tensor-parallel
// group of 3 on 8-GPU nodes: one group would straddle two nodes).
std::vector<GroupLayout> lay_out_groups(const std::vector<GroupDim>& dims, int64_t ranks, int64_t gpus_per_node);

// The whole job as one group: ranks / gpus_per_node nodes, gpus_per_node ranks each.
Span job_span(int64_t ranks, int64_t gpus_per_node);

}  // namespace aicbench::model
