// attention_cpu_fp32: the cpu backend's attention, FlashAttention's algorithm on a CPU.
//
// A work item is (batch b, key/value head g, block of kRows query rows): its G = H / KVH query
// heads times kRows rows walk the keys they may see in tiles of kKeys, each tile of K and V
// (kKeys x D floats, 32 KiB at D = 128) read once from memory for all G * kRows queries while it
// sits in L1/L2. Per query an online softmax (running maximum m, running sum l, output
// accumulator o rescaled when m grows) keeps memory at O(D) per query, never a row of scores.
// Work items are handed out through an atomic counter: under a causal mask later rows see more
// keys, so a static split would leave threads idle.
//
// The dot products use 8 independent partial sums, which the compiler vectorises without
// -ffast-math (a single float accumulator is a serial chain it may not reorder). Validation is
// not this file's: the harness recomputes sampled rows in float64 (docs/validation.md).
#include "kernels/attention/attention_cpu.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <thread>
#include <vector>

namespace aicbench::kernels {

namespace {

constexpr int64_t kRows = 16;  // query rows per work item
constexpr int64_t kKeys = 64;  // keys per tile

float dot(const float* __restrict__ a, const float* __restrict__ b, int64_t n) {
  float acc[8] = {};
  int64_t d = 0;
  for (; d + 8 <= n; d += 8) {
    for (int r = 0; r < 8; ++r) acc[r] += a[d + r] * b[d + r];
  }
  float s = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
  for (; d < n; ++d) s += a[d] * b[d];
  return s;
}

// One query's running state.
struct RowState {
  float m = -std::numeric_limits<float>::infinity();  // max of the scaled scores seen
  float l = 0;                                        // sum of exp(score - m)
};

void attention_item(const float* Q, const float* K, const float* V, float* O,
                    const AttentionShape& s, int64_t b, int64_t g, int64_t row0,
                    std::vector<float>& acc, std::vector<RowState>& state,
                    std::vector<float>& scores) {
  const int64_t G = s.group(), D = s.D;
  const int64_t rows = std::min(kRows, s.Sq - row0);
  const float scale = static_cast<float>(s.scale());
  // Queries of this item: (row r, head h0 + q), index r * G + q.
  const int64_t queries = rows * G, h0 = g * G;
  std::fill(acc.begin(), acc.begin() + queries * D, 0.0f);
  std::fill(state.begin(), state.begin() + queries, RowState{});
  const int64_t key_end = s.key_end(row0 + rows - 1);  // the last row sees the most keys

  for (int64_t j0 = 0; j0 < key_end; j0 += kKeys) {
    const int64_t j1 = std::min(key_end, j0 + kKeys);
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t row_end = std::min(j1, s.key_end(row0 + r));
      if (row_end <= j0) continue;  // every key of this tile is masked for this row
      for (int64_t q = 0; q < G; ++q) {
        const float* qv = Q + s.q_offset(b, row0 + r, h0 + q);
        RowState& st = state[r * G + q];
        float* o = acc.data() + (r * G + q) * D;
        float tile_max = -std::numeric_limits<float>::infinity();
        for (int64_t j = j0; j < row_end; ++j) {
          scores[j - j0] = scale * dot(qv, K + s.kv_offset(b, j, g), D);
          tile_max = std::max(tile_max, scores[j - j0]);
        }
        const float m = std::max(st.m, tile_max);
        const float alpha = std::exp(st.m - m);  // exp(-inf) = 0 on the first tile
        st.l *= alpha;
        for (int64_t d = 0; d < D; ++d) o[d] *= alpha;
        for (int64_t j = j0; j < row_end; ++j) {
          const float p = std::exp(scores[j - j0] - m);
          st.l += p;
          const float* __restrict__ v = V + s.kv_offset(b, j, g);
          for (int64_t d = 0; d < D; ++d) o[d] += p * v[d];
        }
        st.m = m;
      }
    }
  }
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t q = 0; q < G; ++q) {
      const RowState& st = state[r * G + q];
      const float inv = st.l > 0 ? 1.0f / st.l : 0.0f;  // a row that sees no key: zeros
      const float* o = acc.data() + (r * G + q) * D;
      float* out = O + s.q_offset(b, row0 + r, h0 + q);
      for (int64_t d = 0; d < D; ++d) out[d] = o[d] * inv;
    }
  }
}

}  // namespace

void attention_cpu_fp32(const float* Q, const float* K, const float* V, float* O,
                        const AttentionShape& s, int threads) {
  if (!s.valid()) return;
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int64_t row_blocks = (s.Sq + kRows - 1) / kRows;
  const int64_t items = s.B * s.KVH * row_blocks;
  threads = static_cast<int>(std::min<int64_t>(threads, items));
  std::atomic<int64_t> next{0};
  auto worker = [&] {
    std::vector<float> acc(kRows * s.group() * s.D), scores(kKeys);
    std::vector<RowState> state(kRows * s.group());
    for (int64_t item; (item = next.fetch_add(1)) < items;) {
      // Last row blocks first: under a causal mask they are the longest.
      const int64_t heads = s.B * s.KVH;
      const int64_t rb = row_blocks - 1 - item / heads;
      const int64_t bg = item % heads;
      attention_item(Q, K, V, O, s, bg / s.KVH, bg % s.KVH, rb * kRows, acc, state, scores);
    }
  };
  if (threads == 1) {
    worker();
    return;
  }
  std::vector<std::thread> pool;
  pool.reserve(threads);
  for (int t = 0; t < threads; ++t) pool.emplace_back(worker);
  for (auto& th : pool) th.join();
}

}  // namespace aicbench::kernels
