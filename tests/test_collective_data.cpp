// The data the GPU collectives are validated on (collectives/cuda/collective_data.hpp), checked on
// the host: expected_value() agrees with each collective simulated from its definition, every
// partial sum stays where bf16 is exact, and the salt changes the data.
#include <cstdlib>
#include <vector>

#include <gtest/gtest.h>

#include "collectives/cuda/collective_data.hpp"

namespace aicbench::collectives {
namespace {

using Buffers = std::vector<std::vector<int>>;  // [rank][element]

Buffers send_buffers(CollectiveOp op, int ranks, int64_t count, int salt) {
  const int period = contributor_period(ranks);
  Buffers send(static_cast<size_t>(ranks));
  for (int r = 0; r < ranks; ++r) {
    for (int64_t i = 0; i < send_elements(op, ranks, count); ++i) send[r].push_back(input_value(r, i, period, salt));
  }
  return send;
}

// What rank `rank` receives, from the collective's definition (NCCL's semantics; broadcast from 0).
std::vector<int> simulate(CollectiveOp op, const Buffers& send, int rank, int64_t count) {
  const int ranks = static_cast<int>(send.size());
  std::vector<int> out(static_cast<size_t>(recv_elements(op, ranks, count)), 0);
  for (int64_t j = 0; j < static_cast<int64_t>(out.size()); ++j) {
    switch (op) {
      case CollectiveOp::all_reduce:
        for (int s = 0; s < ranks; ++s) out[j] += send[s][j];
        break;
      case CollectiveOp::broadcast: out[j] = send[0][j]; break;
      case CollectiveOp::all_gather: out[j] = send[j / count][j % count]; break;
      case CollectiveOp::reduce_scatter:
        for (int s = 0; s < ranks; ++s) out[j] += send[s][rank * count + j];
        break;
      case CollectiveOp::all_to_all: out[j] = send[j / count][rank * count + j % count]; break;
    }
  }
  return out;
}

TEST(CollectiveData, ExpectedMatchesEachCollectiveSimulated) {
  for (const CollectiveOp op : kCollectiveOps) {
    for (const int ranks : {1, 2, 3, 8, 65, 130}) {
      for (const int64_t count : {1, 5, 16}) {
        const int salt = ranks % 7;
        const Buffers send = send_buffers(op, ranks, count, salt);
        for (int rank = 0; rank < ranks; rank += (ranks > 8 ? 31 : 1)) {
          const std::vector<int> want = simulate(op, send, rank, count);
          for (int64_t j = 0; j < static_cast<int64_t>(want.size()); ++j) {
            ASSERT_EQ(expected_value(op, rank, ranks, count, j, salt), want[j])
                << to_string(op) << " ranks " << ranks << " count " << count << " rank " << rank << " element " << j;
          }
        }
      }
    }
  }
}

TEST(CollectiveData, EveryPartialSumIsExactInBf16) {
  // Whatever order a library adds in, a partial sum is at most the sum of the magnitudes of the
  // contributions to that element; bf16 holds every integer up to 256 exactly.
  for (const int ranks : {2, 8, 64, 65, 512, 10000}) {
    const int period = contributor_period(ranks);
    for (int64_t i = 0; i < 200; ++i) {
      int magnitude = 0, nonzero = 0;
      for (int r = 0; r < ranks; ++r) {
        const int v = input_value(r, i, period, 3);
        EXPECT_LE(std::abs(v), 3);
        magnitude += std::abs(v);
        nonzero += v != 0;
      }
      EXPECT_LE(magnitude, 256) << "ranks " << ranks << " element " << i;
      EXPECT_LE(nonzero, 64) << "ranks " << ranks << " element " << i;
    }
  }
}

TEST(CollectiveData, InputsAreNotAllZeroAndTheSaltChangesThem) {
  int nonzero = 0, changed = 0;
  for (int64_t i = 0; i < 100; ++i) {
    nonzero += input_value(1, i, 1, 0) != 0;
    changed += input_value(1, i, 1, 0) != input_value(1, i, 1, 1);
  }
  EXPECT_GT(nonzero, 50);
  EXPECT_EQ(changed, 100);
}

}  // namespace
}  // namespace aicbench::collectives
